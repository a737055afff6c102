/**
 * The pure part of the connectivity check: which URLs of an `iceServers` list get a probe, over
 * which transport, what a probe reports, and what the page's URL fragment asks for. No DOM here,
 * so the Worker's tests cover it too.
 */
import type { IceServer } from "../client";

export type Transport = "udp" | "tcp" | "tls" | "stun";

/** One server URL to probe, with the credentials of the `IceServer` it came from. */
export interface Target {
  url: string;
  transport: Transport;
  server: IceServer;
}

/**
 * How a browser reaches `url`: `turn:` defaults to UDP, `?transport=tcp` is TCP, and `turns:` is
 * TLS over TCP (browsers have no TURN over DTLS). STUN URLs cannot yield a relay candidate.
 */
export function transportOf(url: string): Transport {
  const scheme = /^([a-z]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "turns") return "tls";
  if (scheme !== "turn") return "stun";
  return /[?&]transport=tcp(&|$)/i.test(url) ? "tcp" : "udp";
}

/** One target per URL, in the order the servers listed them; a URL listed twice is probed once. */
export function targetsOf(iceServers: readonly IceServer[]): Target[] {
  const seen = new Set<string>();
  const targets: Target[] = [];
  for (const server of iceServers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      if (seen.has(url)) continue;
      seen.add(url);
      targets.push({ url, transport: transportOf(url), server });
    }
  }
  return targets;
}

/** What an ICE error code means here; Firefox's `errorText` is always empty, Chromium's terse ("Unauthorized"). */
export const ERROR_MEANINGS: Record<number, string> = {
  401: "the TURN server refused the credential (secret mismatch)",
  701: "the TURN server was not reached",
};

/** "401 Unauthorized: the TURN server refused…", or "401 the TURN server refused…" when the browser gives no text. */
export function describeError(errorCode: number, errorText: string): string {
  const text = errorText.trim().replace(/\.$/, "");
  const meaning = ERROR_MEANINGS[errorCode];
  if (!text) return meaning ? `${errorCode} ${meaning}` : String(errorCode);
  return meaning ? `${errorCode} ${text}: ${meaning}` : `${errorCode} ${text}`;
}

export interface ProbeResult {
  url: string;
  transport: Transport;
  outcome: "pass" | "fail" | "skip";
  /** Milliseconds from setLocalDescription to the first relay candidate. */
  ms?: number;
  /** The relay address the server allocated, as `address:port`. */
  relay?: string;
  /** Why it failed or was skipped. */
  detail?: string;
}

/** STUN URLs get a row, but no probe: relay-only gathering cannot use them. */
export function skipped(target: Target): ProbeResult {
  return { url: target.url, transport: target.transport, outcome: "skip", detail: "STUN only: no relay to test" };
}

/** "2 passed, 1 failed, 1 skipped". */
export function summarize(results: readonly ProbeResult[]): string {
  const count = (outcome: ProbeResult["outcome"]) => results.filter((result) => result.outcome === outcome).length;
  const parts = [`${count("pass")} passed`, `${count("fail")} failed`];
  if (count("skip") > 0) parts.push(`${count("skip")} skipped`);
  return parts.join(", ");
}

export interface FragmentRequest {
  /** A bearer token from `#token=...`; empty when there is none. */
  token: string;
  /** Start at once: a token was given, or `#run` asks for an anonymous run. */
  run: boolean;
}

/**
 * Reads `#token=...&run` style fragments. The fragment never reaches the server or its logs,
 * which is why a token travels there and never in the query string.
 */
export function readFragment(hash: string): FragmentRequest {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token")?.trim() ?? "";
  return { token, run: token !== "" || params.has("run") };
}
