/**
 * The cached value of one provider key, in KV and in the isolate: the credentials and when they
 * were fetched and expire (epoch ms). And the policy on it: an entry is served only while more than
 * the safety margin is left (CACHE_MIN_REMAINING_SECONDS, never more than half the lifetime), and is
 * refreshed in the background once 80% of its servable window has gone. An entry read from KV must
 * also be sound (`isSound`): its times in order and bounded, its URLs passing the browser rules.
 */
import type * as z from "zod/mini";
import { schema } from "../zod";
import { passesRules } from "../providers/ice";

/** No provider issues credentials for longer than 48 h: an entry claiming more is not one icegate wrote. */
export const MAX_ENTRY_LIFETIME_MS = 48 * 3600 * 1000;

export const CacheEntry = schema((z) =>
  z.object({
    v: z.literal(1),
    iceServers: z
      .array(
        z.object({
          urls: z.array(z.string()).check(z.minLength(1)),
          username: z.optional(z.string()),
          credential: z.optional(z.string()),
        }),
      )
      .check(z.minLength(1)),
    fetchedAt: z.int().check(z.nonnegative()),
    expiresAt: z.int().check(z.positive()),
  }),
);
export type CacheEntry = z.infer<ReturnType<typeof CacheEntry>>;

const REFRESH_AT = 0.8;

/**
 * Whether an entry read from KV may be used at all: fetched no later than now, not yet expired, a
 * lifetime within bounds, and URLs that browsers still accept. Anything else is a miss.
 */
export function isSound(entry: CacheEntry, now: number): boolean {
  return (
    entry.fetchedAt <= now &&
    now < entry.expiresAt &&
    entry.expiresAt - entry.fetchedAt <= MAX_ENTRY_LIFETIME_MS &&
    passesRules(entry.iceServers)
  );
}

/** The least time an entry must have left to be served, in ms. */
export function marginMs(entry: CacheEntry, minRemainingSeconds: number): number {
  return Math.min(minRemainingSeconds * 1000, (entry.expiresAt - entry.fetchedAt) / 2);
}

export function isServable(entry: CacheEntry, now: number, minRemainingSeconds: number): boolean {
  return entry.expiresAt - now > marginMs(entry, minRemainingSeconds);
}

/** Past 80% of the time between fetch and the end of the servable window. */
export function isRefreshDue(entry: CacheEntry, now: number, minRemainingSeconds: number): boolean {
  const servableUntil = entry.expiresAt - marginMs(entry, minRemainingSeconds);
  return now >= entry.fetchedAt + REFRESH_AT * (servableUntil - entry.fetchedAt);
}

/** KV's expirationTtl for the entry: the end of its servable window, but never below KV's minimum of 60 s. */
export function kvTtlSeconds(entry: CacheEntry, now: number, minRemainingSeconds: number): number {
  return Math.max(60, Math.ceil((entry.expiresAt - marginMs(entry, minRemainingSeconds) - now) / 1000));
}
