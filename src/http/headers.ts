/**
 * Reply headers: security headers on every response (the API's CSP unless a route set its own,
 * as the check page does), and the no-store set on anything that carries a credential, so no
 * browser, proxy or CDN keeps one. `Cache-Control: no-store` is the whole of that for HTTP/1.1 caches;
 * HTTP/1.0's `Pragma: no-cache` is not sent (Workers speak HTTP/1.1 and later, and nothing reads it).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";

export const NO_STORE_HEADERS = {
  "Cache-Control": "no-store",
  Vary: "Origin, Authorization",
} as const;

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** On every reply; a route may give its own Content-Security-Policy instead of the API's. */
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": API_CSP,
} as const;
const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);

/**
 * Every header of a JSON reply that carries a credential: Content-Type, the security headers and the
 * no-store set. A route that answers with it whole, as one object to `new Response`, has workerd build
 * the reply's headers in one call instead of one call per header through Hono's context.
 */
export const CREDENTIAL_REPLY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "application/json",
  ...SECURITY_HEADERS,
  ...NO_STORE_HEADERS,
});

/** Routes that send their security headers themselves (CREDENTIAL_REPLY_HEADERS), on every reply they build. */
const OWN_HEADER_PATHS = new Set(["/api/turn/credentials"]);

/**
 * The check page (GET /check): its own script and stylesheet only, requests to its own origin only
 * (the credentials endpoint), no images but its own icon, no forms posted anywhere, never framed. Its probes are
 * WebRTC, which CSP does not govern.
 */
export const CHECK_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Set before the handler runs, the headers go into the Response it builds (a route's own CSP, given with
 * its reply, replaces the API's). A reply built outside the context (an error's, a raw Response) gets them
 * afterwards: Hono copies a finished Response to change its headers, so that stays off the common path.
 * The credentials route builds its replies with all of them (CREDENTIAL_REPLY_HEADERS): nothing is set
 * ahead for it, and its error replies get them afterwards like any other.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeaders(c, next) {
    presetSecurityHeaders(c);
    await next();
    completeSecurityHeaders(c);
  };
}

/** Before the route: the headers into the context, for the Response the route builds with it. */
export function presetSecurityHeaders(c: Context<AppEnv>): void {
  if (!OWN_HEADER_PATHS.has(c.req.path)) for (const [name, value] of SECURITY_ENTRIES) c.header(name, value);
}

/** After the route: onto a reply built without the context (an error's), unless it has them. */
export function completeSecurityHeaders(c: Context<AppEnv>): void {
  if (c.res.headers.has("X-Content-Type-Options")) return;
  const own = c.res.headers.has("Content-Security-Policy");
  for (const [name, value] of SECURITY_ENTRIES) {
    if (!(own && name === "Content-Security-Policy")) c.header(name, value);
  }
}
