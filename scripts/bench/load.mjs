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
 * Alternates the load between the sides of one path (icegate, the floor, the bare baseline): one warm-up of
 * each, then `rounds` rounds in which every side runs once, the order rotating from round to round so that
 * none always follows another. Every ratio and added latency is the median over rounds of that round's own
 * figures, so drift in the machine's load (other processes) hits all sides of each round alike.
 *
 * `sides` maps a name to `{ url, requests }`; the first is the one measured (the worker). The result has
 * each side's median figures, and for every two sides a, b (a listed before b) `ratios["a/b"]`, the median
 * of a's req/s over b's, and `addedP99["a/b"]`, the median of a's p99 minus b's.
 */
export async function alternate({ sides, rounds, duration, warmup, connections, onRound }) {
  const names = Object.keys(sides);
  const measured = names[0];
  const pairs = names.flatMap((a, i) => names.slice(i + 1).map((b) => [a, b]));
  let workerRequests = 0;
  for (const name of names) {
    const warm = await round({ ...sides[name], connections, duration: warmup });
    if (name === measured) workerRequests += warm.ok + warm.failed;
  }
  /** @type {Record<string, Round>[]} */
  const results = [];
  for (let i = 0; i < rounds; i++) {
    /** @type {Record<string, Round>} */
    const result = {};
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      result[name] = await round({ ...sides[name], connections, duration });
    }
    results.push(result);
    workerRequests += result[measured].ok + result[measured].failed;
    onRound?.(i, result);
  }
  const pick = (name, field) => median(results.map((result) => result[name][field]));
  return {
    rounds: results.length,
    workerRequests,
    sides: Object.fromEntries(
      names.map((name) => [
        name,
        {
          rps: pick(name, "rps"),
          p50: pick(name, "p50"),
          p99: pick(name, "p99"),
          failed: results.reduce((sum, result) => sum + result[name].failed, 0),
          statuses: mergeStatuses(results.map((result) => result[name].statuses)),
        },
      ]),
    ),
    ratios: Object.fromEntries(
      pairs.map(([a, b]) => [`${a}/${b}`, median(results.map((result) => result[a].rps / result[b].rps))]),
    ),
    addedP99: Object.fromEntries(
      pairs.map(([a, b]) => [`${a}/${b}`, median(results.map((result) => result[a].p99 - result[b].p99))]),
    ),
  };
}

function mergeStatuses(list) {
  const merged = {};
  for (const statuses of list) {
    for (const [status, count] of Object.entries(statuses)) merged[status] = (merged[status] ?? 0) + count;
  }
  return merged;
}
