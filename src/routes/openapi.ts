/**
 * GET /openapi.json: the API description, generated at build time from the zod schemas that
 * validate requests (`npm run openapi`), so serving it costs no work per request.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import document from "../openapi/openapi.generated.json";

const body = JSON.stringify(document);

export const openapi = new Hono<AppEnv>().get("/", (c) =>
  c.body(body, 200, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
  }),
);
