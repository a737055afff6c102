import { afterEach, describe, expect, it, vi } from "vitest";
import { configuredProviders } from "../../../src/providers/registry";
import { credentialsKey } from "../../../src/cache/keys";
import { loadConfig } from "../../../src/config";
import { OPEN_MS, recordFailure } from "../../../src/providers/breaker";
import { REFRESH_RETRY_MS } from "../../../src/cache/tiered";
import { env } from "cloudflare:workers";
import { providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";
import { type EnvChanges, testEnv } from "../../support/worker-fetch";

/** Writes a KV entry for the first provider of `changes`, as the cache would have. */
async function storeEntry(changes: EnvChanges, entry: { fetchedAt: number; expiresAt: number; username: string }) {
  const [provider] = configuredProviders(loadConfig(testEnv(changes)));
  const key = await credentialsKey(provider!.name, provider!.cacheIdentity!(3600), { kind: "global" });
  const value = {
    v: 1,
    iceServers: [{ urls: ["turn:cached.example.test:3478"], username: entry.username, credential: "cached-secret" }],
    fetchedAt: entry.fetchedAt,
    expiresAt: entry.expiresAt,
  };
  await env.TURN_CACHE.put(key, JSON.stringify(value));
}

describe("failover between providers", () => {
  const providers = useFakeProviders();
  const logs = useLogs();
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("answers with the first provider that answers, in TURN_PROVIDERS order", async () => {
    const reply = await ask(providerEnv("cloudflare,metered"));
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers[1]!.username).toBe("cf-user-1");
    expect(providers.fake.count("metered")).toBe(0);
    expect(logs.requests()[0]).toMatchObject({ provider: "cloudflare" });
  });

  it("fails over to the next provider when the first answers 500, and logs why", async () => {
    providers.fake.set("cloudflare", "status_500");
    const reply = await ask(providerEnv("cloudflare,metered"));
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers[1]!.username).toBe("metered-user-1");
    expect(logs.requests()[0]).toMatchObject({
      status: 200,
      provider: "metered",
      reason: "provider:cloudflare:status_500",
    });
  });

  it.each([
    ["times out", "hang", "timeout"],
    ["sends malformed JSON", "malformed_json", "malformed_json"],
    ["sends the wrong shape", "wrong_schema", "schema"],
  ] as const)("fails over when the first provider %s", async (_, behaviour, why) => {
    providers.fake.set("cloudflare", behaviour);
    const reply = await ask(providerEnv("cloudflare,twilio", { PROVIDER_TIMEOUT_MS: "100" }));
    expect(reply.status).toBe(200);
    expect(logs.requests()[0]).toMatchObject({ provider: "twilio", reason: `provider:cloudflare:${why}` });
  });

  it("never calls a managed provider while coturn, listed first, answers", async () => {
    const reply = await ask(providerEnv("coturn,cloudflare"));
    expect(reply.body.iceServers[1]!.username).toMatch(/^\d+:user-42$/);
    expect(providers.fake.calls).toHaveLength(0);
  });

  it("answers 503 upstream_unavailable when every provider fails and nothing is cached", async () => {
    providers.fake.set("cloudflare", "status_500").set("metered", "invalid_key");
    const reply = await ask(providerEnv("cloudflare,metered"));
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.text)).toEqual({
      error: { code: "upstream_unavailable", message: "No TURN provider is available right now." },
    });
    expect(reply.headers.get("Cache-Control")).toBe("no-store");
    expect(logs.requests()[0]).toMatchObject({
      status: 503,
      reason: "provider:cloudflare:status_500,provider:metered:invalid_key",
    });
  });

  it("serves still-valid cached credentials when every provider fails", async () => {
    providers.fake.set("cloudflare", "status_500").set("metered", "status_500");
    const now = Date.now();
    await storeEntry(providerEnv("metered"), { fetchedAt: now - 60_000, expiresAt: now + 3540_000, username: "kept" });
    const reply = await ask(providerEnv("cloudflare,metered"));
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers).toEqual([
      { urls: ["turn:cached.example.test:3478"], username: "kept", credential: "cached-secret" },
    ]);
    expect(reply.body.expiresAt).toBe(now + 3540_000);
    expect(reply.body.ttl).toBeLessThanOrEqual(3540);
    expect(providers.fake.count("metered")).toBe(0);
    expect(logs.requests()[0]).toMatchObject({ provider: "metered", reason: "provider:cloudflare:status_500" });
  });

  /** A Cloudflare entry 90% through its lifetime, but with more than the margin (300 s) left. */
  const storeDueForRefresh = async () => {
    const now = Date.now();
    await storeEntry(providerEnv("cloudflare"), {
      fetchedAt: now - 3240_000,
      expiresAt: now + 360_000,
      username: "old",
    });
    return now;
  };

  it("keeps serving a cached entry due for refresh while its provider is down, and logs the failed refresh", async () => {
    providers.fake.set("cloudflare", "status_500");
    await storeDueForRefresh();
    const reply = await ask(providerEnv("cloudflare"));
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers[0]!.username).toBe("old");
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(logs.parsed()).toContainEqual(
      expect.objectContaining({
        msg: "provider_cache",
        event: "refresh_failed",
        reason: "provider:cloudflare:status_500",
      }),
    );
  });

  it("waits before refreshing again after a failed refresh: a provider that is down is not asked on every request", async () => {
    providers.fake.set("cloudflare", "status_500");
    const now = await storeDueForRefresh();
    for (let i = 0; i < 20; i++) {
      const reply = await ask(providerEnv("cloudflare"));
      expect(reply.status).toBe(200);
      expect(reply.body.iceServers[0]!.username).toBe("old");
    }
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(logs.parsed().filter((line) => line.event === "refresh_failed")).toHaveLength(1);
    // Once the wait is over, it tries again (and the provider, back up, answers).
    providers.fake.set("cloudflare", "ok");
    vi.spyOn(Date, "now").mockReturnValue(now + REFRESH_RETRY_MS + 1_000);
    await ask(providerEnv("cloudflare"));
    expect(providers.fake.count("cloudflare")).toBe(2);
  });

  it("never serves an expired entry, even when every provider fails", async () => {
    providers.fake.set("cloudflare", "status_500");
    const now = Date.now();
    await storeEntry(providerEnv("cloudflare"), {
      fetchedAt: now - 3700_000,
      expiresAt: now - 100_000,
      username: "dead",
    });
    const reply = await ask(providerEnv("cloudflare"));
    expect(reply.status).toBe(503);
    expect(reply.text).not.toContain("dead");
  });

  describe("the circuit breaker", () => {
    it("skips a provider after 3 failures in a row, for 30 s, then lets one request try it again", async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      providers.fake.set("cloudflare", "status_500");
      const changes = providerEnv("cloudflare,metered");
      for (let i = 0; i < 3; i++) expect((await ask(changes)).status).toBe(200);
      expect(providers.fake.count("cloudflare")).toBe(3);
      expect(providers.fake.count("metered")).toBe(1);

      const skipped = await ask(changes);
      expect(skipped.status).toBe(200);
      expect(providers.fake.count("cloudflare")).toBe(3);
      expect(logs.requests().at(-1)!.reason).toBe("provider:cloudflare:circuit_open");

      // Half-open after 30 s: one trial, which succeeds and closes the circuit.
      vi.setSystemTime(Date.now() + OPEN_MS + 1);
      providers.fake.set("cloudflare", "ok");
      const trial = await ask(changes);
      expect(providers.fake.count("cloudflare")).toBe(4);
      expect(logs.requests().at(-1)).toMatchObject({ provider: "cloudflare" });
      expect(trial.body.iceServers[1]!.username).toMatch(/^cf-user-/);
    });

    it("does not serve coturn's credential minted this second while coturn's circuit is open", async () => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
      const changes = providerEnv("coturn,cloudflare");
      expect((await ask(changes)).status).toBe(200);
      expect(logs.requests().at(-1)).toMatchObject({ provider: "coturn" });
      for (let i = 0; i < 3; i++) recordFailure("coturn", Date.now());
      const reply = await ask(changes);
      expect(reply.status).toBe(200);
      expect(logs.requests().at(-1)).toMatchObject({ provider: "cloudflare", reason: "provider:coturn:circuit_open" });
    });

    it("answers 503 at once when every provider's circuit is open and nothing is cached", async () => {
      providers.fake.set("cloudflare", "status_500");
      const changes = providerEnv("cloudflare");
      for (let i = 0; i < 3; i++) await ask(changes);
      const reply = await ask(changes);
      expect(reply.status).toBe(503);
      expect(providers.fake.count("cloudflare")).toBe(3);
      expect(logs.requests().at(-1)!.reason).toBe("provider:cloudflare:circuit_open");
    });
  });

  describe("in merge mode", () => {
    it("combines every provider's servers: one entry per credential, no URL twice, at most MAX_ICE_SERVERS", async () => {
      const reply = await ask(
        providerEnv("coturn,cloudflare,metered", {
          TURN_PROVIDER_MODE: "merge",
          METERED_CACHE_SECONDS: "900",
          MAX_ICE_SERVERS: "4",
          MAX_ICE_URLS: "10",
        }),
      );
      expect(reply.status).toBe(200);
      const { iceServers } = reply.body;
      expect(iceServers).toHaveLength(4);
      // The STUN URLs of all three share one credential-less entry.
      expect(iceServers[0]).toEqual({
        urls: ["stun:turn.example.test:3478", "stun:stun.cloudflare.com:3478", "stun:stun.relay.metered.ca:80"],
      });
      expect(iceServers.flatMap((server) => server.urls).length).toBeLessThanOrEqual(10);
      expect(iceServers.map((server) => server.username)).toEqual([
        undefined,
        expect.stringMatching(/^\d+:user-42$/),
        expect.stringMatching(/^cf-user-\d+$/),
        expect.stringMatching(/^metered-user-\d+$/),
      ]);
      const urls = iceServers.flatMap((server) => server.urls);
      expect(new Set(urls).size).toBe(urls.length);
      // The earliest expiry wins: Metered's 900 s.
      expect(reply.body.ttl).toBe(900);
      expect(logs.requests()[0]).toMatchObject({ provider: "coturn+cloudflare+metered" });
    });

    it("drops STUN-only entries first when over MAX_ICE_SERVERS", async () => {
      const reply = await ask(providerEnv("coturn,cloudflare", { TURN_PROVIDER_MODE: "merge", MAX_ICE_SERVERS: "2" }));
      expect(reply.body.iceServers.map((server) => server.username !== undefined)).toEqual([true, true]);
    });

    it("answers with the providers that answered, and logs the others", async () => {
      providers.fake.set("cloudflare", "status_500");
      const reply = await ask(providerEnv("cloudflare,metered", { TURN_PROVIDER_MODE: "merge" }));
      expect(reply.status).toBe(200);
      expect(logs.requests()[0]).toMatchObject({ provider: "metered", reason: "provider:cloudflare:status_500" });
    });
  });
});
