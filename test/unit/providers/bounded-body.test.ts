/**
 * A provider (or an egress proxy) that answers a huge body: the status and Content-Length are looked
 * at first, a 2xx body is read only up to 64 KiB and then cancelled, an error reply's body is not read
 * at all, and the request fails over to the next provider. The reply streams lazily, so the bytes it
 * handed out are the bytes the worker read. (Memory under a 200 MiB reply: test/integration/huge-reply.test.ts.)
 */
import { reset } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fetchJson, MAX_REPLY_BYTES } from "../../../src/providers/http";
import { resetProviderState } from "../../../src/providers/resolve";
import { DEFAULT_API_URLS, providerEnv } from "../../support/fakes/env";
import { ask, useLogs } from "../../support/fakes/requests";

const CHUNK = 16 * 1024;
const HUGE = 200 * 1024 * 1024;

/** A reply of `total` bytes of JSON-ish padding, produced only as it is read. */
function hugeReply(status: number, headers: HeadersInit = {}, total = HUGE) {
  const served = { bytes: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        served.bytes += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
        if (served.bytes >= total) controller.close();
      },
      cancel() {
        served.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body, { status, headers }), served };
}

describe("provider replies are read with a byte cap", () => {
  const logs = useLogs();
  beforeEach(async () => {
    await reset();
    resetProviderState();
  });
  afterEach(() => vi.restoreAllMocks());

  const call = (response: Response) => {
    vi.spyOn(globalThis, "fetch").mockResolvedValue(response);
    return fetchJson({
      provider: "cloudflare",
      url: `${DEFAULT_API_URLS.cloudflare}/turn/keys/k/credentials/generate-ice-servers`,
      init: { method: "POST" },
      signal: AbortSignal.timeout(30_000),
    });
  };

  it("stops reading a 200 reply past 64 KiB, cancels it and fails with too_large", async () => {
    const { response, served } = hugeReply(200);
    await expect(call(response)).rejects.toMatchObject({ reason: "provider:cloudflare:too_large" });
    expect(served.bytes).toBeLessThanOrEqual(MAX_REPLY_BYTES + CHUNK);
    expect(served.cancelled).toBe(true);
  });

  it("reads nothing of a reply whose Content-Length is over the cap", async () => {
    const { response, served } = hugeReply(200, { "Content-Length": String(HUGE) });
    await expect(call(response)).rejects.toMatchObject({ reason: "provider:cloudflare:too_large" });
    expect(served.bytes).toBeLessThanOrEqual(CHUNK);
  });

  it("reads nothing of an error reply, however large: the status decides", async () => {
    const { response, served } = hugeReply(500);
    await expect(call(response)).rejects.toMatchObject({ reason: "provider:cloudflare:status_500" });
    expect(served.bytes).toBeLessThanOrEqual(CHUNK);
  });

  it("still reads a reply just under the cap", async () => {
    const padding = " ".repeat(MAX_REPLY_BYTES - 20);
    vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(`{"ok":true}${padding}`, { status: 200 }));
    await expect(
      fetchJson({ provider: "metered", url: DEFAULT_API_URLS.metered, init: {}, signal: AbortSignal.timeout(30_000) }),
    ).resolves.toEqual({ ok: true });
  });

  it("fails over fast to the next provider when the first streams 200 MiB", async () => {
    const { response, served } = hugeReply(200);
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(DEFAULT_API_URLS.cloudflare)) throw new Error(`unexpected fetch ${url}`);
      return response;
    });
    const reply = await ask(providerEnv("cloudflare,coturn"));
    expect(reply.status).toBe(200);
    expect(logs.requests()[0]).toMatchObject({ provider: "coturn", reason: "provider:cloudflare:too_large" });
    expect(served.bytes).toBeLessThanOrEqual(MAX_REPLY_BYTES + CHUNK);
  });
});
