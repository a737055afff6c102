// The browser part of the bench: how long a user waits, in a real Chromium (playwright-core) and a real
// Firefox ESR (puppeteer-core over WebDriver BiDi), from the SDK's getIceServers() to (i) the first relay
// candidate and (ii) an open data channel over a relay-only connection, cold (the SDK's first fetch) and
// warm (the SDK's cache: no fetch), for each list of ICE servers the bench serves.
//
// A page server on 127.0.0.1 serves a page with the SDK (src/client, bundled by esbuild as an IIFE) and the
// measuring script below; the credentials come cross-origin from the worker (ALLOWED_ORIGINS lists the
// page's origin) or from the fake upstream's unshaped list, both anonymous simple GETs (no preflight).
// Each sample is a fresh browser context and page: one cold connection, then one warm one. Loopback only.
/* global window, RTCPeerConnection, performance, -- pageScript and the evaluated callbacks run in the page */
import { createServer } from "node:http";
import { join } from "node:path";
import { build } from "esbuild";
import { ROOT } from "./wrangler.mjs";

export const CHROMIUM_PATH = "/usr/bin/chromium";
export const FIREFOX_PATH = "/usr/bin/firefox-esr";
/** test/support/chromium.ts's CHROMIUM_ARGS (test/node/bench.test.ts checks they agree). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** test/support/firefox.ts's FIREFOX_PREFS (test/node/bench.test.ts checks they agree). */
export const FIREFOX_PREFS = {
  "media.peerconnection.ice.loopback": true,
  "app.update.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
};

/**
 * Runs in the page (serialised into /measure.js). `benchSample(endpoint, timeoutMs)` makes a new SDK client,
 * then measures a cold and a warm connection with it; every time is from the call to getIceServers().
 */
function pageScript() {
  const connect = async (t0, iceServers, timeoutMs) => {
    const config = { iceServers, iceTransportPolicy: "relay" };
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    let relayAt;
    let relays = 0;
    let timer;
    const remoteSet = new Map();
    const forward = (from, to) => {
      let ready;
      remoteSet.set(to, new Promise((resolve) => (ready = resolve)));
      from.onicecandidate = ({ candidate }) => {
        if (!candidate || !candidate.candidate) return;
        if (from === a && / typ relay( |$)/.test(candidate.candidate)) {
          relays++;
          relayAt ??= performance.now();
        }
        void remoteSet.get(to).then(() => to.addIceCandidate(candidate).catch(() => undefined));
      };
      return ready;
    };
    const aReady = forward(b, a);
    const bReady = forward(a, b);
    try {
      const channel = a.createDataChannel("bench");
      const opened = new Promise((resolve, reject) => {
        channel.onopen = () => resolve(performance.now());
        timer = setTimeout(() => reject(new Error(`no open data channel within ${timeoutMs} ms`)), timeoutMs);
      });
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription);
      bReady();
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription);
      aReady();
      const openAt = await opened;
      return { relayMs: relayAt === undefined ? null : relayAt - t0, openMs: openAt - t0, relays };
    } finally {
      clearTimeout(timer);
      a.close();
      b.close();
    }
  };

  window.benchSample = async (endpoint, timeoutMs) => {
    let fetches = 0;
    const client = window.icegate.createIceServerClient({
      endpoint,
      fallbackIceServers: [],
      fetch: (input, init) => {
        fetches++;
        return fetch(input, init);
      },
    });
    const one = async () => {
      const t0 = performance.now();
      const iceServers = await client.getIceServers();
      const fetchMs = performance.now() - t0;
      if (iceServers.length === 0) throw new Error(`no ICE servers: ${client.lastError?.message ?? "empty list"}`);
      return { fetchMs, ...(await connect(t0, iceServers, timeoutMs)), iceServers };
    };
    try {
      const cold = await one();
      const warm = await one();
      const urls = cold.iceServers.flatMap((server) => [server.urls].flat());
      delete cold.iceServers;
      delete warm.iceServers;
      return { cold, warm, urls, fetches };
    } finally {
      client.close();
    }
  };
}

/** The page server: `/` (the page), `/sdk.js` (src/client as an IIFE, `window.icegate`), `/measure.js`. */
export async function startPageServer() {
  const bundled = await build({
    entryPoints: [join(ROOT, "src/client/index.ts")],
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    format: "iife",
    globalName: "icegate",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  const files = {
    "/": [
      "text/html",
      '<!doctype html><meta charset="utf-8"><title>icegate bench</title><script src="/sdk.js"></script><script src="/measure.js"></script>',
    ],
    "/sdk.js": ["text/javascript", bundled.outputFiles[0].text],
    "/measure.js": ["text/javascript", `(${pageScript.toString()})();\n`],
  };
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://127.0.0.1").pathname];
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "Content-Type": `${file[0]}; charset=utf-8`, "Cache-Control": "no-store" });
    response.end(file[1]);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The two browsers, each launched as the tests launch it, plus `--ignore-certificate-errors` /
 * `acceptInsecureCerts` for the loopback coturn's self-signed TLS certificate (a deployment has a real one).
 * A browser that is not installed, or does not start, is reported with the reason instead.
 */
export async function launchBrowsers() {
  const [chromium, firefox] = await Promise.allSettled([
    import("playwright-core").then(({ chromium: driver }) =>
      driver.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: [...CHROMIUM_ARGS, "--ignore-certificate-errors"],
        timeout: 60_000,
      }),
    ),
    import("puppeteer-core").then(({ default: puppeteer }) =>
      puppeteer.launch({
        browser: "firefox",
        executablePath: FIREFOX_PATH,
        headless: true,
        acceptInsecureCerts: true,
        extraPrefsFirefox: FIREFOX_PREFS,
        timeout: 90_000,
      }),
    ),
  ]);
  const reason = (result) =>
    String(result.reason?.message ?? result.reason)
      .split("\n")[0]
      .slice(0, 160);
  const browsers = [];
  if (chromium.status === "fulfilled") {
    const browser = chromium.value;
    browsers.push({
      name: "Chromium",
      version: browser.version(),
      async sample(url, run) {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(url);
          return await page.evaluate(run.fn, run.args);
        } finally {
          await context.close();
        }
      },
      close: () => browser.close(),
    });
  } else browsers.push({ name: "Chromium", unavailable: reason(chromium) });
  if (firefox.status === "fulfilled") {
    const browser = firefox.value;
    browsers.push({
      name: "Firefox",
      version: (await browser.version()).replace(/^firefox\//i, ""),
      pid: browser.process()?.pid,
      async sample(url, run) {
        const context = await browser.createBrowserContext();
        try {
          const page = await context.newPage();
          await page.goto(url);
          return await page.evaluate(run.fn, run.args);
        } finally {
          await context.close();
        }
      },
      close: async () => {
        const process = browser.process();
        const closed = browser.close().catch(() => undefined);
        const timedOut = new Promise((resolve) => setTimeout(() => resolve("timeout"), 10_000).unref());
        if ((await Promise.race([closed.then(() => "closed"), timedOut])) === "timeout") process?.kill("SIGKILL");
      },
    });
  } else browsers.push({ name: "Firefox", unavailable: reason(firefox) });
  return browsers;
}

const percentileOf = (values, q) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (position - low);
};

/** Median, and the quartiles, of one measure over the samples. */
function summary(values) {
  return { median: percentileOf(values, 0.5), p25: percentileOf(values, 0.25), p75: percentileOf(values, 0.75) };
}

/**
 * `samples` rounds; in each, every browser measures every list once (the order of the lists rotating per
 * round), each in a fresh context and page. `lists` are `{ id, label, endpoint }`. With `warmup`, each
 * browser first runs one unrecorded sample of every list (its first page and first peer connections pay
 * one-off costs no list should be charged with). Returns one entry per browser and list: medians of the
 * cold and warm times, the URLs served and the SDK's fetches.
 */
export async function measureBrowsers({ browsers, pageUrl, lists, samples, timeoutMs, warmup, say }) {
  const run = (endpoint) => ({
    fn: ([target, timeout]) => window.benchSample(target, timeout),
    args: [endpoint, timeoutMs],
  });
  const raw = new Map();
  for (const browser of browsers.filter((candidate) => !candidate.unavailable)) {
    if (warmup) for (const list of lists) await browser.sample(pageUrl, run(list.endpoint)).catch(() => undefined);
    for (let i = 0; i < samples; i++) {
      for (let k = 0; k < lists.length; k++) {
        const list = lists[(i + k) % lists.length];
        const key = `${browser.name}\u0000${list.id}`;
        if (!raw.has(key)) raw.set(key, { ok: [], failed: [] });
        try {
          const result = await browser.sample(pageUrl, run(list.endpoint));
          raw.get(key).ok.push(result);
        } catch (error) {
          const message = String(error?.message ?? error)
            .split("\n")[0]
            .slice(0, 200);
          raw.get(key).failed.push(message);
          say?.(`  ${browser.name}, ${list.label}: sample ${i + 1} failed: ${message}`);
        }
      }
    }
  }
  const rows = [];
  for (const browser of browsers) {
    for (const list of lists) {
      const row = { browser: browser.name, version: browser.version, list: list.id, label: list.label };
      rows.push(row);
      if (browser.unavailable) {
        row.note = `not measured: ${browser.unavailable}`;
        continue;
      }
      const { ok, failed } = raw.get(`${browser.name}\u0000${list.id}`) ?? { ok: [], failed: [] };
      row.samples = ok.length;
      row.failed = failed.length;
      row.failures = failed;
      if (ok.length === 0) {
        row.note = `every sample failed: ${failed[0] ?? "no sample"}`;
        continue;
      }
      row.urls = ok[0].urls.length;
      row.urlList = ok[0].urls;
      row.fetches = Math.max(...ok.map((result) => result.fetches));
      for (const phase of ["cold", "warm"]) {
        row[phase] = {
          fetchMs: summary(ok.map((result) => result[phase].fetchMs)),
          relayMs: summary(ok.map((result) => result[phase].relayMs ?? Number.NaN)),
          openMs: summary(ok.map((result) => result[phase].openMs)),
          relays: summary(ok.map((result) => result[phase].relays)),
        };
      }
    }
  }
  return rows;
}
