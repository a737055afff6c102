/**
 * Issues coturn credentials for one principal: chooses the user id (injective safe `sub`, or keyed hash)
 * and the expiry, and mints the username and credential (the providers build the RTCIceServer list from them).
 */
import type { Principal } from "../auth/token";
import type { TurnConfig } from "../config";
import { notConfigured } from "../errors";
import { mintTurnCredential, rememberedTurnCredential } from "./turn-rest";
import { hashedUserId, rememberedUserHash, turnUserId } from "./user-id";

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface IssuedCredentials {
  username: string;
  credential: string;
  /** Unix seconds. */
  expiresAt: number;
  ttl: number;
  /** The keyed hash of the user id, for the log line. */
  userHash: string;
}

export async function issueTurnCredentials(
  /** `userHash` must be hashedUserId(sub), or a reserved principal's hash (user-id.ts); it is computed when absent. */
  principal: Pick<Principal, "sub"> & { userHash?: string },
  turn: TurnConfig,
  ttlSeconds: number,
  now = Date.now(),
): Promise<IssuedCredentials> {
  if (!turn.enabled) throw notConfigured(turn.urls.length === 0 ? "TURN_URLS" : "TURN_SECRET");
  const userHash =
    principal.userHash ??
    rememberedUserHash(principal.sub, turn.secret) ??
    (await hashedUserId(principal.sub, turn.secret));
  const options = mintOptions(principal.sub, userHash, turn, ttlSeconds, now);
  // Within the same second the same user's credential is usually known already: then no await at all.
  const minted = rememberedTurnCredential(options) ?? (await mintTurnCredential(options));
  return { ...minted, expiresAt: options.expiresAt, ttl: ttlSeconds, userHash };
}

/**
 * The credentials issueTurnCredentials would answer, when this isolate has them already (the same user
 * within the same second, the user's hash known): no await, no HMAC. Otherwise undefined.
 */
export function knownTurnCredentials(
  principal: Pick<Principal, "sub"> & { userHash?: string },
  turn: TurnConfig,
  ttlSeconds: number,
  now = Date.now(),
): IssuedCredentials | undefined {
  if (!turn.enabled) return undefined;
  const userHash = principal.userHash ?? rememberedUserHash(principal.sub, turn.secret);
  if (userHash === undefined) return undefined;
  const options = mintOptions(principal.sub, userHash, turn, ttlSeconds, now);
  const known = rememberedTurnCredential(options);
  return known && { ...known, expiresAt: options.expiresAt, ttl: ttlSeconds, userHash };
}

/** The user id (the hash, or the injective safe `sub`) and the expiry a credential is minted for. */
function mintOptions(sub: string, userHash: string, turn: TurnConfig, ttlSeconds: number, now: number) {
  const userId = turn.userIdMode === "hash" ? userHash : turnUserId(sub, turn.separator, userHash);
  return { secret: turn.secret, userId, expiresAt: Math.floor(now / 1000) + ttlSeconds, separator: turn.separator };
}
