/**
 * The coturn image of infrastructure/coturn, proved without Docker: its real entrypoint renders
 * the config in render-only mode exactly as the container would, refuses bad settings without
 * printing secrets, and Debian's coturn running the rendered config accepts credentials signed
 * with either rotation secret, refuses others, and will not relay into a denied range.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AllocationResult, type Coturn, runCoturn, tryAllocation } from "../support/coturn";
import { COTURN_DIR, HEALTHCHECK, renderCoturnConfig } from "../support/coturn-entrypoint";
import { cidrRange, coturnRange, rangeContains } from "../support/ip-ranges";
import { freePort, hasCommand, requireTool } from "../support/processes";
import { requireCoturn } from "../support/coturn-build";
import { mintCoturnCredential, secretFingerprint } from "../support/turn-credentials";
import { allocateOverTls } from "../support/turn-tls-allocate";

const CURRENT_SECRET = "icegate-infra-current-7d3f9a2b1c";
// Base64 characters (+ / =) on purpose: coturn must read them from the config unchanged.
const NEXT_SECRET = "q5N+2vX/8kLr0Zt3Yw9m4Hc=";
const UNKNOWN_SECRET = "icegate-infra-unknown-0f1e2d3c4b";
const REALM = "icegate.test";

/** REFERENCE.md's hardening list: peers coturn must never relay to. */
const DENIED_CIDRS = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  "::1/128",
  "::ffff:0:0/96",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "100::/64",
  "2001::/23",
  "2001:db8::/32",
  "2002::/16",
  "fc00::/7",
  "fe80::/10",
];

const LOOPBACK_DENY_LINE = "denied-peer-ip=127.0.0.0-127.255.255.255";

const workDir = mkdtempSync(join(tmpdir(), "icegate-infra-"));
let outputs = 0;
/** A fresh path for one rendered config. */
const outputPath = () => join(workDir, `rendered-${++outputs}.conf`);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Settings for a node on loopback: its own ports, database and pid file, no TLS. */
function loopbackEnv(port: number, relayBase: number, extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(workDir, "node-"));
  return {
    TURN_SECRETS: `${CURRENT_SECRET},${NEXT_SECRET}`,
    REALM,
    LISTENING_IP: "127.0.0.1",
    LISTENING_PORT: String(port),
    RELAY_IP: "127.0.0.1",
    MIN_PORT: String(relayBase),
    MAX_PORT: String(relayBase + 99),
    USERDB: join(dir, "turndb"),
    PIDFILE: join(dir, "turnserver.pid"),
    // Debian's coturn has no Prometheus support and ignores these lines; a build with it
    // would otherwise bind the shared default port.
    PROMETHEUS_PORT: String(relayBase + 100),
    ...extra,
  };
}

/** The first port of a 100-port relay range that no other node of this file uses. */
const RELAY_BASE = 20000 + Math.floor(Math.random() * 40) * 1000;
let relayRanges = 0;
const relayBase = () => RELAY_BASE + relayRanges++ * 200;

function valuesOf(lines: string[], key: string): string[] {
  return lines.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1));
}

describe("coturn entrypoint: rendering the config", () => {
  const render = (extra: Record<string, string> = {}) =>
    renderCoturnConfig(outputPath(), loopbackEnv(3478, 49152, extra));

  it("writes one static-auth-secret line per secret in TURN_SECRETS, trimmed, in order", () => {
    const result = render({ TURN_SECRETS: ` ${CURRENT_SECRET} , ${NEXT_SECRET},, ` });
    expect(result.status, result.stderr).toBe(0);
    expect(valuesOf(result.lines, "static-auth-secret")).toEqual([CURRENT_SECRET, NEXT_SECRET]);
    expect(result.lines).toContain("use-auth-secret");
    expect(result.lines).toContain(`realm=${REALM}`);
  });

  it("denies every special-purpose range of the reference list, each as an exact first-last range", () => {
    const result = render();
    expect(result.status, result.stderr).toBe(0);
    const rendered = valuesOf(result.lines, "denied-peer-ip").map(coturnRange);
    expect(rendered).toHaveLength(DENIED_CIDRS.length);
    for (const cidr of DENIED_CIDRS) {
      expect(rendered, `denied-peer-ip for ${cidr}`).toContainEqual(cidrRange(cidr));
    }
  });

  it("never denies the IPv6 unspecified address, which blocks every IPv4 peer on coturn >= 4.9", () => {
    const result = render();
    const rendered = valuesOf(result.lines, "denied-peer-ip").map(coturnRange);
    expect(rendered.filter((range) => rangeContains(range, "::"))).toEqual([]);
    // The IPv4-mapped loopback of CVE-2026-27624 is covered, as are plain loopback addresses.
    expect(rendered.some((range) => rangeContains(range, "::ffff:127.0.0.1"))).toBe(true);
    expect(rendered.some((range) => rangeContains(range, "127.0.0.1"))).toBe(true);
    expect(rendered.some((range) => rangeContains(range, "169.254.169.254"))).toBe(true);
    // A public peer stays reachable.
    expect(rendered.some((range) => rangeContains(range, "8.8.8.8"))).toBe(false);
    expect(rendered.some((range) => rangeContains(range, "2606:4700::1111"))).toBe(false);
  });

  it("leaves no placeholder, template directive or template comment in the rendered file", () => {
    const result = render();
    expect(result.status, result.stderr).toBe(0);
    expect(result.config).not.toContain("${");
    expect(result.lines.filter((line) => line.startsWith("@"))).toEqual([]);
    expect(result.lines.filter((line) => line.startsWith("#"))).toHaveLength(1);
  });

  it("turns on every hardening option, with the documented defaults", () => {
    const result = render();
    expect(result.status, result.stderr).toBe(0);
    for (const line of [
      "fingerprint",
      "no-cli",
      "no-multicast-peers",
      "no-rfc5780",
      "no-software-attribute",
      "stale-nonce=600",
      "no-tcp-relay",
      "no-dtls",
      "user-quota=12",
      "total-quota=1200",
      "max-bps=500000",
      "max-allocate-lifetime=3600",
      "prometheus",
      "prometheus-address=127.0.0.1",
      "rest-api-separator=:",
      "log-file=stdout",
    ]) {
      expect(result.lines, line).toContain(line);
    }
    // Nothing that would weaken it: no anonymous access, no static users, no loopback peers.
    const keys = result.lines.map((line) => line.split("=")[0]);
    for (const forbidden of [
      "no-auth",
      "lt-cred-mech",
      "user",
      "allow-loopback-peers",
      "server-relay",
      "cli-password",
    ]) {
      expect(keys, forbidden).not.toContain(forbidden);
    }
  });

  it("writes the config with mode 0600, even over an existing world-readable file", () => {
    const output = outputPath();
    writeFileSync(output, "left over from an older render\n", { mode: 0o644 });
    chmodSync(output, 0o644);
    const result = renderCoturnConfig(output, loopbackEnv(3478, 49152));
    expect(result.status, result.stderr).toBe(0);
    expect(statSync(output).mode & 0o777).toBe(0o600);
    expect(result.config).not.toContain("left over");
  });

  it("takes its settings from the environment", () => {
    const result = render({
      NO_TCP_RELAY: "false",
      PROMETHEUS: "false",
      EXTERNAL_IP: "203.0.113.10/127.0.0.1",
      TOTAL_QUOTA: "300",
      MAX_BPS: "250000",
      TURN_USERNAME_SEPARATOR: ";",
      ALLOWED_PEER_IPS: "10.0.0.5, 10.1.0.0-10.1.0.255",
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines).not.toContain("no-tcp-relay");
    expect(result.lines.filter((line) => line.startsWith("prometheus"))).toEqual([]);
    expect(result.lines).toContain("external-ip=203.0.113.10/127.0.0.1");
    expect(result.lines).toContain("total-quota=300");
    expect(result.lines).toContain("max-bps=250000");
    expect(result.lines).toContain("rest-api-separator=;");
    expect(valuesOf(result.lines, "allowed-peer-ip")).toEqual(["10.0.0.5", "10.1.0.0-10.1.0.255"]);
    expect(result.lines).toContain("listening-ip=127.0.0.1");
    expect(result.lines).toContain("relay-ip=127.0.0.1");
  });

  it("leaves TLS out when no certificate is configured", () => {
    const result = render();
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines).toContain("no-tls");
    const keys = result.lines.map((line) => line.split("=")[0]);
    for (const tlsKey of ["tls-listening-port", "cert", "pkey", "aux-server"]) expect(keys).not.toContain(tlsKey);
  });

  it("renders TLS on TLS_PORT and a second TLS listener on TLS_ALT_PORT when a certificate is configured", () => {
    const cert = join(workDir, "render-cert.pem");
    const key = join(workDir, "render-key.pem");
    writeFileSync(cert, "certificate\n");
    writeFileSync(key, "key\n", { mode: 0o600 });
    const result = render({ TLS_CERT: cert, TLS_KEY: key, TLS_ALT_PORT: "443" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.lines).toContain("tls-listening-port=5349");
    expect(result.lines).toContain(`cert=${cert}`);
    expect(result.lines).toContain(`pkey=${key}`);
    expect(result.lines).toContain("aux-server=127.0.0.1:443");
    expect(result.lines).not.toContain("no-tls");
    expect(result.lines).toContain("no-dtls");
  });

  it("logs the worker's fingerprint of each secret, never a secret", () => {
    const result = render();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(secretFingerprint(CURRENT_SECRET));
    expect(result.stderr).toContain(secretFingerprint(NEXT_SECRET));
    expect(result.stderr + result.stdout).not.toContain(CURRENT_SECRET);
    expect(result.stderr + result.stdout).not.toContain(NEXT_SECRET);
  });
});

describe("coturn image documentation", () => {
  it("documents in .env.example every variable the config template reads", () => {
    const template = readFileSync(join(COTURN_DIR, "turnserver.conf.template"), "utf8");
    const dotenv = readFileSync(join(COTURN_DIR, ".env.example"), "utf8");
    const used = new Set<string>();
    for (const line of template.split("\n").filter((line) => !line.startsWith("#"))) {
      for (const match of line.matchAll(/\$\{([A-Z_]+)\}/g)) used.add(match[1]!);
      const condition = /^@if\s+([A-Z_]+)/.exec(line);
      if (condition) used.add(condition[1]!);
    }
    // Derived by the entrypoint, or a test-only switch documented in entrypoint.sh itself.
    used.delete("TLS_ENABLED");
    used.delete("ICEGATE_TEST_ALLOW_LOOPBACK_PEERS");
    used.add("TURN_SECRETS");
    used.add("ALLOWED_PEER_IPS");
    expect(used.size).toBeGreaterThan(20);
    const undocumented = [...used].filter((name) => !new RegExp(`^#?${name}=`, "m").test(dotenv));
    expect(undocumented).toEqual([]);
  });
});

describe("coturn entrypoint: refusing bad settings", () => {
  function refuse(env: Record<string, string>, variable: RegExp, secrets: string[] = []) {
    const output = outputPath();
    const result = renderCoturnConfig(output, env);
    expect(result.status, result.stderr).not.toBe(0);
    expect(result.stderr).toMatch(variable);
    for (const secret of secrets) expect(result.stderr + result.stdout).not.toContain(secret);
    expect(result.config, "no config may be written").toBeUndefined();
    return result;
  }

  it("refuses to start without TURN_SECRETS", () => {
    const env = loopbackEnv(3478, 49152);
    delete env.TURN_SECRETS;
    refuse(env, /TURN_SECRETS is required/);
  });

  it("refuses TURN_SECRETS that holds only separators", () => {
    refuse(loopbackEnv(3478, 49152, { TURN_SECRETS: " , ," }), /TURN_SECRETS is required/);
  });

  it("refuses a secret shorter than 16 characters, naming the variable but never a value", () => {
    const short = "only15-chars-xy";
    expect(short).toHaveLength(15);
    const result = refuse(loopbackEnv(3478, 49152, { TURN_SECRETS: `${CURRENT_SECRET},${short}` }), /TURN_SECRETS/, [
      short,
      CURRENT_SECRET,
    ]);
    expect(result.stderr).toMatch(/secret #2 is shorter than 16 characters/);
  });

  it("refuses a secret that would inject config lines", () => {
    const injected = `${CURRENT_SECRET}\nno-auth`;
    refuse(loopbackEnv(3478, 49152, { TURN_SECRETS: injected }), /TURN_SECRETS: secret #1 may contain only/, [
      CURRENT_SECRET,
    ]);
  });

  it("refuses to start without REALM", () => {
    const env = loopbackEnv(3478, 49152);
    delete env.REALM;
    refuse(env, /REALM is required/, [CURRENT_SECRET, NEXT_SECRET]);
  });

  it("refuses a certificate without its key", () => {
    refuse(loopbackEnv(3478, 49152, { TLS_CERT: HEALTHCHECK }), /TLS_CERT and TLS_KEY must be set together/);
  });

  it("refuses malformed ports and addresses", () => {
    refuse(loopbackEnv(70000, 49152), /LISTENING_PORT/);
    refuse(loopbackEnv(3478, 49152, { MIN_PORT: "60000", MAX_PORT: "50000" }), /MIN_PORT must be below MAX_PORT/);
    refuse(loopbackEnv(3478, 49152, { EXTERNAL_IP: "203.0.113.10\nno-auth" }), /EXTERNAL_IP/);
  });

  it("accepts the loopback-peer test switch only in render-only mode", () => {
    const rendered = renderCoturnConfig(
      outputPath(),
      loopbackEnv(3478, 49152, { ICEGATE_TEST_ALLOW_LOOPBACK_PEERS: "true" }),
    );
    expect(rendered.status, rendered.stderr).toBe(0);
    expect(rendered.lines).toContain("allow-loopback-peers");
    // Without render-only mode the entrypoint would start coturn: it must refuse instead.
    refuse(
      loopbackEnv(3478, 49152, { ICEGATE_TEST_ALLOW_LOOPBACK_PEERS: "true", ICEGATE_RENDER_ONLY: "" }),
      /ICEGATE_TEST_ALLOW_LOOPBACK_PEERS is for tests/,
    );
  });

  it("refuses the placeholder secrets shipped in .env.example and in the Kubernetes example Secret", () => {
    const dotenv = readFileSync(join(COTURN_DIR, ".env.example"), "utf8");
    const fromDotenv = /^TURN_SECRETS=(.*)$/m.exec(dotenv);
    expect(fromDotenv).not.toBeNull();
    refuse(loopbackEnv(3478, 49152, { TURN_SECRETS: fromDotenv![1]! }), /TURN_SECRETS/);

    const secretYaml = readFileSync(
      new URL("../../infrastructure/kubernetes/secret.example.yaml", import.meta.url),
      "utf8",
    );
    const fromYaml = /^\s+TURN_SECRETS: "(.*)"$/m.exec(secretYaml);
    expect(fromYaml).not.toBeNull();
    refuse(loopbackEnv(3478, 49152, { TURN_SECRETS: fromYaml![1]! }), /TURN_SECRETS/);
  });

  const canUseSetpriv = hasCommand("setpriv");
  it.skipIf(!canUseSetpriv)("refuses port 443 when no_new_privs would strip turnserver's capability", () => {
    // The check applies to non-root users only: as root, run the entrypoint as nobody.
    const dropToNobody = process.getuid?.() === 0 ? ["--reuid=65534", "--regid=65534", "--clear-groups"] : [];
    // Everything nobody must read or write lives in one open directory, checkout permissions aside.
    const dir = mkdtempSync(join(workDir, "nnp-"));
    chmodSync(dir, 0o777);
    chmodSync(workDir, 0o755);
    for (const file of ["entrypoint.sh", "turnserver.conf.template"])
      copyFileSync(join(COTURN_DIR, file), join(dir, file));
    const entrypoint = join(dir, "entrypoint.sh");
    const cert = join(dir, "cert.pem");
    writeFileSync(cert, "certificate\n", { mode: 0o644 });
    const env = loopbackEnv(3478, 49152, { TLS_CERT: cert, TLS_KEY: cert, TLS_ALT_PORT: "443" });
    env.USERDB = join(dir, "turndb");
    env.PIDFILE = join(dir, "turnserver.pid");

    const refused = renderCoturnConfig(join(dir, "nnp.conf"), env, {
      wrap: ["setpriv", ...dropToNobody, "--no-new-privs"],
      entrypoint,
    });
    expect(refused.status, refused.stderr).not.toBe(0);
    expect(refused.stderr).toMatch(/port 443 is below 1024, but no_new_privs is set/);
    // The same settings without no_new_privs render: the refusal above is that check's doing.
    const allowed = renderCoturnConfig(join(dir, "allowed.conf"), env, {
      wrap: ["setpriv", ...dropToNobody],
      entrypoint,
    });
    expect(allowed.status, allowed.stderr).toBe(0);
  });
});

const coturnInstalled = requireCoturn();

/** Free ports on 127.0.0.1, all different from each other and from `taken`. */
async function distinctFreePorts(count: number, taken: number[] = []): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port) && !taken.includes(port)) ports.push(port);
  }
  return ports;
}

type RenderedNode = Coturn & { config: string };

/** Renders a loopback node, optionally edits the config, and starts Debian's coturn with it. */
async function startRenderedNode(
  extra: Record<string, string>,
  edit: (config: string) => string = (config) => config,
  taken: number[] = [],
): Promise<RenderedNode> {
  const [port] = await distinctFreePorts(1, taken);
  const output = outputPath();
  const result = renderCoturnConfig(output, loopbackEnv(port!, relayBase(), extra));
  expect(result.status, result.stderr).toBe(0);
  const config = edit(result.config!);
  writeFileSync(output, config, { mode: 0o600 });
  const coturn = await runCoturn(["-c", output], port!, REALM);
  return { ...coturn, config };
}

/** The allocation completed and data went from one client to the other through the relay. */
function expectRelayed(result: AllocationResult) {
  expect(result.ok, result.output).toBe(true);
}

/** The allocation was authorised, and then coturn refused the peer address. */
function expectPeerRefused(result: AllocationResult) {
  expect(result.ok, result.output).toBe(false);
  expect(result.output).toContain("403 (Forbidden IP)");
  expect(result.output).not.toContain("Cannot complete Allocation");
}

describe.skipIf(!coturnInstalled)("Debian coturn running the rendered config", () => {
  // hardened: the render as the container would write it (plus the loopback test switch).
  // control: the same render with exactly one line removed, the 127.0.0.0/8 deny.
  let hardened: RenderedNode | undefined;
  let control: RenderedNode | undefined;

  beforeAll(async () => {
    const loopbackPeers = { ICEGATE_TEST_ALLOW_LOOPBACK_PEERS: "true" };
    hardened = await startRenderedNode(loopbackPeers);
    control = await startRenderedNode(loopbackPeers, (config) => {
      const lines = config.split("\n");
      const kept = lines.filter((line) => line !== LOOPBACK_DENY_LINE);
      expect(lines.length - kept.length, "the control removes exactly one line").toBe(1);
      return kept.join("\n");
    });
  });

  afterAll(async () => {
    await hardened?.stop();
    await control?.stop();
  });

  it("accepts credentials minted with the first secret of TURN_SECRETS", async () => {
    const { username, password } = mintCoturnCredential(CURRENT_SECRET, "alice");
    expectRelayed(await tryAllocation(control!, username, password));
  });

  it("accepts credentials minted with the second secret of TURN_SECRETS (the rotation overlap)", async () => {
    const { username, password } = mintCoturnCredential(NEXT_SECRET, "bob");
    expectRelayed(await tryAllocation(control!, username, password));
  });

  it("accepts both secrets on the unedited render too (then refuses the loopback peer)", async () => {
    for (const secret of [CURRENT_SECRET, NEXT_SECRET]) {
      const { username, password } = mintCoturnCredential(secret, "carol");
      expectPeerRefused(await tryAllocation(hardened!, username, password));
    }
  });

  it("refuses credentials minted with a secret that is not in TURN_SECRETS", async () => {
    const { username, password } = mintCoturnCredential(UNKNOWN_SECRET, "mallory");
    for (const node of [hardened!, control!]) {
      const result = await tryAllocation(node, username, password);
      expect(result.ok).toBe(false);
      expect(result.output).toContain("Cannot complete Allocation");
    }
  });

  it("refuses to relay to a peer in a denied range (127.0.0.0/8), even with loopback peers allowed", async () => {
    const { username, password } = mintCoturnCredential(CURRENT_SECRET, "dave");
    expectPeerRefused(await tryAllocation(hardened!, username, password));
    // The control differs by that one deny line only, and relays to the same peer.
    expectRelayed(await tryAllocation(control!, username, password));
  });

  it("answers the image's health check, which fails against a port nobody listens on", async () => {
    const check = (port: number) =>
      spawnSync("sh", [HEALTHCHECK], {
        env: {
          PATH: process.env.PATH,
          LISTENING_IP: "127.0.0.1",
          LISTENING_PORT: String(port),
          HEALTHCHECK_TIMEOUT: "3",
        },
        encoding: "utf8",
        timeout: 15_000,
      });
    const healthy = check(hardened!.port);
    expect(healthy.status, healthy.stderr).toBe(0);
    const closed = check(await freePort());
    expect(closed.status).toBe(1);
    expect(closed.stderr).toContain("no STUN answer");
  });
});

const opensslInstalled = coturnInstalled && requireTool("openssl", "apt-get install openssl");

describe.skipIf(!opensslInstalled)("Debian coturn with TLS and an allowed-peer exception", () => {
  let node: RenderedNode | undefined;
  let tlsPort = 0;
  let altPort = 0;

  beforeAll(async () => {
    const cert = join(workDir, "tls-cert.pem");
    const key = join(workDir, "tls-key.pem");
    const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
    args.push("-subj", `/CN=${REALM}`, "-keyout", key, "-out", cert);
    const openssl = spawnSync("openssl", args, { encoding: "utf8", timeout: 15_000 });
    expect(openssl.status, openssl.stderr).toBe(0);
    [tlsPort, altPort] = (await distinctFreePorts(2)) as [number, number];
    node = await startRenderedNode(
      {
        TLS_CERT: cert,
        TLS_KEY: key,
        TLS_PORT: String(tlsPort),
        TLS_ALT_PORT: String(altPort),
        ALLOWED_PEER_IPS: "127.0.0.1",
        ICEGATE_TEST_ALLOW_LOOPBACK_PEERS: "true",
      },
      undefined,
      [tlsPort, altPort],
    );
  });

  afterAll(async () => {
    await node?.stop();
  });

  it("relays to a denied-range peer listed in ALLOWED_PEER_IPS", async () => {
    // The 127.0.0.0/8 deny is still there: the exception is what lets the relay through.
    expect(node!.config.split("\n")).toEqual(expect.arrayContaining([LOOPBACK_DENY_LINE, "allowed-peer-ip=127.0.0.1"]));
    const { username, password } = mintCoturnCredential(CURRENT_SECRET, "erin");
    expectRelayed(await tryAllocation(node!, username, password));
  });

  it("accepts a secret added to coturn's turn_secret table while it runs (rotation without restart)", async () => {
    const tableSecret = "icegate-infra-table-5a6b7c8d9e";
    const { username, password } = mintCoturnCredential(tableSecret, "grace");
    const before = await tryAllocation(node!, username, password);
    expect(before.ok).toBe(false);
    expect(before.output).toContain("Cannot complete Allocation");

    const userdb = /^userdb=(.*)$/m.exec(node!.config)![1]!;
    const database = new DatabaseSync(userdb);
    try {
      database.prepare("INSERT INTO turn_secret (realm, value) VALUES (?, ?)").run(REALM, tableSecret);
    } finally {
      database.close();
    }
    expectRelayed(await tryAllocation(node!, username, password));
  });

  it("allocates over TLS 1.2+ on TLS_PORT and on the second TLS port, TLS_ALT_PORT", async () => {
    const { username, password } = mintCoturnCredential(NEXT_SECRET, "frank");
    for (const port of [tlsPort, altPort]) {
      const allocation = await allocateOverTls(port, username, password);
      expect(allocation, `port ${port}`).toMatchObject({ ok: true });
      expect(allocation.relayed).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(["TLSv1.2", "TLSv1.3"]).toContain(allocation.tlsVersion);
    }
  });

  it("refuses over TLS a credential minted with a secret it does not have", async () => {
    const { username, password } = mintCoturnCredential(UNKNOWN_SECRET, "mallory");
    const allocation = await allocateOverTls(altPort, username, password);
    expect(allocation).toMatchObject({ ok: false, errorCode: 401 });
  });
});
