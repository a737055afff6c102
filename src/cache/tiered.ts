/**
 * Provider credentials through the cache tiers: the isolate's memory, then KV, then one upstream
 * call per key (single flight). An entry is served only while more than the safety margin is left;
 * past 80% of its servable window it is still served, and refreshed in the background under
 * `waitUntil`. KV problems never fail a request: a failed read is a miss, a failed write is skipped,
 * and both are reported.
 */
import type { IceServer } from "../credentials/issue";
import { remember } from "../bounded";
import { AppError } from "../errors";
import { providerError } from "../providers/http";
import type { ProviderName } from "../providers/provider";
import { type CacheEntry, isRefreshDue, isServable, isSound, kvTtlSeconds } from "./entry";
import { clearInFlight, isInFlight, singleFlight } from "./inflight";
import { clearKvWriteLog, kvRead, kvWrite } from "./kv";
import { clearMemory, memoryGet, memorySet } from "./memory";

export interface Fresh {
  iceServers: IceServer[];
  expiresAt: number;
  /** Why URLs of the upstream reply were dropped: noted on the fetching request's log line. */
  dropped?: string[];
}

/** Fetches fresh credentials; `now` (the request's time) is the base of an expiry the reply does not carry. */
export type Load = (now: number) => Promise<Fresh>;

export interface TierOptions {
  provider: ProviderName;
  kv: KVNamespace | undefined;
  now: number;
  minRemainingSeconds: number;
  /** How long anyone waits for one upstream call: PROVIDER_TIMEOUT_MS and a grace. */
  waitMs: number;
  waitUntil: (promise: Promise<unknown>) => void;
  /** A tolerated problem during the request, such as `cache:kv_read_failed`, for its log line. */
  note: (reason: string) => void;
  /** A problem after the reply (a failed refresh or KV write), for a log line of its own. */
  report: (event: string, reason?: string) => void;
}

/**
 * The cached entry for `key` if it may be served, otherwise `load()`'s, stored in both tiers. An entry in
 * the isolate's memory (the common case) comes back as it is, without a promise.
 */
export function cachedCredentials(key: string, load: Load, options: TierOptions): CacheEntry | Promise<CacheEntry> {
  const { now, minRemainingSeconds } = options;
  const hot = memoryGet(key, now);
  if (hot && isServable(hot, now, minRemainingSeconds)) {
    refreshIfDue(key, hot, load, options);
    return hot;
  }
  return fromKvOrUpstream(key, load, options);
}

async function fromKvOrUpstream(key: string, load: Load, options: TierOptions): Promise<CacheEntry> {
  const { now, minRemainingSeconds } = options;
  const { entry: read, problem } = await kvRead(options.kv, key);
  if (problem) options.note(`cache:${problem}`);
  const stored = read && isSound(read, now) ? read : undefined;
  if (read && !stored) options.note("cache:kv_unsound");
  if (stored && isServable(stored, now, minRemainingSeconds)) {
    memorySet(key, stored);
    refreshIfDue(key, stored, load, options);
    return stored;
  }
  return fetchOnce(key, load, options);
}

function fetchOnce(key: string, load: Load, options: TierOptions): Promise<CacheEntry> {
  const stalled = () => providerError(options.provider, "stalled");
  return singleFlight(key, () => fetchAndStore(key, load, options), stalled, options.waitMs);
}

/**
 * After a failed background refresh, the next one for that key waits this long: a provider that is down
 * is asked (and its failure logged) a few times a minute while the cached entry lasts, not once per request.
 */
export const REFRESH_RETRY_MS = 10_000;
const MAX_RETRY_KEYS = 1024;
const refreshRetryAt = new Map<string, number>();

function refreshIfDue(key: string, entry: CacheEntry, load: Load, options: TierOptions): void {
  const { now, minRemainingSeconds, waitMs } = options;
  if (!isRefreshDue(entry, now, minRemainingSeconds) || isInFlight(key, now, waitMs)) return;
  if ((refreshRetryAt.get(key) ?? 0) > now) return;
  options.waitUntil(
    fetchOnce(key, load, options).then(
      () => void refreshRetryAt.delete(key),
      (error: unknown) => {
        remember(refreshRetryAt, key, Date.now() + REFRESH_RETRY_MS, MAX_RETRY_KEYS);
        options.report("refresh_failed", error instanceof AppError && error.reason ? error.reason : "error");
      },
    ),
  );
}

async function fetchAndStore(key: string, load: Load, options: TierOptions): Promise<CacheEntry> {
  const fetchedAt = options.now;
  const fresh = await load(fetchedAt);
  for (const reason of fresh.dropped ?? []) options.note(`provider:${options.provider}:dropped_${reason}`);
  // A plain, parsed value: this is what concurrent requests share.
  const entry: CacheEntry = { v: 1, iceServers: fresh.iceServers, fetchedAt, expiresAt: fresh.expiresAt };
  const now = Date.now();
  if (!isServable(entry, now, options.minRemainingSeconds)) throw providerError(options.provider, "short_lived");
  memorySet(key, entry);
  const ttl = kvTtlSeconds(entry, now, options.minRemainingSeconds);
  options.waitUntil(
    kvWrite(options.kv, key, entry, ttl, now).then((result) => {
      if (result === "failed") options.report("kv_write_failed");
    }),
  );
  return entry;
}

/** Forgets the memory tier, the calls under way and the KV write log of this isolate. For tests. */
export function resetCacheTiers(): void {
  clearMemory();
  clearInFlight();
  clearKvWriteLog();
  refreshRetryAt.clear();
}
