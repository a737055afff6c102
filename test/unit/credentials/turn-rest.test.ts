import { describe, expect, it } from "vitest";
import { mintTurnCredential } from "../../../src/credentials/turn-rest";

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
