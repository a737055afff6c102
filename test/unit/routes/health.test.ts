import { describe, expect, it } from "vitest";
import { fingerprint } from "../../../src/crypto";
import { VERSION } from "../../../src/version";
import { call } from "../../support/worker-fetch";
import { TEST_SECRETS } from "../../support/test-env";

interface HealthBody {
  status: string;
  version: string;
  providers: string[];
  secrets: Record<string, string | string[]>;
}

describe("GET /healthz", () => {
  it("reports status, version, providers and a fingerprint of each secret in use", async () => {
    const response = await call("/healthz");
    expect(response.status).toBe(200);
    const body = await response.json<HealthBody>();
    expect(body.status).toBe("ok");
    expect(body.version).toBe(VERSION);
    expect(body.providers).toEqual(["coturn"]);
    expect(body.secrets.TURN_SECRET).toBe(await fingerprint(TEST_SECRETS.TURN_SECRET));
    expect(body.secrets.AUTH_JWT_SECRET).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(body.secrets.TURN_REST_API_KEYS).toHaveLength(2);
  });

  it("never returns a secret", async () => {
    const text = await (await call("/healthz")).text();
    for (const secret of [...Object.values(TEST_SECRETS), ...TEST_SECRETS.TURN_REST_API_KEYS.split(",")]) {
      expect(text).not.toContain(secret);
    }
  });

  it("shows a new fingerprint as soon as TURN_SECRET changes", async () => {
    const next = "sentinel-next-turn-secret-1a2b3c4d";
    const body = await (await call("/healthz", {}, { TURN_SECRET: next })).json<HealthBody>();
    expect(body.secrets.TURN_SECRET).toBe(await fingerprint(next));
    expect(body.secrets.TURN_SECRET).not.toBe(await fingerprint(TEST_SECRETS.TURN_SECRET));
  });

  it("answers 503 not_configured when the configuration is invalid", async () => {
    const response = await call("/healthz", {}, { TURN_SECRET: undefined });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_configured");
  });
});
