import { beforeEach, describe, expect, it } from "vitest";
import type { CacheEntry } from "../../../src/cache/entry";
import { clearInFlight, inFlightKeys, isInFlight, singleFlight } from "../../../src/cache/inflight";
import { AppError } from "../../../src/errors";

const ENTRY: CacheEntry = {
  v: 1,
  iceServers: [{ urls: ["turn:t.example.test:3478"], username: "u", credential: "c" }],
  fetchedAt: 1,
  expiresAt: 2,
};
const stalled = () => new AppError("upstream_unavailable", "stalled", { reason: "provider:cloudflare:stalled" });

function deferred() {
  let resolve!: (entry: CacheEntry) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<CacheEntry>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("single flight per key", () => {
  beforeEach(() => clearInFlight());

  it("makes one call for concurrent requests, shares its plain parsed value, and forgets it in finally", async () => {
    const upstream = deferred();
    let calls = 0;
    const run = () => {
      calls += 1;
      return upstream.promise;
    };
    const waiting = Array.from({ length: 10 }, () => singleFlight("k", run, stalled, 5000));
    expect(calls).toBe(1);
    expect(inFlightKeys()).toEqual(["k"]);
    upstream.resolve(structuredClone(ENTRY));
    const values = await Promise.all(waiting);
    for (const value of values) {
      expect(value).toBe(values[0]);
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(value).toEqual(ENTRY);
    }
    expect(inFlightKeys()).toEqual([]);
  });

  it("forgets a failed call too, and every waiter sees the failure (no second call)", async () => {
    const upstream = deferred();
    let calls = 0;
    const run = () => {
      calls += 1;
      return upstream.promise;
    };
    const waiting = [singleFlight("k", run, stalled, 5000), singleFlight("k", run, stalled, 5000)];
    upstream.reject(new AppError("upstream_unavailable", "x", { reason: "provider:cloudflare:status_500" }));
    for (const result of await Promise.allSettled(waiting)) expect(result.status).toBe("rejected");
    expect(calls).toBe(1);
    expect(inFlightKeys()).toEqual([]);
  });

  it("keeps different keys apart", async () => {
    let calls = 0;
    const run = async () => {
      calls += 1;
      return ENTRY;
    };
    await Promise.all([singleFlight("a", run, stalled, 5000), singleFlight("b", run, stalled, 5000)]);
    expect(calls).toBe(2);
  });

  it("gives up on a call that never settles (its request was cancelled), and lets a new one start", async () => {
    const never = new Promise<CacheEntry>(() => {});
    const started = Date.now();
    await expect(singleFlight("k", () => never, stalled, 20, started)).rejects.toMatchObject({
      reason: "provider:cloudflare:stalled",
    });
    expect(isInFlight("k", started + 21, 20)).toBe(false);
    let calls = 0;
    const fresh = await singleFlight(
      "k",
      async () => {
        calls += 1;
        return ENTRY;
      },
      stalled,
      20,
      started + 21,
    );
    expect(calls).toBe(1);
    expect(fresh).toEqual(ENTRY);
  });
});
