import { describe, expect, it } from "vitest";
import { fingerprint } from "../../../src/crypto";
import { PROVIDER_SECRETS, PROVIDER_SETTINGS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";
import { TEST_SECRETS } from "../../support/test-env";
import { call, type EnvChanges, operator } from "../../support/worker-fetch";

interface HealthBody {
  providers: string[];
  secrets: Record<string, string | string[]>;
}

async function expectNotConfigured(changes: EnvChanges, variable: string) {
  const reply = await ask(changes);
  expect(reply.status).toBe(503);
  const body = JSON.parse(reply.text) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("not_configured");
  expect(body.error.message).toContain(variable);
  for (const value of Object.values(changes)) {
    if (value && value.length > 8 && !/^[a-z,]+$/.test(value)) expect(body.error.message).not.toContain(value);
  }
}

describe("provider configuration", () => {
  const providers = useFakeProviders();
  const logs = useLogs();

  it("needs no TURN_SECRET or TURN_URLS when coturn is not in TURN_PROVIDERS", async () => {
    const reply = await ask(providerEnv("cloudflare", { TURN_SECRET: undefined, TURN_URLS: undefined }));
    expect(reply.status).toBe(200);
    // The log's user hash is still a keyed hash (keyed by the provider's secret).
    expect(logs.requests()[0]!.user).toMatch(/^[0-9a-f]{16}$/);
  });

  it("still needs TURN_SECRET and TURN_URLS when coturn is listed", async () => {
    await expectNotConfigured(providerEnv("cloudflare,coturn", { TURN_SECRET: undefined }), "TURN_SECRET");
    await expectNotConfigured(providerEnv("coturn,cloudflare", { TURN_URLS: undefined }), "TURN_URLS");
  });

  it.each([
    ["CLOUDFLARE_TURN_API_TOKEN", "cloudflare", { CLOUDFLARE_TURN_API_TOKEN: undefined }],
    ["CLOUDFLARE_TURN_KEY_ID", "cloudflare", { CLOUDFLARE_TURN_KEY_ID: undefined }],
    ["CLOUDFLARE_TURN_API_TOKEN", "cloudflare", { CLOUDFLARE_TURN_API_TOKEN: "short" }],
    ["CLOUDFLARE_TURN_API_URL", "cloudflare", { CLOUDFLARE_TURN_API_URL: "http://rtc.example.test/v1" }],
    ["METERED_API_KEY", "metered", { METERED_API_KEY: undefined }],
    ["METERED_DOMAIN", "metered", { METERED_DOMAIN: undefined }],
    ["METERED_DOMAIN", "metered", { METERED_DOMAIN: "https://app.metered.live/" }],
    ["METERED_REGION", "metered", { METERED_REGION: "eu west" }],
    ["METERED_CACHE_SECONDS", "metered", { METERED_CACHE_SECONDS: "10" }],
    ["TWILIO_ACCOUNT_SID", "twilio", { TWILIO_ACCOUNT_SID: undefined }],
    ["TWILIO_ACCOUNT_SID", "twilio", { TWILIO_ACCOUNT_SID: "not-a-sid" }],
    ["TWILIO_AUTH_TOKEN", "twilio", { TWILIO_AUTH_TOKEN: undefined }],
    ["TWILIO_API_KEY_SECRET", "twilio", { TWILIO_API_KEY_SID: PROVIDER_SETTINGS.TWILIO_API_KEY_SID }],
    [
      "TWILIO_API_KEY_SID",
      "twilio",
      { TWILIO_AUTH_TOKEN: undefined, TWILIO_API_KEY_SECRET: PROVIDER_SECRETS.TWILIO_API_KEY_SECRET },
    ],
    ["EXPRESSTURN_SECRET_KEY", "expressturn", { EXPRESSTURN_SECRET_KEY: undefined }],
    ["EXPRESSTURN_SERVER_URL", "expressturn", { EXPRESSTURN_SERVER_URL: "https://relay.example.test" }],
    ["TURN_PROVIDERS", "coturn,xirsys", {}],
    ["TURN_PROVIDERS", "cloudflare,cloudflare", {}],
    ["TURN_PROVIDERS", " , ", {}],
    ["TURN_PROVIDER_MODE", "coturn", { TURN_PROVIDER_MODE: "random" }],
    ["MAX_ICE_SERVERS", "coturn", { MAX_ICE_SERVERS: "9" }],
    ["PROVIDER_TIMEOUT_MS", "coturn", { PROVIDER_TIMEOUT_MS: "5" }],
    ["CACHE_SCOPE", "coturn", { CACHE_SCOPE: "team" }],
    ["CACHE_MIN_REMAINING_SECONDS", "coturn", { CACHE_MIN_REMAINING_SECONDS: "1h" }],
  ] as const)(
    "answers 503 not_configured naming %s (TURN_PROVIDERS=%s), never its value",
    async (variable, list, changes) => {
      await expectNotConfigured(providerEnv(list, changes), variable);
    },
  );

  it("does not require the settings of providers that are not listed, but checks any that are set", async () => {
    const unlisted = await ask({ TWILIO_ACCOUNT_SID: undefined, CLOUDFLARE_TURN_API_TOKEN: undefined });
    expect(unlisted.status).toBe(200);
    expect(providers.fake.calls).toHaveLength(0);
    await expectNotConfigured({ CLOUDFLARE_TURN_KEY_ID: "not valid!" }, "CLOUDFLARE_TURN_KEY_ID");
  });

  it("answers /api/turn/rest from the managed provider when only managed providers are set up", async () => {
    const key = TEST_SECRETS.TURN_REST_API_KEYS.split(",")[0]!;
    const response = await call(
      `/api/turn/rest?service=turn&key=${key}`,
      {},
      providerEnv("cloudflare", { TURN_SECRET: undefined }),
    );
    expect(response.status).toBe(200);
    expect(((await response.json()) as { username: string }).username).toMatch(/^cf-user-\d+$/);
  });

  it("needs the settings of a provider listed only in TURN_REST_PROVIDERS", async () => {
    await expectNotConfigured(
      providerEnv("coturn", { TURN_REST_PROVIDERS: "cloudflare", CLOUDFLARE_TURN_API_TOKEN: undefined }),
      "CLOUDFLARE_TURN_API_TOKEN",
    );
  });

  it.each([
    ["TURN_URLS", { TURN_URLS: "turn://turn.example.test:3478" }],
    ["TURN_URLS", { TURN_URLS: "turn:turn.example.test:3478?transport=sctp" }],
    ["TURN_URLS", { TURN_URLS: "turn:user@turn.example.test:3478" }],
    ["TURN_URLS", { TURN_URLS: "turn:turn.example.test:0053" }],
    ["TURN_URLS", { TURN_URLS: "TURN:turn.example.test:3478" }],
    ["TURN_URLS", { TURN_URLS: "stun:turn.example.test:3478" }],
    ["STUN_URLS", { STUN_URLS: "stun:stun.example.test:3478?transport=udp" }],
    ["STUN_URLS", { STUN_URLS: "turn:stun.example.test:3478" }],
    [
      "EXPRESSTURN_SERVER_URL",
      { TURN_PROVIDERS: "expressturn", EXPRESSTURN_SERVER_URL: "turn:relay.example.test:65536" },
    ],
    ["MAX_ICE_URLS", { MAX_ICE_URLS: "11" }],
  ] as const)("answers 503 not_configured naming %s when it breaks a browser rule", async (variable, changes) => {
    await expectNotConfigured(providerEnv("coturn", changes), variable);
    const health = await call("/healthz", {}, providerEnv("coturn", changes));
    expect(health.status).toBe(503);
    expect(((await health.json()) as { error: { message: string } }).error.message).toContain(variable);
  });

  describe("/healthz", () => {
    it("lists the providers in order and fingerprints each listed provider's secrets, never the secrets", async () => {
      const response = await call("/healthz", operator(), providerEnv("cloudflare,metered,twilio,expressturn,coturn"));
      const text = await response.text();
      const body = JSON.parse(text) as HealthBody;
      expect(body.providers).toEqual(["cloudflare", "metered", "twilio", "expressturn", "coturn"]);
      for (const name of [
        "CLOUDFLARE_TURN_API_TOKEN",
        "METERED_API_KEY",
        "TWILIO_AUTH_TOKEN",
        "EXPRESSTURN_SECRET_KEY",
      ] as const) {
        expect(body.secrets[name]).toBe(await fingerprint(PROVIDER_SECRETS[name]));
      }
      expect(body.secrets.TURN_SECRET).toBe(await fingerprint(TEST_SECRETS.TURN_SECRET));
      for (const secret of Object.values(PROVIDER_SECRETS)) expect(text).not.toContain(secret);
    });

    it("shows no fingerprint for a provider that is not listed", async () => {
      const body = (await (await call("/healthz", operator(), providerEnv("coturn"))).json()) as HealthBody;
      expect(body.providers).toEqual(["coturn"]);
      expect(Object.keys(body.secrets)).not.toContain("CLOUDFLARE_TURN_API_TOKEN");
    });

    it("shows TWILIO_API_KEY_SECRET when Twilio uses an API key", async () => {
      const body = (await (
        await call(
          "/healthz",
          operator(),
          providerEnv("twilio", {
            TWILIO_API_KEY_SID: PROVIDER_SETTINGS.TWILIO_API_KEY_SID,
            TWILIO_API_KEY_SECRET: PROVIDER_SECRETS.TWILIO_API_KEY_SECRET,
          }),
        )
      ).json()) as HealthBody;
      expect(body.secrets.TWILIO_API_KEY_SECRET).toBe(await fingerprint(PROVIDER_SECRETS.TWILIO_API_KEY_SECRET));
    });
  });
});
