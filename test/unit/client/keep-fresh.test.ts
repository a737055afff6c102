/**
 * Specifications of keepFresh's ICE restarts (src/client/keep.ts), with fake timers, a fake of
 * `GET /api/turn/credentials` and a fake RTCPeerConnection: an EventTarget whose states, stats and
 * descriptions a test sets, recording setConfiguration and restartIce. The real proof is the browser
 * scenarios of test/integration/call-recovery.test.ts; these pin the policy down.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createIceServerClient,
  type FetchLike,
  type IceServerClient,
  type KeepFreshOptions,
  type PeerConfiguration,
  type RestartReason,
  type StatsEntry,
} from "../../../src/client";
import { SETTLE_MS } from "../../../src/client/keep";

const ENDPOINT = "https://icegate.example.test/api/turn/credentials";
const START = Date.UTC(2030, 0, 1);

/** The worker's reply, with a coturn REST username that tells the replies apart. */
function fakeEndpoint(ttl = 3600) {
  let count = 0;
  const fetch: FetchLike = async () => {
    count++;
    const expiry = Math.floor(Date.now() / 1000) + ttl;
    return Response.json({
      iceServers: [{ urls: ["turn:turn.example.test:3478"], username: `${expiry}:user-${count}`, credential: "c" }],
      expiresAt: expiry * 1000,
      ttl,
    });
  };
  return { fetch, requests: () => count };
}

const sdp = (ufrag: string) => ({ sdp: `v=0\r\na=ice-ufrag:${ufrag}\r\na=ice-pwd:x\r\n` });

/** A peer connection as keepFresh sees one: states, descriptions, the selected pair's stats, events. */
class FakePeer extends EventTarget {
  connectionState = "connected";
  signalingState = "stable";
  iceConnectionState = "connected";
  currentRemoteDescription: { sdp: string } | null = sdp("remote-1");
  pendingRemoteDescription: { sdp: string } | null = null;
  configuration: PeerConfiguration = { iceServers: [] };
  /** The selected pair: its candidate types and byte counters. */
  pair = { id: "pair-1", local: "relay", remote: "host", bytesSent: 0, bytesReceived: 0 };
  getConfiguration = () => ({ ...this.configuration });
  setConfiguration = vi.fn((configuration: PeerConfiguration) => void (this.configuration = configuration));
  restartIce = vi.fn();
  getStats = vi.fn(async () => {
    const { id, local, remote, bytesSent, bytesReceived } = this.pair;
    const entries: StatsEntry[] = [
      { id: "t", type: "transport", selectedCandidatePairId: id },
      { id, type: "candidate-pair", localCandidateId: "l", remoteCandidateId: "r", bytesSent, bytesReceived },
      { id: "l", type: "local-candidate", candidateType: local },
      { id: "r", type: "remote-candidate", candidateType: remote },
    ];
    return new Map(entries.map((entry) => [entry.id, entry]));
  });

  ice(state: string): void {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event("iceconnectionstatechange"));
  }

  signaling(state: string): void {
    this.signalingState = state;
    this.dispatchEvent(new Event("signalingstatechange"));
  }

  candidateError(errorCode: number): void {
    this.dispatchEvent(Object.assign(new Event("icecandidateerror"), { errorCode }));
  }

  /** The remote's offer arrives (a restart when its ufrag is new) and is answered. */
  remoteOffer(ufrag: string): void {
    this.pendingRemoteDescription = sdp(ufrag);
    this.signaling("have-remote-offer");
    this.currentRemoteDescription = this.pendingRemoteDescription;
    this.pendingRemoteDescription = null;
    this.signaling("stable");
  }

  /** Our restart offer is answered and ICE connects again. */
  negotiated(): void {
    this.signaling("have-local-offer");
    this.signaling("stable");
    this.ice("connected");
  }

  close(): void {
    this.connectionState = "closed";
    this.signalingState = "closed";
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

const turnUser = (pc: FakePeer) => pc.configuration.iceServers?.[0]?.username?.split(":")[1];

let clients: IceServerClient[] = [];

async function kept(options: KeepFreshOptions & { ttl?: number } = {}) {
  const api = fakeEndpoint(options.ttl);
  const client = createIceServerClient({ endpoint: ENDPOINT, fetch: api.fetch });
  clients.push(client);
  const pc = new FakePeer();
  pc.configuration = { iceServers: await client.getIceServers() };
  const reasons: RestartReason[] = [];
  const stop = client.keepFresh(pc, { onRestart: (reason) => reasons.push(reason), ...options });
  // Past RENEW_REUSE_MS: a renewal now makes a request rather than reusing the reply just received.
  await vi.advanceTimersByTimeAsync(5_000);
  return { api, client, pc, reasons, stop };
}

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  // No random delay: the restart follows its cause at once (random() * JITTER_MS).
  vi.spyOn(Math, "random").mockReturnValue(0);
});

afterEach(() => {
  for (const client of clients) client.close();
  clients = [];
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("keepFresh ahead of expiry", () => {
  // Credentials of 120 s: the refresh comes 60 s (refreshMarginSeconds) before they expire.
  it("applies fresh credentials and restarts ICE when the call is relayed, before the old ones expire", async () => {
    const { pc, reasons } = await kept({ ttl: 120 });
    await vi.advanceTimersByTimeAsync(56_000);
    expect(turnUser(pc)).toBe("user-2");
    expect(pc.restartIce).toHaveBeenCalledOnce();
    expect(reasons).toEqual(["expiry"]);
    // setConfiguration came first: the restart's allocations use the new credentials.
    expect(pc.setConfiguration.mock.invocationCallOrder[0]).toBeLessThan(pc.restartIce.mock.invocationCallOrder[0]!);
    expect(Date.now()).toBeLessThan(START + 120 * 1000);
  });

  it("counts a relay candidate on the remote end as relayed too", async () => {
    const { pc, reasons } = await kept({ ttl: 120 });
    pc.pair = { ...pc.pair, local: "srflx", remote: "relay" };
    await vi.advanceTimersByTimeAsync(56_000);
    expect(reasons).toEqual(["expiry"]);
  });

  it("only applies the credentials when no relay is in use: a direct path does not depend on them", async () => {
    const { pc, reasons } = await kept({ ttl: 120 });
    pc.pair = { ...pc.pair, local: "host", remote: "srflx" };
    await vi.advanceTimersByTimeAsync(56_000);
    expect(turnUser(pc)).toBe("user-2");
    expect(pc.restartIce).not.toHaveBeenCalled();
    expect(reasons).toEqual([]);
  });

  it("with restartIce: false, only applies the credentials, whatever happens to the connection", async () => {
    const { pc, api } = await kept({ restartIce: false, ttl: 120 });
    pc.ice("failed");
    pc.candidateError(401);
    await vi.advanceTimersByTimeAsync(56_000);
    expect(turnUser(pc)).toBe("user-2");
    expect(api.requests()).toBe(2);
    expect(pc.restartIce).not.toHaveBeenCalled();
    expect(pc.getStats).not.toHaveBeenCalled();
  });

  it("leaves the restart to the other end when it restarts first: answering it gathers with the new credentials", async () => {
    vi.mocked(Math.random).mockReturnValue(0.999);
    const { pc, reasons } = await kept({ ttl: 120 });
    await vi.advanceTimersByTimeAsync(55_300);
    expect(turnUser(pc)).toBe("user-2");
    // Within the random delay, the other end's credentials (same second) made it restart.
    pc.remoteOffer("remote-2");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pc.restartIce).not.toHaveBeenCalled();
    expect(reasons).toEqual([]);
  });

  it("still restarts after an answered offer that was no restart (same ice-ufrag)", async () => {
    vi.mocked(Math.random).mockReturnValue(0.999);
    const { pc, reasons } = await kept({ ttl: 120 });
    await vi.advanceTimersByTimeAsync(56_000);
    pc.remoteOffer("remote-1");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reasons).toEqual(["expiry"]);
  });
});

describe("keepFresh after a failure", () => {
  it("restarts with credentials fetched past the cache when ICE stays disconnected beyond the grace", async () => {
    const { pc, api, reasons } = await kept();
    pc.ice("disconnected");
    await vi.advanceTimersByTimeAsync(1_400);
    expect(pc.restartIce).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(200);
    expect(api.requests()).toBe(2);
    expect(turnUser(pc)).toBe("user-2");
    expect(reasons).toEqual(["disconnected"]);
  });

  it("does nothing when ICE reconnects within the grace", async () => {
    const { pc, api } = await kept();
    pc.ice("disconnected");
    await vi.advanceTimersByTimeAsync(1_000);
    pc.ice("connected");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.requests()).toBe(1);
    expect(pc.restartIce).not.toHaveBeenCalled();
  });

  it("restarts at once, with fresh credentials, when ICE fails", async () => {
    const { pc, api, reasons } = await kept();
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(0);
    expect(api.requests()).toBe(2);
    expect(reasons).toEqual(["failed"]);
  });

  it("restarts with fresh credentials when a TURN server refuses the credential in use (401), not for other errors", async () => {
    const { pc, api, reasons } = await kept();
    pc.candidateError(701);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(reasons).toEqual([]);
    pc.candidateError(401);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.requests()).toBe(2);
    expect(turnUser(pc)).toBe("user-2");
    expect(reasons).toEqual(["refused"]);
  });

  it("restarts when traffic stops on a busy connection, before ICE reports anything", async () => {
    const { pc, reasons } = await kept();
    for (let second = 1; second <= 4; second++) {
      pc.pair = { ...pc.pair, bytesSent: second * 1000, bytesReceived: second * 500 };
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(reasons).toEqual([]);
    // The path dies: we keep sending, nothing comes back; ICE still says connected.
    for (let second = 5; second <= 7; second++) {
      pc.pair = { ...pc.pair, bytesSent: second * 1000 };
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(pc.iceConnectionState).toBe("connected");
    expect(reasons).toEqual(["disconnected"]);
  });

  it("leaves a quiet connection alone: nothing sent, nothing received is no stall", async () => {
    const { pc, reasons } = await kept();
    pc.pair = { ...pc.pair, bytesSent: 1000, bytesReceived: 1000 };
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reasons).toEqual([]);
  });

  it("leaves a one-way stream with sparse replies alone (a receiver report every 5 s is no stall)", async () => {
    const { pc, reasons } = await kept();
    for (let second = 1; second <= 30; second++) {
      pc.pair = { ...pc.pair, bytesSent: second * 1000, bytesReceived: Math.floor(second / 5) * 100 };
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(reasons).toEqual([]);
  });

  it("shares one request among connections that fail together", async () => {
    const api = fakeEndpoint();
    const client = createIceServerClient({ endpoint: ENDPOINT, fetch: api.fetch });
    clients.push(client);
    const peers = [new FakePeer(), new FakePeer(), new FakePeer()];
    await client.getIceServers();
    for (const pc of peers) client.keepFresh(pc);
    await vi.advanceTimersByTimeAsync(5_000);
    for (const pc of peers) pc.ice("failed");
    await vi.advanceTimersByTimeAsync(0);
    expect(api.requests()).toBe(2);
    for (const pc of peers) expect(pc.restartIce).toHaveBeenCalledOnce();
  });

  it("gives up after a bounded number of restarts, spaced further and further apart", async () => {
    const { pc, reasons } = await kept();
    const times: number[] = [];
    pc.restartIce.mockImplementation(() => times.push(Date.now()));
    pc.ice("failed");
    for (let i = 0; i < 9; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      // Each restart is negotiated, but ICE never connects: checking, then failed again.
      pc.signaling("have-local-offer");
      pc.signaling("stable");
      pc.ice("checking");
      await vi.advanceTimersByTimeAsync(31_000);
      pc.ice("failed");
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reasons).toEqual(Array(6).fill("failed"));
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps).toEqual([...gaps].sort((a, b) => a - b));
  }, 30_000);

  it("starts over once ICE connects again", async () => {
    const { pc, reasons } = await kept();
    for (let round = 0; round < 10; round++) {
      pc.ice("failed");
      await vi.advanceTimersByTimeAsync(0);
      pc.negotiated();
      await vi.advanceTimersByTimeAsync(60_000);
    }
    expect(reasons).toHaveLength(10);
  });
});

describe("keepFresh never restarts on top of another restart", () => {
  it("waits for an unfinished restart to be negotiated and connected", async () => {
    const { pc, reasons } = await kept();
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(0);
    expect(reasons).toEqual(["failed"]);
    pc.signaling("have-local-offer");
    // The restart's new allocation meets a refusal before it is answered.
    pc.candidateError(401);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(pc.restartIce).toHaveBeenCalledOnce();
    pc.signaling("stable");
    pc.ice("connected");
    await vi.advanceTimersByTimeAsync(0);
    expect(reasons).toEqual(["failed", "refused"]);
  });

  it("gives an unfinished restart a few seconds at most", async () => {
    const { pc, reasons } = await kept();
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(0);
    pc.negotiated();
    pc.ice("checking");
    pc.candidateError(401);
    await vi.advanceTimersByTimeAsync(SETTLE_MS - 100);
    expect(reasons).toEqual(["failed"]);
    await vi.advanceTimersByTimeAsync(200);
    expect(reasons).toEqual(["failed", "refused"]);
  });

  it("never restarts while an offer is outstanding, and restarts once signaling is stable again", async () => {
    const { pc, reasons } = await kept();
    pc.signaling("have-local-offer");
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(pc.restartIce).not.toHaveBeenCalled();
    pc.signaling("stable");
    expect(reasons).toEqual(["failed"]);
  });

  it("does not restart after answering the other end's restart (two ends' credentials expired in the same second)", async () => {
    vi.mocked(Math.random).mockReturnValue(0.5);
    const { pc, reasons } = await kept();
    pc.ice("disconnected");
    await vi.advanceTimersByTimeAsync(1_500);
    // Fresh credentials are in; during the random delay the other end's restart offer arrives.
    expect(turnUser(pc)).toBe("user-2");
    pc.remoteOffer("remote-2");
    pc.ice("connected");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reasons).toEqual([]);
  });
});

describe("keepFresh stops", () => {
  it("when the connection closes: no more stats, timers or restarts", async () => {
    const { pc, client } = await kept();
    await vi.advanceTimersByTimeAsync(3_000);
    pc.close();
    const polls = pc.getStats.mock.calls.length;
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(pc.getStats).toHaveBeenCalledTimes(polls);
    expect(pc.restartIce).not.toHaveBeenCalled();
    client.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("when its stop function is called", async () => {
    const { pc, stop } = await kept();
    stop();
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(3600 * 1000);
    expect(pc.restartIce).not.toHaveBeenCalled();
    expect(pc.setConfiguration).not.toHaveBeenCalled();
  });

  it("when the client closes", async () => {
    const { pc, client } = await kept();
    client.close();
    expect(vi.getTimerCount()).toBe(0);
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pc.restartIce).not.toHaveBeenCalled();
  });

  it("and survives an onRestart callback that throws", async () => {
    const { pc } = await kept({
      onRestart: () => {
        throw new Error("app bug");
      },
    });
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(0);
    pc.negotiated();
    pc.ice("failed");
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pc.restartIce).toHaveBeenCalledTimes(2);
  });
});
