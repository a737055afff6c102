/**
 * createIceServerClient: caches the endpoint's ICE servers until shortly before they expire,
 * shares one request between concurrent callers, refreshes ahead of expiry, backs off after a
 * failure (honouring Retry-After), falls back to public STUN, and keeps live peer connections
 * supplied with fresh credentials and their relayed calls up (keep.ts).
 *
 * Lifetimes are measured from the moment the request was sent plus the reply's `ttl`, on this
 * clock; `expiresAt` is the server's clock, and a browser's clock may be off by hours.
 */
import { IceServerError } from "./errors";
import { isIceServer, requestCredentials } from "./request";
import { cancel, schedule, type Timer } from "./timer";
import { isClosed, keep, type Kept } from "./keep";
import type {
  FetchLike,
  IceServer,
  IceServerClient,
  IceServerClientOptions,
  KeepFreshOptions,
  PeerConnectionLike,
} from "./types";

const DEFAULT_FALLBACK: IceServer[] = [{ urls: "stun:stun.l.google.com:19302" }];
/** Back-off after the first failure, doubling per failure up to the cap, plus up to half again as jitter. */
const BACKOFF_FIRST_MS = 2_000;
const BACKOFF_MAX_MS = 60_000;
/** The scheduled refresh never runs more often than this, whatever ttl a server sends. */
const MIN_REFRESH_MS = 5_000;
/**
 * A long timer is split into waits of at most this, each checking the wall clock: browsers do not
 * count time asleep against setTimeout, so one hour-long timer could fire long after expiry.
 */
const WAKE_CHECK_MS = 60_000;
/** The default refreshMarginSeconds: fresh credentials and an ICE restart this long before expiry. */
export const DEFAULT_REFRESH_MARGIN_SECONDS = 60;
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 10;
/** A renewal (cache bypass) this soon after the last reply is served that reply: one request for many connections. */
const RENEW_REUSE_MS = 3_000;

interface Cached {
  iceServers: IceServer[];
  /** Served without a request until here (expiry minus the margin). */
  refreshAt: number;
  /** Still served after a failed refresh until here. */
  expiresAt: number;
  /** When its request was sent. */
  sentAt: number;
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!(result >= 0 && result < Infinity)) throw new TypeError(`icegate: ${name} must be a number of seconds`);
  return result * 1000;
}

function defaultFetch(): FetchLike {
  const fetch = (globalThis as { fetch?: FetchLike }).fetch;
  if (typeof fetch !== "function") throw new TypeError("icegate: no global fetch; pass options.fetch");
  return fetch.bind(globalThis);
}

export function createIceServerClient(options: IceServerClientOptions): IceServerClient {
  const { endpoint, getToken, onError } = options;
  if (typeof endpoint !== "string" || endpoint === "") throw new TypeError("icegate: endpoint must be a URL");
  const marginMs = seconds(options.refreshMarginSeconds, DEFAULT_REFRESH_MARGIN_SECONDS, "refreshMarginSeconds");
  const timeoutMs = seconds(options.requestTimeoutSeconds, DEFAULT_REQUEST_TIMEOUT_SECONDS, "requestTimeoutSeconds");
  if (timeoutMs === 0) throw new TypeError("icegate: requestTimeoutSeconds must be more than 0");
  const fallback = options.fallbackIceServers ?? DEFAULT_FALLBACK;
  if (!Array.isArray(fallback) || !fallback.every(isIceServer)) {
    throw new TypeError("icegate: fallbackIceServers must be RTCIceServer objects");
  }
  const fetch = options.fetch ?? defaultFetch();

  let cache: Cached | undefined;
  let inflight: Promise<IceServer[]> | undefined;
  let lastError: IceServerError | undefined;
  let failures = 0;
  /** No request before this time. */
  let retryAt = 0;
  /** The part of `retryAt` the server asked for with Retry-After; clearCache keeps it. */
  let retryAfterAt = 0;
  /** Bumped by clearCache: a reply to an older request is not cached. */
  let generation = 0;
  let timer: Timer | undefined;
  let closed = false;
  const watchers = new Set<Kept>();

  const usable = (): Cached | undefined => (cache && Date.now() < cache.expiresAt ? cache : undefined);

  function report(error: IceServerError): void {
    try {
      onError?.(error);
    } catch {
      // A throwing onError must not break the client.
    }
  }

  function arm(at: number): void {
    cancel(timer);
    timer = undefined;
    if (closed) return;
    timer = schedule(
      () => {
        timer = undefined;
        if (Date.now() < at) arm(at);
        else load(true).catch(() => undefined);
      },
      Math.min(at - Date.now(), WAKE_CHECK_MS),
    );
  }

  function succeeded(iceServers: IceServer[], ttl: number, sentAt: number, expiring: boolean): void {
    const lifetimeMs = ttl * 1000;
    cache = {
      iceServers,
      sentAt,
      expiresAt: sentAt + lifetimeMs,
      refreshAt: sentAt + lifetimeMs - Math.min(marginMs, lifetimeMs / 2),
    };
    lastError = undefined;
    failures = 0;
    retryAt = retryAfterAt = 0;
    arm(Math.max(cache.refreshAt, Date.now() + MIN_REFRESH_MS));
    for (const watcher of [...watchers]) watcher.update(iceServers, expiring);
  }

  function failed(error: IceServerError): void {
    const now = Date.now();
    lastError = error;
    failures++;
    const backoff = Math.min(BACKOFF_FIRST_MS * 2 ** (failures - 1), BACKOFF_MAX_MS) * (1 + Math.random() / 2);
    retryAfterAt = error.retryAfterSeconds === undefined ? 0 : now + error.retryAfterSeconds * 1000;
    retryAt = Math.max(now + backoff, retryAfterAt);
    // Retry in the background only for someone who needs it: a live connection, or credentials about to lapse.
    if (watchers.size > 0 || usable()) arm(retryAt);
    report(error);
  }

  /** The one request in flight, started if there is none; `expiring`: the scheduled refresh ahead of expiry. */
  function load(expiring = false): Promise<IceServer[]> {
    if (inflight) return inflight;
    const sentAt = Date.now();
    const started = generation;
    const request: Promise<IceServer[]> = requestCredentials(fetch, endpoint, getToken, timeoutMs)
      .then(
        ({ iceServers, ttl }) => {
          if (started === generation) succeeded(iceServers, ttl, sentAt, expiring);
          return iceServers;
        },
        (error: unknown) => {
          const failure =
            error instanceof IceServerError
              ? error
              : new IceServerError(0, "network_error", String(error), undefined, error);
          if (started === generation) failed(failure);
          throw failure;
        },
      )
      .finally(() => {
        if (inflight === request) inflight = undefined;
      });
    inflight = request;
    return request;
  }

  async function getIceServersOrThrow(): Promise<IceServer[]> {
    if (cache && Date.now() < cache.refreshAt) return [...cache.iceServers];
    if (!inflight && Date.now() < retryAt && lastError) {
      const stale = usable();
      if (stale) return [...stale.iceServers];
      throw lastError;
    }
    try {
      return [...(await load())];
    } catch (error) {
      const stale = usable();
      if (stale) return [...stale.iceServers];
      throw error;
    }
  }

  /** Fresh servers past the cache, unless a reply has just come, or the back-off or a Retry-After holds. */
  function renew(): Promise<IceServer[]> {
    const now = Date.now();
    return (cache && now - cache.sentAt < RENEW_REUSE_MS) || now < retryAt ? getIceServersOrThrow() : load();
  }

  function keepFresh(pc: PeerConnectionLike, keepOptions: KeepFreshOptions = {}): () => void {
    if (closed || isClosed(pc)) return () => undefined;
    const kept = keep(
      pc,
      {
        renew,
        failed: (error) =>
          report(new IceServerError(0, "set_configuration_failed", "setConfiguration failed.", undefined, error)),
      },
      keepOptions,
      () => watchers.delete(kept),
    );
    watchers.add(kept);
    // A connection that started on the fallback gets credentials as soon as the back-off allows.
    if (!usable() && !inflight && timer === undefined) arm(retryAt);
    return kept.stop;
  }

  function close(): void {
    closed = true;
    cancel(timer);
    timer = undefined;
    for (const watcher of [...watchers]) watcher.stop();
  }

  return {
    getIceServersOrThrow,
    getIceServers: () => getIceServersOrThrow().catch(() => [...fallback]),
    get lastError() {
      return lastError;
    },
    clearCache() {
      cache = inflight = undefined;
      generation++;
      failures = 0;
      retryAt = retryAfterAt;
      cancel(timer);
      timer = undefined;
    },
    keepFresh,
    close,
    dispose: close,
  };
}
