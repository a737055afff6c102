import { describe, expect, it } from "vitest";
import { TEST_SECRETS } from "../support/test-env";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { clientNetwork } from "../../src/http/rate-limit";
import { bearer, call, signToken, testEnv } from "../support/worker-fetch";

// wrangler.toml's RATE_LIMITER (emulated by miniflare): 120 requests per 60 s per key.
const LIMIT = 120;

async function hammer(count: number, request: () => Promise<Response>) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await request()).status);
  return statuses;
}

describe("rate limits", () => {
  it("answers one abusive user with 429, Retry-After and the JSON error, and nothing worse", async () => {
    const token = await signToken({ sub: "abusive-user" });
    const statuses = await hammer(LIMIT + 30, () => call("/api/turn/credentials", bearer(token)));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(LIMIT - 5);
    expect(statuses).toContain(429);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const response = await call("/api/turn/credentials", bearer(token));
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("60");
    expect(await response.json()).toEqual({
      error: { code: "rate_limited", message: "Too many requests; try again later." },
    });
  });

  it("does not spend anybody else's budget", async () => {
    const abuser = await signToken({ sub: "abuser-two" });
    await hammer(LIMIT + 10, () => call("/api/turn/credentials", bearer(abuser)));
    const bystander = await signToken({ sub: "bystander" });
    expect((await call("/api/turn/credentials", bearer(bystander))).status).toBe(200);
  });

  it("limits anonymous callers by client IP", async () => {
    const from = (ip: string) => () =>
      call("/api/turn/credentials", { headers: { "CF-Connecting-IP": ip } }, { ALLOW_ANONYMOUS: "true" });
    const statuses = await hammer(LIMIT + 10, from("198.51.100.7"));
    expect(statuses).toContain(429);
    expect((await from("198.51.100.8")()).status).toBe(200);
  });

  it("limits a flood of bad tokens by client IP too", async () => {
    const forged = await signToken({ secret: "not-the-secret-not-the-secret-not-the-secret" });
    const statuses = await hammer(LIMIT + 10, () =>
      call("/api/turn/credentials", {
        headers: { Authorization: `Bearer ${forged}`, "CF-Connecting-IP": "203.0.113.9" },
      }),
    );
    expect(statuses.slice(0, LIMIT - 5).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
  });

  it("limits the REST route per API key", async () => {
    const key = TEST_SECRETS.TURN_REST_API_KEYS.split(",")[1]!;
    const statuses = await hammer(LIMIT + 10, () => call(`/api/turn/rest?service=turn&key=${key}`));
    expect(statuses).toContain(429);
  });

  it("can be turned off per environment with RATE_LIMIT_ENABLED=false", async () => {
    const token = await signToken({ sub: "unlimited-user" });
    const statuses = await hammer(LIMIT + 10, () =>
      call("/api/turn/credentials", bearer(token), { RATE_LIMIT_ENABLED: "false" }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
  });

  it("fails closed when enabled without the RATE_LIMITER binding", async () => {
    const response = await call("/api/turn/credentials", bearer(await signToken()), { RATE_LIMITER: undefined });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("RATE_LIMITER");
  });

  it("groups IPv6 clients by /64: rotating addresses inside one prefix does not escape the failed-auth limit", async () => {
    const forged = await signToken({ secret: "not-the-secret-not-the-secret-not-the-secret" });
    let i = 0;
    const statuses = await hammer(LIMIT + 10, () => {
      i++;
      const ip = `2001:db8:77:a0::${i.toString(16)}:${(i * 7).toString(16)}`;
      return call("/api/turn/credentials", { headers: { Authorization: `Bearer ${forged}`, "CF-Connecting-IP": ip } });
    });
    expect(statuses).toContain(429);
    // The next /64 has its own budget.
    const neighbour = await call("/api/turn/credentials", {
      headers: { Authorization: `Bearer ${forged}`, "CF-Connecting-IP": "2001:db8:77:a1::1" },
    });
    expect(neighbour.status).toBe(401);
  });

  it.each([
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002::ffff", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["198.51.100.7", "198.51.100.7"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
  ])("keys %s as %s", (ip, key) => {
    expect(clientNetwork(ip)).toBe(key);
  });

  it("on the edge (request.cf set), refuses a request without CF-Connecting-IP rather than sharing one bucket", async () => {
    const forged = await signToken({ secret: "not-the-secret-not-the-secret-not-the-secret" });
    const ctx = createExecutionContext();
    const request = new Request("https://icegate.example.test/api/turn/credentials", {
      headers: { Authorization: `Bearer ${forged}` },
      cf: { colo: "FRA", asn: 64496 },
    });
    const response = await worker.fetch(request, testEnv(), ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: "invalid_request", message: "The client address is unknown." },
    });
  });
});
