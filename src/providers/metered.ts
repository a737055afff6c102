/**
 * Metered: `GET {api}/api/v1/turn/credentials?apiKey=…[&region=…]` answers a bare RTCIceServer array
 * whose credentials do not expire, so it is cached for METERED_CACHE_SECONDS. With METERED_SECRET_KEY,
 * each lifetime gets its own expiring credential: `POST /api/v1/turn/credential?secretKey=…` with
 * `{"expiryInSeconds","label"}` returns an apiKey, whose list the GET then fetches. A 401
 * (`{"error":"Invalid API Key"}`) is the reason `invalid_key`; the secret-key endpoints' 400
 * (`{"message": …}`) is `invalid_secret_key`.
 */
import { schema } from "../zod";
import { fetchJson, parseReply } from "./http";
import { normalizeIceServers, RtcIceServer } from "./ice";
import type { Provider } from "./provider";
import type { MeteredSettings } from "./settings";

export const MeteredIceServers = schema((z) => z.array(RtcIceServer()).check(z.maxLength(32)));

/** The parts of the created credential icegate uses (it also carries username, password and label). */
export const MeteredCredential = schema((z) =>
  z.object({
    expiryInSeconds: z.int().check(z.positive()),
    apiKey: z.string().check(z.minLength(1)),
  }),
);

const LABEL = "icegate";
const statusReason = (status: number) => (status === 401 ? "invalid_key" : undefined);

export function meteredProvider(settings: MeteredSettings): Provider {
  const { apiUrl, secretKey, region } = settings;
  /** Without a secret key the credentials never expire: they are re-fetched after METERED_CACHE_SECONDS. */
  const lifetime = (ttlSeconds: number) => (secretKey ? ttlSeconds : Math.min(ttlSeconds, settings.cacheSeconds));

  async function iceServers(apiKey: string, signal: AbortSignal, dropped: string[]) {
    const url = new URL(`${apiUrl}/api/v1/turn/credentials`);
    url.searchParams.set("apiKey", apiKey);
    if (region) url.searchParams.set("region", region);
    const body = await fetchJson({ provider: "metered", url: url.href, init: {}, signal, statusReason });
    return normalizeIceServers("metered", parseReply("metered", MeteredIceServers(), body), dropped);
  }

  async function createCredential(secret: string, ttlSeconds: number, signal: AbortSignal) {
    const url = new URL(`${apiUrl}/api/v1/turn/credential`);
    url.searchParams.set("secretKey", secret);
    const init = {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ expiryInSeconds: ttlSeconds, label: LABEL }),
    };
    // The secret-key endpoints answer a bad key with 400 {"message": …}.
    const secretReason = (status: number) => (status === 400 ? "invalid_secret_key" : statusReason(status));
    const body = await fetchJson({ provider: "metered", url: url.href, init, signal, statusReason: secretReason });
    return parseReply("metered", MeteredCredential(), body);
  }

  return {
    name: "metered",
    cacheIdentity: (ttlSeconds) => ({
      material: [apiUrl, secretKey ?? settings.apiKey ?? ""],
      params: { flow: secretKey ? "expiring" : "static", region: region ?? "", ttl: String(lifetime(ttlSeconds)) },
    }),
    async issue({ ttlSeconds, now, signal }) {
      const dropped: string[] = [];
      if (!secretKey) {
        return {
          iceServers: await iceServers(settings.apiKey ?? "", signal, dropped),
          expiresAt: now + lifetime(ttlSeconds) * 1000,
          dropped,
        };
      }
      const credential = await createCredential(secretKey, ttlSeconds, signal);
      const seconds = Math.min(ttlSeconds, credential.expiryInSeconds);
      return {
        iceServers: await iceServers(credential.apiKey, signal, dropped),
        expiresAt: now + seconds * 1000,
        dropped,
      };
    },
  };
}
