/**
 * One release number everywhere: what /healthz reports (src/version.ts), the OpenAPI document the worker serves, the
 * package, and a CHANGELOG entry for it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import openapi from "../../src/openapi/openapi.generated.json";
import { VERSION } from "../../src/version";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { version: string };

describe("the release number", () => {
  it("is the package's version in /healthz and in the served OpenAPI document", () => {
    expect(VERSION).toBe(pkg.version);
    expect(openapi.info.version).toBe(pkg.version);
  });

  it("has its own CHANGELOG entry", () => {
    const changelog = readFileSync(new URL("CHANGELOG.md", root), "utf8");
    expect(changelog).toContain(`## [${pkg.version}] - `);
  });
});
