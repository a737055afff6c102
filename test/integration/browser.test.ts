/**
 * The browser SDK and the /check page in a real Chromium (Debian's, headless), against the worker
 * under `wrangler dev` and a real coturn, all on loopback. Two relay-only peers connect through
 * coturn with the SDK's credentials; credentials coturn refuses show up as errors, not silence;
 * /check fills its table (pass, fail with the ICE error code) under its strict CSP.
 *
 * TURN over TLS runs against a second coturn with a throwaway self-signed certificate. Chromium
 * verifies TURN TLS certificates, so the default browser must fail it (701), and a second browser
 * started with --ignore-certificate-errors stands in for one that trusts the certificate.
 *
 * Set CHECK_SCREENSHOT=/tmp/check.png to keep a picture of the finished /check page.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CheckRun } from "../../src/check/page";
import { chromiumAvailable, closeChromium, launchChromium, watchedPage, type WatchedPage } from "../support/chromium";
import { type Coturn, runCoturn, startCoturn } from "../support/coturn";
import { freePort, requireTool } from "../support/processes";
import { requireCoturn } from "../support/coturn-build";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";
import { directives, STRICT_CSP } from "../support/csp";

const TURN_SECRET = "browser-turn-secret-4d7a9e1c3b";
/** What the second worker signs with: coturn does not know it, so it refuses every allocation. */
const UNKNOWN_SECRET = "browser-unknown-secret-8f2c6b0e5a";
const JWT_SECRET = "browser-jwt-secret-0123456789abcdef0123456789ab";

const enabled = requireCoturn() && requireTool("openssl", "apt-get install openssl") && chromiumAvailable();

/** How Chromium logs the 401 a test asks for on purpose; any other console error still fails. */
const UNAUTHORIZED_FETCH = "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)";

interface PairEnd {
  candidateType: string;
  relayProtocol?: string;
  address: string;
}

interface RelayedSession {
  urls: string[];
  received: string;
  state: string;
  offerer: { local: PairEnd; remote: PairEnd };
  answerer: { local: PairEnd; remote: PairEnd };
}

interface Row {
  url: string;
  transport: string;
  outcome: string;
  result: string;
  ms: string;
  detail: string;
}

function signToken(): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("browser-test")
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** The results table of /check, once the run is over. */
async function finishedRows(page: Page): Promise<Row[]> {
  await page.locator("#check[data-state=done], #check[data-state=error]").waitFor({ timeout: 30_000 });
  return page.locator("#rows tr").evaluateAll((rows) =>
    rows.map((row) => {
      const [url, transport, result, ms, detail] = Array.from(row.querySelectorAll("td"), (td) => td.textContent);
      const outcome = (row as HTMLElement).dataset.outcome ?? "";
      return { url: url!, transport: transport!, outcome, result: result!, ms: ms!, detail: detail! };
    }),
  );
}

/**
 * Runs in the page: fetches credentials with the SDK, keeps only the URL `only`, connects two
 * relay-only peer connections, sends one data-channel message, and reads the selected candidate
 * pair of each (transport.selectedCandidatePairId → candidate-pair → local and remote candidates).
 */
async function relayedSession({ token, only }: { token: string; only: string }): Promise<RelayedSession> {
  const client = window.icegate.createIceServerClient({
    endpoint: "/api/turn/credentials",
    getToken: () => token,
    fallbackIceServers: [],
  });
  const fetched = await client.getIceServersOrThrow();
  client.close();
  const iceServers = fetched
    .map((server) => ({ ...server, urls: [server.urls].flat().filter((url) => url === only) }))
    .filter((server) => server.urls.length > 0);
  const config: RTCConfiguration = { iceServers, iceTransportPolicy: "relay" };
  const offerer = new RTCPeerConnection(config);
  const answerer = new RTCPeerConnection(config);
  offerer.onicecandidate = ({ candidate }) => void (candidate && answerer.addIceCandidate(candidate));
  answerer.onicecandidate = ({ candidate }) => void (candidate && offerer.addIceCandidate(candidate));
  const received = new Promise<string>((resolve, reject) => {
    setTimeout(() => reject(new Error("no message through the relay within 15 s")), 15_000);
    answerer.ondatachannel = ({ channel }) => (channel.onmessage = ({ data }) => resolve(String(data)));
  });
  const channel = offerer.createDataChannel("relay-test");
  channel.onopen = () => channel.send("hello through the relay");
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  const message = await received;

  async function selectedPair(pc: RTCPeerConnection) {
    const stats = new Map<string, Record<string, string>>();
    (await pc.getStats()).forEach((report: Record<string, string>) => stats.set(report.id!, report));
    const transport = [...stats.values()].find((report) => report.type === "transport")!;
    const pair = stats.get(transport.selectedCandidatePairId!)!;
    const end = (id: string) => {
      const { candidateType, relayProtocol, address } = stats.get(id)!;
      return { candidateType: candidateType!, relayProtocol, address: address! };
    };
    return { state: pair.state!, local: end(pair.localCandidateId!), remote: end(pair.remoteCandidateId!) };
  }
  const [a, b] = [await selectedPair(offerer), await selectedPair(answerer)];
  offerer.close();
  answerer.close();
  return {
    urls: iceServers.flatMap((server) => server.urls),
    received: message,
    state: a.state,
    offerer: { local: a.local, remote: a.remote },
    answerer: { local: b.local, remote: b.remote },
  };
}

/** A coturn with only a TURN-over-TLS listener, on a self-signed certificate for 127.0.0.1. */
async function startTlsCoturn(secret: string): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), "icegate-coturn-tls-"));
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  const openssl = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ]),
    { encoding: "utf8", timeout: 15_000 },
  );
  if (openssl.status !== 0) throw new Error(`openssl failed: ${openssl.stderr}`);
  const [port, tlsPort] = [await freePort(), await freePort()];
  const minPort = 30000 + Math.floor(Math.random() * 90) * 100;
  const config = join(dir, "turnserver.conf");
  const lines = [
    "listening-ip=127.0.0.1",
    `listening-port=${port}`,
    `tls-listening-port=${tlsPort}`,
    `cert=${cert}`,
    `pkey=${key}`,
    "relay-ip=127.0.0.1",
    `min-port=${minPort}`,
    `max-port=${minPort + 99}`,
    "use-auth-secret",
    `static-auth-secret=${secret}`,
    "realm=icegate.test",
    "fingerprint",
    "allow-loopback-peers",
    "log-file=stdout",
    "simple-log",
    `userdb=${join(dir, "turndb")}`,
    `pidfile=${join(dir, "turnserver.pid")}`,
  ];
  writeFileSync(config, `${lines.join("\n")}\n`, { mode: 0o600 });
  return runCoturn(["-c", config], tlsPort, "icegate.test", () => rmSync(dir, { recursive: true, force: true }));
}

describe.skipIf(!enabled)("the SDK and /check in Chromium, against a real coturn", () => {
  let coturn: Coturn | undefined;
  let tlsCoturn: Coturn | undefined;
  let worker: WranglerDev | undefined;
  let refusing: WranglerDev | undefined;
  let browser: Browser | undefined;
  /** The same Chromium, but accepting the TLS coturn's self-signed certificate. */
  let trustingBrowser: Browser | undefined;
  let watched: WatchedPage[] = [];
  /** A port nothing listens on: a TURN node that is down. */
  let deadPort: number;
  const url = (transport: "udp" | "tcp" | "tls" | "dead" | "stun"): string => {
    if (transport === "tls") return `turns:127.0.0.1:${tlsCoturn!.port}?transport=tcp`;
    if (transport === "dead") return `turn:127.0.0.1:${deadPort}?transport=tcp`;
    if (transport === "stun") return `stun:127.0.0.1:${coturn!.port}`;
    return `turn:127.0.0.1:${coturn!.port}?transport=${transport}`;
  };

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [TURN_SECRET], allowLoopbackPeers: true });
    tlsCoturn = await startTlsCoturn(TURN_SECRET);
    deadPort = await freePort();
    const common = { STUN_URLS: url("stun"), TURN_TTL_SECONDS: "600" };
    const started = await Promise.allSettled([
      startWranglerDev({
        ...common,
        TURN_SECRET,
        AUTH_JWT_SECRET: JWT_SECRET,
        TURN_URLS: [url("udp"), url("tcp"), url("tls"), url("dead")].join(","),
        // Five URLs with STUN: above the default MAX_ICE_URLS (4), which would leave out the dead node's row.
        MAX_ICE_URLS: "5",
      }),
      startWranglerDev({
        ...common,
        TURN_SECRET: UNKNOWN_SECRET,
        ALLOW_ANONYMOUS: "true",
        TURN_URLS: [url("udp"), url("tcp")].join(","),
      }),
      launchChromium(),
      launchChromium(["--ignore-certificate-errors"]),
    ]);
    const value = <T>(result: PromiseSettledResult<T>) => (result.status === "fulfilled" ? result.value : undefined);
    worker = value(started[0]) as WranglerDev | undefined;
    refusing = value(started[1]) as WranglerDev | undefined;
    browser = value(started[2]) as Browser | undefined;
    trustingBrowser = value(started[3]) as Browser | undefined;
    for (const result of started) if (result.status === "rejected") throw result.reason;
  });

  afterEach(async () => {
    const pages = watched;
    watched = [];
    await Promise.all(pages.map(({ page }) => page.context().close()));
  });

  afterAll(async () => {
    await Promise.allSettled([
      closeChromium(browser),
      closeChromium(trustingBrowser),
      worker?.stop(),
      refusing?.stop(),
    ]);
    await Promise.allSettled([coturn?.stop(), tlsCoturn?.stop()]);
  });

  /** A watched /check page; the test's last step is to require that nothing went wrong on it. */
  async function open(address: string, on = browser!): Promise<WatchedPage> {
    const page = await watchedPage(on);
    watched.push(page);
    const response = await page.page.goto(address);
    expect(response?.status()).toBe(200);
    // The strict policy is what the page ran under, so "no violation" below means something.
    expect(directives(response!.headers()["content-security-policy"])).toEqual(STRICT_CSP);
    await page.page.waitForFunction(() => "icegate" in window);
    return page;
  }

  it("notices a CSP violation on the page: the guard the other tests rely on is live", async () => {
    const { page, problems } = await open(`${worker!.url}/check`);
    await page.evaluate(() => {
      const script = document.createElement("script");
      script.textContent = "document.title = 'injected'";
      document.body.append(script);
    });
    await expect.poll(problems).toContainEqual(expect.stringMatching(/^CSP script-src-elem blocked inline/));
    expect(await page.title()).not.toBe("injected");
  });

  it.each(["udp", "tcp", "tls"] as const)(
    "connects two relay-only peers through coturn over %s, with credentials from the SDK",
    async (transport) => {
      const { page, problems } = await open(`${worker!.url}/check`, transport === "tls" ? trustingBrowser : browser);
      const session = await page.evaluate(relayedSession, { token: await signToken(), only: url(transport) });

      expect(session.urls).toEqual([url(transport)]);
      expect(session.received).toBe("hello through the relay");
      expect(session.state).toBe("succeeded");
      for (const side of [session.offerer, session.answerer]) {
        expect(side.local).toEqual({ candidateType: "relay", relayProtocol: transport, address: "127.0.0.1" });
        expect(side.remote.candidateType).toBe("relay");
      }
      expect(problems()).toEqual([]);
    },
  );

  it("reports a refused request for credentials as an SDK error, not a silent fallback", async () => {
    const { page, problems } = await open(`${worker!.url}/check`);
    const outcome = await page.evaluate(async () => {
      const client = window.icegate.createIceServerClient({ endpoint: "/api/turn/credentials" });
      const fallback = await client.getIceServers();
      const error = client.lastError;
      client.close();
      return { fallback, error: error && { name: error.name, status: error.status, code: error.code } };
    });
    expect(outcome.error).toEqual({ name: "IceServerError", status: 401, code: "unauthorized" });
    expect(outcome.fallback).toEqual([{ urls: "stun:stun.l.google.com:19302" }]);
    expect(problems().filter((line) => line !== UNAUTHORIZED_FETCH)).toEqual([]);
  });

  it("reports credentials coturn refuses as a 401 ICE error on every TURN URL", async () => {
    const { page, problems } = await open(`${refusing!.url}/check`);
    const results = await page.evaluate(async () => {
      const { createIceServerClient, targetsOf, probeRelay } = window.icegate;
      const client = createIceServerClient({ endpoint: "/api/turn/credentials", fallbackIceServers: [] });
      const servers = await client.getIceServersOrThrow();
      client.close();
      const turn = targetsOf(servers).filter((target) => target.transport !== "stun");
      return Promise.all(turn.map((target) => probeRelay(target)));
    });
    expect(results.map(({ transport, outcome }) => [transport, outcome])).toEqual([
      ["udp", "fail"],
      ["tcp", "fail"],
    ]);
    for (const result of results) {
      expect(result.detail).toMatch(/^401\b/);
      expect(result.ms).toBeUndefined();
    }
    expect(problems()).toEqual([]);
  });

  it("/check passes coturn over UDP and TCP with a time, and fails a node that is down and an untrusted certificate", async () => {
    const token = await signToken();
    const { page, problems, requests } = await open(`${worker!.url}/check#token=${token}`);
    const rows = await finishedRows(page);

    expect(rows.map(({ url, transport, outcome }) => [url, transport, outcome])).toEqual([
      [url("stun"), "STUN", "skip"],
      [url("udp"), "UDP", "pass"],
      [url("tcp"), "TCP", "pass"],
      [url("tls"), "TLS", "fail"],
      [url("dead"), "TCP", "fail"],
    ]);
    for (const row of rows.filter(({ outcome }) => outcome === "pass")) {
      expect(row.result).toBe("pass");
      expect(row.ms).toMatch(/^\d+ ms$/);
      expect(row.detail).toMatch(/^relay 127\.0\.0\.1:\d+$/);
    }
    // Chromium verifies a TURN server's TLS certificate: a self-signed one cannot connect (701).
    expect(rows[3]!.detail).toMatch(/^701\b/);
    expect(rows[4]!.detail).toMatch(/^701\b/);
    await expect(page.locator("#status").textContent()).resolves.toMatch(/^2 passed, 2 failed, 1 skipped\./);

    // The token left the address bar, travelled only as a bearer header, and is in no URL.
    expect(page.url()).toBe(`${worker!.url}/check`);
    const sent = requests().map(({ url, headers }) => ({
      url,
      authorization: headers.authorization,
      origin: headers.origin,
    }));
    // Same-origin GET: no Origin header, so ALLOWED_ORIGINS need not list the worker's own origin.
    expect(sent.filter(({ url }) => url.includes("/api/"))).toEqual([
      { url: `${worker!.url}/api/turn/credentials`, authorization: `Bearer ${token}`, origin: undefined },
    ]);
    expect(sent.filter(({ url }) => url.includes(token))).toEqual([]);
    expect(problems()).toEqual([]);
  });

  it("/check passes TURN over TLS too, in a browser that trusts the node's certificate", async () => {
    const { page, problems } = await open(`${worker!.url}/check#token=${await signToken()}`, trustingBrowser);
    const rows = await finishedRows(page);
    expect(rows.map(({ transport, outcome }) => [transport, outcome])).toEqual([
      ["STUN", "skip"],
      ["UDP", "pass"],
      ["TCP", "pass"],
      ["TLS", "pass"],
      ["TCP", "fail"],
    ]);
    expect(rows[3]!.ms).toMatch(/^\d+ ms$/);
    expect(problems()).toEqual([]);
    if (process.env.CHECK_SCREENSHOT) await page.screenshot({ path: process.env.CHECK_SCREENSHOT, fullPage: true });
  });

  it("/check shows a fail row with coturn's 401 when the fleet refuses the credentials", async () => {
    const { page, problems } = await open(`${refusing!.url}/check#run`);
    const rows = await finishedRows(page);
    expect(rows.map(({ url, transport, outcome }) => [url, transport, outcome])).toEqual([
      [url("stun"), "STUN", "skip"],
      [url("udp"), "UDP", "fail"],
      [url("tcp"), "TCP", "fail"],
    ]);
    for (const row of rows.slice(1)) {
      expect(row.detail).toMatch(/^401 Unauthorized/);
      expect(row.ms).toBe("–");
    }
    await expect(page.locator("#status").textContent()).resolves.toMatch(/^0 passed, 2 failed, 1 skipped\./);
    expect(problems()).toEqual([]);
  });

  it("/check asks for a token when the API wants one, then runs with the one typed in", async () => {
    const { page, problems } = await open(`${worker!.url}/check#run`);
    await page.locator("#check[data-state=error]").waitFor();
    await expect(page.locator("#status").textContent()).resolves.toBe(
      "No credentials (HTTP 401 unauthorized): A bearer token is required.",
    );
    await page.locator("#token").fill(await signToken());
    await page.locator("#run").click();
    // The click started a run; run() answers with that same run rather than starting another.
    const run: CheckRun = await page.evaluate(() => window.icegate.run());
    expect(run.error).toBeUndefined();
    expect(run.results.map(({ outcome }) => outcome)).toEqual(["skip", "pass", "pass", "fail", "fail"]);
    expect((await finishedRows(page)).map(({ outcome }) => outcome)).toEqual(run.results.map((r) => r.outcome));
    expect(problems().filter((line) => line !== UNAUTHORIZED_FETCH)).toEqual([]);
  });
});
