/**
 * Where the fleet comes from: the TURN_FLEET var (a deploy changes it), else the TURN_CACHE KV key
 * TURN_FLEET_KV_KEY (`wrangler kv key put` changes it without a deploy, live within about a minute).
 * The KV text is kept per isolate for 60 s; parsing is cached by value in fleet.ts.
 *
 * A broken TURN_FLEET var is a deploy mistake: 503 `not_configured`, like every other bad var.
 * A broken fleet in KV is logged and ignored (callers fall back to TURN_URLS), so a bad
 * `kv key put` cannot stop credentials everywhere within a minute.
 */
import { notConfigured } from "../errors";
import { type Fleet, FleetFormatError, parseFleet } from "./fleet";
import { fleetSettings } from "./settings";

export const FLEET_KV_CACHE_MS = 60_000;

interface CachedText {
  text: string | null;
  fetchedAt: number;
}

/** Resolved texts only, never promises: another request's promise may be cancelled with it. */
const kvTexts = new WeakMap<KVNamespace, Map<string, CachedText>>();

/** The fleet, or undefined when none is configured (the caller then uses TURN_URLS). */
export async function loadFleet(env: Cloudflare.Env, now = Date.now()): Promise<Fleet | undefined> {
  const settings = fleetSettings(env);
  if (settings.fleetJson !== undefined) {
    try {
      return parseFleet(settings.fleetJson);
    } catch (error) {
      if (error instanceof FleetFormatError) throw notConfigured("TURN_FLEET");
      throw error;
    }
  }
  const text = await readKvText(env.TURN_CACHE, settings.kvKey, now);
  if (text === null) return undefined;
  try {
    return parseFleet(text);
  } catch (error) {
    if (!(error instanceof FleetFormatError)) throw error;
    console.warn(JSON.stringify({ msg: "fleet", error: "invalid_fleet", key: settings.kvKey, problem: error.problem }));
    return undefined;
  }
}

/**
 * True when this isolate knows that no fleet is configured: no TURN_FLEET, and the KV key read empty (or no
 * KV) within FLEET_KV_CACHE_MS. Then a request need not ask (and await) loadFleet to learn it.
 */
export function fleetKnownAbsent(env: Cloudflare.Env, now = Date.now()): boolean {
  let settings: ReturnType<typeof fleetSettings>;
  try {
    settings = fleetSettings(env);
  } catch {
    return false;
  }
  if (settings.fleetJson !== undefined) return false;
  const kv = env.TURN_CACHE;
  if (!kv) return true;
  const cached = kvTexts.get(kv)?.get(settings.kvKey);
  return cached !== undefined && cached.text === null && now - cached.fetchedAt < FLEET_KV_CACHE_MS;
}

async function readKvText(kv: KVNamespace | undefined, key: string, now: number): Promise<string | null> {
  if (!kv) return null;
  let texts = kvTexts.get(kv);
  if (!texts) kvTexts.set(kv, (texts = new Map()));
  const cached = texts.get(key);
  if (cached && now - cached.fetchedAt < FLEET_KV_CACHE_MS) return cached.text;
  try {
    const text = await kv.get(key, { type: "text", cacheTtl: 60 });
    texts.set(key, { text, fetchedAt: now });
    return text;
  } catch (error) {
    // KV unavailable: keep steering with the last fleet this isolate saw, if any.
    console.warn(
      JSON.stringify({
        msg: "fleet",
        error: "kv_read_failed",
        key,
        type: error instanceof Error ? error.name : "unknown",
      }),
    );
    return cached?.text ?? null;
  }
}
