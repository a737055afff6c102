/**
 * IP address arithmetic for checking coturn's `denied-peer-ip=first-last` lines against CIDR
 * blocks: addresses become bigints, so IPv4 and IPv6 ranges compare exactly.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface IpRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

export function parseIp(text: string): { family: 4 | 6; value: bigint } {
  if (isIPv4(text)) return { family: 4, value: ipv4ToBigInt(text) };
  if (!isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  let groups = text;
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = ipv4ToBigInt(tail);
    groups = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => BigInt(`0x${group}`)));
  const [head = "", rest] = groups.split("::");
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const all =
    rest === undefined ? left : [...left, ...Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  if (all.length !== 8) throw new Error(`cannot expand IPv6 address: ${text}`);
  return { family: 6, value: all.reduce((sum, group) => (sum << 16n) | group, 0n) };
}

function ipv4ToBigInt(text: string): bigint {
  return text.split(".").reduce((sum, octet) => (sum << 8n) | BigInt(octet), 0n);
}

/** The first and last address of a CIDR block such as `100.64.0.0/10` or `fc00::/7`. */
export function cidrRange(cidr: string): IpRange {
  const [address, prefixText] = cidr.split("/");
  const { family, value } = parseIp(address!);
  const bits = family === 4 ? 32n : 128n;
  const hostBits = bits - BigInt(prefixText ?? bits.toString());
  const mask = (1n << hostBits) - 1n;
  return { family, first: value & ~mask, last: (value & ~mask) | mask };
}

/** A coturn peer range, `ip` or `first-last`, as an inclusive range. */
export function coturnRange(spec: string): IpRange {
  const dash = spec.indexOf("-");
  const first = parseIp(dash < 0 ? spec : spec.slice(0, dash));
  const last = parseIp(dash < 0 ? spec : spec.slice(dash + 1));
  if (first.family !== last.family) throw new Error(`mixed address families in ${spec}`);
  return { family: first.family, first: first.value, last: last.value };
}

export function rangeContains(range: IpRange, address: string): boolean {
  const { family, value } = parseIp(address);
  return family === range.family && range.first <= value && value <= range.last;
}

/** An address as text: dotted IPv4, or IPv6 in full eight groups (no `::` shortening, which tests do not need). */
export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join(".");
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return groups.join(":");
}
