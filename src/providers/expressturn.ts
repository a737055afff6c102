/**
 * ExpressTURN: coturn-style TURN REST credentials (`<expiry>:<user>`, HMAC-SHA1) minted here from
 * EXPRESSTURN_SECRET_KEY for EXPRESSTURN_SERVER_URL, with the coturn minting code. No HTTP, no cache.
 * ExpressTURN publishes no document of this scheme; it follows public code that uses it.
 */
import type { TurnConfig } from "../config";
import { issueTurnCredentials } from "../credentials/issue";
import { credentialIceServers } from "./ice";
import type { Provider } from "./provider";
import type { ExpressTurnSettings } from "./settings";

export function expressTurnProvider(settings: ExpressTurnSettings, turn: TurnConfig): Provider {
  const config: TurnConfig = {
    ...turn,
    enabled: true,
    secret: settings.secret,
    urls: settings.urls,
    stunUrls: [],
    separator: ":",
  };
  return {
    name: "expressturn",
    async issue({ sub, ttlSeconds, now }) {
      // The user-id hash is keyed by this provider's own secret, never by TURN_SECRET.
      const issued = await issueTurnCredentials({ sub }, config, ttlSeconds, now);
      return {
        iceServers: credentialIceServers(config.stunUrls, config.urls, issued.username, issued.credential),
        expiresAt: issued.expiresAt * 1000,
      };
    },
  };
}
