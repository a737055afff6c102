import { describe, expect, it } from "vitest";
import { fingerprint } from "../../../src/crypto";
import { VERSION } from "../../../src/version";
import { bearer, call, operator } from "../../support/worker-fetch";
import { TEST_SECRETS } from "../../support/test-env";

interface HealthBody {
  status: string;
  version: string;
  providers?: string[];
  secrets?: Record<string, string | string[]>;
}

const ALL_SECRETS = [...Object.values(TEST_SECRETS), ...TEST_SECRETS.TURN_REST_API_KEYS.split(",")];

describe("GET /healthz", () => {
  it("shows anybody the status and the version only: no providers, no fingerprints", async () => {
    const response = await call("/healthz");
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.json()).toEqual({ status: "ok", version: VERSION });
  });

  it("shows the operator (Bearer ADMIN_API_TOKEN) the providers and a fingerprint of each secret in use", async () => {
    const response = await call("/healthz", operator());
    expect(response.status).toBe(200);
    const body = await response.json<HealthBody>();
    expect(body.status).toBe("ok");
    expect(body.version).toBe(VERSION);
    expect(body.providers).toEqual(["coturn"]);
    expect(body.secrets?.TURN_SECRET).toBe(await fingerprint(TEST_SECRETS.TURN_SECRET));
    expect(body.secrets?.AUTH_JWT_SECRET).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(body.secrets?.TURN_REST_API_KEYS).toHaveLength(2);
    expect(body.secrets?.ADMIN_API_TOKEN).toBe(await fingerprint(TEST_SECRETS.ADMIN_API_TOKEN));
  });

  it.each([
    ["a wrong token", bearer("sentinel-admin-token-2d4f6b8a0c1e3a5c7e9X")],
    ["the operator token with something appended", bearer(`${TEST_SECRETS.ADMIN_API_TOKEN}x`)],
    ["a JWT-style bearer of another scheme", { headers: { Authorization: `Basic ${btoa("admin:admin")}` } }],
    ["an empty header", { headers: { Authorization: "" } }],
  ])("answers %s with 401 and no fingerprint", async (_name, init) => {
    const response = await call("/healthz", init);
    expect(response.status).toBe(401);
    const text = await response.text();
    expect(text).not.toContain("sha256:");
    expect(JSON.parse(text)).toEqual({
      error: { code: "unauthorized", message: "A valid operator token is required." },
    });
  });

  it("gives no fingerprints to anybody when ADMIN_API_TOKEN is not set", async () => {
    const response = await call("/healthz", operator(), { ADMIN_API_TOKEN: undefined });
    expect(response.status).toBe(401);
    expect(await (await call("/healthz", {}, { ADMIN_API_TOKEN: undefined })).json()).toEqual({
      status: "ok",
      version: VERSION,
    });
  });

  it("refuses an ADMIN_API_TOKEN shorter than 32 characters: 503 naming it", async () => {
    const response = await call("/healthz", {}, { ADMIN_API_TOKEN: "short-admin-token-0123456789" });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("ADMIN_API_TOKEN");
  });

  it("rate-limits operator attempts per client network, wrong guesses and all", async () => {
    const from = { "CF-Connecting-IP": "2001:db8:4:7::1" };
    const statuses: number[] = [];
    for (let i = 0; i < 130; i++) {
      const headers = { ...from, Authorization: `Bearer wrong-guess-${i}-0123456789abcdef0123456789` };
      statuses.push((await call("/healthz", { headers })).status);
    }
    expect(statuses.slice(0, 100).every((status) => status === 401)).toBe(true);
    expect(statuses).toContain(429);
    // The right token from the same /64 is stopped too, until the window passes.
    const right = {
      headers: { "CF-Connecting-IP": "2001:db8:4:7:ffff::2", Authorization: `Bearer ${TEST_SECRETS.ADMIN_API_TOKEN}` },
    };
    expect((await call("/healthz", right)).status).toBe(429);
  });

  it("never returns a secret", async () => {
    for (const init of [{}, operator()]) {
      const text = await (await call("/healthz", init)).text();
      for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
    }
  });

  it("shows a new fingerprint as soon as TURN_SECRET changes", async () => {
    const next = "sentinel-next-turn-secret-1a2b3c4d";
    const body = await (await call("/healthz", operator(), { TURN_SECRET: next })).json<HealthBody>();
    expect(body.secrets?.TURN_SECRET).toBe(await fingerprint(next));
    expect(body.secrets?.TURN_SECRET).not.toBe(await fingerprint(TEST_SECRETS.TURN_SECRET));
  });

  it("answers 503 not_configured when the configuration is invalid", async () => {
    const response = await call("/healthz", {}, { TURN_SECRET: undefined });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });
});
