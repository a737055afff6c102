import { describe, expect, it } from "vitest";
import { referenceCredential } from "../../support/reference-credential";
import { PROVIDER_SECRETS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";

describe("the expressturn provider", () => {
  const providers = useFakeProviders();
  const logs = useLogs();

  it("mints coturn-style credentials from EXPRESSTURN_SECRET_KEY, with no HTTP call and a hashed user id", async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await ask(providerEnv("expressturn"));
    expect(reply.status).toBe(200);
    expect(providers.fake.calls).toHaveLength(0);
    const [server] = reply.body.iceServers;
    expect(reply.body.iceServers).toHaveLength(1);
    // A bare host: UDP and TCP on 3478, and TLS on 443.
    expect(server!.urls).toEqual([
      "turn:relay1.expressturn.test:3478?transport=udp",
      "turn:relay1.expressturn.test:3478?transport=tcp",
      "turns:relay1.expressturn.test:443?transport=tcp",
    ]);
    const [expiry, user] = server!.username!.split(":");
    // The user id a third party sees is a keyed hash, never the caller's sub.
    expect(user).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(reply.body)).not.toContain("user-42");
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    const expected = await referenceCredential({
      secret: PROVIDER_SECRETS.EXPRESSTURN_SECRET_KEY,
      userId: user!,
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
    const userOf = (reply: typeof first) => reply.body.iceServers[0]!.username!.split(":")[1];
    expect(userOf(first)).not.toBe(userOf(second));
    expect(JSON.stringify([first.body, second.body])).not.toMatch(/alice|bob/);
  });

  it("hands out the static EXPRESSTURN_USERNAME and EXPRESSTURN_PASSWORD of the free tier", async () => {
    const reply = await ask(
      providerEnv("expressturn", {
        EXPRESSTURN_SECRET_KEY: undefined,
        EXPRESSTURN_USERNAME: "free-tier-user",
        EXPRESSTURN_PASSWORD: "free-tier-password",
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.iceServers).toEqual([
      {
        urls: [
          "turn:relay1.expressturn.test:3478?transport=udp",
          "turn:relay1.expressturn.test:3478?transport=tcp",
          "turns:relay1.expressturn.test:443?transport=tcp",
        ],
        username: "free-tier-user",
        credential: "free-tier-password",
      },
    ]);
    expect(providers.fake.calls).toHaveLength(0);
  });

  it("needs EXPRESSTURN_PASSWORD with EXPRESSTURN_USERNAME", async () => {
    const reply = await ask(
      providerEnv("expressturn", { EXPRESSTURN_SECRET_KEY: undefined, EXPRESSTURN_USERNAME: "free-tier-user" }),
    );
    expect(reply.status).toBe(503);
    expect(reply.text).toContain("EXPRESSTURN_PASSWORD");
  });
});
