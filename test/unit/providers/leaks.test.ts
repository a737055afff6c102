/**
 * Across every provider, success and failure: no provider secret, and no credential a provider
 * issued, ever appears in a log line; no provider secret appears in a reply.
 */
import { describe, expect, it } from "vitest";
import type { Behaviour, FakeProvider } from "../../support/fakes/providers";
import { PROVIDER_SECRETS, PROVIDER_SETTINGS, providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
import { ask, useLogs } from "../../support/fakes/requests";

describe("provider secrets and credentials stay out of logs and replies", () => {
  const providers = useFakeProviders();
  const logs = useLogs();

  it("for every provider and every failure", async () => {
    const replies: string[] = [];
    const issued: string[] = [];
    const behaviours: Behaviour[] = ["ok", "legacy", "status_500", "malformed_json", "wrong_schema", "empty"];
    const setups = [
      providerEnv("cloudflare"),
      providerEnv("metered"),
      providerEnv("metered", { METERED_API_KEY: undefined, METERED_SECRET_KEY: PROVIDER_SECRETS.METERED_SECRET_KEY }),
      providerEnv("twilio"),
      providerEnv("twilio", {
        TWILIO_API_KEY_SID: PROVIDER_SETTINGS.TWILIO_API_KEY_SID,
        TWILIO_API_KEY_SECRET: PROVIDER_SECRETS.TWILIO_API_KEY_SECRET,
      }),
      providerEnv("expressturn"),
      providerEnv("cloudflare,metered,twilio", { TURN_PROVIDER_MODE: "merge", CACHE_SCOPE: "user" }),
    ];
    for (const behaviour of behaviours) {
      for (const name of ["cloudflare", "metered", "twilio"] as FakeProvider[]) providers.fake.set(name, behaviour);
      for (const [i, changes] of setups.entries()) {
        const reply = await ask(changes, { sub: `leak-${behaviour}-${i}` });
        replies.push(reply.text);
        if (reply.status === 200) {
          for (const server of reply.body.iceServers) if (server.credential) issued.push(server.credential);
        }
      }
    }
    expect(issued.length).toBeGreaterThan(10);
    const secrets = Object.values(PROVIDER_SECRETS);
    for (const line of logs.lines) for (const value of [...secrets, ...issued]) expect(line).not.toContain(value);
    for (const text of replies) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
