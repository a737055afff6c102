/**
 * The SDK's one error type. `status` is the HTTP status, or 0 when no reply came (network
 * failure, timeout, getToken failure). `code` is the server's `error.code` when it sent one,
 * otherwise one of the SDK's own: network_error, timeout, token_error, invalid_response,
 * http_error, set_configuration_failed.
 */
export class IceServerError extends Error {
  override readonly name = "IceServerError";
  readonly status: number;
  readonly code: string;
  /** From the reply's Retry-After header, in whole seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, retryAfterSeconds?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
