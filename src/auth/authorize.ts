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
import { anonymousPrincipal, hashedUserId } from "../credentials/user-id";
import { clientIpKey, enforceRateLimit } from "../http/rate-limit";
import { authenticate, type Principal } from "./token";

export interface Authorized extends Principal {
  /** Keyed hash of `sub`: the rate-limit key, the log's `user`, and the TURN user id with TURN_USER_ID=hash. */
  userHash: string;
}

export async function authorize(c: Context<AppEnv>, config: Config): Promise<Authorized> {
  const limit = (key: Parameters<typeof enforceRateLimit>[2]) =>
    enforceRateLimit(c.env.RATE_LIMITER, config.rateLimit.enabled, key);
  let principal: Principal;
  let spent = false;
  const beforeFetch = async () => {
    spent = true;
    await limit(clientIpKey(c));
  };
  try {
    principal = await authenticate(c.req.header("Authorization"), config.auth, { beforeFetch });
  } catch (error) {
    if (!spent) await limit(clientIpKey(c));
    throw error;
  }
  const userHash = principal.anonymous
    ? (await anonymousPrincipal(config.turn.secret)).userHash
    : await hashedUserId(principal.sub, config.turn.secret);
  c.get("log").user = userHash;
  await limit(principal.anonymous ? clientIpKey(c) : `user:${userHash}`);
  // A user an operator revoked (POST /api/admin/revoke) gets nothing until the entry expires.
  if (!principal.anonymous) await refuseRevoked(c.env.TURN_CACHE, userHash, c.get("log"));
  return { ...principal, userHash };
}
