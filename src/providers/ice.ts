/**
 * RTCIceServer lists as providers send them, and as icegate hands them out. `RtcIceServer` accepts
 * `urls` as a string or a list, or the legacy `url`; `normalizeIceServers` keeps only stun:/turn:/turns:
 * URLs that browsers will use (never port 53, which they block) and fails when no TURN URL is left.
 * `combineIceServers` merges lists: one entry per server and credential, no URL twice, at most `max` entries.
 */
import * as z from "zod/mini";
import { lazy } from "../lazy";
import type { IceServer } from "../credentials/issue";
import { providerError } from "./http";
import type { ProviderName } from "./provider";

const ICE_URL = /^(stun|stuns|turn|turns):[^\s,"']{1,255}$/i;
const TURN_URL = /^turns?:/i;
/** `scheme:host:53`, `scheme:[v6]:53`, optionally followed by `?transport=…`. */
const PORT_53 = /^[a-z]+:(?:\[[^\]]*\]|[^:?/]*):53(?:[?/]|$)/i;

export const RtcIceServer = lazy(() =>
  z.object({
    urls: z.optional(z.union([z.string(), z.array(z.string()).check(z.maxLength(32))])),
    url: z.optional(z.string()),
    username: z.optional(z.string().check(z.maxLength(512))),
    credential: z.optional(z.string().check(z.maxLength(512))),
  }),
);
export type RtcIceServer = z.infer<ReturnType<typeof RtcIceServer>>;

/** The provider's entries in icegate's shape, or a provider failure `empty` when no usable TURN URL remains. */
export function normalizeIceServers(provider: ProviderName, entries: readonly RtcIceServer[]): IceServer[] {
  const servers: IceServer[] = [];
  for (const entry of entries) {
    const given = entry.urls ?? entry.url ?? [];
    const urls = (Array.isArray(given) ? given : [given]).filter((url) => ICE_URL.test(url) && !PORT_53.test(url));
    if (urls.length === 0) continue;
    const server: IceServer = { urls };
    if (entry.username !== undefined) server.username = entry.username;
    if (entry.credential !== undefined) server.credential = entry.credential;
    servers.push(server);
  }
  if (!servers.some((server) => server.urls.some((url) => TURN_URL.test(url)))) throw providerError(provider, "empty");
  return servers;
}

/** The host of a stun:/turn:/turns: URL (`[v6]` kept whole), lowercased. */
const hostOf = (url: string) => (/^[a-z]+:(\[[^\]]*\]|[^:?/]*)/i.exec(url)?.[1] ?? url).toLowerCase();

/**
 * One list from several, in order: URLs of the same host with the same username and credential become
 * one entry (an RTCIceServer may list many URLs: a provider's udp/tcp/tls variants of one server), all
 * credential-less (STUN) URLs one entry, a URL
 * already given is dropped, and past `max` entries the credential-less (STUN) ones go first, then the
 * last ones. Different hosts stay different entries, so a fleet's nearest node and its fallback are two.
 */
export function combineIceServers(lists: readonly (readonly IceServer[])[], max: number): IceServer[] {
  const groups = new Map<string, IceServer>();
  const seen = new Set<string>();
  for (const server of lists.flat()) {
    for (const url of server.urls) {
      if (seen.has(url)) continue;
      seen.add(url);
      // Credential-less (STUN) URLs share one entry; TURN ones group by server and credential.
      const id =
        server.credential === undefined
          ? "stun"
          : `turn\u0000${hostOf(url)}\u0000${server.username ?? ""}\u0000${server.credential}`;
      let group = groups.get(id);
      if (!group) {
        group = { urls: [] };
        if (server.username !== undefined) group.username = server.username;
        if (server.credential !== undefined) group.credential = server.credential;
        groups.set(id, group);
      }
      group.urls.push(url);
    }
  }
  const combined = [...groups.values()];
  while (combined.length > max) {
    const stun = combined.findLastIndex((server) => server.credential === undefined);
    combined.splice(stun >= 0 ? stun : combined.length - 1, 1);
  }
  return combined;
}
