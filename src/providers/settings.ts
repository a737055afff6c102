/**
 * The vars and secrets of the TURN providers and of the credential cache: a zod shape that
 * config.ts folds into its one schema, the rules that depend on TURN_PROVIDERS (a listed provider's
 * settings are required, the others' ignored), and the typed settings. Only `custom` issues carry a
 * message to the reply (config.ts), so the format checks here carry none.
 */
import type * as z from "zod/mini";
import type { ZodMini } from "../zod";
import { PROVIDER_NAMES, type ProviderName } from "./provider";
import { hasControlCharacter, iceUrlProblem, isTurnUrl } from "./url-rules";

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const secret = (z: ZodMini, minLength: number) =>
  z.optional(z.string().check(z.trim(), z.minLength(minLength), z.maxLength(1024)));

const matching = (z: ZodMini, pattern: RegExp) => z.optional(z.string().check(z.trim(), z.regex(pattern)));

const wholeNumber = (z: ZodMini, fallback: number, min: number, max: number) =>
  z._default(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,7}$/)), z.transform(Number)),
      z.number().check(z.gte(min), z.lte(max)),
    ),
    fallback,
  );

const HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;

/** The providers' vars, as a zod shape for config.ts's schema (built on first use: see src/zod.ts). */
export function providerVarsShape(z: ZodMini) {
  /** https, or http on loopback (local fakes, an egress proxy on the same host); no trailing slash. */
  const apiUrl = z.pipe(
    z.url().check(
      z.refine((value) => {
        const url = new URL(value);
        return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
      }, "must be an https URL"),
    ),
    z.transform((value) => value.replace(/\/+$/, "")),
  );

  /**
   * TURN URIs, or a bare host as ExpressTURN publishes it: turn:HOST:3478 over UDP and TCP, and
   * turns:HOST:443 over TCP. Every URI passes the browser rules (url-rules.ts).
   */
  const expressTurnUrls = z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) =>
        list(value).flatMap((item) =>
          HOST.test(item)
            ? [`turn:${item}:3478?transport=udp`, `turn:${item}:3478?transport=tcp`, `turns:${item}:443?transport=tcp`]
            : [item],
        ),
      ),
    ),
    z.array(z.string()).check(
      z.minLength(1),
      z.maxLength(16),
      z.refine(
        (urls) => urls.every((url) => isTurnUrl(url) && iceUrlProblem(url) === undefined),
        "must list turn: or turns: URLs that browsers accept",
      ),
    ),
  );

  const providerList = z.pipe(
    z.pipe(z.string(), z.transform(list)),
    z.array(z.enum(PROVIDER_NAMES)).check(
      z.minLength(1),
      z.refine((names) => new Set(names).size === names.length, "lists a provider twice"),
    ),
  );

  return {
    TURN_PROVIDERS: z._default(providerList, ["coturn"]),
    /** The REST broker's providers, asked in failover order; TURN_PROVIDERS when unset. */
    TURN_REST_PROVIDERS: z.optional(providerList),
    TURN_PROVIDER_MODE: z._default(z.enum(["failover", "merge"]), "failover"),
    MAX_ICE_SERVERS: wholeNumber(z, 2, 1, 5),
    MAX_ICE_URLS: wholeNumber(z, 4, 1, 10),
    PROVIDER_TIMEOUT_MS: wholeNumber(z, 3000, 100, 30_000),
    CACHE_SCOPE: z._default(z.enum(["global", "user"]), "global"),
    CACHE_MIN_REMAINING_SECONDS: wholeNumber(z, 300, 30, 86_400),
    CLOUDFLARE_TURN_API_URL: z._default(apiUrl, "https://rtc.live.cloudflare.com/v1"),
    CLOUDFLARE_TURN_KEY_ID: matching(z, /^[A-Za-z0-9_-]{1,128}$/),
    CLOUDFLARE_TURN_API_TOKEN: secret(z, 16),
    METERED_API_URL: z.optional(apiUrl),
    METERED_DOMAIN: z.optional(z.string().check(z.trim(), z.toLowerCase(), z.regex(HOST))),
    METERED_API_KEY: secret(z, 16),
    METERED_SECRET_KEY: secret(z, 16),
    METERED_REGION: matching(z, /^[A-Za-z0-9_-]{1,32}$/),
    METERED_CACHE_SECONDS: wholeNumber(z, 3600, 60, 172_800),
    TWILIO_API_URL: z._default(apiUrl, "https://api.twilio.com"),
    TWILIO_ACCOUNT_SID: matching(z, /^AC[0-9a-fA-F]{32}$/),
    TWILIO_AUTH_TOKEN: secret(z, 16),
    TWILIO_API_KEY_SID: matching(z, /^SK[0-9a-fA-F]{32}$/),
    TWILIO_API_KEY_SECRET: secret(z, 16),
    EXPRESSTURN_SECRET_KEY: secret(z, 8),
    EXPRESSTURN_USERNAME: z.optional(
      z.string().check(
        z.trim(),
        z.minLength(1),
        z.maxLength(256),
        z.refine((name) => !hasControlCharacter(name)),
      ),
    ),
    EXPRESSTURN_PASSWORD: secret(z, 1),
    EXPRESSTURN_SERVER_URL: z.optional(expressTurnUrls),
  };
}

type ProviderVars = z.output<z.ZodMiniObject<ReturnType<typeof providerVarsShape>>>;

export interface CloudflareSettings {
  apiUrl: string;
  keyId: string;
  token: string;
}
export interface MeteredSettings {
  apiUrl: string;
  /** Set when METERED_SECRET_KEY is not: the key whose (non-expiring) credentials are handed out. */
  apiKey: string | undefined;
  /** Selects the expiring-credential flow: a new credential per lifetime, made with this key. */
  secretKey: string | undefined;
  region: string | undefined;
  cacheSeconds: number;
}
export interface TwilioSettings {
  apiUrl: string;
  accountSid: string;
  /** Basic auth: the account SID and auth token, or an API key SID and its secret. */
  username: string;
  password: string;
}
/** HMAC mode (`secret`: coturn-style credentials minted here) or static mode (the account's username and password). */
export type ExpressTurnSettings =
  | { mode: "hmac"; secret: string; urls: string[] }
  | { mode: "static"; username: string; password: string; urls: string[] };

export interface ProviderSettings {
  mode: "failover" | "merge";
  maxIceServers: number;
  /** MAX_ICE_URLS: the most URLs in one reply (browsers slow down from five). */
  maxIceUrls: number;
  /** TURN_REST_PROVIDERS, or TURN_PROVIDERS. */
  restProviders: ProviderName[];
  timeoutMs: number;
  /** Each is present exactly when the provider is listed in TURN_PROVIDERS. */
  cloudflare?: CloudflareSettings;
  metered?: MeteredSettings;
  twilio?: TwilioSettings;
  expressturn?: ExpressTurnSettings;
}

export interface CacheSettings {
  scope: "global" | "user";
  minRemainingSeconds: number;
}

export interface SettingsIssue {
  variable: string;
  message: string;
}

/**
 * What each provider needs when listed: every entry is one variable, or `A|B` for either. With a
 * Twilio API key, its SID and secret stand in for the auth token, and each needs the other.
 */
const NEEDS: Record<ProviderName, string[]> = {
  coturn: ["TURN_SECRET", "TURN_URLS"],
  cloudflare: ["CLOUDFLARE_TURN_KEY_ID", "CLOUDFLARE_TURN_API_TOKEN"],
  metered: ["METERED_API_KEY|METERED_SECRET_KEY", "METERED_DOMAIN|METERED_API_URL"],
  twilio: ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN|TWILIO_API_KEY_SECRET"],
  expressturn: ["EXPRESSTURN_SECRET_KEY|EXPRESSTURN_USERNAME", "EXPRESSTURN_SERVER_URL"],
};

/** Every provider either list names: TURN_PROVIDERS, then TURN_REST_PROVIDERS. */
const listedProviders = (e: ProviderVars): ProviderName[] => [
  ...new Set([...e.TURN_PROVIDERS, ...(e.TURN_REST_PROVIDERS ?? [])]),
];

/** What the listed providers are missing, given the parsed vars (TURN_SECRET and TURN_URLS included). */
export function providerIssues(e: ProviderVars & Record<string, unknown>): SettingsIssue[] {
  const issues: SettingsIssue[] = [];
  const set = (variable: string) => e[variable] !== undefined;
  for (const provider of listedProviders(e)) {
    const needs = [...NEEDS[provider]];
    // Static ExpressTURN credentials come as a pair.
    if (provider === "expressturn" && !set("EXPRESSTURN_SECRET_KEY") && set("EXPRESSTURN_USERNAME")) {
      needs.push("EXPRESSTURN_PASSWORD");
    }
    // A half-configured Twilio API key is an error, never a silent fallback to the auth token.
    if (provider === "twilio" && (set("TWILIO_API_KEY_SID") || set("TWILIO_API_KEY_SECRET"))) {
      needs.push("TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET");
    }
    for (const need of needs) {
      const [variable = need, alternative] = need.split("|");
      if (set(variable) || (alternative !== undefined && set(alternative))) continue;
      const either = alternative ? ` (or ${alternative})` : "";
      const where = e.TURN_PROVIDERS.includes(provider) ? "TURN_PROVIDERS" : "TURN_REST_PROVIDERS";
      issues.push({ variable, message: `${variable}${either} is required when ${where} includes ${provider}` });
    }
  }
  return issues;
}

/** The typed settings of vars that `providerIssues` found nothing missing in. */
export function providerSettings(e: ProviderVars): ProviderSettings {
  const all = listedProviders(e);
  const listed = (name: ProviderName) => all.includes(name);
  const settings: ProviderSettings = {
    mode: e.TURN_PROVIDER_MODE,
    maxIceServers: e.MAX_ICE_SERVERS,
    maxIceUrls: e.MAX_ICE_URLS,
    restProviders: e.TURN_REST_PROVIDERS ?? e.TURN_PROVIDERS,
    timeoutMs: e.PROVIDER_TIMEOUT_MS,
  };
  if (listed("cloudflare") && e.CLOUDFLARE_TURN_KEY_ID && e.CLOUDFLARE_TURN_API_TOKEN) {
    const { CLOUDFLARE_TURN_API_URL: apiUrl, CLOUDFLARE_TURN_KEY_ID: keyId, CLOUDFLARE_TURN_API_TOKEN: token } = e;
    settings.cloudflare = { apiUrl, keyId, token };
  }
  const meteredUrl = e.METERED_API_URL ?? (e.METERED_DOMAIN ? `https://${e.METERED_DOMAIN}` : undefined);
  if (listed("metered") && meteredUrl) {
    settings.metered = {
      apiUrl: meteredUrl,
      apiKey: e.METERED_SECRET_KEY ? undefined : e.METERED_API_KEY,
      secretKey: e.METERED_SECRET_KEY,
      region: e.METERED_REGION,
      cacheSeconds: e.METERED_CACHE_SECONDS,
    };
  }
  if (listed("twilio") && e.TWILIO_ACCOUNT_SID) {
    const { TWILIO_API_KEY_SID: keySid, TWILIO_API_KEY_SECRET: keySecret } = e;
    const [username, password] =
      keySid && keySecret ? [keySid, keySecret] : [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN ?? ""];
    settings.twilio = { apiUrl: e.TWILIO_API_URL, accountSid: e.TWILIO_ACCOUNT_SID, username, password };
  }
  const { EXPRESSTURN_SECRET_KEY: secret, EXPRESSTURN_USERNAME: username, EXPRESSTURN_PASSWORD: password } = e;
  if (listed("expressturn") && e.EXPRESSTURN_SERVER_URL) {
    const urls = e.EXPRESSTURN_SERVER_URL;
    if (secret) settings.expressturn = { mode: "hmac", secret, urls };
    else if (username && password) settings.expressturn = { mode: "static", username, password, urls };
  }
  return settings;
}

export function cacheSettings(e: ProviderVars): CacheSettings {
  return { scope: e.CACHE_SCOPE, minRemainingSeconds: e.CACHE_MIN_REMAINING_SECONDS };
}

/** Each provider's secrets, for fingerprints in /healthz. */
const SECRETS: Partial<Record<ProviderName, string[]>> = {
  cloudflare: ["CLOUDFLARE_TURN_API_TOKEN"],
  metered: ["METERED_API_KEY", "METERED_SECRET_KEY"],
  twilio: ["TWILIO_AUTH_TOKEN", "TWILIO_API_KEY_SECRET"],
  expressturn: ["EXPRESSTURN_SECRET_KEY", "EXPRESSTURN_PASSWORD"],
};

/** The secrets in use of the listed managed providers, by variable name. */
export function providerSecrets(e: ProviderVars & Record<string, unknown>): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const variable of listedProviders(e).flatMap((provider) => SECRETS[provider] ?? [])) {
    const value = e[variable];
    if (typeof value === "string") secrets[variable] = value;
  }
  return secrets;
}
