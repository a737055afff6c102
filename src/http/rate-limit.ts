/**
 * Per-caller rate limits with the Workers Rate Limiting binding (`RATE_LIMITER`, emulated by miniflare
 * locally). Authenticated callers are limited by the keyed hash of their user id, everyone else by
 * client IP, so one abusive client gets 429s without touching anybody else's budget.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";

/** The binding's window (`simple.period` in wrangler.toml) is 10 or 60 s; Retry-After names the longer. */
export const RETRY_AFTER_SECONDS = 60;

export type RateLimitKey = `user:${string}` | `ip:${string}` | `key:${string}`;

export function clientIpKey(c: Context<AppEnv>): RateLimitKey {
  return `ip:${c.req.header("CF-Connecting-IP") ?? "unknown"}`;
}

/** Throws 429 `rate_limited` with Retry-After when `key` is over its limit. A missing binding is a config error. */
export async function enforceRateLimit(
  limiter: RateLimit | undefined,
  enabled: boolean,
  key: RateLimitKey,
): Promise<void> {
  if (!enabled) return;
  if (!limiter)
    throw new AppError("not_configured", "RATE_LIMITER is missing or invalid", { reason: "config:RATE_LIMITER" });
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new AppError("rate_limited", "Too many requests; try again later.", {
      reason: `rate_limit:${key.slice(0, key.indexOf(":"))}`,
      headers: { "Retry-After": String(RETRY_AFTER_SECONDS) },
    });
  }
}
