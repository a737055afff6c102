/**
 * GET /healthz: status and version, for anyone (load balancers, smoke tests). With the operator
 * token (`Authorization: Bearer <ADMIN_API_TOKEN>`, src/auth/admin.ts) also the configured providers
 * and a short SHA-256 fingerprint of each secret in use, so an operator can see which value is live.
 * A fingerprint is a deterministic function of its secret, a test for guesses: it is never public.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { asksForOperator, requireOperator } from "../auth/admin";
import { loadConfig } from "../config";
import { fingerprint } from "../crypto";
import { VERSION } from "../version";

const NO_STORE = { "Cache-Control": "no-store" };

export async function health(c: Context<AppEnv>): Promise<Response> {
  const config = loadConfig(c.env);
  if (!asksForOperator(c)) return c.json({ status: "ok", version: VERSION }, 200, NO_STORE);
  await requireOperator(c, config, false);
  const secrets: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(config.secrets)) {
    secrets[name] = Array.isArray(value) ? await Promise.all(value.map(fingerprint)) : await fingerprint(value);
  }
  return c.json({ status: "ok", version: VERSION, providers: config.providers, secrets }, 200, NO_STORE);
}
