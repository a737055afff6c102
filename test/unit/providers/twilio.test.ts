import { describe, expect, it } from "vitest";
import { PROVIDER_SECRETS, PROVIDER_SETTINGS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";

const TWILIO_TURN_URLS = [
  "turn:global.turn.twilio.com:3478?transport=udp",
  "turn:global.turn.twilio.com:3478?transport=tcp",
  "turn:global.turn.twilio.com:443?transport=tcp",
];

describe("the twilio provider (Network Traversal Service)", () => {
  const providers = useFakeProviders();
  const logs = useLogs();
  const env = providerEnv("twilio");
  const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

  it("POSTs Ttl with the account's Basic auth and reads the string ttl", async () => {
    const before = Date.now();
    const reply = await ask(env, { query: "?ttl=1200" });
    expect(reply.status).toBe(200);
    expect(providers.fake.calls[0]).toMatchObject({
      method: "POST",
      path: `/2010-04-01/Accounts/${PROVIDER_SETTINGS.TWILIO_ACCOUNT_SID}/Tokens.json`,
      authorization: basic(PROVIDER_SETTINGS.TWILIO_ACCOUNT_SID, PROVIDER_SECRETS.TWILIO_AUTH_TOKEN),
      contentType: "application/x-www-form-urlencoded",
      // The longest lifetime, so that every ?ttl= shares one cached credential.
      body: "Ttl=3600",
    });
    expect(reply.body.iceServers).toEqual([
      { urls: ["stun:global.stun.twilio.com:3478"] },
      { urls: TWILIO_TURN_URLS, username: "twilio-user-1", credential: "twilio-credential-1" },
    ]);
    expect(reply.body.ttl).toBe(1200);
    expect(reply.body.expiresAt).toBeGreaterThanOrEqual(before + 1_200_000);
    expect(logs.requests()[0]).toMatchObject({ status: 200, provider: "twilio" });
  });

  it.each([
    ["a number", "ttl_number"],
    ["null", "ttl_null"],
  ] as const)("accepts the ttl as %s", async (_, behaviour) => {
    providers.fake.set("twilio", behaviour);
    const reply = await ask(env);
    expect(reply.status).toBe(200);
    expect(reply.body.ttl).toBe(3600);
  });

  it("maps the legacy `url` of each entry to `urls`", async () => {
    providers.fake.set("twilio", "legacy");
    const reply = await ask(env);
    expect(reply.body.iceServers[1]).toEqual({
      urls: TWILIO_TURN_URLS,
      username: "twilio-user-1",
      credential: "twilio-credential-1",
    });
  });

  it("authenticates with TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET when they are set", async () => {
    const reply = await ask({
      ...env,
      TWILIO_AUTH_TOKEN: undefined,
      TWILIO_API_KEY_SID: PROVIDER_SETTINGS.TWILIO_API_KEY_SID,
      TWILIO_API_KEY_SECRET: PROVIDER_SECRETS.TWILIO_API_KEY_SECRET,
    });
    expect(reply.status).toBe(200);
    expect(providers.fake.calls[0]!.authorization).toBe(
      basic(PROVIDER_SETTINGS.TWILIO_API_KEY_SID, PROVIDER_SECRETS.TWILIO_API_KEY_SECRET),
    );
  });

  it("never asks for more than Twilio's 24 h", async () => {
    const reply = await ask({ ...env, TURN_TTL_SECONDS: "172800" });
    expect(providers.fake.calls[0]!.body).toBe("Ttl=86400");
    expect(reply.body.ttl).toBe(86400);
  });

  it.each([
    ["refused credentials (401)", { TWILIO_AUTH_TOKEN: "sentinel-twilio-token-wrong-000" }, "ok", "status_401"],
    ["an error status", {}, "status_500", "status_500"],
    ["malformed JSON", {}, "malformed_json", "malformed_json"],
    ["a reply of the wrong shape (ttl a number, no ice_servers)", {}, "wrong_schema", "schema"],
    ["an empty ice_servers", {}, "empty", "empty"],
  ] as const)("treats %s as a provider failure", async (_, changes, behaviour, why) => {
    providers.fake.set("twilio", behaviour);
    const reply = await ask({ ...env, ...changes });
    expect(reply.status).toBe(503);
    expect(logs.requests()[0]!.reason).toBe(`provider:twilio:${why}`);
  });

  it("never returns or logs the auth token", async () => {
    await ask(env);
    expect(logs.lines.join("\n")).not.toContain(PROVIDER_SECRETS.TWILIO_AUTH_TOKEN);
  });
});
