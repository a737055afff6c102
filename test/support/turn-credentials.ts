/**
 * TURN REST API credentials minted in Node with node:crypto, independently of the worker's
 * WebCrypto code: username `<expiry unix seconds><separator><user>`, password
 * base64(HMAC-SHA1(secret, username)), exactly as coturn checks them with `use-auth-secret`.
 */
import { createHash, createHmac } from "node:crypto";

export interface MintedCredential {
  username: string;
  password: string;
}

export function mintCoturnCredential(
  secret: string,
  user: string,
  options: { ttlSeconds?: number; separator?: string; now?: number } = {},
): MintedCredential {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const username = `${now + (options.ttlSeconds ?? 600)}${options.separator ?? ":"}${user}`;
  const password = createHmac("sha1", secret).update(username).digest("base64");
  return { username, password };
}

/**
 * The public fingerprint of a secret as the worker's /healthz shows it (src/crypto.ts):
 * `sha256:` and the first 12 hex digits of SHA-256 over "icegate-fingerprint/v1", NUL, secret.
 */
export function secretFingerprint(secret: string): string {
  return `sha256:${createHash("sha256").update(`icegate-fingerprint/v1\u0000${secret}`).digest("hex").slice(0, 12)}`;
}
