/**
 * The STUN codec against known answers: exact request bytes (FINGERPRINT checked independently
 * with zlib), the RFC 5769 test vectors, and a Binding success captured from Debian's coturn 4.6.1.
 */
import { describe, expect, it } from "vitest";
import {
  Attr,
  bindingRequest,
  crc32,
  decodeMessage,
  encodeAttribute,
  encodeMessage,
  findAttribute,
  frameLength,
  MessageType,
  readBindingResponse,
  StunFormatError,
} from "../../../src/fleet/stun";

const hex = (text: string) => Uint8Array.from(text.replace(/\s+/g, "").match(/../g)!, (byte) => parseInt(byte, 16));
const toHex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** The transaction id of the RFC 5769 vectors, reused for the captured coturn answer. */
const TX = hex("b7e7a701 bc34d686 fa87dfae");

/** RFC 5769 §2.1: a request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT. */
const RFC5769_REQUEST = hex(`
  00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff 80290008 932ff9b1 51263b36 00060009 6576746a 3a683676 59202020 00080014
  9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2 80280004 e57a3bcf`);
/** RFC 5769 §2.2: IPv4 response, mapped 192.0.2.1:32853. */
const RFC5769_IPV4 = hex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200008
  0001a147 e112a643 00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7 80280004 c07d4c96`);
/** RFC 5769 §2.3: IPv6 response, mapped [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
const RFC5769_IPV6 = hex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200014
  0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1 1784c97c 8292c275
  bfe3ed41 80280004 c8fb0b4c`);
/** Debian's coturn 4.6.1 answering our Binding Request over TCP (XOR-MAPPED, MAPPED, RESPONSE-ORIGIN, SOFTWARE, FINGERPRINT). */
const COTURN_SUCCESS = hex(`
  01010044 2112a442 b7e7a701 bc34d686 fa87dfae 00200008 0001c320 5e12a443 00010008 0001e232
  7f000001 802b0008 000187dd 7f000001 80220014 436f7475 726e2d34 2e362e31 2027476f 72737427
  80280004 7c87442a`);

describe("STUN encoding", () => {
  it("encodes a Binding Request with FINGERPRINT to the exact bytes", () => {
    const { bytes, transactionId } = bindingRequest({ transactionId: TX });
    // Independently: zlib.crc32(header with length 8) ^ 0x5354554e = 0xfdf6ae02.
    expect(toHex(bytes)).toBe("000100082112a442b7e7a701bc34d686fa87dfae80280004fdf6ae02");
    expect(transactionId).toEqual(TX);
  });

  it("encodes a bare Binding Request as the 20-byte header", () => {
    expect(toHex(encodeMessage(MessageType.BindingRequest, { transactionId: TX }))).toBe(
      "000100002112a442b7e7a701bc34d686fa87dfae",
    );
  });

  it("draws a fresh 96-bit transaction id for every request", () => {
    const ids = new Set(Array.from({ length: 50 }, () => toHex(bindingRequest().transactionId)));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{24}$/);
  });

  it("computes CRC-32 as zlib does (check value of '123456789')", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("pads attributes to 4 bytes and hands MESSAGE-INTEGRITY the message with its length already counting it", () => {
    let signed: Uint8Array | undefined;
    const message = encodeMessage(MessageType.AllocateRequest, {
      transactionId: TX,
      attributes: [{ type: Attr.Username, value: new TextEncoder().encode("evtj:h6vY") }],
      integrity: (bytes) => {
        signed = bytes.slice();
        return new Uint8Array(20).fill(0xab);
      },
      fingerprint: true,
    });
    // 20 header + 16 USERNAME (9 + 3 padding) + 24 MESSAGE-INTEGRITY + 8 FINGERPRINT.
    expect(message.length).toBe(68);
    expect(signed!.length).toBe(36);
    expect((signed![2]! << 8) | signed![3]!).toBe(16 + 24);
    const decoded = decodeMessage(message);
    expect(decoded.attributes.map((attribute) => attribute.type)).toEqual([
      Attr.Username,
      Attr.MessageIntegrity,
      Attr.Fingerprint,
    ]);
    expect(text(findAttribute(decoded, Attr.Username))).toBe("evtj:h6vY");
    expect(toHex(encodeAttribute(Attr.Username, new Uint8Array([1])))).toBe("0006000101000000");
  });
});

describe("STUN decoding", () => {
  it("reads the RFC 5769 sample request, FINGERPRINT verified", () => {
    const message = decodeMessage(RFC5769_REQUEST);
    expect(message.type).toBe(MessageType.BindingRequest);
    expect(text(findAttribute(message, Attr.Username))).toBe("evtj:h6vY");
    expect(text(findAttribute(message, Attr.Software))).toBe("STUN test client");
  });

  it("reads the RFC 5769 IPv4 and IPv6 sample responses' XOR-MAPPED-ADDRESS", () => {
    expect(readBindingResponse(RFC5769_IPV4, TX)).toEqual({
      kind: "success",
      mapped: { family: "IPv4", address: "192.0.2.1", port: 32853 },
    });
    expect(readBindingResponse(RFC5769_IPV6, TX)).toEqual({
      kind: "success",
      mapped: { family: "IPv6", address: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853 },
    });
  });

  it("reads a Binding success captured from coturn", () => {
    expect(readBindingResponse(COTURN_SUCCESS, TX)).toEqual({
      kind: "success",
      mapped: { family: "IPv4", address: "127.0.0.1", port: 57906 },
    });
    expect(text(findAttribute(decodeMessage(COTURN_SUCCESS), Attr.Software))).toBe("Coturn-4.6.1 'Gorst'");
  });

  it("refuses an answer to somebody else's transaction", () => {
    const other = TX.slice();
    other[11]! ^= 1;
    expect(readBindingResponse(COTURN_SUCCESS, other)).toEqual({ kind: "invalid", problem: "transaction_id" });
  });

  it("reports a Binding error response with its ERROR-CODE", () => {
    const value = new Uint8Array([0, 0, 4, 20, ...new TextEncoder().encode("Unknown Attribute")]);
    const answer = encodeMessage(MessageType.BindingError, {
      transactionId: TX,
      attributes: [{ type: Attr.ErrorCode, value }],
      fingerprint: true,
    });
    expect(readBindingResponse(answer, TX)).toEqual({ kind: "error", code: 420, reason: "Unknown Attribute" });
    const bare = encodeMessage(MessageType.BindingError, { transactionId: TX });
    expect(readBindingResponse(bare, TX)).toEqual({ kind: "invalid", problem: "error_code" });
  });

  it.each<[string, (bytes: Uint8Array) => Uint8Array, string]>([
    ["a flipped bit under FINGERPRINT", (b) => flip(b, 30), "fingerprint_mismatch"],
    ["a wrong magic cookie", (b) => flip(b, 4), "magic_cookie"],
    ["a truncated message", (b) => b.subarray(0, b.length - 4), "length_mismatch"],
    ["a short header", (b) => b.subarray(0, 12), "short_header"],
    ["a non-STUN first byte (such as HTTP)", (b) => Object.assign(b.slice(), { 0: 0x48 }), "not_stun"],
    ["an unaligned length", (b) => setLength(b, 0x45), "unaligned_length"],
    [
      "an attribute running past the end",
      (b) => Object.assign(b.slice(), { 22: 0x00, 23: 0xff }),
      "truncated_attribute",
    ],
  ])("refuses %s", (_, mutate, problem) => {
    expect(readBindingResponse(mutate(COTURN_SUCCESS.slice()), TX)).toEqual({ kind: "invalid", problem });
    expect(() => decodeMessage(mutate(COTURN_SUCCESS.slice()))).toThrow(StunFormatError);
  });

  it("refuses a request where a response was expected", () => {
    expect(readBindingResponse(bindingRequest({ transactionId: TX }).bytes, TX)).toEqual({
      kind: "invalid",
      problem: "message_type",
    });
  });

  it("frames messages on a byte stream by their length field", () => {
    expect(frameLength(COTURN_SUCCESS.subarray(0, 19))).toBeUndefined();
    expect(frameLength(COTURN_SUCCESS.subarray(0, 20))).toBe(COTURN_SUCCESS.length);
    expect(frameLength(RFC5769_IPV6)).toBe(20 + 0x48);
  });
});

function flip(bytes: Uint8Array, index: number): Uint8Array {
  bytes[index]! ^= 0x01;
  return bytes;
}

function setLength(bytes: Uint8Array, length: number): Uint8Array {
  bytes[2] = length >> 8;
  bytes[3] = length & 0xff;
  return bytes;
}
