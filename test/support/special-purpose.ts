/**
 * The peer ranges the coturn fleet must never relay to, written down independently of the config template: every
 * entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and updates), multicast, the IPv6
 * encodings of IPv4 addresses, site-local, everything outside IPv6 Global Unicast, and a cloud platform address.
 * test/integration/infrastructure.test.ts checks the rendered config has exactly these lines; deny-list.test.ts
 * proves coturn refuses each of them.
 */
import { cidrRange, formatIp, type IpRange, parseIp } from "./ip-ranges";

export interface DeniedRange {
  cidr: string;
  /** The registry entry (or why a range outside the registries is here). */
  name: string;
  /** The first address of the deny line, where it is not the block's first address. */
  first?: string;
  /** The last address of the deny line, where it is not the block's last address. */
  last?: string;
}

export const DENIED_RANGES: DeniedRange[] = [
  { cidr: "0.0.0.0/8", name: 'IPv4 SPAR "This network"' },
  { cidr: "10.0.0.0/8", name: "IPv4 SPAR Private-Use" },
  { cidr: "100.64.0.0/10", name: "IPv4 SPAR Shared Address Space" },
  { cidr: "127.0.0.0/8", name: "IPv4 SPAR Loopback" },
  { cidr: "169.254.0.0/16", name: "IPv4 SPAR Link Local" },
  { cidr: "172.16.0.0/12", name: "IPv4 SPAR Private-Use" },
  { cidr: "192.0.0.0/24", name: "IPv4 SPAR IETF Protocol Assignments" },
  { cidr: "192.0.2.0/24", name: "IPv4 SPAR Documentation (TEST-NET-1)" },
  { cidr: "192.31.196.0/24", name: "IPv4 SPAR AS112-v4" },
  { cidr: "192.52.193.0/24", name: "IPv4 SPAR AMT" },
  { cidr: "192.88.99.0/24", name: "IPv4 SPAR Deprecated (6to4 Relay Anycast)" },
  { cidr: "192.168.0.0/16", name: "IPv4 SPAR Private-Use" },
  { cidr: "192.175.48.0/24", name: "IPv4 SPAR Direct Delegation AS112 Service" },
  { cidr: "198.18.0.0/15", name: "IPv4 SPAR Benchmarking" },
  { cidr: "198.51.100.0/24", name: "IPv4 SPAR Documentation (TEST-NET-2)" },
  { cidr: "203.0.113.0/24", name: "IPv4 SPAR Documentation (TEST-NET-3)" },
  { cidr: "224.0.0.0/4", name: "IPv4 Multicast Address Space" },
  { cidr: "240.0.0.0/4", name: "IPv4 SPAR Reserved, and Limited Broadcast" },
  { cidr: "168.63.129.16/32", name: "Azure platform address (WireServer)" },
  { cidr: "::1/128", name: "IPv6 SPAR Loopback Address" },
  { cidr: "::/96", name: "IPv4-compatible (deprecated)", first: "::1" },
  { cidr: "::ffff:0:0/96", name: "IPv6 SPAR IPv4-mapped Address" },
  { cidr: "::ffff:0:0:0/96", name: "IPv4-translated (SIIT)" },
  { cidr: "64:ff9b::/96", name: "IPv6 SPAR IPv4-IPv6 Translat." },
  { cidr: "64:ff9b:1::/48", name: "IPv6 SPAR IPv4-IPv6 Translat. (local use)" },
  { cidr: "100::/64", name: "IPv6 SPAR Discard-Only Address Block" },
  { cidr: "100:0:0:1::/64", name: "IPv6 SPAR Dummy IPv6 Prefix" },
  { cidr: "2001::/23", name: "IPv6 SPAR IETF Protocol Assignments" },
  { cidr: "2001:db8::/32", name: "IPv6 SPAR Documentation" },
  { cidr: "2002::/16", name: "IPv6 SPAR 6to4" },
  { cidr: "2620:4f:8000::/48", name: "IPv6 SPAR Direct Delegation AS112 Service" },
  { cidr: "3fff::/20", name: "IPv6 SPAR Documentation" },
  { cidr: "5f00::/16", name: "IPv6 SPAR Segment Routing (SRv6) SIDs" },
  { cidr: "fc00::/7", name: "IPv6 SPAR Unique-Local" },
  { cidr: "fe80::/10", name: "IPv6 SPAR Link-Local Unicast" },
  { cidr: "fec0::/10", name: "site-local (deprecated)" },
  { cidr: "ff00::/8", name: "IPv6 Multicast Address Space" },
  { cidr: "::/3", name: "below 2000::/3 Global Unicast", first: "::1" },
  {
    cidr: "4000::/2",
    name: "above 2000::/3 Global Unicast, with 8000::/1",
    last: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  },
];

/** One entry as the deny line's range. */
export function denyRange(range: DeniedRange): IpRange {
  const block = cidrRange(range.cidr);
  return {
    ...block,
    first: range.first ? parseIp(range.first).value : block.first,
    last: range.last ? parseIp(range.last).value : block.last,
  };
}

/** The first and last address a deny line covers, as text. */
export function edges(range: DeniedRange): string[] {
  const { family, first, last } = denyRange(range);
  return first === last ? [formatIp(family, first)] : [formatIp(family, first), formatIp(family, last)];
}
