// Load with autocannon's programmatic API: one round is `connections` keep-alive connections for `duration`
// seconds (or `amount` requests). Latencies are taken from every response (autocannon's own histogram
// rounds to whole milliseconds, too coarse for a 1 ms target), throughput is 2xx replies per second of the
// round, and anything else is counted, never hidden.
import autocannon from "autocannon";
import { performance } from "node:perf_hooks";

/** @typedef {{ rps: number, p50: number, p99: number, ok: number, failed: number, statuses: Record<string, number> }} Round */

/** @returns {Promise<Round>} */
export async function round({ url, requests, connections, duration, amount }) {
  let latencies = new Float64Array(65_536);
  let ok = 0;
  let failed = 0;
  const statuses = {};
  const options = { url, connections, requests, timeout: 10 };
  if (amount) options.amount = amount;
  else options.duration = duration;
  const started = performance.now();
  const instance = autocannon(options);
  instance.on("response", (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) {
      if (ok === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[ok++] = responseTime;
    } else {
      failed++;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  failed += result.errors + result.timeouts;
  if (result.errors > 0) statuses.network = result.errors;
  if (result.timeouts > 0) statuses.timeout = result.timeouts;
  const sorted = latencies.subarray(0, ok).sort();
  return { rps: ok / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), ok, failed, statuses };
}

/** The q-quantile (nearest rank) of ascending `sorted`, or NaN when empty. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Alternates the load: worker, baseline, worker, baseline… `rounds` times each, after one warm-up of each.
 * The ratio and the added latencies are medians of the paired rounds, so drift in the machine's load
 * (other processes) hits both sides of each pair.
 */
export async function alternate({ worker, baseline, rounds, duration, warmup, connections, onRound }) {
  const warm = await round({ ...worker, connections, duration: warmup });
  await round({ ...baseline, connections, duration: warmup });
  let workerRequests = warm.ok + warm.failed;
  const pairs = [];
  for (let i = 0; i < rounds; i++) {
    const w = await round({ ...worker, connections, duration });
    const b = await round({ ...baseline, connections, duration });
    pairs.push({ worker: w, baseline: b });
    workerRequests += w.ok + w.failed;
    onRound?.(i, w, b);
  }
  const pick = (side, field) => median(pairs.map((pair) => pair[side][field]));
  return {
    rounds: pairs.length,
    workerRequests,
    worker: { rps: pick("worker", "rps"), p50: pick("worker", "p50"), p99: pick("worker", "p99") },
    baseline: { rps: pick("baseline", "rps"), p50: pick("baseline", "p50"), p99: pick("baseline", "p99") },
    ratio: median(pairs.map((pair) => pair.worker.rps / pair.baseline.rps)),
    addedP50: median(pairs.map((pair) => pair.worker.p50 - pair.baseline.p50)),
    addedP99: median(pairs.map((pair) => pair.worker.p99 - pair.baseline.p99)),
    failed: {
      worker: pairs.reduce((sum, pair) => sum + pair.worker.failed, 0),
      baseline: pairs.reduce((sum, pair) => sum + pair.baseline.failed, 0),
    },
    statuses: {
      worker: mergeStatuses(pairs.map((pair) => pair.worker.statuses)),
      baseline: mergeStatuses(pairs.map((pair) => pair.baseline.statuses)),
    },
  };
}

function mergeStatuses(list) {
  const merged = {};
  for (const statuses of list) {
    for (const [status, count] of Object.entries(statuses)) merged[status] = (merged[status] ?? 0) + count;
  }
  return merged;
}
