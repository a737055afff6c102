/**
 * GET /healthz: status, version, the configured providers and a short SHA-256 fingerprint of
 * each secret in use, so an operator can see which value is live in each environment.
 * Never a secret.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { loadConfig } from "../config";
import { fingerprint } from "../crypto";
import { VERSION } from "../version";

export const health = new Hono<AppEnv>().get("/", async (c) => {
  const config = loadConfig(c.env);
  const secrets: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(config.secrets)) {
    secrets[name] = Array.isArray(value) ? await Promise.all(value.map(fingerprint)) : await fingerprint(value);
  }
  return c.json({ status: "ok", version: VERSION, providers: config.providers, secrets }, 200, {
    "Cache-Control": "no-store",
  });
});
