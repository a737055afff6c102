/**
 * Tests that run in Node: integration against real processes (the worker under `wrangler dev`,
 * coturn built from source at the version the fleet pins, Chromium) on loopback, and Node-side specifications in test/node (operator scripts, bundles).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "integration",
    silent: "passed-only",
    include: ["integration/**/*.test.ts", "node/**/*.test.ts"],
    environment: "node",
    // Builds coturn from the shared tarball once (or finds the cached build) before any file needs it.
    globalSetup: ["./support/coturn-build.ts"],
    // A failing test shows the output of the processes it started (wrangler dev, coturn); a passing one does not.
    setupFiles: ["./support/on-failure.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The processes these tests start are heavy on a 2-core machine: one file at a time.
    fileParallelism: false,
  },
});
