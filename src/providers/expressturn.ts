/**
 * ExpressTURN, in one of two modes. Static (EXPRESSTURN_USERNAME, EXPRESSTURN_PASSWORD): the account's
 * fixed credentials, as its free tier gives them. HMAC (EXPRESSTURN_SECRET_KEY): coturn-style TURN REST
 * credentials (`<expiry>:<user>`, HMAC-SHA1) minted here with the coturn minting code; ExpressTURN
 * publishes no document of this scheme, it follows public code that uses it. The user id sent to this
 * third party is always the keyed hash, never the caller's `sub`. No HTTP, no cache.
 */
import type { TurnConfig } from "../config";
import { issueTurnCredentials } from "../credentials/issue";
import { credentialIceServers } from "./ice";
import type { Provider } from "./provider";
import type { ExpressTurnSettings } from "./settings";

export function expressTurnProvider(settings: ExpressTurnSettings, turn: TurnConfig): Provider {
  if (settings.mode === "static") {
    const { username, password, urls } = settings;
    return {
      name: "expressturn",
      async issue({ ttlSeconds, now }) {
        return { iceServers: credentialIceServers([], urls, username, password), expiresAt: now + ttlSeconds * 1000 };
      },
    };
  }
  const config: TurnConfig = {
    ...turn,
    enabled: true,
    secret: settings.secret,
    urls: settings.urls,
    stunUrls: [],
    separator: ":",
    userIdMode: "hash",
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
