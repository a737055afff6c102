/**
 * The Worker's configuration: Wrangler vars and secrets parsed with zod into a typed Config.
 * A missing or invalid setting becomes 503 `not_configured` naming the variable, never its value.
 * Parsing happens on first use per env object, not at startup, and the result is reused.
 */
import type * as z from "zod/mini";
import { schema, type ZodMini } from "./zod";
import { AppError, notConfigured } from "./errors";
import type { ProviderName } from "./providers/provider";
import {
  type CacheSettings,
  cacheSettings,
  providerIssues,
  providerSecrets,
  type ProviderSettings,
  providerSettings,
  providerVarsShape,
} from "./providers/settings";
import { iceUrlProblem, isTurnUrl } from "./providers/url-rules";

export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 48 * 3600;
/** AUTH_MAX_TOKEN_AGE_SECONDS: the longest a token is honoured, counted from its `iat`. */
export const DEFAULT_TOKEN_AGE_SECONDS = 86400;
export const MAX_TOKEN_AGE_SECONDS = 30 * 86400;
/** REST keys and the operator token: the README recommends generated 32-byte values. */
export const MIN_KEY_LENGTH = 32;

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** A comma-separated list, each item checked by `item`, with `min`..`max` items. */
const listOf = (z: ZodMini, item: z.ZodMiniType<string, string>, min: number, max: number) =>
  z.pipe(z.pipe(z.string(), z.transform(list)), z.array(item).check(z.minLength(min), z.maxLength(max)));

const secret = (z: ZodMini, minLength: number) => z.string().check(z.trim(), z.minLength(minLength));

/** The schema of vars and secrets; built on first use (src/zod.ts), not at startup. */
const envSchema = schema((z) => {
  // The browser rules (providers/url-rules.ts): one URL that breaks them makes every RTCPeerConnection throw.
  const ruleMessage = (url: string) => `has a URL browsers refuse (${iceUrlProblem(url) ?? "scheme"})`;
  const TurnUrl = z.string().check(
    z.refine((url) => iceUrlProblem(url) === undefined && isTurnUrl(url), {
      error: (issue) => (iceUrlProblem(String(issue.input)) ? ruleMessage(String(issue.input)) : "lists a stun: URL"),
    }),
  );
  const StunUrl = z.string().check(
    z.refine((url) => iceUrlProblem(url) === undefined && !isTurnUrl(url), {
      error: (issue) =>
        iceUrlProblem(String(issue.input)) ? ruleMessage(String(issue.input)) : "lists a turn: or turns: URL",
    }),
  );

  const ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;
  const Origin = z.union([
    z.literal("*"),
    z.string().check(z.regex(ORIGIN, "not an origin such as https://app.example.com")),
  ]);
  const originList = z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) => list(value).map((origin) => origin.toLowerCase())),
    ),
    z.array(Origin),
  );

  const flag = (fallback: boolean) =>
    z._default(
      z.pipe(
        z.enum(["true", "false"]),
        z.transform((value) => value === "true"),
      ),
      fallback,
    );

  const jwksUrl = z.url().check(
    z.refine((value) => {
      const url = new URL(value);
      return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    }, "must be an https URL"),
  );

  const ttlSeconds = z._default(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,6}$/)), z.transform(Number)),
      z.number().check(z.gte(MIN_TTL_SECONDS), z.lte(MAX_TTL_SECONDS)),
    ),
    86400,
  );

  return z
    .object({
      // Required when TURN_PROVIDERS includes coturn (checked below); /api/turn/rest mints with it too.
      TURN_SECRET: z.optional(secret(z, 16)),
      /** Staged next secret: reported in /healthz so the fleet can be checked; never used to mint. */
      TURN_SECRET_NEXT: z.optional(secret(z, 16)),
      TURN_URLS: z.optional(listOf(z, TurnUrl, 1, 16)),
      STUN_URLS: z._default(listOf(z, StunUrl, 0, 8), []),
      TURN_TTL_SECONDS: ttlSeconds,
      TURN_USERNAME_SEPARATOR: z._default(
        z.string().check(z.regex(/^[^A-Za-z0-9\s]$/, "must be one punctuation character")),
        ":",
      ),
      TURN_USER_ID: z._default(z.enum(["sub", "hash"]), "sub"),
      AUTH_JWT_SECRET: z.optional(secret(z, 32)),
      AUTH_JWT_SECRET_PREVIOUS: z.optional(secret(z, 32)),
      AUTH_JWKS_URL: z.optional(jwksUrl),
      AUTH_ISSUER: z.optional(z.string().check(z.trim(), z.minLength(1))),
      AUTH_AUDIENCE: z.optional(listOf(z, z.string(), 1, 16)),
      AUTH_MAX_TOKEN_AGE_SECONDS: z._default(
        z.pipe(
          z.pipe(z.string().check(z.regex(/^\d{1,7}$/)), z.transform(Number)),
          z.number().check(z.gte(60), z.lte(MAX_TOKEN_AGE_SECONDS)),
        ),
        DEFAULT_TOKEN_AGE_SECONDS,
      ),
      /** The operator credential: the full /healthz and the /api/admin routes (src/auth/admin.ts). */
      ADMIN_API_TOKEN: z.optional(secret(z, MIN_KEY_LENGTH)),
      ALLOW_ANONYMOUS: flag(false),
      ALLOWED_ORIGINS: z._default(originList, []),
      TURN_REST_API_KEYS: z.optional(listOf(z, z.string().check(z.minLength(MIN_KEY_LENGTH)), 1, 16)),
      RATE_LIMIT_ENABLED: flag(true),
      ...providerVarsShape(z),
    })
    .check(
      z.superRefine((env, ctx) => {
        for (const { variable, message } of providerIssues(env)) {
          ctx.addIssue({ code: "custom", path: [variable], message });
        }
        if (env.AUTH_JWT_SECRET_PREVIOUS && !env.AUTH_JWT_SECRET) {
          ctx.addIssue({
            code: "custom",
            path: ["AUTH_JWT_SECRET"],
            message: "AUTH_JWT_SECRET is required when AUTH_JWT_SECRET_PREVIOUS is set",
          });
        }
        // A shared key set (Google, Firebase, Auth0 tenants) signs tokens for many apps: only ours may pass.
        if (env.AUTH_JWKS_URL) {
          for (const variable of ["AUTH_ISSUER", "AUTH_AUDIENCE"] as const) {
            if (env[variable] === undefined) {
              ctx.addIssue({
                code: "custom",
                path: [variable],
                message: `${variable} is required when AUTH_JWKS_URL is set`,
              });
            }
          }
        }
        // Fail closed: with no way to authenticate and no explicit opt-in to anonymity, nobody gets credentials.
        if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL && !env.ALLOW_ANONYMOUS) {
          ctx.addIssue({
            code: "custom",
            path: ["AUTH_JWT_SECRET"],
            message: "AUTH_JWT_SECRET or AUTH_JWKS_URL is required (ALLOW_ANONYMOUS=true only for local development)",
          });
        }
      }),
    );
});

export interface AuthConfig {
  /** HS256 secrets, current first. */
  jwtSecrets: string[];
  jwksUrl: string | undefined;
  issuer: string | undefined;
  audience: string[] | undefined;
  allowAnonymous: boolean;
  /** AUTH_MAX_TOKEN_AGE_SECONDS. */
  maxTokenAgeSeconds: number;
  /** ADMIN_API_TOKEN: without it, no operator routes and no fingerprints in /healthz. */
  adminToken: string | undefined;
}

/** The coturn fleet, and what /api/turn/rest mints with. */
export interface TurnConfig {
  /**
   * False when TURN_SECRET or TURN_URLS is unset, which is allowed while coturn is not in
   * TURN_PROVIDERS: issueTurnCredentials then answers 503 `not_configured` and mints nothing.
   */
  enabled: boolean;
  /**
   * TURN_SECRET. Without it, a provider's secret, so that user ids still get a keyed hash (the log's
   * `user`, rate limits, user-scoped cache keys); it is never a minting key (`enabled` is false).
   */
  secret: string;
  urls: string[];
  stunUrls: string[];
  ttlSeconds: number;
  separator: string;
  userIdMode: "sub" | "hash";
}

export interface Config {
  turn: TurnConfig;
  auth: AuthConfig;
  allowedOrigins: string[];
  restApiKeys: string[];
  /** TURN_PROVIDERS, in order. */
  providers: ProviderName[];
  /** TURN_PROVIDER_MODE, limits, and each listed provider's settings. */
  upstream: ProviderSettings;
  cache: CacheSettings;
  rateLimit: { enabled: boolean };
  /** The secrets in use, by variable name, for fingerprints in the operator's /healthz. */
  secrets: Record<string, string | string[]>;
}

const parsed = new WeakMap<object, Config | AppError>();

/** The configuration of `env`, parsed once per env object. Throws AppError `not_configured`. */
export function loadConfig(env: Cloudflare.Env): Config {
  let result = parsed.get(env);
  if (!result) {
    result = parseConfig(env);
    parsed.set(env, result);
  }
  if (result instanceof AppError) throw result;
  return result;
}

function parseConfig(env: Cloudflare.Env): Config | AppError {
  const result = envSchema().safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? "configuration");
    if (issue?.code !== "custom") return notConfigured(variable);
    return notConfigured(variable, issue.message.includes(variable) ? issue.message : `${variable} ${issue.message}`);
  }
  const e = result.data;
  const managed = providerSecrets(e);
  const secrets: Record<string, string | string[]> = { ...managed };
  if (e.TURN_SECRET) secrets.TURN_SECRET = e.TURN_SECRET;
  if (e.TURN_SECRET_NEXT) secrets.TURN_SECRET_NEXT = e.TURN_SECRET_NEXT;
  if (e.AUTH_JWT_SECRET) secrets.AUTH_JWT_SECRET = e.AUTH_JWT_SECRET;
  if (e.AUTH_JWT_SECRET_PREVIOUS) secrets.AUTH_JWT_SECRET_PREVIOUS = e.AUTH_JWT_SECRET_PREVIOUS;
  if (e.TURN_REST_API_KEYS) secrets.TURN_REST_API_KEYS = e.TURN_REST_API_KEYS;
  if (e.ADMIN_API_TOKEN) secrets.ADMIN_API_TOKEN = e.ADMIN_API_TOKEN;
  return {
    turn: {
      enabled: e.TURN_SECRET !== undefined && e.TURN_URLS !== undefined,
      secret: e.TURN_SECRET ?? Object.values(managed)[0] ?? "icegate/user-id",
      urls: e.TURN_URLS ?? [],
      stunUrls: e.STUN_URLS,
      ttlSeconds: e.TURN_TTL_SECONDS,
      separator: e.TURN_USERNAME_SEPARATOR,
      userIdMode: e.TURN_USER_ID,
    },
    auth: {
      jwtSecrets: [e.AUTH_JWT_SECRET, e.AUTH_JWT_SECRET_PREVIOUS].filter((s): s is string => s !== undefined),
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      allowAnonymous: e.ALLOW_ANONYMOUS,
      maxTokenAgeSeconds: e.AUTH_MAX_TOKEN_AGE_SECONDS,
      adminToken: e.ADMIN_API_TOKEN,
    },
    allowedOrigins: e.ALLOWED_ORIGINS,
    restApiKeys: e.TURN_REST_API_KEYS ?? [],
    providers: e.TURN_PROVIDERS,
    upstream: providerSettings(e),
    cache: cacheSettings(e),
    rateLimit: { enabled: e.RATE_LIMIT_ENABLED },
    secrets,
  };
}
