/**
 * createIceServerClient: caches the endpoint's ICE servers until shortly before they expire,
 * shares one request between concurrent callers, refreshes ahead of expiry, backs off after a
 * failure (honouring Retry-After), falls back to public STUN, and keeps live peer connections
 * supplied with fresh credentials.
 *
 * Lifetimes are measured from the moment the request was sent plus the reply's `ttl`, on this
 * clock; `expiresAt` is the server's clock, and a browser's clock may be off by hours.
 */
import { IceServerError } from "./errors";
import { isIceServer, requestCredentials } from "./request";
import { cancel, schedule, type Timer } from "./timer";
import type { FetchLike, IceServer, IceServerClient, IceServerClientOptions, PeerConnectionLike } from "./types";

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

interface Cached {
  iceServers: IceServer[];
  /** Served without a request until here (expiry minus the margin). */
  refreshAt: number;
  /** Still served after a failed refresh until here. */
  expiresAt: number;
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

const isClosed = (pc: PeerConnectionLike): boolean => pc.connectionState === "closed" || pc.signalingState === "closed";

export function createIceServerClient(options: IceServerClientOptions): IceServerClient {
  const { endpoint, getToken, onError } = options;
  if (typeof endpoint !== "string" || endpoint === "") throw new TypeError("icegate: endpoint must be a URL");
  const marginMs = seconds(options.refreshMarginSeconds, 60, "refreshMarginSeconds");
  const timeoutMs = seconds(options.requestTimeoutSeconds, 10, "requestTimeoutSeconds");
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
  const watchers = new Set<(iceServers: IceServer[]) => void>();

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
        else load().catch(() => undefined);
      },
      Math.min(at - Date.now(), WAKE_CHECK_MS),
    );
  }

  function succeeded(iceServers: IceServer[], ttl: number, sentAt: number): void {
    const lifetimeMs = ttl * 1000;
    cache = {
      iceServers,
      expiresAt: sentAt + lifetimeMs,
      refreshAt: sentAt + lifetimeMs - Math.min(marginMs, lifetimeMs / 2),
    };
    lastError = undefined;
    failures = 0;
    retryAt = retryAfterAt = 0;
    arm(Math.max(cache.refreshAt, Date.now() + MIN_REFRESH_MS));
    for (const watcher of [...watchers]) watcher(iceServers);
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

  /** The one request in flight, started if there is none. */
  function load(): Promise<IceServer[]> {
    if (inflight) return inflight;
    const sentAt = Date.now();
    const started = generation;
    const request: Promise<IceServer[]> = requestCredentials(fetch, endpoint, getToken, timeoutMs)
      .then(
        ({ iceServers, ttl }) => {
          if (started === generation) succeeded(iceServers, ttl, sentAt);
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

  function keepFresh(pc: PeerConnectionLike): () => void {
    const stop = (): void => {
      watchers.delete(watcher);
    };
    const watcher = (iceServers: IceServer[]): void => {
      if (isClosed(pc)) return stop();
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: [...iceServers] });
      } catch (error) {
        if (isClosed(pc)) return stop();
        report(new IceServerError(0, "set_configuration_failed", "setConfiguration failed.", undefined, error));
      }
    };
    if (closed || isClosed(pc)) return stop;
    watchers.add(watcher);
    // A connection that started on the fallback gets credentials as soon as the back-off allows.
    if (!usable() && !inflight && timer === undefined) arm(retryAt);
    return stop;
  }

  function close(): void {
    closed = true;
    cancel(timer);
    timer = undefined;
    watchers.clear();
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
