/**
 * Bounds on what a request may carry before any route looks at it: the URL (and so the query),
 * the header block, and the number of query parameters. Anything larger is a 400, unread.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";

export const MAX_URL_LENGTH = 2048;
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_QUERY_PARAMETERS = 16;

/** The 400 for a request over a bound, or undefined. Sync: the edge middleware calls it before any route. */
export function requestTooLarge(c: Context<AppEnv>): AppError | undefined {
  const url = c.req.url;
  if (url.length > MAX_URL_LENGTH) return tooLarge("url");
  let headerBytes = 0;
  // forEach: one call into the runtime, not an iterator step and an entry array per header.
  c.req.raw.headers.forEach((value, name) => {
    headerBytes += name.length + value.length + 4;
  });
  if (headerBytes > MAX_HEADER_BYTES) return tooLarge("headers");
  const query = url.indexOf("?");
  if (query !== -1 && url.slice(query + 1).split("&").length > MAX_QUERY_PARAMETERS) return tooLarge("query");
  return undefined;
}

const tooLarge = (part: string) =>
  new AppError("invalid_request", "The request is too large.", { reason: `bounds:${part}` });
