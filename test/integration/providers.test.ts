/**
 * The worker under `wrangler dev` (real workerd, local KV) with TURN_PROVIDERS=cloudflare,metered and
 * their API URLs pointed at fake providers on a loopback node:http server: the reply's shape, port-53
 * URLs dropped, failover when Cloudflare answers 500, and one upstream call for many concurrent and
 * later requests (concurrent requests really are separate requests here, sharing one upstream call).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultFakeOptions, PROVIDER_SECRETS, providerEnv } from "../support/fakes/env";
import { type FakeProviderServer, startFakeProviderServer } from "../support/fakes/http-server";
import { waitFor } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

interface CredentialsBody {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
  expiresAt: number;
  ttl: number;
}

describe("managed providers under wrangler dev, against fake providers on loopback", () => {
  let providers: FakeProviderServer;
  let worker: WranglerDev;
  let workerVars: Record<string, string>;

  beforeAll(async () => {
    providers = await startFakeProviderServer((apiUrls) => defaultFakeOptions(apiUrls));
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(providerEnv("cloudflare,metered"))) if (value) vars[name] = value;
    workerVars = {
      ...vars,
      CLOUDFLARE_TURN_API_URL: providers.apiUrls.cloudflare,
      METERED_API_URL: providers.apiUrls.metered,
      PROVIDER_TIMEOUT_MS: "2000",
      ALLOW_ANONYMOUS: "true",
      RATE_LIMIT_ENABLED: "false",
    };
    worker = await startWranglerDev(workerVars);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await providers?.stop();
  });

  const credentials = async (query = "", from: WranglerDev = worker) => {
    const response = await fetch(`${from.url}/api/turn/credentials${query}`);
    return { status: response.status, headers: response.headers, body: (await response.json()) as CredentialsBody };
  };

  it("makes one upstream call for concurrent first requests, and every request gets the same credentials", async () => {
    const release = providers.fake.hold();
    const replies = Array.from({ length: 12 }, () => credentials());
    await waitFor(
      async () => providers.fake.count("cloudflare") >= 1,
      30_000,
      () => worker.output(),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const done = await Promise.all(replies);
    for (const reply of done) {
      expect(reply.status).toBe(200);
      expect(reply.body.iceServers).toEqual(done[0]!.body.iceServers);
    }
    expect(providers.fake.count("cloudflare")).toBe(1);
    // What workerd says when a request waits on I/O or a promise that belongs to another request.
    expect(worker.output()).not.toMatch(/different request context|on behalf of a different request/);
  });

  it("answers later requests within the lifetime from the cache", async () => {
    for (let i = 0; i < 20; i++) expect((await credentials()).status).toBe(200);
    expect(providers.fake.count("cloudflare")).toBe(1);
    expect(providers.fake.count("metered")).toBe(0);
    expect(providers.fake.unexpected).toEqual([]);
  });

  it("hands out Cloudflare's servers without port 53, in the documented reply shape, never cacheable", async () => {
    const reply = await credentials();
    expect(Object.keys(reply.body).sort()).toEqual(["expiresAt", "iceServers", "ttl"]);
    expect(reply.headers.get("Cache-Control")).toBe("no-store");
    const urls = reply.body.iceServers.flatMap((server) => server.urls);
    expect(urls).toContain("turns:turn.cloudflare.com:443?transport=tcp");
    expect(urls.some((url) => /:53(\?|$)/.test(url))).toBe(false);
    expect(reply.body.iceServers[1]!.username).toBe("cf-user-1");
    expect(reply.body.ttl).toBeGreaterThan(3000);
    expect(reply.body.expiresAt).toBeGreaterThan(Date.now() + 3000_000);
    const call = providers.fake.calls[0]!;
    expect(call.authorization).toBe(`Bearer ${PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN}`);
    expect(JSON.parse(call.body)).toEqual({ ttl: 86400 });
  });

  it("fails over to Metered when Cloudflare answers 500, and logs why", { timeout: 120_000 }, async () => {
    providers.fake.set("cloudflare", "status_500");
    // Every ?ttl= shares the provider's one cached credential: a second worker, with a cache of its own (its own
    // local KV), has to ask the providers.
    const fresh = await startWranglerDev(workerVars);
    try {
      const reply = await credentials("?ttl=600", fresh);
      expect(reply.status).toBe(200);
      expect(reply.body.iceServers[1]!.username).toMatch(/^metered-user-/);
      expect(reply.body.ttl).toBe(600);
      expect(providers.fake.count("cloudflare")).toBe(2);
      expect(providers.fake.count("metered")).toBe(1);
      await waitFor(
        async () => fresh.output().includes('"reason":"provider:cloudflare:status_500"'),
        10_000,
        () => fresh.output(),
      );
      expect(fresh.output()).not.toContain(PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN);
      expect(fresh.output()).not.toContain(PROVIDER_SECRETS.METERED_API_KEY);
    } finally {
      await fresh.stop();
    }
  });
});
