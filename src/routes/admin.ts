/**
 * Operator routes, behind `Authorization: Bearer <ADMIN_API_TOKEN>` (src/auth/admin.ts; 404 without the secret):
 * - POST /api/admin/revoke `{"user": "<token sub>"}` or `{"username": "<an issued TURN username>"}`, optional
 *   `"reason"`: icegate stops issuing to that user (deny entry in KV for the longest credential lifetime), the
 *   user's cached Cloudflare and Metered credentials are revoked there (src/admin/provider-revoke.ts), and the
 *   reply says per backend what was done. coturn and ExpressTURN credentials cannot be revoked one by one: they
 *   stay valid until they expire (docs/ROTATION.md, "Emergency: stop one user").
 * - GET /api/admin/revocations: the active deny entries (user hash, since, until, reason).
 * Every call's log line is the audit record: the operator token's fingerprint, the action and the result.
 */
import type { Context } from "hono";
import type * as z from "zod/mini";
import { schema } from "../zod";
import type { AppEnv } from "../app-env";
import { requireOperator } from "../auth/admin";
import { loadConfig, type Config } from "../config";
import { deny, listDenied } from "../admin/deny-list";
import { revokeAtProviders } from "../admin/provider-revoke";
import { hashedUserId, userHashOfTurnUserId } from "../credentials/user-id";
import { AppError, notConfigured } from "../errors";
import { BodyError, readTextCapped } from "../http/body";
import { NO_STORE_HEADERS } from "../http/headers";
import type { ProviderName } from "../providers/provider";

const MAX_BODY_BYTES = 4096;
/** Added to the longest credential lifetime: deploy propagation and clock drift. */
const MARGIN_SECONDS = 600;

const RevokeBody = schema((z) =>
  z.strictObject({
    user: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
    username: z.optional(z.string().check(z.minLength(1), z.maxLength(1200))),
    reason: z.optional(z.string().check(z.maxLength(200))),
  }),
);

const invalid = (reason: string) =>
  new AppError("invalid_request", 'The body must be {"user": …} or {"username": …}, with an optional "reason".', {
    reason: `admin:${reason}`,
  });

async function readBody(c: Context<AppEnv>): Promise<z.output<ReturnType<typeof RevokeBody>>> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw invalid("content_type");
  let text: string;
  try {
    text = await readTextCapped(new Response(c.req.raw.body), MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyError && error.why === "too_large") {
      throw new AppError("payload_too_large", "The body is over 4 KiB.");
    }
    throw invalid("body");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid("json");
  }
  const parsed = RevokeBody().safeParse(json);
  if (!parsed.success || (parsed.data.user === undefined) === (parsed.data.username === undefined)) {
    throw invalid("schema");
  }
  return parsed.data;
}

/** The longest lifetime of a credential icegate hands out now, plus a margin. */
function longestLifetime(config: Config): number {
  return config.turn.ttlSeconds + MARGIN_SECONDS;
}

/** What a revocation means at the backends that cannot revoke one credential (docs/ROTATION.md). */
const UNTIL_EXPIRY: Partial<Record<ProviderName, string>> = {
  coturn: "valid until expiry; hard cut: rotate TURN_SECRET",
  expressturn: "valid until expiry; hard cut: new ExpressTURN key",
  twilio: "valid until expiry",
};

function backendResults(config: Config): Record<string, { action: string; note: string }> {
  const results: Record<string, { action: string; note: string }> = {};
  for (const provider of config.providers) {
    const note = UNTIL_EXPIRY[provider];
    if (note) results[provider] = { action: "none", note };
  }
  return results;
}

/** POST /api/admin/revoke */
export async function revoke(c: Context<AppEnv>): Promise<Response> {
  const config = loadConfig(c.env);
  const operator = await requireOperator(c, config, true);
  const log = c.get("log");
  Object.assign(log, { operator: operator.tokenId, action: "revoke" });
  const body = await readBody(c);
  const kv = c.env.TURN_CACHE;
  if (!kv) throw notConfigured("TURN_CACHE");
  const userHash =
    body.user !== undefined
      ? await hashedUserId(body.user, config.turn.secret)
      : await userHashOfTurnUserId(body.username!, config.turn, config.turn.secret);
  if (userHash === undefined) throw invalid("username");
  log.user = userHash;
  const entry = await deny(kv, userHash, longestLifetime(config), body.reason);
  const atProviders = await revokeAtProviders(config, kv, userHash);
  const backends = {
    icegate: { action: "denied", note: "403 revoked; isolate caches 30 s, KV propagation up to 60 s" },
    ...backendResults(config),
    ...atProviders,
  };
  const providerResults = Object.entries(atProviders).map(([name, report]) => `,${name}:${report.action}`);
  log.result = `denied_until:${entry.until}${providerResults.join("")}`;
  return c.json(
    {
      user: userHash,
      since: new Date(entry.since * 1000).toISOString(),
      until: new Date(entry.until * 1000).toISOString(),
      backends,
    },
    200,
    NO_STORE_HEADERS,
  );
}

/** GET /api/admin/revocations */
export async function revocations(c: Context<AppEnv>): Promise<Response> {
  const config = loadConfig(c.env);
  const operator = await requireOperator(c, config, true);
  const log = c.get("log");
  Object.assign(log, { operator: operator.tokenId, action: "list_revocations" });
  const kv = c.env.TURN_CACHE;
  if (!kv) throw notConfigured("TURN_CACHE");
  const entries = await listDenied(kv);
  log.result = `entries:${entries.length}`;
  return c.json(
    {
      revocations: entries.map((entry) => ({
        user: entry.user,
        since: new Date(entry.since * 1000).toISOString(),
        until: new Date(entry.until * 1000).toISOString(),
        ...(entry.reason ? { reason: entry.reason } : {}),
      })),
    },
    200,
    NO_STORE_HEADERS,
  );
}
