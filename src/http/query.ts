/**
 * Query-string validation. Every parameter a route accepts is named in its zod schema;
 * unknown or repeated parameters are a 400, never silently ignored. Replies name only the
 * parameters a route knows, never echo what the caller sent.
 */
import type * as z from "zod/mini";
import { AppError } from "../errors";

/** What each schema makes of no parameters at all (the common case), parsed once. */
const noParams = new WeakMap<z.ZodMiniType, unknown>();

/**
 * Parses `params` with `schema`. `expected(name)` says what a valid value of that parameter is ("a whole number
 * of seconds, at least 60"), built only for the 400, which states it so that the caller can fix the request.
 */
export function parseParams<S extends z.ZodMiniType>(
  params: Record<string, string[]>,
  schema: S,
  expected: (name: string) => string | undefined = () => undefined,
): z.infer<S> {
  const none = Object.keys(params).length === 0;
  if (none && noParams.has(schema)) return noParams.get(schema) as z.infer<S>;
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(params)) {
    if (values.length !== 1)
      throw new AppError("invalid_request", "A query parameter is repeated.", { reason: "query:repeated" });
    single[name] = values[0] as string;
  }
  const result = schema.safeParse(single);
  if (result.success) {
    if (none) noParams.set(schema, Object.freeze(result.data));
    return result.data;
  }
  const issue = result.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new AppError("invalid_request", "Unknown query parameter.", { reason: "query:unknown" });
  }
  const name = String(issue?.path[0] ?? "query");
  const valid = expected(name);
  const message = `Query parameter '${name}' is invalid${valid ? `: it must be ${valid}` : ""}.`;
  throw new AppError("invalid_request", message, { reason: `query:${name}` });
}
