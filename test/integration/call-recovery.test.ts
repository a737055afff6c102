/**
 * Calls that stay up, in real browsers: Debian's Chromium (playwright-core) and Firefox ESR
 * (puppeteer-core over WebDriver BiDi), each with one page holding three calls at once. A call is
 * two relay-only peer connections fed by the SDK under keepFresh, perfect negotiation over in-page
 * signaling, and a numbered message every 100 ms on a reliable ordered data channel
 * (test/support/call-page.ts). The credentials come from the worker under `wrangler dev`, through a
 * small same-origin proxy so that a worker can be swapped for one with a new secret; the relays are
 * real coturn 4.17.1 nodes on loopback.
 *
 *   (a) expiry: credentials of 60 s (the least the worker issues) run out during the call; keepFresh
 *       restarts ICE before they do, and coturn logs an allocation with the new username.
 *   (b) strict cut: coturn restarts with only a new secret, and the worker with the new TURN_SECRET.
 *   (d) one of two nodes is down when the call starts; it still connects.
 *   (c) then that node comes back, and the node carrying the call is killed: it recovers through the other.
 *
 * Pass: recovery within a bounded wait, numbers contiguous at the receiver, the channel never closed.
 * Timings (recovery = longest time without a message at the receiver after the event) are printed,
 * not asserted; BENCHMARKS.md records them. CALL_RESTART_ICE=false runs the same scenarios with
 * `keepFresh(pc, { restartIce: false })`, the SDK before ICE restarts: (a), (b) and (c) fail; (d) needs no
 * restart and passes either way.
 */
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser as ChromiumBrowser } from "playwright-core";
import type { Browser as FirefoxBrowser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, closeChromium, launchChromium } from "../support/chromium";
import { firefoxAvailable, closeFirefox, launchFirefox } from "../support/firefox";
import { type Coturn, startCoturn } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import { freePort } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";
import { type CallOptions, type CallReport, installCallHarness } from "../support/call-page";

const OLD_SECRET = "call-turn-secret-old-5b1e9a7c3d";
const NEW_SECRET = "call-turn-secret-new-0f6d2c8b4a";
const RESTART_ICE = process.env.CALL_RESTART_ICE !== "false";
/** How long a call may take to connect, and to recover after an event: bounded, generous on a busy machine. */
const CONNECT_WAIT_MS = 30_000;
const RECOVERY_WAIT_MS = 45_000;
/** Credentials of (a) live this long: the least the worker issues (MIN_TTL_SECONDS). */
const SHORT_TTL_SECONDS = 60;

const enabled = requireCoturn() && chromiumAvailable() && firefoxAvailable();

type BrowserName = "chromium" | "firefox";
type Scenario = "expiry" | "strict-cut" | "node-down-at-start" | "node-killed";
const BROWSERS: BrowserName[] = ["chromium", "firefox"];

/** page.evaluate of either driver. */
type Evaluate = <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;

interface Outcome {
  /** The call's report at the end of the timeline. */
  report: CallReport;
  /** When the event happened (page clock), and the recovery time measured after it. */
  eventAt: number;
  recoveryMs?: number;
  recovered: boolean;
  /** coturn log lines of allocations made with a username. */
  allocatedUsers?: string[];
}

type Outcomes = Record<BrowserName, Partial<Record<Scenario, Outcome>>>;

/** A coturn node on a fixed port (so that it can be restarted there), with `secrets`. */
const startNode = (port: number, secrets: string[]): Promise<Coturn> =>
  // `verbose` logs each allocation with its username ("new, realm=<…>, username=<…>").
  startCoturn({ port, secrets, allowLoopbackPeers: true, extra: ["verbose"] });

const turnUrl = (port: number) => `turn:127.0.0.1:${port}?transport=udp`;
/**
 * Node 1 of (c)/(d) comes back this long after the calls started: a browser retransmits its first ALLOCATE
 * to a silent UDP node for about 40 s (Chromium's STUN timeout is 39.75 s), and a node back within that
 * time would join the call by itself, without a restart. (Over TCP there is no such wait, but Firefox closes
 * the data channel the moment its TURN TCP connection drops.)
 */
const NODE_RETURN_MS = 45_000;

/** Usernames coturn (verbose) logged a new allocation for. */
function allocatedUsers(log: string): string[] {
  return [...log.matchAll(/: new, realm=<[^>]*>, username=<([^>]+)>/g)].map((match) => match[1]!);
}

/** The SDK for the page: src/client bundled as a browser script defining `window.icegate`. */
async function sdkScript(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("../../src/client/index.ts", import.meta.url))],
    bundle: true,
    format: "iife",
    globalName: "icegate",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/**
 * The page's origin: the page, the SDK, and `/api/<call>/turn/credentials` passed on to that call's
 * current worker (query included), so a worker can be swapped without the page noticing.
 */
function startPageServer(sdk: string, workers: Map<string, string>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/") {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end('<!doctype html><meta charset="utf-8"><title>calls</title><script src="/sdk.js"></script>');
      return;
    }
    if (url.pathname === "/sdk.js") {
      response.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" });
      response.end(sdk);
      return;
    }
    const call = /^\/api\/([\w-]+)\/turn\/credentials$/.exec(url.pathname)?.[1];
    const target = call && workers.get(call);
    if (!target) {
      response.writeHead(404).end();
      return;
    }
    fetch(`${target}/api/turn/credentials${url.search}`, { headers: { Accept: "application/json" } })
      .then(async (reply) => {
        const headers: Record<string, string> = { "Content-Type": "application/json", "Cache-Control": "no-store" };
        const retryAfter = reply.headers.get("Retry-After");
        if (retryAfter) headers["Retry-After"] = retryAfter;
        response.writeHead(reply.status, headers).end(await reply.text());
      })
      .catch(() => response.writeHead(502, { "Content-Type": "application/json" }).end("{}"));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, server });
    }),
  );
}

/** Polls `check` every 250 ms until it answers, or throws after `ms`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(!enabled)("calls through coturn stay up under keepFresh, in Chromium and Firefox", () => {
  const nodes: Record<string, Coturn | undefined> = {};
  const workers: WranglerDev[] = [];
  const routes = new Map<string, string>();
  let pageServer: Server | undefined;
  let chromium: ChromiumBrowser | undefined;
  let firefox: FirefoxBrowser | undefined;
  let outcomes: Promise<Outcomes>;

  beforeAll(async () => {
    const [portA, portB, port1, port2] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const common = { ALLOW_ANONYMOUS: "true", RATE_LIMIT_ENABLED: "false" };
    const worker = (vars: Record<string, string>) =>
      startWranglerDev({ ...common, ...vars }).then((w) => (workers.push(w), w));
    const started = await Promise.all([
      startNode(portA, [OLD_SECRET]),
      startNode(portB, [OLD_SECRET]),
      startNode(port2, [OLD_SECRET]),
      worker({ TURN_SECRET: OLD_SECRET, TURN_URLS: turnUrl(portA), TURN_TTL_SECONDS: String(SHORT_TTL_SECONDS) }),
      worker({ TURN_SECRET: OLD_SECRET, TURN_URLS: turnUrl(portB), TURN_TTL_SECONDS: "600" }),
      worker({ TURN_SECRET: NEW_SECRET, TURN_URLS: turnUrl(portB), TURN_TTL_SECONDS: "600" }),
      worker({
        TURN_SECRET: OLD_SECRET,
        TURN_URLS: [turnUrl(port1), turnUrl(port2)].join(","),
        TURN_TTL_SECONDS: "600",
      }),
      sdkScript(),
      launchChromium(),
      launchFirefox(),
    ]);
    const [nodeA, nodeB, node2, workerA, workerB, workerBNew, workerNodes, sdk, chromiumBrowser, firefoxBrowser] =
      started;
    Object.assign(nodes, { A: nodeA, B: nodeB, N2: node2 });
    chromium = chromiumBrowser;
    firefox = firefoxBrowser;
    routes.set("expiry", workerA.url).set("cut", workerB.url).set("nodes", workerNodes.url);
    const page = await startPageServer(sdk, routes);
    pageServer = page.server;

    const pages: Record<BrowserName, Evaluate> = {
      chromium: await (async () => {
        const p = await (await chromium!.newContext()).newPage();
        await p.goto(page.url);
        return ((fn: never, arg: never) => p.evaluate(fn, arg)) as unknown as Evaluate;
      })(),
      firefox: await (async () => {
        const p = await firefox!.newPage();
        await p.goto(page.url);
        return ((fn: never, arg: never) => p.evaluate(fn, arg)) as unknown as Evaluate;
      })(),
    };
    outcomes = run(pages, { portB, port1, workerBNew }).catch((error: unknown) => {
      throw new Error(`the call timeline failed: ${String(error)}`, { cause: error });
    });
    // Every test awaits it; an early failure must not be an unhandled rejection meanwhile.
    outcomes.catch(() => undefined);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([closeChromium(chromium), closeFirefox(firefox), ...workers.map((w) => w.stop())]);
    await Promise.allSettled(Object.values(nodes).map((node) => node?.stop()));
    pageServer?.close();
  });

  /** The whole timeline, both browsers at once: start the calls, then each event, then measure. */
  async function run(
    pages: Record<BrowserName, Evaluate>,
    { portB, port1, workerBNew }: { portB: number; port1: number; workerBNew: WranglerDev },
  ): Promise<Outcomes> {
    const result: Outcomes = { chromium: {}, firefox: {} };
    const each = <T>(fn: (browser: BrowserName, evaluate: Evaluate) => Promise<T>) =>
      Promise.all(BROWSERS.map((browser) => fn(browser, pages[browser])));
    const report = (evaluate: Evaluate, name: string, since: number) =>
      evaluate(({ name, since }) => window.callHarness.report(name, since), { name, since });
    const flowing = (evaluate: Evaluate, name: string, after: number) =>
      until(`messages on ${name} sent after the event`, RECOVERY_WAIT_MS, async () => {
        const r = await report(evaluate, name, after);
        // Recovered: a message sent 2 s after the event has arrived, and no break or closed channel.
        return r.lastSentAt > after + 2_000 || r.breaks.length > 0 || r.closed.length > 0 ? r : undefined;
      }).catch(() => report(evaluate, name, after));

    // Start the three calls in each browser; node 1 of "nodes" is down (nothing listens on port1).
    const callsStartedAt = Date.now();
    const events: string[] = [];
    await each(async (_, evaluate) => {
      await evaluate(installCallHarness, undefined);
      const start = (options: CallOptions) => evaluate((o) => window.callHarness.start(o), options);
      await Promise.all(
        ["expiry", "cut", "nodes"].map((name) =>
          start({ name, endpoint: `/api/${name}/turn/credentials`, restartIce: RESTART_ICE }),
        ),
      );
    });
    await each(async (browser, evaluate) => {
      const startedAt = await evaluate(() => window.callHarness.now(), undefined);
      const r = await until(`${browser} calls to connect`, CONNECT_WAIT_MS, async () => {
        const reports = await Promise.all(["expiry", "cut", "nodes"].map((name) => report(evaluate, name, 0)));
        // Four seconds of messages: a call that has been busy, as calls are when a node goes.
        return reports.every((r) => r.received > 40) ? reports : undefined;
      });
      const nodes = r[2]!;
      // (d) node 1 was down as the call started; the time is the data channel's.
      result[browser]["node-down-at-start"] = {
        report: nodes,
        eventAt: startedAt,
        recoveryMs: nodes.openedAfterMs,
        recovered: nodes.received > 40,
      };
    });

    const recovered: Record<BrowserName, Partial<Record<Scenario, { at: number; ok: boolean; ms: number }>>> = {
      chromium: {},
      firefox: {},
    };
    /** Waits in both browsers for `call` to recover from an event at `at`. */
    const recovery = (scenario: Scenario, call: string, at: number) =>
      each(async (browser, evaluate) => {
        const r = await flowing(evaluate, call, at);
        recovered[browser][scenario] = { at, ok: r.lastSentAt > at + 2_000, ms: r.resumedAfterMs };
      });

    // (b) the strict cut: coturn B restarts with only the new secret; the worker now has the new TURN_SECRET.
    // Each event's time is when the node is gone (the browsers share this machine's clock).
    await nodes.B!.stop();
    const cutAt = Date.now();
    routes.set("cut", workerBNew.url);
    nodes.B = await startNode(portB, [NEW_SECRET]);
    events.push(`B back with the new secret +${Date.now() - cutAt} ms`);
    await recovery("strict-cut", "cut", cutAt);

    // (c) node 1 comes back, and node 2, the only one up when the call started (so it carries the call), is
    // killed. Not before NODE_RETURN_MS: until then the browsers' first ALLOCATE to node 1 may still be
    // retransmitted, and node 1 would join the call without a restart.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, callsStartedAt + NODE_RETURN_MS - Date.now())));
    // (d) ends here: the call that started with node 1 down has run on node 2 alone until now.
    await each(async (browser, evaluate) => {
      const down = result[browser]["node-down-at-start"]!;
      result[browser]["node-down-at-start"] = { ...down, report: await report(evaluate, "nodes", 0) };
    });
    nodes.N1 = await startNode(port1, [OLD_SECRET]);
    await nodes.N2!.stop();
    const killAt = Date.now();
    nodes.N2 = undefined;
    await recovery("node-killed", "nodes", killAt);

    // (a) wait until the first credentials of the expiry call have run out, and a few seconds more.
    const firstExpiry: Record<BrowserName, number> = { chromium: 0, firefox: 0 };
    await each(async (browser, evaluate) => {
      const first = (await report(evaluate, "expiry", 0)).credentials[0]!;
      firstExpiry[browser] = first.expiresAt;
      await until(`${browser}: the first credentials to expire`, 120_000, async () =>
        (await evaluate(() => window.callHarness.now(), undefined)) > first.expiresAt + 5_000 ? true : undefined,
      );
    });

    // The end: every call's numbering, from its first message.
    await each(async (browser, evaluate) => {
      const final = async (name: string, since = 0) => report(evaluate, name, since);
      for (const scenario of ["strict-cut", "node-killed"] as const) {
        const { at, ok, ms } = recovered[browser][scenario]!;
        const r = await final(scenario === "strict-cut" ? "cut" : "nodes");
        result[browser][scenario] = { report: r, eventAt: at, recoveryMs: ms, recovered: ok };
      }
      const expiresAt = firstExpiry[browser];
      const r = await final("expiry", expiresAt - SHORT_TTL_SECONDS * 1000);
      result[browser].expiry = {
        report: r,
        eventAt: expiresAt,
        // No outage is expected here: the longest time without a message around the restarts.
        recoveryMs: r.longestGapMs,
        recovered: r.lastSentAt > expiresAt,
        allocatedUsers: allocatedUsers(nodes.A!.output()),
      };
    });
    for (const browser of BROWSERS) {
      const timings = Object.fromEntries(
        Object.entries(result[browser]).map(([scenario, o]) => [
          scenario,
          {
            recoveryMs: o.recoveryMs,
            restarts: o.report.restarts.map(({ at, end, reason }) => `${end} ${reason} +${at - o.eventAt} ms`),
          },
        ]),
      );
      console.log(`call-recovery timings ${browser}: ${JSON.stringify(timings)} ${events.join(", ")}`);
      if (process.env.CALL_DEBUG) console.log(JSON.stringify(result[browser], null, 1));
    }
    return result;
  }

  /** What every scenario requires: the call recovered, every number arrived once and in order, the channel stayed open. */
  function expectContiguous(outcome: Outcome): void {
    const { report } = outcome;
    expect(report.breaks, JSON.stringify(report)).toEqual([]);
    expect(report.closed, JSON.stringify(report)).toEqual([]);
    expect(outcome.recovered, JSON.stringify(report)).toBe(true);
    // Everything sent until shortly before the end arrived.
    expect(report.received, JSON.stringify(report)).toBeGreaterThan(report.sent - 30);
  }

  describe.each(BROWSERS)("in %s", (browser) => {
    it("(a) restarts ICE before 60 s credentials run out: coturn allocates with the new username, and no message is lost", async () => {
      const outcome = (await outcomes)[browser].expiry!;
      expectContiguous(outcome);
      const { credentials, restarts } = outcome.report;
      const first = credentials[0]!;
      const expiryRestarts = restarts.filter(({ reason }) => reason === "expiry");
      expect(expiryRestarts.length, JSON.stringify(outcome.report)).toBeGreaterThan(0);
      expect(expiryRestarts[0]!.at).toBeLessThan(first.expiresAt);
      // A username the SDK received after the first ones was used for an allocation before those expired.
      const renewed = credentials.filter(({ at }) => at < first.expiresAt && at > first.at + 10_000);
      expect(renewed.length).toBeGreaterThan(0);
      const allocated = renewed.filter(({ username }) => outcome.allocatedUsers!.includes(username));
      expect(allocated.length, JSON.stringify(outcome.allocatedUsers)).toBeGreaterThan(0);
    }, 240_000);

    it("(b) recovers from a strict cut: coturn restarted with only a new secret, the worker given the new TURN_SECRET", async () => {
      const outcome = (await outcomes)[browser]["strict-cut"]!;
      expectContiguous(outcome);
    }, 240_000);

    it("(c) recovers through the other node when the node carrying the call is killed", async () => {
      const outcome = (await outcomes)[browser]["node-killed"]!;
      expectContiguous(outcome);
    }, 240_000);

    it("(d) connects while one of the two nodes is down", async () => {
      const outcome = (await outcomes)[browser]["node-down-at-start"]!;
      expectContiguous(outcome);
    }, 240_000);
  });
});
