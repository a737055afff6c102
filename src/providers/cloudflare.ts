/**
 * Cloudflare Realtime TURN: `POST {api}/turn/keys/{key id}/credentials/generate-ice-servers` with the
 * key's API token and `{"ttl":N}`, answered 201 `{"iceServers":[…]}` (the legacy endpoint's single
 * object is accepted too). Port-53 URLs are dropped by normalizeIceServers. The reply has no ttl:
 * credentials expire at request time + the ttl asked for, at most 48 h.
 */
import { schema } from "../zod";
import { fetchJson, parseReply } from "./http";
import { normalizeIceServers, RtcIceServer } from "./ice";
import type { Provider } from "./provider";
import type { CloudflareSettings } from "./settings";

export const CLOUDFLARE_MAX_TTL_SECONDS = 48 * 3600;

export const CloudflareIceServersReply = schema((z) =>
  z.object({
    iceServers: z.union([z.array(RtcIceServer()).check(z.maxLength(32)), RtcIceServer()]),
  }),
);

export function cloudflareProvider(settings: CloudflareSettings): Provider {
  const url = `${settings.apiUrl}/turn/keys/${encodeURIComponent(settings.keyId)}/credentials/generate-ice-servers`;
  const ttlFor = (ttlSeconds: number) => Math.min(ttlSeconds, CLOUDFLARE_MAX_TTL_SECONDS);
  return {
    name: "cloudflare",
    cacheIdentity: (ttlSeconds) => ({
      material: [settings.apiUrl, settings.keyId, settings.token],
      params: { ttl: String(ttlFor(ttlSeconds)) },
    }),
    async issue({ ttlSeconds, perUserId, now, signal }) {
      const ttl = ttlFor(ttlSeconds);
      const body = await fetchJson({
        provider: "cloudflare",
        url,
        init: {
          method: "POST",
          headers: { Authorization: `Bearer ${settings.token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ ttl, customIdentifier: perUserId }),
        },
        signal,
      });
      const { iceServers } = parseReply("cloudflare", CloudflareIceServersReply(), body);
      const entries = Array.isArray(iceServers) ? iceServers : [iceServers];
      const dropped: string[] = [];
      return { iceServers: normalizeIceServers("cloudflare", entries, dropped), expiresAt: now + ttl * 1000, dropped };
    },
  };
}
