/**
 * A value built on first use and kept for the isolate's life: for what a cold start need not pay
 * for, such as zod schemas (building one allocates a good deal), which most requests never touch
 * and the rest touch only after the first.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
