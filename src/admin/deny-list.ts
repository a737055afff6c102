/**
 * The deny list of revoked users (POST /api/admin/revoke): ONE KV key in TURN_CACHE, `deny-list:v1`, holding
 * every active entry `{user, since, until, reason?}` (user = user-id hash; Unix seconds), at most
 * MAX_DENY_ENTRIES of them. The credential path reads it at most once per isolate per 30 s (DENY_CACHE_MS),
 * whoever asks; nothing is read for anonymous callers or without TURN_CACHE.
 *
 * Propagation: an isolate trusts what it read for at most 30 s, and KV itself takes up to 60 s to carry a write
 * to other locations. The isolate that wrote a revocation honours it at once.
 *
 * KV unreachable: an isolate that has read the list before keeps using that last known list (logged as
 * `denyList: "stale"`, retried every 5 s), so a KV hiccup stops no one who was allowed before; an isolate that
 * never read it fails closed for that request (503 `upstream_unavailable`), as it cannot tell who is revoked.
 *
 * Writes are read-modify-write of one key: expired entries are pruned, the user's entry is added or extended,
 * then the list is read back to verify the entry is there (retried, 1.1 s apart, as KV takes 1 write/s per key).
 * Two revocations written at two different locations within KV's propagation delay can still overwrite each
 * other (KV has no compare-and-swap): revocations are rare and rate-limited, and GET /api/admin/revocations
 * shows what stuck; repeat a revocation that is missing after 60 s.
 */
import { schema } from "../zod";
import { AppError } from "../errors";

export const DENY_KEY = "deny-list:v1";
/** How long an isolate trusts what it read from the deny list. */
export const DENY_CACHE_MS = 30_000;
/** How long an isolate keeps its last known list before trying KV again, when KV failed. */
const STALE_RETRY_MS = 5_000;
/** The most active entries the list holds; past that, revoking answers 503 (rotate the secrets instead). */
export const MAX_DENY_ENTRIES = 1000;
/** KV refuses a shorter expirationTtl. */
const MIN_KV_TTL_SECONDS = 60;
const WRITE_ATTEMPTS = 3;
const WRITE_SPACING_MS = 1100;

export interface DenyEntry {
  /** The user-id hash. */
  user: string;
  /** Unix seconds. */
  since: number;
  /** Unix seconds: when the entry expires. */
  until: number;
  reason?: string;
}

const List = schema((z) =>
  z.object({
    entries: z.array(
      z.object({
        user: z.string().check(z.minLength(1), z.maxLength(64)),
        since: z.number(),
        until: z.number(),
        reason: z.optional(z.string().check(z.maxLength(200))),
      }),
    ),
  }),
);

/** What this isolate knows: the entries by user hash, when it read them, and when to retry after a failure. */
let known: { byUser: Map<string, DenyEntry>; readAt: number; retryAt: number } | undefined;

const unavailable = (reason: string) =>
  new AppError("upstream_unavailable", "The deny list is unavailable right now.", { reason: `deny:${reason}` });

/** The whole list as stored (expired entries included), or a thrown Error when KV fails or holds garbage. */
async function readList(kv: KVNamespace): Promise<DenyEntry[]> {
  const text = await kv.get(DENY_KEY);
  if (text === null) return [];
  const parsed = List().safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error("deny list malformed");
  return parsed.data.entries;
}

function remember(entries: DenyEntry[], now: number): Map<string, DenyEntry> {
  const byUser = new Map(entries.map((entry) => [entry.user, entry]));
  known = { byUser, readAt: now, retryAt: now };
  return byUser;
}

/**
 * The active deny entry of `userHash`, or undefined. Reads KV when this isolate's copy is older than 30 s;
 * `log.denyList` says "stale" when KV failed and the last known list answered.
 */
export async function deniedUntil(
  kv: KVNamespace | undefined,
  userHash: string,
  now = Date.now(),
  log?: { denyList?: string },
): Promise<DenyEntry | undefined> {
  if (!kv) return undefined;
  let byUser = known?.byUser;
  let stale = false;
  const fresh = known && now >= known.readAt && now - known.readAt <= DENY_CACHE_MS;
  if (!fresh) {
    if (known && now < known.retryAt) {
      stale = true;
    } else {
      try {
        byUser = remember(await readList(kv), now);
      } catch {
        if (!known) throw unavailable("kv_read_failed");
        known.retryAt = now + STALE_RETRY_MS;
        stale = true;
      }
    }
  }
  if (stale && log) log.denyList = "stale";
  return activeEntry(byUser, userHash, now);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Adds (or extends) the deny entry of `userHash` for `lifetimeSeconds` in the one KV key, pruning expired
 * entries, and verifies it by reading back; this isolate honours it at once. 503 when KV fails throughout.
 */
export async function deny(
  kv: KVNamespace,
  userHash: string,
  lifetimeSeconds: number,
  reason: string | undefined,
  now = Date.now(),
): Promise<DenyEntry> {
  const nowSeconds = Math.floor(now / 1000);
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(WRITE_SPACING_MS);
    let current: DenyEntry[];
    try {
      current = await readList(kv);
    } catch {
      continue;
    }
    const active = current.filter((entry) => entry.until > nowSeconds);
    const previous = active.find((entry) => entry.user === userHash);
    const entry: DenyEntry = {
      user: userHash,
      since: previous?.since ?? nowSeconds,
      until: Math.max(previous?.until ?? 0, nowSeconds + lifetimeSeconds),
      ...((reason ?? previous?.reason) ? { reason: reason ?? previous?.reason } : {}),
    };
    const entries = [...active.filter((other) => other.user !== userHash), entry];
    if (entries.length > MAX_DENY_ENTRIES) throw unavailable("full");
    const lastUntil = Math.max(...entries.map((other) => other.until));
    try {
      await kv.put(DENY_KEY, JSON.stringify({ entries }), {
        expirationTtl: Math.max(lastUntil - nowSeconds, MIN_KV_TTL_SECONDS),
      });
      const written = await readList(kv);
      if (written.some((other) => other.user === userHash && other.until >= entry.until)) {
        remember(written, now);
        return entry;
      }
    } catch {
      // 429 (1 write/s per key) or a failed read-back: try again.
    }
  }
  throw unavailable("kv_write_failed");
}

/** The active deny entries, read from KV now (not from this isolate's copy), oldest first. */
export async function listDenied(kv: KVNamespace, now = Date.now()): Promise<DenyEntry[]> {
  let entries: DenyEntry[];
  try {
    entries = await readList(kv);
  } catch {
    throw unavailable("kv_read_failed");
  }
  remember(entries, now);
  return entries.filter((entry) => entry.until * 1000 > now).sort((a, b) => a.since - b.since);
}

/** Forgets what this isolate read. For tests. */
export function clearDenyCache(): void {
  known = undefined;
}

/**
 * Throws 403 `revoked` when `userHash` is on the deny list (the credential and REST routes). While this
 * isolate's copy of the list is fresh the answer takes no await: then it returns undefined, or throws.
 */
export function refuseRevoked(
  kv: KVNamespace | undefined,
  userHash: string,
  log?: { denyList?: string },
): Promise<void> | undefined {
  if (!kv) return undefined;
  const now = Date.now();
  if (known && now >= known.readAt && now - known.readAt <= DENY_CACHE_MS) {
    if (activeEntry(known.byUser, userHash, now)) throw revoked();
    return undefined;
  }
  return deniedUntil(kv, userHash, now, log).then((entry) => {
    if (entry) throw revoked();
  });
}

const revoked = () =>
  new AppError("revoked", "Credentials for this user have been revoked.", { reason: "deny:revoked" });

function activeEntry(byUser: Map<string, DenyEntry> | undefined, userHash: string, now: number) {
  const entry = byUser?.get(userHash);
  return entry && entry.until * 1000 > now ? entry : undefined;
}
