/**
 * Credentials for one request from the providers of TURN_PROVIDERS. `failover`: the first provider
 * that answers, in order (cached credentials are an answer). `merge`: every provider that answers,
 * combined (one entry per credential, no URL twice, at most MAX_ICE_SERVERS entries, the earliest
 * expiry). Managed providers go through the cache tiers; every upstream call runs under the provider's
 * circuit breaker and PROVIDER_TIMEOUT_MS. When nobody answers: 503 `upstream_unavailable`.
 */
import { type CacheScope, credentialsKey } from "../cache/keys";
import { cachedCredentials, type Fresh, resetCacheTiers } from "../cache/tiered";
import type { Config } from "../config";
import type { IceServer } from "../credentials/issue";
import { AppError } from "../errors";
import type { SteeredUrls } from "../fleet";
import { resetBreakers, withBreaker } from "./breaker";
import { UPSTREAM_MESSAGE } from "./http";
import { servedIceServers } from "./ice";
import type { Provider, ProviderName } from "./provider";
import { configuredProviders } from "./registry";

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
  const attempt = (provider: Provider): Promise<Answer | undefined> =>
    fromProvider(provider, input, reasons).then(
      (fresh) => ({ provider: provider.name, fresh }),
      (error: unknown) => {
        reasons.push(error instanceof AppError && error.reason ? error.reason : `provider:${provider.name}:error`);
        return undefined;
      },
    );
  const providers = configuredProviders(config);
  const answers: Answer[] = [];
  if (config.upstream.mode === "merge") {
    for (const answer of await Promise.all(providers.map(attempt))) if (answer) answers.push(answer);
  } else {
    for (const provider of providers) {
      const answer = await attempt(provider);
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
  const expiresAt = Math.min(...answers.map((answer) => answer.fresh.expiresAt));
  return {
    iceServers: servedIceServers(
      answers.map((answer) => answer.fresh.iceServers),
      config.upstream.maxIceServers,
    ),
    expiresAt,
    ttl: Math.min(input.ttlSeconds, Math.ceil((expiresAt - input.now) / 1000)),
    provider: answers.map((answer) => answer.provider).join("+"),
    reasons,
  };
}

async function fromProvider(provider: Provider, input: ResolveInput, reasons: string[]): Promise<Fresh> {
  const { config } = input;
  const { timeoutMs } = config.upstream;
  const call = (now: number) =>
    withBreaker(
      provider.name,
      () => {
        let signal: AbortSignal | undefined;
        return provider.issue({
          sub: input.sub,
          userHash: input.userHash,
          perUserId: config.cache.scope === "user" ? input.userHash : undefined,
          ttlSeconds: input.ttlSeconds,
          now,
          // Made when a provider reads it (one that calls out): local minting starts no timer.
          get signal() {
            return (signal ??= AbortSignal.timeout(timeoutMs));
          },
          steer: input.steer,
        });
      },
      now,
    );
  if (!provider.cacheIdentity) return call(input.now);
  const scope: CacheScope =
    config.cache.scope === "user" ? { kind: "user", userHash: input.userHash } : { kind: "global" };
  const key = await credentialsKey(provider.name, provider.cacheIdentity(input.ttlSeconds), scope);
  return cachedCredentials(key, call, {
    provider: provider.name,
    kv: input.kv,
    now: input.now,
    minRemainingSeconds: config.cache.minRemainingSeconds,
    waitMs: timeoutMs + WAIT_GRACE_MS,
    waitUntil: input.waitUntil,
    note: (reason) => reasons.push(reason),
    report: (event, reason) =>
      console.log(JSON.stringify({ msg: "provider_cache", event, provider: provider.name, reason })),
  });
}

/** Forgets this isolate's cached credentials, calls under way and circuit states. For tests (beforeEach). */
export function resetProviderState(): void {
  resetCacheTiers();
  resetBreakers();
}
