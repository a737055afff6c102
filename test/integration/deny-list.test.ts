/**
 * The deny list of infrastructure/coturn/turnserver.conf.template, proved on the coturn the image pins: one node
 * runs the config the entrypoint renders (with loopback peers switched on, so that loopback is refused by the deny
 * list and not by coturn's own default), relaying on 127.0.0.1 and ::1. Over one IPv4 allocation and one IPv6
 * allocation (REQUESTED-ADDRESS-FAMILY), a CreatePermission probe asks for every edge of every denied range: coturn
 * must answer 403, and must grant public peers and the addresses just outside each range. CreatePermission only
 * installs a permission: nothing is ever sent to a peer.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Coturn, runCoturn, startCoturn } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import { renderCoturnConfig } from "../support/coturn-entrypoint";
import { formatIp, parseIp, rangeContains } from "../support/ip-ranges";
import { freePort } from "../support/processes";
import { DENIED_RANGES, denyRange, edges } from "../support/special-purpose";
import { openTurnClient, type TurnClient } from "../support/turn-client";
import { mintCoturnCredential } from "../support/turn-credentials";

const SECRET = "icegate-deny-list-secret-3b9d0f";
const REALM = "icegate.test";

const enabled = requireCoturn();

const v4Ranges = DENIED_RANGES.filter((range) => denyRange(range).family === 4);
const v6Ranges = DENIED_RANGES.filter((range) => denyRange(range).family === 6);
const denied = (address: string) => DENIED_RANGES.some((range) => rangeContains(denyRange(range), address));

/**
 * The addresses just before and just after each range, where those are not denied themselves (nor the unspecified
 * address "::", which coturn refuses by itself).
 */
function neighbours(family: 4 | 6): string[] {
  const top = family === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n;
  const out = new Set<string>();
  for (const range of family === 4 ? v4Ranges : v6Ranges) {
    const { first, last } = denyRange(range);
    for (const value of [first - 1n, last + 1n]) {
      if (value <= 0n || value > top) continue;
      const address = formatIp(family, value);
      if (!denied(address)) out.add(address);
    }
  }
  return [...out];
}

/** An IPv4 address written the ways IPv6 can carry it: mapped, compatible, translated, NAT64 and 6to4. */
function ipv6Encodings(ipv4: string): string[] {
  const value = parseIp(ipv4).value;
  const high = (value >> 16n).toString(16);
  const low = (value & 0xffffn).toString(16);
  return [`::ffff:${ipv4}`, `::${ipv4}`, `::ffff:0:${ipv4}`, `64:ff9b::${ipv4}`, `2002:${high}:${low}::1`];
}

describe.skipIf(!enabled)("the deny list on the coturn the image pins: CreatePermission probes", () => {
  const dir = mkdtempSync(join(tmpdir(), "icegate-deny-"));
  let coturn: Coturn | undefined;
  let v4: TurnClient | undefined;
  let v6: TurnClient | undefined;
  const allocations: Record<4 | 6, string | undefined> = { 4: undefined, 6: undefined };

  beforeAll(async () => {
    // The IPv6 relay address is the loopback ::1: without it there is no IPv6 allocation to probe.
    const loopback6 = Object.values(networkInterfaces())
      .flat()
      .some((address) => address?.family === "IPv6" && address.address === "::1");
    expect(loopback6, "this machine has no ::1 on its loopback interface (IPv6 disabled?)").toBe(true);
    const port = await freePort();
    const relayBase = 20000 + Math.floor(Math.random() * 400) * 100;
    const output = join(dir, "turnserver.conf");
    const rendered = renderCoturnConfig(output, {
      TURN_SECRETS: SECRET,
      REALM,
      LISTENING_IP: "127.0.0.1",
      LISTENING_PORT: String(port),
      RELAY_IP: "127.0.0.1",
      MIN_PORT: String(relayBase),
      MAX_PORT: String(relayBase + 99),
      USERDB: join(dir, "turndb"),
      PIDFILE: join(dir, "turnserver.pid"),
      PROMETHEUS: "false",
      ICEGATE_TEST_ALLOW_LOOPBACK_PEERS: "true",
    });
    expect(rendered.status, rendered.stderr).toBe(0);
    // A second relay address, for IPv6 allocations; the deny list is the render's, untouched.
    writeFileSync(output, `${rendered.config!}relay-ip=::1\n`, { mode: 0o600 });
    coturn = await runCoturn(["-c", output], port, REALM);

    const { username, password } = mintCoturnCredential(SECRET, "prober");
    v4 = await openTurnClient({ port });
    v6 = await openTurnClient({ port });
    const [ipv4, ipv6] = await Promise.all([v4.allocate(username, password, 4), v6.allocate(username, password, 6)]);
    expect(ipv4, coturn.output()).toMatchObject({ ok: true, family: 4 });
    expect(ipv6, coturn.output()).toMatchObject({ ok: true, family: 6 });
    allocations[4] = ipv4.relayed;
    allocations[6] = ipv6.relayed;
  });

  afterAll(async () => {
    v4?.close();
    v6?.close();
    await coturn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Probes each address in turn on one allocation; returns those whose answer was not `expected`. */
  async function probe(client: TurnClient, addresses: string[], expected: "refused" | "granted") {
    const wrong: string[] = [];
    for (const address of addresses) {
      const answer = await client.createPermission(address);
      const ok = expected === "refused" ? !answer.ok && answer.errorCode === 403 : answer.ok;
      if (!ok) wrong.push(`${address}: ${answer.ok ? "granted" : `error ${answer.errorCode}`}`);
    }
    return wrong;
  }

  it("relays on an IPv4 and an IPv6 address, as REQUESTED-ADDRESS-FAMILY asks", () => {
    expect(allocations[4]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(allocations[6]).toMatch(/^\[0:0:0:0:0:0:0:1\]:\d+$/);
  });

  it("refuses the first and the last address of every IPv4 range, on the IPv4 allocation", async () => {
    expect(v4Ranges.length).toBeGreaterThanOrEqual(19);
    expect(await probe(v4!, v4Ranges.flatMap(edges), "refused")).toEqual([]);
  });

  it("refuses the first and the last address of every IPv6 range, on the IPv6 allocation", async () => {
    expect(v6Ranges.length).toBeGreaterThanOrEqual(20);
    expect(await probe(v6!, v6Ranges.flatMap(edges), "refused")).toEqual([]);
  });

  it("refuses every IPv4 range written as an IPv6 address (mapped, compatible, translated, NAT64, 6to4)", async () => {
    const encoded = v4Ranges.flatMap(edges).flatMap(ipv6Encodings);
    expect(await probe(v6!, encoded, "refused")).toEqual([]);
  });

  it("refuses the addresses the issue found granted, and the well-known internal targets", async () => {
    const v4Cases = ["192.88.99.1", "168.63.129.16", "169.254.169.254", "127.0.0.1", "10.0.0.1", "100.100.100.200"];
    const v6Cases = ["::127.0.0.1", "::ffff:0:7f00:1", "::ffff:127.0.0.1", "fec0::1", "3fff::1", "5f00::1"];
    v6Cases.push("fd00:ec2::254", "64:ff9b::7f00:1", "2002:7f00:1::1", "::1");
    expect(await probe(v4!, v4Cases, "refused")).toEqual([]);
    expect(await probe(v6!, v6Cases, "refused")).toEqual([]);
  });

  it('refuses the unspecified addresses, which coturn refuses by itself (the list must not name "::")', async () => {
    expect(await probe(v4!, ["0.0.0.0"], "refused")).toEqual([]);
    expect(await probe(v6!, ["::"], "refused")).toEqual([]);
  });

  it("grants public IPv4 peers, and every address just outside an IPv4 range", async () => {
    const outside = neighbours(4);
    expect(outside).toEqual(expect.arrayContaining(["1.0.0.0", "11.0.0.0", "192.88.98.255", "192.88.100.0"]));
    expect(await probe(v4!, ["8.8.8.8", "1.1.1.1", "9.9.9.9", ...outside], "granted")).toEqual([]);
  });

  it("grants public IPv6 peers, and every address just outside an IPv6 range", async () => {
    const outside = neighbours(6);
    expect(outside).toContain(formatIp(6, parseIp("2000::").value));
    expect(outside).toContain(formatIp(6, parseIp("2001:200::").value));
    expect(await probe(v6!, ["2606:4700:4700::1111", "2001:4860:4860::8888", ...outside], "granted")).toEqual([]);
  });

  it("answers a peer of the other address family with 443, so each range is probed on its own family", async () => {
    expect(await v4!.createPermission("2606:4700:4700::1111")).toMatchObject({ ok: false, errorCode: 443 });
    expect(await v6!.createPermission("8.8.8.8")).toMatchObject({ ok: false, errorCode: 443 });
  });
});

describe.skipIf(!enabled)('why the deny list never names "::" nor starts a range there', () => {
  it.each(["::", "::-::ffff:ffff"])("denied-peer-ip=%s refuses every IPv4 peer, public ones included", async (line) => {
    const coturn = await startCoturn({ secrets: [SECRET], extra: [`denied-peer-ip=${line}`] });
    const client = await openTurnClient({ port: coturn.port }).catch(async (error: unknown) => {
      await coturn.stop();
      throw error;
    });
    try {
      const { username, password } = mintCoturnCredential(SECRET, "trap");
      expect(await client.allocate(username, password, 4), coturn.output()).toMatchObject({ ok: true });
      expect(await client.createPermission("8.8.8.8")).toMatchObject({ ok: false, errorCode: 403 });
    } finally {
      client.close();
      await coturn.stop();
    }
  });
});
