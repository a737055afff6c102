/**
 * A value built on first use and kept for the isolate's life: for what a cold start need not pay
 * for, which most requests never touch and the rest touch only after the first. zod schemas use
 * `schema()` (src/zod.ts), which is this with zod/mini handed in.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
