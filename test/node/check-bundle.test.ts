/**
 * The check page's generated module (src/check/assets.generated.ts) is what the Worker serves, so
 * it must match its sources: `node scripts/build-check.mjs --check` fails on any difference. The
 * page script bundles only src/check and src/client, imports nothing, and stays small.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(ROOT, "scripts/build-check.mjs");
const GENERATED = join(ROOT, "src/check/assets.generated.ts");
const scratch = mkdtempSync(join(tmpdir(), "icegate-check-bundle-"));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runBuild(...args: string[]) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("the check page's generated module", () => {
  it("is up to date with src/check and src/client (else run node scripts/build-check.mjs)", () => {
    const result = runBuild("--check");
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("is rebuilt byte for byte the same as the committed file", () => {
    const out = join(scratch, "rebuilt.ts");
    expect(runBuild("--out", out).status).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(readFileSync(GENERATED, "utf8"));
  });

  it("is reported as out of date when it differs from what the sources build", () => {
    const stale = join(scratch, "stale.ts");
    writeFileSync(stale, readFileSync(GENERATED, "utf8").replace("Run check", "Run the old check"));
    const result = runBuild("--check", "--out", stale);
    expect(result.status).toBe(1);
    expect(result.output).toContain("is out of date with src/check and src/client");
  });
});

describe("the check page script", () => {
  it("bundles only src/check and src/client, imports nothing, and is under 6 KB gzip", async () => {
    const result = await build({
      entryPoints: [join(ROOT, "src/check/page.ts")],
      absWorkingDir: ROOT,
      bundle: true,
      minify: true,
      format: "iife",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const [file] = result.outputFiles;
    const [output] = Object.values(result.metafile.outputs);
    expect(output!.imports).toEqual([]);
    for (const input of Object.keys(result.metafile.inputs)) expect(input).toMatch(/^src\/(check|client)\/[\w-]+\.ts$/);
    const gzipped = gzipSync(file!.contents, { level: 9 }).byteLength;
    console.log(`check page script: ${file!.contents.byteLength} B minified, ${gzipped} B gzip`);
    expect(gzipped).toBeLessThan(6144);
  });
});
