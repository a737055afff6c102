/**
 * The GitHub Actions workflows parse, and hold the steps the project promises: CI runs the same gates
 * as .ci/run, previews upload from staging and skip forks, deploys go staging → protected production.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../support/wrangler-dev";

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  "runs-on": string;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const load = (file: string) =>
  parse(readFileSync(join(PROJECT_ROOT, ".github/workflows", file), "utf8"), { strict: true }) as Workflow;
const runs = (job: Job) => job.steps.map((step) => step.run ?? "").join("\n");

describe("ci.yml", () => {
  const ci = load("ci.yml");
  const job = ci.jobs.test!;

  it("runs on pushes and pull requests with Node 22", () => {
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["push", "pull_request"]));
    const node = job.steps.find((step) => step.uses?.startsWith("actions/setup-node"));
    expect(node?.with?.["node-version"]).toBe(22);
  });

  it("installs coturn and chromium from apt, then runs npm ci, the type check, lint, tests and the dry-run build", () => {
    const script = runs(job);
    for (const expected of [
      "apt-get install",
      "coturn",
      "chromium",
      "npm ci",
      "npm run typecheck",
      "npm run lint",
      "npm test",
      "npm run build:check-size",
    ]) {
      expect(script).toContain(expected);
    }
    expect(script.indexOf("npm ci")).toBeLessThan(script.indexOf("npm test"));
  });

  it("runs the same gates as .ci/run", () => {
    const local = readFileSync(join(PROJECT_ROOT, ".ci/run"), "utf8");
    for (const gate of ["npm ci", "npm run typecheck", "npm run lint", "npm test", "npm run build:check-size"]) {
      expect(local).toContain(gate);
    }
  });

  it("type-checks with wrangler types --check and tsc", () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.typecheck).toContain("--check");
    expect(pkg.scripts.typecheck).toContain("tsc");
    expect(pkg.scripts.types).toContain("wrangler types");
    expect(pkg.scripts["build:check-size"]).toBeDefined();
    const sizeCheck = readFileSync(join(PROJECT_ROOT, "scripts/check-bundle-size.mjs"), "utf8");
    expect(sizeCheck).toContain('"deploy", "--dry-run", "--env", env, "--outdir"');
    // The budget: 64 KiB gzip (issue 17), unless BUNDLE_BUDGET_KIB says otherwise.
    expect(sizeCheck).toContain("process.env.BUNDLE_BUDGET_KIB ?? 64");
  });
});

describe("preview.yml", () => {
  const preview = load("preview.yml");
  const job = preview.jobs.preview!;

  it("runs on pull requests, and is skipped cleanly for forks", () => {
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
  });

  it("uploads a preview of the staging Worker (staging secrets and KV) and comments its URL", () => {
    const script = runs(job);
    expect(script).toMatch(/wrangler versions upload --env staging\s*\\?\s*--preview-alias "pr-/);
    expect(script).not.toContain("--env production");
    expect(JSON.stringify(job)).toContain("secrets.CLOUDFLARE_API_TOKEN");
    expect(
      job.steps.some(
        (step) => step.uses?.startsWith("actions/github-script") && String(step.with?.script).includes("createComment"),
      ),
    ).toBe(true);
  });
});

describe("deploy.yml", () => {
  const deploy = load("deploy.yml");

  it("deploys main to staging, then to production behind a protected environment", () => {
    expect(deploy.on).toHaveProperty("push.branches", ["main"]);
    expect(runs(deploy.jobs.staging!)).toContain("wrangler deploy --env staging");
    const production = deploy.jobs.production!;
    expect(production.needs).toBe("staging");
    expect(production.environment).toMatchObject({ name: "production" });
    expect(runs(production)).toContain("wrangler deploy --env production");
  });
});
