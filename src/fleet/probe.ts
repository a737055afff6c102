/**
 * One health probe of a TURN node from the Worker: a STUN Binding Request over TCP (TLS for
 * turns:) with `connect()` from `cloudflare:sockets`, which is TCP only. The node is healthy when
 * it answers a well-formed Binding success for our transaction id within the timeout.
 * Never throws: every failure is a result with a short error code for the log and KV.
 */
import { bindingRequest, concat, frameLength, headerProblem, readBindingResponse } from "./stun";
import { parseIceUrl } from "./turn-url";

export const DEFAULT_PROBE_TIMEOUT_MS = 3000;
/** A Binding answer is ~100 bytes; anything this long is not one. */
const MAX_ANSWER_BYTES = 2048;

/** `connect` from `cloudflare:sockets`, or a fake of it in tests. */
export type Connect = (address: SocketAddress, options?: SocketOptions) => Socket;

export interface ProbeOptions {
  connect: Connect;
  timeoutMs?: number;
  now?: () => number;
}

/** Why a probe failed: a short code, never a message carrying request or server data. */
export type ProbeError =
  "bad_url" | "connect_failed" | "timeout" | "closed" | "io_error" | `invalid:${string}` | `stun_error:${number}`;

export interface ProbeResult {
  healthy: boolean;
  /** Milliseconds from opening the connection to a valid answer (TCP and TLS setup included). */
  rttMs: number | null;
  error?: ProbeError;
}

const failed = (error: ProbeError): ProbeResult => ({ healthy: false, rttMs: null, error });

export async function probeNode(url: string, options: ProbeOptions): Promise<ProbeResult> {
  const target = parseIceUrl(url);
  if (!target) return failed("bad_url");
  const now = options.now ?? Date.now;
  const started = now();
  let socket: Socket | undefined;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve(failed("timeout")), options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  });
  const exchange = async (): Promise<ProbeResult> => {
    try {
      socket = options.connect(
        { hostname: target.host, port: target.port },
        { secureTransport: target.transport === "tls" ? "on" : "off", allowHalfOpen: false },
      );
      socket.closed.catch(() => {});
      await socket.opened;
    } catch {
      return failed("connect_failed");
    }
    try {
      const { bytes, transactionId } = bindingRequest();
      const writer = socket.writable.getWriter();
      await writer.write(bytes);
      writer.releaseLock();
      const answer = await readMessage(socket.readable);
      if (typeof answer === "string") return failed(answer);
      const result = readBindingResponse(answer, transactionId);
      if (result.kind === "success") return { healthy: true, rttMs: Math.max(0, Math.round(now() - started)) };
      return failed(result.kind === "error" ? `stun_error:${result.code}` : `invalid:${result.problem}`);
    } catch {
      return failed("io_error");
    }
  };
  try {
    return await Promise.race([exchange(), timeout]);
  } finally {
    clearTimeout(timer);
    socket?.close().catch(() => {});
  }
}

/** Reads one STUN message off a byte stream, framed by its length field; or why it could not. */
async function readMessage(readable: ReadableStream): Promise<Uint8Array | "closed" | `invalid:${string}`> {
  const reader = readable.getReader();
  let buffer: Uint8Array = new Uint8Array(0);
  try {
    for (;;) {
      const total = frameLength(buffer);
      if (total !== undefined) {
        const problem = headerProblem(buffer);
        if (problem) return `invalid:${problem}`;
        if (total > MAX_ANSWER_BYTES) return "invalid:too_large";
        if (buffer.length >= total) return buffer.subarray(0, total);
      }
      const chunk: ReadableStreamReadResult<unknown> = await reader.read();
      if (chunk.done) return "closed";
      if (!(chunk.value instanceof Uint8Array)) throw new TypeError("expected bytes");
      buffer = concat(buffer, chunk.value);
    }
  } finally {
    reader.releaseLock();
  }
}
