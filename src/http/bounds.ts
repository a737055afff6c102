/**
 * Bounds on what a request may carry before any route looks at it: the URL (and so the query),
 * the header block, and the number of query parameters. Anything larger is a 400, unread.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";

export const MAX_URL_LENGTH = 2048;
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_QUERY_PARAMETERS = 16;

export function requestBounds(): MiddlewareHandler<AppEnv> {
  return async function requestBounds(c, next) {
    const url = c.req.url;
    if (url.length > MAX_URL_LENGTH) throw tooLarge("url");
    let headerBytes = 0;
    // forEach: one call into the runtime, not an iterator step and an entry array per header.
    c.req.raw.headers.forEach((value, name) => {
      headerBytes += name.length + value.length + 4;
    });
    if (headerBytes > MAX_HEADER_BYTES) throw tooLarge("headers");
    const query = url.indexOf("?");
    if (query !== -1 && url.slice(query + 1).split("&").length > MAX_QUERY_PARAMETERS) throw tooLarge("query");
    return next();
  };
}

const tooLarge = (part: string) =>
  new AppError("invalid_request", "The request is too large.", { reason: `bounds:${part}` });
