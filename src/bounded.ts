/**
 * Bounded in-isolate caches: a Map that never grows past its limit, the oldest entry going first.
 * For values derived from what the isolate already holds (keys, hashes, verified tokens), never for
 * promises another request could be waiting on.
 */

/** Adds `key` to a bounded cache, dropping its oldest entry when it holds `max` already. */
export function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}
