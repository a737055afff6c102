/**
 * The origin policy of the credential routes. A browser request whose Origin is not in
 * ALLOWED_ORIGINS gets 403 and no CORS headers; an allowed one gets CORS headers for its own
 * origin only, and its preflight is answered here. Requests with no Origin (servers, curl) pass.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AppError } from "../errors";
import { loadConfig } from "../config";

const PREFLIGHT_MAX_AGE_SECONDS = 600;

const ORIGIN_PARTS = /^(https?:\/\/)(\*\.)?([a-z0-9.-]+)(:\d{1,5})?$/;

/** Exact origins, `*`, or one leading wildcard label: `https://*.example.com` (any subdomain, same scheme and port). */
export function isOriginAllowed(origin: string, allowed: readonly string[]): boolean {
  const candidate = origin.toLowerCase();
  const parts = ORIGIN_PARTS.exec(candidate);
  if (!parts || parts[2]) return false;
  const [, scheme, , host = "", port = ""] = parts;
  return allowed.some((pattern) => {
    if (pattern === "*" || pattern === candidate) return true;
    const wanted = ORIGIN_PARTS.exec(pattern);
    if (!wanted?.[2]) return false;
    const [, wantedScheme, , suffix = "", wantedPort = ""] = wanted;
    return scheme === wantedScheme && port === wantedPort && host.endsWith(`.${suffix}`);
  });
}

export function originPolicy(methods: string): MiddlewareHandler<AppEnv> {
  return async function originPolicy(c, next) {
    const origin = c.req.header("Origin");
    if (origin === undefined) {
      if (c.req.method === "OPTIONS")
        throw new AppError("method_not_allowed", "OPTIONS is for CORS preflight only.", {
          headers: { Allow: methods },
        });
      return next();
    }
    const { allowedOrigins } = loadConfig(c.env);
    if (!isOriginAllowed(origin, allowedOrigins)) {
      throw new AppError("forbidden_origin", "This origin may not request credentials.", {
        reason: "origin:not_allowed",
      });
    }
    const cors = {
      "Access-Control-Allow-Origin": origin,
      // The client SDK honours Retry-After on 429; cross-origin pages only see it when exposed.
      "Access-Control-Expose-Headers": "Retry-After",
      Vary: "Origin, Authorization",
    };
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, {
        ...cors,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": String(PREFLIGHT_MAX_AGE_SECONDS),
      });
    }
    // Before the handler, so they go into the reply it builds; after, onto one built without the context.
    for (const [name, value] of Object.entries(cors)) c.header(name, value);
    await next();
    if (c.res.headers.get("Access-Control-Allow-Origin") === origin) return;
    for (const [name, value] of Object.entries(cors)) c.header(name, value);
  };
}
