/**
 * TURN REST API credentials, as coturn checks them with `use-auth-secret`:
 * username = `<expiry unix seconds><separator><user id>`,
 * credential = base64(HMAC-SHA1(secret, username)). Pure apart from WebCrypto.
 */
import { hmac, toBase64 } from "../crypto";

export interface TurnCredential {
  username: string;
  credential: string;
}

export interface MintOptions {
  secret: string;
  userId: string;
  /** Unix seconds after which coturn refuses new allocations with this credential. */
  expiresAt: number;
  separator: string;
}

export async function mintTurnCredential(options: MintOptions): Promise<TurnCredential> {
  const username = `${options.expiresAt}${options.separator}${options.userId}`;
  const credential = toBase64(await hmac(options.secret, "SHA-1", username));
  return { username, credential };
}
