/**
 * The SDK as consumers get it: `npm run build:client` emits dist/client, and the package's own
 * `icegate/client` subpath export resolves to it with types and the documented API.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/wrangler-dev";

describe("the icegate/client package export", () => {
  beforeAll(() => {
    execFileSync("npm", ["run", "--silent", "build:client"], { cwd: PROJECT_ROOT, stdio: "pipe" });
  }, 120_000);

  it("builds JavaScript and type declarations", () => {
    expect(existsSync(join(PROJECT_ROOT, "dist/client/index.js"))).toBe(true);
    expect(existsSync(join(PROJECT_ROOT, "dist/client/index.d.ts"))).toBe(true);
  });

  it("resolves icegate/client to the built SDK with its documented exports", async () => {
    const specifier = "icegate/client";
    const sdk = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    expect(typeof sdk.createIceServerClient).toBe("function");
    expect(typeof sdk.IceServerError).toBe("function");
  });
});
