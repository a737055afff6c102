// The processes the bench starts (wrangler dev, wrangler check startup): each in its own process group,
// killed by its own pid (group included, so wrangler's workerd children go too) on stop, on failure, on
// Ctrl-C and at exit. Output goes to a file, not a pipe, so a chatty child costs the load generator nothing.
// A JS twin of test/support/processes.ts (the bench is plain .mjs), plus what the bench needs beyond it:
// finding the workerd runtime's own socket behind wrangler dev's proxy.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** @typedef {{ name: string, pid: number, log: string, output: () => string, stop: () => Promise<void>, exited: Promise<number | null> }} Started */

/** @type {Set<Started>} */
const running = new Set();

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** True while any process of group `pgid` is alive. */
export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

process.once("exit", () => {
  for (const started of running) killGroup(started.pid, "SIGKILL");
});

/** Stops every process still running (SIGTERM, then SIGKILL after 5 s), each by its own group. */
export async function stopAll() {
  await Promise.all([...running].map((started) => started.stop()));
}

let interrupted = false;
/** On Ctrl-C or SIGTERM: stop everything, run `cleanup`, exit 130/143. */
export function stopOnSignals(cleanup = async () => {}) {
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}, stopping the processes it started`);
    void stopAll()
      .then(cleanup)
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/**
 * Starts `command` in a process group of its own, its output appended to `log`.
 * @returns {Started}
 */
export function start(name, command, args, { env = process.env, cwd, log }) {
  const fd = openSync(log, "a");
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  child.once("error", () => undefined);
  /** @type {Started} */
  const started = {
    name,
    pid,
    log,
    exited,
    output: () => {
      try {
        return readFileSync(log, "utf8").slice(-20_000);
      } catch {
        return "";
      }
    },
    stop: async () => {
      if (groupAlive(pid)) {
        killGroup(pid, "SIGTERM");
        const deadline = Date.now() + 5_000;
        while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
        killGroup(pid, "SIGKILL");
        const hard = Date.now() + 5_000;
        while (groupAlive(pid) && Date.now() < hard) await sleep(50);
      }
      await Promise.race([exited, sleep(1_000)]);
      running.delete(started);
    },
  };
  running.add(started);
  return started;
}

/** Runs `command` to completion in its own group (killed with the rest on Ctrl-C); its output and exit code. */
export async function run(name, command, args, options) {
  const started = start(name, command, args, options);
  const code = await started.exited;
  await started.stop();
  return { code, output: started.output() };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 (nothing listens on it any more). */
export function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Waits until `check` resolves true; throws with `describe()` after `timeoutMs`, or at once if `dead()`. */
export async function waitFor(check, timeoutMs, describe, dead = () => false) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (dead()) throw new Error(`the process exited: ${describe()}`);
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
}

/** The pids of process group `pgid` (Linux /proc; empty elsewhere). */
export function groupPids(pgid) {
  const pids = [];
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp …: comm may hold spaces, so split after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** TCP ports that `pid` listens on at 127.0.0.1 (Linux /proc; empty elsewhere). */
export function listeningPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      } catch {
        // Closed meanwhile.
      }
    }
    const ports = [];
    for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A" || !inodes.has(cols[9])) continue;
      const [ip, port] = cols[1].split(":");
      if (ip === "0100007F") ports.push(parseInt(port, 16));
    }
    return ports;
  } catch {
    return [];
  }
}

/** The command line of `pid`, or "". */
export function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
