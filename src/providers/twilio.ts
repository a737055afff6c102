/**
 * Twilio Network Traversal Service: `POST {api}/2010-04-01/Accounts/{sid}/Tokens.json` with Basic auth
 * (account SID + auth token, or an API key) and the form field `Ttl`, answered 201 with `ice_servers`
 * (entries may carry the legacy `url`) and a `ttl` that is a string (or a number, or null). At most 24 h.
 */
import { schema } from "../zod";
import { fetchJson, parseReply } from "./http";
import { normalizeIceServers, RtcIceServer } from "./ice";
import type { Provider } from "./provider";
import type { TwilioSettings } from "./settings";

export const TWILIO_MAX_TTL_SECONDS = 24 * 3600;

/** Twilio documents the ttl as a string of digits; a number or null is accepted too (null: the ttl asked for). */
const Seconds = schema((z) =>
  z.union([
    z.pipe(z.string().check(z.regex(/^\d{1,9}$/)), z.transform(Number)),
    z.int().check(z.nonnegative()),
    z.null(),
  ]),
);

/** The parts of the reply icegate uses (it also carries account_sid, date_created, username, password). */
export const TwilioToken = schema((z) =>
  z.object({
    ice_servers: z.array(RtcIceServer()).check(z.maxLength(32)),
    ttl: Seconds(),
  }),
);

export function twilioProvider(settings: TwilioSettings): Provider {
  const url = `${settings.apiUrl}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Tokens.json`;
  const ttlFor = (ttlSeconds: number) => Math.min(ttlSeconds, TWILIO_MAX_TTL_SECONDS);
  return {
    name: "twilio",
    cacheIdentity: (ttlSeconds) => ({
      material: [settings.apiUrl, settings.accountSid, settings.username, settings.password],
      params: { ttl: String(ttlFor(ttlSeconds)) },
    }),
    async issue({ ttlSeconds, now, signal }) {
      const ttl = ttlFor(ttlSeconds);
      const body = await fetchJson({
        provider: "twilio",
        url,
        init: {
          method: "POST",
          headers: {
            Authorization: `Basic ${btoa(`${settings.username}:${settings.password}`)}`,
            "Content-Type": "application/x-www-form-urlencoded",
          },
          body: new URLSearchParams({ Ttl: String(ttl) }).toString(),
        },
        signal,
      });
      const token = parseReply("twilio", TwilioToken(), body);
      const seconds = Math.min(ttl, token.ttl ?? ttl);
      const dropped: string[] = [];
      const iceServers = normalizeIceServers("twilio", token.ice_servers, dropped);
      return { iceServers, expiresAt: now + seconds * 1000, dropped };
    },
  };
}
