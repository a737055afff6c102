/**
 * The bench's baseline: a bare Hono worker that answers constant JSON the size and shape of a
 * credentials reply. `npm run bench` measures icegate against it, so the figures show what the
 * credential path costs on top of the runtime, Hono and a JSON reply, and nothing else.
 *
 * GET /healthz answers `{"status":"ok","baseline":true}`; GET /:body answers BENCH_BODIES[body] with
 * `c.json` (serialised per request, as the worker's reply is). The bodies come from the bench as a var.
 */
import { Hono } from "hono";
import type { JSONValue } from "hono/utils/types";

interface Bindings {
  /** JSON: `{"<name>": <reply body>, …}`. */
  BENCH_BODIES?: string;
}

let bodies: Record<string, JSONValue> | undefined;

const app = new Hono<{ Bindings: Bindings }>();

app.get("/healthz", (c) => c.json({ status: "ok", baseline: true }));

app.get("/:body", (c) => {
  bodies ??= JSON.parse(c.env.BENCH_BODIES ?? "{}") as Record<string, JSONValue>;
  const body = bodies[c.req.param("body")];
  return body === undefined ? c.notFound() : c.json(body);
});

export default app;
