/**
 * Per-caller rate limits with the Workers Rate Limiting binding (`RATE_LIMITER`, emulated by miniflare
 * locally). Authenticated callers are limited by the keyed hash of their user id, everyone else by
 * client IP, so one abusive client gets 429s without touching anybody else's budget. An IPv6 client
 * is keyed by its /64 (one subscriber's prefix: rotating addresses inside it does not escape). On
 * Cloudflare's edge (and under wrangler dev) every client request carries CF-Connecting-IP; one that
 * does not is refused (400) rather than limited in one bucket shared with every other such request.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";

/** The binding's window (`simple.period` in wrangler.toml) is 10 or 60 s; Retry-After names the longer. */
export const RETRY_AFTER_SECONDS = 60;

/** `admin:` is the operator-token budget of one client network (src/auth/admin.ts). */
export type RateLimitKey = `user:${string}` | `ip:${string}` | `key:${string}` | `admin:${string}`;

export function clientIpKey(c: Context<AppEnv>): RateLimitKey {
  const ip = c.req.header("CF-Connecting-IP");
  if (ip === undefined || ip === "") {
    // request.cf exists on Cloudflare's edge and under wrangler dev, which both always set the header.
    if (c.req.raw.cf !== undefined) {
      throw new AppError("invalid_request", "The client address is unknown.", { reason: "client_ip:missing" });
    }
    // Only a call of the app without a runtime in front of it (tests) gets here.
    return "ip:unknown";
  }
  return `ip:${clientNetwork(ip)}`;
}

/**
 * What a client address is limited as: an IPv4 address as it is (an IPv4-mapped IPv6 address as its IPv4),
 * an IPv6 address as its /64 prefix `xxxx:xxxx:xxxx:xxxx::/64`. Anything unparseable is kept whole.
 */
export function clientNetwork(ip: string): string {
  const address = ip.trim().toLowerCase();
  if (!address.includes(":")) return address;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  const groups = expandIpv6(address.replace(/%.*$/, ""));
  if (!groups) return address.slice(0, 64);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, each without leading zeros, or undefined. */
function expandIpv6(address: string): string[] | undefined {
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  // A trailing dotted IPv4 part counts as two groups; only the first four groups matter here.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && last[last.length - 1]!.includes(".")) last.splice(last.length - 1, 1, "0", "0");
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  return groups.map((group) => group.replace(/^0+(?=.)/, ""));
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
