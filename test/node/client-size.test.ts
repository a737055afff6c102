/**
 * The browser SDK's budget: src/client bundles, minified, to under 4 KB gzip, with nothing left
 * to import (no runtime dependencies), and exports what the package subpath icegate/client promises.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("../../src/client/index.ts", import.meta.url));

async function bundle() {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const [file] = result.outputFiles;
  const [output] = Object.values(result.metafile.outputs);
  return { code: file!.text, bytes: file!.contents, output: output!, inputs: Object.keys(result.metafile.inputs) };
}

describe("the browser SDK bundle", () => {
  it("is under 4 KB gzip when minified", async () => {
    const { bytes } = await bundle();
    const gzipped = gzipSync(bytes, { level: 9 }).byteLength;
    console.log(`icegate/client: ${bytes.byteLength} B minified, ${gzipped} B gzip`);
    expect(gzipped).toBeLessThan(4096);
  });

  it("imports nothing: every input is in src/client", async () => {
    const { code, output, inputs } = await bundle();
    expect(output.imports).toEqual([]);
    expect(code).not.toMatch(/\bimport\s*[\s{*("']|\brequire\(/);
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) expect(input).toMatch(/^src\/client\/[\w-]+\.ts$/);
  });

  it("exports the client factory and the error class", async () => {
    const { output } = await bundle();
    expect([...output.exports].sort()).toEqual(["IceServerError", "createIceServerClient"]);
  });
});
