/**
 * Revoking a user at the managed providers (issue 18): with CACHE_SCOPE=user, the Cloudflare fake receives
 * exactly `POST …/turn/keys/{keyId}/credentials/{username}/revoke` with the key's token for the user's cached
 * credential, and the Metered fake (secret-key mode) exactly `DELETE /api/v1/turn/credential?secretKey=…` with
 * `{"username"}`; nobody else's credential is touched. With CACHE_SCOPE=global nothing is revoked, and the reply
 * says so.
 */
import { describe, expect, it, vi } from "vitest";
import { clearDenyCache } from "../../../src/admin/deny-list";
import { DEFAULT_API_URLS, PROVIDER_SECRETS, PROVIDER_SETTINGS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask } from "../../support/fakes/requests";
import { call, type EnvChanges, operator } from "../../support/worker-fetch";

interface Backends {
  backends: Record<string, { action: string; revoked?: number; found?: number; note: string }>;
}

/** Answers the revoke and delete calls (the fakes do not know them) and records them; the rest goes to the fakes. */
function recordRevocations(): Request[] {
  const calls: Request[] = [];
  const fakes = vi.mocked(globalThis.fetch).getMockImplementation()!;
  vi.mocked(globalThis.fetch).mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname.endsWith("/revoke") || (request.method === "DELETE" && url.pathname.endsWith("/credential"))) {
      calls.push(request);
      return request.method === "DELETE"
        ? Response.json({ success: true, message: "credential removed" })
        : new Response(null, { status: 204 });
    }
    return fakes(input, init);
  });
  return calls;
}

const revoke = (user: string, changes: EnvChanges) =>
  call(
    "/api/admin/revoke",
    {
      method: "POST",
      headers: { ...(operator().headers as Record<string, string>), "Content-Type": "application/json" },
      body: JSON.stringify({ user }),
    },
    changes,
  );

describe("revoking at the managed providers", () => {
  const providers = useFakeProviders();

  it("Cloudflare: revokes the user's cached credential with the documented call, and only that one", async () => {
    clearDenyCache();
    const env = providerEnv("cloudflare", { CACHE_SCOPE: "user" });
    const mine = await ask(env, { sub: "cf-abuser" });
    const theirs = await ask(env, { sub: "cf-bystander" });
    const username = mine.body.iceServers.find((server) => server.username)!.username!;
    const calls = recordRevocations();
    const response = await revoke("cf-abuser", env);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Backends).backends.cloudflare).toMatchObject({
      action: "revoked",
      revoked: 1,
      found: 1,
    });
    expect(calls.map((request) => `${request.method} ${request.url}`)).toEqual([
      `POST ${DEFAULT_API_URLS.cloudflare}/turn/keys/${PROVIDER_SETTINGS.CLOUDFLARE_TURN_KEY_ID}/credentials/${encodeURIComponent(username)}/revoke`,
    ]);
    expect(calls[0]!.headers.get("Authorization")).toBe(`Bearer ${PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN}`);
    expect(theirs.status).toBe(200);
    expect((await ask(env, { sub: "cf-bystander" })).status).toBe(200);
    expect((await ask(env, { sub: "cf-abuser" })).status).toBe(403);
    expect(providers.fake.unexpected).toEqual([]);
  });

  it("Metered (secret-key mode): deletes the user's credential with DELETE /api/v1/turn/credential", async () => {
    clearDenyCache();
    const env = providerEnv("metered", {
      CACHE_SCOPE: "user",
      METERED_API_KEY: undefined,
      METERED_SECRET_KEY: PROVIDER_SECRETS.METERED_SECRET_KEY,
    });
    const mine = await ask(env, { sub: "metered-abuser" });
    expect(mine.status, mine.text).toBe(200);
    const username = mine.body.iceServers.find((server) => server.username)!.username!;
    const calls = recordRevocations();
    const response = await revoke("metered-abuser", env);
    expect(((await response.json()) as Backends).backends.metered).toMatchObject({ action: "revoked", revoked: 1 });
    expect(calls).toHaveLength(1);
    const url = new URL(calls[0]!.url);
    expect(calls[0]!.method).toBe("DELETE");
    expect(`${url.origin}${url.pathname}`).toBe(`${DEFAULT_API_URLS.metered}/api/v1/turn/credential`);
    expect(url.searchParams.get("secretKey")).toBe(PROVIDER_SECRETS.METERED_SECRET_KEY);
    expect(await calls[0]!.json()).toEqual({ username });
  });

  it("with CACHE_SCOPE=global revokes nothing at the provider, and says the shared credential stays valid", async () => {
    clearDenyCache();
    const env = providerEnv("cloudflare,coturn");
    await ask(env, { sub: "global-abuser" });
    const calls = recordRevocations();
    const { backends } = (await (await revoke("global-abuser", env)).json()) as Backends;
    expect(calls).toEqual([]);
    expect(backends.cloudflare).toMatchObject({ action: "not_revoked" });
    expect(backends.cloudflare!.note).toContain("CACHE_SCOPE=global");
    expect(backends.coturn).toMatchObject({ action: "none" });
  });
});
