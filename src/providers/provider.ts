/**
 * The one interface every TURN provider implements, whether it mints credentials itself (coturn,
 * ExpressTURN) or asks a managed service for them (Cloudflare, Metered, Twilio). A provider only
 * turns a request into an RTCIceServer list and an expiry; caching, timeouts, the circuit breaker
 * and failover live around it (resolve.ts), so each provider file stays small.
 */
import type { IceServer } from "../credentials/issue";
import type { SteeredUrls } from "../fleet";

export const PROVIDER_NAMES = ["coturn", "cloudflare", "metered", "twilio", "expressturn"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface ProviderRequest {
  /** The caller's token subject: providers that mint per user put (a safe form of) it in the username. */
  sub: string;
  /** The keyed hash of `sub` (authorize.ts): the coturn user id with TURN_USER_ID=hash. */
  userHash: string;
  /**
   * The caller's userHash when the credential is theirs alone (CACHE_SCOPE=user), for a provider's per-user
   * accounting (Cloudflare's `customIdentifier`); undefined when one credential is shared by every user.
   */
  perUserId?: string | undefined;
  /** The lifetime asked for, already within TURN_TTL_SECONDS; a provider may cut it to its own maximum. */
  ttlSeconds: number;
  /** Epoch milliseconds when the request was made: the base of any expiry a reply does not carry. */
  now: number;
  /** Aborts the upstream call after PROVIDER_TIMEOUT_MS. */
  signal: AbortSignal;
  /** The fleet's nearest healthy nodes for this request (coturn), or undefined with no fleet: use TURN_URLS. */
  steer?: () => Promise<SteeredUrls | undefined>;
}

export interface ProviderResult {
  iceServers: IceServer[];
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Why URLs of the upstream reply were dropped (url-rules.ts), for the log line. */
  dropped?: string[];
}

/** What a cached reply depends on: a new value of anything in `material` (a key, a token) means a new cache key. */
export interface CacheIdentity {
  /** The provider's secret, and whatever else identifies the account (API URL, key id). Only a fingerprint is kept. */
  material: readonly string[];
  /** The request's parameters that shape the reply, such as the ttl actually asked for and a region. */
  params: Readonly<Record<string, string>>;
}

export interface Provider {
  readonly name: ProviderName;
  /** How replies for a request of `ttlSeconds` are cached; absent: minted per request, never cached. */
  cacheIdentity?: (ttlSeconds: number) => CacheIdentity;
  /** Credentials, or an AppError `upstream_unavailable` whose reason is `provider:<name>:<why>`. */
  issue(request: ProviderRequest): Promise<ProviderResult>;
  /**
   * The answer `issue` would give, when the provider has it already and needs no await for it (coturn: a
   * credential this isolate minted this second for this user, with no fleet to steer to); else undefined.
   */
  known?(request: ProviderRequest): ProviderResult | undefined;
}
