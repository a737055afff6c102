/**
 * A fake `connect()` for probe tests: each connection hands the bytes written to `answer`, and
 * streams back whatever chunks it returns ("hang" never answers, "close" ends the stream);
 * `"refuse"` instead of a function fails every connection as it opens.
 * It records every address dialled, and whether each socket was closed afterwards.
 */
import type { Connect } from "../../../src/fleet/probe";

export type Answer = (request: Uint8Array) => Uint8Array[] | "hang" | "close";

export interface FakeConnect {
  connect: Connect;
  dialled: { hostname: string; port: number; secureTransport: string | undefined }[];
  closed: () => number;
}

export function fakeConnect(answer: Answer | "refuse"): FakeConnect {
  const dialled: FakeConnect["dialled"] = [];
  let closedCount = 0;
  const connect: Connect = (address, options) => {
    dialled.push({ hostname: address.hostname, port: address.port, secureTransport: options?.secureTransport });
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readable = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const writable = new WritableStream<Uint8Array>({
      write(chunk) {
        const reply = answer === "refuse" ? "hang" : answer(chunk);
        if (reply === "hang") return;
        if (reply === "close") return controller.close();
        for (const part of reply) controller.enqueue(part);
      },
    });
    const opened = answer === "refuse" ? Promise.reject(new Error("connection refused")) : Promise.resolve({});
    let resolveClosed!: () => void;
    const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
    const socket: Socket = {
      readable,
      writable,
      opened,
      closed,
      upgraded: false,
      secureTransport: options?.secureTransport === "on" ? "on" : "off",
      async close() {
        closedCount++;
        try {
          controller.close();
        } catch {
          // Already closed.
        }
        resolveClosed();
      },
      startTls() {
        throw new Error("not supported by the fake");
      },
    };
    return socket;
  };
  return { connect, dialled, closed: () => closedCount };
}
