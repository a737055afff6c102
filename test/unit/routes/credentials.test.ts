import { describe, expect, it } from "vitest";
import { referenceCredential } from "../../support/reference-credential";
import { bearer, call, signToken } from "../../support/worker-fetch";
import { TEST_BINDINGS, TEST_SECRETS } from "../../support/test-env";

interface CredentialsBody {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
  expiresAt: number;
  ttl: number;
}

async function credentials(query = "", init?: RequestInit, env = {}) {
  return call(`/api/turn/credentials${query}`, init ?? bearer(await signToken()), env);
}

describe("GET /api/turn/credentials", () => {
  it("returns ICE servers with a coturn REST credential for the token's subject", async () => {
    const before = Math.floor(Date.now() / 1000);
    const response = await credentials();
    expect(response.status).toBe(200);
    const body = await response.json<CredentialsBody>();
    expect(Object.keys(body).sort()).toEqual(["expiresAt", "iceServers", "ttl"]);
    expect(body.ttl).toBe(3600);
    expect(body.iceServers[0]).toEqual({ urls: ["stun:turn.example.test:3478"] });
    const turn = body.iceServers[1]!;
    expect(turn.urls).toEqual(TEST_BINDINGS.TURN_URLS!.split(","));
    const [expiry, user] = turn.username!.split(":");
    expect(user).toBe("user-42");
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(before + 3601);
    expect(body.expiresAt).toBe(Number(expiry) * 1000);
    const expected = await referenceCredential({
      secret: TEST_SECRETS.TURN_SECRET,
      userId: "user-42",
      expiresAt: Number(expiry),
      separator: ":",
    });
    expect(turn.credential).toBe(expected.credential);
  });

  it("forbids every cache from storing the reply", async () => {
    const response = await credentials();
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(response.headers.get("Vary")).toBe("Origin, Authorization");
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  });

  it("sends exactly the security, no-store and content headers, same-origin or cross-origin", async () => {
    const headers = (response: Response) =>
      Object.fromEntries([...response.headers].filter(([name]) => name !== "content-length"));
    const common = {
      "cache-control": "no-store",
      "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
      "content-type": "application/json",
      "referrer-policy": "no-referrer",
      vary: "Origin, Authorization",
      "x-content-type-options": "nosniff",
    };
    const token = await signToken();
    expect(headers(await credentials("", bearer(token)))).toEqual(common);
    const origin = "https://app.example.test";
    const crossOrigin = await credentials("", { headers: { Origin: origin, Authorization: `Bearer ${token}` } });
    expect(crossOrigin.status).toBe(200);
    expect(headers(crossOrigin)).toEqual({
      ...common,
      "access-control-allow-origin": origin,
      "access-control-expose-headers": "Retry-After",
    });
  });

  it("lets ?ttl= shorten the lifetime", async () => {
    const body = await (await credentials("?ttl=120")).json<CredentialsBody>();
    expect(body.ttl).toBe(120);
    expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(121_000);
  });

  it("never lets ?ttl= lengthen the lifetime past the configured maximum", async () => {
    const body = await (await credentials("?ttl=999999")).json<CredentialsBody>();
    expect(body.ttl).toBe(3600);
  });

  it.each([["?ttl=10"], ["?ttl=abc"], ["?ttl=-5"], ["?ttl=1.5"], ["?ttl=60&ttl=120"], ["?unexpected=1"]])(
    "rejects the query %s with 400",
    async (query) => {
      const response = await credentials(query);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { code: "invalid_request", message: expect.any(String) } });
    },
  );

  it("states the valid range of ?ttl= when it is out of range", async () => {
    const response = await credentials("?ttl=30");
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "invalid_request",
        message:
          "Query parameter 'ttl' is invalid: it must be a whole number of seconds, at least 60 (more than 3600 is cut to 3600).",
      },
    });
  });

  it("puts a safe user id in the username: no separator, bounded length", async () => {
    const token = await signToken({ sub: `evil:sub with spaces/${"x".repeat(200)}` });
    const body = await (await credentials("", bearer(token))).json<CredentialsBody>();
    const username = body.iceServers[1]!.username!;
    const user = username.slice(username.indexOf(":") + 1);
    expect(user).not.toContain(":");
    expect(user).toMatch(/^[A-Za-z0-9._@+-]+$/);
    expect(user.length).toBeLessThanOrEqual(64);
    expect(user.startsWith("evil_sub_with_spaces_")).toBe(true);
  });

  it("honours TURN_USERNAME_SEPARATOR", async () => {
    const body = await (await credentials("", undefined, { TURN_USERNAME_SEPARATOR: ";" })).json<CredentialsBody>();
    expect(body.iceServers[1]!.username).toMatch(/^\d+;user-42$/);
  });

  it("replaces the subject by a short keyed hash with TURN_USER_ID=hash", async () => {
    const first = await (await credentials("", undefined, { TURN_USER_ID: "hash" })).json<CredentialsBody>();
    const second = await (await credentials("", undefined, { TURN_USER_ID: "hash" })).json<CredentialsBody>();
    const other = await (
      await credentials("", bearer(await signToken({ sub: "someone-else" })), { TURN_USER_ID: "hash" })
    ).json<CredentialsBody>();
    const userOf = (body: CredentialsBody) => body.iceServers[1]!.username!.split(":")[1];
    expect(userOf(first)).toMatch(/^[0-9a-f]{16}$/);
    expect(userOf(first)).toBe(userOf(second));
    expect(userOf(other)).not.toBe(userOf(first));
    expect(JSON.stringify(first)).not.toContain("user-42");
  });

  it("omits the STUN entry when STUN_URLS is not set", async () => {
    const body = await (await credentials("", undefined, { STUN_URLS: undefined })).json<CredentialsBody>();
    expect(body.iceServers).toHaveLength(1);
    expect(body.iceServers[0]!.username).toBeDefined();
  });

  it("serves anonymous callers only when ALLOW_ANONYMOUS=true", async () => {
    expect((await credentials("", {})).status).toBe(401);
    const response = await credentials("", {}, { ALLOW_ANONYMOUS: "true" });
    expect(response.status).toBe(200);
    const body = await response.json<CredentialsBody>();
    expect(body.iceServers[1]!.username).toMatch(/^\d+:anonymous\+[0-9a-f]{16}$/);
  });

  it("still checks a token that an anonymous-friendly deployment receives", async () => {
    const token = await signToken({ secret: "a-completely-different-secret-of-32-chars!!" });
    expect((await credentials("", bearer(token), { ALLOW_ANONYMOUS: "true" })).status).toBe(401);
  });
});
