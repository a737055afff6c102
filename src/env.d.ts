/**
 * Secrets of icegate. `wrangler types` generates the vars and bindings from wrangler.toml;
 * secrets are never in that file, so they are declared here, all optional: config.ts decides
 * which ones a deployment needs and answers 503 `not_configured` when one is missing.
 */
declare namespace Cloudflare {
  interface Env {
    TURN_SECRET?: string;
    TURN_SECRET_NEXT?: string;
    AUTH_JWT_SECRET?: string;
    AUTH_JWT_SECRET_PREVIOUS?: string;
    TURN_REST_API_KEYS?: string;
    ALLOW_ANONYMOUS?: string;
    AUTH_JWKS_URL?: string;
    AUTH_ISSUER?: string;
    AUTH_AUDIENCE?: string;
    AUTH_MAX_TOKEN_AGE_SECONDS?: string;
    /** The operator credential (src/auth/admin.ts), at least 32 characters. */
    ADMIN_API_TOKEN?: string;
    // Managed TURN providers (src/providers/settings.ts says which are required for TURN_PROVIDERS).
    CLOUDFLARE_TURN_API_TOKEN?: string;
    METERED_API_KEY?: string;
    METERED_SECRET_KEY?: string;
    TWILIO_AUTH_TOKEN?: string;
    TWILIO_API_KEY_SECRET?: string;
    EXPRESSTURN_SECRET_KEY?: string;
  }
}
