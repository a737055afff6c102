/**
 * Where the fleet comes from: TURN_FLEET wins; else the TURN_CACHE key (fleet:v1 by default), kept
 * 60 s per isolate; else none. A bad var is 503 not_configured; a bad KV value is logged and ignored.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../../src/errors";
import { fleetKnownAbsent, loadFleet } from "../../../src/fleet/load";
import { fleetSettings } from "../../../src/fleet/settings";
import { testEnv } from "../../support/worker-fetch";
import { fleetOf, node } from "./fixtures";

const T0 = 1_800_000_000_000;
const fleetText = (...ids: string[]) => JSON.stringify(fleetOf(...ids.map((id) => node(id, 0, 0))));

afterEach(() => vi.restoreAllMocks());

describe("loadFleet", () => {
  it("is undefined when neither TURN_FLEET nor the KV key holds a fleet", async () => {
    expect(await loadFleet(testEnv({ TURN_FLEET_KV_KEY: "fleet:absent" }), T0)).toBeUndefined();
  });

  it("parses TURN_FLEET, which wins over KV", async () => {
    await env.TURN_CACHE.put("fleet:v1", fleetText("from-kv"));
    const fleet = await loadFleet(testEnv({ TURN_FLEET: fleetText("from-var") }), T0);
    expect(fleet?.nodes.map((n) => n.id)).toEqual(["from-var"]);
  });

  it("answers 503 not_configured naming TURN_FLEET (never its value) when the var is not a fleet", async () => {
    const error = await loadFleet(testEnv({ TURN_FLEET: '{"version":1,"nodes":[]}' }), T0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).body).toEqual({
      error: { code: "not_configured", message: "TURN_FLEET is missing or invalid" },
    });
  });

  it("reads the fleet from KV under fleet:v1 by default, or TURN_FLEET_KV_KEY", async () => {
    await env.TURN_CACHE.put("fleet:v1", fleetText("default-key"));
    await env.TURN_CACHE.put("fleet:custom", fleetText("custom-key"));
    expect((await loadFleet(testEnv(), T0))?.nodes[0]!.id).toBe("default-key");
    expect((await loadFleet(testEnv({ TURN_FLEET_KV_KEY: "fleet:custom" }), T0))?.nodes[0]!.id).toBe("custom-key");
  });

  it("keeps the KV fleet for 60 s in the isolate, then picks up a new one without a deploy", async () => {
    const vars = testEnv({ TURN_FLEET_KV_KEY: "fleet:cached" });
    await env.TURN_CACHE.put("fleet:cached", fleetText("old"));
    expect((await loadFleet(vars, T0))?.nodes[0]!.id).toBe("old");
    await env.TURN_CACHE.put("fleet:cached", fleetText("new"));
    expect((await loadFleet(vars, T0 + 59_999))?.nodes[0]!.id).toBe("old");
    expect((await loadFleet(vars, T0 + 60_000))?.nodes[0]!.id).toBe("new");
  });

  it("ignores a broken fleet in KV (so callers use TURN_URLS) and logs where it is broken", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    await env.TURN_CACHE.put("fleet:broken", '{"version":1,"nodes":[{"id":"x"}]}');
    expect(await loadFleet(testEnv({ TURN_FLEET_KV_KEY: "fleet:broken" }), T0)).toBeUndefined();
    expect(warnings.map((line) => JSON.parse(line))).toEqual([
      { msg: "fleet", error: "invalid_fleet", key: "fleet:broken", problem: expect.stringContaining("nodes.0") },
    ]);
  });
});

describe("fleetSettings", () => {
  it("defaults to 2 ICE servers and a 60 s probe interval (stale after 180 s)", () => {
    expect(fleetSettings(testEnv())).toEqual({
      fleetJson: undefined,
      kvKey: "fleet:v1",
      maxIceServers: 2,
      staleAfterMs: 180_000,
      intervalSeconds: 60,
    });
  });

  it("reads MAX_ICE_SERVERS and TURN_HEALTH_INTERVAL_SECONDS, treating blank as unset", () => {
    expect(fleetSettings(testEnv({ MAX_ICE_SERVERS: "3", TURN_HEALTH_INTERVAL_SECONDS: "300" }))).toMatchObject({
      maxIceServers: 3,
      staleAfterMs: 900_000,
    });
    expect(fleetSettings(testEnv({ TURN_FLEET: " ", MAX_ICE_SERVERS: "" }))).toMatchObject({
      fleetJson: undefined,
      maxIceServers: 2,
    });
  });

  it.each([
    ["MAX_ICE_SERVERS", "0"],
    ["MAX_ICE_SERVERS", "6"],
    ["MAX_ICE_SERVERS", "two"],
    ["TURN_HEALTH_INTERVAL_SECONDS", "30"],
  ])("refuses %s=%s with 503 not_configured naming it", (name, value) => {
    expect(() => fleetSettings(testEnv({ [name]: value }))).toThrow(`${name} is missing or invalid`);
  });
});

describe("fleetKnownAbsent: no fleet, known without an await", () => {
  it("is known only after this isolate read the KV key empty, and for the KV cache's 60 s", async () => {
    const vars = testEnv({ TURN_FLEET_KV_KEY: "fleet:never" });
    expect(fleetKnownAbsent(vars, T0), "not read yet").toBe(false);
    expect(await loadFleet(vars, T0)).toBeUndefined();
    expect(fleetKnownAbsent(vars, T0 + 59_999)).toBe(true);
    expect(fleetKnownAbsent(vars, T0 + 60_000), "the look is a minute old").toBe(false);
  });

  it("is never known while a fleet is in KV or in TURN_FLEET", async () => {
    const vars = testEnv({ TURN_FLEET_KV_KEY: "fleet:present" });
    await env.TURN_CACHE.put("fleet:present", fleetText("kv-node"));
    expect((await loadFleet(vars, T0))?.nodes[0]!.id).toBe("kv-node");
    expect(fleetKnownAbsent(vars, T0)).toBe(false);
    expect(fleetKnownAbsent(testEnv({ TURN_FLEET: fleetText("var-node") }), T0)).toBe(false);
  });

  it("is known at once without a KV namespace, and never for a fleet variable it cannot read", () => {
    expect(fleetKnownAbsent(testEnv({ TURN_CACHE: undefined }), T0)).toBe(true);
    expect(fleetKnownAbsent(testEnv({ MAX_ICE_SERVERS: "9" }), T0), "invalid settings: loadFleet says why").toBe(false);
  });
});
