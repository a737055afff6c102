/**
 * GET|POST /api/turn/rest: the draft-uberti-behave-turn-rest-00 shape
 * `{"username","password","ttl","uris"}`, for backends and media servers that speak that draft.
 * `key` (or Janus's `api`) is checked in constant time against TURN_REST_API_KEYS. Parameters
 * come from the query string, or from a form body, as Janus POSTs them.
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import { lazy } from "../lazy";
import { refuseRevoked } from "../admin/deny-list";
import type { AppEnv } from "../app-env";
import { loadConfig } from "../config";
import { fingerprint, timingSafeEqual } from "../crypto";
import { issueTurnCredentials } from "../credentials/issue";
import { restKeyPrincipal } from "../credentials/user-id";
import { AppError, notConfigured } from "../errors";
import { NO_STORE_HEADERS } from "../http/headers";
import { parseParams } from "../http/query";
import { clientIpKey, enforceRateLimit, type RateLimitKey } from "../http/rate-limit";

const MAX_FORM_BYTES = 4096;

export const RestQuery = lazy(() =>
  z.strictObject({
    service: z.literal("turn"),
    username: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
    key: z.optional(z.string().check(z.maxLength(512))),
    api: z.optional(z.string().check(z.maxLength(512))),
  }),
);

async function requestParams(request: Request, query: Record<string, string[]>): Promise<Record<string, string[]>> {
  const type = request.headers.get("Content-Type") ?? "";
  if (request.method !== "POST" || !type.startsWith("application/x-www-form-urlencoded")) return query;
  const params: Record<string, string[]> = { ...query };
  for (const [name, value] of new URLSearchParams(await readBoundedBody(request, MAX_FORM_BYTES))) {
    (params[name] ??= []).push(value);
  }
  return params;
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

const handler = async (c: import("hono").Context<AppEnv>) => {
  const config = loadConfig(c.env);
  if (config.restApiKeys.length === 0) throw notConfigured("TURN_REST_API_KEYS");
  const params = parseParams(await requestParams(c.req.raw, c.req.queries()), RestQuery());
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
  const issued = await issueTurnCredentials(
    params.username !== undefined ? { sub: params.username } : await restKeyPrincipal(key, config.turn.secret),
    config.turn,
    config.turn.ttlSeconds,
  );
  Object.assign(c.get("log"), { user: issued.userHash, provider: "coturn" });
  await refuseRevoked(c.env.TURN_CACHE, issued.userHash, c.get("log"));
  const uris = config.turn.urls;
  return c.json(
    { username: issued.username, password: issued.credential, ttl: issued.ttl, uris },
    200,
    NO_STORE_HEADERS,
  );
};

export const rest = new Hono<AppEnv>().get("/", handler).post("/", handler);
