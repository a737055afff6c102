/**
 * One relay probe, in the visitor's browser: a peer connection with `iceTransportPolicy: "relay"`
 * and a single TURN URL gathers candidates (data channel, offer, setLocalDescription) until the
 * first relay candidate (pass), or until gathering ends or the timeout passes without one (fail,
 * with the `icecandidateerror` codes seen, such as 401 or 701).
 */
import { describeError, type ProbeResult, type Target } from "./model";

export const PROBE_TIMEOUT_MS = 8_000;

const hostPort = (address: string | null, port: number | null): string =>
  `${address?.includes(":") ? `[${address}]` : (address ?? "?")}:${port ?? "?"}`;

/** Gathers relay candidates from the target's URL alone, with the username and credential of its server. */
export function probeRelay(target: Target, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const { url, transport, server } = target;
  return new Promise((resolve) => {
    const errors = new Set<string>();
    const failure = (fallback: string): ProbeResult => ({
      url,
      transport,
      outcome: "fail",
      detail: errors.size > 0 ? [...errors].join("; ") : fallback,
    });
    let pc: RTCPeerConnection;
    try {
      pc = new RTCPeerConnection({
        iceServers: [{ urls: url, username: server.username, credential: server.credential }],
        iceTransportPolicy: "relay",
      });
    } catch (error) {
      resolve(failure(error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
      return;
    }
    let settled = false;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pc.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish(failure(`no relay candidate within ${timeoutMs / 1000} s`)), timeoutMs);
    let started = performance.now();
    pc.addEventListener("icecandidateerror", (event) =>
      errors.add(describeError(event.errorCode, event.errorText ?? "")),
    );
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate?.type === "relay") {
        const ms = Math.round(performance.now() - started);
        finish({ url, transport, outcome: "pass", ms, relay: hostPort(candidate.address, candidate.port) });
      } else if (candidate === null) {
        finish(failure("gathering ended without a relay candidate"));
      }
    });
    pc.createDataChannel("icegate-check");
    pc.createOffer()
      .then((offer) => {
        started = performance.now();
        return pc.setLocalDescription(offer);
      })
      .catch((error: unknown) => finish(failure(`could not start gathering: ${String(error)}`)));
  });
}
