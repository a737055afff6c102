/**
 * What browsers accept in an RTCIceServer, as one set of pure rules (libwebrtc's ice_server_parsing.cc
 * and Firefox's `_validateIceServers`): one URL that breaks them makes `new RTCPeerConnection()` throw
 * for the whole list. Every URL that can reach a client passes here: TURN_URLS, STUN_URLS,
 * EXPRESSTURN_SERVER_URL, fleet node URLs and every provider reply. `isPublicHost` is the fleet's
 * extra rule (no private or special IP literal, no localhost). A problem is a short code for logs
 * and 503 messages, never the URL itself.
 */

export type IceScheme = "stun" | "stuns" | "turn" | "turns";

/** The connectivity class of a URL, the unit MAX_ICE_URLS shapes by. */
export type IceUrlClass = "turn-udp" | "turn-tls" | "turn-tcp" | "stun";

export interface IceUrlParts {
  scheme: IceScheme;
  /** Lowercased; an IPv6 literal keeps its brackets. */
  host: string;
  port: number;
  class: IceUrlClass;
}

/** Longest username browsers take (Chrome 509 bytes, Firefox 512). */
export const MAX_USERNAME_BYTES = 509;
const MAX_URL_LENGTH = 512;

/** scheme : host [: port] [? query], nothing else (no userinfo, no path, no fragment). */
const SHAPE = /^([A-Za-z]+):(\[[^\]/?#@]*\]|[^:/?#@[\]]*)(?::([^/?#@]*))?(?:\?(.*))?$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The parts of a URL browsers accept, or the reason they would refuse it (`scheme`, `query`, …). */
export function parseIceUrlParts(url: string): IceUrlParts | string {
  if (url.length > MAX_URL_LENGTH) return "too_long";
  if (url.includes("@")) return "userinfo";
  const match = SHAPE.exec(url);
  if (!match) return "syntax";
  const [, scheme = "", rawHost = "", rawPort, query] = match;
  if (scheme !== "stun" && scheme !== "stuns" && scheme !== "turn" && scheme !== "turns") return "scheme";
  const host = rawHost.toLowerCase();
  if (!isValidHost(host)) return "host";
  const secure = scheme === "stuns" || scheme === "turns";
  let port = secure ? 5349 : 3478;
  if (rawPort !== undefined) {
    if (!/^\d{1,5}$/.test(rawPort)) return "port";
    port = Number(rawPort);
    if (port < 1 || port > 65535) return "port";
  }
  // Browsers block port 53, however it is written (`0053` too).
  if (port === 53) return "port_53";
  if (scheme === "stun" || scheme === "stuns") {
    return query === undefined ? { scheme, host, port, class: "stun" } : "query";
  }
  if (query !== undefined && query !== "transport=udp" && query !== "transport=tcp") return "query";
  // A secure URL runs over TLS on TCP; browsers speak no DTLS to a TURN server.
  if (secure) return query === "transport=udp" ? "query" : { scheme, host, port, class: "turn-tls" };
  return { scheme, host, port, class: query === "transport=tcp" ? "turn-tcp" : "turn-udp" };
}

/** Why browsers would refuse `url`, or undefined when they accept it. */
export function iceUrlProblem(url: string): string | undefined {
  const parts = parseIceUrlParts(url);
  return typeof parts === "string" ? parts : undefined;
}

export const isTurnUrl = (url: string) => url.startsWith("turn:") || url.startsWith("turns:");

/** Whether `text` holds a control character (C0 or DEL), which no username or credential may. */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Why a TURN URL's username or credential would be refused: TURN needs both, short, without control characters. */
export function credentialProblem(username: string | undefined, credential: string | undefined): string | undefined {
  if (!username || !credential) return "no_credential";
  if (hasControlCharacter(username) || hasControlCharacter(credential)) return "control_character";
  if (new TextEncoder().encode(username).byteLength > MAX_USERNAME_BYTES) return "username_too_long";
  if (credential.length > 1024) return "credential_too_long";
  return undefined;
}

/** A DNS hostname, a dotted-quad IPv4 literal, or a bracketed IPv6 literal (already lowercased). */
function isValidHost(host: string): boolean {
  if (host.startsWith("[")) return ipv6Words(host.slice(1, -1)) !== undefined;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split(".");
  // A last label of digits is an IPv4 literal or nothing (`1.2.3` is not a hostname).
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return ipv4Bytes(host) !== undefined;
  return labels.every((label) => LABEL.test(label));
}

function ipv4Bytes(text: string): number[] | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const bytes = match.slice(1).map(Number);
  return bytes.every((byte, index) => byte <= 255 && !/^0\d/.test(match[index + 1] ?? "")) ? bytes : undefined;
}

/** The eight 16-bit words of an IPv6 literal (no zone), or undefined. */
function ipv6Words(text: string): number[] | undefined {
  if (!/^[0-9a-f:.]+$/.test(text) || text.split("::").length > 2) return undefined;
  let tail = text;
  const v4: number[] = [];
  const dotted = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bytes = ipv4Bytes(dotted[1] ?? "");
    if (!bytes) return undefined;
    v4.push(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0), ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0));
    tail = text.slice(0, text.length - (dotted[1]?.length ?? 0));
    if (tail.endsWith(":") && !tail.endsWith("::")) tail = tail.slice(0, -1);
  }
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const [head = "", rest] = tail.split("::");
  const before = parse(head);
  const after = rest === undefined ? [] : parse(rest);
  if (![...before, ...after].every((word) => /^[0-9a-f]{1,4}$/.test(word))) return undefined;
  const given = before.length + after.length + v4.length;
  if (rest === undefined ? given !== 8 : given > 7) return undefined;
  const zeros = new Array<number>(8 - given).fill(0);
  return [...before.map((w) => parseInt(w, 16)), ...zeros, ...after.map((w) => parseInt(w, 16)), ...v4];
}

/** IPv4 ranges that are not public (IANA special-purpose registry, RFC 6890, and a cloud platform address), as [a, b, c, d, prefix]. */
const SPECIAL_V4: readonly (readonly [number, number, number, number, number])[] = [
  [0, 0, 0, 0, 8],
  [10, 0, 0, 0, 8],
  [100, 64, 0, 0, 10],
  [127, 0, 0, 0, 8],
  [169, 254, 0, 0, 16],
  [172, 16, 0, 0, 12],
  [192, 0, 0, 0, 24],
  [192, 0, 2, 0, 24],
  [192, 88, 99, 0, 24],
  [192, 168, 0, 0, 16],
  [198, 18, 0, 0, 15],
  [198, 51, 100, 0, 24],
  [203, 0, 113, 0, 24],
  [224, 0, 0, 0, 4],
  [240, 0, 0, 0, 4],
  [168, 63, 129, 16, 32],
];

function isPublicV4(bytes: readonly number[]): boolean {
  const value = bytes.reduce((sum, byte) => sum * 256 + byte, 0);
  return !SPECIAL_V4.some(([a, b, c, d, prefix]) => {
    const base = ((a * 256 + b) * 256 + c) * 256 + d;
    const size = 2 ** (32 - prefix);
    return value >= base && value < base + size;
  });
}

/** Global unicast (2000::/3) minus its special-purpose blocks: 2001::/23, 2001:db8::/32, 2002::/16, 3fff::/20. */
function isPublicV6(words: readonly number[]): boolean {
  const [first = 0, second = 0] = words;
  if ((first & 0xe000) !== 0x2000) return false;
  if (first === 0x2001 && (second < 0x200 || second === 0xdb8)) return false;
  return first !== 0x2002 && (first & 0xfff0) !== 0x3ff0;
}

/** Whether a host (as parsed) names something on the public Internet: a hostname other than localhost, or a public IP. */
export function isPublicHost(host: string): boolean {
  if (host.startsWith("[")) {
    const words = ipv6Words(host.slice(1, -1));
    return words !== undefined && isPublicV6(words);
  }
  const bytes = ipv4Bytes(host);
  if (bytes) return isPublicV4(bytes);
  return host !== "localhost" && !host.endsWith(".localhost") && host.includes(".");
}
