/**
 * The coturn every test runs: coturn built from source by scripts/coturn-build.sh, at the version the fleet image
 * pins (infrastructure/coturn/Dockerfile), never a distribution's turnserver on PATH. The build is cached per tarball
 * checksum, so asking for it again costs a checksum and no compile.
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";

const script = resolve(import.meta.dirname, "../../scripts/coturn-build.sh");
let binDir: string | undefined;
let failure: string | undefined;

/** Builds coturn if needed (once per process) and returns its bin directory, or undefined with `failure` set. */
function build(): string | undefined {
  if (binDir || failure) return binDir;
  try {
    binDir = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    failure = stderr.trim() || "scripts/coturn-build.sh failed";
  }
  return binDir;
}

/**
 * Whether tests that need coturn should run. Under CI=true a coturn that cannot be built is a failure, never a
 * skip; on a developer's machine those tests are skipped with the reason.
 */
export function requireCoturn(): boolean {
  if (build()) return true;
  const message = `coturn could not be built (bash scripts/coturn-build.sh): ${failure}`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`skipping: ${message}`);
  return false;
}

/** The path of one of the built coturn's programs. */
export function coturnProgram(name: "turnserver" | "turnutils_uclient" | "turnadmin"): string {
  const dir = build();
  if (!dir) throw new Error(`coturn could not be built (bash scripts/coturn-build.sh): ${failure}`);
  return join(dir, name);
}

/** vitest globalSetup: build (or find the cached build) once before any test file runs. */
export function setup(): void {
  build();
}
