#!/usr/bin/env node
// `npm run bench`: icegate's credential path against its floor (the bare baseline plus icegate's reply
// headers and one request log line) and against the bare Hono worker (bench/baseline), all in workerd under
// `wrangler dev`, in the same run. For each path (anonymous coturn minting; HS256 token; ES256 token through
// a cached JWKS; a Cloudflare provider hit from the cache) it rotates autocannon load between the three in
// every round, counts the fake provider's upstream calls, reads the gzip bundle size and the startup CPU,
// and times, in real Chromium and Firefox, getIceServers() to the first relay candidate and to an open
// relay-only data channel (scripts/bench/browser.mjs) against a real coturn on loopback. It prints the
// figures with the targets and rewrites the results regions of BENCHMARKS.md and the README.
//
//   node scripts/bench.mjs [--rounds N] [--duration S] [--connections C] [--browser-samples N] [--no-browser]
//                          [--quick] [--no-write] [--via-proxy]
//
// Every process it starts runs in a process group of its own and is killed by its pid, on failure and
// on Ctrl-C too. Loopback only; nothing leaves the machine.
import { cpus, loadavg, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { launchBrowsers, measureBrowsers, startPageServer } from "./bench/browser.mjs";
import { coturnBin, startCoturn } from "./bench/coturn.mjs";
import { alternate, median, round } from "./bench/load.mjs";
import { stopAll, stopOnSignals } from "./bench/processes.mjs";
import { markdown, readmeMarkdown, writeReadme, writeResults } from "./bench/report.mjs";
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
  --rounds N             rounds per side and path (default 9)
  --duration S           seconds per round (default 3)
  --connections C        concurrent connections (default 50)
  --upstream-requests N  requests for the upstream-amplification count (default 10000)
  --browser-samples N    pages per browser and ICE server list (default 7)
  --no-browser           leave out the browser part (Chromium, Firefox, coturn)
  --quick                one short round of everything: a smoke test, not figures
  --no-write             print the report only; leave BENCHMARKS.md alone
  --via-proxy            load wrangler dev's proxy port instead of the runtime's own socket`;

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string" },
    duration: { type: "string" },
    connections: { type: "string" },
    "upstream-requests": { type: "string" },
    "browser-samples": { type: "string" },
    "no-browser": { type: "boolean", default: false },
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
  // Many short rounds rather than a few long ones: each round's ratios compare sides loaded seconds apart, so
  // the machine's speed drifting (a shared host) moves a round's sides together, and the median has more rounds.
  rounds: Math.round(positive(args.rounds, quick ? 1 : 9, "rounds")),
  duration: positive(args.duration, quick ? 1 : 3, "duration"),
  connections: Math.round(positive(args.connections, 50, "connections")),
  upstreamRequests: Math.round(positive(args["upstream-requests"], quick ? 2_000 : 10_000, "upstream-requests")),
  browserSamples: Math.round(positive(args["browser-samples"], quick ? 1 : 7, "browser-samples")),
  browser: !args["no-browser"],
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
  "Referrer-Policy": "no-referrer",
  Vary: "Origin, Authorization",
  "X-Content-Type-Options": "nosniff",
};

/** TURN and STUN URLs when the browser part (and so the loopback coturn) is left out. */
const PLACEHOLDER_TURN_URLS = [
  "turn:127.0.0.1:3478?transport=udp",
  "turn:127.0.0.1:3478?transport=tcp",
  "turns:127.0.0.1:5349?transport=tcp",
];
const PLACEHOLDER_STUN_URLS = ["stun:127.0.0.1:3478"];
const TTL_SECONDS = 86_400;
const PATH = "/api/turn/credentials";

const t0 = Date.now();
const say = (message) => console.error(`bench: ${message} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
const tmp = mkdtempSync(join(tmpdir(), "icegate-bench-"));
let upstream;
let pageServer;
let browsers = [];
const closeExtras = async () => {
  await Promise.allSettled(browsers.map((browser) => browser.close?.()));
  await Promise.allSettled([upstream?.close(), pageServer?.close()]);
};
stopOnSignals(async () => {
  await closeExtras();
  rmSync(tmp, { recursive: true, force: true });
});

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

  const turnSecret = secret(32);
  let coturn;
  const browserReport = { enabled: options.browser, samples: options.browserSamples, rows: [] };
  if (options.browser) {
    const found = coturnBin();
    if (found.bin) {
      say("starting coturn on loopback (plain, TLS, a port-53 blackhole) and the page server");
      [coturn, pageServer] = await Promise.all([
        startCoturn({ bin: found.bin, dir: join(tmp, "coturn"), secret: turnSecret }),
        startPageServer(),
      ]);
      say(`started coturn pgid=${coturn.pid} ports=${coturn.ports.join(",")}; page server port=${pageServer.port}`);
      browserReport.blackhole = coturn.blackhole.note;
    } else {
      browserReport.note = `coturn could not be built (bash scripts/coturn-build.sh): ${found.reason}`;
      warnings.push(`Browser part: ${browserReport.note}`);
    }
  } else {
    browserReport.note = "left out (--no-browser)";
  }
  const turnUrls = coturn?.turnUrls ?? PLACEHOLDER_TURN_URLS;
  const stunUrls = coturn?.stunUrls ?? PLACEHOLDER_STUN_URLS;
  /** Cloudflare's seven URLs: on the loopback coturn (with a credential it accepts) when it runs. */
  const cloudflareList = (ttl) =>
    coturn ? fakeCloudflareIceServers(coturn.cloudflareUrls, coturn.credential(ttl)) : fakeCloudflareIceServers();

  say("starting the fake upstream (JWKS, Cloudflare API) and signing the token pools");
  const hsSecret = secret(32);
  const cloudflareToken = secret(24);
  const adminToken = secret(32);
  const es = await es256Key();
  upstream = await startUpstream({
    jwks: es.jwks,
    cloudflareToken,
    iceServers: cloudflareList,
    fullTtl: TTL_SECONDS,
    pageOrigin: pageServer?.origin,
  });
  say(`fake upstream on 127.0.0.1 port=${upstream.port}`);
  const [hsTokens, esTokens] = await Promise.all([
    tokenPool({ users: options.users, alg: "HS256", hsSecret }),
    tokenPool({ users: options.users, alg: "ES256", esKey: es.privateKey }),
  ]);

  const common = {
    TURN_SECRET: turnSecret,
    TURN_URLS: turnUrls.join(","),
    STUN_URLS: stunUrls.join(","),
    TURN_TTL_SECONDS: String(TTL_SECONDS),
    TURN_USER_ID: "hash",
    ALLOW_ANONYMOUS: "true",
    RATE_LIMIT_ENABLED: "false",
    // The browser part's page reads the credentials cross-origin. Load requests carry no Origin: unaffected.
    ...(pageServer && { ALLOWED_ORIGINS: pageServer.origin }),
  };
  say("starting wrangler dev: icegate (coturn), icegate (cloudflare provider), icegate with its log muted");
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
        // /healthz lists the providers only to the operator.
        ADMIN_API_TOKEN: adminToken,
      },
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
  const [coturnDev, providerDev, mutedDev] = devs.map((result) => result.value);
  const announce = (dev) =>
    say(`started ${dev.name} pgid=${dev.pid} pids=${dev.pids.join(",")} ports=${dev.ports.join(",")} url=${dev.url}`);
  for (const dev of [coturnDev, providerDev, mutedDev]) announce(dev);

  const health = await probe(`${providerDev.url}/healthz`, { authorization: `Bearer ${adminToken}` }).catch(() => ({
    status: 0,
    text: "",
  }));
  let providers;
  try {
    providers = JSON.parse(health.text).providers ?? [];
  } catch {
    providers = [];
  }
  const providerAvailable = health.status === 200 && providers.includes("cloudflare");
  const NA_PROVIDER = "n/a (providers not available in this build)";
  const cloudflareRequests = [{ method: "GET", path: PATH }];

  // Upstream amplification first, while the provider worker's isolate and cache are cold.
  const upstreamReport = { available: providerAvailable, note: NA_PROVIDER, keys: 1, isolates: 1 };
  if (providerAvailable) {
    const before = upstream.counts.cloudflare;
    say(`upstream amplification: ${options.upstreamRequests} requests to a cold provider worker`);
    const result = await round({
      url: providerDev.url,
      requests: cloudflareRequests,
      connections: options.connections,
      amount: options.upstreamRequests,
    });
    upstreamReport.requests = result.ok + result.failed;
    upstreamReport.failed = result.failed;
    upstreamReport.calls = upstream.counts.cloudflare - before;
    if (result.failed > 0) warnings.push(`Upstream amplification: ${result.failed} of the requests failed.`);
  }

  // The baseline answers the worker's own replies (the same bytes, whatever shaping the worker does), so it
  // starts once they can be read: after the cold-cache count above.
  const bodies = {};
  for (const [name, dev] of [
    ["coturn", coturnDev],
    ["cloudflare", providerAvailable ? providerDev : undefined],
  ]) {
    if (!dev) continue;
    const reply = await probe(`${dev.url}${PATH}`);
    if (reply.status === 200) bodies[name] = JSON.parse(reply.text);
  }
  say("starting wrangler dev: the baseline (bare, and its floor route)");
  const baselineDev = await startDev({
    name: "baseline",
    config: snapshotConfig(baselineConfig, baselineBuild),
    dir: join(tmp, "dev-baseline"),
    direct: options.direct,
    vars: { BENCH_BODIES: JSON.stringify(bodies), BENCH_REPLY_HEADERS: JSON.stringify(REPLY_HEADERS) },
  });
  announce(baselineDev);
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
      floorTarget: true,
    },
    {
      id: "hs256",
      label: "HS256 token + coturn minting",
      dev: coturnDev,
      requests: hsTokens.map((token) => ({ method: "GET", path: PATH, headers: auth(token) })),
      body: "coturn",
      floorTarget: true,
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
      requests: cloudflareRequests,
      body: "cloudflare",
      provider: true,
      floorTarget: true,
    },
    {
      id: "anonymous-muted",
      label: "Diagnostic: anonymous coturn minting, request log muted",
      dev: mutedDev,
      requests: [{ method: "GET", path: PATH }],
      body: "coturn",
      diagnostic: true,
    },
  ];

  const rows = [];
  let providerRequests = upstreamReport.requests ?? 0;
  let esRequests = 0;
  for (const scenario of scenarios) {
    const row = {
      id: scenario.id,
      label: scenario.label,
      diagnostic: scenario.diagnostic === true,
      floorTarget: scenario.floorTarget === true,
      bytes: {},
    };
    rows.push(row);
    if (scenario.provider && !providerAvailable) {
      row.note = NA_PROVIDER;
      continue;
    }
    // The floor and the bare baseline get the same requests, headers (tokens) included, on their own paths.
    const onPath = (path) => scenario.requests.map((request) => ({ ...request, path }));
    const sides = {
      worker: { url: scenario.dev.url, requests: scenario.requests },
      floor: { url: baselineDev.url, requests: onPath(`/floor/${scenario.body}`) },
      bare: { url: baselineDev.url, requests: onPath(`/${scenario.body}`) },
    };
    const first = await probe(`${sides.worker.url}${PATH}`, scenario.requests[0].headers);
    const floor = await probe(`${sides.floor.url}/floor/${scenario.body}`);
    const reference = await probe(`${sides.bare.url}/${scenario.body}`);
    row.bytes = { worker: first.bytes, floor: floor.bytes, baseline: reference.bytes };
    if (first.status !== 200) {
      row.note = `failed: the worker answered ${first.status} ${first.text.slice(0, 120)}`;
      warnings.push(`${scenario.label}: ${row.note}`);
      continue;
    }
    if (reference.status !== 200 || floor.status !== 200) {
      row.note = `failed: the baseline answered ${reference.status} / ${floor.status}`;
      warnings.push(`${scenario.label}: ${row.note}`);
      continue;
    }
    if (Math.abs(first.bytes - reference.bytes) > 16) {
      warnings.push(
        `${scenario.label}: the baseline's reply is ${reference.bytes} bytes, the worker's ${first.bytes}.`,
      );
    }
    say(`${scenario.label}: ${options.rounds} × (${options.duration} s each of worker, floor, bare baseline)`);
    const onRound = (i, result) =>
      say(
        `  round ${i + 1}: ${Object.entries(result)
          .map(
            ([name, r]) =>
              `${name} ${r.rps.toFixed(0)} req/s p99 ${r.p99.toFixed(2)} ms${r.failed > 0 ? ` (${r.failed} failed)` : ""}`,
          )
          .join(", ")}`,
      );
    row.load = await alternate({
      sides,
      rounds: options.rounds,
      duration: options.duration,
      warmup: options.warmup,
      connections: options.connections,
      onRound,
    });
    row.latency = await alternate({
      sides,
      rounds: options.rounds,
      duration: options.latencyDuration,
      warmup: options.warmup / 2,
      connections: 1,
    });
    if (scenario.provider) providerRequests += countRequests(row);
    if (scenario.id === "es256") esRequests += countRequests(row);
  }

  if (coturn && pageServer) {
    await mutedDev.stop();
    await baselineDev.stop();
    say(`browser part: launching Chromium and Firefox; ${options.browserSamples} page(s) per browser and list`);
    browsers = await launchBrowsers();
    for (const browser of browsers) {
      if (browser.unavailable) {
        warnings.push(`Browser part: ${browser.name} did not start: ${browser.unavailable}`);
        if (process.env.CI === "true") throw new Error(`${browser.name} did not start: ${browser.unavailable}`);
      } else say(`launched ${browser.name} ${browser.version}${browser.pid ? ` pid=${browser.pid}` : ""}`);
    }
    const lists = [
      { id: "coturn", label: "icegate, coturn minting", endpoint: `${coturnDev.url}${PATH}` },
      ...(providerAvailable
        ? [{ id: "cloudflare", label: "icegate, Cloudflare provider", endpoint: `${providerDev.url}${PATH}` }]
        : []),
      { id: "full", label: "Cloudflare's full list, unshaped", endpoint: `${upstream.url}/full` },
    ];
    browserReport.rows = await measureBrowsers({
      browsers,
      pageUrl: `${pageServer.origin}/`,
      lists,
      samples: options.browserSamples,
      timeoutMs: 20_000,
      warmup: !quick,
      say,
    });
    browserReport.ttl = TTL_SECONDS;
    browserReport.fullFetches = upstream.counts.full;
    for (const row of browserReport.rows) {
      if (row.failed > 0)
        warnings.push(
          `Browser part: ${row.browser}, ${row.label}: ${row.failed} sample(s) failed (${row.failures[0]}).`,
        );
      if (row.note && !row.note.startsWith("not measured"))
        warnings.push(`Browser part: ${row.browser}, ${row.label}: ${row.note}`);
    }
    await Promise.allSettled(browsers.map((browser) => browser.close()));
    browsers = [];
    say("browsers closed");
  }
  if (coturn) await coturn.stop();

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
    browser: browserReport,
    warnings,
  };
  const text = markdown(report);
  console.log(text);
  const readme = await readmeMarkdown(report, join(ROOT, "README.md"));
  console.log(`\nREADME (performance figures):\n${readme}`);
  if (options.write) {
    writeResults(join(ROOT, "BENCHMARKS.md"), text);
    writeReadme(join(ROOT, "README.md"), readme);
    say("wrote BENCHMARKS.md and the README's performance figures");
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
  await closeExtras();
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
  say("all processes stopped");
}
process.exit(exitCode);
