/**
 * Issue 18 under `wrangler dev` (real workerd, local KV): the operator revokes one user; that user's next
 * request gets 403 `revoked`, another user's does not, and the deny entry is listed. Without the operator
 * token the route answers 401.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const JWT_SECRET = "integration-revoke-jwt-secret-0123456789abcdef";
const ADMIN_API_TOKEN = "integration-revoke-admin-token-9a8b7c6d5e4f";

const token = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));

describe("revoking a user under wrangler dev", () => {
  let worker: WranglerDev;

  beforeAll(async () => {
    worker = await startWranglerDev({
      TURN_SECRET: "integration-revoke-turn-secret-1a2b3c",
      AUTH_JWT_SECRET: JWT_SECRET,
      ADMIN_API_TOKEN,
      RATE_LIMIT_ENABLED: "false",
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
  });

  const credentials = async (sub: string) =>
    fetch(`${worker.url}/api/turn/credentials`, { headers: { Authorization: `Bearer ${await token(sub)}` } });
  const revoke = (authorization: string | undefined) =>
    fetch(`${worker.url}/api/admin/revoke`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(authorization ? { Authorization: authorization } : {}),
      },
      body: JSON.stringify({ user: "mallory", reason: "integration" }),
    });

  it("refuses the revoked user at once, serves the others, and lists the entry", async () => {
    expect((await credentials("mallory")).status).toBe(200);
    expect((await revoke(undefined)).status).toBe(401);
    expect((await revoke("Bearer not-the-operator-token-0123456789abcdef")).status).toBe(401);
    expect((await credentials("mallory")).status).toBe(200);

    const response = await revoke(`Bearer ${ADMIN_API_TOKEN}`);
    expect(response.status, worker.output().slice(-2000)).toBe(200);
    const { user } = (await response.json()) as { user: string };

    const refused = await credentials("mallory");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("revoked");
    expect((await credentials("alice")).status).toBe(200);

    const list = await fetch(`${worker.url}/api/admin/revocations`, {
      headers: { Authorization: `Bearer ${ADMIN_API_TOKEN}` },
    });
    expect(list.status).toBe(200);
    const { revocations } = (await list.json()) as { revocations: { user: string; reason?: string }[] };
    expect(revocations).toEqual([expect.objectContaining({ user, reason: "integration" })]);
  });
});
