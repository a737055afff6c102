import { afterEach, describe, expect, it, vi } from "vitest";
import { fingerprint, hmacKey, timingSafeEqual } from "../../src/crypto";
import { bearer, call, signToken } from "../support/worker-fetch";

describe("HMAC key cache", () => {
  afterEach(() => vi.restoreAllMocks());

  it("imports a secret's key once and reuses it across requests", async () => {
    const secret = "key-reuse-secret-0001-abcdefgh";
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const token = await signToken();
    for (let i = 0; i < 5; i++)
      expect((await call("/api/turn/credentials", bearer(token), { TURN_SECRET: secret })).status).toBe(200);
    const turnImports = importKey.mock.calls.filter(
      ([, keyData]) => new TextDecoder().decode(keyData as ArrayBuffer) === secret,
    );
    // One SHA-1 key for the credentials, one SHA-256 key for the user-id hash, both imported once.
    expect(turnImports).toHaveLength(2);
  });

  it("never reuses a key across a change of secret", async () => {
    const a = await hmacKey("first-secret-value-0001", "SHA-1");
    const b = await hmacKey("second-secret-value-002", "SHA-1");
    expect(a).not.toBe(b);
    expect(await hmacKey("first-secret-value-0001", "SHA-1")).toBe(a);
  });
});

describe("timingSafeEqual", () => {
  it("tells equal strings from different ones of any length", async () => {
    expect(await timingSafeEqual("same-value", "same-value")).toBe(true);
    expect(await timingSafeEqual("same-value", "same-valuE")).toBe(false);
    expect(await timingSafeEqual("same-value", "same-value-longer")).toBe(false);
    expect(await timingSafeEqual("", "x")).toBe(false);
  });
});

describe("fingerprint", () => {
  it("is short, stable and differs between secrets", async () => {
    expect(await fingerprint("a-secret")).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(await fingerprint("a-secret")).toBe(await fingerprint("a-secret"));
    expect(await fingerprint("a-secret")).not.toBe(await fingerprint("b-secret"));
  });
});
