/**
 * Deployability, offline: `wrangler deploy --dry-run` builds every environment, and each environment
 * declares its own vars, KV namespace, rate limit and required secrets (Wrangler does not inherit them).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const ENVIRONMENTS = ["", "staging", "production"];

// The three builds run at once: each is mostly Wrangler starting up, waiting on esbuild.
describe.concurrent("wrangler deploy --dry-run", () => {
  it.each(ENVIRONMENTS)(
    "builds the %s environment offline",
    async (env) => {
      const outdir = mkdtempSync(join(tmpdir(), "icegate-dry-run-"));
      try {
        const result = await new Promise<{ status: number | null; output: string }>((resolve) => {
          const child = execFile(
            join(PROJECT_ROOT, "node_modules/.bin/wrangler"),
            ["deploy", "--dry-run", "--outdir", outdir, ...(env ? ["--env", env] : [])],
            { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
            (_error, stdout, stderr) => resolve({ status: child.exitCode, output: `${stdout}${stderr}` }),
          );
        });
        expect(result.status, result.output).toBe(0);
        expect(result.output).toMatch(/Total Upload: [\d.]+ KiB \/ gzip: [\d.]+ KiB/);
        expect(result.output).toContain("--dry-run: exiting now.");
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});

describe("wrangler.toml environments", () => {
  // The file's table headers: enough to see that each environment declares its own tables.
  const toml = readFileSync(join(PROJECT_ROOT, "wrangler.toml"), "utf8");
  const headers = [...toml.matchAll(/^\[\[?([^\]]+)\]\]?$/gm)].map((m) => m[1]);

  it.each(["staging", "production"])("gives %s its own vars, KV, rate limit, secrets and observability", (env) => {
    for (const table of ["vars", "kv_namespaces", "ratelimits", "secrets", "observability"]) {
      expect(headers).toContain(`env.${env}.${table}`);
    }
  });

  it("gives the top level its own name, so that a command without --env never reaches production", () => {
    const names = [...toml.matchAll(/^name\s*=\s*"([^"]+)"$/gm)]
      .map((m) => m[1])
      .filter((name) => name !== "RATE_LIMITER");
    expect(names).toEqual(["icegate-dev", "icegate-staging", "icegate"]);
    expect(toml.indexOf('name = "icegate"\n')).toBeGreaterThan(toml.indexOf("[env.production]"));
  });

  it("never deploys ALLOW_ANONYMOUS and never puts a secret in the file", () => {
    expect(toml).not.toMatch(/^\s*ALLOW_ANONYMOUS\s*=/m);
    expect(toml).not.toMatch(/^\s*(TURN_SECRET|AUTH_JWT_SECRET|TURN_REST_API_KEYS)\s*=/m);
  });
});
