#!/usr/bin/env node
// `npm run bench`: icegate's credential path against a bare Hono worker (bench/baseline), both in workerd
// under `wrangler dev`, in the same run. It alternates autocannon load between the two for each path
// (anonymous coturn minting; HS256 token; ES256 token through a cached JWKS; a Cloudflare provider hit
// from the cache), counts the fake provider's upstream calls, reads the gzip bundle size and the startup
// CPU, prints the figures with the targets, and rewrites the results region of BENCHMARKS.md.
//
//   node scripts/bench.mjs [--rounds N] [--duration S] [--connections C] [--quick] [--no-write] [--via-proxy]
//
// Every process it starts runs in a process group of its own and is killed by its pid, on failure and
// on Ctrl-C too. Loopback only; nothing leaves the machine.
import { cpus, loadavg, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { alternate, median, round } from "./bench/load.mjs";
import { stopAll, stopOnSignals } from "./bench/processes.mjs";
import { markdown, writeResults } from "./bench/report.mjs";
import {
  AUDIENCE,
  CLOUDFLARE_KEY_ID,
  es256Key,
  fakeCloudflareIceServers,
  ISSUER,
  secret,
  startUpstream,
  tokenPool,
} from "./bench/upstream.mjs";
import {
  build,
  checkStartup,
  compatibilityDate,
  mutedCopy,
  ROOT,
  snapshotConfig,
  startDev,
  versions,
} from "./bench/wrangler.mjs";

const HELP = `usage: node scripts/bench.mjs [options]
  --rounds N             rounds per side and path (default 5)
  --duration S           seconds per round (default 5)
  --connections C        concurrent connections (default 50)
  --upstream-requests N  requests for the upstream-amplification count (default 10000)
  --quick                one short round of everything: a smoke test, not figures
  --no-write             print the report only; leave BENCHMARKS.md alone
  --via-proxy            load wrangler dev's proxy port instead of the runtime's own socket`;

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    "upstream-requests": { type: "string" },
    quick: { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    "via-proxy": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

const positive = (value, fallback, name) => {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    console.error(`bench: --${name} must be a positive number\n${HELP}`);
    process.exit(2);
  }
  return number;
};
const quick = args.quick;
const options = {
  rounds: Math.round(positive(args.rounds, quick ? 1 : 5, "rounds")),
  duration: positive(args.duration, quick ? 1 : 5, "duration"),
  connections: Math.round(positive(args.connections, 50, "connections")),
  upstreamRequests: Math.round(positive(args["upstream-requests"], quick ? 2_000 : 10_000, "upstream-requests")),
  write: !args["no-write"],
  direct: !args["via-proxy"],
};
options.warmup = quick ? 0.5 : 2;
options.latencyDuration = quick ? 0.5 : Math.min(options.duration, 2);
options.startupSamples = quick ? 1 : Math.max(options.rounds, 7);
options.users = quick ? 64 : 256;

/**
 * The headers of icegate's credentials reply besides Content-Type (src/http/headers.ts), for the baseline's
 * /floor route. The bench checks them against the worker's reply and warns when they drift apart.
 */
const REPLY_HEADERS = {
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  Pragma: "no-cache",
  "Referrer-Policy": "no-referrer",
  Vary: "Origin, Authorization",
  "X-Content-Type-Options": "nosniff",
};

const TURN_URLS = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"];
const STUN_URLS = ["stun:127.0.0.1:3478"];
const TTL_SECONDS = 86_400;
const PATH = "/api/turn/credentials";

const t0 = Date.now();
const say = (message) => console.error(`bench: ${message} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
const tmp = mkdtempSync(join(tmpdir(), "icegate-bench-"));
let upstream;
stopOnSignals(async () => {
  await upstream?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Bodies the baseline answers: the shape and size of the worker's replies (checked against them below). */
function baselineBodies() {
  const expiry = Math.floor(Date.now() / 1000) + TTL_SECONDS;
  const cloudflare = fakeCloudflareIceServers()
    .map((server) => ({ ...server, urls: server.urls.filter((url) => !/:53(\?|$)/.test(url)) }))
    .filter((server) => server.urls.length > 0);
  return {
    coturn: {
      iceServers: [
        { urls: STUN_URLS },
        { urls: TURN_URLS, username: `${expiry}:${"0".repeat(16)}`, credential: `${"A".repeat(27)}=` },
      ],
      expiresAt: expiry * 1000,
      ttl: TTL_SECONDS,
    },
    cloudflare: { iceServers: cloudflare, expiresAt: expiry * 1000, ttl: TTL_SECONDS },
  };
}

async function probe(url, headers = {}) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, bytes: Buffer.byteLength(text), text };
}

async function main() {
  const started = Date.now();
  const meta = {
    date: new Date().toISOString().slice(0, 10),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown CPU",
    loadAverage: loadavg()[0].toFixed(2),
    quick,
    ...options,
    ...versions(),
  };
  const warnings = [];
  const baselineConfig = join(ROOT, "bench/baseline/wrangler.toml");
  const projectConfig = join(ROOT, "wrangler.toml");
  if (compatibilityDate(baselineConfig) !== compatibilityDate(projectConfig)) {
    warnings.push(
      `bench/baseline/wrangler.toml's compatibility_date (${compatibilityDate(baselineConfig)}) differs from wrangler.toml's (${compatibilityDate(projectConfig)}).`,
    );
  }

  say("building the worker (production) and the baseline with wrangler deploy --dry-run");
  const [workerBuild, baselineBuild] = await Promise.all([
    build({ name: "icegate", config: projectConfig, env: "production", dir: join(tmp, "icegate") }),
    build({ name: "baseline", config: baselineConfig, dir: join(tmp, "baseline") }),
  ]);
  say(`bundle: icegate ${workerBuild.gzipKiB} KiB gzip, baseline ${baselineBuild.gzipKiB} KiB gzip`);

  say(`profiling startup with wrangler check startup (${options.startupSamples}× each)`);
  const startup = { samples: options.startupSamples };
  for (const built of [workerBuild, baselineBuild]) {
    const runs = [];
    for (let i = 0; i < options.startupSamples; i++) runs.push(await checkStartup(built, join(tmp, built.name), i));
    const ok = runs.filter((r) => r.available);
    startup[built.name === "icegate" ? "worker" : "baseline"] =
      ok.length > 0
        ? {
            available: true,
            activeMs: median(ok.map((r) => r.activeMs)),
            minMs: Math.min(...ok.map((r) => r.activeMs)),
            maxMs: Math.max(...ok.map((r) => r.activeMs)),
            gcMs: median(ok.map((r) => r.gcMs)),
            cpuMs: median(ok.map((r) => r.cpuMs)),
            cpuMinMs: Math.min(...ok.map((r) => r.cpuMs)),
            cpuMaxMs: Math.max(...ok.map((r) => r.cpuMs)),
            samples: median(ok.map((r) => r.samples)),
          }
        : { available: false, note: `not available offline (${runs[0]?.reason ?? "no run"})` };
  }

  say("starting the fake upstream (JWKS, Cloudflare API) and signing the token pools");
  const hsSecret = secret(32);
  const cloudflareToken = secret(24);
  const es = await es256Key();
  upstream = await startUpstream({ jwks: es.jwks, cloudflareToken });
  say(`fake upstream on 127.0.0.1 port=${upstream.port}`);
  const [hsTokens, esTokens] = await Promise.all([
    tokenPool({ users: options.users, alg: "HS256", hsSecret }),
    tokenPool({ users: options.users, alg: "ES256", esKey: es.privateKey }),
  ]);

  const common = {
    TURN_SECRET: secret(32),
    TURN_URLS: TURN_URLS.join(","),
    STUN_URLS: STUN_URLS.join(","),
    TURN_TTL_SECONDS: String(TTL_SECONDS),
    TURN_USER_ID: "hash",
    ALLOW_ANONYMOUS: "true",
    RATE_LIMIT_ENABLED: "false",
  };
  say("starting wrangler dev: icegate (coturn), icegate (cloudflare provider), baseline, icegate with its log muted");
  const bodies = baselineBodies();
  const workerSnapshot = snapshotConfig(projectConfig, workerBuild);
  const mutedSnapshot = snapshotConfig(projectConfig, mutedCopy(workerBuild, join(tmp, "icegate-muted")));
  const devs = await Promise.allSettled([
    startDev({
      name: "icegate-coturn",
      config: workerSnapshot,
      dir: join(tmp, "dev-coturn"),
      direct: options.direct,
      vars: {
        ...common,
        AUTH_JWT_SECRET: hsSecret,
        AUTH_JWKS_URL: `${upstream.url}/jwks.json`,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      },
    }),
    startDev({
      name: "icegate-cloudflare",
      config: workerSnapshot,
      dir: join(tmp, "dev-cloudflare"),
      direct: options.direct,
      vars: {
        ...common,
        TURN_PROVIDERS: "cloudflare",
        CLOUDFLARE_TURN_API_URL: upstream.url,
        CLOUDFLARE_TURN_KEY_ID: CLOUDFLARE_KEY_ID,
        CLOUDFLARE_TURN_API_TOKEN: cloudflareToken,
      },
    }),
    startDev({
      name: "baseline",
      config: snapshotConfig(baselineConfig, baselineBuild),
      dir: join(tmp, "dev-baseline"),
      direct: options.direct,
      vars: { BENCH_BODIES: JSON.stringify(bodies), BENCH_REPLY_HEADERS: JSON.stringify(REPLY_HEADERS) },
    }),
    startDev({
      name: "icegate-muted",
      config: mutedSnapshot,
      dir: join(tmp, "dev-muted"),
      direct: options.direct,
      vars: common,
    }),
  ]);
  const failure = devs.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
  const [coturnDev, providerDev, baselineDev, mutedDev] = devs.map((result) => result.value);
  for (const dev of [coturnDev, providerDev, baselineDev, mutedDev]) {
    say(`started ${dev.name} pgid=${dev.pid} pids=${dev.pids.join(",")} ports=${dev.ports.join(",")} url=${dev.url}`);
  }
  meta.direct = [coturnDev, providerDev, baselineDev, mutedDev].every((dev) => dev.direct);
  if (options.direct && !meta.direct)
    warnings.push("The runtime's socket was not found: requests went through wrangler dev's proxy.");

  const [workerHeaders, floorHeaders] = await Promise.all(
    [`${coturnDev.url}${PATH}`, `${baselineDev.url}/floor/coturn`].map(async (url) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      return [...response.headers].filter(([name]) => !["date", "content-length"].includes(name)).join("\n");
    }),
  );
  if (workerHeaders !== floorHeaders) {
    warnings.push(
      "The baseline's /floor reply no longer has the worker's reply headers (REPLY_HEADERS in scripts/bench.mjs).",
    );
  }

  const auth = (token) => ({ authorization: `Bearer ${token}` });
  const scenarios = [
    {
      id: "anonymous",
      label: "Anonymous coturn minting",
      dev: coturnDev,
      requests: [{ method: "GET", path: PATH }],
      body: "coturn",
    },
    {
      id: "hs256",
      label: "HS256 token + coturn minting",
      dev: coturnDev,
      requests: hsTokens.map((token) => ({ method: "GET", path: PATH, headers: auth(token) })),
      body: "coturn",
    },
    {
      id: "es256",
      label: "ES256 token via cached JWKS + coturn minting",
      dev: coturnDev,
      requests: esTokens.map((token) => ({ method: "GET", path: PATH, headers: auth(token) })),
      body: "coturn",
    },
    {
      id: "provider",
      label: "Cloudflare provider, credentials from the cache",
      dev: providerDev,
      requests: [{ method: "GET", path: PATH }],
      body: "cloudflare",
      provider: true,
    },
    {
      id: "anonymous-muted",
      label: "Diagnostic: anonymous coturn minting, request log muted",
      dev: mutedDev,
      requests: [{ method: "GET", path: PATH }],
      body: "coturn",
      diagnostic: true,
    },
    {
      id: "floor",
      label: "Diagnostic: the baseline with icegate's reply headers and one log line",
      dev: baselineDev,
      path: "/floor/coturn",
      body: "coturn",
      diagnostic: true,
    },
  ];
  for (const scenario of scenarios) scenario.requests ??= [{ method: "GET", path: scenario.path }];

  const health = await probe(`${providerDev.url}/healthz`).catch(() => ({ status: 0, text: "" }));
  let providers;
  try {
    providers = JSON.parse(health.text).providers ?? [];
  } catch {
    providers = [];
  }
  const providerAvailable = health.status === 200 && providers.includes("cloudflare");
  const NA_PROVIDER = "n/a (providers not available in this build)";

  // Upstream amplification first, while the provider worker's isolate and cache are cold.
  const upstreamReport = { available: providerAvailable, note: NA_PROVIDER, keys: 1, isolates: 1 };
  if (providerAvailable) {
    const before = upstream.counts.cloudflare;
    say(`upstream amplification: ${options.upstreamRequests} requests to a cold provider worker`);
    const result = await round({
      url: providerDev.url,
      requests: scenarios[3].requests,
      connections: options.connections,
      amount: options.upstreamRequests,
    });
    upstreamReport.requests = result.ok + result.failed;
    upstreamReport.failed = result.failed;
    upstreamReport.calls = upstream.counts.cloudflare - before;
    if (result.failed > 0) warnings.push(`Upstream amplification: ${result.failed} of the requests failed.`);
  }

  const rows = [];
  let providerRequests = upstreamReport.requests ?? 0;
  let esRequests = 0;
  for (const scenario of scenarios) {
    const row = { id: scenario.id, label: scenario.label, diagnostic: scenario.diagnostic === true, bytes: {} };
    rows.push(row);
    if (scenario.provider && !providerAvailable) {
      row.note = NA_PROVIDER;
      continue;
    }
    const worker = { url: scenario.dev.url, requests: scenario.requests };
    const baseline = { url: baselineDev.url, requests: [{ method: "GET", path: `/${scenario.body}` }] };
    const first = await probe(`${worker.url}${scenario.path ?? PATH}`, scenario.requests[0].headers);
    const reference = await probe(`${baseline.url}/${scenario.body}`);
    row.bytes = { worker: first.bytes, baseline: reference.bytes };
    if (first.status !== 200) {
      row.note = `failed: the worker answered ${first.status} ${first.text.slice(0, 120)}`;
      warnings.push(`${scenario.label}: ${row.note}`);
      continue;
    }
    if (Math.abs(first.bytes - reference.bytes) > 16) {
      warnings.push(
        `${scenario.label}: the baseline's reply is ${reference.bytes} bytes, the worker's ${first.bytes}.`,
      );
    }
    say(`${scenario.label}: ${options.rounds} × (${options.duration} s worker, ${options.duration} s baseline)`);
    const onRound = (i, w, b) =>
      say(
        `  round ${i + 1}: worker ${w.rps.toFixed(0)} req/s p99 ${w.p99.toFixed(2)} ms, baseline ${b.rps.toFixed(0)} req/s p99 ${b.p99.toFixed(2)} ms${w.failed + b.failed > 0 ? `, ${w.failed + b.failed} failed` : ""}`,
      );
    row.load = await alternate({
      worker,
      baseline,
      rounds: options.rounds,
      duration: options.duration,
      warmup: options.warmup,
      connections: options.connections,
      onRound,
    });
    row.latency = await alternate({
      worker,
      baseline,
      rounds: options.rounds,
      duration: options.latencyDuration,
      warmup: options.warmup / 2,
      connections: 1,
    });
    if (scenario.provider) providerRequests += countRequests(row);
    if (scenario.id === "es256") esRequests += countRequests(row);
  }
  upstreamReport.totalCalls = upstream.counts.cloudflare;
  upstreamReport.totalRequests = providerRequests;
  if (upstream.counts.refused > 0) warnings.push(`The fake upstream refused ${upstream.counts.refused} request(s).`);

  const report = {
    meta,
    rows,
    upstream: upstreamReport,
    jwks: { fetches: upstream.counts.jwks, requests: esRequests },
    bundle: { worker: workerBuild, baseline: baselineBuild },
    startup,
    warnings,
  };
  const text = markdown(report);
  console.log(text);
  if (options.write) {
    writeResults(join(ROOT, "BENCHMARKS.md"), text);
    say("wrote BENCHMARKS.md");
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Requests sent to the worker for a row, warm-ups included. */
function countRequests(row) {
  return (row.load?.workerRequests ?? 0) + (row.latency?.workerRequests ?? 0);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  console.error(`bench: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await stopAll();
  await upstream?.close();
  rmSync(tmp, { recursive: true, force: true });
  say("all processes stopped");
}
process.exit(exitCode);
