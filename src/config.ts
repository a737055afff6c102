/**
 * The Worker's configuration: Wrangler vars and secrets parsed with zod into a typed Config.
 * A missing or invalid setting becomes 503 `not_configured` naming the variable, never its value.
 * Parsing happens on first use per env object, not at startup, and the result is reused.
 */
import * as z from "zod";
import { AppError, notConfigured } from "./errors";

export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 48 * 3600;

const list = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

const secret = (minLength: number) => z.string().trim().min(minLength);

const IceUrl = z.string().regex(/^(stun|stuns|turn|turns):[^\s,"']+$/, "not a stun:/turn:/turns: URI");
const iceUrlList = z.string().transform(list).pipe(z.array(IceUrl).min(1).max(16));

const ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;
const originList = z
  .string()
  .transform((value) => list(value).map((origin) => origin.toLowerCase()))
  .pipe(z.array(z.union([z.literal("*"), z.string().regex(ORIGIN, "not an origin such as https://app.example.com")])));

const flag = z.enum(["true", "false"]).transform((value) => value === "true");

const jwksUrl = z.url().refine((value) => {
  const url = new URL(value);
  return url.protocol === "https:" || ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}, "must be an https URL");

const EnvSchema = z
  .object({
    TURN_SECRET: secret(16),
    TURN_URLS: iceUrlList,
    STUN_URLS: z
      .string()
      .optional()
      .transform((v) => v ?? "")
      .pipe(z.string().transform(list).pipe(z.array(IceUrl).max(8))),
    TURN_TTL_SECONDS: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional()
      .transform((v) => (v === undefined ? 86400 : Number(v)))
      .pipe(z.number().int().min(MIN_TTL_SECONDS).max(MAX_TTL_SECONDS)),
    TURN_USERNAME_SEPARATOR: z
      .string()
      .regex(/^[^A-Za-z0-9\s]$/, "must be one punctuation character")
      .default(":"),
    TURN_USER_ID: z.enum(["sub", "hash"]).default("sub"),
    AUTH_JWT_SECRET: secret(32).optional(),
    AUTH_JWT_SECRET_PREVIOUS: secret(32).optional(),
    AUTH_JWKS_URL: jwksUrl.optional(),
    AUTH_ISSUER: z.string().trim().min(1).optional(),
    AUTH_AUDIENCE: z.string().transform(list).pipe(z.array(z.string()).min(1)).optional(),
    ALLOW_ANONYMOUS: flag.default(false),
    ALLOWED_ORIGINS: originList.optional().transform((v) => v ?? []),
    TURN_REST_API_KEYS: z
      .string()
      .transform(list)
      .pipe(z.array(z.string().min(16)).min(1))
      .optional(),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_JWT_SECRET_PREVIOUS && !env.AUTH_JWT_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_JWT_SECRET"],
        message: "AUTH_JWT_SECRET is required when AUTH_JWT_SECRET_PREVIOUS is set",
      });
    }
    // Fail closed: with no way to authenticate and no explicit opt-in to anonymity, nobody gets credentials.
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL && !env.ALLOW_ANONYMOUS) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTH_JWT_SECRET"],
        message: "AUTH_JWT_SECRET or AUTH_JWKS_URL is required (ALLOW_ANONYMOUS=true only for local development)",
      });
    }
  });

export interface AuthConfig {
  /** HS256 secrets, current first. */
  jwtSecrets: string[];
  jwksUrl: string | undefined;
  issuer: string | undefined;
  audience: string[] | undefined;
  allowAnonymous: boolean;
}

export interface TurnConfig {
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
  providers: string[];
  /** The secrets in use, by variable name, for fingerprints in /healthz. */
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
  const result = EnvSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0];
    const variable = String(issue?.path[0] ?? "configuration");
    if (issue?.code !== "custom") return notConfigured(variable);
    return notConfigured(variable, issue.message.includes(variable) ? issue.message : `${variable} ${issue.message}`);
  }
  const e = result.data;
  const secrets: Record<string, string | string[]> = { TURN_SECRET: e.TURN_SECRET };
  if (e.AUTH_JWT_SECRET) secrets.AUTH_JWT_SECRET = e.AUTH_JWT_SECRET;
  if (e.AUTH_JWT_SECRET_PREVIOUS) secrets.AUTH_JWT_SECRET_PREVIOUS = e.AUTH_JWT_SECRET_PREVIOUS;
  if (e.TURN_REST_API_KEYS) secrets.TURN_REST_API_KEYS = e.TURN_REST_API_KEYS;
  return {
    turn: {
      secret: e.TURN_SECRET,
      urls: e.TURN_URLS,
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
    },
    allowedOrigins: e.ALLOWED_ORIGINS,
    restApiKeys: e.TURN_REST_API_KEYS ?? [],
    providers: ["coturn"],
    secrets,
  };
}
