/**
 * The check page's Content-Security-Policy as its directives, for the workerd spec of GET /check and the
 * Chromium test that runs the page under it.
 */
export const STRICT_CSP = {
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'self'",
  "connect-src": "'self'",
  "img-src": "'self'",
  "base-uri": "'none'",
  "form-action": "'none'",
  "frame-ancestors": "'none'",
};

/** `default-src 'none'; img-src 'self'` → `{"default-src": "'none'", "img-src": "'self'"}`. */
export function directives(csp: string | null | undefined): Record<string, string> {
  return Object.fromEntries(
    (csp ?? "")
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name!, values.join(" ")]),
  );
}
