import { describe, expect, it } from "vitest";
import { type CacheEntry, isRefreshDue, isServable, kvTtlSeconds, marginMs } from "../../../src/cache/entry";

const entry = (fetchedAt: number, lifetimeSeconds: number): CacheEntry => ({
  v: 1,
  iceServers: [{ urls: ["turn:t.example.test:3478"], username: "u", credential: "c" }],
  fetchedAt,
  expiresAt: fetchedAt + lifetimeSeconds * 1000,
});

describe("the cache entry policy", () => {
  it("keeps CACHE_MIN_REMAINING_SECONDS as the margin, but never more than half the lifetime", () => {
    expect(marginMs(entry(0, 86400), 300)).toBe(300_000);
    expect(marginMs(entry(0, 120), 300)).toBe(60_000);
  });

  it("serves an entry only while more than the margin is left", () => {
    const day = entry(0, 86400);
    expect(isServable(day, 86100_000 - 1, 300)).toBe(true);
    expect(isServable(day, 86100_000, 300)).toBe(false);
    expect(isServable(day, 86400_000 + 1, 300)).toBe(false);
    const short = entry(0, 120);
    expect(isServable(short, 59_999, 300)).toBe(true);
    expect(isServable(short, 60_000, 300)).toBe(false);
  });

  it("is due for refresh after 80% of the time it may be served", () => {
    const day = entry(0, 86400);
    // Servable until 86100 s; 80% of that is 68880 s.
    expect(isRefreshDue(day, 68880_000 - 1, 300)).toBe(false);
    expect(isRefreshDue(day, 68880_000, 300)).toBe(true);
  });

  it("gives KV an expirationTtl that ends with the servable window, and never below KV's 60 s", () => {
    expect(kvTtlSeconds(entry(0, 86400), 0, 300)).toBe(86100);
    expect(kvTtlSeconds(entry(0, 120), 0, 300)).toBe(60);
    expect(kvTtlSeconds(entry(0, 90), 0, 30)).toBe(60);
  });
});
