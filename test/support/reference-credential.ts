/**
 * TURN REST API credentials computed with WebCrypto directly, not through src/: the reference that
 * credentials issued by the worker are checked against in workerd. (The worker remembers what it minted,
 * so comparing with its own mintTurnCredential would compare it with itself. In Node, the node:crypto
 * twin is test/support/turn-credentials.ts.)
 */
export interface ReferenceOptions {
  secret: string;
  userId: string;
  /** Unix seconds. */
  expiresAt: number;
  separator: string;
}

export async function referenceCredential(
  options: ReferenceOptions,
): Promise<{ username: string; credential: string }> {
  const username = `${options.expiresAt}${options.separator}${options.userId}`;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(options.secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(username)));
  return { username, credential: btoa(String.fromCharCode(...mac)) };
}
