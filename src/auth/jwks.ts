/**
 * A JSON Web Key Set fetched from AUTH_JWKS_URL, cached in module scope for ten minutes and
 * re-fetched at most every 30 s when a token names an unknown `kid`. Only the parsed key set
 * is shared between requests, never a pending fetch, so one request's end cannot cancel another's wait.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import * as z from "zod/mini";
import { lazy } from "../lazy";
import { AppError } from "../errors";

const MAX_AGE_MS = 10 * 60_000;
const REFETCH_COOLDOWN_MS = 30_000;
const FETCH_TIMEOUT_MS = 3_000;
const MAX_BODY_BYTES = 64 * 1024;

const JwksBody = lazy(() =>
  z.object({
    keys: z.array(z.looseObject({ kty: z.string() })).check(z.maxLength(64)),
  }),
);

interface CachedKeySet {
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
}

const keySets = new Map<string, CachedKeySet>();

async function fetchKeySet(url: string): Promise<CachedKeySet> {
  let body: unknown;
  try {
    const response = await fetch(url, {
      headers: { Accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_BODY_BYTES) throw new Error("body too large");
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError("upstream_unavailable", "The token issuer's keys are unavailable.", {
      reason: `jwks:${error instanceof Error ? error.message : "fetch failed"}`,
    });
  }
  const parsed = JwksBody().safeParse(body);
  if (!parsed.success) {
    throw new AppError("upstream_unavailable", "The token issuer's keys are unavailable.", { reason: "jwks:schema" });
  }
  const entry = { getKey: createLocalJWKSet(parsed.data as JSONWebKeySet), fetchedAt: Date.now() };
  keySets.set(url, entry);
  return entry;
}

/** A key resolver for jose's jwtVerify that refreshes the set once on an unknown key id. */
export function jwksResolver(url: string): JWTVerifyGetKey {
  return async (header, token) => {
    let entry = keySets.get(url);
    if (!entry || Date.now() - entry.fetchedAt > MAX_AGE_MS) entry = await fetchKeySet(url);
    try {
      return await entry.getKey(header, token);
    } catch (error) {
      const unknownKey = error instanceof errors.JWKSNoMatchingKey;
      if (!unknownKey || Date.now() - entry.fetchedAt < REFETCH_COOLDOWN_MS) throw error;
      return (await fetchKeySet(url)).getKey(header, token);
    }
  };
}

/** Forgets every cached key set. For tests. */
export function clearJwksCache(): void {
  keySets.clear();
}
