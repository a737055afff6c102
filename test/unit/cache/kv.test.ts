import { env } from "cloudflare:workers";
import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CacheEntry } from "../../../src/cache/entry";
import { clearKvWriteLog, kvRead, kvWrite, MIN_WRITE_INTERVAL_MS } from "../../../src/cache/kv";

const ENTRY: CacheEntry = {
  v: 1,
  iceServers: [{ urls: ["turn:t.example.test:3478"], username: "u", credential: "c" }],
  fetchedAt: 1,
  expiresAt: 2,
};

/** A KV namespace whose every call throws, and counts. */
function brokenKv() {
  const calls = { get: 0, put: 0 };
  const kv = {
    get: async () => {
      calls.get += 1;
      throw new Error("KV GET failed: 500");
    },
    put: async () => {
      calls.put += 1;
      throw new Error("KV PUT failed: 429 Too Many Requests");
    },
  } as unknown as KVNamespace;
  return { kv, calls };
}

describe("the KV tier", () => {
  beforeEach(async () => {
    await reset();
    clearKvWriteLog();
  });

  it("round-trips an entry", async () => {
    expect(await kvWrite(env.TURN_CACHE, "k", ENTRY, 60)).toBe("written");
    expect(await kvRead(env.TURN_CACHE, "k")).toEqual({ entry: ENTRY });
  });

  it("writes one key at most once a second from an isolate", async () => {
    const now = 1_000_000;
    expect(await kvWrite(env.TURN_CACHE, "k", ENTRY, 60, now)).toBe("written");
    expect(await kvWrite(env.TURN_CACHE, "k", ENTRY, 60, now + MIN_WRITE_INTERVAL_MS - 1)).toBe("throttled");
    expect(await kvWrite(env.TURN_CACHE, "other", ENTRY, 60, now + 1)).toBe("written");
    expect(await kvWrite(env.TURN_CACHE, "k", ENTRY, 60, now + MIN_WRITE_INTERVAL_MS)).toBe("written");
  });

  it("treats a value that is not JSON, or not of the entry's shape, as a miss", async () => {
    await env.TURN_CACHE.put("garbage", "{not json");
    await env.TURN_CACHE.put("shape", JSON.stringify({ v: 1, iceServers: "nope" }));
    expect(await kvRead(env.TURN_CACHE, "garbage")).toEqual({ entry: undefined, problem: "kv_invalid" });
    expect(await kvRead(env.TURN_CACHE, "shape")).toEqual({ entry: undefined, problem: "kv_invalid" });
    expect(await kvRead(env.TURN_CACHE, "missing")).toEqual({ entry: undefined });
  });

  it("tolerates a KV that throws: a read is a miss, a write is skipped", async () => {
    const { kv, calls } = brokenKv();
    expect(await kvRead(kv, "k")).toEqual({ entry: undefined, problem: "kv_read_failed" });
    expect(await kvWrite(kv, "k", ENTRY, 60)).toBe("failed");
    expect(calls).toEqual({ get: 1, put: 1 });
  });

  it("does without a TURN_CACHE binding", async () => {
    expect(await kvRead(undefined, "k")).toEqual({ entry: undefined });
    expect(await kvWrite(undefined, "k", ENTRY, 60)).toBe("no_binding");
  });
});
