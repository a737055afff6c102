/**
 * The user part of a TURN username. A token's `sub` is made safe for coturn (no separator,
 * no control or exotic characters, bounded length), or, with TURN_USER_ID=hash, replaced by
 * a short keyed hash so that TURN logs hold no identities.
 */
import { remember, tableFor } from "../bounded";
import { hmac, toHex } from "../crypto";

export const MAX_USER_ID_LENGTH = 64;

/** Hashes of recent callers: a caller asks again and again within a lifetime, and the hash never changes. */
const MAX_REMEMBERED = 1024;
const MAX_KEYS = 4;
/** Key value → sub → hash. */
const remembered = new Map<string, Map<string, string>>();

/** Keeps letters, digits and `._@+-`; everything else, the separator included, becomes `_`. */
export function safeUserId(sub: string, separator: string): string {
  let safe = "";
  for (const char of sub) {
    if (safe.length >= MAX_USER_ID_LENGTH) break;
    safe += char !== separator && /^[A-Za-z0-9._@+-]$/.test(char) ? char : "_";
  }
  return safe || "_";
}

/**
 * 16 hex digits of HMAC-SHA256(key, sub): stable for one key, unlinkable to the identity
 * without it. Also what the request log records in place of any user id.
 */
export async function hashedUserId(sub: string, key: string): Promise<string> {
  const known = rememberedUserHash(sub, key);
  if (known !== undefined) return known;
  const hash = toHex(await hmac(key, "SHA-256", `icegate/user-id/v1\u0000${sub}`)).slice(0, 16);
  remember(tableFor(remembered, key, MAX_KEYS), sub, hash, MAX_REMEMBERED);
  return hash;
}

/**
 * The hash of `sub` under `key` if this isolate made it recently (no await). Kept per key value, so a
 * new key never answers with a hash made under the old one.
 */
export function rememberedUserHash(sub: string, key: string): string | undefined {
  return remembered.get(key)?.get(sub);
}
