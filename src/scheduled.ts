/**
 * The Cron Trigger handler: probes every node of the fleet from the edge (STUN Binding over TCP),
 * records each node's health in KV for steering, and logs one JSON line summarising the run:
 * `{"msg":"fleet-health","cron","nodes":[{"id","via","healthy","rttMs","error"?}],"healthy","unhealthy",...}`.
 * Node ids, transports, timings and error codes only: no URL, no secret. With Metered in secret-key mode it
 * first deletes the expired `icegate` credentials there (src/admin/metered-housekeeping.ts).
 */
import { connect } from "cloudflare:sockets";
import { deleteExpiredMeteredCredentials } from "./admin/metered-housekeeping";
import { loadConfig } from "./config";
import { AppError } from "./errors";
import { checkFleet } from "./fleet/monitor";
import { fleetSettings, kvHealthStore, loadFleet } from "./fleet";

export async function scheduled(controller: ScheduledController, env: Cloudflare.Env): Promise<void> {
  await meteredHousekeeping(controller, env);
  const started = Date.now();
  const line: Record<string, unknown> = { msg: "fleet-health", cron: controller.cron };
  try {
    const fleet = await loadFleet(env);
    if (!fleet) {
      console.log(JSON.stringify({ ...line, fleet: "none" }));
      return;
    }
    const store = kvHealthStore(env.TURN_CACHE, fleetSettings(env));
    const nodes = await checkFleet(fleet, store, { connect });
    Object.assign(line, {
      nodes,
      healthy: nodes.filter((node) => node.healthy === true).length,
      unhealthy: nodes.filter((node) => node.healthy === false).length,
      unprobed: nodes.filter((node) => node.healthy === null).length,
      writeFailures: nodes.filter((node) => node.writeFailed).length,
      durationMs: Date.now() - started,
    });
    console.log(JSON.stringify(line));
  } catch (error) {
    // A configuration error names the variable (its reason), never its value.
    const reason = error instanceof AppError ? error.reason : error instanceof Error ? error.name : "unknown";
    console.error(JSON.stringify({ ...line, error: reason, durationMs: Date.now() - started }));
    throw error;
  }
}

/**
 * Metered in secret-key mode: deletes the expired `icegate` credentials (src/admin/metered-housekeeping.ts) and
 * logs `{"msg":"metered-housekeeping","cron","expired","deleted","failed","error"?}`. Never throws.
 */
async function meteredHousekeeping(controller: ScheduledController, env: Cloudflare.Env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch {
    return; // The fleet check below reports a configuration error.
  }
  const metered = config.upstream.metered;
  if (!config.providers.includes("metered") || !metered?.secretKey) return;
  const summary = await deleteExpiredMeteredCredentials(metered, config.upstream.timeoutMs);
  console.log(JSON.stringify({ msg: "metered-housekeeping", cron: controller.cron, ...summary }));
}
