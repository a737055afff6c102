/**
 * A minimal TURN client over TLS (RFC 5766 Allocate with the long-term credential mechanism),
 * for checking a `turns:` listener with a modern TLS stack. turnutils_uclient cannot: it picks a
 * TLS version at random per connection (TLS 1.0 and 1.1 included), so against a server that
 * refuses those it hangs more often than not.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { connect, type TLSSocket } from "node:tls";

const MAGIC_COOKIE = 0x2112a442;
const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
} as const;
const UDP = 17;

export interface TlsAllocation {
  /** True when the server answered the authenticated Allocate with a success response. */
  ok: boolean;
  /** The STUN error code of the final answer (401, 403, 437, ...), when it was an error. */
  errorCode?: number;
  /** The relayed transport address, `ip:port`, on success. */
  relayed?: string;
  /** The negotiated TLS version, such as "TLSv1.3". */
  tlsVersion: string | null;
}

interface StunMessage {
  type: number;
  attributes: Map<number, Buffer>;
}

function attribute(type: number, value: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
}

function message(type: number, attributes: Buffer[], integrityKey?: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC_COOKIE, 4);
  randomBytes(12).copy(header, 8);
  let body = Buffer.concat(attributes);
  if (integrityKey) {
    // MESSAGE-INTEGRITY covers the message with its length already counting the 24-byte attribute.
    header.writeUInt16BE(body.length + 24, 2);
    const mac = createHmac("sha1", integrityKey)
      .update(Buffer.concat([header, body]))
      .digest();
    body = Buffer.concat([body, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

function parse(buffer: Buffer): StunMessage {
  const attributes = new Map<number, Buffer>();
  let offset = 20;
  while (offset + 4 <= buffer.length) {
    const type = buffer.readUInt16BE(offset);
    const length = buffer.readUInt16BE(offset + 2);
    attributes.set(type, buffer.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length + ((4 - (length % 4)) % 4);
  }
  return { type: buffer.readUInt16BE(0), attributes };
}

function errorCode(reply: StunMessage): number | undefined {
  const value = reply.attributes.get(ATTR.ERROR_CODE);
  return value ? (value[2]! & 0x07) * 100 + value[3]! : undefined;
}

function xorRelayedAddress(reply: StunMessage): string | undefined {
  const value = reply.attributes.get(ATTR.XOR_RELAYED_ADDRESS);
  if (!value || value[1] !== 0x01) return undefined;
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const address = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join(".")}:${port}`;
}

/** Reads STUN messages from a stream (TURN over TCP/TLS frames nothing extra around them). */
function reader(socket: TLSSocket): () => Promise<StunMessage> {
  let pending = Buffer.alloc(0);
  const waiting: Array<(message: StunMessage) => void> = [];
  const drain = () => {
    while (waiting.length > 0 && pending.length >= 20) {
      const total = 20 + pending.readUInt16BE(2);
      if (pending.length < total) return;
      const frame = pending.subarray(0, total);
      pending = pending.subarray(total);
      waiting.shift()!(parse(frame));
    }
  };
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    drain();
  });
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      drain();
    });
}

/** One authenticated Allocate (UDP relay) over TLS to 127.0.0.1:`port`. */
export async function allocateOverTls(
  port: number,
  username: string,
  password: string,
  timeoutMs = 10_000,
): Promise<TlsAllocation> {
  const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, minVersion: "TLSv1.2" });
  const timer = setTimeout(
    () => socket.destroy(new Error(`no TURN answer over TLS within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const failed = new Promise<never>((_, reject) => socket.once("error", reject));
    await Promise.race([new Promise((resolve) => socket.once("secureConnect", resolve)), failed]);
    const next = reader(socket);
    const transport = attribute(ATTR.REQUESTED_TRANSPORT, Buffer.from([UDP, 0, 0, 0]));

    socket.write(message(ALLOCATE_REQUEST, [transport]));
    const challenge = await Promise.race([next(), failed]);
    const realm = challenge.attributes.get(ATTR.REALM);
    const nonce = challenge.attributes.get(ATTR.NONCE);
    if (errorCode(challenge) !== 401 || !realm || !nonce) {
      return { ok: false, errorCode: errorCode(challenge), tlsVersion: socket.getProtocol() };
    }

    const key = createHash("md5").update(`${username}:${realm.toString()}:${password}`).digest();
    const attributes = [transport, attribute(ATTR.USERNAME, Buffer.from(username))];
    attributes.push(attribute(ATTR.REALM, realm), attribute(ATTR.NONCE, nonce));
    socket.write(message(ALLOCATE_REQUEST, attributes, key));
    const reply = await Promise.race([next(), failed]);
    return {
      ok: reply.type === ALLOCATE_SUCCESS,
      errorCode: errorCode(reply),
      relayed: xorRelayedAddress(reply),
      tlsVersion: socket.getProtocol(),
    };
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
