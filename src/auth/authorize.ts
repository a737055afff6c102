/**
 * Who is asking, and may they ask now: authenticates the bearer token, then applies the rate limit,
 * keyed by the caller's user-id hash, or by client IP for anonymous callers and failed attempts (so
 * a flood of bad tokens is limited too, without letting a forged `sub` spend someone else's budget).
 * A token that makes the Worker fetch (a JWKS refresh) spends the client IP's budget before the fetch.
 * A user on the deny list (src/admin/deny-list.ts) gets 403 `revoked`.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import { refuseRevoked } from "../admin/deny-list";
import { anonymousPrincipal, hashedUserId, rememberedAnonymousHash, rememberedUserHash } from "../credentials/user-id";
import { clientIpKey, enforceRateLimit, type RateLimitKey } from "../http/rate-limit";
import { authenticate, knownPrincipal, type Principal } from "./token";

export interface Authorized extends Principal {
  /** Keyed hash of `sub`: the rate-limit key, the log's `user`, and the TURN user id with TURN_USER_ID=hash. */
  userHash: string;
}

export async function authorize(c: Context<AppEnv>, config: Config): Promise<Authorized> {
  const authorization = c.req.header("Authorization");
  // An anonymous caller, or a token verified recently, with its hash known: no await on the common path.
  const principal = knownPrincipal(authorization, config.auth) ?? (await authenticateOrLimit(c, config, authorization));
  const key = config.turn.secret;
  const userHash = principal.anonymous
    ? (rememberedAnonymousHash(key) ?? (await anonymousPrincipal(key)).userHash)
    : (rememberedUserHash(principal.sub, key) ?? (await hashedUserId(principal.sub, key)));
  c.get("log").user = userHash;
  if (config.rateLimit.enabled) await limiter(c, config)(principal.anonymous ? clientIpKey(c) : `user:${userHash}`);
  // A user an operator revoked (POST /api/admin/revoke) gets nothing until the entry expires.
  if (!principal.anonymous) {
    const pending = refuseRevoked(c.env.TURN_CACHE, userHash, c.get("log"));
    if (pending) await pending;
  }
  return { ...principal, userHash };
}

function limiter(c: Context<AppEnv>, config: Config) {
  return (key: RateLimitKey) => enforceRateLimit(c.env.RATE_LIMITER, config.rateLimit.enabled, key);
}

/** Verifies the token; a failed attempt spends the client IP's budget (before any fetch it would cause). */
async function authenticateOrLimit(
  c: Context<AppEnv>,
  config: Config,
  authorization: string | undefined,
): Promise<Principal> {
  const limit = limiter(c, config);
  let spent = false;
  const beforeFetch = async () => {
    spent = true;
    await limit(clientIpKey(c));
  };
  try {
    return await authenticate(authorization, config.auth, { beforeFetch });
  } catch (error) {
    if (!spent) await limit(clientIpKey(c));
    throw error;
  }
}
