/**
 * Bounded reads of upstream reply bodies (managed TURN providers, the JWKS endpoint): the declared
 * Content-Length is checked before anything is read, then the body is read as a stream and cancelled
 * as soon as it passes the cap, so a huge or endless reply costs at most the cap in memory and time.
 */

/** Why a body could not be read: `too_large` (declared or streamed past the cap) or `network`. */
export class BodyError extends Error {
  constructor(readonly why: "too_large" | "network") {
    super(why);
    this.name = "BodyError";
  }
}

/** Drops a body that will not be read, so its connection is released without reading it. */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/** The body as UTF-8 text, at most `maxBytes` bytes of it; throws BodyError beyond that. */
export async function readTextCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = response.headers.get("Content-Length");
  if (declared !== null && !(Number(declared) <= maxBytes)) {
    discardBody(response);
    throw new BodyError("too_large");
  }
  const body = response.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => undefined);
        throw new BodyError("too_large");
      }
      chunks.push(chunk.value);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError("network");
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
