import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { clearJwksCache } from "../../../src/auth/jwks";
import { authenticate, knownPrincipal } from "../../../src/auth/token";
import { loadConfig } from "../../../src/config";
import { bearer, call, type EnvChanges, signToken, testEnv } from "../../support/worker-fetch";
import { TEST_SECRETS } from "../../support/test-env";

const PREVIOUS_SECRET = "sentinel-previous-jwt-secret-abcdefghijklmnopqrstuv";
const JWKS_URL = "https://issuer.example.test/.well-known/jwks.json";

const get = (token: string, env = {}) => call("/api/turn/credentials", bearer(token), env);
const base64url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

async function expectInvalidToken(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("WWW-Authenticate")).toContain("Bearer");
  expect(await response.json()).toEqual({
    error: { code: "invalid_token", message: "The access token is invalid or expired." },
  });
}

describe("HS256 bearer tokens", () => {
  it("accepts a valid token", async () => {
    expect((await get(await signToken())).status).toBe(200);
  });

  it("answers 401 unauthorized, with WWW-Authenticate, when there is no token", async () => {
    const response = await call("/api/turn/credentials");
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="icegate"');
    expect(await response.json()).toEqual({ error: { code: "unauthorized", message: "A bearer token is required." } });
  });

  it("rejects an expired token", async () => {
    await expectInvalidToken(await get(await signToken({ expiresIn: Math.floor(Date.now() / 1000) - 120 })));
  });

  it("tolerates 30 seconds of clock skew on exp", async () => {
    expect((await get(await signToken({ expiresIn: Math.floor(Date.now() / 1000) - 10 }))).status).toBe(200);
  });

  it("rejects a token without exp", async () => {
    const token = await new SignJWT({ sub: "user-42" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(TEST_SECRETS.AUTH_JWT_SECRET));
    await expectInvalidToken(await get(token));
  });

  it("rejects a token without sub", async () => {
    await expectInvalidToken(await get(await signToken({ sub: undefined })));
  });

  it("rejects a token signed with another secret", async () => {
    await expectInvalidToken(await get(await signToken({ secret: "not-the-configured-secret-0123456789abcdef" })));
  });

  it("rejects a token whose payload was changed after signing", async () => {
    const [header, , signature] = (await signToken()).split(".");
    const forged = base64url(JSON.stringify({ sub: "admin", exp: Math.floor(Date.now() / 1000) + 600 }));
    await expectInvalidToken(await get(`${header}.${forged}.${signature}`));
  });

  it("rejects alg: none", async () => {
    const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url(JSON.stringify({ sub: "user-42", exp: Math.floor(Date.now() / 1000) + 600 }));
    await expectInvalidToken(await get(`${header}.${payload}.`));
    await expectInvalidToken(await get(`${header}.${payload}.c2ln`));
  });

  it("rejects HS384 and HS512 even with the right secret: the algorithm is pinned", async () => {
    for (const alg of ["HS384", "HS512"]) await expectInvalidToken(await get(await signToken({ alg })));
  });

  it("rejects a malformed Authorization header", async () => {
    for (const header of [
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer not-a-jwt",
      "Bearer a.b",
      `Bearer ${"a".repeat(9000)}.b.c`,
    ]) {
      await expectInvalidToken(await call("/api/turn/credentials", { headers: { Authorization: header } }));
    }
  });

  it("checks iss and aud when they are configured", async () => {
    const env = { AUTH_ISSUER: "https://auth.example.test", AUTH_AUDIENCE: "icegate,other" };
    expect((await get(await signToken({ issuer: "https://auth.example.test", audience: "icegate" }), env)).status).toBe(
      200,
    );
    await expectInvalidToken(
      await get(await signToken({ issuer: "https://evil.example.test", audience: "icegate" }), env),
    );
    await expectInvalidToken(
      await get(await signToken({ issuer: "https://auth.example.test", audience: "another" }), env),
    );
    await expectInvalidToken(await get(await signToken(), env));
  });

  it("also accepts AUTH_JWT_SECRET_PREVIOUS while the signing key rotates", async () => {
    const env = { AUTH_JWT_SECRET_PREVIOUS: PREVIOUS_SECRET };
    expect((await get(await signToken({ secret: PREVIOUS_SECRET }), env)).status).toBe(200);
    expect((await get(await signToken(), env)).status).toBe(200);
    await expectInvalidToken(await get(await signToken({ secret: PREVIOUS_SECRET })));
  });

  it("does not fall back to the previous secret for a token that is expired under the current one", async () => {
    const env = { AUTH_JWT_SECRET_PREVIOUS: PREVIOUS_SECRET };
    await expectInvalidToken(await get(await signToken({ expiresIn: Math.floor(Date.now() / 1000) - 120 }), env));
  });
});

describe("tokens verified once per isolate", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
  const authOf = (changes: EnvChanges = {}) => loadConfig(testEnv(changes)).auth;
  const invalid = { code: "invalid_token" };

  it("checks a token's signature once: the same token again is a lookup", async () => {
    const auth = authOf();
    const token = await signToken({ sub: "repeat-user" });
    const verify = vi.spyOn(crypto.subtle, "verify");
    const sign = vi.spyOn(crypto.subtle, "sign");
    for (let i = 0; i < 5; i++) {
      expect(await authenticate(`Bearer ${token}`, auth)).toEqual({ sub: "repeat-user", anonymous: false });
    }
    expect(verify.mock.calls.length + sign.mock.calls.length).toBe(1);
  });

  it("never honours a remembered token once it has expired", async () => {
    const auth = authOf();
    const exp = Math.floor(Date.now() / 1000) + 5;
    const token = await signToken({ expiresIn: exp });
    expect((await authenticate(`Bearer ${token}`, auth)).sub).toBe("user-42");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime((exp + 31) * 1000);
    await expect(authenticate(`Bearer ${token}`, auth)).rejects.toMatchObject(invalid);
  });

  it("keys on the whole token: a known payload with another signature is checked, and refused", async () => {
    const auth = authOf();
    const token = await signToken();
    await authenticate(`Bearer ${token}`, auth);
    const [header, payload] = token.split(".");
    const forged = `${header}.${payload}.${base64url("not-the-signature-of-this-token!")}`;
    await expect(authenticate(`Bearer ${forged}`, auth)).rejects.toMatchObject(invalid);
  });

  it("knows a verified token without an await (knownPrincipal), and nothing it has not verified", async () => {
    const auth = authOf();
    const token = await signToken({ sub: "known-user" });
    expect(knownPrincipal(`Bearer ${token}`, auth), "not verified yet").toBeUndefined();
    await authenticate(`Bearer ${token}`, auth);
    expect(knownPrincipal(`Bearer ${token}`, auth)).toEqual({ sub: "known-user", anonymous: false });
    expect(knownPrincipal(`bearer ${token}`, auth), "the scheme is case-insensitive").toEqual({
      sub: "known-user",
      anonymous: false,
    });
    const [header, payload] = token.split(".");
    expect(knownPrincipal(`Bearer ${header}.${payload}.${base64url("another signature")}`, auth)).toBeUndefined();
    expect(knownPrincipal(`Basic ${token}`, auth), "another scheme").toBeUndefined();
    expect(knownPrincipal(`Bearer ${token} `, auth), "trailing text").toBeUndefined();
    expect(knownPrincipal(`Bearer ${token}`, authOf({ AUTH_JWT_SECRET: PREVIOUS_SECRET })), "other settings").toBe(
      undefined,
    );
  });

  it("knows the anonymous caller only where anonymous access is allowed", () => {
    expect(knownPrincipal(undefined, authOf({ ALLOW_ANONYMOUS: "true" }))).toEqual({
      sub: "anonymous",
      anonymous: true,
    });
    expect(knownPrincipal("", authOf({ ALLOW_ANONYMOUS: "true" }))).toEqual({ sub: "anonymous", anonymous: true });
    expect(knownPrincipal(undefined, authOf({ ALLOW_ANONYMOUS: "false" }))).toBeUndefined();
  });

  it("never honours a remembered token without an await once it has expired", async () => {
    const auth = authOf();
    const exp = Math.floor(Date.now() / 1000) + 5;
    const token = await signToken({ expiresIn: exp });
    await authenticate(`Bearer ${token}`, auth);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime((exp + 31) * 1000);
    expect(knownPrincipal(`Bearer ${token}`, auth)).toBeUndefined();
  });

  it("carries nothing over to other auth settings: a token of a rotated-out secret is refused", async () => {
    const token = await signToken({ secret: PREVIOUS_SECRET });
    expect((await authenticate(`Bearer ${token}`, authOf({ AUTH_JWT_SECRET_PREVIOUS: PREVIOUS_SECRET }))).sub).toBe(
      "user-42",
    );
    await expect(authenticate(`Bearer ${token}`, authOf())).rejects.toMatchObject(invalid);
  });
});

describe("JWKS bearer tokens (RS256, ES256, EdDSA)", () => {
  let jwks: { keys: JWK[] };
  let keys: Record<string, CryptoKey>;
  let jwksFetches = 0;

  beforeEach(async () => {
    clearJwksCache();
    jwksFetches = 0;
    keys = {};
    jwks = { keys: [] };
    for (const [alg, kid] of [
      ["ES256", "es-1"],
      ["RS256", "rs-1"],
      ["EdDSA", "ed-1"],
    ] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      keys[kid] = pair.privateKey;
      jwks.keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg });
    }
    // The issuer's JWKS endpoint is a third-party server: fake it, in the shape RFC 7517 defines.
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== JWKS_URL) throw new Error(`unexpected fetch ${url}`);
      jwksFetches++;
      return Response.json(jwks);
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const ISSUER = "https://issuer.example.test/";
  const AUDIENCE = "icegate-app";
  const env = { AUTH_JWKS_URL: JWKS_URL, AUTH_JWT_SECRET: undefined, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
  const sign = (alg: string, kid: string, key = keys[kid]!, claims: { iss?: string; aud?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid })
      .setSubject("jwks-user")
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
  /** A request from one client address, so that each test spends its own failed-auth budget. */
  const from = (ip: string, token: string) =>
    call("/api/turn/credentials", { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip } }, env);

  it.each([
    ["ES256", "es-1"],
    ["RS256", "rs-1"],
    ["EdDSA", "ed-1"],
  ])("accepts a %s token signed by a key in the set", async (alg, kid) => {
    expect((await get(await sign(alg, kid), env)).status).toBe(200);
  });

  it("fetches the key set once and reuses it", async () => {
    for (let i = 0; i < 5; i++) expect((await get(await sign("ES256", "es-1"), env)).status).toBe(200);
    expect(jwksFetches).toBe(1);
  });

  it("rejects an HS256 token when only a JWKS is configured (no algorithm confusion)", async () => {
    await expectInvalidToken(await get(await signToken(), env));
  });

  it("rejects a token from a key that is not in the set", async () => {
    const stranger = await generateKeyPair("ES256");
    await expectInvalidToken(await get(await sign("ES256", "unknown", stranger.privateKey), env));
  });

  it("answers 503 upstream_unavailable when the key set cannot be fetched", async () => {
    vi.mocked(globalThis.fetch).mockResolvedValue(new Response("nope", { status: 500 }));
    const response = await get(await sign("ES256", "es-1"), env);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
  });

  it.each(["AUTH_ISSUER", "AUTH_AUDIENCE"])(
    "answers 503 not_configured naming %s when AUTH_JWKS_URL is set without it (shared key sets)",
    async (variable) => {
      const response = await get(await sign("ES256", "es-1"), { ...env, [variable]: undefined });
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("not_configured");
      expect(body.error.message).toContain(variable);
      expect(jwksFetches).toBe(0);
    },
  );

  it("refuses a token signed by a key in the set but issued by another issuer or for another app", async () => {
    await expectInvalidToken(await get(await sign("ES256", "es-1", keys["es-1"], { iss: "https://other.test/" }), env));
    await expectInvalidToken(await get(await sign("RS256", "rs-1", keys["rs-1"], { aud: "another-app" }), env));
  });

  it("does not refetch a key set that just failed: 20 tokens, one fetch, then one more after 10 s", async () => {
    vi.mocked(globalThis.fetch).mockImplementation(async () => {
      jwksFetches++;
      return new Response("down", { status: 502 });
    });
    const token = await sign("ES256", "es-1");
    for (let i = 0; i < 20; i++) expect((await from(`198.51.100.${i + 1}`, token)).status).toBe(503);
    expect(jwksFetches).toBe(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10_500);
    expect((await from("198.51.100.99", await sign("ES256", "es-1"))).status).toBe(503);
    expect(jwksFetches).toBe(2);
    vi.useRealTimers();
  });

  it("spends the client's failed-auth budget before any fetch a token causes: a limited client causes none", async () => {
    const ip = "203.0.113.77";
    // Use up this address's budget with tokens that fail without a fetch (HS256 is not accepted here).
    const statuses: number[] = [];
    for (let i = 0; i < 130 && !statuses.includes(429); i++) statuses.push((await from(ip, await signToken())).status);
    expect(statuses).toContain(429);
    expect(jwksFetches).toBe(0);
    // A token that would make the Worker fetch the key set (no set cached yet) is stopped before the fetch.
    const response = await from(ip, await sign("ES256", "es-1"));
    expect(response.status).toBe(429);
    expect(jwksFetches).toBe(0);
    // Another client is unaffected, and its token does cause the one fetch.
    expect((await from("203.0.113.78", await sign("ES256", "es-1"))).status).toBe(200);
    expect(jwksFetches).toBe(1);
  });

  it("reads a key set reply of any size only up to 64 KiB, and a failed status not at all", async () => {
    let pulled = 0;
    const huge = (status: number, headers: HeadersInit = {}) =>
      new Response(
        new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              pulled += 16 * 1024;
              controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
              if (pulled >= 64 * 1024 * 1024) controller.close();
            },
          },
          { highWaterMark: 0 },
        ),
        { status, headers },
      );
    vi.mocked(globalThis.fetch).mockImplementation(async () => {
      jwksFetches++;
      return huge(200);
    });
    expect((await from("192.0.2.10", await sign("ES256", "es-1"))).status).toBe(503);
    expect(pulled).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);

    clearJwksCache();
    pulled = 0;
    vi.mocked(globalThis.fetch).mockImplementation(async () => huge(500));
    expect((await from("192.0.2.11", await sign("ES256", "es-1"))).status).toBe(503);
    expect(pulled).toBeLessThanOrEqual(16 * 1024);

    clearJwksCache();
    pulled = 0;
    vi.mocked(globalThis.fetch).mockImplementation(async () =>
      huge(200, { "Content-Length": String(200 * 1024 * 1024) }),
    );
    expect((await from("192.0.2.12", await sign("ES256", "es-1"))).status).toBe(503);
    expect(pulled).toBeLessThanOrEqual(16 * 1024);
  });
});

describe("token times (AUTH_MAX_TOKEN_AGE_SECONDS, default one day from iat)", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const tokenWith = (claims: Record<string, unknown>) =>
    new SignJWT({ sub: "time-user", ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(TEST_SECRETS.AUTH_JWT_SECRET));

  it("refuses an iat in the future beyond the 30 s clock skew, and tolerates one within it", async () => {
    await expectInvalidToken(await get(await tokenWith({ iat: now() + 120, exp: now() + 600 })));
    expect((await get(await tokenWith({ iat: now() + 10, exp: now() + 600 }))).status).toBe(200);
  });

  it("refuses a token issued more than a day ago, however far away its exp is", async () => {
    await expectInvalidToken(await get(await tokenWith({ iat: now() - 86400 - 120, exp: now() + 3600 })));
    expect((await get(await tokenWith({ iat: now() - 86400 + 120, exp: now() + 3600 }))).status).toBe(200);
  });

  it("measures the age from iat with AUTH_MAX_TOKEN_AGE_SECONDS", async () => {
    const env = { AUTH_MAX_TOKEN_AGE_SECONDS: "600" };
    await expectInvalidToken(await get(await tokenWith({ iat: now() - 1200, exp: now() + 600 }), env));
    expect((await get(await tokenWith({ iat: now() - 300, exp: now() + 600 }), env)).status).toBe(200);
  });

  it("bounds a token without iat by its exp: no more than the maximum age from now", async () => {
    await expectInvalidToken(await get(await tokenWith({ exp: now() + 2 * 86400 })));
    expect((await get(await tokenWith({ exp: now() + 3600 }))).status).toBe(200);
  });

  it("answers 503 naming AUTH_MAX_TOKEN_AGE_SECONDS when it is not a number of seconds", async () => {
    const response = await get(await signToken(), { AUTH_MAX_TOKEN_AGE_SECONDS: "1d" });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      "AUTH_MAX_TOKEN_AGE_SECONDS",
    );
  });

  it("stops honouring a remembered token once it is older than the maximum age", async () => {
    const auth = loadConfig(testEnv({ AUTH_MAX_TOKEN_AGE_SECONDS: "60" })).auth;
    const token = await tokenWith({ iat: now(), exp: now() + 3600 });
    expect((await authenticate(`Bearer ${token}`, auth)).sub).toBe("time-user");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 95_000);
      await expect(authenticate(`Bearer ${token}`, auth)).rejects.toMatchObject({ code: "invalid_token" });
    } finally {
      vi.useRealTimers();
    }
  });
});
