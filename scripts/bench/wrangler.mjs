// Wrangler, driven the way the bench needs it: offline builds (`wrangler deploy --dry-run`, which prints the
// gzip size), a frozen snapshot of each build served by `wrangler dev` (so edits to src/ during a run
// cannot hot-reload the worker under load), the workerd runtime's own socket behind wrangler's proxy,
// and startup profiles from `wrangler check startup`.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { commandLine, freePort, groupAlive, groupPids, listeningPorts, run, start, waitFor } from "./processes.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
/** Wrangler run by this very Node (its shim's `env node` may find an older one on PATH). */
const WRANGLER = process.execPath;
const WRANGLER_JS = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const SERVE_JS = join(ROOT, "scripts/bench/serve.mjs");

/**
 * No metrics, no `Request.cf` download, no interactive UI, no colour: offline and quiet. And no local
 * observability collector (X_LOCAL_OBSERVABILITY=false): wrangler's emulation of Workers Logs for its local
 * dashboard, a trace sent to a second worker for every console.log, which costs the isolate several times what
 * the log line itself does. Production ships logs outside the request's path; the lines are still written.
 */
const WRANGLER_ENV = {
  ...process.env,
  X_LOCAL_OBSERVABILITY: "false",
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CI: "true",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

const version = (name) => {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
};

export function versions() {
  return { node: process.version, workerd: version("workerd"), wrangler: version("wrangler"), hono: version("hono") };
}

export function compatibilityDate(config) {
  return /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(config, "utf8"))?.[1];
}

/**
 * `wrangler deploy --dry-run` into `dir`: the gzip size wrangler prints ("Total Upload: X KiB / gzip: Y KiB"),
 * the built script (dir/dist) and the upload bundle (dir/worker.bundle, for `wrangler check startup`).
 */
export async function build({ name, config, env, dir }) {
  mkdirSync(dir, { recursive: true });
  const dist = join(dir, "dist");
  const bundle = join(dir, "worker.bundle");
  const metafile = join(dir, "meta.json");
  const args = [
    WRANGLER_JS,
    "deploy",
    "--dry-run",
    "-c",
    config,
    "--outdir",
    dist,
    "--outfile",
    bundle,
    "--metafile",
    metafile,
  ];
  if (env) args.push("--env", env);
  const { code, output } = await run(`build ${name}`, WRANGLER, args, {
    cwd: ROOT,
    env: WRANGLER_ENV,
    log: join(dir, "build.log"),
  });
  if (code !== 0) throw new Error(`wrangler deploy --dry-run (${name}) failed:\n${output}`);
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  if (!size) throw new Error(`no "Total Upload" line in wrangler's output (${name}):\n${output}`);
  const main = /"main_module":"([^"]+)"/.exec(readFileSync(bundle, "latin1"))?.[1] ?? "index.js";
  return { name, totalKiB: Number(size[1]), gzipKiB: Number(size[2]), dist, bundle, main, parts: parts(metafile) };
}

/** The bundle's minified bytes by package (node_modules) or by folder of src/, largest first (esbuild's metafile). */
function parts(metafile) {
  try {
    const meta = JSON.parse(readFileSync(metafile, "utf8"));
    const output = Object.values(meta.outputs).find((entry) => entry.entryPoint);
    const groups = new Map();
    for (const [file, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
      const segments = file.split("/");
      const name =
        segments[0] === "node_modules"
          ? segments.slice(1, segments[1]?.startsWith("@") ? 3 : 2).join("/")
          : segments.slice(0, segments.length > 2 ? 2 : segments.length).join("/");
      groups.set(name, (groups.get(name) ?? 0) + bytesInOutput);
    }
    return [...groups].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  } catch {
    return [];
  }
}

/**
 * A diagnostic copy of a build whose `console.log` does nothing: under wrangler dev every log line also
 * travels to wrangler's inspector proxy (Runtime.consoleAPICalled), a cost production does not have in
 * that form. Comparing the two separates it from the worker's own work.
 */
export function mutedCopy(built, dir) {
  const dist = join(dir, "dist");
  mkdirSync(dist, { recursive: true });
  const script = readFileSync(join(built.dist, built.main), "utf8");
  writeFileSync(join(dist, built.main), `console.log = () => {};\n${script}`);
  if (existsSync(join(built.dist, `${built.main}.map`))) {
    copyFileSync(join(built.dist, `${built.main}.map`), join(dist, `${built.main}.map`));
  }
  return { ...built, name: `${built.name}-muted`, dist };
}

/**
 * A copy of `config` next to the built script: `main` pointed at it, `no_bundle = true`. Every binding and
 * var stays as the project declares it; only the code is frozen.
 */
export function snapshotConfig(config, built) {
  const text = readFileSync(config, "utf8");
  if (!/^main\s*=.*$/m.test(text)) throw new Error(`${config} has no top-level main`);
  const snapshot = join(built.dist, "wrangler.toml");
  writeFileSync(snapshot, text.replace(/^main\s*=.*$/m, `main = ${JSON.stringify(built.main)}\nno_bundle = true`));
  return snapshot;
}

/**
 * A worker on the snapshot `config` with `vars` (vars and secrets, from a 0600 file: nothing on the command
 * line), served by scripts/bench/serve.mjs: wrangler's dev server without a DevTools inspector attached.
 * Requests go to the workerd runtime's own socket when it can be found (Linux /proc): wrangler's proxy is a
 * second workerd and a Node process on the path, which would dilute the difference between the worker and
 * the baseline. `direct: false` keeps the proxy.
 */
export async function startDev({ name, config, vars, dir, direct = true }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const varsFile = join(dir, "vars.json");
  writeFileSync(varsFile, JSON.stringify(vars), { mode: 0o600 });
  const server = start(name, WRANGLER, [SERVE_JS, config, String(port), varsFile, join(dir, "state")], {
    cwd: dir,
    env: WRANGLER_ENV,
    log: join(dir, "serve.log"),
  });
  let exited = false;
  void server.exited.then(() => (exited = true));
  const proxyUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => (await fetch(`${proxyUrl}/healthz`, { signal: AbortSignal.timeout(3_000) })).status > 0,
      120_000,
      () => `${name}: ${server.output()}`,
      () => exited,
    );
    const reference = await (await fetch(`${proxyUrl}/healthz`)).text();
    const runtimePorts = [];
    for (const pid of groupPids(server.pid)) {
      if (!commandLine(pid).includes("workerd")) continue;
      for (const candidate of listeningPorts(pid)) {
        if (candidate !== port) runtimePorts.push(candidate);
      }
    }
    let url = proxyUrl;
    for (const candidate of direct ? runtimePorts : []) {
      try {
        const response = await fetch(`http://127.0.0.1:${candidate}/healthz`, { signal: AbortSignal.timeout(1_500) });
        if (response.status === 200 && (await response.text()) === reference) {
          url = `http://127.0.0.1:${candidate}`;
          break;
        }
      } catch {
        // Not the runtime's entry socket (inspector, loopback service).
      }
    }
    return {
      name,
      pid: server.pid,
      url,
      proxyUrl,
      direct: url !== proxyUrl,
      ports: [port, ...runtimePorts],
      pids: groupPids(server.pid),
      alive: () => groupAlive(server.pid),
      output: server.output,
      stop: server.stop,
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** V8's default sampling interval, which `wrangler check startup` profiles with. */
export const STARTUP_SAMPLING_INTERVAL_MS = 1;

/**
 * CPU time of a startup profile, sample by sample: each non-idle sample counts its time delta, but at most
 * 1.5 sampling intervals. wrangler's "Active" sums the deltas whole, and the first sample taken once the
 * isolate runs JavaScript carries, as its delta, the whole unsampled wait for the profiling request to
 * arrive (the profile of a worker whose module is empty has one idle sample in a 25 ms window). That wait
 * is wall time, not CPU: a bare Hono worker that does nothing at startup reads 12 ms "Active" from it.
 */
export function sampledCpuMs(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const cap = 1.5 * STARTUP_SAMPLING_INTERVAL_MS * 1000;
  let micros = 0;
  for (const [index, delta] of (profile.timeDeltas ?? []).entries()) {
    const name = nodes.get(profile.samples?.[index])?.callFrame.functionName;
    if (name !== "(idle)") micros += Math.min(delta, cap);
  }
  return micros / 1000;
}

/**
 * One `wrangler check startup` of a built bundle: wrangler's "Active" figure (sampled time of the startup
 * phase at 1 ms sampling: idle excluded; compilation, evaluation and GC included), its GC part, the sample
 * count, and the CPU the samples account for (`sampledCpuMs`). `available: false` with the reason when the
 * command does not work here.
 */
export async function checkStartup(built, dir, index) {
  const outfile = join(dir, `startup-${built.name}-${index}.cpuprofile`);
  const { code, output } = await run(
    `check startup ${built.name}`,
    WRANGLER,
    [WRANGLER_JS, "check", "startup", "--worker", built.bundle, "--outfile", outfile],
    { cwd: dir, env: WRANGLER_ENV, log: join(dir, `startup-${built.name}-${index}.log`) },
  );
  const active = /Active: ([\d.]+) ms \(including ([\d.]+) ms garbage collection\)/.exec(output);
  if (code !== 0 || !active || !existsSync(outfile)) {
    const reason = output.split("\n").find((line) => /error|✘|failed|login|auth/i.test(line)) ?? `exit ${code}`;
    return { available: false, reason: reason.trim().slice(0, 160) };
  }
  const samples = Number(/Samples: (\d+)/.exec(output)?.[1] ?? Number.NaN);
  const cpuMs = sampledCpuMs(JSON.parse(readFileSync(outfile, "utf8")));
  return { available: true, activeMs: Number(active[1]), gcMs: Number(active[2]), samples, cpuMs };
}
