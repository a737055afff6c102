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

/**
 * The cache of `outer`'s entry for `key` (one per secret value, say), made when missing; at most `max`
 * of them, the oldest going first. Keyed this way, a lookup hashes the short inner key alone, not a
 * secret concatenated with it on every request.
 */
export function tableFor<V>(outer: Map<string, Map<string, V>>, key: string, max: number): Map<string, V> {
  let table = outer.get(key);
  if (!table) {
    table = new Map();
    remember(outer, key, table, max);
  }
  return table;
}
