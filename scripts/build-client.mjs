#!/usr/bin/env node
// `npm run build:client`: the SDK as the package ships it, in dist/client. The JavaScript is one minified ES module
// (esbuild); the type declarations come from tsc (tsconfig.client.json), and their relative imports then get the
// `.js` extension, so that they resolve under `moduleResolution: "nodenext"` as well as "bundler" (TS2834/TS2307
// otherwise). The sources keep their extensionless imports.
import "./lib/require-node.mjs";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "client");
const bin = (name) => join(root, "node_modules", ".bin", name);

rmSync(out, { recursive: true, force: true });
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });
run(bin("esbuild"), [
  "src/client/index.ts",
  "--bundle",
  "--minify",
  "--format=esm",
  "--target=es2020",
  "--log-level=warning",
  `--outfile=${join(out, "index.js")}`,
]);
run(bin("tsc"), ["-p", "tsconfig.client.json"]);

/**
 * The declaration files under `dir`, recursively.
 * @param {string} dir
 * @returns {string[]}
 */
function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/**
 * `./x` → `./x.js` (or `./x/index.js`) when that declaration exists; anything else unchanged.
 * @param {string} file
 * @param {string} specifier
 */
function withExtension(file, specifier) {
  if (!/^\.\.?\//.test(specifier) || /\.(js|mjs|cjs|json)$/.test(specifier)) return specifier;
  const target = resolve(dirname(file), specifier);
  if (existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (existsSync(join(target, "index.d.ts"))) return `${specifier}/index.js`;
  throw new Error(`build-client: ${file} imports ${specifier}, which has no declaration file`);
}

// `from "./x"`, `import("./x")` and `import "./x"` in declarations.
const specifiers = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']*)\2/g;
for (const file of declarations(out)) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(
    specifiers,
    (_, lead, quote, specifier) => `${lead}${quote}${withExtension(file, specifier)}${quote}`,
  );
  if (fixed !== text) writeFileSync(file, fixed);
}
