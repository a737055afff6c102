/**
 * The in-page side of the call scenarios (test/integration/call-recovery.test.ts): `installCallHarness`
 * runs in the browser (serialized by page.evaluate, so it references nothing outside itself) and
 * defines `window.callHarness`. A call is two relay-only RTCPeerConnections, each with its own SDK
 * client under keepFresh, connected by in-page signaling with perfect negotiation (the first end
 * impolite, the second polite), and a reliable ordered data channel carrying `{n, t}` every 100 ms.
 * The receiving end records every arrival and every break in the numbering.
 */

export interface CallOptions {
  name: string;
  /** The SDK's endpoint for this call. */
  endpoint: string;
  /** keepFresh's option; false reproduces the SDK before ICE restarts. */
  restartIce: boolean;
}

export interface CallReport {
  name: string;
  /** When the data channel opened, ms after the call started; undefined while it has not. */
  openedAfterMs?: number;
  sent: number;
  received: number;
  /** Breaks in the numbering at the receiver: "expected 5, got 7". */
  breaks: string[];
  /** A data channel end closed. */
  closed: string[];
  restarts: { at: number; end: string; reason: string }[];
  /** The TURN usernames of every credentials reply, in order, with their expiresAt. */
  credentials: { at: number; end: string; username: string; expiresAt: number }[];
  /** ICE candidate errors (code and URL), signaling errors. */
  errors: string[];
  /** ICE connection states as they came: "offerer disconnected +1234" (ms after the call started). */
  states: string[];
  /** Send time of the newest message received, and when it arrived. */
  lastSentAt: number;
  lastArrivalAt: number;
  /** The longest time between two arrivals after `since` (or since `since` itself, for the first). */
  longestGapMs: number;
  /** From `since` to the arrival that ended that longest gap: when messages flowed again. */
  resumedAfterMs: number;
  now: number;
}

export interface CallHarness {
  start(options: CallOptions): Promise<void>;
  report(name: string, since: number): CallReport;
  now(): number;
  stop(name: string): void;
}

declare global {
  interface Window {
    callHarness: CallHarness;
  }
}

export function installCallHarness(): void {
  /** A call's state in the page: what its report carries, and what the report is computed from. */
  interface Call extends Pick<
    CallReport,
    "sent" | "received" | "breaks" | "closed" | "restarts" | "credentials" | "errors" | "states" | "lastSentAt"
  > {
    started: number;
    opened?: number;
    expected: number;
    arrivals: number[];
    stop: () => void;
  }
  const calls = new Map<string, Call>();

  async function start({ name, endpoint, restartIce }: CallOptions): Promise<void> {
    const call: Call = {
      started: Date.now(),
      sent: 0,
      received: 0,
      expected: 0,
      breaks: [],
      closed: [],
      restarts: [],
      credentials: [],
      errors: [],
      states: [],
      arrivals: [],
      lastSentAt: 0,
      stop: () => undefined,
    };
    calls.set(name, call);

    /** An SDK client whose fetch records the username and expiry of each reply. */
    const clientFor = (end: string) =>
      (window as unknown as { icegate: typeof import("../../src/client") }).icegate.createIceServerClient({
        endpoint,
        fallbackIceServers: [],
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          const body = (await response.clone().json()) as {
            iceServers?: { username?: string }[];
            expiresAt?: number;
          };
          const username = body.iceServers?.find((server) => server.username)?.username;
          if (username) call.credentials.push({ at: Date.now(), end, username, expiresAt: body.expiresAt ?? 0 });
          return response;
        },
      });

    const ends = ["offerer", "answerer"] as const;
    const clients = ends.map(clientFor);
    const pcs = await Promise.all(
      clients.map(
        async (client) =>
          new RTCPeerConnection({ iceServers: await client.getIceServersOrThrow(), iceTransportPolicy: "relay" }),
      ),
    );

    // In-page signaling with perfect negotiation: messages go through an ordered queue per direction.
    const handlers: ((message: {
      description?: RTCSessionDescriptionInit;
      candidate?: RTCIceCandidateInit;
    }) => Promise<void>)[] = [];
    const queues = [Promise.resolve(), Promise.resolve()];
    const send = (to: number, message: Parameters<(typeof handlers)[number]>[0]) => {
      queues[to] = queues[to]!.then(() => new Promise((resolve) => setTimeout(resolve, 5)))
        .then(() => handlers[to]!(message))
        .catch((error: unknown) => void call.errors.push(`signaling ${ends[to]}: ${String(error)}`));
    };
    pcs.forEach((pc, index) => {
      const polite = index === 1;
      const other = 1 - index;
      let makingOffer = false;
      let ignoreOffer = false;
      pc.onnegotiationneeded = async () => {
        try {
          makingOffer = true;
          await pc.setLocalDescription();
          send(other, { description: pc.localDescription!.toJSON() });
        } catch (error) {
          call.errors.push(`negotiation ${ends[index]}: ${String(error)}`);
        } finally {
          makingOffer = false;
        }
      };
      pc.onicecandidate = ({ candidate }) => candidate && send(other, { candidate: candidate.toJSON() });
      pc.addEventListener("iceconnectionstatechange", () =>
        call.states.push(`${ends[index]} ${pc.iceConnectionState} +${Date.now() - call.started}`),
      );
      pc.addEventListener("icecandidateerror", (event) => {
        const { errorCode, url } = event as RTCPeerConnectionIceErrorEvent;
        call.errors.push(`${ends[index]} ${errorCode} ${url}`);
      });
      handlers[index] = async ({ description, candidate }) => {
        if (description) {
          const collision = description.type === "offer" && (makingOffer || pc.signalingState !== "stable");
          ignoreOffer = !polite && collision;
          if (ignoreOffer) return;
          await pc.setRemoteDescription(description);
          if (description.type === "offer") {
            await pc.setLocalDescription();
            send(other, { description: pc.localDescription!.toJSON() });
          }
        } else if (candidate) {
          try {
            await pc.addIceCandidate(candidate);
          } catch (error) {
            if (!ignoreOffer) throw error;
          }
        }
      };
    });

    const stops = pcs.map((pc, index) =>
      clients[index]!.keepFresh(pc, {
        restartIce,
        onRestart: (reason) => call.restarts.push({ at: Date.now(), end: ends[index]!, reason }),
      }),
    );

    const channel = pcs[0]!.createDataChannel("numbers");
    channel.onclose = () => call.closed.push(`offerer at ${Date.now()}`);
    pcs[1]!.ondatachannel = ({ channel: incoming }) => {
      incoming.onclose = () => call.closed.push(`answerer at ${Date.now()}`);
      incoming.onmessage = ({ data }) => {
        const { n, t } = JSON.parse(String(data)) as { n: number; t: number };
        if (n !== call.expected) call.breaks.push(`expected ${call.expected}, got ${n}`);
        call.expected = n + 1;
        call.received++;
        call.lastSentAt = t;
        call.arrivals.push(Date.now());
      };
    };
    channel.onopen = () => (call.opened = Date.now());
    const sender = setInterval(() => {
      if (channel.readyState === "open") channel.send(JSON.stringify({ n: call.sent++, t: Date.now() }));
    }, 100);
    call.stop = () => {
      clearInterval(sender);
      stops.forEach((stop) => stop());
      clients.forEach((client) => client.close());
      pcs.forEach((pc) => pc.close());
    };
  }

  function report(name: string, since: number): CallReport {
    const call = calls.get(name)!;
    let longestGapMs = 0;
    let resumedAfterMs = 0;
    let previous = since;
    for (const arrival of call.arrivals) {
      if (arrival < since) continue;
      if (arrival - previous > longestGapMs) {
        longestGapMs = arrival - previous;
        resumedAfterMs = arrival - since;
      }
      previous = arrival;
    }
    return {
      name,
      openedAfterMs: call.opened === undefined ? undefined : call.opened - call.started,
      sent: call.sent,
      received: call.received,
      breaks: [...call.breaks],
      closed: [...call.closed],
      restarts: [...call.restarts],
      credentials: [...call.credentials],
      errors: [...call.errors],
      states: [...call.states],
      lastSentAt: call.lastSentAt,
      lastArrivalAt: call.arrivals.at(-1) ?? 0,
      longestGapMs,
      resumedAfterMs,
      now: Date.now(),
    };
  }

  window.callHarness = {
    start,
    report,
    now: () => Date.now(),
    stop: (name) => calls.get(name)?.stop(),
  };
}
