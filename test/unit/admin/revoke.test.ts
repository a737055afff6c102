/**
 * POST /api/admin/revoke and GET /api/admin/revocations (issue 18), through the worker's fetch handler in
 * workerd with real (miniflare) KV: the operator token guards them (404 without the secret, 401 wrong or
 * missing), a revoked user gets 403 `revoked` and others do not, the entry expires, isolates re-read the deny
 * list within 30 s, and the log line is an audit record without any secret.
 */
import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearDenyCache, DENY_KEY } from "../../../src/admin/deny-list";
import { fingerprint } from "../../../src/crypto";
import { hashedUserId } from "../../../src/credentials/user-id";
import { TEST_SECRETS } from "../../support/test-env";
import { bearer, call, type EnvChanges, operator, signToken } from "../../support/worker-fetch";

const json = (body: unknown, init: RequestInit = operator()): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { ...(init.headers as Record<string, string>), "Content-Type": "application/json" },
});
const revoke = (body: unknown, init?: RequestInit, changes?: EnvChanges) =>
  call("/api/admin/revoke", json(body, init), changes);
const credentialsFor = async (sub: string) => call("/api/turn/credentials", bearer(await signToken({ sub })));

describe("revoking a user", () => {
  const lines: string[] = [];
  beforeEach(async () => {
    await reset();
    clearDenyCache();
    lines.length = 0;
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("refuses the revoked user with 403 revoked, and nobody else", async () => {
    expect((await credentialsFor("abuser-1")).status).toBe(200);
    const response = await revoke({ user: "abuser-1", reason: "abuse report 42" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as { user: string; backends: Record<string, { action: string }> };
    expect(body.user).toBe(await hashedUserId("abuser-1", TEST_SECRETS.TURN_SECRET));
    expect(body.backends.icegate!.action).toBe("denied");
    expect(body.backends.coturn!.action).toBe("none");

    const refused = await credentialsFor("abuser-1");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: { code: "revoked", message: "Credentials for this user have been revoked." },
    });
    expect((await credentialsFor("bystander-1")).status).toBe(200);
  });

  it("finds the user behind an issued TURN username, in both TURN_USER_ID modes", async () => {
    for (const mode of ["sub", "hash"]) {
      clearDenyCache();
      const sub = `leaky user ${mode}`;
      const issued = await call("/api/turn/credentials", bearer(await signToken({ sub })), { TURN_USER_ID: mode });
      const username = ((await issued.json()) as { iceServers: { username?: string }[] }).iceServers[1]!.username!;
      expect((await revoke({ username }, operator(), { TURN_USER_ID: mode })).status).toBe(200);
      const again = await call("/api/turn/credentials", bearer(await signToken({ sub })), { TURN_USER_ID: mode });
      expect(again.status).toBe(403);
    }
  });

  it("lists the active deny entries: user hash, since, until, reason", async () => {
    await revoke({ user: "listed-user", reason: "leaked into a public page" });
    const response = await call("/api/admin/revocations", operator());
    expect(response.status).toBe(200);
    const { revocations } = (await response.json()) as {
      revocations: { user: string; since: string; until: string; reason?: string }[];
    };
    expect(revocations).toHaveLength(1);
    expect(revocations[0]).toMatchObject({
      user: await hashedUserId("listed-user", TEST_SECRETS.TURN_SECRET),
      reason: "leaked into a public page",
    });
    const lifetime = Date.parse(revocations[0]!.until) - Date.parse(revocations[0]!.since);
    // The longest credential lifetime (TURN_TTL_SECONDS = 3600 in the tests) and a margin.
    expect(lifetime).toBeGreaterThanOrEqual(3600_000);
  });

  it("lets the entry expire after the longest credential lifetime", async () => {
    await revoke({ user: "temporary-user" });
    expect((await credentialsFor("temporary-user")).status).toBe(403);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + (3600 + 600 + 31) * 1000);
    // Tokens signed in the future of the fake clock are still fresh.
    expect((await credentialsFor("temporary-user")).status).toBe(200);
    expect(
      ((await (await call("/api/admin/revocations", operator())).json()) as { revocations: [] }).revocations,
    ).toEqual([]);
  });

  it("is honoured by an isolate that did not write it within 30 s (its deny-list cache)", async () => {
    expect((await credentialsFor("elsewhere-user")).status).toBe(200);
    // Another isolate's revocation, as it reaches this location: written straight to KV.
    const hash = await hashedUserId("elsewhere-user", TEST_SECRETS.TURN_SECRET);
    const since = Math.floor(Date.now() / 1000);
    const entries = [{ user: hash, since, until: since + 4200 }];
    await env.TURN_CACHE.put(DENY_KEY, JSON.stringify({ entries }), { expirationTtl: 4200 });
    // Within 30 s this isolate still answers from the list it read before.
    expect((await credentialsFor("elsewhere-user")).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    expect((await credentialsFor("elsewhere-user")).status).toBe(403);
  });

  it("answers 404 when ADMIN_API_TOKEN is not set, whatever the token", async () => {
    for (const init of [operator(), {}]) {
      expect((await revoke({ user: "x" }, init, { ADMIN_API_TOKEN: undefined })).status).toBe(404);
      expect((await call("/api/admin/revocations", init, { ADMIN_API_TOKEN: undefined })).status).toBe(404);
    }
  });

  it("answers 401 to a missing or wrong operator token, and a user token is no operator token", async () => {
    const wrong = [{}, bearer(`${TEST_SECRETS.ADMIN_API_TOKEN}x`), bearer(await signToken({ sub: "admin" }))];
    for (const init of wrong) {
      expect((await revoke({ user: "victim" }, init)).status).toBe(401);
      expect((await call("/api/admin/revocations", init)).status).toBe(401);
    }
    expect((await credentialsFor("victim")).status).toBe(200);
  });

  it("refuses a body that names nobody, both, or is not JSON", async () => {
    for (const body of [
      {},
      { user: "a", username: "1:a" },
      { user: "" },
      { user: "a", extra: 1 },
      { username: "nope" },
    ]) {
      expect((await revoke(body)).status).toBe(400);
    }
    const text = await call("/api/admin/revoke", { ...operator(), method: "POST", body: "user=a" });
    expect(text.status).toBe(400);
  });

  it("writes an audit line: the operator token's fingerprint, what, and the result; never a secret", async () => {
    await revoke({ user: "audited-user", reason: "audit" });
    const line = JSON.parse(lines.find((l) => l.includes("/api/admin/revoke"))!) as Record<string, unknown>;
    expect(line).toMatchObject({
      status: 200,
      operator: await fingerprint(TEST_SECRETS.ADMIN_API_TOKEN),
      action: "revoke",
      user: await hashedUserId("audited-user", TEST_SECRETS.TURN_SECRET),
    });
    expect(String(line.result)).toMatch(/^denied_until:\d+$/);
    for (const secret of Object.values(TEST_SECRETS)) expect(lines.join("\n")).not.toContain(secret);
    expect(lines.join("\n")).not.toContain("audited-user");
  });

  it("says that the shared Cloudflare credential (CACHE_SCOPE=global) is not revoked", async () => {
    const response = await revoke({ user: "cf-user" }, operator(), {
      TURN_PROVIDERS: "cloudflare,coturn",
      CLOUDFLARE_TURN_KEY_ID: "key-id-0123456789",
      CLOUDFLARE_TURN_API_TOKEN: "sentinel-cloudflare-token-0123456789",
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { backends: Record<string, { action: string; note: string }> };
    expect(body.backends.cloudflare).toMatchObject({ action: "not_revoked" });
    expect(body.backends.cloudflare!.note).toContain("CACHE_SCOPE=global");
  });
});
