import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bearer, call, operator, signToken } from "../support/worker-fetch";
import { TEST_SECRETS } from "../support/test-env";

describe("request log", () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with route, status, duration, user hash and provider", async () => {
    await call("/api/turn/credentials", bearer(await signToken()));
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ route: "/api/turn/credentials", status: 200, provider: "coturn" });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.user).toMatch(/^[0-9a-f]{16}$/);
  });

  it("records why a request failed", async () => {
    await call(
      "/api/turn/credentials",
      bearer(await signToken({ secret: "wrong-secret-wrong-secret-wrong-secret!!" })),
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: 401, reason: "token:ERR_JWS_SIGNATURE_VERIFICATION_FAILED" });
  });

  it("never holds a secret, a token, an Authorization header, a credential or a raw user id", async () => {
    const sub = "alice@example.test";
    const token = await signToken({ sub });
    const issued: string[] = [];
    const requests: [string, RequestInit, Record<string, string | undefined>?][] = [
      ["/api/turn/credentials", bearer(token)],
      ["/api/turn/credentials", bearer(token), { TURN_USER_ID: "hash" }],
      ["/api/turn/credentials?ttl=5", bearer(token)],
      ["/api/turn/credentials", bearer(`${token}x`)],
      ["/api/turn/credentials", { headers: { Authorization: `Basic ${btoa("user:password")}` } }],
      ["/api/turn/rest?service=turn&key=" + TEST_SECRETS.TURN_REST_API_KEYS.split(",")[0], {}],
      ["/api/turn/rest?service=turn&key=" + TEST_SECRETS.TURN_SECRET, {}],
      ["/healthz", {}],
      ["/healthz", operator()],
      ["/healthz", bearer(`${TEST_SECRETS.ADMIN_API_TOKEN}x`)],
      ["/api/turn/credentials", bearer(token), { TURN_SECRET: "x" }],
    ];
    for (const [path, init, env] of requests) {
      const response = await call(path, init, env);
      const text = await response.text();
      if (response.ok && text.includes("credential")) {
        for (const server of (JSON.parse(text) as { iceServers: { credential?: string }[] }).iceServers) {
          if (server.credential) issued.push(server.credential);
        }
      }
      if (response.ok && text.includes("password")) issued.push((JSON.parse(text) as { password: string }).password);
    }
    expect(lines).toHaveLength(requests.length);
    expect(issued.length).toBeGreaterThanOrEqual(3);
    const forbidden = [
      ...Object.values(TEST_SECRETS),
      ...TEST_SECRETS.TURN_REST_API_KEYS.split(","),
      token,
      token.split(".")[2]!,
      "Bearer",
      "Basic",
      sub,
      ...issued,
    ];
    for (const line of lines) {
      expect(() => JSON.parse(line)).not.toThrow();
      for (const value of forbidden) expect(line).not.toContain(value);
    }
  });
});
