/**
 * TURN REST API credentials, as coturn checks them with `use-auth-secret`:
 * username = `<expiry unix seconds><separator><user id>`,
 * credential = base64(HMAC-SHA1(secret, username)). Pure apart from WebCrypto.
 */
import { remember, tableFor } from "../bounded";
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

/**
 * Credentials minted in this isolate recently. The username holds the expiry second, so a caller that
 * asks again within the same second gets the same credential without a second HMAC; there is one cache
 * per secret value, so a rotated secret never answers from another's.
 */
const MAX_REMEMBERED = 1024;
const MAX_SECRETS = 4;
/** Secret value → username → credential. */
const minted = new Map<string, Map<string, string>>();

export async function mintTurnCredential(options: MintOptions): Promise<TurnCredential> {
  return rememberedTurnCredential(options) ?? mintNew(options);
}

/** The credential for these options if this isolate minted it recently: no await, no HMAC. */
export function rememberedTurnCredential(options: MintOptions): TurnCredential | undefined {
  const username = `${options.expiresAt}${options.separator}${options.userId}`;
  const credential = minted.get(options.secret)?.get(username);
  return credential === undefined ? undefined : { username, credential };
}

async function mintNew(options: MintOptions): Promise<TurnCredential> {
  const username = `${options.expiresAt}${options.separator}${options.userId}`;
  const credential = toBase64(await hmac(options.secret, "SHA-1", username));
  remember(tableFor(minted, options.secret, MAX_SECRETS), username, credential, MAX_REMEMBERED);
  return { username, credential };
}
