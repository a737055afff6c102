/**
 * One request to the credentials endpoint: token, fetch, timeout, and a hand-written check of the
 * reply (no schema library: the SDK has a size budget). Every failure becomes an IceServerError.
 */
import { IceServerError } from "./errors";
import { cancel, schedule, type Timer } from "./timer";
import type { CredentialsResponse, FetchLike, IceServer, IceServerClientOptions } from "./types";

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === "string";

/** An RTCIceServer that `new RTCPeerConnection` accepts: urls present, and TURN urls with a username and credential. */
export function isIceServer(value: unknown): value is IceServer {
  if (!isRecord(value)) return false;
  const urls: unknown[] = Array.isArray(value.urls) ? value.urls : [value.urls];
  const turn = urls.some((url) => typeof url === "string" && /^turns?:/i.test(url));
  return (
    urls.length > 0 &&
    urls.every((url) => typeof url === "string" && url !== "") &&
    isOptionalString(value.username) &&
    isOptionalString(value.credential) &&
    (!turn || (typeof value.username === "string" && typeof value.credential === "string"))
  );
}

export function parseCredentials(value: unknown): CredentialsResponse | undefined {
  if (
    !isRecord(value) ||
    !Array.isArray(value.iceServers) ||
    !value.iceServers.every(isIceServer) ||
    typeof value.expiresAt !== "number" ||
    !Number.isFinite(value.expiresAt) ||
    typeof value.ttl !== "number" ||
    !(value.ttl > 0 && value.ttl < Infinity)
  ) {
    return undefined;
  }
  return { iceServers: value.iceServers, expiresAt: value.expiresAt, ttl: value.ttl };
}

/** Retry-After as delta-seconds or an HTTP date, in whole seconds from now. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : undefined;
}

/** What a browser's failed fetch means: it hides CORS refusals behind the same TypeError as a network failure. */
export const NETWORK_FAILURE =
  "The credentials request got no reply: a network failure, or a CORS refusal (usually this page's origin is not " +
  "in the worker's ALLOWED_ORIGINS; the browser console shows which).";

async function exchange(
  fetch: FetchLike,
  endpoint: string,
  getToken: IceServerClientOptions["getToken"],
  signal: AbortSignal | undefined,
): Promise<CredentialsResponse> {
  let token: unknown;
  try {
    token = await getToken?.();
  } catch (cause) {
    throw new IceServerError(0, "token_error", "getToken failed", undefined, cause);
  }
  // Accept is CORS-safelisted: an anonymous request needs no preflight.
  const headers: Record<string, string> = { Accept: "application/json" };
  if (typeof token === "string" && token !== "") headers.Authorization = `Bearer ${token}`;
  let status: number;
  let text: string;
  let retryAfter: string | null;
  let ok: boolean;
  try {
    const response = await fetch(endpoint, { method: "GET", headers, ...(signal && { signal }) });
    ({ ok, status } = response);
    retryAfter = response.headers.get("Retry-After");
    text = await response.text();
  } catch (cause) {
    throw new IceServerError(0, "network_error", NETWORK_FAILURE, undefined, cause);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!ok) {
    const error = isRecord(body) && isRecord(body.error) ? body.error : {};
    throw new IceServerError(
      status,
      typeof error.code === "string" ? error.code : "http_error",
      typeof error.message === "string" ? error.message : `HTTP ${status}`,
      parseRetryAfter(retryAfter),
    );
  }
  const credentials = parseCredentials(body);
  if (!credentials) {
    const problem = body === undefined ? "is not JSON" : "does not have the shape {iceServers, expiresAt, ttl}";
    throw new IceServerError(status, "invalid_response", `The credentials reply ${problem}.`);
  }
  return credentials;
}

/** Fetches credentials, or rejects with an IceServerError; gives up after `timeoutMs`. */
export async function requestCredentials(
  fetch: FetchLike,
  endpoint: string,
  getToken: IceServerClientOptions["getToken"],
  timeoutMs: number,
): Promise<CredentialsResponse> {
  const controller = typeof AbortController === "function" ? new AbortController() : undefined;
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = schedule(() => {
      reject(new IceServerError(0, "timeout", `No reply within ${timeoutMs} ms.`));
      controller?.abort();
    }, timeoutMs);
  });
  try {
    return await Promise.race([exchange(fetch, endpoint, getToken, controller?.signal), timeout]);
  } finally {
    cancel(timer);
  }
}
