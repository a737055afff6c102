import { describe, expect, it } from "vitest";
import { referenceCredential } from "../../support/reference-credential";
import { call } from "../../support/worker-fetch";
import { TEST_BINDINGS, TEST_SECRETS } from "../../support/test-env";

const [KEY_ONE, KEY_TWO] = TEST_SECRETS.TURN_REST_API_KEYS.split(",") as [string, string];

interface RestBody {
  username: string;
  password: string;
  ttl: number;
  uris: string[];
}

describe("GET|POST /api/turn/rest (draft-uberti-behave-turn-rest-00)", () => {
  it("answers the draft's shape for a valid key", async () => {
    const response = await call(`/api/turn/rest?service=turn&username=media-1&key=${KEY_ONE}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = await response.json<RestBody>();
    expect(Object.keys(body).sort()).toEqual(["password", "ttl", "uris", "username"]);
    expect(body.ttl).toBe(3600);
    expect(body.uris).toEqual(TEST_BINDINGS.TURN_URLS!.split(","));
    const [expiry, user] = body.username.split(":");
    expect(user).toBe("media-1");
    const expected = await referenceCredential({
      secret: TEST_SECRETS.TURN_SECRET,
      userId: "media-1",
      expiresAt: Number(expiry),
      separator: ":",
    });
    expect(body.password).toBe(expected.credential);
  });

  it("accepts every key in TURN_REST_API_KEYS", async () => {
    expect((await call(`/api/turn/rest?service=turn&key=${KEY_TWO}`)).status).toBe(200);
  });

  it("accepts Janus's POST with service=turn&api=KEY in the query and an empty body", async () => {
    const response = await call(`/api/turn/rest?service=turn&api=${KEY_ONE}`, { method: "POST", body: "" });
    expect(response.status).toBe(200);
    expect((await response.json<RestBody>()).username).toMatch(/^\d+:rest\+[0-9a-f]{16}$/);
  });

  it("accepts the parameters as a form body", async () => {
    const response = await call("/api/turn/rest", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `service=turn&api=${KEY_TWO}&username=janus`,
    });
    expect(response.status).toBe(200);
    expect((await response.json<RestBody>()).username).toMatch(/^\d+:janus$/);
  });

  it.each([
    ["a missing key", "/api/turn/rest?service=turn"],
    ["a wrong key", "/api/turn/rest?service=turn&key=sentinel-rest-key-one-5f3a9X"],
    ["a key prefix", `/api/turn/rest?service=turn&key=${KEY_ONE.slice(0, -1)}`],
  ])("refuses %s with 401", async (_, path) => {
    const response = await call(path);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  it("refuses a service other than turn with 400", async () => {
    expect((await call(`/api/turn/rest?service=stun&key=${KEY_ONE}`)).status).toBe(400);
  });

  it("answers 503 not_configured when TURN_REST_API_KEYS is not set", async () => {
    const response = await call(`/api/turn/rest?service=turn&key=${KEY_ONE}`, {}, { TURN_REST_API_KEYS: undefined });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: "not_configured", message: "TURN_REST_API_KEYS is missing or invalid" },
    });
  });
});

describe("the REST route's form body", () => {
  it("is bounded: a body over 4 KiB gets 413", async () => {
    const response = await call("/api/turn/rest", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `service=turn&api=${KEY_ONE}&username=${"a".repeat(5000)}`,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
  });
});
