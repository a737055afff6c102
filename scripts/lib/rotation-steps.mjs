/**
 * The next steps rotate prints after putting a secret: the overlap protocol of docs/ROTATION.md
 * for that secret, with the environment's commands, the fingerprint to look for in /healthz (shown only
 * with the operator token, ADMIN_API_TOKEN),
 * and, for TURN secrets, how long to wait before the old value may leave the fleet.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const RUNBOOK = "docs/ROTATION.md";
const DEFAULT_TTL_SECONDS = 86400;
/** Added to the credential lifetime before the old TURN secret may go: deploy propagation, clock drift. */
const MARGIN_SECONDS = 600;

/** TURN_TTL_SECONDS of the environment in wrangler.toml, best effort: `[env.<name>.vars]` or `[vars]`. */
function configuredTtl(projectRoot, env) {
  let text;
  try {
    text = readFileSync(join(projectRoot, "wrangler.toml"), "utf8");
  } catch {
    return undefined;
  }
  const wanted = env ? `env.${env}.vars` : "vars";
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[([^[\]]+)\]$/.exec(line);
    if (header) {
      section = header[1].replace(/["'\s]/g, "");
      continue;
    }
    const match = section === wanted ? /^TURN_TTL_SECONDS\s*=\s*["']?(\d{1,7})["']?/.exec(line) : null;
    if (match) return Number(match[1]);
  }
  return undefined;
}

export function nextSteps(options, fingerprints, projectRoot) {
  const envFlag = options.env ? ` --env ${options.env}` : "";
  const where = options.env ? `environment ${options.env}` : "the top-level environment";
  const put = `wrangler secret put ${options.secret}${envFlag}`;
  const putStatus = options.dryRun
    ? `Not done (dry run): ${put}. To put this same value later, pipe it to \`npm run rotate -- --secret ${options.secret} --stdin${envFlag}\`.`
    : `Done: ${put}. Cloudflare deployed a new version with it at once.`;
  /** /healthz shows fingerprints only to the operator: `Authorization: Bearer <ADMIN_API_TOKEN>`. */
  const healthz = (name) =>
    `curl -s -H "Authorization: Bearer $ADMIN_API_TOKEN" https://<worker>/healthz shows "${name}":"${fingerprints}" (without the operator token /healthz shows status and version only).`;
  const ttl = configuredTtl(projectRoot, options.env);
  const ttlSeconds = ttl ?? DEFAULT_TTL_SECONDS;
  const ttlText = `TURN_TTL_SECONDS = ${ttlSeconds} s${ttl === undefined ? " (the Worker's default; not set for this environment in wrangler.toml)" : " (wrangler.toml)"}`;
  const until = new Date(Date.now() + (ttlSeconds + MARGIN_SECONDS) * 1000).toISOString();
  const wait = `Wait the longest credential lifetime, ${ttlText}, plus ${MARGIN_SECONDS / 60} minutes: until ${until}. Every credential minted with the old secret has expired then.`;
  const fleetFile = options.file && options.append ? `${options.file} (${options.key}) has it now; ` : "";

  switch (options.secret) {
    case "TURN_SECRET":
      return [
        `Overlap protocol for TURN_SECRET in ${where} (${RUNBOOK}):`,
        "1. Before this step the whole fleet must accept the new value next to the old one: TURN_SECRETS=<old>,<new> (one static-auth-secret line each, rolling restart), or a row in the turn_secret table (read without restart). If it did not, new allocations fail now: roll back (put the old value back).",
        `2. ${putStatus}`,
        `3. Check: ${healthz("TURN_SECRET")} Then mint and allocate once (${RUNBOOK}, Validate).`,
        `4. ${wait}`,
        "5. Then remove the old value from the fleet (TURN_SECRETS=<new>, rolling restart; or delete its turn_secret row).",
      ];
    case "TURN_SECRET_NEXT":
      return [
        `Staging protocol for TURN_SECRET_NEXT in ${where} (${RUNBOOK}):`,
        `1. ${putStatus} The Worker reports it in /healthz (to the operator) and does not mint with it.`,
        `2. ${fleetFile}give the fleet the new value next to the current one: TURN_SECRETS=<current>,<next>, rolling restart (or a turn_secret row).`,
        `3. Check: ${healthz("TURN_SECRET_NEXT")} Allocate on every node with a credential minted from it (${RUNBOOK}, Validate).`,
        `4. Promote: pipe the same value to \`npm run rotate -- --secret TURN_SECRET --stdin${envFlag}\` (it must print ${fingerprints}), then \`npx wrangler secret delete TURN_SECRET_NEXT${envFlag}\`.`,
        "5. After promotion, wait the longest credential lifetime (TURN_TTL_SECONDS) plus a margin, then remove the old value from the fleet.",
      ];
    case "AUTH_JWT_SECRET":
      return [
        `Overlap protocol for AUTH_JWT_SECRET in ${where} (${RUNBOOK}):`,
        `1. Before this step the old value must be in AUTH_JWT_SECRET_PREVIOUS (\`npm run rotate -- --secret AUTH_JWT_SECRET_PREVIOUS --stdin${envFlag}\`, paste the old value), or tokens signed with it are refused now.`,
        `2. ${putStatus}`,
        "3. Give the new value to the token issuer and let it sign with it.",
        `4. Check: ${healthz("AUTH_JWT_SECRET")}`,
        `5. Wait the longest token lifetime the issuer uses, then \`npx wrangler secret delete AUTH_JWT_SECRET_PREVIOUS${envFlag}\`.`,
      ];
    case "AUTH_JWT_SECRET_PREVIOUS":
      return [
        `AUTH_JWT_SECRET_PREVIOUS in ${where} (${RUNBOOK}):`,
        `1. ${putStatus}`,
        `2. Check: ${healthz("AUTH_JWT_SECRET_PREVIOUS")} It is the same fingerprint AUTH_JWT_SECRET had before.`,
        `3. Now rotate AUTH_JWT_SECRET, keeping the new value for the issuer: \`npm run --silent rotate -- --secret AUTH_JWT_SECRET${envFlag} --print\` (stdout: the value alone) or --update-env <the issuer's env file>.`,
      ];
    case "TURN_REST_API_KEYS":
      return [
        `TURN_REST_API_KEYS in ${where} (${RUNBOOK}):`,
        `1. ${putStatus} The Worker now accepts exactly these keys: any key not in this value stopped working.`,
        `2. Check: ${healthz("TURN_REST_API_KEYS")}`,
        `3. For an overlap, put "<new>,<old>" with --stdin, move the clients to the new key, then put "<new>" alone.`,
      ];
    case "ADMIN_API_TOKEN":
      return [
        `ADMIN_API_TOKEN in ${where} (${RUNBOOK}):`,
        `1. ${putStatus} The old operator token stopped working: keep the new one in the operators' secret store.`,
        `2. Check, with the new value in $ADMIN_API_TOKEN: ${healthz("ADMIN_API_TOKEN")}`,
      ];
    default:
      return [
        `${options.secret} (${options.spec.provider}) in ${where} (${RUNBOOK}):`,
        `1. ${putStatus}`,
        "2. Check that the Worker still gets credentials from the provider (GET /api/turn/credentials).",
        `3. Then revoke the old key in the ${options.spec.provider} dashboard (${RUNBOOK}, Providers).`,
      ];
  }
}
