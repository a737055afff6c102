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

/** What `keepFresh` needs of an `RTCPeerConnection`. */
export interface PeerConnectionLike {
  readonly connectionState?: string;
  readonly signalingState?: string;
  getConfiguration(): PeerConfiguration;
  setConfiguration(configuration: PeerConfiguration): void;
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
  /** Puts each new set of credentials into `pc` until the returned function is called or `pc` closes. */
  keepFresh(pc: PeerConnectionLike): () => void;
  /** Stops every timer and every `keepFresh`. The client still answers, fetching on demand. */
  close(): void;
  /** Same as `close`. */
  dispose(): void;
}
