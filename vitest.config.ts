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
    projects: ["./test/vitest.workerd.config.ts", "./test/vitest.integration.config.ts"],
  },
});
