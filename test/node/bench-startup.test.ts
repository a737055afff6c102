/**
 * How the bench reads a `wrangler check startup` profile (scripts/bench/wrangler.mjs `sampledCpuMs`).
 * The shape below is what workerd's profiler gives for a worker's startup: an idle sample, then the first
 * sample in the worker's module whose time delta spans the unsampled wait for the profiling request,
 * then samples one interval (about 1 ms) apart.
 */
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string } }[];
  samples: number[];
  timeDeltas: number[];
}

const WRANGLER_MJS = resolve(import.meta.dirname, "../../scripts/bench/wrangler.mjs");
let sampledCpuMs: (profile: CpuProfile) => number;

beforeAll(async () => {
  ({ sampledCpuMs } = (await import(WRANGLER_MJS)) as { sampledCpuMs: typeof sampledCpuMs });
});

const NODES = [
  { id: 1, callFrame: { functionName: "(root)" } },
  { id: 2, callFrame: { functionName: "(idle)" } },
  { id: 3, callFrame: { functionName: "" } },
  { id: 4, callFrame: { functionName: "(garbage collector)" } },
];

describe("startup CPU from a wrangler check startup profile", () => {
  it("counts the sample after the unsampled wait as one interval, not as the wait", () => {
    const profile = { nodes: NODES, samples: [2, 3, 3, 3, 2], timeDeltas: [9_820, 15_340, 1_060, 1_330, 12_530] };
    // wrangler's "Active" would say 17.73 ms; the samples stand for 1.5 + 1.06 + 1.33 ms of CPU.
    expect(sampledCpuMs(profile)).toBeCloseTo(3.89, 5);
  });

  it("counts nothing for a profile that only idles (an empty module)", () => {
    expect(sampledCpuMs({ nodes: NODES, samples: [2], timeDeltas: [4_850] })).toBe(0);
  });

  it("counts garbage collection and every regular sample in full", () => {
    const profile = { nodes: NODES, samples: [3, 4, 3], timeDeltas: [1_000, 1_200, 1_400] };
    expect(sampledCpuMs(profile)).toBeCloseTo(3.6, 5);
  });
});
