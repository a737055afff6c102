/**
 * The HTTP edge of the managed providers: one call with the request's timeout signal, no redirects
 * followed (a token never travels to another host), JSON parsed and checked with zod. The status and
 * Content-Length are checked before the body is touched; an error reply's body is never read, and a
 * 2xx body is streamed with a 64 KiB cap (src/http/body.ts), so a huge reply fails fast into failover.
 * Every way it can go wrong becomes an AppError `upstream_unavailable` with the reason
 * `provider:<name>:<why>` (status_500, timeout, network, malformed_json, schema, …) and never carries
 * a URL, a token or a body.
 */
import type * as z from "zod/mini";
import { AppError } from "../errors";
import { BodyError, discardBody, readTextCapped } from "../http/body";
import type { ProviderName } from "./provider";

/** The largest provider reply read, in bytes: real ones are well under 4 KiB. */
export const MAX_REPLY_BYTES = 64 * 1024;

export const UPSTREAM_MESSAGE = "No TURN provider is available right now.";

export function providerError(provider: ProviderName, why: string): AppError {
  return new AppError("upstream_unavailable", UPSTREAM_MESSAGE, { reason: `provider:${provider}:${why}` });
}

export interface JsonCall {
  provider: ProviderName;
  url: string;
  init: RequestInit;
  signal: AbortSignal;
  /** A provider's own name for an error status, such as Metered's 401 `invalid_key`; otherwise `status_<n>`. */
  statusReason?: (status: number) => string | undefined;
}

/** The parsed JSON body of a 2xx reply. */
export async function fetchJson(call: JsonCall): Promise<unknown> {
  const failed = (why: string) => providerError(call.provider, why);
  const aborted = () => (call.signal.aborted ? failed("timeout") : failed("network"));
  let response: Response;
  try {
    response = await fetch(call.url, { ...call.init, signal: call.signal, redirect: "manual" });
  } catch {
    throw aborted();
  }
  const status = response.status;
  if (status < 200 || status > 299) {
    discardBody(response);
    throw failed(call.statusReason?.(status) ?? `status_${status}`);
  }
  let text: string;
  try {
    text = await readTextCapped(response, MAX_REPLY_BYTES);
  } catch (error) {
    if (error instanceof BodyError && error.why === "too_large") throw failed("too_large");
    throw aborted();
  }
  try {
    return JSON.parse(text);
  } catch {
    throw failed("malformed_json");
  }
}

/** `body` checked against a provider's reply schema, or a provider failure `schema`. */
export function parseReply<S extends z.ZodMiniType>(provider: ProviderName, schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw providerError(provider, "schema");
  return result.data;
}
