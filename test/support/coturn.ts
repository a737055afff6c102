/**
 * A real coturn (the build of scripts/coturn-build.sh, the version the fleet pins) on loopback with `use-auth-secret`, and
 * `turnutils_uclient` to try an allocation with a given username and password.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { coturnProgram } from "./coturn-build";
import { freePort, start, type Started, waitFor } from "./processes";

export interface Coturn {
  port: number;
  /** turnserver's process id. */
  pid: number;
  realm: string;
  output: () => string;
  stop: () => Promise<void>;
}

export interface CoturnOptions {
  /** Every value becomes one `static-auth-secret` line. */
  secrets: string[];
  /** Extra config lines, such as `denied-peer-ip=...`. */
  extra?: string[];
  /** Permit relaying to loopback peers (client-to-client tests on one machine need it). */
  allowLoopbackPeers?: boolean;
  /** Listen here instead of on a free port (a node restarted on its old port). */
  port?: number;
}

/** Starts turnserver with a config written for this test, and waits until it accepts TCP. */
export async function startCoturn(options: CoturnOptions): Promise<Coturn> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "icegate-coturn-"));
  const realm = "icegate.test";
  const minPort = 40000 + Math.floor(Math.random() * 200) * 100;
  const lines = [
    "listening-ip=127.0.0.1",
    `listening-port=${port}`,
    "relay-ip=127.0.0.1",
    `min-port=${minPort}`,
    `max-port=${minPort + 99}`,
    "use-auth-secret",
    ...options.secrets.map((secret) => `static-auth-secret=${secret}`),
    `realm=${realm}`,
    "no-tls",
    "fingerprint",
    "log-file=stdout",
    "simple-log",
    `userdb=${join(dir, "turndb")}`,
    `pidfile=${join(dir, "turnserver.pid")}`,
    ...(options.allowLoopbackPeers ? ["allow-loopback-peers"] : []),
    ...(options.extra ?? []),
  ];
  const configFile = join(dir, "turnserver.conf");
  writeFileSync(configFile, `${lines.join("\n")}\n`, { mode: 0o600 });
  return runCoturn(["-c", configFile], port, realm, () => rmSync(dir, { recursive: true, force: true }));
}

/** Runs turnserver with the given arguments and waits until `port` accepts TCP on 127.0.0.1. */
export async function runCoturn(
  args: string[],
  port: number,
  realm: string,
  cleanup: () => void = () => {},
): Promise<Coturn> {
  const server: Started = start(coturnProgram("turnserver"), args);
  try {
    await waitFor(
      () => acceptsTcp(port),
      15_000,
      () => `coturn did not listen on ${port}:\n${server.output()}`,
    );
  } catch (error) {
    await server.stop();
    cleanup();
    throw error;
  }
  return {
    port,
    pid: server.child.pid!,
    realm,
    output: server.output,
    stop: async () => {
      await server.stop();
      cleanup();
    },
  };
}

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export interface AllocationResult {
  ok: boolean;
  output: string;
}

/**
 * Runs turnutils_uclient: one client-to-client session through the relay (ALLOCATE,
 * permissions, one message). `ok` is true when the allocation completed and data flowed.
 */
export async function tryAllocation(
  coturn: Pick<Coturn, "port">,
  username: string,
  password: string,
  transport: "udp" | "tcp" = "udp",
): Promise<AllocationResult> {
  const args = ["-y", "-n", "1", "-m", "1", "-l", "100", "-u", username, "-w", password, "-p", String(coturn.port)];
  if (transport === "tcp") args.unshift("-t");
  args.push("127.0.0.1");
  return new Promise((resolve) => {
    const child = spawn(coturnProgram("turnutils_uclient"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !output.includes("Cannot complete Allocation"), output });
    });
  });
}
