/**
 * GET /api/turn/credentials: `{"iceServers","expiresAt","ttl"}` for the authenticated caller, from the
 * providers of TURN_PROVIDERS (src/providers/resolve.ts). `?ttl=` may shorten the lifetime; a longer
 * one is cut to the configured maximum. The log line names the provider that answered, and why any
 * before it did not.
 */
import type { Context } from "hono";
import { schema } from "../zod";
import type { AppEnv } from "../app-env";
import { authorize } from "../auth/authorize";
import { loadConfig, MIN_TTL_SECONDS } from "../config";
import { CREDENTIAL_REPLY_HEADERS } from "../http/headers";
import { parseParams } from "../http/query";
import { resolveCredentials } from "../providers/resolve";
import { fleetSteering, type SteeredUrls } from "../fleet";

export const CredentialsQuery = schema((z) =>
  z.strictObject({
    ttl: z.optional(
      z.pipe(
        z.pipe(z.string().check(z.regex(/^\d{1,7}$/, "a whole number of seconds")), z.transform(Number)),
        z.number().check(z.gte(MIN_TTL_SECONDS)),
      ),
    ),
  }),
);

/** The parameters of a request without a query string (the common case): nothing to parse. */
const NO_PARAMS: Record<string, string[]> = Object.freeze({}) as Record<string, string[]>;

export async function credentials(c: Context<AppEnv>): Promise<Response> {
  const config = loadConfig(c.env);
  const max = config.turn.ttlSeconds;
  const query = parseParams(c.req.url.includes("?") ? c.req.queries() : NO_PARAMS, CredentialsQuery(), (name) =>
    name === "ttl"
      ? `a whole number of seconds, at least ${MIN_TTL_SECONDS} (more than ${max} is cut to ${max})`
      : undefined,
  );
  const principal = await authorize(c, config);
  const ttl = Math.min(query.ttl ?? config.turn.ttlSeconds, config.turn.ttlSeconds);
  let steering: SteeredUrls | undefined;
  // Without a fleet (known from this isolate's last look), coturn answers from TURN_URLS at once.
  const steerer = fleetSteering(c.env, () => c.req.raw.cf);
  const steer = steerer && (async () => (steering = await steerer()));
  const resolved = await resolveCredentials({
    config,
    sub: principal.sub,
    userHash: principal.userHash,
    ttlSeconds: ttl,
    now: Date.now(),
    kv: c.env.TURN_CACHE,
    waitUntil: background(c),
    steer,
  });
  const log = c.get("log");
  log.provider = resolved.provider;
  if (resolved.reasons.length > 0) log.reason = resolved.reasons.join(",");
  const body = JSON.stringify({ iceServers: resolved.iceServers, expiresAt: resolved.expiresAt, ttl: resolved.ttl });
  // Explains which fleet nodes were chosen and why (only when coturn answered from a fleet).
  const explanation = resolved.provider.includes("coturn") ? steering?.explanation : undefined;
  // A cross-origin request has CORS headers waiting in the context (src/auth/origin.ts): Hono merges them.
  if (explanation !== undefined || c.req.header("Origin") !== undefined) {
    if (explanation !== undefined) c.header("X-Icegate-Steering", explanation);
    return c.body(body, 200, CREDENTIAL_REPLY_HEADERS);
  }
  // Otherwise nothing else is waiting: the reply and all its headers in one Response, no copy through Hono.
  return new Response(body, { status: 200, headers: CREDENTIAL_REPLY_HEADERS });
}

/** Work that may finish after the reply (cache refreshes, KV writes), under the request's waitUntil. */
export function background(c: Context<AppEnv>): (promise: Promise<unknown>) => void {
  let ctx: Context<AppEnv>["executionCtx"];
  try {
    ctx = c.executionCtx;
  } catch {
    // No ExecutionContext (app.request in a test): let the work run unobserved.
    return (promise) => void promise.catch(() => undefined);
  }
  return (promise) => ctx.waitUntil(promise);
}
