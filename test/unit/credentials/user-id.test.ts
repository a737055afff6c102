/**
 * TURN user ids are injective: two callers never share one, so coturn's per-user quota (user-quota)
 * is never one caller's to use up for another. Through the real routes, in workerd.
 */
import { describe, expect, it } from "vitest";
import { MAX_USER_ID_LENGTH, turnUserId } from "../../../src/credentials/user-id";
import { TEST_SECRETS } from "../../support/test-env";
import { bearer, call, signToken } from "../../support/worker-fetch";

const [KEY_ONE, KEY_TWO] = TEST_SECRETS.TURN_REST_API_KEYS.split(",") as [string, string];
const SAFE = /^[A-Za-z0-9._@+-]+$/;

interface CredentialsBody {
  iceServers: { username?: string }[];
}

/** The TURN user id the worker issues to a token with this `sub`. */
async function userIdOf(sub: string, env: Record<string, string | undefined> = {}): Promise<string> {
  const response = await call("/api/turn/credentials", bearer(await signToken({ sub })), env);
  expect(response.status).toBe(200);
  const username = (await response.json<CredentialsBody>()).iceServers.find((server) => server.username)!.username!;
  return username.slice(username.indexOf(":") + 1);
}

async function restUserId(query: string): Promise<string> {
  const response = await call(`/api/turn/rest?service=turn&${query}`);
  expect(response.status).toBe(200);
  const { username } = await response.json<{ username: string }>();
  return username.slice(username.indexOf(":") + 1);
}

describe("TURN user ids", () => {
  it("keep a sub that is already safe as it is", async () => {
    expect(await userIdOf("alice@example.test")).toBe("alice@example.test");
    expect(await userIdOf("user-42")).toBe("user-42");
  });

  it("give subjects whose safe forms are equal different ids: bob:smith, bob smith, bob_smith", async () => {
    const ids = await Promise.all(["bob:smith", "bob smith", "bob/smith", "bob_smith"].map((sub) => userIdOf(sub)));
    expect(new Set(ids).size).toBe(4);
    expect(ids[3]).toBe("bob_smith");
    for (const id of ids.slice(0, 3)) {
      expect(id).toMatch(/^bob_smith\+[0-9a-f]{16}$/);
      expect(id).toMatch(SAFE);
    }
  });

  it("give subjects that differ only after 64 characters, or only in non-ASCII letters, different ids", async () => {
    const long = "a".repeat(80);
    const ids = await Promise.all([`${long}-one`, `${long}-two`, "zoë", "zoé", "zo_"].map((sub) => userIdOf(sub)));
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(MAX_USER_ID_LENGTH);
      expect(id).toMatch(SAFE);
    }
  });

  it("never let a token claim a reserved id, or pass for another subject's hashed form", async () => {
    const anonymousId = await (async () => {
      const response = await call("/api/turn/credentials", {}, { ALLOW_ANONYMOUS: "true" });
      const username = (await response.json<CredentialsBody>()).iceServers[1]!.username!;
      return username.slice(username.indexOf(":") + 1);
    })();
    const restId = await restUserId(`key=${KEY_ONE}`);
    const byToken = await Promise.all(["anonymous", "rest", anonymousId, restId].map((sub) => userIdOf(sub)));
    for (const id of byToken) {
      expect(id).not.toBe("anonymous");
      expect(id).not.toBe("rest");
      expect(id).not.toBe(anonymousId);
      expect(id).not.toBe(restId);
    }
    const hashedBob = await userIdOf("bob smith");
    expect(await userIdOf(hashedBob)).not.toBe(hashedBob);
  });

  it("give REST calls without a username one id per REST key, and never one a token can have", async () => {
    const one = await restUserId(`key=${KEY_ONE}`);
    const two = await restUserId(`key=${KEY_TWO}`);
    expect(one).toMatch(/^rest\+[0-9a-f]{16}$/);
    expect(two).toMatch(/^rest\+[0-9a-f]{16}$/);
    expect(one).not.toBe(two);
    expect(await restUserId(`key=${KEY_ONE}`)).toBe(one);
    // A REST username is used like a token's sub.
    expect(await restUserId(`key=${KEY_ONE}&username=janus-room-7`)).toBe("janus-room-7");
    expect(await restUserId(`key=${KEY_ONE}&username=rest`)).not.toBe("rest");
  });

  it("with TURN_USER_ID=hash, keep anonymous, REST-key and token callers apart", async () => {
    const env = { TURN_USER_ID: "hash", ALLOW_ANONYMOUS: "true" };
    const token = await userIdOf("anonymous", env);
    const response = await call("/api/turn/credentials", {}, env);
    const username = (await response.json<CredentialsBody>()).iceServers[1]!.username!;
    expect(token).toMatch(/^[0-9a-f]{16}$/);
    expect(username.slice(username.indexOf(":") + 1)).not.toBe(token);
  });

  it("hash with the given subject hash only when the safe form differs (pure function)", () => {
    expect(turnUserId("carol", ":", "0123456789abcdef")).toBe("carol");
    expect(turnUserId("carol:x", ":", "0123456789abcdef")).toBe("carol_x+0123456789abcdef");
    expect(turnUserId("carol;x", ";", "0123456789abcdef")).toBe("carol_x+0123456789abcdef");
    expect(turnUserId("c".repeat(64), ":", "0123456789abcdef")).toBe("c".repeat(64));
    expect(turnUserId("c".repeat(65), ":", "0123456789abcdef")).toBe(`${"c".repeat(47)}+0123456789abcdef`);
  });
});
