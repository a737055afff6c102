/**
 * checkFleet: every probeable node probed once (tcp URL, else tls), at most 6 sockets at a time,
 * one health record written per node; udp-only nodes left unknown; a failed write reported, not thrown.
 */
import { describe, expect, it } from "vitest";
import { memoryHealthStore, type HealthStore } from "../../../src/fleet/health";
import { checkFleet, mapLimit } from "../../../src/fleet/monitor";
import { decodeMessage, encodeMessage, MessageType } from "../../../src/fleet/stun";
import { fakeConnect } from "./fake-socket";
import { fleetOf, node } from "./fixtures";

const T0 = 1_800_000_000_000;

describe("checkFleet", () => {
  it("probes each node on its tcp URL, else its tls URL, and records one result per node", async () => {
    const fleet = fleetOf(
      node("both", 0, 0),
      node("tls-only", 0, 0, { urls: { tls: "turns:tls-only.example.net:443?transport=tcp" } }),
      node("udp-only", 0, 0, { urls: { udp: "turn:udp-only.example.net:3478?transport=udp" } }),
    );
    const fake = fakeConnect((request) => [
      encodeMessage(MessageType.BindingSuccess, { transactionId: decodeMessage(request).transactionId }),
    ]);
    const store = memoryHealthStore();
    const reports = await checkFleet(fleet, store, { connect: fake.connect, now: () => T0 });
    expect(reports).toEqual([
      { id: "both", via: "tcp", healthy: true, rttMs: 0 },
      { id: "tls-only", via: "tls", healthy: true, rttMs: 0 },
      { id: "udp-only", via: "unprobed", healthy: null, rttMs: null },
    ]);
    expect(fake.dialled.map((d) => `${d.hostname}:${d.port}:${d.secureTransport}`)).toEqual([
      "both.example.net:3478:off",
      "tls-only.example.net:443:on",
    ]);
    expect(Object.fromEntries(await store.read(["both", "tls-only", "udp-only"]))).toEqual({
      both: { healthy: true, checkedAt: T0, rttMs: 0 },
      "tls-only": { healthy: true, checkedAt: T0, rttMs: 0 },
    });
  });

  it("never holds more than 6 sockets at once", async () => {
    const nodes = Array.from({ length: 15 }, (_, i) => node(`n${i}`, 0, 0));
    let open = 0;
    let peak = 0;
    const fake = fakeConnect(() => "hang");
    const counting: typeof fake.connect = (address, options) => {
      open++;
      peak = Math.max(peak, open);
      const socket = fake.connect(address, options);
      const close = socket.close.bind(socket);
      socket.close = async () => {
        open--;
        await close();
      };
      return socket;
    };
    const reports = await checkFleet(fleetOf(...nodes), memoryHealthStore(), { connect: counting, timeoutMs: 20 });
    expect(reports.map((r) => r.error)).toEqual(Array(15).fill("timeout"));
    expect(peak).toBe(6);
  });

  it("reports a health record it could not write, and carries on", async () => {
    const failing: HealthStore = {
      read: async () => new Map(),
      write: async () => {
        throw new Error("KV PUT failed: 429 Too Many Requests");
      },
    };
    const reports = await checkFleet(fleetOf(node("a", 0, 0)), failing, { connect: fakeConnect("refuse").connect });
    expect(reports).toEqual([
      { id: "a", via: "tcp", healthy: false, rttMs: null, error: "connect_failed", writeFailed: true },
    ]);
  });
});

describe("mapLimit", () => {
  it("keeps input order and handles fewer items than the limit", async () => {
    expect(await mapLimit([3, 1, 2], 6, async (n) => n * 2)).toEqual([6, 2, 4]);
    expect(await mapLimit([], 6, async (n: number) => n)).toEqual([]);
  });
});
