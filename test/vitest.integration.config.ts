/** Integration tests in Node: the worker under `wrangler dev` against a real coturn on loopback. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "integration",
    include: ["integration/**/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The processes these tests start are heavy on a 2-core machine: one file at a time.
    fileParallelism: false,
  },
});
