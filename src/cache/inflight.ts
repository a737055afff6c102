/**
 * At most one upstream call per cache key at a time in this isolate. Concurrent requests for a key
 * share one promise of a plain parsed entry (never a Response: a body belongs to the request that
 * fetched it), and the map forgets it in `finally`, whatever the outcome. A waiter gives up after
 * `waitMs`, and a call older than that no longer blocks new ones, so a call whose request was
 * cancelled (its promise may then never settle) cannot hold a key forever.
 */
import { AppError } from "../errors";
import type { CacheEntry } from "./entry";

interface Flight {
  promise: Promise<CacheEntry>;
  startedAt: number;
}

const flights = new Map<string, Flight>();

export function isInFlight(key: string, now: number, waitMs: number): boolean {
  const flight = flights.get(key);
  return flight !== undefined && now - flight.startedAt <= waitMs;
}

/** `run()`'s entry, or the entry of the call for `key` already under way. */
export function singleFlight(
  key: string,
  run: () => Promise<CacheEntry>,
  stalled: () => AppError,
  waitMs: number,
  now = Date.now(),
): Promise<CacheEntry> {
  let flight = flights.get(key);
  if (!flight || now - flight.startedAt > waitMs) {
    const promise: Promise<CacheEntry> = run().finally(() => {
      if (flights.get(key)?.promise === promise) flights.delete(key);
    });
    flight = { promise, startedAt: now };
    flights.set(key, flight);
  }
  return withDeadline(flight.promise, waitMs, stalled);
}

function withDeadline<T>(promise: Promise<T>, ms: number, stalled: () => AppError): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(stalled()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

/** The keys with a call under way. For tests. */
export function inFlightKeys(): string[] {
  return [...flights.keys()];
}

export function clearInFlight(): void {
  flights.clear();
}
