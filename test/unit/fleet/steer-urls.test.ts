/**
 * steerIceUrls, the call the credentials path makes: undefined without a fleet, else URL groups
 * nearest first with the explanation, health read from the store and judged fresh or stale.
 */
import { describe, expect, it } from "vitest";
import { memoryHealthStore, requestPlace, steerIceUrls } from "../../../src/fleet/index";
import { testEnv } from "../../support/worker-fetch";
import { CF, fleetOf, node } from "./fixtures";

const T0 = 1_800_000_000_000;
const FLEET = JSON.stringify(fleetOf(node("fra1", 50.11, 8.68), node("ams1", 52.37, 4.9), node("iad1", 38.95, -77.45)));

describe("steerIceUrls", () => {
  it("is undefined when no fleet is configured", async () => {
    expect(
      await steerIceUrls(testEnv({ TURN_FLEET_KV_KEY: "fleet:none" }), () => CF.frankfurt, memoryHealthStore(), T0),
    ).toBeUndefined();
  });

  it("returns one URL group per node, nearest first, and the explanation", async () => {
    const health = memoryHealthStore({ fra1: { healthy: true, checkedAt: T0 - 1000, rttMs: 20 } });
    const steered = await steerIceUrls(testEnv({ TURN_FLEET: FLEET }), () => CF.frankfurt, health, T0);
    expect(steered).toEqual({
      urlGroups: [
        [
          "turn:fra1.example.net:3478?transport=udp",
          "turn:fra1.example.net:3478?transport=tcp",
          "turns:fra1.example.net:5349?transport=tcp",
        ],
        [
          "turn:ams1.example.net:3478?transport=udp",
          "turn:ams1.example.net:3478?transport=tcp",
          "turns:ams1.example.net:5349?transport=tcp",
        ],
      ],
      explanation: "nearest=fra1 (0 km, by coordinates); fallback=ams1 (364 km, health unknown)",
    });
  });

  it("skips a node whose fresh record says unhealthy, but not one whose record is stale", async () => {
    const vars = testEnv({ TURN_FLEET: FLEET, MAX_ICE_SERVERS: "1" });
    const fresh = memoryHealthStore({
      fra1: { healthy: false, checkedAt: T0 - 60_000, rttMs: null, error: "timeout" },
    });
    expect((await steerIceUrls(vars, () => CF.frankfurt, fresh, T0))?.explanation).toBe(
      "nearest=ams1 (364 km, by coordinates, health unknown); skipped=fra1 (unhealthy)",
    );
    const stale = memoryHealthStore({ fra1: { healthy: false, checkedAt: T0 - 181_000, rttMs: null } });
    expect((await steerIceUrls(vars, () => CF.frankfurt, stale, T0))?.urlGroups[0]![0]).toContain("fra1");
  });

  it("returns no groups when every node is unhealthy (the caller falls back)", async () => {
    const down = { healthy: false, checkedAt: T0, rttMs: null };
    const health = memoryHealthStore({ fra1: down, ams1: down, iad1: down });
    expect(await steerIceUrls(testEnv({ TURN_FLEET: FLEET }), () => CF.sydney, health, T0)).toEqual({
      urlGroups: [],
      explanation: "all nodes unhealthy",
    });
  });

  it("reads health from TURN_CACHE when no store is given", async () => {
    expect(await steerIceUrls(testEnv({ TURN_FLEET: FLEET, MAX_ICE_SERVERS: "1" }), () => CF.virginia)).toMatchObject({
      explanation: "nearest=iad1 (11 km, by coordinates, health unknown)",
    });
  });

  it("takes request.cf as the runtime gives it, and ignores what it cannot use", async () => {
    const request = new Request("https://icegate.example.test/", { cf: { cacheTtl: 5 } });
    const steered = await steerIceUrls(testEnv({ TURN_FLEET: FLEET }), () => request.cf, memoryHealthStore(), T0);
    expect(steered?.explanation).toMatch(/^nearest=\S+ \(no location, weight 1/);
    expect(requestPlace({ ...CF.sydney, colo: "SYD", asn: 13335 })).toEqual({
      latitude: "-33.86785",
      longitude: "151.20732",
      country: "AU",
      continent: "OC",
    });
    expect(requestPlace({ latitude: 50, longitude: ["8"], country: 49 })).toEqual({ latitude: 50 });
    expect(requestPlace(undefined)).toBeUndefined();
    expect(requestPlace("cf")).toBeUndefined();
  });
});
