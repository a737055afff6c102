/**
 * The Cron Trigger handler, through the worker's own `scheduled` export: it probes the fleet
 * (here, a closed loopback port and a udp-only node), writes health to KV and logs one summary
 * line with node ids, transports, timings and error codes, and nothing secret.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { healthKey } from "../../../src/fleet/health";
import { TEST_SECRETS } from "../../support/test-env";
import { type EnvChanges, testEnv } from "../../support/worker-fetch";
import { fleetOf, node } from "./fixtures";

const FLEET = JSON.stringify(
  fleetOf(
    node("dead", 50.11, 8.68, { urls: { tcp: "turn:127.0.0.1:1?transport=tcp" }, lab: true }),
    node("udp-only", 52.37, 4.9, { urls: { udp: "turn:127.0.0.1:1?transport=udp" }, lab: true }),
  ),
);

let lines: string[];
beforeEach(() => {
  lines = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  }
});
afterEach(() => vi.restoreAllMocks());

async function runCron(changes: EnvChanges): Promise<void> {
  const controller = createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() });
  await worker.scheduled(controller, testEnv(changes));
}

describe("the scheduled health check", () => {
  it("records a closed port as unhealthy in KV, leaves a udp-only node unprobed, and logs one summary line", async () => {
    const before = Date.now();
    await runCron({ TURN_FLEET: FLEET });
    const record = JSON.parse((await env.TURN_CACHE.get(healthKey("dead")))!);
    expect(record).toEqual({ healthy: false, checkedAt: expect.any(Number), rttMs: null, error: "connect_failed" });
    expect(record.checkedAt).toBeGreaterThanOrEqual(before);
    expect(await env.TURN_CACHE.get(healthKey("udp-only"))).toBeNull();

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      msg: "fleet-health",
      cron: "* * * * *",
      nodes: [
        { id: "dead", via: "tcp", healthy: false, rttMs: null, error: "connect_failed" },
        { id: "udp-only", via: "unprobed", healthy: null, rttMs: null },
      ],
      healthy: 0,
      unhealthy: 1,
      unprobed: 1,
      writeFailures: 0,
      durationMs: expect.any(Number),
    });
    for (const secret of Object.values(TEST_SECRETS)) expect(lines[0]).not.toContain(secret);
  });

  it("logs that there is no fleet, and probes nothing, when none is configured", async () => {
    await runCron({ TURN_FLEET_KV_KEY: "fleet:nowhere" });
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ msg: "fleet-health", cron: "* * * * *", fleet: "none" }]);
  });

  it("logs a broken TURN_FLEET by name (not value) and fails the run", async () => {
    await expect(runCron({ TURN_FLEET: '{"version":1,"nodes":"sentinel-fleet-value"}' })).rejects.toThrow();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: "fleet-health", error: "config:TURN_FLEET" });
    expect(lines[0]).not.toContain("sentinel-fleet-value");
  });
});
