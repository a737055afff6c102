/**
 * The fleet health check from the edge, end to end: the worker runs under `wrangler dev
 * --test-scheduled` (workerd, where `connect()` reaches loopback), its cron is triggered through
 * /__scheduled, and its summary line reports the live coturn as healthy over a STUN Binding on
 * TCP and a closed port as unhealthy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Coturn, startCoturn } from "../support/coturn";
import { freePort, waitFor } from "../support/processes";
import { requireCoturn } from "../support/coturn-build";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const TURN_SECRET = "health-probe-turn-secret-6b1d9e";

interface NodeLine {
  id: string;
  via: string;
  healthy: boolean | null;
  rttMs: number | null;
  error?: string;
}

interface SummaryLine {
  msg: string;
  cron: string;
  nodes: NodeLine[];
  healthy: number;
  unhealthy: number;
}

/** The worker's `fleet-health` log lines so far, parsed. */
function summaries(output: string): SummaryLine[] {
  return output
    .split("\n")
    .filter((line) => line.includes('"msg":"fleet-health"'))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))) as SummaryLine);
}

const enabled = requireCoturn();

describe.skipIf(!enabled)("the cron health probe under wrangler dev", () => {
  let coturn: Coturn;
  let worker: WranglerDev;

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [TURN_SECRET] });
    const closed = await freePort();
    const fleet = {
      version: 1,
      nodes: [
        {
          id: "live",
          region: "local",
          latitude: 50.11,
          longitude: 8.68,
          urls: { tcp: `turn:127.0.0.1:${coturn.port}?transport=tcp` },
          // A loopback node: allowed only with the lab opt-in.
          lab: true,
        },
        {
          id: "dead",
          region: "local",
          latitude: 52.37,
          longitude: 4.9,
          urls: { tcp: `turn:127.0.0.1:${closed}?transport=tcp` },
          lab: true,
        },
      ],
    };
    // The fleet goes on the command line (it holds no secret): the env file's dotenv quoting would
    // keep JSON.stringify's backslashes, and the worker would rightly refuse the result.
    worker = await startWranglerDev({ TURN_SECRET, ALLOW_ANONYMOUS: "true" }, [
      "--test-scheduled",
      "--var",
      `TURN_FLEET:${JSON.stringify(fleet)}`,
    ]);
  });

  afterAll(async () => {
    await worker?.stop();
    await coturn?.stop();
  });

  it("reports the live coturn as healthy and the closed port as unhealthy", async () => {
    const response = await fetch(`${worker.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);
    expect(response.status, worker.output()).toBe(200);
    await waitFor(
      async () => summaries(worker.output()).length > 0,
      20_000,
      () => worker.output(),
    );
    const [summary] = summaries(worker.output());
    expect(summary).toMatchObject({ msg: "fleet-health", cron: "* * * * *", healthy: 1, unhealthy: 1 });
    const live = summary!.nodes.find((node) => node.id === "live");
    const dead = summary!.nodes.find((node) => node.id === "dead");
    expect(live).toEqual({ id: "live", via: "tcp", healthy: true, rttMs: expect.any(Number) });
    expect(live!.rttMs).toBeLessThan(3000);
    expect(dead).toMatchObject({ id: "dead", via: "tcp", healthy: false, rttMs: null });
    expect(["connect_failed", "closed", "io_error"]).toContain(dead!.error);
    expect(worker.output()).not.toContain(TURN_SECRET);
  });
});
