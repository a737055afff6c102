/**
 * Starting and stopping the real processes the integration tests need (coturn, wrangler dev),
 * on loopback only. Each process is started in its own process group and killed by its own pid
 * (group included, so wrangler's workerd goes too), even when a test fails or the run is interrupted.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";

const running = new Set<ChildProcess>();
/** The output of every process still running, by child: shown when a test fails (test/support/on-failure.ts). */
const outputs = new Map<ChildProcess, { name: string; output: () => string }>();

/** The last `lines` lines of each running process's output, one block per process. */
export function runningOutput(lines = 150): string[] {
  return [...outputs.values()].map(({ name, output }) => {
    const tail = output().trimEnd().split("\n").slice(-lines).join("\n");
    return `--- output of ${name} (last ${lines} lines) ---\n${tail}`;
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

process.once("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

export interface Started {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

export function start(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Started {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  outputs.set(child, { name: [command.split("/").pop(), ...args.slice(0, 1)].join(" "), output: () => output });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      killGroup(child, "SIGKILL");
      running.delete(child);
      outputs.delete(child);
    },
  };
}

/** A TCP port that is free on 127.0.0.1 right now (and, for coturn, on UDP too). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (port > 0 && udpFree) return port;
  }
  throw new Error("no free port on 127.0.0.1");
}

/** Waits until `check` resolves true, or throws with the process output after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * Whether tests that need `command` should run. Under CI=true a missing tool is a failure,
 * never a skip; on a developer's machine the tests are skipped with a note.
 */
export function requireTool(command: string, hint: string): boolean {
  if (hasCommand(command)) return true;
  if (process.env.CI === "true") throw new Error(`${command} is required under CI=true (${hint})`);
  console.warn(`skipping: ${command} is not installed (${hint})`);
  return false;
}
