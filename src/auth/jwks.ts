/**
 * A JSON Web Key Set fetched from AUTH_JWKS_URL, cached in module scope for ten minutes and
 * re-fetched at most every 30 s when a token names an unknown `kid`. A failed fetch is remembered
 * for 10 s (negative cache): tokens arriving meanwhile get the same 503 without another fetch.
 * The reply is read with a 64 KiB cap (status and Content-Length first, then a cancelled stream).
 * Every fetch first calls the caller's `beforeFetch`, where authorize.ts spends the client's
 * failed-auth budget, so a flood of tokens cannot make the Worker flood the issuer.
 * Only the parsed key set is shared between requests, never a pending fetch, so one request's end
 * cannot cancel another's wait.
 */
import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";
import { loadJose } from "./jose";
import { schema } from "../zod";
import { AppError } from "../errors";
import { BodyError, discardBody, readTextCapped } from "../http/body";

const MAX_AGE_MS = 10 * 60_000;
const REFETCH_COOLDOWN_MS = 30_000;
/** How long a failed fetch answers for the key set before it is tried again. */
export const NEGATIVE_CACHE_MS = 10_000;
const FETCH_TIMEOUT_MS = 3_000;
/** The largest key set read, in bytes: 64 RSA-4096 keys fit; Google's and Auth0's sets are under 4 KiB. */
export const MAX_JWKS_BYTES = 64 * 1024;

const JwksBody = schema((z) =>
  z.object({
    keys: z.array(z.looseObject({ kty: z.string() })).check(z.maxLength(64)),
  }),
);

interface CachedKeySet {
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
}

const keySets = new Map<string, CachedKeySet>();
const failures = new Map<string, { until: number; error: AppError }>();

const unavailable = (why: string) =>
  new AppError("upstream_unavailable", "The token issuer's keys are unavailable.", { reason: `jwks:${why}` });

async function fetchKeySet(url: string, beforeFetch: () => Promise<void>): Promise<CachedKeySet> {
  const failed = failures.get(url);
  if (failed && Date.now() < failed.until) throw failed.error;
  await beforeFetch();
  try {
    const entry = await download(url);
    keySets.set(url, entry);
    failures.delete(url);
    return entry;
  } catch (error) {
    const appError = error instanceof AppError ? error : unavailable("fetch_failed");
    failures.set(url, { until: Date.now() + NEGATIVE_CACHE_MS, error: appError });
    throw appError;
  }
}

async function download(url: string): Promise<CachedKeySet> {
  let text: string;
  try {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) {
      discardBody(response);
      throw unavailable(`status_${response.status}`);
    }
    text = await readTextCapped(response, MAX_JWKS_BYTES);
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unavailable(error instanceof BodyError ? error.why : "network");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw unavailable("malformed_json");
  }
  const parsed = JwksBody().safeParse(body);
  if (!parsed.success) throw unavailable("schema");
  const { createLocalJWKSet } = await loadJose();
  return { getKey: createLocalJWKSet(parsed.data as JSONWebKeySet), fetchedAt: Date.now() };
}

/**
 * A key resolver for jose's jwtVerify that refreshes the set once on an unknown key id.
 * `beforeFetch` runs before any fetch this token would cause, and may throw (a rate limit).
 */
export function jwksResolver(url: string, beforeFetch: () => Promise<void> = async () => undefined): JWTVerifyGetKey {
  return async (header, token) => {
    let entry = keySets.get(url);
    if (!entry || Date.now() - entry.fetchedAt > MAX_AGE_MS) entry = await fetchKeySet(url, beforeFetch);
    try {
      return await entry.getKey(header, token);
    } catch (error) {
      const unknownKey = error instanceof (await loadJose()).JWKSNoMatchingKey;
      if (!unknownKey || Date.now() - entry.fetchedAt < REFETCH_COOLDOWN_MS) throw error;
      return (await fetchKeySet(url, beforeFetch)).getKey(header, token);
    }
  };
}

/** Forgets every cached key set and failure. For tests. */
export function clearJwksCache(): void {
  keySets.clear();
  failures.clear();
}
