/**
 * The in-isolate tier in front of KV: a module-scope Map of at most 256 entries, the oldest dropped
 * first. It holds plain parsed entries only (never a Response or a pending promise), so any request
 * in the isolate may read what another one stored. Isolates are evicted at any time; KV is the copy
 * that survives.
 */
import type { CacheEntry } from "./entry";

export const MAX_MEMORY_ENTRIES = 256;

const entries = new Map<string, CacheEntry>();

/** The entry under `key`, unless it has expired (then it is dropped). */
export function memoryGet(key: string, now: number): CacheEntry | undefined {
  const entry = entries.get(key);
  if (entry && entry.expiresAt <= now) {
    entries.delete(key);
    return undefined;
  }
  return entry;
}

export function memorySet(key: string, entry: CacheEntry): void {
  entries.delete(key);
  entries.set(key, entry);
  while (entries.size > MAX_MEMORY_ENTRIES) {
    const oldest = entries.keys().next();
    if (oldest.done) break;
    entries.delete(oldest.value);
  }
}

export function memorySize(): number {
  return entries.size;
}

export function clearMemory(): void {
  entries.clear();
}
