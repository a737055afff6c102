/**
 * The ICE-restart policy of keepFresh for one peer connection. The SDK never signals: it calls
 * `pc.restartIce()`, and the application's `negotiationneeded` handler sends the new offer.
 *
 * - Fresh credentials from the client's scheduled refresh go in with `setConfiguration()`; when the
 *   call is relayed (a relay candidate on either end of the selected pair), ICE restarts too, so new
 *   allocations use them (`expiry`).
 * - ICE `disconnected` beyond a short grace, traffic that stopped on a busy connection (the selected
 *   pair's bytesSent grows, bytesReceived does not: faster than Firefox's 6–9 s `disconnected`),
 *   `failed`, or a TURN server's 401 (`refused`): fresh credentials, bypassing the client's cache,
 *   then a restart. Such retries are bounded and back off; reaching `connected` resets them.
 * - Never a restart on top of an unfinished one (until negotiated and connected, or SETTLE_MS), never
 *   outside `stable` signaling, and none when the other end's restart (a new remote ice-ufrag) is
 *   answered after our fresh credentials went in. A random delay keeps two ends from restarting together.
 */
import { cancel, schedule, type Timer } from "./timer";
import type {
  IceServer,
  KeepFreshOptions,
  PeerConnectionLike,
  PeerEventLike,
  RestartReason,
  StatsEntry,
} from "./types";

const GRACE_MS = 1_500;
const JITTER_MS = 1_000;
/** An unfinished restart holds back the next one this long at most. */
export const SETTLE_MS = 3_000;
const POLL_MS = 1_000;
/** Polls without a received byte while sending, after at least FLOW_POLLS polls with traffic both ways. */
const STALL_POLLS = 2;
const FLOW_POLLS = 3;
const MAX_RETRIES = 6;
const BACKOFF_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

export interface Supply {
  /** Fresh servers, bypassing the client's cache; rejects when there are none. */
  renew(): Promise<IceServer[]>;
  /** setConfiguration threw on an open connection. */
  failed(error: unknown): void;
}

export interface Kept {
  /** New credentials from the client; `expiring`: those in use are about to expire. */
  update(iceServers: IceServer[], expiring: boolean): void;
  stop(): void;
}

export const isClosed = (pc: PeerConnectionLike): boolean =>
  pc.connectionState === "closed" || pc.signalingState === "closed";

const ufrag = (description: { sdp: string } | null | undefined): string | undefined =>
  description ? /a=ice-ufrag:(\S+)/.exec(description.sdp)?.[1] : undefined;

const connected = (pc: PeerConnectionLike): boolean => /^(connected|completed)$/.test(pc.iceConnectionState ?? "");

/** The selected candidate pair, and whether either of its candidates is a relay candidate. */
async function selectedPair(pc: PeerConnectionLike): Promise<{ pair?: StatsEntry; relayed: boolean }> {
  const entries = new Map<string, StatsEntry>();
  (await pc.getStats!()).forEach((entry) => entries.set(entry.id, entry));
  let pair: StatsEntry | undefined;
  for (const entry of entries.values()) {
    if (entry.type === "transport" && entry.selectedCandidatePairId) pair = entries.get(entry.selectedCandidatePairId);
  }
  // Firefox has no transport stats: its selected pair says so itself.
  pair ??= [...entries.values()].find((entry) => entry.type === "candidate-pair" && entry.selected);
  const relayed = [pair?.localCandidateId, pair?.remoteCandidateId].some(
    (id) => entries.get(id ?? "")?.candidateType === "relay",
  );
  return { pair, relayed };
}

export function keep(pc: PeerConnectionLike, supply: Supply, options: KeepFreshOptions, onStop: () => void): Kept {
  const restarts = options.restartIce !== false && typeof pc.restartIce === "function";
  let stopped = false;
  let pending: RestartReason | undefined;
  /** Fresh credentials for the pending restart are on their way. */
  let renewing = false;
  /** When the last restart (ours or the other end's) began, and whether it has been negotiated since. */
  let restartAt = 0;
  let negotiated = true;
  let retries = 0;
  let notBefore = 0;
  let timer: Timer | undefined;
  let graceTimer: Timer | undefined;
  let pollTimer: Timer | undefined;
  let remoteUfrag = ufrag(pc.currentRemoteDescription);
  let pairId: string | undefined;
  let sent = 0;
  let received = 0;
  let flowing = 0;
  let silent = 0;
  let busy = false;

  function apply(iceServers: IceServer[]): void {
    if (isClosed(pc)) return stop();
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: [...iceServers] });
    } catch (error) {
      if (isClosed(pc)) return stop();
      supply.failed(error);
    }
  }

  function later(ms: number): void {
    cancel(timer);
    timer = schedule(attempt, ms);
  }

  function attempt(): void {
    if (isClosed(pc)) return stop();
    if (!pending || renewing || pc.signalingState !== "stable") return;
    const now = Date.now();
    const wait = Math.max(notBefore - now, negotiated && connected(pc) ? 0 : restartAt + SETTLE_MS - now);
    if (wait > 0) return later(wait);
    const reason = pending;
    pending = undefined;
    restartAt = now;
    negotiated = false;
    if (reason !== "expiry") {
      retries++;
      notBefore = now + Math.min(BACKOFF_MS * 2 ** retries, BACKOFF_MAX_MS);
    }
    pc.restartIce!();
    try {
      options.onRestart?.(reason);
    } catch {
      // The application's callback must not break keepFresh.
    }
  }

  function want(reason: RestartReason): void {
    pending ??= reason;
    later(Math.random() * JITTER_MS);
  }

  function recover(reason: RestartReason): void {
    if (pending || renewing || retries >= MAX_RETRIES) return;
    pending = reason;
    renewing = true;
    supply
      .renew()
      .then(apply, () => undefined)
      .finally(() => {
        renewing = false;
        if (!stopped) want(reason);
      });
  }

  function poll(): void {
    pollTimer = schedule(() => {
      if (isClosed(pc)) return stop();
      selectedPair(pc)
        .then(({ pair }) => {
          if (!pair || pair.id !== pairId || !connected(pc) || !negotiated) {
            pairId = pair?.id;
            flowing = silent = 0;
          } else if ((pair.bytesReceived ?? 0) > received) {
            flowing++;
            silent = 0;
          } else {
            // Busy: something came in each poll just before this silence began.
            if (!silent) busy = flowing >= FLOW_POLLS;
            flowing = 0;
            if ((pair.bytesSent ?? 0) > sent && ++silent >= STALL_POLLS && busy) {
              silent = 0;
              recover("disconnected");
            }
          }
          sent = pair?.bytesSent ?? 0;
          received = pair?.bytesReceived ?? 0;
        })
        .catch(() => undefined)
        .finally(() => stopped || poll());
    }, POLL_MS);
  }

  const listeners: Record<string, (event: PeerEventLike) => void> = {
    iceconnectionstatechange() {
      const state = pc.iceConnectionState;
      cancel(graceTimer);
      if (state === "failed") recover("failed");
      else if (state === "disconnected") graceTimer = schedule(() => recover("disconnected"), GRACE_MS);
      else if (connected(pc)) {
        retries = 0;
        attempt();
      } else if (isClosed(pc) || state === "closed") stop();
    },
    signalingstatechange() {
      if (isClosed(pc)) return stop();
      if (pc.signalingState === "stable") {
        negotiated = true;
        remoteUfrag = ufrag(pc.currentRemoteDescription);
        attempt();
      } else if (pc.signalingState === "have-remote-offer") {
        const offered = ufrag(pc.pendingRemoteDescription);
        if (offered && remoteUfrag && offered !== remoteUfrag) {
          // The other end restarts: answering it gathers anew with the credentials already applied.
          restartAt = Date.now();
          negotiated = false;
          if (!renewing) pending = undefined;
        }
      }
    },
    icecandidateerror(event) {
      if (event.errorCode === 401) recover("refused");
    },
    connectionstatechange() {
      if (isClosed(pc)) stop();
    },
  };

  function stop(): void {
    if (stopped) return;
    stopped = true;
    [timer, graceTimer, pollTimer].forEach(cancel);
    for (const type in listeners) pc.removeEventListener?.(type, listeners[type]!);
    onStop();
  }

  if (restarts) {
    for (const type in listeners) pc.addEventListener?.(type, listeners[type]!);
    if (pc.getStats) poll();
  }

  return {
    update(iceServers, expiring) {
      apply(iceServers);
      if (!restarts || !expiring || stopped) return;
      // Unknown (no stats, or they failed) counts as relayed: a needless restart costs less than a dropped call.
      (pc.getStats ? selectedPair(pc).then(({ pair, relayed }) => relayed || !pair) : Promise.resolve(true))
        .catch(() => true)
        .then((relayed) => relayed && !stopped && want("expiry"));
    },
    stop,
  };
}
