/**
 * The fleet's surface for the rest of icegate: `steerIceUrls` for the credentials path, and the
 * pieces the cron handler and tests use. Layout: fleet.ts (schema), load.ts (var or KV),
 * settings.ts (vars), steer.ts (pure ranking), health.ts (KV records), stun.ts + probe.ts +
 * monitor.ts (the probe), turn-url.ts (URI parsing).
 */
import { schema } from "../zod";
import { type HealthStatus, type HealthStore, healthStatus, kvHealthStore } from "./health";
import { fleetKnownAbsent, loadFleet } from "./load";
import { fleetSettings } from "./settings";
import { chooseNodes, type RequestPlace } from "./steer";

export type { Fleet, FleetNode } from "./fleet";
export { type HealthStore, kvHealthStore, memoryHealthStore, type NodeHealth } from "./health";
export { loadFleet } from "./load";
export { fleetSettings } from "./settings";
export { chooseNodes, type RequestPlace, type Steering, type SteeredNode } from "./steer";

/** The parts of request.cf steering reads; anything else, or a field of the wrong type, is ignored. */
const RequestCf = schema((z) =>
  z.object({
    latitude: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
    longitude: z.catch(z.optional(z.union([z.string(), z.number()])), undefined),
    country: z.catch(z.optional(z.string()), undefined),
    continent: z.catch(z.optional(z.string()), undefined),
  }),
);

/** request.cf as steering sees it: `c.req.raw.cf` is typed loosely (and absent in some local runs). */
export function requestPlace(cf: unknown): RequestPlace | undefined {
  const result = RequestCf().safeParse(cf);
  return result.success ? result.data : undefined;
}

export interface SteeredUrls {
  /** One group per chosen node, nearest first: each becomes one RTCIceServer's `urls`. Empty: all unhealthy. */
  urlGroups: string[][];
  /** For the X-Icegate-Steering debug header. ASCII, no secrets. */
  explanation: string;
}

/**
 * The TURN URLs for a request, steered by its request.cf (`cf()`, read only when a fleet is configured:
 * workerd builds the object on first access), or undefined when no fleet is configured (use TURN_URLS). Empty `urlGroups` means every node is unhealthy: fall back to the
 * next provider. Throws AppError `not_configured` for a bad TURN_FLEET or MAX_ICE_SERVERS.
 */
/**
 * Fleet steering for one request, as the coturn provider takes it (ResolveInput's `steer`): undefined while
 * this isolate knows there is no fleet, so that coturn answers from TURN_URLS without an await.
 */
export function fleetSteering(
  env: Cloudflare.Env,
  cf: () => unknown,
): (() => Promise<SteeredUrls | undefined>) | undefined {
  return fleetKnownAbsent(env) ? undefined : () => steerIceUrls(env, cf);
}

export async function steerIceUrls(
  env: Cloudflare.Env,
  cf: () => unknown,
  healthStore?: HealthStore,
  now = Date.now(),
): Promise<SteeredUrls | undefined> {
  const fleet = await loadFleet(env, now);
  if (!fleet) return undefined;
  const settings = fleetSettings(env);
  const store = healthStore ?? kvHealthStore(env.TURN_CACHE, settings);
  const ids = fleet.nodes.map((node) => node.id);
  const records = await store.read(ids, now);
  const statuses = new Map<string, HealthStatus>(
    ids.map((id) => [id, healthStatus(records.get(id), now, settings.staleAfterMs)]),
  );
  const { nodes, explanation } = chooseNodes(fleet, requestPlace(cf()), statuses, settings.maxIceServers);
  return { urlGroups: nodes.map((node) => node.urls), explanation };
}
