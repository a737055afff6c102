/**
 * probeNode in workerd: against a closed loopback port with the real `connect()` from
 * `cloudflare:sockets`, and against a fake socket for every answer a node might give.
 * It never throws, and it always closes its socket.
 */
import { connect } from "cloudflare:sockets";
import { describe, expect, it } from "vitest";
import { probeNode } from "../../../src/fleet/probe";
import { Attr, decodeMessage, encodeMessage, MessageType } from "../../../src/fleet/stun";
import { fakeConnect } from "./fake-socket";

/** A Binding success for whatever request was written: the transaction id echoed back (or `other`). */
function success(request: Uint8Array, other?: Uint8Array): Uint8Array {
  const transactionId = other ?? decodeMessage(request).transactionId;
  const mapped = new Uint8Array([0, 1, 0xe1, 0x12, 0x5e, 0x12, 0xa4, 0x43]); // 127.0.0.1:49152
  return encodeMessage(MessageType.BindingSuccess, {
    transactionId,
    attributes: [{ type: Attr.XorMappedAddress, value: mapped }],
    fingerprint: true,
  });
}

describe("probeNode", () => {
  it("reports a closed port on loopback as unhealthy, without throwing", async () => {
    const started = Date.now();
    const result = await probeNode("turn:127.0.0.1:1?transport=tcp", { connect, timeoutMs: 2000 });
    expect(result.healthy).toBe(false);
    expect(result.rttMs).toBeNull();
    expect(["connect_failed", "closed", "io_error"]).toContain(result.error);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("reports a node that answers a valid Binding success as healthy, with its round trip", async () => {
    const fake = fakeConnect((request) => [success(request)]);
    let clock = 1000;
    const result = await probeNode("turn:turn-fra1.example.com:3478?transport=tcp", {
      connect: fake.connect,
      now: () => (clock += 7),
    });
    expect(result).toEqual({ healthy: true, rttMs: 7 });
    expect(fake.dialled).toEqual([{ hostname: "turn-fra1.example.com", port: 3478, secureTransport: "off" }]);
    expect(fake.closed()).toBe(1);
  });

  it("dials turns: URLs with TLS, on 5349 unless told otherwise", async () => {
    const fake = fakeConnect((request) => [success(request)]);
    await probeNode("turns:turn.example.com?transport=tcp", { connect: fake.connect });
    await probeNode("turns:[2001:db8::1]:443?transport=tcp", { connect: fake.connect });
    expect(fake.dialled).toEqual([
      { hostname: "turn.example.com", port: 5349, secureTransport: "on" },
      { hostname: "2001:db8::1", port: 443, secureTransport: "on" },
    ]);
  });

  it("reassembles an answer that arrives in pieces (TCP frames STUN by its length field)", async () => {
    const fake = fakeConnect((request) => {
      const answer = success(request);
      return [answer.subarray(0, 3), answer.subarray(3, 25), answer.subarray(25)];
    });
    expect(await probeNode("turn:127.0.0.1:3478?transport=tcp", { connect: fake.connect })).toMatchObject({
      healthy: true,
    });
  });

  it.each<[string, (request: Uint8Array) => Uint8Array[] | "hang" | "close", string]>([
    [
      "an answer to another transaction",
      (request) => [success(request, new Uint8Array(12).fill(7))],
      "invalid:transaction_id",
    ],
    [
      "a Binding error",
      (request) => [
        encodeMessage(MessageType.BindingError, {
          transactionId: decodeMessage(request).transactionId,
          attributes: [{ type: Attr.ErrorCode, value: new Uint8Array([0, 0, 5, 0]) }],
        }),
      ],
      "stun_error:500",
    ],
    [
      "something that is not STUN",
      () => [new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")],
      "invalid:not_stun",
    ],
    ["a connection closed before any answer", () => "close", "closed"],
    [
      "an answer claiming to be 64 KiB long",
      () => [new Uint8Array([1, 1, 0xff, 0xfc, 0x21, 0x12, 0xa4, 0x42, ...new Uint8Array(12)])],
      "invalid:too_large",
    ],
  ])("reports %s as unhealthy", async (_, answer, error) => {
    const fake = fakeConnect(answer);
    const result = await probeNode("turn:127.0.0.1:3478?transport=tcp", { connect: fake.connect });
    expect(result).toEqual({ healthy: false, rttMs: null, error });
    expect(fake.closed()).toBe(1);
  });

  it("gives up after the timeout on a node that never answers, and closes the socket", async () => {
    const fake = fakeConnect(() => "hang");
    const started = Date.now();
    const result = await probeNode("turn:127.0.0.1:3478?transport=tcp", { connect: fake.connect, timeoutMs: 50 });
    expect(result).toEqual({ healthy: false, rttMs: null, error: "timeout" });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fake.closed()).toBe(1);
  });

  it("reports a refused connection and a throwing connect() as connect_failed", async () => {
    expect(await probeNode("turn:127.0.0.1:3478?transport=tcp", { connect: fakeConnect("refuse").connect })).toEqual({
      healthy: false,
      rttMs: null,
      error: "connect_failed",
    });
    const throwing = () => {
      throw new TypeError("blocked");
    };
    expect(await probeNode("turn:127.0.0.1:3478?transport=tcp", { connect: throwing })).toMatchObject({
      error: "connect_failed",
    });
  });

  it("reports a URL it cannot dial as bad_url, without dialling", async () => {
    const fake = fakeConnect(() => "hang");
    for (const url of [
      "https://turn.example.com",
      "turn:",
      "turn:host:99999?transport=tcp",
      "turns:host?transport=udp",
    ]) {
      expect(await probeNode(url, { connect: fake.connect })).toEqual({
        healthy: false,
        rttMs: null,
        error: "bad_url",
      });
    }
    expect(fake.dialled).toEqual([]);
  });
});
