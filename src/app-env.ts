/** The one Hono generic of the app and its middleware: bindings and per-request variables. */
import type { LogFields } from "./log";

export interface AppEnv {
  Bindings: Cloudflare.Env;
  Variables: { log: LogFields };
}
