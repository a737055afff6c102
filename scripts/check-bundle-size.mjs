#!/usr/bin/env node
// `npm run build:check-size`: builds the production Worker offline (`wrangler deploy --dry-run --env production
// --outdir dist`) and fails when its gzip size is over the budget (BUNDLE_BUDGET_KIB, default 64).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const budget = Number(process.env.BUNDLE_BUDGET_KIB ?? 64);
const env = process.argv.includes("--env") ? process.argv[process.argv.indexOf("--env") + 1] : "production";

const result = spawnSync(
  join(root, "node_modules/.bin/wrangler"),
  ["deploy", "--dry-run", "--env", env, "--outdir", join(root, "dist")],
  { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
const output = `${result.stdout}${result.stderr}`;
if (result.status !== 0) {
  console.error(output);
  process.exit(result.status ?? 1);
}
const match = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
if (!match) {
  console.error(`could not read the bundle size from wrangler's output:\n${output}`);
  process.exit(1);
}
const [, total, gzip] = match;
console.log(`bundle (${env}): ${total} KiB, ${gzip} KiB gzip; budget ${budget} KiB gzip`);
if (Number(gzip) > budget) {
  console.error(`over budget by ${(Number(gzip) - budget).toFixed(2)} KiB gzip`);
  process.exit(1);
}
