import { describe, expect, it } from "vitest";
import { bearer, call, signToken } from "../support/worker-fetch";
import { TEST_SECRETS } from "../support/test-env";

async function expectNotConfigured(changes: Record<string, string | undefined>, variable: string) {
  const response = await call("/api/turn/credentials", bearer(await signToken()), changes);
  expect(response.status).toBe(503);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("not_configured");
  expect(body.error.message).toContain(variable);
  for (const value of Object.values(changes))
    if (value && value.length > 3) expect(body.error.message).not.toContain(value);
  for (const secret of Object.values(TEST_SECRETS)) expect(JSON.stringify(body)).not.toContain(secret);
}

describe("configuration", () => {
  it.each([
    ["TURN_SECRET", { TURN_SECRET: undefined }],
    ["TURN_SECRET", { TURN_SECRET: "too-short" }],
    ["TURN_URLS", { TURN_URLS: undefined }],
    ["TURN_URLS", { TURN_URLS: "https://turn.example.test" }],
    ["TURN_URLS", { TURN_URLS: " , " }],
    ["STUN_URLS", { STUN_URLS: "stun:ok.example.test,http://bad" }],
    ["TURN_TTL_SECONDS", { TURN_TTL_SECONDS: "59" }],
    ["TURN_TTL_SECONDS", { TURN_TTL_SECONDS: "172801" }],
    ["TURN_TTL_SECONDS", { TURN_TTL_SECONDS: "1h" }],
    ["TURN_USERNAME_SEPARATOR", { TURN_USERNAME_SEPARATOR: "ab" }],
    ["TURN_USERNAME_SEPARATOR", { TURN_USERNAME_SEPARATOR: "1" }],
    ["TURN_USER_ID", { TURN_USER_ID: "email" }],
    ["AUTH_JWT_SECRET", { AUTH_JWT_SECRET: "short-jwt-secret" }],
    ["AUTH_JWKS_URL", { AUTH_JWKS_URL: "http://issuer.example.test/jwks.json" }],
    ["ALLOW_ANONYMOUS", { ALLOW_ANONYMOUS: "yes" }],
    ["ALLOWED_ORIGINS", { ALLOWED_ORIGINS: "https://app.example.test/path" }],
    ["TURN_REST_API_KEYS", { TURN_REST_API_KEYS: "short" }],
    ["TURN_REST_API_KEYS", { TURN_REST_API_KEYS: `rest-key-of-32-characters-is-ok!,${"k".repeat(31)}` }],
    ["ADMIN_API_TOKEN", { ADMIN_API_TOKEN: "o".repeat(31) }],
  ])("answers 503 not_configured naming %s, never its value", async (variable, changes) => {
    await expectNotConfigured(changes, variable);
  });

  it("fails closed: no way to authenticate and no explicit anonymity means no credentials", async () => {
    await expectNotConfigured(
      { AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: undefined },
      "AUTH_JWT_SECRET or AUTH_JWKS_URL",
    );
    const anonymous = await call("/api/turn/credentials", {}, { AUTH_JWT_SECRET: undefined, ALLOW_ANONYMOUS: "false" });
    expect(anonymous.status).toBe(503);
  });

  it("refuses AUTH_JWT_SECRET_PREVIOUS without a current AUTH_JWT_SECRET", async () => {
    await expectNotConfigured(
      { AUTH_JWT_SECRET: undefined, AUTH_JWT_SECRET_PREVIOUS: "sentinel-previous-jwt-secret-abcdefghijklmnopqrstuv" },
      "AUTH_JWT_SECRET",
    );
  });

  it("accepts the documented defaults when optional variables are absent", async () => {
    const response = await call("/api/turn/credentials", bearer(await signToken()), {
      TURN_TTL_SECONDS: undefined,
      TURN_USERNAME_SEPARATOR: undefined,
      TURN_USER_ID: undefined,
      STUN_URLS: undefined,
      ALLOWED_ORIGINS: undefined,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { ttl: number; iceServers: { username?: string }[] };
    expect(body.ttl).toBe(86400);
    expect(body.iceServers[0]!.username).toMatch(/^\d+:user-42$/);
  });
});
