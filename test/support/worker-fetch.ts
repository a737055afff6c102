/**
 * Calls the worker's real fetch handler inside workerd with the test bindings, optionally
 * changed per call (a value of `undefined` removes a variable), and signs test tokens.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import worker from "../../src/index";
import { TEST_BINDINGS, TEST_SECRETS } from "./test-env";

export type EnvChanges = Record<string, string | undefined>;

/**
 * The test bindings, changed as asked. String values come only from TEST_BINDINGS and `changes`,
 * never from a developer's .dev.vars (which the vitest plugin also loads): only bindings such as
 * KV namespaces are kept from the runtime's env.
 */
export function testEnv(changes: EnvChanges = {}): Cloudflare.Env {
  const bindings = Object.entries(env).filter(([, value]) => typeof value !== "string");
  const merged = Object.entries({ ...Object.fromEntries(bindings), ...TEST_BINDINGS, ...changes });
  return Object.fromEntries(merged.filter(([, value]) => value !== undefined)) as unknown as Cloudflare.Env;
}

export async function call(path: string, init: RequestInit = {}, changes: EnvChanges = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://icegate.example.test${path}`, init), testEnv(changes), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface TokenOptions {
  sub?: string | undefined;
  secret?: string;
  expiresIn?: string | number;
  issuer?: string;
  audience?: string;
  alg?: string;
  claims?: Record<string, unknown>;
}

/** An HS256 token signed with the test AUTH_JWT_SECRET unless told otherwise. */
export async function signToken(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...options.claims }).setProtectedHeader({ alg: options.alg ?? "HS256" }).setIssuedAt();
  if (!("sub" in options) || options.sub !== undefined) jwt.setSubject(options.sub ?? "user-42");
  if (options.expiresIn !== undefined || !options.claims || !("exp" in options.claims))
    jwt.setExpirationTime(options.expiresIn ?? "5m");
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRETS.AUTH_JWT_SECRET));
}

export function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}

/** The operator's credential (ADMIN_API_TOKEN of the test bindings), for /healthz's fingerprints and /api/admin. */
export function operator(token: string = TEST_SECRETS.ADMIN_API_TOKEN): RequestInit {
  return bearer(token);
}
