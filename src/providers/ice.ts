/**
 * RTCIceServer lists as providers send them, and as icegate hands them out. `RtcIceServer` accepts
 * `urls` as a string or a list, or the legacy `url`; `normalizeIceServers` keeps only stun:/turn:/turns:
 * URLs that browsers will use (never port 53, which they block), fails when no TURN URL is left, and gives
 * the list in combined form. `combineIceServers` merges lists: one entry per server and credential, no URL
 * twice, at most `max` entries. Every provider answers in combined form (`normalizeIceServers`,
 * `credentialIceServers`), so one provider's answer needs no merging (`servedIceServers`).
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
  return combineIceServers([servers], Number.POSITIVE_INFINITY);
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

/**
 * The list to hand out from the providers' answers. One answer is already in combined form and is served
 * as it is unless it is too long.
 */
export function servedIceServers(lists: readonly (readonly IceServer[])[], max: number): readonly IceServer[] {
  const [only] = lists;
  return lists.length === 1 && only && only.length <= max ? only : combineIceServers(lists, max);
}

interface Layout {
  stunUrls: readonly string[];
  servers: readonly { urls: readonly string[]; turn: boolean }[];
}

const layouts = new WeakMap<readonly string[], Layout>();

/**
 * One credential's RTCIceServer list for these STUN and TURN URLs, in combined form: the STUN URLs one
 * entry, the TURN URLs one entry per host. How the URLs group is worked out once per list of URLs.
 */
export function credentialIceServers(
  stunUrls: readonly string[],
  turnUrls: readonly string[],
  username: string,
  credential: string,
): IceServer[] {
  let layout = layouts.get(turnUrls);
  if (layout?.stunUrls !== stunUrls) {
    const servers = combineIceServers(
      [[{ urls: [...stunUrls] }, { urls: [...turnUrls], username: "", credential: "" }]],
      Number.POSITIVE_INFINITY,
    ).map((server) => ({ urls: Object.freeze(server.urls), turn: server.credential !== undefined }));
    layout = { stunUrls, servers };
    layouts.set(turnUrls, layout);
  }
  return layout.servers.map((server) =>
    server.turn ? { urls: server.urls as string[], username, credential } : { urls: server.urls as string[] },
  );
}
