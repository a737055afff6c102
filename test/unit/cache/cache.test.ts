import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { CacheEntry } from "../../../src/cache/entry";
import { inFlightKeys } from "../../../src/cache/inflight";
import { credentialsKey, KEY_PREFIX } from "../../../src/cache/keys";
import { memorySize } from "../../../src/cache/memory";
import { loadConfig } from "../../../src/config";
import { configuredProviders } from "../../../src/providers/registry";
import { resetProviderState } from "../../../src/providers/resolve";
import { NEXT_SECRETS, PROVIDER_SECRETS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";
import { type EnvChanges, testEnv } from "../../support/worker-fetch";

const CLOUDFLARE = providerEnv("cloudflare");

async function keyOf(changes: EnvChanges, ttl = 3600, userHash?: string) {
  const [provider] = configuredProviders(loadConfig(testEnv(changes)));
  const scope = userHash ? { kind: "user" as const, userHash } : { kind: "global" as const };
  return credentialsKey(provider!.name, provider!.cacheIdentity!(ttl), scope);
}

async function store(changes: EnvChanges, fetchedAt: number, expiresAt: number, username: string) {
  const entry: CacheEntry = {
    v: 1,
    iceServers: [{ urls: ["turn:cached.example.test:3478"], username, credential: "cached-secret" }],
    fetchedAt,
    expiresAt,
  };
  await env.TURN_CACHE.put(await keyOf(changes), JSON.stringify(entry));
}

async function storedKeys(): Promise<string[]> {
  return (await env.TURN_CACHE.list()).keys.map((key) => key.name);
}

/** A KV namespace that reads through to TURN_CACHE but whose chosen methods throw. */
function failingKv(fail: { get?: boolean; put?: boolean }) {
  const real = env.TURN_CACHE;
  return {
    get: (key: string, type: "text") => {
      if (fail.get) throw new Error("KV GET failed: 500");
      return real.get(key, type);
    },
    put: async (key: string, value: string, options: KVNamespacePutOptions) => {
      if (fail.put) throw new Error("KV PUT failed: 429 Too Many Requests");
      return real.put(key, value, options);
    },
  } as unknown as KVNamespace;
}

describe("the credential cache", () => {
  const providers = useFakeProviders();
  const logs = useLogs();

  it("makes exactly 1 upstream call per provider key for 200 requests within one lifetime", async () => {
    const changes = providerEnv("cloudflare,metered", { TURN_PROVIDER_MODE: "merge" });
    const usernames = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const reply = await ask(changes, { sub: `user-${i}` });
      expect(reply.status).toBe(200);
      for (const server of reply.body.iceServers) if (server.username) usernames.add(server.username);
    }
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(providers.fake.count("metered")).toBe(1);
    // Global scope: every user got the same TURN username per provider.
    expect(usernames.size).toBe(2);
  }, 60_000);

  it("stores {v, iceServers, fetchedAt, expiresAt} under the documented key, without the provider's token", async () => {
    const reply = await ask(CLOUDFLARE);
    const keys = await storedKeys();
    expect(keys).toEqual([await keyOf(CLOUDFLARE)]);
    expect(keys[0]).toMatch(new RegExp(`^${KEY_PREFIX}cloudflare:[0-9a-f]{12}:ttl=3600:global$`));
    const { value, metadata } = await env.TURN_CACHE.getWithMetadata(keys[0]!, "text");
    expect(metadata).toBeNull();
    expect(value).not.toContain(PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN);
    const entry = CacheEntry().parse(JSON.parse(value!));
    // The entry holds the provider's whole list; the reply is shaped to MAX_ICE_URLS from it.
    const served = reply.body.iceServers.flatMap((server) => server.urls);
    expect(served).toHaveLength(4);
    expect(entry.iceServers.flatMap((server) => server.urls)).toEqual(expect.arrayContaining(served));
    expect(entry.expiresAt).toBe(reply.body.expiresAt);
  });

  it("serves another isolate's entry from KV (memory tier empty) without an upstream call", async () => {
    const first = await ask(CLOUDFLARE);
    resetProviderState();
    expect(memorySize()).toBe(0);
    const second = await ask(CLOUDFLARE);
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(second.body.iceServers).toEqual(first.body.iceServers);
    expect(second.body.ttl).toBeLessThanOrEqual(3600);
  });

  it("never mints coturn credentials into the cache", async () => {
    await ask({});
    await ask({});
    expect(await storedKeys()).toEqual([]);
  });

  describe("key rotation", () => {
    it("makes a new upstream call with the new key and never serves credentials made with the old one", async () => {
      const old = await ask(CLOUDFLARE);
      const rotated = { ...CLOUDFLARE, CLOUDFLARE_TURN_API_TOKEN: NEXT_SECRETS.CLOUDFLARE_TURN_API_TOKEN };
      const next = await ask(rotated);
      expect(providers.fake.count("cloudflare")).toBe(2);
      expect(providers.fake.calls[1]!.authorization).toBe(`Bearer ${NEXT_SECRETS.CLOUDFLARE_TURN_API_TOKEN}`);
      expect(next.body.iceServers[1]!.username).not.toBe(old.body.iceServers[1]!.username);
      // Later requests with the new key keep getting the new credentials, from the cache.
      const again = await ask(rotated);
      expect(again.body.iceServers).toEqual(next.body.iceServers);
      expect(providers.fake.count("cloudflare")).toBe(2);
    });

    it("does the same for a rotated Metered API key", async () => {
      const changes = providerEnv("metered");
      const old = await ask(changes);
      const next = await ask({ ...changes, METERED_API_KEY: NEXT_SECRETS.METERED_API_KEY });
      expect(providers.fake.calls.map((call) => call.query.apiKey)).toEqual([
        PROVIDER_SECRETS.METERED_API_KEY,
        NEXT_SECRETS.METERED_API_KEY,
      ]);
      expect(next.body.iceServers[1]!.username).not.toBe(old.body.iceServers[1]!.username);
    });
  });

  describe("expiry", () => {
    it("never serves an entry whose expiresAt has passed", async () => {
      const now = Date.now();
      await store(CLOUDFLARE, now - 3700_000, now - 1000, "expired");
      const reply = await ask(CLOUDFLARE);
      expect(reply.status).toBe(200);
      expect(reply.body.iceServers[1]!.username).toBe("cf-user-1");
      expect(providers.fake.count("cloudflare")).toBe(1);
    });

    it("never serves an entry with less than the safety margin left", async () => {
      const now = Date.now();
      // 200 s left of a 3600 s lifetime: under CACHE_MIN_REMAINING_SECONDS (300).
      await store(CLOUDFLARE, now - 3400_000, now + 200_000, "nearly-expired");
      const reply = await ask(CLOUDFLARE);
      expect(reply.body.iceServers[1]!.username).toBe("cf-user-1");
      expect(reply.text).not.toContain("nearly-expired");
    });

    it("honours CACHE_MIN_REMAINING_SECONDS", async () => {
      const now = Date.now();
      await store(CLOUDFLARE, now - 3400_000, now + 200_000, "fine-with-a-small-margin");
      const reply = await ask({ ...CLOUDFLARE, CACHE_MIN_REMAINING_SECONDS: "60" });
      expect(reply.body.iceServers[0]!.username).toBe("fine-with-a-small-margin");
      expect(reply.body.ttl).toBeLessThanOrEqual(200);
    });

    it("replaces an unusable entry with the fresh one", async () => {
      const now = Date.now();
      await store(CLOUDFLARE, now - 3700_000, now - 1000, "expired");
      await ask(CLOUDFLARE);
      const stored = CacheEntry().parse(JSON.parse((await env.TURN_CACHE.get(await keyOf(CLOUDFLARE), "text"))!));
      expect(stored.iceServers[1]!.username).toBe("cf-user-1");
    });
  });

  it("refreshes an entry past 80% of its servable window in the background, serving the cached one meanwhile", async () => {
    const now = Date.now();
    await store(CLOUDFLARE, now - 3000_000, now + 600_000, "cached");
    const reply = await ask(CLOUDFLARE);
    expect(reply.body.iceServers[0]!.username).toBe("cached");
    expect(providers.fake.count("cloudflare")).toBe(1);
    const stored = CacheEntry().parse(JSON.parse((await env.TURN_CACHE.get(await keyOf(CLOUDFLARE), "text"))!));
    expect(stored.iceServers[1]!.username).toBe("cf-user-1");
    const next = await ask(CLOUDFLARE);
    expect(next.body.iceServers[1]!.username).toBe("cf-user-1");
    expect(providers.fake.count("cloudflare")).toBe(1);
  });

  it("makes one upstream call for concurrent first requests, and every one gets the parsed value", async () => {
    const release = providers.fake.hold();
    const replies = Array.from({ length: 10 }, (_, i) => ask(CLOUDFLARE, { sub: `concurrent-${i}` }));
    await vi.waitUntil(() => providers.fake.count("cloudflare") > 0);
    expect(inFlightKeys()).toEqual([await keyOf(CLOUDFLARE)]);
    release();
    const bodies = (await Promise.all(replies)).map((reply) => reply.body.iceServers);
    expect(providers.fake.count("cloudflare")).toBe(1);
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(inFlightKeys()).toEqual([]);
  });

  it("gives each user their own credentials with CACHE_SCOPE=user", async () => {
    const changes = { ...CLOUDFLARE, CACHE_SCOPE: "user" };
    const alice = await ask(changes, { sub: "alice" });
    const aliceAgain = await ask(changes, { sub: "alice" });
    const bob = await ask(changes, { sub: "bob" });
    expect(providers.fake.count("cloudflare")).toBe(2);
    expect(aliceAgain.body.iceServers).toEqual(alice.body.iceServers);
    expect(bob.body.iceServers).not.toEqual(alice.body.iceServers);
    const user = logs.requests()[0]!.user!;
    expect(await storedKeys()).toContain(await keyOf(changes, 3600, user));
  });

  it("shares the provider's one cached credential between ?ttl= values, each reply's ttl cut to what was asked", async () => {
    const short = await ask(CLOUDFLARE, { query: "?ttl=600" });
    const shorter = await ask(CLOUDFLARE, { query: "?ttl=120" });
    const full = await ask(CLOUDFLARE);
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(await storedKeys()).toEqual([await keyOf(CLOUDFLARE)]);
    expect([short.body.ttl, shorter.body.ttl, full.body.ttl]).toEqual([600, 120, 3600]);
    expect(shorter.body.iceServers).toEqual(full.body.iceServers);
  });

  describe("entries read from KV", () => {
    const now = () => Date.now();
    it.each([
      ["fetched in the future", (): [number, number] => [now() + 60_000, now() + 3600_000]],
      ["already expired", (): [number, number] => [now() - 7200_000, now() - 1000]],
      ["with a lifetime beyond 48 h", (): [number, number] => [now() - 1000, now() + 49 * 3600_000]],
    ])("treats an entry %s as a miss", async (_, times) => {
      const [fetchedAt, expiresAt] = times();
      await store(CLOUDFLARE, fetchedAt, expiresAt, "planted-user");
      const reply = await ask(CLOUDFLARE);
      expect(reply.status).toBe(200);
      expect(JSON.stringify(reply.body)).not.toContain("planted-user");
      expect(providers.fake.count("cloudflare")).toBe(1);
      expect(logs.requests()[0]!.reason).toBe("cache:kv_unsound");
    });

    it("treats an entry whose URLs browsers would refuse as a miss", async () => {
      const entry: CacheEntry = {
        v: 1,
        iceServers: [{ urls: ["turn:cached.example.test:0053"], username: "planted-user", credential: "c" }],
        fetchedAt: Date.now() - 1000,
        expiresAt: Date.now() + 3600_000,
      };
      await env.TURN_CACHE.put(await keyOf(CLOUDFLARE), JSON.stringify(entry));
      const reply = await ask(CLOUDFLARE);
      expect(JSON.stringify(reply.body)).not.toContain("planted-user");
      expect(providers.fake.count("cloudflare")).toBe(1);
    });

    it("serves a sound entry without an upstream call", async () => {
      await store(CLOUDFLARE, Date.now() - 1000, Date.now() + 3600_000, "planted-user");
      const reply = await ask(CLOUDFLARE);
      expect(JSON.stringify(reply.body)).toContain("planted-user");
      expect(providers.fake.count("cloudflare")).toBe(0);
    });
  });

  describe("KV failures", () => {
    it("treats a read that throws as a miss, and logs it", async () => {
      const reply = await ask(CLOUDFLARE, { kv: failingKv({ get: true }) });
      expect(reply.status).toBe(200);
      expect(logs.requests()[0]).toMatchObject({ provider: "cloudflare", reason: "cache:kv_read_failed" });
    });

    it("skips a write that throws, logs it, and still serves from the isolate's memory", async () => {
      const kv = failingKv({ put: true });
      expect((await ask(CLOUDFLARE, { kv })).status).toBe(200);
      expect((await ask(CLOUDFLARE, { kv })).status).toBe(200);
      expect(providers.fake.count("cloudflare")).toBe(1);
      expect(await storedKeys()).toEqual([]);
      expect(logs.parsed()).toContainEqual(
        expect.objectContaining({ msg: "provider_cache", event: "kv_write_failed", provider: "cloudflare" }),
      );
    });

    it("treats a value of the wrong shape as a miss", async () => {
      await env.TURN_CACHE.put(await keyOf(CLOUDFLARE), JSON.stringify({ v: 1, iceServers: "not a list" }));
      const reply = await ask(CLOUDFLARE);
      expect(reply.status).toBe(200);
      expect(logs.requests()[0]!.reason).toBe("cache:kv_invalid");
    });

    it("works without a TURN_CACHE binding, from the isolate's memory", async () => {
      expect((await ask(CLOUDFLARE, { kv: null })).status).toBe(200);
      expect((await ask(CLOUDFLARE, { kv: null })).status).toBe(200);
      expect(providers.fake.count("cloudflare")).toBe(1);
    });
  });
});
