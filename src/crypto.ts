/**
 * Small WebCrypto helpers shared by the credential, auth and health code:
 * cached HMAC keys, constant-time comparison, secret fingerprints and encodings.
 *
 * Caches are keyed by the secret's value (held only in this isolate's memory), so a new
 * value of a secret never reuses a key imported from the old one, and they hold resolved
 * values only, never promises that another request could be waiting on.
 */
import { remember } from "./bounded";

const encoder = new TextEncoder();
const MAX_CACHED = 16;

export type HmacHash = "SHA-1" | "SHA-256";

const hmacKeys = new Map<string, CryptoKey>();

/** An HMAC CryptoKey for `secret`, imported once per isolate and secret value. */
export async function hmacKey(secret: string, hash: HmacHash): Promise<CryptoKey> {
  const id = `${hash}\u0000${secret}`;
  const cached = hmacKeys.get(id);
  if (cached) return cached;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, [
    "sign",
    "verify",
  ]);
  remember(hmacKeys, id, key, MAX_CACHED);
  return key;
}

export async function hmac(secret: string, hash: HmacHash, message: string): Promise<ArrayBuffer> {
  return crypto.subtle.sign("HMAC", await hmacKey(secret, hash), encoder.encode(message));
}

export function toBase64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function toHex(bytes: ArrayBuffer): string {
  let hex = "";
  for (const byte of new Uint8Array(bytes)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares two strings in constant time. Both sides are hashed first, so neither where
 * they differ nor the secret's length shows in the timing.
 */
export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

const fingerprints = new Map<string, string>();

/**
 * A short, public identifier of a secret: `sha256:` and the first 12 hex digits of
 * SHA-256 over a domain-separated input. It tells operators which value is live; it does not
 * help anyone recover a high-entropy secret.
 */
export async function fingerprint(secret: string): Promise<string> {
  const cached = fingerprints.get(secret);
  if (cached) return cached;
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`icegate-fingerprint/v1\u0000${secret}`));
  const value = `sha256:${toHex(digest).slice(0, 12)}`;
  remember(fingerprints, secret, value, MAX_CACHED);
  return value;
}
