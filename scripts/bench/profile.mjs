#!/usr/bin/env node
// `npm run bench:profile`: where icegate's CPU goes, by function, in V8's own profiler, for the figures in
// BENCHMARKS.md ("Where the time goes"). It builds the worker as production does but unminified (function
// names), runs it in workerd (Miniflare) with the inspector attached, and prints:
//   - startup: the module's evaluation, sampled every 50 µs over several fresh isolates;
//   - per credential path (anonymous, HS256, cached Cloudflare provider): µs of the isolate's CPU per
//     request, by function (self and inclusive), under autocannon load on loopback, next to the same figure
//     for the floor (bench/baseline's /floor route answering that path's reply with its headers), so the
//     difference is what icegate adds above the floor.
// The request log line is muted (console.log stubbed, as the bench's diagnostic row): with an inspector
// attached every line also travels to it, a cost production does not have. Profiling slows native calls
// (Response, headers, crypto) more than JavaScript, so read shares, not absolute times; `npm run bench`
// measures throughput without a profiler.
//
//   node scripts/bench/profile.mjs [--path anonymous|hs256|cloudflare|all] [--rounds N] [--seconds S]
//                                  [--connections C] [--interval US] [--startup-runs N] [--top N]
// Per path, icegate and the floor are profiled in turn, N slices of S seconds each (default 4 × 3 s).
// For experiments: PROFILE_KEEP=<file> writes the unminified script it built; PROFILE_SCRIPT=<file> profiles that
// script (an edited copy) instead.
import autocannon from "autocannon";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { CLOUDFLARE_KEY_ID, fakeCloudflareIceServers, secret, startUpstream, tokenPool } from "./upstream.mjs";
import { build, compatibilityDate, ROOT } from "./wrangler.mjs";

const PATHS = ["anonymous", "hs256", "cloudflare"];
const { values } = parseArgs({
  options: {
    path: { type: "string", default: "all" },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "4" },
    connections: { type: "string", default: "8" },
    interval: { type: "string", default: "100" },
    "startup-runs": { type: "string", default: "10" },
    top: { type: "string", default: "25" },
  },
});
const paths = values.path === "all" ? PATHS : [values.path];
if (paths.some((path) => !PATHS.includes(path))) throw new Error(`--path: one of ${PATHS.join(", ")} or all`);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
const top = Number(values.top);

const cloudflareToken = secret(24);
const tmp = mkdtempSync(join(tmpdir(), "icegate-profile-"));
let upstream;
try {
  // The project's configuration with minify off; main made absolute, since the copy lives elsewhere.
  const config = join(tmp, "wrangler.toml");
  const text = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .replace(/^minify\s*=.*$/m, "minify = false")
    .replace(/^main\s*=\s*"([^"]+)"/m, (_, main) => `main = ${JSON.stringify(join(ROOT, main))}`);
  writeFileSync(config, text);
  console.log("building the worker (production, unminified) with wrangler deploy --dry-run");
  const built = await build({ name: "icegate", config, env: "production", dir: join(tmp, "build") });
  const script = readFileSync(process.env.PROFILE_SCRIPT ?? join(built.dist, built.main), "utf8");
  if (process.env.PROFILE_KEEP) writeFileSync(process.env.PROFILE_KEEP, script);
  const date = compatibilityDate(join(ROOT, "wrangler.toml"));
  const baseline = await build({
    name: "baseline",
    config: join(ROOT, "bench/baseline/wrangler.toml"),
    dir: join(tmp, "baseline"),
  });
  const floorScript = readFileSync(join(baseline.dist, baseline.main), "utf8");

  console.log(`\n## Startup: module evaluation, ${values["startup-runs"]} fresh isolates, sampled every 50 µs\n`);
  const startup = [];
  for (let run = 0; run < Number(values["startup-runs"]); run++) {
    startup.push(await startupProfile(script, date));
  }
  printProfile(startup, { unit: "ms per start", divide: startup.length * 1000, top });

  upstream = await startUpstream({
    jwks: { keys: [] },
    cloudflareToken,
    iceServers: () => fakeCloudflareIceServers(),
    fullTtl: 86_400,
  });
  for (const path of paths) {
    const { vars, requests } = await pathSetup(path, upstream.url);
    const worker = await loadedWorker(`console.log = () => {};\n${script}`, date, vars, requests);
    let floor;
    try {
      // The floor answers the worker's own reply, with the worker's reply headers, to the same requests.
      const replyHeaders = Object.fromEntries(
        [...worker.reply.headers].filter(([name]) => !["content-type", "content-length"].includes(name)),
      );
      floor = await loadedWorker(
        `console.log = () => {};\n${floorScript}`,
        date,
        {
          BENCH_BODIES: JSON.stringify({ reply: worker.reply.body }),
          BENCH_REPLY_HEADERS: JSON.stringify(replyHeaders),
        },
        requests.map((request) => ({ ...request, path: "/floor/reply" })),
      );
      // Slices taken in turn, so that the machine's speed drifting hits both sides alike.
      const mine = [];
      const theirs = [];
      for (let round = 0; round < rounds; round++) {
        mine.push(await profileSlice(worker));
        theirs.push(await profileSlice(floor));
      }
      const perRequest = (slice) => activeMicros([slice.profile]) / slice.ok;
      const added = median(mine.map((slice, round) => perRequest(slice) - perRequest(theirs[round])));
      const [me, them] = [merged(mine), merged(theirs)];
      console.log(
        `\n## ${path}: ${me.ok} replies in ${rounds} × ${seconds} s at ${connections} connection(s)` +
          `${me.failed ? `, ${me.failed} not 2xx` : ""}\n`,
      );
      console.log(
        `icegate ${median(mine.map(perRequest)).toFixed(1)} µs of CPU per request, the floor ` +
          `${median(theirs.map(perRequest)).toFixed(1)} µs (${them.ok} replies${them.failed ? `, ${them.failed} not 2xx` : ""}), ` +
          `medians of ${rounds} slices each: icegate adds ${added.toFixed(1)} µs (median of the slices' differences).\n`,
      );
      printComparison(me, them);
      printProfile(me.profiles, { unit: "µs per request", divide: me.ok, top });
    } finally {
      await floor?.stop();
      await worker.stop();
    }
  }
} finally {
  await upstream?.close();
  rmSync(tmp, { recursive: true, force: true });
}

async function pathSetup(path, upstreamUrl) {
  const vars = {
    TURN_SECRET: secret(32),
    TURN_URLS: "turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp,turns:127.0.0.1:5349?transport=tcp",
    STUN_URLS: "stun:127.0.0.1:3478",
    TURN_TTL_SECONDS: "86400",
    TURN_USER_ID: "hash",
    ALLOW_ANONYMOUS: "true",
    RATE_LIMIT_ENABLED: "false",
  };
  const request = { method: "GET", path: "/api/turn/credentials" };
  if (path === "hs256") {
    vars.AUTH_JWT_SECRET = secret(32);
    const tokens = await tokenPool({ users: 256, alg: "HS256", hsSecret: vars.AUTH_JWT_SECRET });
    return { vars, requests: tokens.map((token) => ({ ...request, headers: { authorization: `Bearer ${token}` } })) };
  }
  if (path === "cloudflare") {
    Object.assign(vars, {
      TURN_PROVIDERS: "cloudflare",
      CLOUDFLARE_TURN_API_URL: upstreamUrl,
      CLOUDFLARE_TURN_KEY_ID: CLOUDFLARE_KEY_ID,
      CLOUDFLARE_TURN_API_TOKEN: cloudflareToken,
    });
  }
  return { vars, requests: [request] };
}

/** A Miniflare worker named `profiled` with the inspector on, and a command sender for its isolate. */
async function profiledWorker(options) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: "profiled",
      inspectorPort: 0,
      handleStructuredLogs: () => undefined,
      modulesRoot: "/",
      ...options,
    }),
  );
  const url = await mf.ready;
  const inspector = await mf.getInspectorURL();
  const ws = new WebSocket(new URL("/core:user:profiled", inspector.href));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on("message", (message) => {
    const reply = JSON.parse(message);
    pending.get(reply.id)?.(reply.result);
    pending.delete(reply.id);
  });
  const send = (method, params) =>
    new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  const stop = async () => {
    ws.close();
    await mf.dispose();
  };
  return { mf, url, send, stop };
}

/** One fresh isolate importing the worker's module under the profiler (as `wrangler check startup` does). */
async function startupProfile(script, date) {
  const worker = await profiledWorker({
    compatibilityDate: date,
    modules: [
      {
        type: "ESModule",
        path: "/startup.mjs",
        contents: 'export default { async fetch() { await import("./index.js"); return new Response("ok"); } }',
      },
      { type: "ESModule", path: "/index.js", contents: script },
    ],
  });
  try {
    await worker.send("Profiler.enable");
    await worker.send("Profiler.setSamplingInterval", { interval: 50 });
    await worker.send("Profiler.start");
    await (await worker.mf.dispatchFetch("https://startup.invalid/")).text();
    return (await worker.send("Profiler.stop")).profile;
  } finally {
    await worker.stop();
  }
}

/** A warmed-up worker with the inspector on, its first reply, and the requests to load it with. */
async function loadedWorker(script, date, vars, requests) {
  const worker = await profiledWorker({
    compatibilityDate: date,
    modules: [{ type: "ESModule", path: "/index.js", contents: script }],
    bindings: vars,
    kvNamespaces: ["TURN_CACHE"],
    ratelimits: { RATE_LIMITER: { namespace_id: "1001", simple: { limit: 120, period: 60 } } },
  });
  try {
    const first = requests[0];
    const probe = await worker.mf.dispatchFetch(new URL(first.path, worker.url), { headers: first.headers ?? {} });
    const reply = { headers: probe.headers, body: await probe.json() };
    const load = (duration) => autocannon({ url: worker.url.href, connections, duration, requests });
    await load(2); // warm-up: JIT, the isolate's caches
    await worker.send("Profiler.enable");
    await worker.send("Profiler.setSamplingInterval", { interval: Number(values.interval) });
    return { ...worker, reply, load };
  } catch (error) {
    await worker.stop();
    throw error;
  }
}

/** One profiled slice of load. */
async function profileSlice(worker) {
  await worker.send("Profiler.start");
  const result = await worker.load(seconds);
  const { profile } = await worker.send("Profiler.stop");
  return { profile, ok: result["2xx"], failed: result.non2xx + result.errors + result.timeouts };
}

/** Slices as one: their profiles, replies and failures. */
function merged(slices) {
  return {
    profiles: slices.map((slice) => slice.profile),
    ok: slices.reduce((sum, slice) => sum + slice.ok, 0),
    failed: slices.reduce((sum, slice) => sum + slice.failed, 0),
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Self time (µs) by frame: the script's own functions summed as one row, the runtime's frames by name. */
function selfByPart(profiles) {
  const parts = new Map();
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, index) => {
      const frame = nodes.get(id).callFrame;
      if (frame.functionName === "(idle)") return;
      const delta = Math.min(profile.timeDeltas[index], 4 * Number(values.interval));
      const part = frame.url.endsWith("index.js") ? "the worker's own JavaScript" : frame.functionName || "(anonymous)";
      parts.set(part, (parts.get(part) ?? 0) + delta);
    });
  }
  return parts;
}

/** icegate against the floor, per request: its own JavaScript, and each runtime frame (Response, GC, …). */
function printComparison(worker, floor) {
  const mine = selfByPart(worker.profiles);
  const theirs = selfByPart(floor.profiles);
  const names = [...new Set([...mine.keys(), ...theirs.keys()])];
  const per = (map, name, ok) => (map.get(name) ?? 0) / ok;
  const rows = names
    .map((name) => [name, per(mine, name, worker.ok), per(theirs, name, floor.ok)])
    .sort((a, b) => Math.abs(b[1] - b[2]) - Math.abs(a[1] - a[2]))
    .slice(0, 12)
    .map(([name, a, b]) => `| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a - b).toFixed(1)} |`);
  console.log("| Self time, µs per request | icegate | floor | icegate adds |\n| --- | ---: | ---: | ---: |");
  console.log(`${rows.join("\n")}\n`);
}

/** The profiles' non-idle time (µs), each sample's delta at most four intervals, as printProfile counts it. */
function activeMicros(profiles) {
  let active = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    profile.samples.forEach((id, index) => {
      if (nodes.get(id).callFrame.functionName !== "(idle)") {
        active += Math.min(profile.timeDeltas[index], 4 * Number(values.interval));
      }
    });
  }
  return active;
}

/**
 * Self and inclusive time by function over `profiles`, divided by `divide` (requests, or starts × 1000 for
 * ms). Time outside the worker's script (runtime natives such as Response, the profiler's "(program)") is
 * shown under its own name.
 */
function printProfile(profiles, { unit, divide, top: count }) {
  const self = new Map();
  const inclusive = new Map();
  let active = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const name = (frame) =>
      `${frame.functionName || "(anonymous)"}${frame.url ? ` ${frame.url.split("/").pop()}:${frame.lineNumber + 1}` : ""}`;
    profile.samples.forEach((id, index) => {
      const leaf = nodes.get(id).callFrame;
      if (leaf.functionName === "(idle)") return;
      // The first sample after idle carries the idle wait as its delta: at most four intervals count.
      const delta = Math.min(profile.timeDeltas[index], 4 * Number(values.interval));
      active += delta;
      self.set(name(leaf), (self.get(name(leaf)) ?? 0) + delta);
      const seen = new Set();
      for (let node = id; node !== undefined; node = parent.get(node)) {
        const key = name(nodes.get(node).callFrame);
        if (key === "(root)" || seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
      }
    });
  }
  const figure = (micros) => (micros / divide).toFixed(unit.startsWith("ms") ? 3 : 1);
  const rows = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, micros]) => `| ${figure(micros)} | ${((100 * micros) / active).toFixed(1)} % | \`${key}\` |`);
  console.log(`Active CPU: ${figure(active)} ${unit}.\n`);
  for (const [title, map] of [
    ["Self", self],
    ["Inclusive", inclusive],
  ]) {
    console.log(`| ${title}, ${unit} | Share | Function |\n| ---: | ---: | --- |`);
    console.log(`${rows(map).join("\n")}\n`);
  }
}
