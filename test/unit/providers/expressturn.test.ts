import { describe, expect, it } from "vitest";
import { referenceCredential } from "../../support/reference-credential";
import { PROVIDER_SECRETS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";

describe("the expressturn provider", () => {
  const providers = useFakeProviders();
  const logs = useLogs();

  it("mints coturn-style credentials from EXPRESSTURN_SECRET_KEY, with no HTTP call", async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await ask(providerEnv("expressturn"));
    expect(reply.status).toBe(200);
    expect(providers.fake.calls).toHaveLength(0);
    const [server] = reply.body.iceServers;
    expect(reply.body.iceServers).toHaveLength(1);
    expect(server!.urls).toEqual([
      "turn:relay1.expressturn.test:3478",
      "turn:relay1.expressturn.test:3478?transport=tcp",
    ]);
    const [expiry, user] = server!.username!.split(":");
    expect(user).toBe("user-42");
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    const expected = await referenceCredential({
      secret: PROVIDER_SECRETS.EXPRESSTURN_SECRET_KEY,
      userId: "user-42",
      expiresAt: Number(expiry),
      separator: ":",
    });
    expect(server!.credential).toBe(expected.credential);
    expect(reply.body.ttl).toBe(3600);
    expect(logs.requests()[0]).toMatchObject({ provider: "expressturn" });
  });

  it("takes turn:/turns: URIs in EXPRESSTURN_SERVER_URL as they are", async () => {
    const urls = "turn:relay2.expressturn.test:3478,turns:relay2.expressturn.test:5349?transport=tcp";
    const reply = await ask(providerEnv("expressturn", { EXPRESSTURN_SERVER_URL: urls }));
    expect(reply.body.iceServers[0]!.urls).toEqual(urls.split(","));
  });

  it("mints per request: nothing is cached", async () => {
    const first = await ask(providerEnv("expressturn"), { sub: "alice" });
    const second = await ask(providerEnv("expressturn"), { sub: "bob" });
    expect(first.body.iceServers[0]!.username).toMatch(/:alice$/);
    expect(second.body.iceServers[0]!.username).toMatch(/:bob$/);
  });
});
