/**
 * Asking the worker (inside workerd) for credentials in the provider tests, and reading what it
 * logged. `ask` can swap the TURN_CACHE binding for a broken one; the log lines are parsed JSON.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, vi } from "vitest";
import worker from "../../../src/index";
import { type EnvChanges, signToken, testEnv } from "../worker-fetch";

export interface IceServerBody {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface CredentialsBody {
  iceServers: IceServerBody[];
  expiresAt: number;
  ttl: number;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body of a 200. */
  body: CredentialsBody;
  /** The error code of anything else. */
  error: string | undefined;
}

export interface AskOptions {
  sub?: string;
  query?: string;
  /** Replaces the TURN_CACHE binding (for KV failures); `null` removes it. */
  kv?: KVNamespace | null;
}

export async function ask(changes: EnvChanges, options: AskOptions = {}): Promise<Reply> {
  const env = testEnv(changes) as unknown as Record<string, unknown>;
  if (options.kv !== undefined) env.TURN_CACHE = options.kv ?? undefined;
  const token = await signToken({ sub: options.sub ?? "user-42" });
  const ctx = createExecutionContext();
  const request = new Request(`https://icegate.example.test/api/turn/credentials${options.query ?? ""}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  const response = await worker.fetch(request, env as unknown as Cloudflare.Env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  const error = response.status === 200 ? undefined : (parsed as { error?: { code?: string } })?.error?.code;
  return { status: response.status, headers: response.headers, text, body: parsed as CredentialsBody, error };
}

export interface LogLine {
  msg: string;
  status?: number;
  provider?: string;
  reason?: string;
  user?: string;
  event?: string;
  [field: string]: unknown;
}

/** Every console line of each test, raw and parsed; console stays quiet. */
export function useLogs(): { lines: string[]; parsed: () => LogLine[]; requests: () => LogLine[] } {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    for (const method of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
  });
  afterEach(() => vi.restoreAllMocks());
  const parsed = () => lines.map((line) => JSON.parse(line) as LogLine);
  return { lines, parsed, requests: () => parsed().filter((line) => line.msg === "request") };
}
