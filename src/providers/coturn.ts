/**
 * coturn (self-hosted, `use-auth-secret`): credentials minted here per request with TURN_SECRET, no HTTP
 * and no cache: it is cheap, and the username carries the caller's user id. With a fleet, the URLs are
 * the nearest healthy nodes' (src/fleet); with every node unhealthy, coturn fails over to the next
 * provider. Without one, TURN_URLS.
 */
import type { TurnConfig } from "../config";
import { issueTurnCredentials, knownTurnCredentials } from "../credentials/issue";
import { providerError } from "./http";
import { credentialIceServers } from "./ice";
import type { Provider } from "./provider";

/** `userHash` is the caller's keyed user-id hash when known (it is the user id with TURN_USER_ID=hash). */
export function coturnProvider(turn: TurnConfig): Provider {
  return {
    name: "coturn",
    async issue({ sub, userHash, ttlSeconds, now, steer }) {
      const issued = await issueTurnCredentials({ sub, userHash }, turn, ttlSeconds, now);
      const expiresAt = issued.expiresAt * 1000;
      const { username, credential } = issued;
      const steered = steer ? await steer() : undefined;
      if (!steered)
        return { iceServers: credentialIceServers(turn.stunUrls, turn.urls, username, credential), expiresAt };
      if (steered.urlGroups.length === 0) throw providerError("coturn", "all_nodes_unhealthy");
      const stun = turn.stunUrls.length > 0 ? [{ urls: turn.stunUrls }] : [];
      return { iceServers: [...stun, ...steered.urlGroups.map((urls) => ({ urls, username, credential }))], expiresAt };
    },
    known({ sub, userHash, ttlSeconds, now, steer }) {
      if (steer) return undefined;
      const issued = knownTurnCredentials({ sub, userHash }, turn, ttlSeconds, now);
      if (!issued) return undefined;
      const { username, credential } = issued;
      return {
        iceServers: credentialIceServers(turn.stunUrls, turn.urls, username, credential),
        expiresAt: issued.expiresAt * 1000,
      };
    },
  };
}
