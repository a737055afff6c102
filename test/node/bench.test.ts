/**
 * scripts/bench.mjs end to end, as `npm run bench -- --quick --no-write` runs it: real wrangler dev
 * (icegate three times, the baseline once), the fake upstream, autocannon, the bundle build and the startup
 * profile. It checks the report's rows and targets, that BENCHMARKS.md is left alone, and that every
 * process the bench started is gone and its ports are free afterwards. It asserts no timing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const BENCH = join(ROOT, "scripts/bench.mjs");
const BENCHMARKS = join(ROOT, "BENCHMARKS.md");

const ROWS = [
  "Anonymous coturn minting",
  "HS256 token + coturn minting",
  "ES256 token via cached JWKS + coturn minting",
  "Cloudflare provider, credentials from the cache",
  "Diagnostic: anonymous coturn minting, request log muted",
  "Diagnostic: the baseline with icegate's reply headers and one log line",
];

/** The rows the targets apply to (not the diagnostic ones). */
const PATHS = ROWS.filter((row) => !row.startsWith("Diagnostic"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let child: ChildProcess | undefined;
let run: Run;
let benchmarksBefore: string | undefined;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });

beforeAll(async () => {
  benchmarksBefore = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, "utf8") : undefined;
  run = await new Promise<Run>((done) => {
    // Its own process group, so that a test timeout can still kill the bench and all it started.
    const bench = spawn(process.execPath, [BENCH, "--quick", "--no-write"], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = bench;
    let stdout = "";
    let stderr = "";
    bench.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    bench.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    bench.once("exit", (code) => done({ code, stdout, stderr }));
  });
}, 150_000);

afterAll(() => {
  if (child?.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
});

describe("npm run bench -- --quick --no-write", () => {
  it("exits 0", () => {
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
  });

  it("reports every path with figures", () => {
    for (const row of ROWS) {
      const lines = run.stdout.split("\n").filter((line) => line.startsWith(`| ${row} |`));
      // One line in the 50-connection table, one in the 1-connection table.
      expect(lines, row).toHaveLength(2);
      for (const line of lines) {
        expect(line, row).toMatch(/^\| [^|]+ \| [\d,]+ \| [\d,]+ \| \d+\.\d\d \|/);
      }
    }
  });

  it("gives the baseline's floor route exactly the worker's reply headers", () => {
    expect(run.stdout).not.toContain("no longer has the worker's reply headers");
  });

  it("reports upstream amplification, bundle size and startup", () => {
    expect(run.stdout).toContain("### Upstream amplification");
    // Counted, not timed: one provider key, one isolate, one lifetime give exactly one upstream call.
    expect(run.stdout).toMatch(/\| cloudflare [^|]*\| [\d,]+ \| 1 \|/);
    expect(run.stdout).toMatch(/JWKS \(ES256 path\): \d+ fetch\(es\) over [\d,]+ requests/);
    expect(run.stdout).toMatch(/\| Bundle, gzip .*\| [\d.]+ KiB \([\d.]+ KiB raw\) \|/);
    expect(run.stdout).toMatch(
      /\| Startup CPU, `wrangler check startup` "Active".* \| ([\d.]+ ms|not available offline)/,
    );
    expect(run.stdout).toMatch(/\| Startup CPU, the same profiles sample by sample .* \| ([\d.]+ ms|–) \|/);
  });

  it("lists every target with pass, miss or n/a", () => {
    const targets = run.stdout.slice(run.stdout.indexOf("### Targets"));
    expect(targets).not.toBe("");
    const expected = [
      ...PATHS.map((row) => `Throughput ≥ 0.85 × baseline: ${row}`),
      ...PATHS.filter((row) => !row.startsWith("Cloudflare")).map(
        (row) => `Added p99 ≤ 1 ms at 50 connections: ${row}`,
      ),
      "≤ 1 upstream call per provider key per credential lifetime per isolate",
      "Bundle ≤ 50 KiB gzip",
      "Startup < 10 ms of CPU",
    ];
    for (const target of expected) {
      const line = targets.split("\n").find((candidate) => candidate.startsWith(`| ${target} |`));
      expect(line, target).toBeDefined();
      expect(line, target).toMatch(/\| (pass|\*\*miss\*\*|n\/a) \|$/);
    }
  });

  it("leaves BENCHMARKS.md alone with --no-write", () => {
    const after = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, "utf8") : undefined;
    expect(after).toBe(benchmarksBefore);
  });

  it("stops every process it started and frees their ports", async () => {
    const started = [...run.stderr.matchAll(/started (\S+) pgid=(\d+) pids=([\d,]+) ports=([\d,]+)/g)];
    expect(started.map((match) => match[1])).toEqual([
      "icegate-coturn",
      "icegate-cloudflare",
      "baseline",
      "icegate-muted",
    ]);
    const upstream = /fake upstream on 127\.0\.0\.1 port=(\d+)/.exec(run.stderr);
    expect(upstream).not.toBeNull();
    expect(run.stderr).toContain("all processes stopped");
    const pgids = started.map((match) => Number(match[2]));
    const pids = started.flatMap((match) => match[3]!.split(",").map(Number));
    const ports = [...started.flatMap((match) => match[4]!.split(",").map(Number)), Number(upstream![1])];
    for (const pgid of pgids) expect(alive(-pgid), `process group ${pgid}`).toBe(false);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    for (const port of ports) expect(await portFree(port), `port ${port}`).toBe(true);
  });
});

describe("the baseline worker", () => {
  it("has the project's compatibility_date", () => {
    const date = (file: string) => /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(file, "utf8"))?.[1];
    expect(date(join(ROOT, "bench/baseline/wrangler.toml"))).toBe(date(join(ROOT, "wrangler.toml")));
  });

  it("uses the project's Hono (no package.json of its own)", () => {
    expect(existsSync(join(ROOT, "bench/baseline/package.json"))).toBe(false);
    expect(readFileSync(join(ROOT, "bench/baseline/index.ts"), "utf8")).toContain('from "hono"');
  });
});
