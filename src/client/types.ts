/**
 * Public types of the browser SDK: the endpoint's reply, the client and its options, and the
 * minimal structural shapes of the WebRTC and fetch objects it touches. They are declared here,
 * not taken from the DOM library, so the SDK type-checks in the Worker's tsconfig too; a real
 * `RTCPeerConnection`, `RTCIceServer` and `fetch` fit them.
 */
import type { IceServerError } from "./errors";

/** The shape of `RTCIceServer`. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The 200 reply of `GET /api/turn/credentials`. */
export interface CredentialsResponse {
  iceServers: IceServer[];
  /** Epoch milliseconds, by the server's clock. */
  expiresAt: number;
  /** Seconds the credentials live from the moment they were issued. */
  ttl: number;
}

/** The part of `RTCConfiguration` that `keepFresh` reads and writes. */
export interface PeerConfiguration {
  iceServers?: IceServer[];
}

/** One entry of `getStats()`: the fields keepFresh reads of transports, candidate pairs and candidates. */
export interface StatsEntry {
  id: string;
  type: string;
  selectedCandidatePairId?: string;
  selected?: boolean;
  nominated?: boolean;
  state?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
  candidateType?: string;
  bytesSent?: number;
  bytesReceived?: number;
}

/** The events keepFresh listens to; `errorCode` is set on `icecandidateerror`. */
export interface PeerEventLike {
  readonly type: string;
  readonly errorCode?: number;
}

/**
 * What `keepFresh` needs of an `RTCPeerConnection`. Only the configuration methods are required:
 * without the rest (events, `restartIce`, `getStats`), keepFresh only applies fresh credentials.
 */
export interface PeerConnectionLike {
  readonly connectionState?: string;
  readonly signalingState?: string;
  readonly iceConnectionState?: string;
  readonly currentRemoteDescription?: { readonly sdp: string } | null;
  readonly pendingRemoteDescription?: { readonly sdp: string } | null;
  getConfiguration(): PeerConfiguration;
  setConfiguration(configuration: PeerConfiguration): void;
  restartIce?(): void;
  getStats?(): Promise<{ forEach(callback: (entry: StatsEntry) => void): void }>;
  addEventListener?(type: string, listener: (event: PeerEventLike) => void): void;
  removeEventListener?(type: string, listener: (event: PeerEventLike) => void): void;
}

/**
 * Why keepFresh restarted ICE: `expiry` (the credentials in use are about to expire and the call is
 * relayed), `disconnected` (ICE disconnected beyond a short grace, or traffic stopped on a busy
 * connection), `failed` (ICE failed), `refused` (a TURN server answered 401 to the credential in use).
 */
export type RestartReason = "expiry" | "disconnected" | "failed" | "refused";

export interface KeepFreshOptions {
  /** ICE restarts ahead of expiry and after a failure. Default true; false only applies fresh credentials. */
  restartIce?: boolean;
  /** Called after each `restartIce()` keepFresh makes, with the reason. */
  onRestart?: (reason: RestartReason) => void;
}

/** The part of a fetch `Response` the client reads. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export type FetchLike = (
  input: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
) => Promise<ResponseLike>;

export type TokenResult = string | null | undefined;

export interface IceServerClientOptions {
  /** URL of `GET /api/turn/credentials`. */
  endpoint: string;
  /** Bearer token for each request; none (absent, or returns nothing) means an anonymous request. */
  getToken?: () => TokenResult | Promise<TokenResult>;
  /** Served when no credentials can be had. Default: a public STUN server. */
  fallbackIceServers?: IceServer[];
  /** Refresh this long before expiry. Default 60; never more than half the ttl. */
  refreshMarginSeconds?: number;
  /** Give up on a request after this long. Default 10. */
  requestTimeoutSeconds?: number;
  /** Default: `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Called once per failed request (not once per waiting caller), and when `setConfiguration` throws. */
  onError?: (error: IceServerError) => void;
}

export interface IceServerClient {
  /** The cached or freshly fetched servers; on failure, unexpired cached ones or else the fallback. Never rejects. */
  getIceServers(): Promise<IceServer[]>;
  /** As `getIceServers`, but rejects with an `IceServerError` instead of answering with the fallback. */
  getIceServersOrThrow(): Promise<IceServer[]>;
  /** The latest failure; cleared by the next success. */
  readonly lastError: IceServerError | undefined;
  /** Drops the cached credentials, cancels the scheduled refresh and lifts the client's own back-off (not a Retry-After). */
  clearCache(): void;
  /**
   * Keeps `pc` supplied with fresh credentials and, unless `restartIce: false`, its relayed call up:
   * an ICE restart ahead of expiry, and after a disconnect, failure or refused credential (the
   * application's `negotiationneeded` handler renegotiates). Until the returned function is called or `pc` closes.
   */
  keepFresh(pc: PeerConnectionLike, options?: KeepFreshOptions): () => void;
  /** Stops every timer and every `keepFresh`. The client still answers, fetching on demand. */
  close(): void;
  /** Same as `close`. */
  dispose(): void;
}
