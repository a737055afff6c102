/**
 * Parses stun:, stuns:, turn: and turns: URIs (RFC 7064, RFC 7065) into what a probe dials:
 * host, port (3478, or 5349 for the secure schemes) and transport. Pure and dependency-free,
 * in TypeScript's erasable subset, so the operator command runs it under Node too.
 */

export type IceScheme = "stun" | "stuns" | "turn" | "turns";

export interface IceTarget {
  scheme: IceScheme;
  /** A hostname or IP address; IPv6 without brackets. */
  host: string;
  port: number;
  /** `tls` for the secure schemes; else the `?transport=` parameter, `udp` when absent. */
  transport: "udp" | "tcp" | "tls";
  /** Whether the URI named its transport explicitly. */
  explicitTransport: boolean;
}

const URI =
  /^(stuns?|turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** The target of an ICE server URI, or undefined when it is not one. */
export function parseIceUrl(url: string): IceTarget | undefined {
  const match = URI.exec(url);
  if (!match) return undefined;
  const scheme = match[1] as IceScheme;
  const secure = scheme === "stuns" || scheme === "turns";
  const port = match[3] === undefined ? (secure ? 5349 : 3478) : Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const named = match[4] as "udp" | "tcp" | undefined;
  // Secure schemes run over TLS (TCP); DTLS is not something browsers or these probes speak.
  if (secure && named === "udp") return undefined;
  if (scheme.startsWith("stun") && named !== undefined) return undefined;
  return {
    scheme,
    host: match[2]!.replace(/^\[(.*)\]$/, "$1"),
    port,
    transport: secure ? "tls" : (named ?? "udp"),
    explicitTransport: named !== undefined,
  };
}
