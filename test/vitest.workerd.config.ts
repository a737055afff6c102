/** Unit and route specifications, run inside workerd with the bindings of test/support/test-env.ts. */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_BINDINGS } from "./support/test-env.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        bindings: TEST_BINDINGS,
        // No test may reach the network: an unexpected outbound request fails loudly.
        outboundService: (request: Request) =>
          new Response(`unexpected outbound request to ${new URL(request.url).host}`, { status: 599 }),
      },
    }),
  ],
  test: {
    name: "workerd",
    silent: "passed-only",
    include: ["unit/**/*.test.ts"],
    // zod/mini, which the worker's entry point loads before its first request, for specifications that skip it.
    setupFiles: ["./support/load-zod.ts"],
    // The default 5 s is too tight for the 200-request specifications on a loaded 2-core machine; no test asserts a time.
    testTimeout: 30_000,
  },
});
