import { describe, expect, it } from "vitest";
import { PROVIDER_SECRETS, PROVIDER_SETTINGS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { CLOUDFLARE_TURN_URLS } from "../../support/fakes/cloudflare";
import { ask, useLogs } from "../../support/fakes/requests";

/** What a reply keeps of the seven documented URLs with MAX_ICE_URLS=4: one per connectivity class. */
const SHAPED_TURN_URLS = [
  "turn:turn.cloudflare.com:3478?transport=udp",
  "turn:turn.cloudflare.com:3478?transport=tcp",
  "turns:turn.cloudflare.com:443?transport=tcp",
];

describe("the cloudflare provider (Realtime TURN)", () => {
  const providers = useFakeProviders();
  const logs = useLogs();
  const env = providerEnv("cloudflare");

  it("asks for ICE servers with the key's token and the ttl, and hands out one URL per connectivity class", async () => {
    const before = Date.now();
    const reply = await ask(env);
    expect(reply.status).toBe(200);
    const { fake } = providers;
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({
      method: "POST",
      path: `/turn/keys/${PROVIDER_SETTINGS.CLOUDFLARE_TURN_KEY_ID}/credentials/generate-ice-servers`,
      authorization: `Bearer ${PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN}`,
      contentType: "application/json",
    });
    expect(JSON.parse(fake.calls[0]!.body)).toEqual({ ttl: 3600 });
    // Seven URLs come back; four go out: TURN/UDP, TURN/TLS on 443, TURN/TCP, STUN.
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.cloudflare.com:3478"] },
      { urls: SHAPED_TURN_URLS, username: "cf-user-1", credential: "cf-credential-1" },
    ]);
    // The reply carries no ttl: expiry is the request time plus the ttl asked for.
    expect(reply.body.ttl).toBe(3600);
    expect(reply.body.expiresAt).toBeGreaterThanOrEqual(before + 3600_000);
    expect(reply.body.expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(logs.requests()[0]).toMatchObject({ status: 200, provider: "cloudflare" });
    expect(logs.requests()[0]!.reason).toBeUndefined();
  });

  it("keeps up to MAX_ICE_URLS=10 of the documented URLs", async () => {
    const reply = await ask({ ...env, MAX_ICE_URLS: "10" });
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.cloudflare.com:3478"] },
      { urls: CLOUDFLARE_TURN_URLS, username: "cf-user-1", credential: "cf-credential-1" },
    ]);
  });

  it("asks for its longest lifetime whatever ?ttl= says, and cuts the reply's ttl to what was asked", async () => {
    const reply = await ask(env, { query: "?ttl=600" });
    expect(JSON.parse(providers.fake.calls[0]!.body)).toEqual({ ttl: 3600 });
    expect(reply.body.ttl).toBe(600);
    expect(reply.body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it("sends the user's hash as customIdentifier when the credential is per user (CACHE_SCOPE=user), never the sub", async () => {
    await ask(providerEnv("cloudflare", { CACHE_SCOPE: "user" }), { sub: "accounted-user" });
    const userHash = logs.requests()[0]!.user as string;
    expect(userHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.parse(providers.fake.calls[0]!.body)).toEqual({ ttl: 3600, customIdentifier: userHash });
    expect(providers.fake.calls[0]!.body).not.toContain("accounted-user");
  });

  it("sends no customIdentifier for the shared credential of CACHE_SCOPE=global: it has no single user", async () => {
    await ask(env, { sub: "shared-user" });
    expect(JSON.parse(providers.fake.calls[0]!.body)).toEqual({ ttl: 3600 });
  });

  it("accepts the legacy shape, where iceServers is one object holding STUN and TURN URLs", async () => {
    providers.fake.set("cloudflare", "legacy");
    const reply = await ask({ ...env, MAX_ICE_URLS: "10" });
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.cloudflare.com:3478"], username: "cf-user-1", credential: "cf-credential-1" },
      { urls: CLOUDFLARE_TURN_URLS, username: "cf-user-1", credential: "cf-credential-1" },
    ]);
  });

  it("drops port-53 URLs of the older URL set, and says so in the log line", async () => {
    providers.fake.set("cloudflare", "older");
    const reply = await ask({ ...env, MAX_ICE_URLS: "10" });
    const urls = reply.body.iceServers.flatMap((server) => server.urls);
    expect(urls.some((url) => /:53(\?|$)/.test(url))).toBe(false);
    expect(urls).toHaveLength(6);
    expect(logs.requests()[0]!.reason).toBe("provider:cloudflare:dropped_port_53");
  });

  it("drops every URL browsers would refuse from a hostile reply, with the reasons in the log line", async () => {
    providers.fake.set("cloudflare", "hostile");
    const reply = await ask({ ...env, MAX_ICE_URLS: "10" });
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.cloudflare.com:3478"] },
      { urls: ["turn:turn.cloudflare.com:3478?transport=udp"], username: "cf-user-1", credential: "cf-credential-1" },
    ]);
    const reason = logs.requests()[0]!.reason ?? "";
    expect(reason).toMatch(/^provider:cloudflare:dropped_/);
    expect(reason.split(",").length).toBeGreaterThanOrEqual(3);
  });

  it("fails over, and caches nothing, when a reply has no usable TURN URL left", async () => {
    providers.fake.set("cloudflare", "only_port_53");
    const reply = await ask(providerEnv("cloudflare,coturn"));
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers.some((server) => server.username?.includes(":"))).toBe(true);
    expect(logs.requests()[0]).toMatchObject({ provider: "coturn", reason: "provider:cloudflare:empty" });
    await ask(providerEnv("cloudflare,coturn"));
    expect(providers.fake.count("cloudflare")).toBe(2);
  });

  it("honours CLOUDFLARE_TURN_API_URL (an egress proxy, a fake)", async () => {
    const reply = await ask({ ...env, CLOUDFLARE_TURN_API_URL: "https://rtc.live.cloudflare.com/v1/" });
    expect(reply.status).toBe(200);
    expect(providers.fake.calls).toHaveLength(1);
  });

  it.each([
    ["an error status", "status_500", "provider:cloudflare:status_500"],
    ["malformed JSON", "malformed_json", "provider:cloudflare:malformed_json"],
    ["a reply of the wrong shape", "wrong_schema", "provider:cloudflare:schema"],
    ["an empty list", "empty", "provider:cloudflare:empty"],
    ["nothing but port-53 URLs", "only_port_53", "provider:cloudflare:empty"],
  ] as const)(
    "treats %s as a provider failure: 503 upstream_unavailable, reason logged",
    async (_, behaviour, reason) => {
      providers.fake.set("cloudflare", behaviour);
      const reply = await ask(env);
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.text)).toEqual({
        error: { code: "upstream_unavailable", message: "No TURN provider is available right now." },
      });
      expect(reply.headers.get("Retry-After")).toBe("10");
      expect(logs.requests()[0]).toMatchObject({ status: 503, reason });
    },
  );

  it("gives up after PROVIDER_TIMEOUT_MS (reason timeout)", async () => {
    providers.fake.set("cloudflare", "hang");
    const reply = await ask({ ...env, PROVIDER_TIMEOUT_MS: "100" });
    expect(reply.status).toBe(503);
    expect(logs.requests()[0]!.reason).toBe("provider:cloudflare:timeout");
  });

  it("never returns or logs the API token", async () => {
    await ask(env);
    providers.fake.set("cloudflare", "status_500");
    await ask({ ...env, CLOUDFLARE_TURN_API_TOKEN: "sentinel-cloudflare-token-other-0000" });
    const everything = [...logs.lines, JSON.stringify(providers.fake.calls.map((call) => call.body))].join("\n");
    expect(everything).not.toContain(PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN);
    expect(everything).not.toContain("sentinel-cloudflare-token-other-0000");
  });
});
