/**
 * The operator credential: `Authorization: Bearer <ADMIN_API_TOKEN>` (a secret of at least 32
 * characters), compared in constant time. It unlocks the secret fingerprints of /healthz and the
 * /api/admin routes. Every attempt spends the client network's `admin:` rate-limit budget before the
 * comparison, so guesses stop at the limit whatever they are. Without ADMIN_API_TOKEN there is no
 * operator: admin routes answer 404, and /healthz shows status and version only.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import { fingerprint, timingSafeEqual } from "../crypto";
import { AppError } from "../errors";
import { clientIpKey, enforceRateLimit } from "../http/rate-limit";

const MAX_HEADER_LENGTH = 1024;
const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

export interface Operator {
  /** The token's fingerprint, for the audit log: tells operators which token acted, never the token. */
  tokenId: string;
}

const unauthorized = (reason: string) =>
  new AppError("unauthorized", "A valid operator token is required.", {
    reason: `admin:${reason}`,
    headers: { "WWW-Authenticate": 'Bearer realm="icegate-admin"' },
  });

/** True when the request asks for operator access at all (carries an Authorization header). */
export function asksForOperator(c: Context<AppEnv>): boolean {
  return c.req.header("Authorization") !== undefined;
}

/**
 * The operator behind the request, or an AppError: 404 `not_found` when ADMIN_API_TOKEN is unset and
 * `hidden` (the admin routes do not exist then), else 401 `unauthorized`; 429 past the rate limit.
 */
export async function requireOperator(c: Context<AppEnv>, config: Config, hidden: boolean): Promise<Operator> {
  const expected = config.auth.adminToken;
  if (expected === undefined && hidden) throw new AppError("not_found", "No such route.");
  const header = c.req.header("Authorization");
  if (header === undefined || header === "") throw unauthorized("missing");
  const ip = clientIpKey(c).slice("ip:".length);
  await enforceRateLimit(c.env.RATE_LIMITER, config.rateLimit.enabled, `admin:${ip}`);
  if (expected === undefined) throw unauthorized("not_configured");
  const token = header.length <= MAX_HEADER_LENGTH ? BEARER.exec(header)?.[1] : undefined;
  if (token === undefined) throw unauthorized("malformed");
  if (!(await timingSafeEqual(token, expected))) throw unauthorized("wrong_token");
  return { tokenId: await fingerprint(token) };
}
