/**
 * The SDK as consumers get it: `npm pack` builds dist/client (prepack) into a tarball that holds the SDK and
 * nothing else, with no dependencies; it installs offline into a fresh project, where the README's example
 * type-checks with `strict` under `moduleResolution` "nodenext" and "bundler", and `icegate/client` imports in Node.
 * The package's own `icegate/client` subpath export resolves to the build too.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const TSC = join(PROJECT_ROOT, "node_modules/typescript/bin/tsc");
const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
};

/** The first ```ts block of the README's "Using it from a browser" section, and its install line. */
function readmeExample(): { code: string; install: string } {
  const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Using it from a browser"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const install = /```sh\n(npm install [^\n]+)\n```/.exec(section)?.[1];
  if (!code || !install) throw new Error("README: no ts example or install line under 'Using it from a browser'");
  return { code, install };
}

/** Runs `command`; on failure the error carries its output, so a failed check says why. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: "pipe" });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}${stderr}`, { cause: error });
  }
}

describe("the icegate package", () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "icegate-pack-"));
    const packed = JSON.parse(
      run("npm", ["pack", "--json", "--silent", "--pack-destination", dir], PROJECT_ROOT),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed[0]!.filename);
    files = packed[0]!.files.map(({ path }) => path).sort();
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is publishable under the name the README installs, and has no dependencies", () => {
    expect(pkg.private).toBeUndefined();
    expect(readmeExample().install).toBe(`npm install ${pkg.name}`);
    expect(pkg.dependencies ?? {}).toEqual({});
  });

  it("packs the built SDK, its declarations, README and LICENSE, and nothing of the worker", () => {
    expect(files).toContain("dist/client/index.js");
    expect(files).toContain("dist/client/index.d.ts");
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    for (const file of files)
      expect(file).toMatch(/^(dist\/client\/[\w-]+\.(js|d\.ts)|LICENSE|README\.md|package\.json)$/);
  });

  describe("installed into a fresh TypeScript project", () => {
    let project: string;

    beforeAll(() => {
      project = join(dir, "app");
      run("mkdir", ["-p", project], dir);
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
      run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], project);
      writeFileSync(join(project, "example.ts"), readmeExample().code);
    }, 120_000);

    const options = {
      nodenext: { module: "nodenext", moduleResolution: "nodenext" },
      bundler: { module: "esnext", moduleResolution: "bundler" },
    };
    for (const [name, resolution] of Object.entries(options)) {
      it(`type-checks the README's example with strict under moduleResolution ${name}`, () => {
        const config = {
          compilerOptions: {
            ...resolution,
            target: "es2022",
            lib: ["es2022", "dom"],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: ["example.ts"],
        };
        writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config));
        expect(run(process.execPath, [TSC, "-p", `tsconfig.${name}.json`], project)).toBe("");
      });
    }

    it("imports icegate/client in Node with the documented exports", () => {
      const script =
        'const sdk = await import("icegate/client"); console.log(Object.keys(sdk).sort().join(","), new sdk.IceServerError(0, "x", "y").name)';
      expect(run(process.execPath, ["--input-type=module", "-e", script], project).trim()).toBe(
        "IceServerError,createIceServerClient IceServerError",
      );
    });
  });

  it("resolves icegate/client to the built SDK from inside this repository", async () => {
    const specifier = "icegate/client";
    const sdk = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    expect(typeof sdk.createIceServerClient).toBe("function");
    expect(typeof sdk.IceServerError).toBe("function");
  });
});
