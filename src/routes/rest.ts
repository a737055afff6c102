/**
 * GET|POST /api/turn/rest: the draft-uberti-behave-turn-rest-00 shape
 * `{"username","password","ttl","uris"}`, for backends and media servers that speak that draft, as a
 * broker: the credential comes from the providers of TURN_REST_PROVIDERS (else TURN_PROVIDERS), in
 * failover order, so a draft-speaking server can use Cloudflare, Twilio or Metered through icegate.
 * `key` (or Janus's `api`) is checked in constant time against TURN_REST_API_KEYS. Parameters come
 * from the query string, or from a form body (Content-Type exactly application/x-www-form-urlencoded);
 * Janus 1.1 sends them in both, which is accepted when the values agree. POST with a form body is
 * preferred: a key in a GET query string reaches URL logs.
 */
import type { Context } from "hono";
import { schema } from "../zod";
import { refuseRevoked } from "../admin/deny-list";
import type { AppEnv } from "../app-env";
import { loadConfig } from "../config";
import { fingerprint, timingSafeEqual } from "../crypto";
import type { IceServer } from "../credentials/issue";
import { hashedUserId, restKeyPrincipal } from "../credentials/user-id";
import { AppError, notConfigured } from "../errors";
import { fleetSteering } from "../fleet";
import { UPSTREAM_MESSAGE } from "../providers/http";
import { resolveCredentials } from "../providers/resolve";
import { isTurnUrl } from "../providers/url-rules";
import { background } from "./credentials";
import { NO_STORE_HEADERS } from "../http/headers";
import { parseParams } from "../http/query";
import { clientIpKey, enforceRateLimit, type RateLimitKey } from "../http/rate-limit";

const MAX_FORM_BYTES = 4096;

export const RestQuery = schema((z) =>
  z.strictObject({
    service: z.literal("turn"),
    username: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    key: z.optional(z.string().check(z.maxLength(512))),
    api: z.optional(z.string().check(z.maxLength(512))),
  }),
);

/** `application/x-www-form-urlencoded`, exactly: the media type in any case, optionally with parameters. */
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

async function requestParams(request: Request, query: Record<string, string[]>): Promise<Record<string, string[]>> {
  const type = request.headers.get("Content-Type") ?? "";
  if (request.method !== "POST" || !FORM_TYPE.test(type.trim())) return query;
  const params: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(query)) params[name] = [...values];
  for (const [name, value] of new URLSearchParams(await readBoundedBody(request, MAX_FORM_BYTES))) {
    (params[name] ??= []).push(value);
  }
  return params;
}

/**
 * The same value given more than once counts once: Janus sends its parameters in the query and again
 * as the form body. Different values for one name stay a 400 (parseParams), as does `api` unlike `key`.
 */
function sameValuesOnce(params: Record<string, string[]>): Record<string, string[]> {
  const once: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(params))
    once[name] = values.every((v) => v === values[0]) ? values.slice(0, 1) : values;
  const [key] = once.key ?? [];
  const [api] = once.api ?? [];
  if (key !== undefined && api !== undefined && key !== api) {
    throw new AppError("invalid_request", "A query parameter is repeated.", { reason: "query:api_key_differ" });
  }
  return once;
}

/** Reads at most `limit` bytes of a body as UTF-8, or throws 413 without reading further. */
async function readBoundedBody(request: Request, limit: number): Promise<string> {
  if (Number(request.headers.get("Content-Length") ?? 0) > limit) throw tooLarge();
  const reader = request.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text + decoder.decode();
}

const tooLarge = () => new AppError("payload_too_large", "The form body is too large.");

async function isKnownKey(candidate: string, keys: readonly string[]): Promise<boolean> {
  // Compare against every key, always, so the time taken says nothing about which one matched.
  const matches = await Promise.all(keys.map((key) => timingSafeEqual(candidate, key)));
  return matches.includes(true);
}

/** The draft's reply from icegate's answer: its first credential, and that credential's turn:/turns: URLs. */
function draftReply(iceServers: readonly IceServer[], ttl: number) {
  const turn = iceServers.find((server) => server.credential !== undefined && server.urls.some(isTurnUrl));
  if (!turn?.username || turn.credential === undefined) throw new AppError("upstream_unavailable", UPSTREAM_MESSAGE);
  const uris = iceServers
    .filter((server) => server.username === turn.username && server.credential === turn.credential)
    .flatMap((server) => server.urls.filter(isTurnUrl));
  return { username: turn.username, password: turn.credential, ttl, uris };
}

export async function rest(c: Context<AppEnv>): Promise<Response> {
  const config = loadConfig(c.env);
  if (config.restApiKeys.length === 0) throw notConfigured("TURN_REST_API_KEYS");
  const params = parseParams(sameValuesOnce(await requestParams(c.req.raw, c.req.queries())), RestQuery());
  const key = params.key ?? params.api;
  const limited = (limitKey: RateLimitKey) => enforceRateLimit(c.env.RATE_LIMITER, config.rateLimit.enabled, limitKey);
  if (key === undefined || !(await isKnownKey(key, config.restApiKeys))) {
    await limited(clientIpKey(c));
    throw new AppError("unauthorized", "A valid API key is required.", {
      reason: key === undefined ? "key:missing" : "key:unknown",
    });
  }
  // A media server serves many users from one key: its budget is the key's, not an IP's.
  await limited(`key:${await fingerprint(key)}`);
  // Without a username, one id per REST key (`rest+<hash>`), never an id a token's sub could claim.
  const { sub, userHash } =
    params.username !== undefined
      ? { sub: params.username, userHash: await hashedUserId(params.username, config.turn.secret) }
      : await restKeyPrincipal(key, config.turn.secret);
  const log = c.get("log");
  log.user = userHash;
  await refuseRevoked(c.env.TURN_CACHE, userHash, log);
  const resolved = await resolveCredentials({
    config,
    sub,
    userHash,
    ttlSeconds: config.turn.ttlSeconds,
    now: Date.now(),
    kv: c.env.TURN_CACHE,
    waitUntil: background(c),
    steer: fleetSteering(c.env, () => c.req.raw.cf),
    only: config.upstream.restProviders,
  });
  log.provider = resolved.provider;
  if (resolved.reasons.length > 0) log.reason = resolved.reasons.join(",");
  return c.json(draftReply(resolved.iceServers, resolved.ttl), 200, NO_STORE_HEADERS);
}
