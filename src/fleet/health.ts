/**
 * Node health, as the cron probe records it and steering reads it. KV key scheme (TURN_CACHE):
 *
 * | key                  | value                                                  | TTL                    |
 * | -------------------- | ------------------------------------------------------ | ---------------------- |
 * | `health:v1:<nodeId>` | `{"healthy":bool,"checkedAt":ms,"rttMs":n|null,"error"?}` | 6 probe intervals (≥ 60 s) |
 *
 * Reads take every node's record in one bulk get and keep it in the isolate for 30 s (KV's own
 * minimum cacheTtl). A record older than 3 probe intervals is stale, and stale or missing means
 * "unknown", which steering treats as healthy. Two implementations behind one interface: KV,
 * and in memory for tests.
 */
import type * as z from "zod/mini";
import { schema } from "../zod";

export const HEALTH_READ_CACHE_MS = 30_000;
const BULK_GET_MAX = 100;

export const NodeHealth = schema((z) =>
  z.object({
    healthy: z.boolean(),
    checkedAt: z.int().check(z.nonnegative()),
    rttMs: z.nullable(z.number().check(z.nonnegative())),
    error: z.optional(z.string().check(z.maxLength(64))),
  }),
);
export type NodeHealth = z.infer<ReturnType<typeof NodeHealth>>;

export type HealthStatus = "healthy" | "unhealthy" | "unknown";

export interface HealthStore {
  /** The records found, by node id; ids without a (valid) record are absent. */
  read(nodeIds: readonly string[], now?: number): Promise<Map<string, NodeHealth>>;
  write(nodeId: string, health: NodeHealth): Promise<void>;
}

export const healthKey = (nodeId: string) => `health:v1:${nodeId}`;

/**
 * Fail open: a node never probed yet (just added to the fleet, or the cron has not run since the
 * deploy), or whose record went stale because the cron stopped, is "unknown", not "unhealthy".
 * Excluding it would let a missing or broken monitor empty the fleet; only a fresh, failed probe
 * takes a node out of rotation.
 */
export function healthStatus(record: NodeHealth | undefined, now: number, staleAfterMs: number): HealthStatus {
  if (!record || now - record.checkedAt > staleAfterMs) return "unknown";
  return record.healthy ? "healthy" : "unhealthy";
}

interface CachedRecord {
  record: NodeHealth | undefined;
  fetchedAt: number;
}

/** Per isolate and KV namespace: resolved records only, never promises. */
const readCache = new WeakMap<KVNamespace, Map<string, CachedRecord>>();

export function kvHealthStore(kv: KVNamespace, options: { staleAfterMs: number }): HealthStore {
  let cache = readCache.get(kv);
  if (!cache) readCache.set(kv, (cache = new Map()));
  const records = cache;
  const expirationTtl = Math.max(60, Math.ceil((2 * options.staleAfterMs) / 1000));
  return {
    async read(nodeIds, now = Date.now()) {
      const missing = nodeIds.filter((id) => {
        const cached = records.get(id);
        return !cached || now - cached.fetchedAt >= HEALTH_READ_CACHE_MS;
      });
      for (let i = 0; i < missing.length; i += BULK_GET_MAX) {
        const ids = missing.slice(i, i + BULK_GET_MAX);
        const texts = await bulkRead(kv, ids);
        for (const id of ids) records.set(id, { record: parseRecord(texts.get(healthKey(id))), fetchedAt: now });
      }
      return collect(nodeIds, (id) => records.get(id)?.record);
    },
    async write(nodeId, health) {
      await kv.put(healthKey(nodeId), JSON.stringify(health), { expirationTtl });
      records.set(nodeId, { record: health, fetchedAt: health.checkedAt });
    },
  };
}

export function memoryHealthStore(initial: Record<string, NodeHealth> = {}): HealthStore {
  const records = new Map(Object.entries(initial));
  return {
    async read(nodeIds) {
      return collect(nodeIds, (id) => records.get(id));
    },
    async write(nodeId, health) {
      records.set(nodeId, health);
    },
  };
}

async function bulkRead(kv: KVNamespace, ids: string[]): Promise<Map<string, string | null>> {
  try {
    return await kv.get(ids.map(healthKey), { type: "text", cacheTtl: 30 });
  } catch (error) {
    // Unreadable health is unknown health: steer as if every node were up, and say so in the log.
    console.warn(JSON.stringify({ msg: "health", error: "kv_read_failed", type: errorName(error) }));
    return new Map();
  }
}

function parseRecord(text: string | null | undefined): NodeHealth | undefined {
  if (!text) return undefined;
  try {
    const result = NodeHealth().safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

function collect(nodeIds: readonly string[], get: (id: string) => NodeHealth | undefined): Map<string, NodeHealth> {
  const found = new Map<string, NodeHealth>();
  for (const id of nodeIds) {
    const record = get(id);
    if (record) found.set(id, record);
  }
  return found;
}

const errorName = (error: unknown) => (error instanceof Error ? error.name : "unknown");
