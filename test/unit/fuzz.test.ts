/**
 * Property-based fuzzing of the whole HTTP surface with fast-check, inside workerd. Whatever arrives
 * (random paths, methods, headers, tokens truncated, re-signed, of the wrong algorithm or with huge claims,
 * queries and bodies) the worker answers without a 5xx, every error is `{"error":{"code","message"}}`, and
 * no sentinel secret, issued credential or token appears in any body or log line.
 */
import fc from "fast-check";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { call, signToken } from "../support/worker-fetch";
import { TEST_SECRETS } from "../support/test-env";

const RUNS = 2500;
const SECRETS = [...Object.values(TEST_SECRETS), ...TEST_SECRETS.TURN_REST_API_KEYS.split(",")];
const KNOWN_PATHS = ["/api/turn/credentials", "/api/turn/rest", "/healthz", "/openapi.json", "/check", "/"];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

let logs: string[] = [];
let validToken = "";
const issued = new Set<string>();
const stats = { cases: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  validToken = await signToken({ sub: "fuzz-user" });
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(" ")));
  }
});
afterAll(() => {
  vi.restoreAllMocks();
  console.info(`fuzz: ${stats.cases} cases`, Object.fromEntries(stats.byStatus));
});

const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/);
const path = fc.oneof(
  fc.constantFrom(...KNOWN_PATHS),
  fc.array(segment, { maxLength: 5 }).map((parts) => `/${parts.join("/")}`),
  fc.constantFrom(...KNOWN_PATHS).chain((base) => segment.map((extra) => `${base}/${extra}`)),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer().map(String),
  fc.constantFrom("turn", "stun", "60", "3600", "999999999", "-1", "", "%00", ...SECRETS),
);
const query = fc
  .array(fc.tuple(fc.constantFrom("ttl", "service", "username", "key", "api", "x", "ttl[]", "__proto__"), queryValue), {
    maxLength: 4,
  })
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs).toString()}` : ""));

const base64url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
const token = fc.oneof(
  fc.constant("VALID"),
  fc.nat({ max: 200 }).map((cut) => `TRUNCATED:${cut}`),
  fc.constantFrom("HS384", "HS512", "none", "RS256", "ES256").map((alg) => `ALG:${alg}`),
  fc.record({ sub: fc.string({ maxLength: 64 }), size: fc.nat({ max: 20000 }) }).map((claims) => claims),
  fc.string({ maxLength: 300 }),
  fc.string({ maxLength: 100 }).map((s) => `${base64url('{"alg":"HS256"}')}.${base64url(s)}.${base64url(s)}`),
);

async function authorization(spec: unknown): Promise<string | undefined> {
  if (spec === "VALID") return `Bearer ${validToken}`;
  if (typeof spec === "string" && spec.startsWith("TRUNCATED:"))
    return `Bearer ${validToken.slice(0, Number(spec.slice(10)))}`;
  if (typeof spec === "string" && spec.startsWith("ALG:")) {
    const alg = spec.slice(4);
    const header = base64url(JSON.stringify({ alg, typ: "JWT" }));
    const payload = base64url(JSON.stringify({ sub: "x", exp: Math.floor(Date.now() / 1000) + 600 }));
    return `Bearer ${header}.${payload}.${alg === "none" ? "" : base64url("signature")}`;
  }
  if (typeof spec === "object" && spec !== null) {
    const { sub, size } = spec as { sub: string; size: number };
    // Re-signed with the real secret, with a random subject and a huge claim.
    const jwt = await new SignJWT({ pad: "x".repeat(size) })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(TEST_SECRETS.AUTH_JWT_SECRET));
    return `Bearer ${jwt}`;
  }
  return typeof spec === "string" && spec.length > 0 ? spec : undefined;
}

const headerName = fc.constantFrom("Origin", "Content-Type", "X-Forwarded-For", "Cookie", "Accept", "X-Random");
const headerValue = fc.oneof(
  fc.constantFrom("https://app.example.test", "https://evil.example.test", "null", "application/x-www-form-urlencoded"),
  fc.stringMatching(/^[\x20-\x7e]{0,60}$/),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(`service=turn&api=${SECRETS[3]}`, "service=turn&key=nope", "a".repeat(6000)),
);

function checkReply(status: number, text: string, contentType: string | null, method = "GET") {
  stats.cases++;
  stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
  expect(status, text).toBeLessThan(500);
  if (method === "HEAD") expect(text).toBe("");
  else if (status >= 400) {
    expect(contentType).toMatch(/^application\/json/);
    const parsed = JSON.parse(text) as { error: { code: unknown; message: unknown } };
    expect(Object.keys(parsed)).toEqual(["error"]);
    expect(Object.keys(parsed.error).sort()).toEqual(["code", "message"]);
    expect(typeof parsed.error.code).toBe("string");
    expect(typeof parsed.error.message).toBe("string");
  }
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  collectCredentials(text);
}

function collectCredentials(text: string) {
  const matches = text.matchAll(/"(?:credential|password)":"([^"]+)"/g);
  for (const [, value] of matches) if (value) issued.add(value);
}

describe("fuzzing the HTTP surface", () => {
  it(`answers ${RUNS} random requests without a 5xx, always with the documented error shape`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        path,
        query,
        fc.option(token, { nil: undefined }),
        fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }),
        body,
        async (method, p, q, tokenSpec, headers, payload) => {
          const init: RequestInit = { method, headers: new Headers() };
          const auth = await authorization(tokenSpec);
          const requestHeaders = init.headers as Headers;
          if (auth !== undefined) requestHeaders.set("Authorization", auth);
          for (const [name, value] of headers) requestHeaders.set(name, value);
          if (payload !== undefined && method !== "GET" && method !== "HEAD") init.body = payload;
          const response = await call(`${p}${q}`, init);
          checkReply(response.status, await response.text(), response.headers.get("Content-Type"), method);
        },
      ),
      { numRuns: RUNS },
    );
  }, 300_000);

  it(`keeps secrets, tokens and issued credentials out of every log line`, async () => {
    logs = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KNOWN_PATHS), query, token, async (p, q, tokenSpec) => {
        const auth = await authorization(tokenSpec);
        const response = await call(`${p}${q}`, auth ? { headers: { Authorization: auth } } : {});
        checkReply(response.status, await response.text(), response.headers.get("Content-Type"));
      }),
      { numRuns: RUNS },
    );
    expect(logs.length).toBeGreaterThanOrEqual(RUNS);
    expect(issued.size).toBeGreaterThan(0);
    const forbidden = [...SECRETS, ...issued, validToken, validToken.split(".")[2]!];
    for (const line of logs) for (const value of forbidden) expect(line).not.toContain(value);
  }, 300_000);
});
