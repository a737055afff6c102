import { afterEach, describe, expect, it, vi } from "vitest";
import { mintTurnCredential } from "../../../src/credentials/turn-rest";
import { hashedUserId } from "../../../src/credentials/user-id";

// Expected credentials computed independently with OpenSSL:
//   printf %s "$username" | openssl dgst -sha1 -hmac "$secret" -binary | base64
const VECTORS = [
  {
    secret: "icegate-known-answer-secret",
    expiresAt: 1700000000,
    userId: "alice",
    separator: ":",
    username: "1700000000:alice",
    credential: "2Lvde8wPeFIIg89go2o8viNTDG4=",
  },
  {
    secret: "another-secret-0123456789",
    expiresAt: 4102444800,
    userId: "bob@example.com",
    separator: ";",
    username: "4102444800;bob@example.com",
    credential: "Q6+fvhF54shAocCOdEQl6lxI3Ko=",
  },
];

describe("TURN REST API credential minting", () => {
  for (const vector of VECTORS) {
    it(`matches OpenSSL's HMAC-SHA1 for ${vector.username}`, async () => {
      const minted = await mintTurnCredential(vector);
      expect(minted).toEqual({ username: vector.username, credential: vector.credential });
    });
  }

  it("gives a different credential for a different secret", async () => {
    const [a, b] = VECTORS;
    const minted = await mintTurnCredential({ ...a!, secret: b!.secret });
    expect(minted.username).toBe(a!.username);
    expect(minted.credential).not.toBe(a!.credential);
  });
});

describe("work done once per isolate", () => {
  afterEach(() => vi.restoreAllMocks());

  it("signs a username once: asking again within the same expiry second reuses the credential", async () => {
    const sign = vi.spyOn(crypto.subtle, "sign");
    const options = { secret: "memo-secret-0123456789abcdef", expiresAt: 1800000000, userId: "carol", separator: ":" };
    const first = await mintTurnCredential(options);
    const again = await mintTurnCredential(options);
    expect(again).toEqual(first);
    expect(sign).toHaveBeenCalledTimes(1);
    // The next second is a new username, so a new signature.
    await mintTurnCredential({ ...options, expiresAt: options.expiresAt + 1 });
    expect(sign).toHaveBeenCalledTimes(2);
  });

  it("never answers a rotated secret from what it minted under the old one", async () => {
    const [a, b] = VECTORS;
    expect((await mintTurnCredential(a!)).credential).toBe(a!.credential);
    const rotated = await mintTurnCredential({ ...a!, secret: b!.secret });
    expect(rotated.credential).not.toBe(a!.credential);
    // Back to the first secret: still its own, OpenSSL-checked credential.
    expect((await mintTurnCredential(a!)).credential).toBe(a!.credential);
  });

  it("hashes a user id once per key, and a new key gives a new hash", async () => {
    const sign = vi.spyOn(crypto.subtle, "sign");
    const first = await hashedUserId("dave", "hash-key-one-0123456789abcdef");
    expect(await hashedUserId("dave", "hash-key-one-0123456789abcdef")).toBe(first);
    expect(sign).toHaveBeenCalledTimes(1);
    const other = await hashedUserId("dave", "hash-key-two-0123456789abcdef");
    expect(other).toMatch(/^[0-9a-f]{16}$/);
    expect(other).not.toBe(first);
    expect(sign).toHaveBeenCalledTimes(2);
  });
});
