#!/usr/bin/env node
// `npm start`: runs icegate locally under `wrangler dev` (workerd, local KV) on an embedded default.
// On first run it writes a git-ignored .dev.vars with fresh random secrets and ALLOW_ANONYMOUS=true
// (local development only), then prints working curl lines. Secrets are never printed.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
const port = process.env.PORT ?? "8787";
const host = "127.0.0.1";

const secret = (bytes = 32) => randomBytes(bytes).toString("base64url");
const fingerprint = (value) =>
  `sha256:${createHash("sha256").update(`icegate-fingerprint/v1\u0000${value}`).digest("hex").slice(0, 12)}`;

if (!existsSync(devVars)) {
  const values = {
    TURN_SECRET: secret(),
    AUTH_JWT_SECRET: secret(),
    TURN_REST_API_KEYS: secret(24),
  };
  const lines = [
    "# Written by `npm start` for local development only. Git-ignored; delete it to get new secrets.",
    ...Object.entries(values).map(([name, value]) => `${name}=${value}`),
    "# Lets curl and the browser fetch credentials without a token. Never set this in a deployed environment.",
    "ALLOW_ANONYMOUS=true",
    "",
  ];
  writeFileSync(devVars, lines.join("\n"), { mode: 0o600 });
  console.log(`icegate: wrote .dev.vars with fresh random secrets (TURN_SECRET ${fingerprint(values.TURN_SECRET)})`);
}

console.log(`icegate: starting on http://${host}:${port}. Try:
  curl -s http://${host}:${port}/api/turn/credentials
  curl -s http://${host}:${port}/healthz
`);

const wrangler = join(root, "node_modules", ".bin", "wrangler");
const child = spawn(wrangler, ["dev", "--local", "--ip", host, "--port", port, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  // Stay on this machine: no fetch of a real `request.cf` object, no telemetry.
  env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
