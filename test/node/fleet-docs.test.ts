/**
 * The fleet's docs match its commands: docs/DEPLOY.md's first-deploy command, run as written (dry run, on a copy of
 * .env.example), leaves a fleet env file the coturn entrypoint accepts, with the worker's secret; the Kubernetes docs
 * never put the secret on a command line; and the fleet docs say what the edge probe cannot see.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderCoturnConfig } from "../support/coturn-entrypoint";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");
const dir = mkdtempSync(join(tmpdir(), "icegate-fleet-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** KEY=VALUE lines of a dotenv file (no quoting: the fleet's values never need it). */
function dotenv(text: string): Record<string, string> {
  const pairs = text.split("\n").flatMap((line) => {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    return match && match[2] !== "" ? [[match[1]!, match[2]!] as const] : [];
  });
  return Object.fromEntries(pairs);
}

describe("docs/DEPLOY.md, first deploy", () => {
  const line = read("docs/DEPLOY.md")
    .split("\n")
    .find((text) => text.startsWith("npm run rotate -- ") && text.includes("infrastructure/coturn/.env"));

  it("writes the fleet's TURN_SECRETS, as docs/ROTATION.md does", () => {
    expect(line).toBeDefined();
    expect(line).toContain("--key TURN_SECRETS --append");
  });

  it("leaves an env file the coturn entrypoint starts with, holding the worker's new secret", () => {
    const args = line!.replace(/#.*$/, "").trim().split(/\s+/).slice(4);
    const fleetEnv = join(dir, "fleet.env");
    copyFileSync(join(PROJECT_ROOT, "infrastructure/coturn/.env.example"), fleetEnv);
    const rotated = args.map((arg) => (arg === "infrastructure/coturn/.env" ? fleetEnv : arg));
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ICEGATE_WRANGLER;
    const run = spawnSync(process.execPath, [join(PROJECT_ROOT, "scripts/rotate.mjs"), ...rotated, "--dry-run"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env,
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const fingerprint = /fingerprint TURN_SECRET (sha256:[0-9a-f]{12})/.exec(run.stdout + run.stderr)?.[1];
    expect(fingerprint).toBeDefined();

    const settings = dotenv(readFileSync(fleetEnv, "utf8"));
    const rendered = renderCoturnConfig(join(dir, "turnserver.conf"), {
      ...settings,
      USERDB: join(dir, "turndb"),
      PIDFILE: join(dir, "turnserver.pid"),
    });
    expect(rendered.status, rendered.stderr).toBe(0);
    expect(rendered.stderr).toContain(`1 static-auth-secret line(s) (fingerprints: ${fingerprint})`);
  });
});

describe("the Kubernetes docs", () => {
  it("never put the secret on a command line: --from-file, from a file or stdin", () => {
    for (const file of ["infrastructure/kubernetes/README.md", "infrastructure/kubernetes/secret.example.yaml"]) {
      const text = read(file);
      const commands = text.split("\n").filter((line) => /create secret generic/.test(line));
      expect(
        commands.filter((command) => command.includes("--from-literal")),
        file,
      ).toEqual([]);
      expect(text, file).toContain("--from-file=TURN_SECRETS=");
    }
    expect(read("infrastructure/kubernetes/README.md")).toContain("--from-file=TURN_SECRETS=/dev/stdin");
  });
});

describe("the fleet docs", () => {
  it("say what the edge probe cannot see, and how to check UDP instead", () => {
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("## Fleet, geo-steering and health"), readme.indexOf("## Operations"));
    expect(section).toMatch(/TCP only/);
    expect(section).toMatch(/Cloudflare's own IP ranges/);
    expect(section).toMatch(/nothing about UDP/);
    expect(section).toContain("npm run turn:health");
    expect(section).toMatch(/clients' own reports/);
  });
});
