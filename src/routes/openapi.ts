/**
 * GET /openapi.json: the API description, generated at build time from the zod schemas that
 * validate requests (`npm run openapi`). The worker holds it as the finished JSON text
 * (openapi.body.generated.ts), so neither startup nor a request builds or serialises it.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { OPENAPI_BODY } from "../openapi/openapi.body.generated";

export function openapi(c: Context<AppEnv>): Response {
  return c.body(OPENAPI_BODY, 200, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
  });
}
