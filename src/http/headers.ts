/**
 * Reply headers: security headers on every response (the API's CSP unless a route set its own,
 * as the check page does), and the no-store set on anything that carries a credential, so no
 * browser, proxy or CDN keeps one.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";

export const NO_STORE_HEADERS = {
  "Cache-Control": "no-store",
  Pragma: "no-cache",
  Vary: "Origin, Authorization",
} as const;

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** On every reply; a route may give its own Content-Security-Policy instead of the API's. */
const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": API_CSP,
} as const;

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
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeaders(c, next) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    await next();
    if (c.res.headers.has("X-Content-Type-Options")) return;
    const own = c.res.headers.has("Content-Security-Policy");
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!(own && name === "Content-Security-Policy")) c.header(name, value);
    }
  };
}
