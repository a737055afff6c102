#!/usr/bin/env node
// `npm run openapi`: writes src/openapi/openapi.generated.json from the zod schemas (src/openapi/document.ts).
// The worker serves that file at /openapi.json; a test fails when it is out of date.
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "icegate-openapi-"));
try {
  const outfile = join(dir, "document.mjs");
  await build({
    entryPoints: [join(root, "src/openapi/document.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    logLevel: "error",
  });
  const { buildOpenApiDocument } = await import(pathToFileURL(outfile).href);
  const target = join(root, "src/openapi/openapi.generated.json");
  writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
  console.log(`wrote ${target.slice(root.length + 1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
