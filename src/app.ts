/**
 * Builds the icegate app: middleware, routes, and the one error path. Every error, thrown
 * anywhere, leaves as `{"error":{"code","message"}}`; the detailed reason goes to the log line.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "./app-env";
import { originPolicy } from "./auth/origin";
import { AppError } from "./errors";
import { requestTooLarge } from "./http/bounds";
import { completeSecurityHeaders, presetSecurityHeaders } from "./http/headers";
import { startRequestLog, writeRequestLog } from "./log";
import { revocations, revoke } from "./routes/admin";
import { checkIcon, checkPage, checkScript, checkStyle } from "./routes/check";
import { credentials } from "./routes/credentials";
import { health } from "./routes/health";
import { openapi } from "./routes/openapi";
import { rest } from "./routes/rest";

/** Each path, and the methods it answers; any other method gets 405 with `Allow`. */
const ROUTES = {
  "/api/turn/credentials": "GET, OPTIONS",
  "/api/turn/rest": "GET, POST, OPTIONS",
  "/healthz": "GET",
  "/check": "GET",
  "/check/app.js": "GET",
  "/check/app.css": "GET",
  "/check/icon.svg": "GET",
  "/openapi.json": "GET",
} as const;
const ALLOWED_METHODS: Readonly<Record<string, string>> = ROUTES;

/**
 * One app, every handler registered on it directly: no sub-apps to build and merge at startup (each
 * `new Hono()` builds its own routers, and `app.route` copies their routes over).
 */
export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The request log and the security headers in one middleware frame (one composition step, not two):
  // the headers are completed before the log line reads the reply's status.
  // The bounds are checked in the same frame, before anything reads the request.
  app.use(async function edge(c, next) {
    const started = startRequestLog(c);
    presetSecurityHeaders(c);
    const tooLarge = requestTooLarge(c);
    if (tooLarge) c.res = errorResponse(tooLarge, c);
    else await next();
    completeSecurityHeaders(c);
    writeRequestLog(c, started);
  });
  app.use("/api/turn/credentials", originPolicy(ROUTES["/api/turn/credentials"]));
  app.use("/api/turn/rest", originPolicy(ROUTES["/api/turn/rest"]));

  app.get("/api/turn/credentials", credentials);
  app.on(["GET", "POST"], "/api/turn/rest", rest);
  app.get("/healthz", health);
  app.get("/check", checkPage);
  app.get("/check/app.js", checkScript);
  app.get("/check/app.css", checkStyle);
  app.get("/check/icon.svg", checkIcon);
  app.get("/openapi.json", openapi);
  // Not in ROUTES: without ADMIN_API_TOKEN these routes do not exist (404), whatever the method.
  app.post("/api/admin/revoke", revoke);
  app.get("/api/admin/revocations", revocations);

  // A known path asked with another method (OPTIONS without CORS included) is a 405 naming what it answers.
  app.notFound((c) => {
    const allow = Object.hasOwn(ALLOWED_METHODS, c.req.path) ? ALLOWED_METHODS[c.req.path] : undefined;
    if (allow !== undefined) {
      return new AppError("method_not_allowed", "This method is not allowed here.", {
        headers: { Allow: allow },
      }).toResponse();
    }
    return new AppError("not_found", "No such route.").toResponse();
  });
  app.onError(errorResponse);
  return app;
}

/** The one error path: an AppError answers as itself, with its reason logged; anything else is a 500. */
function errorResponse(error: Error, c: Context<AppEnv>): Response {
  const log = c.get("log") ?? {};
  if (error instanceof AppError) {
    if (error.reason) log.reason = error.reason;
    return error.toResponse();
  }
  // Anything else is a bug: log its type only (messages can carry request data), answer generically.
  log.error = error.name;
  return new AppError("internal_error", "Internal error.").toResponse();
}
