/**
 * zod/mini, evaluated when the worker handles its first request or cron run, not at startup: its
 * module initialisation (a class per schema kind) is most of what the bundle would otherwise run before
 * it can answer. The entry point (src/index.ts) awaits `loadZod()` once per isolate, before the app sees
 * a request; after that `zod()` hands the module over synchronously. Schemas are built on first use
 * with `schema((z) => …)`, as `lazy` builds any other value.
 *
 * Modules write their types against `import type * as z from "zod/mini"`; the builder's parameter `z`
 * is the value, so a schema built anywhere else fails to compile.
 */
import { lazy } from "./lazy";

export type ZodMini = typeof import("./zod-api");

let loaded: ZodMini | undefined;

/** Evaluates zod/mini (once per isolate; later calls resolve at once). */
export async function loadZod(): Promise<ZodMini> {
  return (loaded ??= await import("./zod-api"));
}

export function zodLoaded(): boolean {
  return loaded !== undefined;
}

/** zod/mini, once `loadZod()` has resolved: a programming error before that. */
export function zod(): ZodMini {
  if (loaded === undefined) throw new Error("zod/mini is used before loadZod() resolved (src/zod.ts)");
  return loaded;
}

/** A zod schema (or anything built from zod) made on first use and kept for the isolate's life. */
export function schema<T>(build: (z: ZodMini) => T): () => T {
  return lazy(() => build(zod()));
}
