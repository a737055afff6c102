/**
 * Runs the coturn image's real entrypoint (infrastructure/coturn/entrypoint.sh) in render-only
 * mode, so tests get exactly the config the container would write, without Docker.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const COTURN_DIR = fileURLToPath(new URL("../../infrastructure/coturn/", import.meta.url));
export const ENTRYPOINT = `${COTURN_DIR}entrypoint.sh`;
export const HEALTHCHECK = `${COTURN_DIR}healthcheck.sh`;

export interface RenderResult {
  status: number | null;
  stderr: string;
  stdout: string;
  /** The rendered config, or undefined when the entrypoint wrote none. */
  config: string | undefined;
  /** Non-empty lines of the rendered config. */
  lines: string[];
}

/**
 * Renders into `output` with only `env` (plus PATH) in the environment, so nothing from the
 * caller's environment leaks into the result. `wrap` runs the entrypoint under another command
 * (for example setpriv); `entrypoint` runs a copy (its template is read from beside it).
 */
export function renderCoturnConfig(
  output: string,
  env: Record<string, string>,
  options: { wrap?: string[]; entrypoint?: string } = {},
): RenderResult {
  const command = [...(options.wrap ?? []), "sh", options.entrypoint ?? ENTRYPOINT];
  const result = spawnSync(command[0]!, command.slice(1), {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ICEGATE_RENDER_ONLY: output, ...env },
    encoding: "utf8",
    timeout: 15_000,
  });
  const config = existsSync(output) ? readFileSync(output, "utf8") : undefined;
  return {
    status: result.status,
    stderr: result.stderr,
    stdout: result.stdout,
    config,
    lines: (config ?? "").split("\n").filter((line) => line.trim() !== ""),
  };
}
