/**
 * The bench's baseline: a bare Hono worker that answers constant JSON the size and shape of a
 * credentials reply. `npm run bench` measures icegate against it, so the figures show what the
 * credential path costs on top of the runtime, Hono and a JSON reply, and nothing else.
 *
 * GET /healthz answers `{"status":"ok","baseline":true}`; GET /:body answers BENCH_BODIES[body] with
 * `c.json` (serialised per request, as the worker's reply is). The bodies come from the bench as a var.
 *
 * GET /floor/:body (the floor, not the bare baseline) answers the same body with the headers of icegate's
 * reply (BENCH_REPLY_HEADERS: the security and no-store headers) and writes one request log line, as
 * icegate must: what any worker with those two obligations pays before doing any work of its own. It
 * builds the reply the cheapest way icegate knows, as icegate's credentials route does: one Response
 * with every header in one object (Hono's `c.json(body, 200, headers)` would set them one call each).
 */
import { Hono } from "hono";
import type { JSONValue } from "hono/utils/types";

interface Bindings {
  /** JSON: `{"<name>": <reply body>, …}`. */
  BENCH_BODIES?: string;
  /** JSON: `{"<header>": "<value>", …}`, the headers of icegate's credentials reply. */
  BENCH_REPLY_HEADERS?: string;
}

let bodies: Record<string, JSONValue> | undefined;
let replyHeaders: Record<string, string> | undefined;

const app = new Hono<{ Bindings: Bindings }>();

app.get("/healthz", (c) => c.json({ status: "ok", baseline: true }));

app.get("/floor/:body", (c) => {
  const started = Date.now();
  bodies ??= JSON.parse(c.env.BENCH_BODIES ?? "{}") as Record<string, JSONValue>;
  replyHeaders ??= {
    "Content-Type": "application/json",
    ...(JSON.parse(c.env.BENCH_REPLY_HEADERS ?? "{}") as Record<string, string>),
  };
  const body = bodies[c.req.param("body")];
  if (body === undefined) return c.notFound();
  const response = new Response(JSON.stringify(body), { status: 200, headers: replyHeaders });
  console.log(
    JSON.stringify({
      msg: "request",
      method: c.req.method,
      route: "/floor/:body",
      status: response.status,
      durationMs: Date.now() - started,
      ray: c.req.header("cf-ray"),
      user: "0".repeat(16),
      provider: "baseline",
    }),
  );
  return response;
});

app.get("/:body", (c) => {
  bodies ??= JSON.parse(c.env.BENCH_BODIES ?? "{}") as Record<string, JSONValue>;
  const body = bodies[c.req.param("body")];
  return body === undefined ? c.notFound() : c.json(body);
});

export default app;
