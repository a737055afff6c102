/**
 * The fleet's Wrangler vars, parsed with zod once per env object. All are optional: without
 * TURN_FLEET (and with no fleet in KV) icegate hands out TURN_URLS as before.
 *
 * | var                          | default    | meaning                                                  |
 * | ---------------------------- | ---------- | -------------------------------------------------------- |
 * | TURN_FLEET                   | (none)     | the fleet file's JSON; wins over KV                      |
 * | TURN_FLEET_KV_KEY            | `fleet:v1` | the TURN_CACHE key holding the fleet JSON                |
 * | MAX_ICE_SERVERS              | 2          | nodes per reply: the nearest, then fallbacks (1 to 5)    |
 * | TURN_HEALTH_INTERVAL_SECONDS | 60         | the cron's period; health older than 3 periods is unknown |
 */
import { schema, type ZodMini } from "../zod";
import { notConfigured } from "../errors";

/** An optional string var; blank counts as unset. */
const unsetIfBlank = schema((z) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value) => (value?.trim() ? value.trim() : undefined)),
  ),
);

const wholeNumber = (z: ZodMini, fallback: number, min: number, max: number) =>
  z.pipe(
    unsetIfBlank(),
    z._default(
      z.pipe(
        z.pipe(z.string().check(z.regex(/^\d{1,5}$/)), z.transform(Number)),
        z.number().check(z.gte(min), z.lte(max)),
      ),
      fallback,
    ),
  );

const FleetVars = schema((z) =>
  z.object({
    TURN_FLEET: unsetIfBlank(),
    TURN_FLEET_KV_KEY: z.pipe(unsetIfBlank(), z._default(z.string().check(z.maxLength(512)), "fleet:v1")),
    MAX_ICE_SERVERS: wholeNumber(z, 2, 1, 5),
    TURN_HEALTH_INTERVAL_SECONDS: wholeNumber(z, 60, 60, 86400),
  }),
);

export interface FleetSettings {
  fleetJson: string | undefined;
  kvKey: string;
  maxIceServers: number;
  /** Health records older than this are unknown: 3 probe intervals. */
  staleAfterMs: number;
  intervalSeconds: number;
}

const settings = new WeakMap<object, FleetSettings>();

/** The fleet settings of `env`. Throws AppError `not_configured` naming the bad variable. */
export function fleetSettings(env: Cloudflare.Env): FleetSettings {
  const cached = settings.get(env);
  if (cached) return cached;
  const result = FleetVars().safeParse(env);
  if (!result.success) throw notConfigured(String(result.error.issues[0]?.path[0] ?? "TURN_FLEET"));
  const vars = result.data;
  const value: FleetSettings = {
    fleetJson: vars.TURN_FLEET,
    kvKey: vars.TURN_FLEET_KV_KEY,
    maxIceServers: vars.MAX_ICE_SERVERS,
    staleAfterMs: 3 * vars.TURN_HEALTH_INTERVAL_SECONDS * 1000,
    intervalSeconds: vars.TURN_HEALTH_INTERVAL_SECONDS,
  };
  settings.set(env, value);
  return value;
}
