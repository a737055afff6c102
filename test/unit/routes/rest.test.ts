import { describe, expect, it } from "vitest";
import { CLOUDFLARE_TURN_URLS } from "../../support/fakes/cloudflare";
import { providerEnv } from "../../support/fakes/env";
import { useFakeProviders } from "../../support/fakes/fetch-spy";
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

describe("the REST route as Janus 1.1.2 calls it", () => {
  const janusParams = (key: string, username = "7571247476884989") =>
    `service=turn&api=${key}&key=${key}&username=${username}`;
  const form = { "Content-Type": "application/x-www-form-urlencoded" };

  it("accepts the same parameters in the query and again as the form body, api equal to key", async () => {
    const response = await call(`/api/turn/rest?${janusParams(KEY_ONE)}`, {
      method: "POST",
      headers: form,
      body: janusParams(KEY_ONE),
    });
    expect(response.status).toBe(200);
    expect((await response.json<RestBody>()).username).toMatch(/^\d+:7571247476884989$/);
  });

  it.each([
    ["a username that differs between query and body", janusParams(KEY_ONE, "one"), janusParams(KEY_ONE, "two")],
    ["a key that differs between query and body", janusParams(KEY_ONE), janusParams(KEY_TWO)],
    ["api unlike key", `service=turn&api=${KEY_ONE}&key=${KEY_TWO}`, ""],
    ["a parameter repeated with two values in the query", `service=turn&key=${KEY_ONE}&key=${KEY_TWO}`, ""],
  ])("refuses %s with 400", async (_, query, body) => {
    const response = await call(`/api/turn/rest?${query}`, { method: "POST", headers: form, body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  });

  it.each(["application/x-www-form-urlencoded; charset=UTF-8", "Application/X-WWW-Form-URLEncoded"])(
    "reads a form body sent as %s",
    async (type) => {
      const response = await call("/api/turn/rest", {
        method: "POST",
        headers: { "Content-Type": type },
        body: `service=turn&key=${KEY_ONE}`,
      });
      expect(response.status).toBe(200);
    },
  );

  it.each(["application/x-www-form-urlencodedXYZ", "text/plain", "application/json"])(
    "does not read a body sent as %s as a form",
    async (type) => {
      const response = await call("/api/turn/rest", {
        method: "POST",
        headers: { "Content-Type": type },
        body: `service=turn&key=${KEY_ONE}`,
      });
      expect(response.status).toBe(400);
    },
  );
});

describe("the REST route as a broker of the providers", () => {
  const providers = useFakeProviders();

  it("serves Cloudflare credentials from the fake in the draft's shape", async () => {
    const response = await call(`/api/turn/rest?service=turn&key=${KEY_ONE}`, {}, providerEnv("cloudflare"));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = await response.json<RestBody>();
    expect(body).toEqual({
      username: "cf-user-1",
      password: "cf-credential-1",
      ttl: 3600,
      // TURN URLs only (draft clients such as Janus skip the rest), at most MAX_ICE_URLS of them.
      uris: [
        "turn:turn.cloudflare.com:3478?transport=udp",
        "turn:turn.cloudflare.com:3478?transport=tcp",
        "turns:turn.cloudflare.com:443?transport=tcp",
      ],
    });
    expect(providers.fake.count("cloudflare")).toBe(1);
  });

  it("asks TURN_REST_PROVIDERS in its own order, apart from TURN_PROVIDERS", async () => {
    const response = await call(
      `/api/turn/rest?service=turn&key=${KEY_ONE}`,
      {},
      providerEnv("coturn", { TURN_REST_PROVIDERS: "cloudflare,coturn", MAX_ICE_URLS: "10" }),
    );
    const body = await response.json<RestBody>();
    expect(body.username).toBe("cf-user-1");
    expect(body.uris).toEqual(CLOUDFLARE_TURN_URLS);
  });

  it("fails over to the next REST provider when one fails", async () => {
    providers.fake.set("cloudflare", "status_500");
    const response = await call(
      `/api/turn/rest?service=turn&key=${KEY_ONE}&username=media-1`,
      {},
      providerEnv("cloudflare,coturn"),
    );
    expect(response.status).toBe(200);
    expect((await response.json<RestBody>()).username).toMatch(/^\d+:media-1$/);
  });

  it("answers 503 upstream_unavailable when no REST provider answers", async () => {
    providers.fake.set("cloudflare", "status_500");
    const response = await call(`/api/turn/rest?service=turn&key=${KEY_ONE}`, {}, providerEnv("cloudflare"));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("upstream_unavailable");
  });
});
