/**
 * Load against the worker under `wrangler dev`, loopback only, with bounded request counts:
 * 2,000 valid requests at concurrency 100 give no error at all, and one abusive client gets 429s
 * and nothing worse. Timings are not asserted here; the bench (npm run bench) measures them.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { count, runLoad } from "../support/load";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const JWT_SECRET = "load-test-jwt-secret-0123456789abcdef0123456789";
const USERS = 200;

describe("load on the worker under wrangler dev", () => {
  let worker: WranglerDev;
  let tokens: string[];

  beforeAll(async () => {
    worker = await startWranglerDev({
      TURN_SECRET: "load-test-turn-secret-1234567890",
      AUTH_JWT_SECRET: JWT_SECRET,
      TURN_URLS: "turn:127.0.0.1:3478?transport=udp",
    });
    const key = new TextEncoder().encode(JWT_SECRET);
    tokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(`user-${i}`).setExpirationTime("10m").sign(key),
      ),
    );
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it("answers 2,000 valid requests from 200 users at concurrency 100 with no error", async () => {
    // 10 requests per user stays under the per-user limit (120/min), so every answer must be a 200.
    let malformed = 0;
    const result = await runLoad(
      2_000,
      100,
      (i) => fetch(`${worker.url}/api/turn/credentials`, { headers: { Authorization: `Bearer ${tokens[i % USERS]}` } }),
      async (_, response) => {
        const body = (await response.json()) as { iceServers?: { credential?: string }[] };
        if (!body.iceServers?.some((server) => server.credential)) malformed++;
      },
    );
    console.info("load: 2,000 requests", Object.fromEntries(result.statuses), `network errors ${result.networkErrors}`);
    expect([...result.errors]).toEqual([]);
    expect(result.networkErrors).toBe(0);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 2_000 });
    expect(malformed).toBe(0);
  }, 300_000);

  it("gives a single abusive client 429s, and nothing worse", async () => {
    const abusive = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("abusive")
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(JWT_SECRET));
    // More than the per-user limit (120/min) of requests, at once.
    const result = await runLoad(300, 50, () =>
      fetch(`${worker.url}/api/turn/credentials`, { headers: { Authorization: `Bearer ${abusive}` } }),
    );
    console.info("load: abusive client", Object.fromEntries(result.statuses));
    expect(result.networkErrors).toBe(0);
    expect(count(result, (s) => s === 429)).toBeGreaterThan(0);
    expect(count(result, (s) => s !== 200 && s !== 429)).toBe(0);
    // Meanwhile everybody else is served.
    const other = await fetch(`${worker.url}/api/turn/credentials`, {
      headers: { Authorization: `Bearer ${tokens[0]}` },
    });
    expect([200, 429]).toContain(other.status);
  }, 300_000);
});
