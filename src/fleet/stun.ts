/**
 * The STUN message codec (RFC 5389) that both health probes share: the Worker's cron probe over
 * `cloudflare:sockets`, and the operator command `scripts/turn-health.ts` over node:dgram/net/tls.
 *
 * Pure and dependency-free, written in TypeScript's erasable subset (no enums, namespaces or
 * parameter properties, no runtime imports) so Node runs it with `--experimental-strip-types`.
 * MESSAGE-INTEGRITY is computed by the caller (HMAC-SHA1 over MD5 keys is Node's business);
 * FINGERPRINT (CRC-32 xor 0x5354554e) is computed here.
 */

export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_BYTES = 20;
const FINGERPRINT_XOR = 0x5354554e;
const INTEGRITY_BYTES = 20;

/** Message types (method and class) used by icegate. */
export const MessageType = {
  BindingRequest: 0x0001,
  BindingSuccess: 0x0101,
  BindingError: 0x0111,
  AllocateRequest: 0x0003,
  AllocateSuccess: 0x0103,
  AllocateError: 0x0113,
  RefreshRequest: 0x0004,
  RefreshSuccess: 0x0104,
  RefreshError: 0x0114,
} as const;

/** Attribute types (RFC 5389, RFC 5766). */
export const Attr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  Lifetime: 0x000d,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedTransport: 0x0019,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;

export interface StunAttribute {
  type: number;
  value: Uint8Array;
}

export interface StunMessage {
  type: number;
  transactionId: Uint8Array;
  attributes: StunAttribute[];
}

export interface TransportAddress {
  family: "IPv4" | "IPv6";
  address: string;
  port: number;
}

/** A message that is not well-formed STUN. `problem` is a short code for logs. */
export class StunFormatError extends Error {
  readonly problem: string;
  constructor(problem: string) {
    super(`not a valid STUN message: ${problem}`);
    this.name = "StunFormatError";
    this.problem = problem;
  }
}

export interface EncodeOptions {
  /** 12 bytes; random when omitted. */
  transactionId?: Uint8Array;
  attributes?: StunAttribute[];
  /** HMAC-SHA1 over the bytes given (the message so far, length already counting the attribute). */
  integrity?: (bytes: Uint8Array) => Uint8Array;
  /** Append FINGERPRINT (last, after MESSAGE-INTEGRITY). */
  fingerprint?: boolean;
}

export function newTransactionId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(12));
}

/** Encodes a message: header, attributes (zero-padded to 4 bytes), then MESSAGE-INTEGRITY and FINGERPRINT. */
export function encodeMessage(type: number, options: EncodeOptions = {}): Uint8Array {
  const transactionId = options.transactionId ?? newTransactionId();
  if (transactionId.length !== 12) throw new RangeError("a STUN transaction id is 12 bytes");
  const parts: Uint8Array[] = [];
  for (const attribute of options.attributes ?? []) parts.push(encodeAttribute(attribute.type, attribute.value));
  let message = concat(header(type, 0, transactionId), ...parts);
  if (options.integrity) {
    setLength(message, message.length - HEADER_BYTES + 4 + INTEGRITY_BYTES);
    const mac = options.integrity(message);
    if (mac.length !== INTEGRITY_BYTES) throw new RangeError("MESSAGE-INTEGRITY is 20 bytes (HMAC-SHA1)");
    message = concat(message, encodeAttribute(Attr.MessageIntegrity, mac));
  }
  if (options.fingerprint) {
    setLength(message, message.length - HEADER_BYTES + 8);
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, (crc32(message) ^ FINGERPRINT_XOR) >>> 0);
    message = concat(message, encodeAttribute(Attr.Fingerprint, value));
  }
  setLength(message, message.length - HEADER_BYTES);
  return message;
}

/** A Binding Request with a fresh (or given) transaction id, and that id to match the answer. */
export function bindingRequest(options: { transactionId?: Uint8Array; fingerprint?: boolean } = {}): {
  bytes: Uint8Array;
  transactionId: Uint8Array;
} {
  const transactionId = options.transactionId ?? newTransactionId();
  return {
    bytes: encodeMessage(MessageType.BindingRequest, { transactionId, fingerprint: options.fingerprint ?? true }),
    transactionId,
  };
}

/**
 * Over TCP and TLS, STUN messages follow each other unframed: a message is the 20-byte header
 * plus its length field. Returns the total size once the header is in, else undefined.
 */
export function frameLength(buffer: Uint8Array): number | undefined {
  if (buffer.length < HEADER_BYTES) return undefined;
  return HEADER_BYTES + ((buffer[2]! << 8) | buffer[3]!);
}

/**
 * What is wrong with a message's 20-byte header, if anything: a stream reader can give up on
 * an answer that is not STUN (an HTTP or TLS reply) before waiting for the length it claims.
 */
export function headerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < HEADER_BYTES) return "short_header";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) & 0xc000) return "not_stun";
  if (view.getUint32(4) !== MAGIC_COOKIE) return "magic_cookie";
  if (view.getUint16(2) % 4 !== 0) return "unaligned_length";
  return undefined;
}

/** Decodes one whole message and checks its framing, magic cookie and FINGERPRINT (when present). */
export function decodeMessage(bytes: Uint8Array): StunMessage {
  const problem = headerProblem(bytes);
  if (problem) throw new StunFormatError(problem);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(0);
  if (HEADER_BYTES + view.getUint16(2) !== bytes.length) throw new StunFormatError("length_mismatch");
  const attributes: StunAttribute[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) throw new StunFormatError("truncated_attribute");
    const attributeType = view.getUint16(offset);
    const valueLength = view.getUint16(offset + 2);
    const end = offset + 4 + valueLength;
    if (end > bytes.length) throw new StunFormatError("truncated_attribute");
    if (attributeType === Attr.Fingerprint) {
      if (valueLength !== 4 || end !== bytes.length) throw new StunFormatError("misplaced_fingerprint");
      if (view.getUint32(offset + 4) !== (crc32(bytes.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0) {
        throw new StunFormatError("fingerprint_mismatch");
      }
    }
    attributes.push({ type: attributeType, value: bytes.slice(offset + 4, end) });
    offset = end + ((4 - (valueLength % 4)) % 4);
  }
  return { type, transactionId: bytes.slice(8, HEADER_BYTES), attributes };
}

export function findAttribute(message: StunMessage, type: number): Uint8Array | undefined {
  return message.attributes.find((attribute) => attribute.type === type)?.value;
}

/** ERROR-CODE: class * 100 + number, and the reason phrase. */
export function decodeErrorCode(value: Uint8Array): { code: number; reason: string } {
  if (value.length < 4) throw new StunFormatError("error_code");
  return { code: (value[2]! & 0x07) * 100 + value[3]!, reason: new TextDecoder().decode(value.subarray(4)) };
}

/** XOR-MAPPED-ADDRESS / XOR-RELAYED-ADDRESS: the port xor the cookie's top half, the address xor cookie+id. */
export function decodeXorAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const family = value.length >= 4 ? value[1] : undefined;
  const size = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (size === 0 || value.length !== 4 + size) throw new StunFormatError("xor_address");
  const port = view.getUint16(2) ^ (MAGIC_COOKIE >>> 16);
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, MAGIC_COOKIE);
  mask.set(transactionId, 4);
  const raw = Array.from(value.subarray(4), (byte, i) => byte ^ mask[i]!);
  if (size === 4) return { family: "IPv4", address: raw.join("."), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((raw[i]! << 8) | raw[i + 1]!).toString(16));
  return { family: "IPv6", address: groups.join(":"), port };
}

/** The answer to a Binding Request, as a tagged union: checking it never throws. */
export type BindingResult =
  | { kind: "success"; mapped: TransportAddress | undefined }
  | { kind: "error"; code: number; reason: string }
  | { kind: "invalid"; problem: string };

/** Checks a Binding answer: well-formed, our transaction id, a success (with its mapped address) or an error. */
export function readBindingResponse(bytes: Uint8Array, transactionId: Uint8Array): BindingResult {
  try {
    const message = decodeMessage(bytes);
    if (!sameBytes(message.transactionId, transactionId)) return { kind: "invalid", problem: "transaction_id" };
    if (message.type === MessageType.BindingError) {
      const value = findAttribute(message, Attr.ErrorCode);
      return value ? { kind: "error", ...decodeErrorCode(value) } : { kind: "invalid", problem: "error_code" };
    }
    if (message.type !== MessageType.BindingSuccess) return { kind: "invalid", problem: "message_type" };
    const xor = findAttribute(message, Attr.XorMappedAddress);
    return { kind: "success", mapped: xor ? decodeXorAddress(xor, transactionId) : undefined };
  } catch (error) {
    return { kind: "invalid", problem: error instanceof StunFormatError ? error.problem : "malformed" };
  }
}

/** Built on the first probe, not at startup: only the Cron Trigger's health checks use it. */
let builtCrcTable: Uint32Array | undefined;
function crcTable(): Uint32Array {
  if (builtCrcTable) return builtCrcTable;
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return (builtCrcTable = table);
}

/** CRC-32 (ISO 3309 / ITU-T V.42, as zlib computes it), the basis of FINGERPRINT. */
export function crc32(bytes: Uint8Array): number {
  const table = crcTable();
  let crc = 0xffffffff;
  for (const byte of bytes) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function encodeAttribute(type: number, value: Uint8Array): Uint8Array {
  const padded = new Uint8Array(4 + value.length + ((4 - (value.length % 4)) % 4));
  const view = new DataView(padded.buffer);
  view.setUint16(0, type);
  view.setUint16(2, value.length);
  padded.set(value, 4);
  return padded;
}

function header(type: number, length: number, transactionId: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, type);
  view.setUint16(2, length);
  view.setUint32(4, MAGIC_COOKIE);
  bytes.set(transactionId, 8);
  return bytes;
}

function setLength(message: Uint8Array, length: number): void {
  new DataView(message.buffer, message.byteOffset).setUint16(2, length);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
