/**
 * scripts/bench/profile.mjs (`npm run bench:profile`) end to end, briefly: it builds the unminified
 * production worker and the baseline, profiles the module's evaluation in a fresh workerd isolate, then one
 * credential path under load in slices taken in turn with the floor's, and prints the tables BENCHMARKS.md quotes. Its figures are
 * not checked (no timing is asserted), only that every part is there and every request was answered.
 */
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

describe("npm run bench:profile", () => {
  it("prints the startup profile, and a path's CPU per request next to the floor's, by function", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, "scripts/bench/profile.mjs"),
        "--path",
        "hs256",
        "--rounds",
        "2",
        "--seconds",
        "1",
        "--startup-runs",
        "1",
      ],
      { cwd: ROOT, timeout: 150_000, maxBuffer: 8 * 1024 * 1024 },
    );
    expect(stdout).toContain("## Startup: module evaluation, 1 fresh isolates");
    expect(stdout).toMatch(/Active CPU: [\d.]+ ms per start/);
    expect(stdout).toMatch(/## hs256: [1-9]\d* replies in 2 × 1 s at 8 connection\(s\)\n/);
    expect(stdout).toMatch(
      /icegate [\d.]+ µs of CPU per request, the floor [\d.]+ µs \(\d+ replies\), medians of 2 slices each: icegate adds -?[\d.]+ µs/,
    );
    expect(stdout).toContain("| the worker's own JavaScript |");
    expect(stdout).toMatch(/\| [\d.]+ \| [\d.]+ % \| `credentials index\.js:\d+` \|/);
    expect(stdout, "every request answered 2xx").not.toMatch(/not 2xx/);
  }, 180_000);
});
