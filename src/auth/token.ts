/**
 * Bearer-token authentication. HS256 tokens are checked against AUTH_JWT_SECRET (and
 * AUTH_JWT_SECRET_PREVIOUS during a rotation); RS256, ES256 and EdDSA tokens against the
 * key set at AUTH_JWKS_URL (which config.ts only accepts with AUTH_ISSUER and AUTH_AUDIENCE).
 * Algorithms are pinned, `alg: none` never passes, `exp` and `sub` are required, `iss` and `aud`
 * are checked when configured, with 30 s of clock skew. A token is honoured for at most
 * AUTH_MAX_TOKEN_AGE_SECONDS (default one day) from its `iat`; an `iat` in the future beyond the
 * skew is refused; a token without `iat` may not expire later than that age from now.
 */
import type { JWTPayload, JWTVerifyOptions } from "jose";
import { schema } from "../zod";
import type { AuthConfig } from "../config";
import { remember } from "../bounded";
import { hmacKey } from "../crypto";
import { AppError } from "../errors";
import { type Jose, loadJose } from "./jose";
import { jwksResolver } from "./jwks";

export interface AuthOptions {
  /** Runs before any fetch the token causes (a JWKS refresh); authorize.ts spends the failed-auth budget there. */
  beforeFetch?: () => Promise<void>;
}

export interface Principal {
  sub: string;
  anonymous: boolean;
}

const ANONYMOUS: Principal = { sub: "anonymous", anonymous: true };
const MAX_TOKEN_LENGTH = 8192;
const CLOCK_TOLERANCE_SECONDS = 30;
const ASYMMETRIC = ["RS256", "ES256", "EdDSA"] as const;
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * Tokens verified in this isolate recently, by their exact text (signature included), per auth settings
 * (a new secret, issuer or JWKS URL is a new Config, so a new map): a client that presents the same token
 * again (a retry, another peer connection, a reload) costs a lookup instead of a signature check. An entry
 * lasts until the token's `exp` and at most VERIFIED_MAX_AGE_MS, so a key withdrawn from the JWKS stops
 * being honoured as soon as it would through the key-set cache. Long tokens are not kept.
 */
const VERIFIED_MAX_AGE_MS = 60_000;
const MAX_VERIFIED = 1024;
const MAX_VERIFIED_TOKEN_LENGTH = 2048;
const verified = new WeakMap<AuthConfig, Map<string, { sub: string; until: number }>>();

const Claims = schema((z) => z.object({ sub: z.string().check(z.minLength(1), z.maxLength(1024)) }));

function invalidToken(reason: string): AppError {
  return new AppError("invalid_token", "The access token is invalid or expired.", {
    reason: `token:${reason}`,
    headers: { "WWW-Authenticate": 'Bearer realm="icegate", error="invalid_token"' },
  });
}

/**
 * The principal behind an `Authorization` header when finding it takes no await: an anonymous caller
 * (no header, ALLOW_ANONYMOUS=true), or a token this isolate verified recently. Otherwise undefined,
 * and `authenticate` decides (and says why it refuses).
 */
export function knownPrincipal(authorization: string | undefined, auth: AuthConfig): Principal | undefined {
  if (authorization === undefined || authorization === "") return auth.allowAnonymous ? ANONYMOUS : undefined;
  if (authorization.length > MAX_TOKEN_LENGTH || authorization.slice(0, 7).toLowerCase() !== "bearer ")
    return undefined;
  // Only tokens that matched BEARER and verified are remembered: the lookup needs no pattern match first.
  return recentlyVerified(authorization.slice(7), auth, Date.now());
}

function recentlyVerified(token: string, auth: AuthConfig, now: number): Principal | undefined {
  const known = verified.get(auth)?.get(token);
  return known && known.until > now ? { sub: known.sub, anonymous: false } : undefined;
}

/** The principal behind an `Authorization` header, or an AppError 401. */
export async function authenticate(
  authorization: string | undefined,
  auth: AuthConfig,
  options: AuthOptions = {},
): Promise<Principal> {
  if (authorization === undefined || authorization === "") {
    if (auth.allowAnonymous) return ANONYMOUS;
    throw new AppError("unauthorized", "A bearer token is required.", {
      reason: "token:missing",
      headers: { "WWW-Authenticate": 'Bearer realm="icegate"' },
    });
  }
  if (authorization.length > MAX_TOKEN_LENGTH) throw invalidToken("too_long");
  const token = BEARER.exec(authorization)?.[1];
  if (!token) throw invalidToken("malformed");
  const now = Date.now();
  const known = recentlyVerified(token, auth, now);
  if (known) return known;

  const jose = await loadJose();
  let alg: string | undefined;
  try {
    alg = jose.decodeProtectedHeader(token).alg;
  } catch {
    throw invalidToken("malformed_header");
  }
  const payload = await verify(jose, token, alg, auth, options);
  const claims = Claims().safeParse(payload);
  if (!claims.success) throw invalidToken("claims");
  const honouredUntil = checkTokenAge(payload, auth.maxTokenAgeSeconds, now);
  if (token.length <= MAX_VERIFIED_TOKEN_LENGTH && typeof payload.exp === "number") {
    let tokens = verified.get(auth);
    if (!tokens) verified.set(auth, (tokens = new Map()));
    const until = Math.min(payload.exp * 1000, honouredUntil, now + VERIFIED_MAX_AGE_MS);
    remember(tokens, token, { sub: claims.data.sub, until }, MAX_VERIFIED);
  }
  return { sub: claims.data.sub, anonymous: false };
}

/**
 * Refuses an `iat` in the future (beyond the skew) and a token older than `maxAge` seconds; without
 * `iat`, one whose `exp` is further than `maxAge` away. Returns until when (ms) the token may be honoured.
 */
function checkTokenAge(payload: JWTPayload, maxAge: number, nowMs: number): number {
  const now = nowMs / 1000;
  if (typeof payload.iat === "number") {
    if (payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw invalidToken("iat_in_future");
    const until = payload.iat + maxAge + CLOCK_TOLERANCE_SECONDS;
    if (now > until) throw invalidToken("too_old");
    return until * 1000;
  }
  // jose requires `exp`; a token without `iat` is bounded by how far away it expires.
  if (typeof payload.exp === "number" && payload.exp - now > maxAge + CLOCK_TOLERANCE_SECONDS) {
    throw invalidToken("lifetime_too_long");
  }
  return nowMs + maxAge * 1000;
}

async function verify(
  jose: Jose,
  token: string,
  alg: string | undefined,
  auth: AuthConfig,
  opts: AuthOptions,
): Promise<JWTPayload> {
  const options = {
    issuer: auth.issuer,
    audience: auth.audience,
    requiredClaims: ["exp", "sub"],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };
  try {
    if (alg === "HS256" && auth.jwtSecrets.length > 0) {
      return await verifyWithSecrets(jose, token, auth.jwtSecrets, options);
    }
    if (auth.jwksUrl && (ASYMMETRIC as readonly string[]).includes(alg ?? "")) {
      const { payload } = await jose.jwtVerify(token, jwksResolver(auth.jwksUrl, opts.beforeFetch), {
        ...options,
        algorithms: [...ASYMMETRIC],
      });
      return payload;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidToken(error instanceof jose.JOSEError ? error.code : "verify");
  }
  throw invalidToken(`alg_not_accepted:${String(alg).slice(0, 16)}`);
}

/** Tries the current secret, then the previous one, but only when the signature did not match. */
async function verifyWithSecrets(
  jose: Jose,
  token: string,
  secrets: string[],
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      const { payload } = await jose.jwtVerify(token, await hmacKey(secret, "SHA-256"), {
        ...options,
        algorithms: ["HS256"],
      });
      return payload;
    } catch (error) {
      if (!(error instanceof jose.JWSSignatureVerificationFailed)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
