/**
 * The server and the SDK plan on the same clock: a reply's `ttl` (and `expiresAt`) is what the SDK
 * refreshes and restarts ICE ahead of. This pins the relation between their settings down: no
 * credential the server hands out, minted (coturn) or shared from the cache (managed providers, with
 * CACHE_MIN_REMAINING_SECONDS at its default or its floor), leaves the SDK, with its default
 * refreshMarginSeconds, less lead than one credentials request (requestTimeoutSeconds) plus one
 * unfinished ICE restart (SETTLE_MS) take.
 */
import { describe, expect, it } from "vitest";
import { type CacheEntry, isServable, marginMs } from "../../../src/cache/entry";
import { DEFAULT_REFRESH_MARGIN_SECONDS, DEFAULT_REQUEST_TIMEOUT_SECONDS } from "../../../src/client/client";
import { SETTLE_MS } from "../../../src/client/keep";
import { loadConfig, MIN_TTL_SECONDS } from "../../../src/config";
import { TEST_BINDINGS } from "../../support/test-env";

/** What the SDK needs before expiry: a request that may time out, then a restart that may take SETTLE_MS. */
const NEEDED_SECONDS = DEFAULT_REQUEST_TIMEOUT_SECONDS + SETTLE_MS / 1000;

/** How long before expiry the SDK refreshes credentials with `remaining` seconds left (client.ts: margin, at most half). */
const sdkLeadSeconds = (remaining: number) => Math.min(DEFAULT_REFRESH_MARGIN_SECONDS, remaining / 2);

const minRemaining = (value?: string) =>
  loadConfig({ ...TEST_BINDINGS, ...(value && { CACHE_MIN_REMAINING_SECONDS: value }) } as unknown as Cloudflare.Env)
    .cache.minRemainingSeconds;

/** The least life a cached entry of `lifetime` seconds still has when it is served (1 ms before it no longer is). */
function leastServedSeconds(lifetime: number, minRemainingSeconds: number): number {
  const entry: CacheEntry = { v: 1, iceServers: [{ urls: ["turn:x"] }], fetchedAt: 0, expiresAt: lifetime * 1000 };
  const lastServed = entry.expiresAt - marginMs(entry, minRemainingSeconds) - 1;
  expect(isServable(entry, lastServed, minRemainingSeconds)).toBe(true);
  expect(isServable(entry, lastServed + 1, minRemainingSeconds)).toBe(false);
  return (entry.expiresAt - lastServed) / 1000;
}

describe("credential lifetimes against the SDK's refresh-and-restart lead", () => {
  it("the cache's default and floor are the ones this relation is checked with", () => {
    expect(minRemaining()).toBe(300);
    expect(minRemaining("30")).toBe(30);
    expect(() => minRemaining("29")).toThrow();
  });

  it("a minted coturn credential of the shortest ttl leaves the SDK enough lead", () => {
    expect(sdkLeadSeconds(MIN_TTL_SECONDS)).toBeGreaterThanOrEqual(NEEDED_SECONDS);
  });

  it.each([MIN_TTL_SECONDS, 90, 120, 600, 3600, 86_400])(
    "a cached credential of %i s is never served with less life than the SDK needs",
    (lifetime) => {
      for (const setting of [minRemaining(), minRemaining("30")]) {
        const least = leastServedSeconds(lifetime, setting);
        expect(
          sdkLeadSeconds(least),
          `lifetime ${lifetime}, CACHE_MIN_REMAINING_SECONDS ${setting}`,
        ).toBeGreaterThanOrEqual(NEEDED_SECONDS);
      }
    },
  );

  it("with the default setting, a long-lived cached credential keeps the SDK's full margin", () => {
    expect(leastServedSeconds(86_400, minRemaining())).toBeGreaterThan(2 * DEFAULT_REFRESH_MARGIN_SECONDS);
  });
});
