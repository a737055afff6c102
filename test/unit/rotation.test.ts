import { describe, expect, it } from "vitest";
import { fingerprint } from "../../src/crypto";
import { referenceCredential } from "../support/reference-credential";
import { TEST_SECRETS } from "../support/test-env";
import { bearer, call, operator, signToken } from "../support/worker-fetch";

const OLD = TEST_SECRETS.TURN_SECRET;
const NEW = "sentinel-rotated-turn-secret-9f1c2d3e";

interface Body {
  iceServers: { username?: string; credential?: string }[];
}

async function credentialUnder(secret: string) {
  const response = await call("/api/turn/credentials", bearer(await signToken()), { TURN_SECRET: secret });
  expect(response.status).toBe(200);
  const turn = ((await response.json()) as Body).iceServers.find((server) => server.username)!;
  const [expiry] = turn.username!.split(":");
  const recompute = (s: string) =>
    referenceCredential({ secret: s, userId: "user-42", expiresAt: Number(expiry), separator: ":" });
  return { turn, underOld: (await recompute(OLD)).credential, underNew: (await recompute(NEW)).credential };
}

describe("rotating TURN_SECRET with `wrangler secret put` (no redeploy of code)", () => {
  it("mints under the new secret only, from the very next request, with no cached key or credential from the old", async () => {
    const before = await credentialUnder(OLD);
    expect(before.turn.credential).toBe(before.underOld);

    const after = await credentialUnder(NEW);
    expect(after.turn.credential).toBe(after.underNew);
    expect(after.turn.credential).not.toBe(after.underOld);

    // And back: a rollback takes effect just as fast.
    const rolledBack = await credentialUnder(OLD);
    expect(rolledBack.turn.credential).toBe(rolledBack.underOld);
  });

  it("shows the live secret's fingerprint in /healthz, and a staged TURN_SECRET_NEXT next to it", async () => {
    const health = (await (await call("/healthz", operator(), { TURN_SECRET: NEW, TURN_SECRET_NEXT: OLD })).json()) as {
      secrets: Record<string, string>;
    };
    expect(health.secrets.TURN_SECRET).toBe(await fingerprint(NEW));
    expect(health.secrets.TURN_SECRET_NEXT).toBe(await fingerprint(OLD));
  });

  it("never mints with TURN_SECRET_NEXT: it is staged for the fleet only", async () => {
    const response = await call("/api/turn/credentials", bearer(await signToken()), { TURN_SECRET_NEXT: NEW });
    const turn = ((await response.json()) as Body).iceServers.find((server) => server.username)!;
    const [expiry] = turn.username!.split(":");
    const underOld = await referenceCredential({
      secret: OLD,
      userId: "user-42",
      expiresAt: Number(expiry),
      separator: ":",
    });
    expect(turn.credential).toBe(underOld.credential);
  });

  it("accepts tokens signed with AUTH_JWT_SECRET_PREVIOUS while the application rotates its key", async () => {
    const previous = "sentinel-previous-app-signing-key-0123456789ab";
    const next = "sentinel-next-app-signing-key-0123456789abcdef";
    const env = { AUTH_JWT_SECRET: next, AUTH_JWT_SECRET_PREVIOUS: previous };
    expect((await call("/api/turn/credentials", bearer(await signToken({ secret: previous })), env)).status).toBe(200);
    expect((await call("/api/turn/credentials", bearer(await signToken({ secret: next })), env)).status).toBe(200);
    const afterCleanup = { AUTH_JWT_SECRET: next, AUTH_JWT_SECRET_PREVIOUS: undefined };
    expect(
      (await call("/api/turn/credentials", bearer(await signToken({ secret: previous })), afterCleanup)).status,
    ).toBe(401);
  });
});
