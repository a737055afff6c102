/**
 * The deny list of revoked users (POST /api/admin/revoke): one KV entry per user-id hash in TURN_CACHE,
 * `revoked:v1:<userHash>`, with `{since, until, reason}` as value and metadata, expiring by itself (KV's
 * expirationTtl) when the longest credential lifetime has passed. Each isolate remembers what it read for
 * at most 30 s, so a revocation reaches every isolate within 30 s of reaching its location; KV itself
 * takes up to 60 s to propagate. An unreadable deny list fails closed for the request (503).
 */
import * as z from "zod/mini";
import { remember } from "../bounded";
import { AppError } from "../errors";
import { lazy } from "../lazy";

export const DENY_PREFIX = "revoked:v1:";
/** How long an isolate trusts what it read from the deny list. */
export const DENY_CACHE_MS = 30_000;
/** KV refuses a shorter expirationTtl. */
const MIN_KV_TTL_SECONDS = 60;
const MAX_CACHED = 4096;

export interface DenyEntry {
  /** Unix seconds. */
  since: number;
  /** Unix seconds: when the entry expires. */
  until: number;
  reason?: string;
}

const Entry = lazy(() =>
  z.object({
    since: z.number(),
    until: z.number(),
    reason: z.optional(z.string().check(z.maxLength(200))),
  }),
);

/** What this isolate knows: the entry (or none), and when it looked. */
const known = new Map<string, { entry: DenyEntry | undefined; checkedAt: number }>();

const unreadable = () =>
  new AppError("upstream_unavailable", "The deny list is unavailable right now.", { reason: "deny:kv_read_failed" });

/** The active deny entry of `userHash`, or undefined; from the isolate's cache when younger than 30 s. */
export async function deniedUntil(
  kv: KVNamespace | undefined,
  userHash: string,
  now = Date.now(),
): Promise<DenyEntry | undefined> {
  let cached = known.get(userHash);
  if (!cached || now - cached.checkedAt > DENY_CACHE_MS || now < cached.checkedAt) {
    if (!kv) return undefined;
    let text: string | null;
    try {
      text = await kv.get(`${DENY_PREFIX}${userHash}`);
    } catch {
      throw unreadable();
    }
    const parsed = text === null ? undefined : Entry().safeParse(safeJson(text));
    cached = { entry: parsed?.success ? parsed.data : undefined, checkedAt: now };
    remember(known, userHash, cached, MAX_CACHED);
  }
  const entry = cached.entry;
  return entry && entry.until * 1000 > now ? entry : undefined;
}

/** Writes (or extends) the deny entry of `userHash` for `lifetimeSeconds`; this isolate honours it at once. */
export async function deny(
  kv: KVNamespace,
  userHash: string,
  lifetimeSeconds: number,
  reason: string | undefined,
  now = Date.now(),
): Promise<DenyEntry> {
  const since = Math.floor(now / 1000);
  const entry: DenyEntry = { since, until: since + lifetimeSeconds, ...(reason ? { reason } : {}) };
  await kv.put(`${DENY_PREFIX}${userHash}`, JSON.stringify(entry), {
    expirationTtl: Math.max(lifetimeSeconds, MIN_KV_TTL_SECONDS),
    metadata: entry,
  });
  remember(known, userHash, { entry, checkedAt: now }, MAX_CACHED);
  return entry;
}

/** The active deny entries (KV list metadata; at most `limit`). */
export async function listDenied(
  kv: KVNamespace,
  now = Date.now(),
  limit = 1000,
): Promise<({ user: string } & DenyEntry)[]> {
  const result: ({ user: string } & DenyEntry)[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: DENY_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const key of page.keys) {
      const parsed = Entry().safeParse(key.metadata);
      if (parsed.success && parsed.data.until * 1000 > now) {
        result.push({ user: key.name.slice(DENY_PREFIX.length), ...parsed.data });
      }
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor && result.length < limit);
  return result.slice(0, limit);
}

/** Forgets what this isolate read. For tests. */
export function clearDenyCache(): void {
  known.clear();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
