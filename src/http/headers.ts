/**
 * Reply headers: security headers on every response, and the no-store set on anything that
 * carries a credential, so no browser, proxy or CDN keeps one.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";

export const NO_STORE_HEADERS = {
  "Cache-Control": "no-store",
  Pragma: "no-cache",
  Vary: "Origin, Authorization",
} as const;

const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeaders(c, next) {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.res.headers.has("Content-Security-Policy")) c.header("Content-Security-Policy", API_CSP);
  };
}
