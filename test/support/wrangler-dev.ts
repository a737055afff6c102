/**
 * The worker under `wrangler dev` (workerd, local mode) on a free loopback port, with its
 * vars and secrets from a temporary env file: nothing secret on the command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, start, waitFor } from "./processes";

export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

export interface WranglerDev {
  url: string;
  /** The pid of wrangler, the leader of the process group its workerd runs in. */
  pid: number | undefined;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startWranglerDev(vars: Record<string, string>, extraArgs: string[] = []): Promise<WranglerDev> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "icegate-wrangler-"));
  const envFile = join(dir, "test.env");
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
      .join("\n"),
    {
      mode: 0o600,
    },
  );
  const server = start(
    join(PROJECT_ROOT, "node_modules/.bin/wrangler"),
    [
      "dev",
      "--local",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--env-file",
      envFile,
      "--persist-to",
      join(dir, "state"),
      "--show-interactive-dev-session=false",
      ...extraArgs,
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => (await fetch(`${url}/healthz`)).status > 0,
      90_000,
      () => server.output(),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, pid: server.child.pid, output: server.output, stop };
}
