/**
 * The KV tier (binding TURN_CACHE). Every failure is tolerated: a read that throws, or a value that
 * is not JSON of the entry's shape, is a miss; a write that throws is skipped. Both are reported to
 * the caller, who logs them. Writes to one key are at most one per second from this isolate (KV
 * refuses more); an absent binding means no KV tier at all.
 */
import { CacheEntry } from "./entry";

export const MIN_WRITE_INTERVAL_MS = 1000;
const MAX_TRACKED_WRITES = 256;

const lastWrites = new Map<string, number>();

export type KvReadResult = { entry: CacheEntry | undefined; problem?: "kv_read_failed" | "kv_invalid" };

export async function kvRead(kv: KVNamespace | undefined, key: string): Promise<KvReadResult> {
  if (!kv) return { entry: undefined };
  let text: string | null;
  try {
    text = await kv.get(key, "text");
  } catch {
    return { entry: undefined, problem: "kv_read_failed" };
  }
  if (text === null) return { entry: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { entry: undefined, problem: "kv_invalid" };
  }
  const parsed = CacheEntry().safeParse(value);
  return parsed.success ? { entry: parsed.data } : { entry: undefined, problem: "kv_invalid" };
}

export type KvWriteResult = "written" | "throttled" | "failed" | "no_binding";

export async function kvWrite(
  kv: KVNamespace | undefined,
  key: string,
  entry: CacheEntry,
  expirationTtl: number,
  now = Date.now(),
): Promise<KvWriteResult> {
  if (!kv) return "no_binding";
  const last = lastWrites.get(key);
  if (last !== undefined && now - last < MIN_WRITE_INTERVAL_MS) return "throttled";
  lastWrites.delete(key);
  lastWrites.set(key, now);
  if (lastWrites.size > MAX_TRACKED_WRITES) lastWrites.delete(lastWrites.keys().next().value ?? "");
  try {
    await kv.put(key, JSON.stringify(entry), { expirationTtl });
    return "written";
  } catch {
    return "failed";
  }
}

export function clearKvWriteLog(): void {
  lastWrites.clear();
}
