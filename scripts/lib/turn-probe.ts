/**
 * STUN and TURN checks from Node for `npm run turn:health`: a Binding Request over UDP
 * (node:dgram, retransmitted as RFC 5389 §7.2.1 asks), TCP (node:net) or TLS (node:tls), and
 * optionally an authenticated TURN Allocate with a TURN REST credential, released at once.
 * The STUN codec is the Worker's own (src/fleet/stun.ts), run by Node's type stripping.
 */
import { createHash, createHmac } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { connect as connectTcp, isIP, type Socket as TcpSocket } from "node:net";
import { connect as connectTls } from "node:tls";
import {
  Attr,
  bindingRequest,
  concat,
  decodeErrorCode,
  decodeMessage,
  decodeXorAddress,
  encodeMessage,
  findAttribute,
  frameLength,
  MessageType,
  newTransactionId,
  readBindingResponse,
  type StunMessage,
} from "../../src/fleet/stun.ts";

export type Transport = "udp" | "tcp" | "tls";

export interface CheckResult {
  ok: boolean;
  rttMs: number | null;
  /** The mapped (Binding) or relayed (Allocate) address on success; the reason on failure. */
  detail: string;
}

/** Sends STUN requests and hands back the answer with the same transaction id. */
interface Channel {
  exchange(bytes: Uint8Array, transactionId: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

const UDP_RETRANSMIT_MS = [500, 1000, 2000, 4000];

/** One Binding Request; ok when a valid success comes back in time. Never throws. */
export async function checkBinding(host: string, port: number, transport: Transport, timeoutMs: number) {
  return withChannel(host, port, transport, timeoutMs, async (channel): Promise<CheckResult> => {
    const started = performance.now();
    const { bytes, transactionId } = bindingRequest();
    const result = readBindingResponse(await channel.exchange(bytes, transactionId), transactionId);
    const rttMs = Math.round(performance.now() - started);
    if (result.kind === "success") {
      const mapped = result.mapped ? formatAddress(result.mapped.address, result.mapped.port) : "no mapped address";
      return { ok: true, rttMs, detail: mapped };
    }
    return { ok: false, rttMs, detail: result.kind === "error" ? `${result.code} ${result.reason}` : result.problem };
  });
}

/**
 * A TURN Allocate (UDP relay) with the long-term credential mechanism, using a TURN REST
 * credential minted here from `secret`: the check that the node accepts the secret.
 * The allocation is released (Refresh, LIFETIME 0) as soon as it is granted.
 */
export async function checkAllocate(
  host: string,
  port: number,
  transport: Transport,
  timeoutMs: number,
  credential: { secret: string; separator: string },
) {
  return withChannel(host, port, transport, timeoutMs, async (channel): Promise<CheckResult> => {
    const started = performance.now();
    const username = `${Math.floor(Date.now() / 1000) + 300}${credential.separator}icegate-turn-health`;
    const password = createHmac("sha1", credential.secret).update(username).digest("base64");
    const requestedTransport = { type: Attr.RequestedTransport, value: new Uint8Array([17, 0, 0, 0]) };
    let answer = await request(channel, MessageType.AllocateRequest, [requestedTransport]);
    // 401 asks for credentials; after we sent them, only 438 (stale nonce) is worth one more try.
    for (let attempt = 0; attempt < 2 && errorOf(answer)?.code === (attempt === 0 ? 401 : 438); attempt++) {
      const realm = findAttribute(answer, Attr.Realm);
      const nonce = findAttribute(answer, Attr.Nonce);
      if (!realm || !nonce) break;
      const auth = longTermAuth(username, password, realm, nonce);
      answer = await request(channel, MessageType.AllocateRequest, [requestedTransport, ...auth.attributes], auth.key);
      if (answer.type === MessageType.AllocateSuccess) {
        const rttMs = Math.round(performance.now() - started);
        const relayed = findAttribute(answer, Attr.XorRelayedAddress);
        const release = [{ type: Attr.Lifetime, value: new Uint8Array(4) }, ...auth.attributes];
        const released = await request(channel, MessageType.RefreshRequest, release, auth.key).catch(() => undefined);
        const address = relayed ? decodeXorAddress(relayed, answer.transactionId) : undefined;
        const detail = [
          address ? `relayed ${formatAddress(address.address, address.port)}` : "allocated",
          released?.type === MessageType.RefreshSuccess ? "released" : "not released (expires by itself)",
        ];
        return { ok: true, rttMs, detail: detail.join(", ") };
      }
    }
    const error = errorOf(answer);
    return { ok: false, rttMs: null, detail: error ? `${error.code} ${error.reason}`.trim() : "unexpected answer" };
  });
}

function longTermAuth(username: string, password: string, realm: Uint8Array, nonce: Uint8Array) {
  const key = createHash("md5")
    .update(`${username}:${Buffer.from(realm).toString()}:${password}`)
    .digest();
  const attributes = [
    { type: Attr.Username, value: new TextEncoder().encode(username) },
    { type: Attr.Realm, value: realm },
    { type: Attr.Nonce, value: nonce },
  ];
  return { key, attributes };
}

async function request(
  channel: Channel,
  type: number,
  attributes: { type: number; value: Uint8Array }[],
  integrityKey?: Buffer,
): Promise<StunMessage> {
  const transactionId = newTransactionId();
  const integrity = integrityKey
    ? (bytes: Uint8Array) => new Uint8Array(createHmac("sha1", integrityKey).update(bytes).digest())
    : undefined;
  const bytes = encodeMessage(type, { transactionId, attributes, integrity, fingerprint: true });
  return decodeMessage(await channel.exchange(bytes, transactionId));
}

function errorOf(message: StunMessage): { code: number; reason: string } | undefined {
  const value = findAttribute(message, Attr.ErrorCode);
  return value ? decodeErrorCode(value) : undefined;
}

/** Opens a channel, runs `check` against the deadline, always closes. Failures become results. */
async function withChannel(
  host: string,
  port: number,
  transport: Transport,
  timeoutMs: number,
  check: (channel: Channel) => Promise<CheckResult>,
): Promise<CheckResult> {
  let channel: Channel | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, rttMs: null, detail: `timeout after ${timeoutMs} ms` }), timeoutMs);
  });
  const run = async (): Promise<CheckResult> => {
    try {
      channel = transport === "udp" ? await udpChannel(host, port) : await streamChannel(host, port, transport);
      return await check(channel);
    } catch (error) {
      return { ok: false, rttMs: null, detail: describeError(error) };
    }
  };
  try {
    return await Promise.race([run(), deadline]);
  } finally {
    clearTimeout(timer);
    channel?.close();
  }
}

async function udpChannel(host: string, port: number): Promise<Channel> {
  const { address, family } = await lookup(host);
  const socket: UdpSocket = createSocket(family === 6 ? "udp6" : "udp4");
  // A connected socket hears ICMP "port unreachable" as ECONNREFUSED, so a closed port fails fast.
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, address, () => resolve());
  });
  const waiting = new Map<string, { resolve: (answer: Uint8Array) => void; reject: (error: Error) => void }>();
  const timers = new Set<NodeJS.Timeout>();
  const settle = (id: string) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    return entry;
  };
  socket.on("message", (message) => {
    const answer = new Uint8Array(message);
    if (answer.length >= 20) settle(key(answer.subarray(8, 20)))?.resolve(answer);
  });
  socket.on("error", (error) => {
    for (const id of [...waiting.keys()]) settle(id)?.reject(error);
  });
  return {
    exchange(bytes, transactionId) {
      return new Promise((resolve, reject) => {
        const mine: NodeJS.Timeout[] = [];
        const done = () => {
          for (const timer of mine) {
            clearTimeout(timer);
            timers.delete(timer);
          }
        };
        waiting.set(key(transactionId), {
          resolve(answer) {
            done();
            resolve(answer);
          },
          reject(error) {
            done();
            reject(error);
          },
        });
        const send = () => socket.send(bytes);
        send();
        let at = 0;
        for (const gap of UDP_RETRANSMIT_MS) mine.push(setTimeout(send, (at += gap)));
        for (const timer of mine) timers.add(timer);
      });
    },
    close: () => {
      for (const timer of timers) clearTimeout(timer);
      socket.close();
    },
  };
}

async function streamChannel(host: string, port: number, transport: "tcp" | "tls"): Promise<Channel> {
  const socket: TcpSocket =
    transport === "tls"
      ? connectTls({ host, port, servername: isIP(host) ? undefined : host, minVersion: "TLSv1.2" })
      : connectTcp({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once(transport === "tls" ? "secureConnect" : "connect", () => resolve());
    socket.once("error", reject);
  });
  let buffer: Uint8Array = new Uint8Array(0);
  let failure: Error | undefined;
  const waiting: ((frame: Uint8Array | Error) => void)[] = [];
  const deliver = () => {
    for (let total = frameLength(buffer); total !== undefined && buffer.length >= total; total = frameLength(buffer)) {
      const frame = buffer.slice(0, total);
      buffer = buffer.slice(total);
      waiting.shift()?.(frame);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    buffer = concat(buffer, new Uint8Array(chunk));
    deliver();
  });
  const fail = (error: Error) => {
    failure = error;
    for (const resolve of waiting.splice(0)) resolve(error);
  };
  socket.on("error", fail);
  socket.on("close", () => fail(new Error("connection closed")));
  return {
    exchange(bytes) {
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        waiting.push((frame) => (frame instanceof Error ? reject(frame) : resolve(frame)));
        socket.write(bytes);
      });
    },
    close: () => socket.destroy(),
  };
}

const key = (transactionId: Uint8Array) => Buffer.from(transactionId).toString("hex");

const formatAddress = (address: string, port: number) =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;

function describeError(error: unknown): string {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}
