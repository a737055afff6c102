/**
 * One structured JSON line per request: route, status, duration, the user id's keyed hash and
 * the provider used. It never holds a secret, a token, an Authorization header or a credential:
 * handlers add only the named fields below, and a test scans the lines for leaks.
 */
import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "./app-env";

export interface LogFields {
  /** 16 hex digits of a keyed hash; never the raw id. */
  user?: string;
  provider?: string;
  /** Why the request failed, for operators: a short code such as `token:ERR_JWT_EXPIRED`. */
  reason?: string;
  error?: string;
  /** Operator routes (audit): the operator token's fingerprint, what was asked, and what came of it. */
  operator?: string;
  action?: string;
  result?: string;
  /** "stale": the deny list could not be read from KV, and this isolate's last known copy answered. */
  denyList?: string;
}

export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = startRequestLog(c);
    await next();
    writeRequestLog(c, started);
  };
}

/** Before the route: the fields handlers fill in. Returns the start time for writeRequestLog. */
export function startRequestLog(c: Context<AppEnv>): number {
  c.set("log", {});
  return Date.now();
}

/** After the route: the one line, with the reply's status and what the handlers recorded. */
export function writeRequestLog(c: Context<AppEnv>, started: number): void {
  const fields = c.get("log");
  console.log(
    JSON.stringify({
      msg: "request",
      method: c.req.method,
      route: routePath(c),
      status: c.res.status,
      durationMs: Date.now() - started,
      ray: c.req.header("cf-ray"),
      ...fields,
    }),
  );
}
