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
  id?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  "runs-on": string;
  container?: string;
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

  it("installs chromium, firefox-esr, janus and coturn's build packages from Debian's apt, then runs npm ci, the type check, lint, tests and the dry-run build", () => {
    const script = runs(job);
    for (const expected of [
      "apt-get install",
      "chromium",
      "firefox-esr",
      "janus",
      "libevent-dev",
      "libssl-dev",
      "libmicrohttpd-dev",
      "npm ci",
      "npm run typecheck",
      "npm run lint",
      "npm test",
      "npm run build:check-size",
    ]) {
      expect(script).toContain(expected);
    }
    expect(script.indexOf("npm ci")).toBeLessThan(script.indexOf("npm test"));
    expect(job.container).toBe("debian:12");
  });

  it("never installs a distribution's coturn: it builds the pinned release from its tag with scripts/coturn-build.sh", () => {
    const installs = job.steps
      .flatMap((step) => (step.run ?? "").split("\n"))
      .filter((line) => /apt-get install/.test(line));
    for (const line of installs) expect(line).not.toMatch(/\bcoturn\b/);
    const version = job.steps.find((step) => step.run?.includes("ARG COTURN_VERSION"));
    expect(version?.run).toContain("infrastructure/coturn/Dockerfile");
    const build = job.steps.find((step) => step.run?.includes("scripts/coturn-build.sh"));
    expect(build?.run).toContain("https://github.com/coturn/coturn.git");
    expect(build?.run).toMatch(/--branch "\$COTURN_VERSION"/);
    expect(build?.run).toContain("COTURN_GIT_DIR=");
    expect(JSON.stringify(build)).toContain("steps.coturn.outputs.version");
    // The tests build (or find cached) the same source.
    const test = job.steps.find((step) => step.run === "npm test") as Step & { env?: Record<string, string> };
    expect(test.env?.COTURN_GIT_DIR).toBe("${{ runner.temp }}/coturn");
    const steps = job.steps.map((step) => step.run ?? "");
    expect(steps.findIndex((run) => run.includes("coturn-build.sh"))).toBeLessThan(steps.indexOf("npm test"));
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

  it("runs on pull requests from branches of this repository only, never forks", () => {
    expect(Object.keys(preview.on)).toEqual(["pull_request"]);
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.if).toContain("github.event.pull_request.head.repo.fork == false");
    expect(job.if).toContain("&&");
    // pull_request_target would run with secrets for forks: never.
    expect(JSON.stringify(preview.on)).not.toContain("pull_request_target");
  });

  it("waits in the preview environment (required reviewers) before the PR's code gets any secret", () => {
    const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
    expect(environment).toBe("preview");
    // No secret at the job level: the install step and everything before the upload run without the token.
    expect(JSON.stringify((job as { env?: unknown }).env ?? {})).not.toContain("secrets.");
    const install = job.steps.find((step) => step.run?.includes("npm ci"))!;
    expect(install.run).toContain("--ignore-scripts");
    expect(JSON.stringify(install)).not.toContain("secrets.");
    const checkout = job.steps.find((step) => step.uses?.startsWith("actions/checkout"))!;
    expect(checkout.with?.["persist-credentials"]).toBe(false);
    const withToken = job.steps.filter((step) => JSON.stringify(step).includes("secrets.CLOUDFLARE_API_TOKEN"));
    expect(withToken.length).toBeGreaterThan(0);
    for (const step of withToken) expect(step.run ?? "").not.toContain("npm ci");
  });

  it("explains the trust model in docs/DEPLOY.md", () => {
    const deploy = readFileSync(join(PROJECT_ROOT, "docs/DEPLOY.md"), "utf8");
    expect(deploy).toContain("Trust model");
    expect(deploy).toMatch(/required reviewers/i);
    expect(deploy).toMatch(/forks?/);
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
  const text = readFileSync(join(PROJECT_ROOT, ".github/workflows/deploy.yml"), "utf8");

  it("runs only after ci completed on main, never on a push by itself", () => {
    expect(deploy.on).not.toHaveProperty("push");
    expect(deploy.on).toHaveProperty("workflow_run", {
      workflows: [load("ci.yml").name],
      types: ["completed"],
      branches: ["main"],
    });
  });

  it("deploys only the commit ci passed for: a gate checks the run's conclusion and head_sha", () => {
    const gate = deploy.jobs.gate!;
    expect(gate.if).toContain("github.event.workflow_run.conclusion == 'success'");
    expect(JSON.stringify(gate)).toContain("github.event.workflow_run.head_sha");
    expect(runs(gate)).toContain("ci.yml/runs?head_sha=$sha&status=success");
    for (const name of ["staging", "production"]) {
      const job = deploy.jobs[name]!;
      expect([job.needs].flat()).toContain("gate");
      const checkout = job.steps.find((step) => step.uses?.startsWith("actions/checkout"));
      expect(checkout?.with?.ref).toBe("${{ needs.gate.outputs.sha }}");
    }
  });

  it("deploys to staging, then to production behind a protected environment", () => {
    expect(runs(deploy.jobs.staging!)).toContain("wrangler deploy --env staging");
    const production = deploy.jobs.production!;
    expect([production.needs].flat()).toContain("staging");
    expect(production.environment).toMatchObject({ name: "production" });
    expect(runs(production)).toContain("wrangler deploy --env production");
  });

  it("smoke-tests the hostnames of the repository variables, not example.com", () => {
    expect(text).not.toContain("example.com");
    expect(JSON.stringify(deploy.jobs.staging)).toContain("vars.STAGING_HOSTNAME");
    expect(JSON.stringify(deploy.jobs.production)).toContain("vars.PRODUCTION_HOSTNAME");
    for (const name of ["staging", "production"]) {
      expect(runs(deploy.jobs[name]!)).toContain(
        'curl --fail --silent --show-error "https://$HOSTNAME_TO_CHECK/healthz"',
      );
    }
  });
});
