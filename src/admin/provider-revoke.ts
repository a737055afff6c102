/**
 * Revocation at the managed providers that support it, for one user's cached credentials (CACHE_SCOPE=user:
 * the KV entries `turn-creds:v1:<provider>:…:user=<hash>`, docs/CACHE.md):
 * - Cloudflare: `POST {api}/turn/keys/{keyId}/credentials/{username}/revoke` with the key's API token (204).
 * - Metered, secret-key mode: `DELETE {api}/api/v1/turn/credential?secretKey=…` with `{"username"}`.
 * Each revoked entry is deleted from KV. With CACHE_SCOPE=global every user shares one credential, which is
 * never revoked here (that would cut everyone off): the caller says so. Never throws; reports per provider.
 */
import { schema } from "../zod";
import { KEY_PREFIX } from "../cache/keys";
import type { Config } from "../config";
import { discardBody } from "../http/body";

export interface ProviderRevocation {
  action: "revoked" | "nothing_cached" | "failed" | "not_revoked";
  /** How many credentials the provider revoked or deleted, of how many found. */
  revoked?: number;
  found?: number;
  note: string;
}

const CachedServers = schema((z) =>
  z.object({ iceServers: z.array(z.object({ username: z.optional(z.string().check(z.maxLength(512))) })) }),
);

/** The usernames in `kv`'s cached entries of `provider` for `userHash`, with their keys. */
async function cachedFor(kv: KVNamespace, provider: string, userHash: string) {
  const keys: string[] = [];
  const usernames = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: `${KEY_PREFIX}${provider}:`, ...(cursor ? { cursor } : {}) });
    for (const key of page.keys) if (key.name.endsWith(`:user=${userHash}`)) keys.push(key.name);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  for (const key of keys) {
    const text = await kv.get(key);
    let parsed;
    try {
      parsed = text === null ? undefined : CachedServers().safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    for (const server of parsed?.success ? parsed.data.iceServers : []) {
      if (server.username) usernames.add(server.username);
    }
  }
  return { keys, usernames: [...usernames] };
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<number> {
  try {
    const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    discardBody(response);
    return response.status;
  } catch {
    return 0;
  }
}

/** Revokes `userHash`'s cached Cloudflare and Metered credentials; one report per configured provider. */
export async function revokeAtProviders(
  config: Config,
  kv: KVNamespace,
  userHash: string,
): Promise<Partial<Record<"cloudflare" | "metered", ProviderRevocation>>> {
  const reports: Partial<Record<"cloudflare" | "metered", ProviderRevocation>> = {};
  const { cloudflare, metered, timeoutMs } = config.upstream;
  const perUser = config.cache.scope === "user";
  if (config.providers.includes("cloudflare") && cloudflare) {
    reports.cloudflare = perUser
      ? await revokeEach(kv, "cloudflare", userHash, (username) =>
          call(
            `${cloudflare.apiUrl}/turn/keys/${encodeURIComponent(cloudflare.keyId)}/credentials/${encodeURIComponent(username)}/revoke`,
            { method: "POST", headers: { Authorization: `Bearer ${cloudflare.token}` } },
            timeoutMs,
          ),
        )
      : {
          action: "not_revoked",
          note: "CACHE_SCOPE=global: the shared credential is not revoked",
        };
  }
  if (config.providers.includes("metered") && metered) {
    const secretKey = metered.secretKey;
    reports.metered = !secretKey
      ? {
          action: "not_revoked",
          note: "API key mode: the shared credential is not deleted",
        }
      : !perUser
        ? {
            action: "not_revoked",
            note: "CACHE_SCOPE=global: the shared credential is not deleted",
          }
        : await revokeEach(kv, "metered", userHash, (username) => {
            const url = new URL(`${metered.apiUrl}/api/v1/turn/credential`);
            url.searchParams.set("secretKey", secretKey);
            return call(
              url.toString(),
              { method: "DELETE", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username }) },
              timeoutMs,
            );
          });
  }
  return reports;
}

async function revokeEach(
  kv: KVNamespace,
  provider: "cloudflare" | "metered",
  userHash: string,
  revoke: (username: string) => Promise<number>,
): Promise<ProviderRevocation> {
  let cached;
  try {
    cached = await cachedFor(kv, provider, userHash);
  } catch {
    return { action: "failed", note: "cache unreadable" };
  }
  if (cached.usernames.length === 0) {
    return { action: "nothing_cached", revoked: 0, found: 0, note: "none cached" };
  }
  const statuses = await Promise.all(cached.usernames.map(revoke));
  const revoked = statuses.filter((status) => status >= 200 && status <= 299).length;
  if (revoked === statuses.length) await Promise.all(cached.keys.map((key) => kv.delete(key).catch(() => undefined)));
  return {
    action: revoked === statuses.length ? "revoked" : "failed",
    revoked,
    found: statuses.length,
    note: revoked === statuses.length ? "revoked at the provider" : "the provider refused; use its dashboard",
  };
}
