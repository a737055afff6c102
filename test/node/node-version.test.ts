/**
 * Under a Node older than 22.6, `npm start` and `npm run turn:health` stop at once with one line that says how to
 * get Node 22, instead of failing late with a cryptic error (turn:health's `--experimental-strip-types` is not even
 * an option on Node 20). Checked with the system's Node when it is older (Debian's is 20), and with a reported
 * version on any Node.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const MESSAGE = /^icegate needs Node 22\.6 or newer; this is Node [\d.]+\. Get Node 22 from https:\/\/nodejs\.org /;
const OLD_NODE = "/usr/bin/node";
const oldVersion = (() => {
  const result = spawnSync(OLD_NODE, ["--version"], { encoding: "utf8" });
  const [major = 0, minor = 0] = (result.stdout ?? "").replace(/^v/, "").split(".").map(Number);
  return result.status === 0 && (major < 22 || (major === 22 && minor < 6)) ? result.stdout.trim() : undefined;
})();
const scripts = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

describe.skipIf(!oldVersion)(`under the system's older Node (${oldVersion ?? "none"})`, () => {
  /** Runs a package.json script as npm does (sh -c), with the old Node first on PATH. */
  const npmRun = (name: string, args: string[]) =>
    spawnSync("sh", ["-c", `${scripts[name]} "$@"`, "npm-run", ...args], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
      env: { ...process.env, PATH: `/usr/bin:/bin:${join(PROJECT_ROOT, "node_modules/.bin")}` },
      timeout: 60_000,
    });

  it("npm start says in one line how to get Node 22, and starts nothing", () => {
    const run = npmRun("start", []);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(MESSAGE);
    expect(run.stderr).toContain(`this is Node ${oldVersion!.replace(/^v/, "")}`);
  });

  it("npm run turn:health says the same before Node rejects its options", () => {
    const run = npmRun("turn:health", ["stun:127.0.0.1:3478"]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(MESSAGE);
    expect(run.stderr).not.toContain("bad option");
  });
});

describe("the Node version check", () => {
  const check = (version: string) =>
    spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `Object.defineProperty(process, "versions", { value: { ...process.versions, node: ${JSON.stringify(version)} } });
         await import(${JSON.stringify(join(PROJECT_ROOT, "scripts/lib/require-node.mjs"))});
         console.log("went on");`,
      ],
      { encoding: "utf8" },
    );

  it.each(["18.19.0", "20.20.2", "22.5.1"])("stops on Node %s with how to get Node 22", (version) => {
    const run = check(version);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(MESSAGE);
    expect(run.stderr).toContain(`this is Node ${version}.`);
  });

  it.each(["22.6.0", "22.19.0", "24.1.0"])("lets Node %s through", (version) => {
    const run = check(version);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe("went on\n");
  });
});
