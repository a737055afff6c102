/**
 * A bounded load generator for loopback tests: `total` requests, `concurrency` at a time, each built by
 * `request(i)`. Counts statuses and network errors; records no timings (those belong to the bench).
 */
export interface LoadResult {
  total: number;
  statuses: Map<number, number>;
  networkErrors: number;
  /** The distinct error messages, for the failure report. */
  errors: Set<string>;
}

export async function runLoad(
  total: number,
  concurrency: number,
  request: (index: number) => Promise<Response>,
  onResponse?: (index: number, response: Response) => Promise<void> | void,
): Promise<LoadResult> {
  const result: LoadResult = { total, statuses: new Map(), networkErrors: 0, errors: new Set() };
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      try {
        const response = await request(index);
        if (onResponse) await onResponse(index, response);
        else await response.arrayBuffer();
        result.statuses.set(response.status, (result.statuses.get(response.status) ?? 0) + 1);
      } catch (error) {
        result.networkErrors++;
        result.errors.add(
          error instanceof Error
            ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}`
            : String(error),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

export const count = (result: LoadResult, predicate: (status: number) => boolean) =>
  [...result.statuses].filter(([status]) => predicate(status)).reduce((sum, [, n]) => sum + n, 0);
