/**
 * jose, evaluated on the first token that needs a signature check instead of at startup: a deployment
 * without tokens never pays for it, and one with tokens pays once per isolate, on that request. The
 * bundler keeps it in the one script, as a module whose top level runs on this import; only what
 * jose-api.ts names is bundled (an `import()` of "jose" itself would keep the whole package).
 */
export type Jose = typeof import("./jose-api");

let loaded: Jose | undefined;

export async function loadJose(): Promise<Jose> {
  return (loaded ??= await import("./jose-api"));
}
