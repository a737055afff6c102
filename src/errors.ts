/**
 * The one error type of icegate, and the JSON body every error reply carries:
 * `{"error":{"code","message"}}`. The wire message stays generic; the detailed
 * reason (never a secret) goes to the request's log line.
 */

export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "invalid_token"
  | "forbidden_origin"
  | "revoked"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "rate_limited"
  | "not_configured"
  | "upstream_unavailable"
  | "internal_error";

const STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  invalid_token: 401,
  forbidden_origin: 403,
  revoked: 403,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  rate_limited: 429,
  not_configured: 503,
  upstream_unavailable: 503,
  internal_error: 500,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra reply headers, such as `Allow`, `Retry-After` or `WWW-Authenticate`. */
  readonly headers: Record<string, string>;
  /** Detail for the log line only. Never sent to the client, never a secret. */
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, options: { reason?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.status = STATUS[code];
    this.headers = options.headers ?? {};
    this.reason = options.reason;
  }

  get body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.body), {
      status: this.status,
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Cache-Control": "no-store",
        ...this.headers,
      },
    });
  }
}

/** 503 naming the variable at fault, never its value. `message` replaces the default sentence. */
export function notConfigured(variable: string, message = `${variable} is missing or invalid`): AppError {
  return new AppError("not_configured", message, { reason: `config:${variable}` });
}
