/**
 * RTCIceServer lists as providers send them, and as icegate hands them out. `RtcIceServer` accepts
 * `urls` as a string or a list, or the legacy `url`; `normalizeIceServers` keeps only the URLs browsers
 * accept (url-rules.ts: a TURN URL only with a username and credential), notes why it dropped the others,
 * fails when no TURN URL is left, and gives the list in combined form. `combineIceServers` merges lists:
 * one entry per server and credential, no URL twice, at most `max` entries. `shapeIceServers` keeps at
 * most MAX_ICE_URLS URLs, one per connectivity class first. Every provider answers in combined form
 * (`normalizeIceServers`, `credentialIceServers`), so one provider's answer needs no merging (`servedIceServers`).
 */
import type * as z from "zod/mini";
import { schema } from "../zod";
import type { IceServer } from "../credentials/issue";
import { providerError } from "./http";
import type { ProviderName } from "./provider";
import { credentialProblem, type IceUrlClass, iceUrlProblem, isTurnUrl, parseIceUrlParts } from "./url-rules";

export const RtcIceServer = schema((z) =>
  z.object({
    urls: z.optional(z.union([z.string(), z.array(z.string()).check(z.maxLength(32))])),
    url: z.optional(z.string()),
    username: z.optional(z.string().check(z.maxLength(512))),
    credential: z.optional(z.string().check(z.maxLength(1024))),
  }),
);
export type RtcIceServer = z.infer<ReturnType<typeof RtcIceServer>>;

/** The most distinct reasons one answer notes for the log line. */
const MAX_NOTED = 4;

/**
 * The provider's entries in icegate's shape, or a provider failure `empty` when no usable TURN URL remains.
 * Why a URL was dropped goes to `dropped` (`port_53`, `query`, `no_credential`, …), each reason once.
 */
export function normalizeIceServers(
  provider: ProviderName,
  entries: readonly RtcIceServer[],
  dropped: string[] = [],
): IceServer[] {
  const servers: IceServer[] = [];
  const drop = (reason: string) => {
    if (!dropped.includes(reason) && dropped.length < MAX_NOTED) dropped.push(reason);
  };
  for (const entry of entries) {
    const given = entry.urls ?? entry.url ?? [];
    const credentialIssue = credentialProblem(entry.username, entry.credential);
    const urls = (Array.isArray(given) ? given : [given]).filter((url) => {
      const problem = iceUrlProblem(url) ?? (isTurnUrl(url) ? credentialIssue : undefined);
      if (problem) drop(problem);
      return problem === undefined;
    });
    if (urls.length === 0) continue;
    const server: IceServer = { urls };
    // Only TURN URLs carry a credential: STUN URLs of an entry without a usable one are served bare.
    if (credentialIssue === undefined && urls.some(isTurnUrl)) {
      server.username = entry.username;
      server.credential = entry.credential;
    }
    servers.push(server);
  }
  if (!servers.some((server) => server.urls.some(isTurnUrl))) throw providerError(provider, "empty");
  return combineIceServers([servers], Number.POSITIVE_INFINITY);
}

/** Whether every URL of a list (a KV entry, say) still passes the rules, each TURN URL with its credential. */
export function passesRules(servers: readonly IceServer[]): boolean {
  return servers.every((server) =>
    server.urls.every(
      (url) =>
        iceUrlProblem(url) === undefined &&
        (!isTurnUrl(url) || credentialProblem(server.username, server.credential) === undefined),
    ),
  );
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
export function servedIceServers(
  lists: readonly (readonly IceServer[])[],
  max: number,
  maxUrls = Number.POSITIVE_INFINITY,
): readonly IceServer[] {
  const [only] = lists;
  const combined = lists.length === 1 && only && only.length <= max ? only : combineIceServers(lists, max);
  return shapeIceServers(combined, maxUrls);
}

const CLASS_ORDER: readonly IceUrlClass[] = ["turn-udp", "turn-tls", "turn-tcp"];

interface Candidate {
  url: string;
  entry: number;
  /** TURN host rank, in order of first appearance (the nearest fleet node first); -1 for STUN. */
  node: number;
  class: IceUrlClass;
  port: number;
}

/**
 * At most `maxUrls` URLs, chosen by connectivity class: per TURN host in order (the nearest node
 * first), one TURN/UDP, one TURN/TLS (port 443 first, the port firewalls let through) and one
 * TURN/TCP URL; then one STUN URL; then the rest in order. When the list names more than one TURN
 * host, at least one URL of a second host stays, so a client survives the loss of one node. Entries
 * keep their order and their URLs' order; an entry left without URLs goes.
 */
export function shapeIceServers(servers: readonly IceServer[], maxUrls: number): readonly IceServer[] {
  let total = 0;
  for (const server of servers) total += server.urls.length;
  if (total <= maxUrls) return servers;
  // A cached answer is the same array on every request: shape it once per limit.
  const known = shaped.get(servers);
  if (known?.maxUrls === maxUrls) return known.servers;
  const result = shapeUncached(servers, maxUrls);
  shaped.set(servers, { maxUrls, servers: result });
  return result;
}

const shaped = new WeakMap<readonly IceServer[], { maxUrls: number; servers: readonly IceServer[] }>();

function shapeUncached(servers: readonly IceServer[], maxUrls: number): readonly IceServer[] {
  const nodes = new Map<string, number>();
  const candidates: Candidate[] = [];
  servers.forEach((server, entry) => {
    for (const url of server.urls) {
      const parts = parseIceUrlParts(url);
      if (typeof parts === "string") continue;
      let node = -1;
      if (parts.class !== "stun") {
        node = nodes.get(parts.host) ?? nodes.size;
        nodes.set(parts.host, node);
      }
      candidates.push({ url, entry, node, class: parts.class, port: parts.port });
    }
  });
  const firsts: Candidate[] = [];
  for (let node = 0; node < nodes.size; node++) {
    for (const kind of CLASS_ORDER) {
      const ofClass = candidates.filter((c) => c.node === node && c.class === kind);
      const best = ofClass.find((c) => kind !== "turn-tls" || c.port === 443) ?? ofClass[0];
      if (best) firsts.push(best);
    }
  }
  const stun = candidates.find((c) => c.class === "stun");
  if (stun) firsts.push(stun);
  const ordered = [...firsts, ...candidates.filter((c) => !firsts.includes(c))];
  const chosen = ordered.slice(0, Math.max(1, maxUrls));
  if (nodes.size > 1 && chosen.length > 1 && chosen.every((c) => c.node <= 0)) {
    const second = ordered.find((c) => c.node === 1);
    if (second) chosen[chosen.length - 1] = second;
  }
  const keep = new Set(chosen.map((c) => c.url));
  const result: IceServer[] = [];
  for (const server of servers) {
    const urls = server.urls.filter((url) => keep.has(url));
    if (urls.length > 0) result.push({ ...server, urls });
  }
  return result;
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
