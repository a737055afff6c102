/**
 * Two test projects: `workerd` runs the worker's specifications inside the Workers runtime
 * (vitest plugin / Miniflare); `integration` runs in Node against real processes: the worker
 * under `wrangler dev` and coturn built from source (scripts/coturn-build.sh), on loopback only.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["./test/vitest.workerd.config.ts", "./test/vitest.integration.config.ts"],
  },
});
