/**
 * Sentinel secrets and settings for the managed-provider tests. The secrets are distinctive so that
 * a scan of any reply body or log line for them proves nothing leaked; the "next" values stand in
 * for a rotated key.
 */
import type { FakeOptions } from "./providers";
export const PROVIDER_SECRETS = {
  CLOUDFLARE_TURN_API_TOKEN: "sentinel-cloudflare-token-3e9a1b7c5d2f",
  METERED_API_KEY: "sentinel-metered-key-8b4d2e6f1a9c",
  METERED_SECRET_KEY: "sentinel-metered-secret-5c7e9a1b3d40",
  TWILIO_AUTH_TOKEN: "sentinel-twilio-token-2f4a6c8e0b13",
  TWILIO_API_KEY_SECRET: "sentinel-twilio-key-secret-9d1f3b5a",
  EXPRESSTURN_SECRET_KEY: "sentinel-expressturn-7a2c4e6b8d",
} as const;

export const NEXT_SECRETS = {
  CLOUDFLARE_TURN_API_TOKEN: "sentinel-cloudflare-token-next-6a8c0e2b",
  METERED_API_KEY: "sentinel-metered-key-next-1c3e5a7b9d",
} as const;

export const PROVIDER_SETTINGS = {
  CLOUDFLARE_TURN_KEY_ID: "0123456789abcdef0123456789abcdef",
  METERED_DOMAIN: "icegate-test.metered.live",
  TWILIO_ACCOUNT_SID: `AC${"0a1b2c3d".repeat(4)}`,
  TWILIO_API_KEY_SID: `SK${"9f8e7d6c".repeat(4)}`,
  EXPRESSTURN_SERVER_URL: "relay1.expressturn.test",
} as const;

/** The default API URLs the fetch spy answers for (what icegate uses when no *_API_URL is set). */
export const DEFAULT_API_URLS = {
  cloudflare: "https://rtc.live.cloudflare.com/v1",
  metered: `https://${PROVIDER_SETTINGS.METERED_DOMAIN}`,
  twilio: "https://api.twilio.com",
} as const;

/** Env changes that turn on `providers` (e.g. "cloudflare,metered") with the sentinel settings. */
export function providerEnv(
  providers: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    TURN_PROVIDERS: providers,
    CLOUDFLARE_TURN_KEY_ID: PROVIDER_SETTINGS.CLOUDFLARE_TURN_KEY_ID,
    CLOUDFLARE_TURN_API_TOKEN: PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN,
    METERED_DOMAIN: PROVIDER_SETTINGS.METERED_DOMAIN,
    METERED_API_KEY: PROVIDER_SECRETS.METERED_API_KEY,
    TWILIO_ACCOUNT_SID: PROVIDER_SETTINGS.TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: PROVIDER_SECRETS.TWILIO_AUTH_TOKEN,
    EXPRESSTURN_SECRET_KEY: PROVIDER_SECRETS.EXPRESSTURN_SECRET_KEY,
    EXPRESSTURN_SERVER_URL: PROVIDER_SETTINGS.EXPRESSTURN_SERVER_URL,
    ...extra,
  };
}

/** What the fake providers accept: the sentinel keys (and the rotated ones), at `bases`. */
export function defaultFakeOptions(bases: FakeOptions["bases"] = DEFAULT_API_URLS): FakeOptions {
  return {
    bases,
    meteredApiKeys: [PROVIDER_SECRETS.METERED_API_KEY, NEXT_SECRETS.METERED_API_KEY],
    meteredSecretKeys: [PROVIDER_SECRETS.METERED_SECRET_KEY],
    twilioLogins: [
      `${PROVIDER_SETTINGS.TWILIO_ACCOUNT_SID}:${PROVIDER_SECRETS.TWILIO_AUTH_TOKEN}`,
      `${PROVIDER_SETTINGS.TWILIO_API_KEY_SID}:${PROVIDER_SECRETS.TWILIO_API_KEY_SECRET}`,
    ],
  };
}
