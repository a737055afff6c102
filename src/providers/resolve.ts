/**
 * Credentials for one request from the providers of TURN_PROVIDERS. `failover`: the first provider
 * that answers, in order (cached credentials are an answer). `merge`: every provider that answers,
 * combined (one entry per credential, no URL twice, at most MAX_ICE_SERVERS entries, the earliest
 * expiry), leaving out one whose credential would cut the whole reply short. Every reply holds at most
 * MAX_ICE_URLS URLs (shapeIceServers). Managed providers go through the cache tiers, one credential
 * per provider for every `?ttl=` (asked for TURN_TTL_SECONDS, the reply's ttl cut to what was asked);
 * every upstream call runs under the provider's circuit breaker and PROVIDER_TIMEOUT_MS. When nobody
 * answers: 503 `upstream_unavailable`.
 */
import { type CacheScope, credentialsKey } from "../cache/keys";
import { remember } from "../bounded";
import { cachedCredentials, type Fresh, resetCacheTiers, type TierOptions } from "../cache/tiered";
import type { Config } from "../config";
import type { IceServer } from "../credentials/issue";
import { AppError } from "../errors";
import type { SteeredUrls } from "../fleet";
import { breakerAllows, recordSuccess, resetBreakers, withBreaker } from "./breaker";
import { UPSTREAM_MESSAGE } from "./http";
import { servedIceServers } from "./ice";
import type { Provider, ProviderName, ProviderRequest } from "./provider";
import { configuredProviders, providersNamed } from "./registry";

/** How much longer than PROVIDER_TIMEOUT_MS a request waits for an upstream call another request made. */
const WAIT_GRACE_MS = 1000;
export const UPSTREAM_RETRY_AFTER_SECONDS = 10;

export interface ResolveInput {
  config: Config;
  sub: string;
  userHash: string;
  /** Already within TURN_TTL_SECONDS. */
  ttlSeconds: number;
  now: number;
  kv: KVNamespace | undefined;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Fleet steering for the coturn provider, computed only if coturn is asked. */
  steer?: () => Promise<SteeredUrls | undefined>;
  /** Another list than TURN_PROVIDERS, asked in failover mode (the REST broker's TURN_REST_PROVIDERS). */
  only?: readonly ProviderName[];
}

export interface Resolved {
  iceServers: readonly IceServer[];
  /** Epoch ms. */
  expiresAt: number;
  /** Seconds left, never more than asked for. */
  ttl: number;
  /** Who answered, for the log: `cloudflare`, or `coturn+cloudflare` when merged. */
  provider: string;
  /** Why the providers before it failed, and tolerated cache problems, for the log's `reason`. */
  reasons: string[];
}

interface Answer {
  provider: ProviderName;
  fresh: Fresh;
}

export async function resolveCredentials(input: ResolveInput): Promise<Resolved> {
  const { config } = input;
  const reasons: string[] = [];
  const failed = (provider: Provider, error: unknown): undefined => {
    // A configuration mistake (a bad TURN_FLEET, say) is the operator's to fix, not a reason to fail over.
    if (error instanceof AppError && error.code === "not_configured") throw error;
    reasons.push(error instanceof AppError && error.reason ? error.reason : `provider:${provider.name}:error`);
    return undefined;
  };
  /** An answer from the isolate's cache comes back as it is; anything else as a promise. */
  const attempt = (provider: Provider): Answer | undefined | Promise<Answer | undefined> => {
    let fresh: Fresh | Promise<Fresh>;
    try {
      fresh = fromProvider(provider, input, reasons);
    } catch (error) {
      return failed(provider, error);
    }
    if (!(fresh instanceof Promise)) return { provider: provider.name, fresh };
    return fresh.then(
      (value) => ({ provider: provider.name, fresh: value }),
      (error: unknown) => failed(provider, error),
    );
  };
  const providers = input.only ? providersNamed(config, input.only) : configuredProviders(config);
  let answers: Answer[] = [];
  if (config.upstream.mode === "merge" && !input.only) {
    for (const answer of await Promise.all(providers.map(attempt))) if (answer) answers.push(answer);
    answers = lasting(answers, input, reasons);
  } else {
    for (const provider of providers) {
      const pending = attempt(provider);
      const answer = pending instanceof Promise ? await pending : pending;
      if (answer) {
        answers.push(answer);
        break;
      }
    }
  }
  if (answers.length === 0) {
    throw new AppError("upstream_unavailable", UPSTREAM_MESSAGE, {
      reason: reasons.join(","),
      headers: { "Retry-After": String(UPSTREAM_RETRY_AFTER_SECONDS) },
    });
  }
  // A shared credential may last longer than asked: the reply says no more than was asked.
  const expiresAt = Math.min(input.now + input.ttlSeconds * 1000, ...answers.map((answer) => answer.fresh.expiresAt));
  return {
    iceServers: servedIceServers(
      answers.map((answer) => answer.fresh.iceServers),
      config.upstream.maxIceServers,
      config.upstream.maxIceUrls,
    ),
    expiresAt,
    ttl: Math.min(input.ttlSeconds, Math.ceil((expiresAt - input.now) / 1000)),
    provider: answers.map((answer) => answer.provider).join("+"),
    reasons,
  };
}

/**
 * Merge mode: the answers without one that would cut the whole reply to seconds, that is, with less
 * left than CACHE_MIN_REMAINING_SECONDS (or the ttl asked for, if shorter). When all are that short,
 * the longest-lived one.
 */
function lasting(answers: Answer[], input: ResolveInput, reasons: string[]): Answer[] {
  if (answers.length < 2) return answers;
  const floor = input.now + Math.min(input.config.cache.minRemainingSeconds, input.ttlSeconds) * 1000;
  const kept = answers.filter((answer) => answer.fresh.expiresAt >= floor);
  for (const answer of answers) if (!kept.includes(answer)) reasons.push(`provider:${answer.provider}:short_lived`);
  if (kept.length > 0) return kept;
  const longest = answers.reduce((a, b) => (b.fresh.expiresAt > a.fresh.expiresAt ? b : a));
  return [longest];
}

/** Each cached provider's cache keys, by ttl and scope: made once (a fingerprint), then looked up. */
const cacheKeys = new WeakMap<Provider, Map<string, string>>();
const MAX_CACHE_KEYS = 1024;

function fromProvider(provider: Provider, input: ResolveInput, reasons: string[]): Fresh | Promise<Fresh> {
  const { config } = input;
  const { timeoutMs } = config.upstream;
  // A cached provider is asked for the longest lifetime, so every `?ttl=` shares its one credential.
  const ttlSeconds = provider.cacheIdentity ? config.turn.ttlSeconds : input.ttlSeconds;
  const requestAt = (now: number): ProviderRequest => {
    let signal: AbortSignal | undefined;
    return {
      sub: input.sub,
      userHash: input.userHash,
      perUserId: config.cache.scope === "user" ? input.userHash : undefined,
      ttlSeconds,
      now,
      // Made when a provider reads it (one that calls out): local minting starts no timer.
      get signal() {
        return (signal ??= AbortSignal.timeout(timeoutMs));
      },
      steer: input.steer,
    };
  };
  const call = (now: number) => withBreaker(provider.name, () => provider.issue(requestAt(now)), now);
  if (!provider.cacheIdentity) {
    // What the provider has already (coturn's credential minted this second) is a success like any other.
    const known = provider.known?.(requestAt(input.now));
    if (known && breakerAllows(provider.name, input.now)) {
      recordSuccess(provider.name);
      return known;
    }
    return call(input.now).then((fresh) => {
      for (const reason of fresh.dropped ?? []) reasons.push(`provider:${provider.name}:dropped_${reason}`);
      return fresh;
    });
  }
  const userScope = config.cache.scope === "user";
  const options: TierOptions = {
    provider: provider.name,
    kv: input.kv,
    now: input.now,
    minRemainingSeconds: config.cache.minRemainingSeconds,
    waitMs: timeoutMs + WAIT_GRACE_MS,
    waitUntil: input.waitUntil,
    note: (reason) => reasons.push(reason),
    report: (event, reason) =>
      console.log(JSON.stringify({ msg: "provider_cache", event, provider: provider.name, reason })),
  };
  let keys = cacheKeys.get(provider);
  if (!keys) cacheKeys.set(provider, (keys = new Map()));
  const slot = userScope ? `${ttlSeconds}:${input.userHash}` : `${ttlSeconds}`;
  const knownKey = keys.get(slot);
  if (knownKey !== undefined) return cachedCredentials(knownKey, call, options);
  const scope: CacheScope = userScope ? { kind: "user", userHash: input.userHash } : { kind: "global" };
  const identity = provider.cacheIdentity(ttlSeconds);
  return credentialsKey(provider.name, identity, scope).then((key) => {
    remember(keys, slot, key, MAX_CACHE_KEYS);
    return cachedCredentials(key, call, options);
  });
}

/** Forgets this isolate's cached credentials, calls under way and circuit states. For tests (beforeEach). */
export function resetProviderState(): void {
  resetCacheTiers();
  resetBreakers();
}
