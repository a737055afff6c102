#!/usr/bin/env node
// `npm start`: runs icegate locally under `wrangler dev` (workerd, local KV) on an embedded default, with a coturn
// beside it on loopback so that /check relays. On first run it writes a git-ignored .dev.vars with fresh random
// secrets and ALLOW_ANONYMOUS=true (local development only), then prints working curl lines and the /check URL.
// Secrets are never printed. Ctrl-C stops the worker and coturn.
//
// Environment (all optional):
//   PORT=8787          the worker's port on 127.0.0.1
//   COTURN_PORT=3478   coturn's port on 127.0.0.1 (UDP and TCP)
//   TURNSERVER=path    the turnserver to run; default: `turnserver` on PATH, else the build of scripts/coturn-build.sh
//   DEV_VARS=path      the vars file (default .dev.vars); written on first run when missing
import "./lib/require-node.mjs";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const defaultDevVars = join(root, ".dev.vars");
const devVars = process.env.DEV_VARS ? resolve(process.env.DEV_VARS) : defaultDevVars;
const host = "127.0.0.1";
const port = process.env.PORT ?? "8787";
const coturnPort = process.env.COTURN_PORT ?? "3478";

const secret = (bytes = 32) => randomBytes(bytes).toString("base64url");
const fingerprint = (value) =>
  `sha256:${createHash("sha256").update(`icegate-fingerprint/v1\u0000${value}`).digest("hex").slice(0, 12)}`;

if (!existsSync(devVars)) {
  const values = {
    TURN_SECRET: secret(),
    AUTH_JWT_SECRET: secret(),
    TURN_REST_API_KEYS: secret(24),
  };
  const lines = [
    "# Written by `npm start` for local development only. Git-ignored; delete it to get new secrets.",
    ...Object.entries(values).map(([name, value]) => `${name}=${value}`),
    "# Lets curl and the browser fetch credentials without a token. Never set this in a deployed environment.",
    "ALLOW_ANONYMOUS=true",
    "",
  ];
  writeFileSync(devVars, lines.join("\n"), { mode: 0o600 });
  console.log(`icegate: wrote ${devVars} with fresh random secrets (TURN_SECRET ${fingerprint(values.TURN_SECRET)})`);
}

/**
 * The values of a dotenv-style file: KEY=VALUE lines, values optionally quoted.
 * @param {string} file
 * @returns {Map<string, string>}
 */
function readVars(file) {
  const vars = new Map();
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const raw = match[2];
    vars.set(match[1], /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw);
  }
  return vars;
}

/**
 * The turnserver to run: $TURNSERVER, `turnserver` on PATH, or the cached build of scripts/coturn-build.sh.
 * @returns {string | undefined}
 */
function findTurnserver() {
  if (process.env.TURNSERVER) return process.env.TURNSERVER;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "turnserver"))) return join(dir, "turnserver");
  }
  const cache = join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? "", ".cache"), "icegate");
  const builds = existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith("coturn-")) : [];
  for (const name of builds.sort().reverse()) {
    if (existsSync(join(cache, name, ".complete")) && existsSync(join(cache, name, "bin", "turnserver"))) {
      return join(cache, name, "bin", "turnserver");
    }
  }
  return undefined;
}

/**
 * A coturn on loopback for local development only: the TURN REST secret(s) of the vars file, and relaying to
 * loopback peers allowed (two tabs on this machine relay to each other). Its log is kept and shown if it stops.
 * @param {string} program
 * @param {string[]} secrets
 */
function startCoturn(program, secrets) {
  const dir = mkdtempSync(join(tmpdir(), "icegate-dev-coturn-"));
  const config = [
    `listening-ip=${host}`,
    `relay-ip=${host}`,
    `listening-port=${coturnPort}`,
    "use-auth-secret",
    ...secrets.map((value) => `static-auth-secret=${value}`),
    "realm=icegate.local",
    "fingerprint",
    "no-tls",
    "no-dtls",
    "no-cli",
    // Local development only: a deployed node must never relay to loopback (infrastructure/coturn).
    "allow-loopback-peers",
    "log-file=stdout",
    "simple-log",
    `userdb=${join(dir, "turndb")}`,
    `pidfile=${join(dir, "turnserver.pid")}`,
  ];
  writeFileSync(join(dir, "turnserver.conf"), `${config.join("\n")}\n`, { mode: 0o600 });
  const child = spawn(program, ["-c", join(dir, "turnserver.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  /** @param {Buffer} chunk */
  const keep = (chunk) => (log = (log + chunk.toString()).slice(-8_000));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("error", (error) => console.error(`icegate: could not start ${program}: ${error.message}`));
  child.on("exit", (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    if (!stopping) {
      console.error(`icegate: coturn stopped (${signal ?? `exit ${code}`}); /check's TURN rows will fail. Its log:`);
      console.error(log.trim().split("\n").slice(-20).join("\n"));
    }
  });
  return child;
}

const vars = readVars(devVars);
const turnSecrets = ["TURN_SECRET", "TURN_SECRET_NEXT"].flatMap((name) => vars.get(name) || []);
const turnserver = findTurnserver();
const version = turnserver && spawnSync(turnserver, ["--version"], { encoding: "utf8", timeout: 5_000 });
const turnVersion = version && version.status === 0 ? version.stdout.trim().split("\n").pop() : undefined;

/** @type {import("node:child_process").ChildProcess | undefined} */
let coturn;
let stopping = false;
if (!turnserver || !turnVersion) {
  console.log(
    "icegate: no coturn found, so /check's TURN rows will fail: `apt install coturn`, `brew install coturn` or " +
      "`bash scripts/coturn-build.sh`, then npm start again (the worker runs anyway).",
  );
} else if (turnSecrets.length === 0) {
  console.log(`icegate: ${devVars} has no TURN_SECRET, so coturn is not started (the worker runs anyway).`);
} else {
  coturn = startCoturn(turnserver, turnSecrets);
  console.log(`icegate: coturn ${turnVersion} on ${host}:${coturnPort} (udp, tcp), for local development only`);
}

const base = `http://${host}:${port}`;
console.log(`icegate: starting on ${base}. Try:
  curl -s ${base}/api/turn/credentials
  curl -s ${base}/healthz
and in a browser: ${base}/check#run (every TURN row should pass)
`);

// The embedded defaults of wrangler.toml name 127.0.0.1:3478 and port 8787; other ports replace them.
const overrides = [];
if (coturnPort !== "3478") {
  overrides.push(
    `TURN_URLS:turn:${host}:${coturnPort}?transport=udp,turn:${host}:${coturnPort}?transport=tcp`,
    `STUN_URLS:stun:${host}:${coturnPort}`,
  );
}
if (port !== "8787") overrides.push(`ALLOWED_ORIGINS:http://localhost:${port},http://${host}:${port}`);

const wrangler = join(root, "node_modules", ".bin", "wrangler");
const args = ["dev", "--local", "--ip", host, "--port", port];
if (devVars !== defaultDevVars) args.push("--env-file", devVars);
for (const value of overrides) args.push("--var", value);
const worker = spawn(wrangler, [...args, ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  // Stay on this machine: no fetch of a real `request.cf` object, no telemetry.
  env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
});

/** Stops both processes (Ctrl-C reaches them too, from the terminal) and exits once both are gone. */
/** @param {NodeJS.Signals} signal */
function stop(signal) {
  stopping = true;
  const children = [worker, coturn].filter((child) => child && child.exitCode === null && child.signalCode === null);
  const gone = children.map((child) => new Promise((done) => child?.once("exit", done)));
  for (const child of children) child?.kill(signal);
  const force = setTimeout(() => children.forEach((child) => child?.kill("SIGKILL")), 5_000);
  return Promise.all(gone).then(() => clearTimeout(force));
}
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.on(signal, () => void stop(signal).then(() => process.exit(130)));
}
worker.on("exit", (code, signal) => {
  const stopped = stopping;
  void stop("SIGTERM").then(() => process.exit(stopped ? 130 : (code ?? (signal ? 1 : 0))));
});
