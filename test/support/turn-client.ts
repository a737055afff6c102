/**
 * A small TURN client for tests (RFC 5766 with RFC 6156's REQUESTED-ADDRESS-FAMILY), over TCP or TLS to loopback:
 * the long-term credential mechanism (401 challenge, then MESSAGE-INTEGRITY keyed with MD5(user:realm:pass)),
 * Allocate, and CreatePermission. It reads coturn's answers itself, so a refusal is a STUN error code at once,
 * where turnutils_uclient retries against coturn 4.17's stateless nonce for about 15 s. CreatePermission installs a
 * permission and nothing more: no Send indication, no ChannelData, so a probe never sends a byte to the peer.
 * The STUN codec is the Worker's own (src/fleet/stun.ts).
 */
import { createHash, createHmac } from "node:crypto";
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import {
  Attr,
  concat,
  decodeErrorCode,
  decodeMessage,
  decodeXorAddress,
  encodeMessage,
  findAttribute,
  frameLength,
  MAGIC_COOKIE,
  MessageType,
  newTransactionId,
  type StunAttribute,
  type StunMessage,
} from "../../src/fleet/stun";
import { parseIp } from "./ip-ranges";

const CREATE_PERMISSION_REQUEST = 0x0008;
const CREATE_PERMISSION_SUCCESS = 0x0108;
const XOR_PEER_ADDRESS = 0x0012;
const REQUESTED_ADDRESS_FAMILY = 0x0017;
const UDP = 17;

export interface TurnAnswer {
  /** True for a success response. */
  ok: boolean;
  /** The STUN error code of an error response (401, 403, 437, 443, ...). */
  errorCode?: number;
  /** Its reason phrase, which coturn 4.10+ leaves empty. */
  reason?: string;
}

export interface AllocateAnswer extends TurnAnswer {
  /** The relayed transport address on success, `ip:port` or `[ip]:port`. */
  relayed?: string;
  /** The relayed address's family on success. */
  family?: 4 | 6;
}

export interface TurnClientOptions {
  host?: string;
  port: number;
  transport?: "tcp" | "tls";
  /** Bounds every request and the connection itself. */
  timeoutMs?: number;
}

export interface TurnClient {
  /** One authenticated Allocate of a UDP relay, answering the 401 challenge (and one 438 stale nonce). */
  allocate(username: string, password: string, family?: 4 | 6): Promise<AllocateAnswer>;
  /** CreatePermission for one peer address (any port), with the allocation's credentials. */
  createPermission(peer: string): Promise<TurnAnswer>;
  /** The negotiated TLS version over TLS, else null. */
  tlsVersion(): string | null;
  close(): void;
}

/** Connects to a TURN server over TCP (default) or TLS (any certificate: loopback tests use self-signed ones). */
export async function openTurnClient(options: TurnClientOptions): Promise<TurnClient> {
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tls = options.transport === "tls";
  const socket: Socket = tls
    ? connectTls({ host, port: options.port, rejectUnauthorized: false, minVersion: "TLSv1.2" })
    : connectTcp({ host, port: options.port });
  const connected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${host}:${options.port}`)), timeoutMs);
    socket.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  try {
    await connected;
  } catch (error) {
    socket.destroy();
    throw error;
  }

  const next = frames(socket);
  let auth: { key: Buffer; attributes: StunAttribute[] } | undefined;

  /** Sends one request and reads its answer; `attributes` may depend on the transaction id (XOR addresses). */
  async function exchange(
    type: number,
    attributes: StunAttribute[] | ((transactionId: Uint8Array) => StunAttribute[]),
    key?: Buffer,
  ): Promise<StunMessage> {
    const transactionId = newTransactionId();
    const integrity = key
      ? (bytes: Uint8Array) => new Uint8Array(createHmac("sha1", key).update(bytes).digest())
      : undefined;
    const list = typeof attributes === "function" ? attributes(transactionId) : attributes;
    socket.write(encodeMessage(type, { transactionId, attributes: list, integrity, fingerprint: true }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no TURN answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const answer = decodeMessage(await Promise.race([next(), timeout]));
      if (Buffer.compare(answer.transactionId, transactionId) !== 0) throw new Error("answer to another transaction");
      return answer;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async allocate(username, password, family = 4) {
      const requested: StunAttribute[] = [{ type: Attr.RequestedTransport, value: new Uint8Array([UDP, 0, 0, 0]) }];
      if (family === 6) requested.push({ type: REQUESTED_ADDRESS_FAMILY, value: new Uint8Array([0x02, 0, 0, 0]) });
      let answer = await exchange(MessageType.AllocateRequest, requested);
      // 401 asks for credentials; after they were sent, only 438 (stale nonce) is worth one more try.
      for (let attempt = 0; attempt < 2 && errorOf(answer)?.errorCode === (attempt === 0 ? 401 : 438); attempt++) {
        const realm = findAttribute(answer, Attr.Realm);
        const nonce = findAttribute(answer, Attr.Nonce);
        if (!realm || !nonce) break;
        const key = createHash("md5")
          .update(`${username}:${Buffer.from(realm).toString()}:${password}`)
          .digest();
        const attributes = [
          { type: Attr.Username, value: new TextEncoder().encode(username) },
          { type: Attr.Realm, value: realm },
          { type: Attr.Nonce, value: nonce },
        ];
        answer = await exchange(MessageType.AllocateRequest, [...requested, ...attributes], key);
        if (answer.type === MessageType.AllocateSuccess) {
          auth = { key, attributes };
          const relayed = findAttribute(answer, Attr.XorRelayedAddress);
          const address = relayed ? decodeXorAddress(relayed, answer.transactionId) : undefined;
          return {
            ok: true,
            relayed:
              address &&
              (address.family === "IPv4"
                ? `${address.address}:${address.port}`
                : `[${address.address}]:${address.port}`),
            family: address?.family === "IPv6" ? 6 : 4,
          };
        }
      }
      return { ok: false, ...errorOf(answer) };
    },

    async createPermission(peer) {
      if (!auth) throw new Error("createPermission needs a successful allocate first");
      const { key, attributes } = auth;
      const peerAddress = (transactionId: Uint8Array) => [
        { type: XOR_PEER_ADDRESS, value: xorAddress(peer, transactionId) },
        ...attributes,
      ];
      const answer = await exchange(CREATE_PERMISSION_REQUEST, peerAddress, key);
      return answer.type === CREATE_PERMISSION_SUCCESS ? { ok: true } : { ok: false, ...errorOf(answer) };
    },

    tlsVersion: () => (tls ? ((socket as ReturnType<typeof connectTls>).getProtocol() ?? null) : null),
    close: () => socket.destroy(),
  };
}

/** One authenticated Allocate on a fresh connection, closed afterwards: a credential check that reads the answer. */
export async function allocateOnce(
  port: number,
  username: string,
  password: string,
  options: { transport?: "tcp" | "tls"; family?: 4 | 6; timeoutMs?: number } = {},
): Promise<AllocateAnswer & { tlsVersion: string | null }> {
  const client = await openTurnClient({ port, transport: options.transport, timeoutMs: options.timeoutMs });
  try {
    return { ...(await client.allocate(username, password, options.family)), tlsVersion: client.tlsVersion() };
  } finally {
    client.close();
  }
}

function errorOf(message: StunMessage): Omit<TurnAnswer, "ok"> | undefined {
  const value = findAttribute(message, Attr.ErrorCode);
  if (!value) return undefined;
  const { code, reason } = decodeErrorCode(value);
  return { errorCode: code, reason };
}

/** XOR-PEER-ADDRESS for `address` (port 9, discard: the port plays no part in a permission). */
function xorAddress(address: string, transactionId: Uint8Array): Uint8Array {
  const { family, value } = parseIp(address);
  const size = family === 4 ? 4 : 16;
  const out = new Uint8Array(4 + size);
  const view = new DataView(out.buffer);
  view.setUint8(1, family === 4 ? 0x01 : 0x02);
  view.setUint16(2, 9 ^ (MAGIC_COOKIE >>> 16));
  const mask = concat(new Uint8Array([0x21, 0x12, 0xa4, 0x42]), transactionId);
  for (let i = 0; i < size; i++) {
    const byte = Number((value >> BigInt(8 * (size - 1 - i))) & 0xffn);
    out[4 + i] = byte ^ mask[i]!;
  }
  return out;
}

/** Reads whole STUN messages from a stream, in order (TURN over TCP/TLS frames nothing around them). */
function frames(socket: Socket): () => Promise<Uint8Array> {
  let buffer: Uint8Array = new Uint8Array(0);
  let failure: Error | undefined;
  const waiting: Array<{ resolve: (frame: Uint8Array) => void; reject: (error: Error) => void }> = [];
  const ready: Uint8Array[] = [];
  const deliver = () => {
    for (let total = frameLength(buffer); total !== undefined && buffer.length >= total; total = frameLength(buffer)) {
      ready.push(buffer.slice(0, total));
      buffer = buffer.slice(total);
    }
    while (ready.length > 0 && waiting.length > 0) waiting.shift()!.resolve(ready.shift()!);
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = concat(buffer, new Uint8Array(chunk));
    deliver();
  });
  const fail = (error: Error) => {
    failure ??= error;
    for (const entry of waiting.splice(0)) entry.reject(failure);
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("connection closed")));
  return () =>
    new Promise((resolve, reject) => {
      if (ready.length > 0) return resolve(ready.shift()!);
      if (failure) return reject(failure);
      waiting.push({ resolve, reject });
    });
}
