/**
 * The user part of a TURN username, injective so that coturn's per-user quota is never shared by two
 * callers. A token's `sub` is used as it is when it is already safe for coturn (letters, digits and
 * `._@+-`, no separator, at most 64 characters); otherwise the safe form, cut to fit, gets `+` and the
 * 16-hex-digit keyed hash of `sub` appended. A `sub` that could pass for such a form (ending in `+` and
 * 16 hex digits) or that names a reserved id (`anonymous`, `rest`) is hashed too, so no token can claim
 * another caller's id. Callers without a token sub (anonymous, a REST key without a username) get
 * reserved ids `anonymous+<hash>` and `rest+<hash of the key>`, from a separate hash domain.
 * With TURN_USER_ID=hash the id is the keyed hash alone, so that TURN logs hold no identities.
 */
import { remember, tableFor } from "../bounded";
import { hmac, toHex } from "../crypto";

export const MAX_USER_ID_LENGTH = 64;
/** Ids of callers that have no token sub of their own; a token's `sub` never maps to them. */
export const RESERVED_USER_IDS: readonly string[] = ["anonymous", "rest"];
const HASH_DIGITS = 16;
const HASHED_FORM = /\+[0-9a-f]{16}$/;
const SAFE_CHAR = /^[A-Za-z0-9._@+-]$/;

/** Hashes of recent callers: a caller asks again and again within a lifetime, and the hash never changes. */
const MAX_REMEMBERED = 1024;
const MAX_KEYS = 4;
/** Key value → sub → hash. */
const remembered = new Map<string, Map<string, string>>();
/** Key value → reserved caller (`anonymous`, `rest` and its key) → hash. */
const rememberedReserved = new Map<string, Map<string, string>>();

/** Keeps letters, digits and `._@+-`; everything else, the separator included, becomes `_`. Not cut. */
export function safeUserId(sub: string, separator: string): string {
  let safe = "";
  for (const char of sub) safe += char !== separator && SAFE_CHAR.test(char) ? char : "_";
  return safe || "_";
}

/**
 * The TURN user id of `sub`: `sub` itself when that is safe, short enough and unambiguous, else its safe
 * form (cut) with `+` and `subHash` (the keyed hash of `sub`, from hashedUserId) appended.
 */
export function turnUserId(sub: string, separator: string, subHash: string): string {
  const safe = safeUserId(sub, separator);
  const unchanged =
    safe === sub && sub.length <= MAX_USER_ID_LENGTH && !HASHED_FORM.test(sub) && !RESERVED_USER_IDS.includes(sub);
  if (unchanged) return sub;
  return `${safe.slice(0, MAX_USER_ID_LENGTH - HASH_DIGITS - 1)}+${subHash}`;
}

/**
 * Remembered per key value, so a new key never answers with a hash made under the old one, and under
 * `name` (a `sub`, or a reserved caller's name) rather than the hash input, so a lookup builds no string.
 * Token subs and reserved callers are kept in separate tables: their inputs are in separate domains.
 */
async function keyedHash(
  table: Map<string, Map<string, string>>,
  key: string,
  name: string,
  input: string,
): Promise<string> {
  const known = table.get(key)?.get(name);
  if (known !== undefined) return known;
  const hash = toHex(await hmac(key, "SHA-256", input)).slice(0, HASH_DIGITS);
  remember(tableFor(table, key, MAX_KEYS), name, hash, MAX_REMEMBERED);
  return hash;
}

/**
 * 16 hex digits of HMAC-SHA256(key, sub): stable for one key, unlinkable to the identity
 * without it. Also what the request log records in place of any user id.
 */
export function hashedUserId(sub: string, key: string): Promise<string> {
  return keyedHash(remembered, key, sub, `icegate/user-id/v1\u0000${sub}`);
}

/**
 * The keyed hash of a caller without a token sub: `anonymous`, or `rest` and the REST key. Its input
 * starts `icegate/user-id/v1/reserved`, which no `icegate/user-id/v1\0<sub>` input does.
 */
export function reservedUserHash(kind: "anonymous" | "rest", key: string, qualifier = ""): Promise<string> {
  return keyedHash(
    rememberedReserved,
    key,
    `${kind}\u0000${qualifier}`,
    `icegate/user-id/v1/reserved\u0000${kind}\u0000${qualifier}`,
  );
}

/** The anonymous caller's hash under `key` if this isolate made it already (no await). */
export function rememberedAnonymousHash(key: string): string | undefined {
  return rememberedReserved.get(key)?.get("anonymous\u0000");
}

/**
 * A caller without a token sub of its own: a reserved `sub` with its reserved hash, so that turnUserId
 * makes `<sub>+<reserved hash>`, which a token's `sub` (hashed in the other domain) never reaches.
 */
export interface ReservedPrincipal {
  sub: string;
  userHash: string;
}

/** The principal of a REST call without a username: one id per REST key, `rest+<hash>`. */
export async function restKeyPrincipal(restKey: string, key: string): Promise<ReservedPrincipal> {
  return { sub: "rest", userHash: await reservedUserHash("rest", key, restKey) };
}

/** The principal shared by anonymous callers (ALLOW_ANONYMOUS=true), `anonymous+<hash>`. */
export async function anonymousPrincipal(key: string): Promise<ReservedPrincipal> {
  return { sub: "anonymous", userHash: await reservedUserHash("anonymous", key) };
}

/**
 * The hash of `sub` under `key` if this isolate made it recently (no await). Kept per key value, so a
 * new key never answers with a hash made under the old one.
 */
export function rememberedUserHash(sub: string, key: string): string | undefined {
  return remembered.get(key)?.get(sub);
}

/**
 * The user-id hash behind an issued TURN username `<expiry><separator><user id>` (for revocations): with
 * TURN_USER_ID=hash the id is the hash; an id with a hash appended carries it; any other id is the `sub`.
 */
export async function userHashOfTurnUserId(
  username: string,
  turn: { separator: string; userIdMode: "sub" | "hash" },
  key: string,
): Promise<string | undefined> {
  const at = username.indexOf(turn.separator);
  if (at <= 0 || !/^\d+$/.test(username.slice(0, at))) return undefined;
  const userId = username.slice(at + 1);
  if (turn.userIdMode === "hash") return /^[0-9a-f]{16}$/.test(userId) ? userId : undefined;
  if (HASHED_FORM.test(userId)) return userId.slice(-HASH_DIGITS);
  if (userId === "" || safeUserId(userId, turn.separator) !== userId) return undefined;
  return hashedUserId(userId, key);
}
