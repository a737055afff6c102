/**
 * What the per-provider fakes share: the behaviours a test can ask for, the request as a fake sees
 * it, a source of fresh credentials, and small reply helpers.
 */

export type FakeProvider = "cloudflare" | "metered" | "twilio";

export type Behaviour =
  /** The documented success reply. */
  | "ok"
  /** Cloudflare: `iceServers` as one object. Twilio: entries with the legacy `url` only. */
  | "legacy"
  /** Cloudflare: every URL on port 53. */
  | "only_port_53"
  /** Cloudflare: the earlier URL set, with port-53 URLs. */
  | "older"
  /** Metered: `turns:…:443?transport=tcp`, as dashboard copies show it. */
  | "dashboard"
  /** Twilio: `ttl` as a number, or null. */
  | "ttl_number"
  | "ttl_null"
  /** A reply of hostile URLs and credentials (see hostile.ts). */
  | "hostile"
  | "status_500"
  | "malformed_json"
  | "wrong_schema"
  | "empty"
  /** Metered: 401 `{"error":"Invalid API Key"}` whatever the key. */
  | "invalid_key"
  /** Never answers, until the caller gives up. */
  | "hang";

export interface FakeRequest {
  method: string;
  /** The path below the provider's API base URL. */
  path: string;
  query: URLSearchParams;
  headers: Headers;
  body: string;
}

export interface Issued {
  username: string;
  credential: string;
}

export interface FakeContext {
  behaviour: Behaviour;
  /** New credentials, numbered across all providers: `<prefix>-user-<n>`, `<prefix>-credential-<n>`. */
  issue: (prefix: string) => Issued;
}

/** A reply, or undefined for a request this fake does not recognise (answered 599 and recorded). */
export type FakeHandler = (request: FakeRequest, context: FakeContext) => Response | undefined;

export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
