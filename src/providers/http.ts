/**
 * The HTTP edge of the managed providers: one call with the request's timeout signal, no redirects
 * followed (a token never travels to another host), a bounded body, JSON parsed and checked with zod.
 * Every way it can go wrong becomes an AppError `upstream_unavailable` with the reason
 * `provider:<name>:<why>` (status_500, timeout, network, malformed_json, schema, …) and never carries
 * a URL, a token or a body.
 */
import type * as z from "zod/mini";
import { AppError } from "../errors";
import type { ProviderName } from "./provider";

const MAX_REPLY_CHARS = 64 * 1024;

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
  let text: string;
  let status: number;
  try {
    const response = await fetch(call.url, { ...call.init, signal: call.signal, redirect: "manual" });
    status = response.status;
    text = await response.text();
  } catch {
    throw aborted();
  }
  if (status < 200 || status > 299) throw failed(call.statusReason?.(status) ?? `status_${status}`);
  if (text.length > MAX_REPLY_CHARS) throw failed("too_large");
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
