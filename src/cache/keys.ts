/**
 * The one place TURN_CACHE keys for provider credentials are made (docs/CACHE.md):
 *
 *   turn-creds:v1:<provider>:<fingerprint>:<params>:<scope>
 *
 * `fingerprint` covers the provider's secret and account (API URL, key id), so a rotated key never
 * finds credentials made with the old one; `params` are the request's parameters that shape the
 * reply (ttl, region, flow), sorted; `scope` is `global`, or `user=<user-id hash>` with CACHE_SCOPE=user.
 * No secret, no raw user id.
 */
import { fingerprint } from "../crypto";
import type { CacheIdentity, ProviderName } from "../providers/provider";

export const KEY_PREFIX = "turn-creds:v1:";

export type CacheScope = { kind: "global" } | { kind: "user"; userHash: string };

export async function credentialsKey(
  provider: ProviderName,
  identity: CacheIdentity,
  scope: CacheScope,
): Promise<string> {
  const print = (await fingerprint(identity.material.join("\u0000"))).replace("sha256:", "");
  const params = Object.keys(identity.params)
    .sort()
    .map((name) => `${name}=${encodeURIComponent(identity.params[name] ?? "")}`)
    .join("&");
  const who = scope.kind === "global" ? "global" : `user=${scope.userHash}`;
  return `${KEY_PREFIX}${provider}:${print}:${params}:${who}`;
}
