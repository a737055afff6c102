/**
 * Two test projects: `workerd` runs the worker's specifications inside the Workers runtime
 * (vitest plugin / Miniflare); `integration` runs in Node against real processes: the worker
 * under `wrangler dev` and coturn built from source (scripts/coturn-build.sh), on loopback only.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The reporters read this root setting, not the projects' own: logs of passing tests (the worker's request
    // log lines, which workerd prints for every request) stay out of the output; a failing test shows its logs.
    silent: "passed-only",
    // One line per file; a test gets its own line only when it took longer than this (the load and browser runs).
    slowTestThreshold: 30_000,
    projects: ["./test/vitest.workerd.config.ts", "./test/vitest.integration.config.ts"],
  },
});
