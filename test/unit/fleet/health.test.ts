/**
 * Health records in KV: the key scheme, one bulk read cached 30 s per isolate, invalid records
 * ignored, and the fail-open status rule (missing or stale = unknown).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthKey, healthStatus, kvHealthStore, memoryHealthStore, type NodeHealth } from "../../../src/fleet/health";

const STALE_AFTER = 180_000;
const T0 = 1_800_000_000_000;
const up = (checkedAt: number): NodeHealth => ({ healthy: true, checkedAt, rttMs: 12 });
const down = (checkedAt: number): NodeHealth => ({ healthy: false, checkedAt, rttMs: null, error: "timeout" });

describe("healthStatus", () => {
  it("is healthy or unhealthy for a fresh record", () => {
    expect(healthStatus(up(T0), T0 + 1000, STALE_AFTER)).toBe("healthy");
    expect(healthStatus(down(T0), T0 + STALE_AFTER, STALE_AFTER)).toBe("unhealthy");
  });

  it("is unknown for a missing record, or one older than 3 probe intervals", () => {
    expect(healthStatus(undefined, T0, STALE_AFTER)).toBe("unknown");
    expect(healthStatus(down(T0), T0 + STALE_AFTER + 1, STALE_AFTER)).toBe("unknown");
  });
});

describe("the KV health store", () => {
  it("writes health:v1:<nodeId> as JSON with an expiry, and reads it back", async () => {
    const store = kvHealthStore(env.TURN_CACHE, { staleAfterMs: STALE_AFTER });
    await store.write("write-1", down(T0));
    expect(JSON.parse((await env.TURN_CACHE.get(healthKey("write-1")))!)).toEqual(down(T0));
    expect(healthKey("fra1")).toBe("health:v1:fra1");
    const listed = await env.TURN_CACHE.list({ prefix: "health:v1:write-1" });
    expect(listed.keys[0]!.expiration).toBeGreaterThan(Date.now() / 1000 + 300);
  });

  it("reads every node's record at once and leaves out nodes without one", async () => {
    await env.TURN_CACHE.put(healthKey("bulk-a"), JSON.stringify(up(T0)));
    await env.TURN_CACHE.put(healthKey("bulk-b"), JSON.stringify(down(T0)));
    const store = kvHealthStore(env.TURN_CACHE, { staleAfterMs: STALE_AFTER });
    const records = await store.read(["bulk-a", "bulk-b", "bulk-none"], T0);
    expect(Object.fromEntries(records)).toEqual({ "bulk-a": up(T0), "bulk-b": down(T0) });
  });

  it("keeps what it read for 30 s in the isolate, then reads KV again", async () => {
    await env.TURN_CACHE.put(healthKey("cached-1"), JSON.stringify(up(T0)));
    const store = kvHealthStore(env.TURN_CACHE, { staleAfterMs: STALE_AFTER });
    expect((await store.read(["cached-1"], T0)).get("cached-1")).toEqual(up(T0));
    await env.TURN_CACHE.put(healthKey("cached-1"), JSON.stringify(down(T0 + 10_000)));
    expect((await store.read(["cached-1"], T0 + 29_999)).get("cached-1")).toEqual(up(T0));
    expect((await store.read(["cached-1"], T0 + 30_000)).get("cached-1")).toEqual(down(T0 + 10_000));
  });

  it("ignores a record that is not valid health JSON", async () => {
    await env.TURN_CACHE.put(healthKey("junk-1"), "not json");
    await env.TURN_CACHE.put(healthKey("junk-2"), JSON.stringify({ healthy: "yes" }));
    const store = kvHealthStore(env.TURN_CACHE, { staleAfterMs: STALE_AFTER });
    expect((await store.read(["junk-1", "junk-2"], T0)).size).toBe(0);
  });

  it("sees its own writes at once in this isolate", async () => {
    const store = kvHealthStore(env.TURN_CACHE, { staleAfterMs: STALE_AFTER });
    await store.read(["own-1"], T0);
    await store.write("own-1", down(T0 + 1));
    expect((await store.read(["own-1"], T0 + 2)).get("own-1")).toEqual(down(T0 + 1));
  });
});

describe("the in-memory health store", () => {
  it("behaves like the KV one for reads and writes", async () => {
    const store = memoryHealthStore({ a: up(T0) });
    await store.write("b", down(T0));
    expect(Object.fromEntries(await store.read(["a", "b", "c"]))).toEqual({ a: up(T0), b: down(T0) });
  });
});
