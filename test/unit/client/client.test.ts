/**
 * Specifications of the browser SDK (src/client), against a fake of `GET /api/turn/credentials`
 * that answers exactly like the worker does, with fake timers and a fake RTCPeerConnection.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createIceServerClient,
  IceServerError,
  type FetchLike,
  type IceServer,
  type IceServerClient,
  type IceServerClientOptions,
  type PeerConfiguration,
} from "../../../src/client";

const ENDPOINT = "https://icegate.example.test/api/turn/credentials";
const START = Date.UTC(2030, 0, 1);
const FALLBACK = [{ urls: "stun:stun.l.google.com:19302" }];

interface Request {
  url: string;
  method: string;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
}

type Reply = () => Response | Promise<Response>;

/** What the worker sends: STUN, then TURN with a coturn REST credential; `n` tells the replies apart. */
function credentialsReply(n: number, ttl = 3600): Response {
  const expiry = Math.floor(Date.now() / 1000) + ttl;
  const body = {
    iceServers: [
      { urls: ["stun:turn.example.test:3478"] },
      {
        urls: ["turn:turn.example.test:3478?transport=udp", "turns:turn.example.test:5349?transport=tcp"],
        username: `${expiry}:user-${n}`,
        credential: `credential-${n}`,
      },
    ],
    expiresAt: expiry * 1000,
    ttl,
  };
  return Response.json(body, { headers: { "Cache-Control": "no-store" } });
}

function errorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { code, message } }, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

/** The fake endpoint: scripted replies first, then fresh credentials (ttl `ttl`) for every request. */
function fakeEndpoint(ttl = 3600) {
  const requests: Request[] = [];
  const script: Reply[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, method: init.method, headers: { ...init.headers }, signal: init.signal });
    const next = script.shift();
    return next ? next() : credentialsReply(requests.length, ttl);
  };
  return { fetch, requests, script };
}

/** The TURN username in a list the fake served, e.g. "…:user-2"; undefined for the fallback. */
const turnUser = (servers: IceServer[]) => servers.find((server) => server.username)?.username?.split(":")[1];

function fakePeerConnection() {
  const pc = {
    connectionState: "connected",
    signalingState: "stable",
    configuration: { bundlePolicy: "max-bundle", iceTransportPolicy: "all", iceServers: [] } as PeerConfiguration,
    getConfiguration: () => ({ ...pc.configuration }),
    setConfiguration: vi.fn((configuration: PeerConfiguration) => {
      if (pc.signalingState === "closed") throw new DOMException("The peer connection is closed.", "InvalidStateError");
      pc.configuration = configuration;
    }),
  };
  return pc;
}

let clients: IceServerClient[] = [];

function makeClient(options: Partial<IceServerClientOptions> & { fetch: FetchLike }): IceServerClient {
  const client = createIceServerClient({ endpoint: ENDPOINT, ...options });
  clients.push(client);
  return client;
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("caching", () => {
  it("serves the cached ICE servers for their lifetime with a single request", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const first = await client.getIceServers();
    await vi.advanceTimersByTimeAsync((3600 - 60 - 1) * 1000);
    const second = await client.getIceServers();
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]).toMatchObject({ url: ENDPOINT, method: "GET" });
    expect(turnUser(first)).toBe("user-1");
    expect(second).toEqual(first);
  });

  it("shares one request between ten concurrent callers", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const results = await Promise.all(Array.from({ length: 10 }, () => client.getIceServers()));
    expect(api.requests).toHaveLength(1);
    for (const servers of results) expect(turnUser(servers)).toBe("user-1");
  });

  it("hands each caller its own copy of the list", async () => {
    const client = makeClient({ fetch: fakeEndpoint().fetch });
    const mine = await client.getIceServers();
    mine.push({ urls: "stun:mine.example.test" });
    expect(await client.getIceServers()).toHaveLength(2);
  });

  it("refreshes ahead of expiry and then serves the new servers without a request", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync((3600 - 60) * 1000 - 1);
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.requests).toHaveLength(2);
    expect(Date.now()).toBeLessThan(START + 3600 * 1000);
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(api.requests).toHaveLength(2);
  });

  it("keeps refreshing ahead of each new expiry", async () => {
    const api = fakeEndpoint(600);
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(3 * 540 * 1000);
    expect(api.requests).toHaveLength(4);
  });

  it("refreshes within a minute of the device waking from sleep past the refresh time", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(600_000);
    // Asleep for two hours: the wall clock jumps, but no timer ran meanwhile.
    vi.setSystemTime(Date.now() + 2 * 3600 * 1000);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.requests).toHaveLength(2);
  });

  it("caps the refresh margin at half the ttl", async () => {
    const api = fakeEndpoint(120);
    const client = makeClient({ fetch: api.fetch, refreshMarginSeconds: 3600 });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.requests).toHaveLength(2);
  });

  it("honours a smaller refresh margin", async () => {
    const api = fakeEndpoint(3600);
    const client = makeClient({ fetch: api.fetch, refreshMarginSeconds: 10 });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(3589_999);
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.requests).toHaveLength(2);
  });

  it("times the lifetime by ttl on its own clock, so a browser clock hours off does not refetch in a loop", async () => {
    const api = fakeEndpoint();
    // The server's clock is five hours behind: expiresAt is already in this browser's past.
    api.script.push(() => {
      const reply = { iceServers: [{ urls: "stun:a.example.test" }], expiresAt: START - 5 * 3600_000, ttl: 3600 };
      return Response.json(reply);
    });
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(60_000);
    await client.getIceServers();
    expect(api.requests).toHaveLength(1);
  });
});

describe("clearCache", () => {
  it("forces the next call to fetch and cancels the scheduled refresh", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    client.clearCache();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(api.requests).toHaveLength(1);
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(api.requests).toHaveLength(2);
  });

  it("does not cache the reply to a request that was in flight when it was called", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const before = client.getIceServers();
    client.clearCache();
    expect(turnUser(await before)).toBe("user-1");
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(api.requests).toHaveLength(2);
  });
});

describe("Authorization", () => {
  it("sends the token from getToken as a Bearer token, asking for each request", async () => {
    const api = fakeEndpoint();
    let token = "token-one";
    const client = makeClient({ fetch: api.fetch, getToken: async () => token });
    await client.getIceServers();
    token = "token-two";
    client.clearCache();
    await client.getIceServers();
    expect(api.requests.map((request) => request.headers.Authorization)).toEqual([
      "Bearer token-one",
      "Bearer token-two",
    ]);
  });

  it.each([
    ["there is no getToken", undefined],
    ["getToken returns null", () => null],
    ["getToken resolves to undefined", async () => undefined],
    ["getToken returns an empty string", () => ""],
  ])("sends no Authorization header when %s", async (_, getToken) => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch, getToken });
    expect(turnUser(await client.getIceServers())).toBe("user-1");
    expect(api.requests[0]!.headers).toEqual({ Accept: "application/json" });
  });

  it("falls back without a request when getToken throws", async () => {
    const api = fakeEndpoint();
    const client = makeClient({
      fetch: api.fetch,
      getToken: () => {
        throw new Error("signed out");
      },
    });
    expect(await client.getIceServers()).toEqual(FALLBACK);
    expect(api.requests).toHaveLength(0);
    expect(client.lastError).toMatchObject({ status: 0, code: "token_error" });
  });
});

describe("failures", () => {
  const malformed: [string, Reply][] = [
    ["a 503", () => errorReply(503, "upstream_unavailable", "No TURN provider is available.")],
    [
      "a network error",
      () => {
        throw new TypeError("fetch failed");
      },
    ],
    ["malformed JSON", () => new Response('{"iceServers": [', { headers: { "Content-Type": "application/json" } })],
    ["an HTML error page", () => new Response("<html>Bad gateway</html>", { status: 502 })],
  ];

  it.each(malformed)("falls back to public STUN on %s, with the error visible", async (_, reply) => {
    const api = fakeEndpoint();
    api.script.push(reply);
    const onError = vi.fn();
    const client = makeClient({ fetch: api.fetch, onError });
    expect(await client.getIceServers()).toEqual(FALLBACK);
    expect(client.lastError).toBeInstanceOf(IceServerError);
    expect(onError).toHaveBeenCalledExactlyOnceWith(client.lastError);
    await expect(client.getIceServersOrThrow()).rejects.toBe(client.lastError);
  });

  it("reports the server's status, code and message", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    expect(client.lastError).toMatchObject({
      name: "IceServerError",
      status: 503,
      code: "upstream_unavailable",
      message: "No TURN provider is available.",
      retryAfterSeconds: undefined,
    });
  });

  it("reports a network error with status 0 and its cause", async () => {
    const api = fakeEndpoint();
    const cause = new TypeError("fetch failed");
    api.script.push(() => Promise.reject(cause));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    expect(client.lastError).toMatchObject({ status: 0, code: "network_error", cause });
  });

  it("says a failed fetch may be a CORS refusal and names ALLOWED_ORIGINS as the usual cause", async () => {
    const api = fakeEndpoint();
    // What Chromium's fetch rejects with when CORS hides the reply, the same as for a network failure.
    api.script.push(() => Promise.reject(new TypeError("Failed to fetch")));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    expect(client.lastError?.code).toBe("network_error");
    expect(client.lastError?.message).toMatch(/network failure, or a CORS refusal/);
    expect(client.lastError?.message).toContain("ALLOWED_ORIGINS");
  });

  it("reports malformed JSON as an invalid response", async () => {
    const api = fakeEndpoint();
    api.script.push(() => new Response("not json"));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    expect(client.lastError).toMatchObject({ status: 200, code: "invalid_response" });
    expect(client.lastError!.message).toMatch(/not JSON/);
  });

  const wrongShapes: [string, unknown][] = [
    ["a bare array of servers", [{ urls: "stun:a.example.test" }]],
    ["no ttl", { iceServers: [{ urls: "stun:a.example.test" }], expiresAt: START + 3600_000 }],
    ["a ttl of zero", { iceServers: [{ urls: "stun:a.example.test" }], expiresAt: START, ttl: 0 }],
    ["a string ttl", { iceServers: [{ urls: "stun:a.example.test" }], expiresAt: START + 3600_000, ttl: "3600" }],
    ["a string expiresAt", { iceServers: [{ urls: "stun:a.example.test" }], expiresAt: "soon", ttl: 3600 }],
    ["iceServers as one object", { iceServers: { urls: "stun:a.example.test" }, expiresAt: START, ttl: 3600 }],
    ["a server without urls", { iceServers: [{ url: "stun:a.example.test" }], expiresAt: START, ttl: 3600 }],
    ["numeric urls", { iceServers: [{ urls: [3478] }], expiresAt: START, ttl: 3600 }],
    ["empty urls", { iceServers: [{ urls: [] }], expiresAt: START, ttl: 3600 }],
    [
      "a TURN server with no credential",
      { iceServers: [{ urls: "turn:a.example.test" }], expiresAt: START, ttl: 3600 },
    ],
    ["a null server", { iceServers: [null], expiresAt: START, ttl: 3600 }],
  ];

  it.each(wrongShapes)("rejects a reply with %s", async (_, body) => {
    const api = fakeEndpoint();
    api.script.push(() => Response.json(body));
    const client = makeClient({ fetch: api.fetch });
    expect(await client.getIceServers()).toEqual(FALLBACK);
    expect(client.lastError).toMatchObject({ status: 200, code: "invalid_response" });
    expect(client.lastError!.message).toMatch(/shape/);
  });

  it("uses the configured fallback servers", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    const fallbackIceServers = [{ urls: ["stun:stun.example.test:3478"] }];
    const client = makeClient({ fetch: api.fetch, fallbackIceServers });
    expect(await client.getIceServers()).toEqual(fallbackIceServers);
  });

  it("gives up on a request that hangs, and aborts it", async () => {
    const api = fakeEndpoint();
    api.script.push(() => new Promise<Response>(() => undefined));
    const client = makeClient({ fetch: api.fetch, requestTimeoutSeconds: 5 });
    const servers = client.getIceServers();
    await vi.advanceTimersByTimeAsync(5000);
    expect(await servers).toEqual(FALLBACK);
    expect(client.lastError).toMatchObject({ status: 0, code: "timeout" });
    expect(api.requests[0]!.signal?.aborted).toBe(true);
  });

  it("clears lastError after the next success", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(client.lastError).toBeUndefined();
  });

  it("survives an onError callback that throws", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    const onError = () => {
      throw new Error("bug in the app");
    };
    const client = makeClient({ fetch: api.fetch, onError });
    expect(await client.getIceServers()).toEqual(FALLBACK);
  });
});

describe("back-off", () => {
  it("waits out Retry-After on a 429 before asking again", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(429, "rate_limited", "Too many requests.", { "Retry-After": "30" }));
    const client = makeClient({ fetch: api.fetch });
    expect(await client.getIceServers()).toEqual(FALLBACK);
    expect(client.lastError).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 30 });
    for (let second = 1; second < 30; second++) {
      await vi.advanceTimersByTimeAsync(1000);
      expect(await client.getIceServers()).toEqual(FALLBACK);
    }
    await expect(client.getIceServersOrThrow()).rejects.toMatchObject({ status: 429 });
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(api.requests).toHaveLength(2);
  });

  it("reads Retry-After given as an HTTP date", async () => {
    const api = fakeEndpoint();
    const at = new Date(START + 120_000).toUTCString();
    api.script.push(() => errorReply(429, "rate_limited", "Too many requests.", { "Retry-After": at }));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    expect(client.lastError!.retryAfterSeconds).toBe(120);
  });

  it("keeps to Retry-After even across clearCache", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(429, "rate_limited", "Too many requests.", { "Retry-After": "30" }));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    client.clearCache();
    await vi.advanceTimersByTimeAsync(29_000);
    await client.getIceServers();
    expect(api.requests).toHaveLength(1);
  });

  it("backs off exponentially after failures without Retry-After", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const api = fakeEndpoint();
    const unavailable = () => errorReply(503, "upstream_unavailable", "No TURN provider is available.");
    api.script.push(unavailable, unavailable, unavailable);
    const client = makeClient({ fetch: api.fetch });
    const times: number[] = [];
    for (let tick = 0; tick <= 20; tick++) {
      const before = api.requests.length;
      await client.getIceServers();
      if (api.requests.length > before) times.push(Date.now() - START);
      await vi.advanceTimersByTimeAsync(500);
    }
    // Failures at 0, 2 s and 6 s (waits of 2 s, then 4 s); the fourth request, at 14 s, succeeds.
    expect(times).toEqual([0, 2000, 6000]);
    await vi.advanceTimersByTimeAsync(4000);
    expect(turnUser(await client.getIceServers())).toBe("user-4");
    expect(api.requests).toHaveLength(4);
  });

  it("lets clearCache lift its own back-off", async () => {
    const api = fakeEndpoint();
    api.script.push(() => errorReply(401, "invalid_token", "The token is not valid."));
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    client.clearCache();
    expect(turnUser(await client.getIceServers())).toBe("user-2");
  });

  it("keeps serving unexpired credentials when a refresh fails, and retries in the background", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    expect(api.requests).toHaveLength(2);
    expect(client.lastError).toMatchObject({ status: 503 });
    expect(turnUser(await client.getIceServers())).toBe("user-1");
    await vi.advanceTimersByTimeAsync(2000);
    expect(api.requests).toHaveLength(3);
    expect(turnUser(await client.getIceServers())).toBe("user-3");
    expect(client.lastError).toBeUndefined();
  });

  it("answers a caller that joined a failing refresh with the unexpired credentials", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    let fail: () => void = () => undefined;
    api.script.push(
      () =>
        new Promise<Response>((resolve) => {
          fail = () => resolve(errorReply(503, "upstream_unavailable", "No TURN provider is available."));
        }),
    );
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    expect(api.requests).toHaveLength(2);
    const servers = client.getIceServers();
    fail();
    expect(turnUser(await servers)).toBe("user-1");
    expect(client.lastError).toMatchObject({ status: 503 });
    expect(api.requests).toHaveLength(2);
  });

  it("falls back once cached credentials expire with the endpoint still down", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    await client.getIceServers();
    const unavailable = () => errorReply(503, "upstream_unavailable", "No TURN provider is available.");
    api.script.push(...Array.from({ length: 20 }, () => unavailable));
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(await client.getIceServers()).toEqual(FALLBACK);
    await expect(client.getIceServersOrThrow()).rejects.toMatchObject({ status: 503 });
    // Background retries stop once nothing is left to keep alive.
    const requests = api.requests.length;
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(api.requests.length - requests).toBeLessThanOrEqual(1);
  });
});

describe("keepFresh", () => {
  it("puts the refreshed servers into the connection, keeping the rest of its configuration", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    pc.configuration.iceServers = await client.getIceServers();
    client.keepFresh(pc);
    expect(pc.setConfiguration).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    expect(pc.setConfiguration).toHaveBeenCalledOnce();
    const [configuration] = pc.setConfiguration.mock.calls[0]!;
    expect(configuration).toMatchObject({ bundlePolicy: "max-bundle", iceTransportPolicy: "all" });
    expect(turnUser(configuration.iceServers!)).toBe("user-2");
    expect(Date.now()).toBeLessThan(START + 3600 * 1000);
  });

  it("stops when its stop function is called", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    await client.getIceServers();
    const stop = client.keepFresh(pc);
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    stop();
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    expect(api.requests).toHaveLength(3);
    expect(pc.setConfiguration).toHaveBeenCalledOnce();
  });

  it("stops once the connection is closed", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    await client.getIceServers();
    client.keepFresh(pc);
    pc.connectionState = "closed";
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    // Even were it to look open again, the client has let go of it.
    pc.connectionState = "connected";
    await vi.advanceTimersByTimeAsync(3540 * 1000);
    expect(api.requests).toHaveLength(3);
    expect(pc.setConfiguration).not.toHaveBeenCalled();
  });

  it("does nothing for a connection that is already closed", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    pc.signalingState = "closed";
    const stop = client.keepFresh(pc);
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(api.requests).toHaveLength(0);
    expect(pc.setConfiguration).not.toHaveBeenCalled();
    stop();
  });

  it("stops when setConfiguration throws because the connection closed", async () => {
    const api = fakeEndpoint();
    const onError = vi.fn();
    const client = makeClient({ fetch: api.fetch, onError });
    const pc = fakePeerConnection();
    await client.getIceServers();
    client.keepFresh(pc);
    pc.setConfiguration.mockImplementationOnce(() => {
      pc.signalingState = "closed";
      throw new DOMException("The peer connection is closed.", "InvalidStateError");
    });
    await vi.advanceTimersByTimeAsync(2 * 3540 * 1000);
    expect(pc.setConfiguration).toHaveBeenCalledOnce();
    expect(onError).not.toHaveBeenCalled();
  });

  it("reports a setConfiguration failure on an open connection and keeps going", async () => {
    const api = fakeEndpoint();
    const onError = vi.fn();
    const client = makeClient({ fetch: api.fetch, onError });
    const pc = fakePeerConnection();
    await client.getIceServers();
    client.keepFresh(pc);
    pc.setConfiguration.mockImplementationOnce(() => {
      throw new DOMException("Cannot modify certificates.", "InvalidModificationError");
    });
    await vi.advanceTimersByTimeAsync(2 * 3540 * 1000);
    expect(onError).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ code: "set_configuration_failed" }));
    expect(pc.setConfiguration).toHaveBeenCalledTimes(2);
    expect(client.lastError).toBeUndefined();
  });

  it("gives a connection that started on the fallback TURN credentials once the endpoint recovers", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const api = fakeEndpoint();
    api.script.push(() => errorReply(503, "upstream_unavailable", "No TURN provider is available."));
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    pc.configuration.iceServers = await client.getIceServers();
    client.keepFresh(pc);
    await vi.advanceTimersByTimeAsync(1999);
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(api.requests).toHaveLength(2);
    expect(turnUser(pc.configuration.iceServers!)).toBe("user-2");
  });

  it("fetches for a connection kept fresh before any credentials were asked for", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    client.keepFresh(pc);
    await vi.advanceTimersByTimeAsync(0);
    expect(turnUser(pc.configuration.iceServers!)).toBe("user-1");
  });
});

describe("close", () => {
  it("stops every timer and every kept connection", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    const pc = fakePeerConnection();
    await client.getIceServers();
    client.keepFresh(pc);
    client.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3 * 3600 * 1000);
    expect(api.requests).toHaveLength(1);
    expect(turnUser(await client.getIceServers())).toBe("user-2");
    expect(pc.setConfiguration).not.toHaveBeenCalled();
  });

  it("still answers afterwards, on demand and without scheduling anything", async () => {
    const api = fakeEndpoint();
    const client = makeClient({ fetch: api.fetch });
    client.close();
    expect(turnUser(await client.getIceServers())).toBe("user-1");
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("options", () => {
  const fetch = fakeEndpoint().fetch;

  it.each([
    ["an empty endpoint", { endpoint: "" }],
    ["a negative refresh margin", { refreshMarginSeconds: -1 }],
    ["a refresh margin that is not a number", { refreshMarginSeconds: Number.NaN }],
    ["a zero request timeout", { requestTimeoutSeconds: 0 }],
    ["fallback servers without urls", { fallbackIceServers: [{} as IceServer] }],
  ])("refuses %s", (_, options) => {
    expect(() => createIceServerClient({ endpoint: ENDPOINT, fetch, ...options })).toThrow(TypeError);
  });
});
