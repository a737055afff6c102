/**
 * GET /api/turn/credentials: `{"iceServers","expiresAt","ttl"}` for the authenticated caller.
 * `?ttl=` may shorten the lifetime; a longer one is cut to the configured maximum.
 */
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { authorize } from "../auth/authorize";
import { loadConfig, MIN_TTL_SECONDS } from "../config";
import { issueTurnCredentials } from "../credentials/issue";
import { NO_STORE_HEADERS } from "../http/headers";
import { parseParams } from "../http/query";

export const CredentialsQuery = z.strictObject({
  ttl: z.optional(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,7}$/, "a whole number of seconds")), z.transform(Number)),
      z.number().check(z.gte(MIN_TTL_SECONDS)),
    ),
  ),
});

export const credentials = new Hono<AppEnv>().get("/", async (c) => {
  const config = loadConfig(c.env);
  const query = parseParams(c.req.queries(), CredentialsQuery);
  const principal = await authorize(c, config);
  const ttl = Math.min(query.ttl ?? config.turn.ttlSeconds, config.turn.ttlSeconds);
  const issued = await issueTurnCredentials(principal, config.turn, ttl);
  c.get("log").provider = "coturn";
  return c.json(
    { iceServers: issued.iceServers, expiresAt: issued.expiresAt * 1000, ttl: issued.ttl },
    200,
    NO_STORE_HEADERS,
  );
});
