/**
 * setTimeout that never holds a Node or Deno process open (unref'd where the runtime allows) and
 * never overflows: delays beyond the 32-bit limit would otherwise fire at once.
 */
export type Timer = ReturnType<typeof setTimeout>;

const MAX_DELAY_MS = 2 ** 31 - 1;

export function schedule(callback: () => void, delayMs: number): Timer {
  const timer = setTimeout(callback, Math.min(Math.max(delayMs, 0), MAX_DELAY_MS));
  const handle: unknown = timer;
  if (typeof handle === "object" && handle !== null && "unref" in handle && typeof handle.unref === "function") {
    handle.unref();
  }
  return timer;
}

export function cancel(timer: Timer | undefined): void {
  if (timer !== undefined) clearTimeout(timer);
}
