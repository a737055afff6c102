import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors";
import { meteredProvider } from "../../../src/providers/metered";
import { DEFAULT_API_URLS, PROVIDER_SECRETS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";

const METERED_TURN_URLS = [
  "turn:global.relay.metered.ca:80",
  "turn:global.relay.metered.ca:80?transport=tcp",
  "turn:global.relay.metered.ca:443",
  "turn:global.relay.metered.ca:443?transport=tcp",
];

describe("the metered provider", () => {
  const providers = useFakeProviders();
  const logs = useLogs();
  const env = providerEnv("metered");

  it("GETs the bare array for METERED_API_KEY, one entry per credential", async () => {
    const reply = await ask({ ...env, MAX_ICE_URLS: "10" });
    expect(reply.status).toBe(200);
    expect(providers.fake.calls).toHaveLength(1);
    expect(providers.fake.calls[0]).toMatchObject({
      method: "GET",
      path: "/api/v1/turn/credentials",
      query: { apiKey: PROVIDER_SECRETS.METERED_API_KEY },
    });
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.relay.metered.ca:80"] },
      { urls: METERED_TURN_URLS, username: "metered-user-1", credential: "metered-credential-1" },
    ]);
    expect(logs.requests()[0]).toMatchObject({ status: 200, provider: "metered" });
  });

  it("accepts the dashboard's turns:…:443?transport=tcp as well as the documented plain turn:", async () => {
    providers.fake.set("metered", "dashboard");
    const reply = await ask(env);
    expect(reply.status).toBe(200);
    // Four URLs at most, one per class first: TURN/UDP, TURN/TLS on 443, TURN/TCP, then STUN.
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:stun.relay.metered.ca:80"] },
      {
        urls: [
          "turn:global.relay.metered.ca:80",
          "turn:global.relay.metered.ca:80?transport=tcp",
          "turns:global.relay.metered.ca:443?transport=tcp",
        ],
        username: "metered-user-1",
        credential: "metered-credential-1",
      },
    ]);
  });

  it("asks for METERED_REGION", async () => {
    await ask({ ...env, METERED_REGION: "europe" });
    expect(providers.fake.calls[0]!.query).toEqual({ apiKey: PROVIDER_SECRETS.METERED_API_KEY, region: "europe" });
  });

  it("keeps the non-expiring credentials for METERED_CACHE_SECONDS at most", async () => {
    const before = Date.now();
    const reply = await ask({ ...env, METERED_CACHE_SECONDS: "600" });
    expect(reply.body.ttl).toBe(600);
    expect(reply.body.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(reply.body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  it("logs a 401 {error: Invalid API Key} as an invalid key", async () => {
    const reply = await ask({ ...env, METERED_API_KEY: "sentinel-metered-key-revoked-000" });
    expect(reply.status).toBe(503);
    expect(reply.error).toBe("upstream_unavailable");
    expect(logs.requests()[0]!.reason).toBe("provider:metered:invalid_key");
  });

  it("answers a request without a key with 400 {error: Please specify API Key}, a failure status_400", async () => {
    const provider = meteredProvider({
      apiUrl: DEFAULT_API_URLS.metered,
      apiKey: "",
      secretKey: undefined,
      region: undefined,
      cacheSeconds: 3600,
    });
    const issuing = provider.issue({
      sub: "user-42",
      userHash: "0123456789abcdef",
      ttlSeconds: 3600,
      now: Date.now(),
      signal: AbortSignal.timeout(3000),
    });
    await expect(issuing).rejects.toBeInstanceOf(AppError);
    await expect(issuing).rejects.toMatchObject({ reason: "provider:metered:status_400" });
  });

  it.each([
    ["malformed_json", "provider:metered:malformed_json"],
    ["wrong_schema", "provider:metered:schema"],
    ["empty", "provider:metered:empty"],
    ["status_500", "provider:metered:status_500"],
  ] as const)("treats %s as a provider failure", async (behaviour, reason) => {
    providers.fake.set("metered", behaviour);
    const reply = await ask(env);
    expect(reply.status).toBe(503);
    expect(logs.requests()[0]!.reason).toBe(reason);
  });

  describe("with METERED_SECRET_KEY", () => {
    const secretEnv = { ...env, METERED_API_KEY: undefined, METERED_SECRET_KEY: PROVIDER_SECRETS.METERED_SECRET_KEY };

    it("creates an expiring credential, then GETs the list of the apiKey it returned", async () => {
      const before = Date.now();
      const reply = await ask(secretEnv, { query: "?ttl=900" });
      // One credential for the longest lifetime, shared by every ?ttl= (the reply's ttl is cut).
      expect(reply.status).toBe(200);
      const [create, list] = providers.fake.calls;
      expect(create).toMatchObject({
        method: "POST",
        path: "/api/v1/turn/credential",
        query: { secretKey: PROVIDER_SECRETS.METERED_SECRET_KEY },
        contentType: "application/json",
      });
      expect(JSON.parse(create!.body)).toEqual({ expiryInSeconds: 3600, label: "icegate" });
      expect(list).toMatchObject({ method: "GET", query: { apiKey: "created-api-key-1" } });
      expect(reply.body.iceServers[1]).toEqual({
        urls: METERED_TURN_URLS.slice(0, 3),
        username: "metered-expiring-user-1",
        credential: "metered-expiring-credential-1",
      });
      expect(reply.body.ttl).toBe(900);
      expect(reply.body.expiresAt).toBeGreaterThanOrEqual(before + 900_000);
    });

    it("is a provider failure when the secret key is refused (400 {message})", async () => {
      const reply = await ask({ ...secretEnv, METERED_SECRET_KEY: "sentinel-metered-secret-wrong-00" });
      expect(reply.status).toBe(503);
      expect(logs.requests()[0]!.reason).toBe("provider:metered:invalid_secret_key");
    });

    it("is a provider failure when the created credential has the wrong shape", async () => {
      providers.fake.set("metered", "wrong_schema");
      const reply = await ask(secretEnv);
      expect(reply.status).toBe(503);
      expect(logs.requests()[0]!.reason).toBe("provider:metered:schema");
    });
  });

  it("never returns or logs the API key or the secret key", async () => {
    await ask(env);
    await ask({ ...env, METERED_API_KEY: undefined, METERED_SECRET_KEY: PROVIDER_SECRETS.METERED_SECRET_KEY });
    const everything = logs.lines.join("\n");
    expect(everything).not.toContain(PROVIDER_SECRETS.METERED_API_KEY);
    expect(everything).not.toContain(PROVIDER_SECRETS.METERED_SECRET_KEY);
  });
});
