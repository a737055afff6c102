/**
 * Probes a whole fleet, at most 6 sockets at a time (a Worker invocation may hold 6 outbound
 * connections), and records each node's health: one KV write per node per run.
 * Each node is probed on its tcp URL, else its tls URL. A node with only a udp URL cannot be
 * probed from the edge (TCP only) and gets no record, so it stays "unknown", which steers as healthy.
 */
import type { Fleet, FleetNode } from "./fleet";
import type { HealthStore, NodeHealth } from "./health";
import { type ProbeOptions, type ProbeResult, probeNode } from "./probe";

export const PROBE_CONCURRENCY = 6;

export interface NodeReport {
  id: string;
  /** tcp, tls, or unprobed (udp only). */
  via: "tcp" | "tls" | "unprobed";
  healthy: boolean | null;
  rttMs: number | null;
  error?: string;
  /** The health record could not be written. */
  writeFailed?: true;
}

/** The URL a node is probed on from the edge, and over what. */
export function probeTarget(node: FleetNode): { url: string; via: "tcp" | "tls" } | undefined {
  if (node.urls.tcp) return { url: node.urls.tcp, via: "tcp" };
  if (node.urls.tls) return { url: node.urls.tls, via: "tls" };
  return undefined;
}

export async function checkFleet(
  fleet: Fleet,
  store: HealthStore,
  options: ProbeOptions & { concurrency?: number },
): Promise<NodeReport[]> {
  const now = options.now ?? Date.now;
  return mapLimit(fleet.nodes, options.concurrency ?? PROBE_CONCURRENCY, async (node): Promise<NodeReport> => {
    const target = probeTarget(node);
    if (!target) return { id: node.id, via: "unprobed", healthy: null, rttMs: null };
    const result: ProbeResult = await probeNode(target.url, options);
    const record: NodeHealth = { healthy: result.healthy, checkedAt: Math.round(now()), rttMs: result.rttMs };
    const report: NodeReport = { id: node.id, via: target.via, healthy: result.healthy, rttMs: result.rttMs };
    if (result.error) record.error = report.error = result.error;
    try {
      await store.write(node.id, record);
    } catch {
      report.writeFailed = true;
    }
    return report;
  });
}

/** `fn` over `items`, at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
