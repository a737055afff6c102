/**
 * Geo-steering as a specification: requests from five continents get their nearest node and one
 * fallback; ties go to weight, then id; without coordinates, country then continent then weight;
 * unhealthy nodes are skipped, unknown ones kept; the explanation is deterministic.
 */
import { describe, expect, it } from "vitest";
import type { HealthStatus } from "../../../src/fleet/health";
import { chooseNodes, coordinates, haversineKm } from "../../../src/fleet/steer";
import { CF, EXAMPLE_FLEET, fleetOf, node } from "./fixtures";

const allHealthy = new Map<string, HealthStatus>(EXAMPLE_FLEET.nodes.map((n) => [n.id, "healthy"]));
const ids = (steering: ReturnType<typeof chooseNodes>) => steering.nodes.map((n) => n.id);

describe("chooseNodes with request coordinates", () => {
  it.each([
    ["Frankfurt", CF.frankfurt, "nearest=fra1 (0 km, by coordinates); fallback=iad1 (6553 km)"],
    ["Virginia", CF.virginia, "nearest=iad1 (11 km, by coordinates); fallback=fra1 (6549 km)"],
    ["Singapore", CF.singapore, "nearest=sin1 (18 km, by coordinates); fallback=syd1 (6300 km)"],
    ["São Paulo", CF.saoPaulo, "nearest=gru1 (21 km, by coordinates); fallback=iad1 (7654 km)"],
    ["Sydney", CF.sydney, "nearest=syd1 (9 km, by coordinates); fallback=sin1 (6293 km)"],
  ])("steers a request from %s to its nearest node, plus one fallback", (_, cf, explanation) => {
    const steering = chooseNodes(EXAMPLE_FLEET, cf, allHealthy, 2);
    expect(steering.explanation).toBe(explanation);
    expect(steering.nodes).toHaveLength(2);
  });

  it("gives each node one entry with its udp, tcp and tls URLs, in that order", () => {
    const [nearest] = chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy, 1).nodes;
    expect(nearest).toEqual({
      id: "fra1",
      urls: [
        "turn:turn-fra1.example.com:3478?transport=udp",
        "turn:turn-fra1.example.com:3478?transport=tcp",
        "turns:turn-fra1.example.com:5349?transport=tcp",
      ],
      basis: "coordinates",
      distanceKm: 0,
      health: "healthy",
    });
  });

  it("returns at most maxIceServers nodes, and never more than the fleet has", () => {
    expect(ids(chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy, 1))).toEqual(["fra1"]);
    expect(ids(chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy, 3))).toEqual(["fra1", "iad1", "gru1"]);
    expect(ids(chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy, 9))).toHaveLength(5);
    expect(ids(chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy, 0))).toEqual(["fra1"]);
    expect(ids(chooseNodes(EXAMPLE_FLEET, CF.frankfurt, allHealthy))).toEqual(["fra1", "iad1"]);
  });

  it("breaks a distance tie by weight, then by id, whatever the order of the fleet file", () => {
    const nodes = [
      node("fra-b", 50.11, 8.68),
      node("fra-a", 50.11, 8.68),
      node("fra-heavy", 50.11, 8.68, { weight: 3 }),
      node("ams1", 52.37, 4.9, { weight: 10 }),
    ];
    const expected = ["fra-heavy", "fra-a", "fra-b", "ams1"];
    for (const order of [nodes, [...nodes].reverse(), [nodes[2]!, nodes[0]!, nodes[3]!, nodes[1]!]]) {
      expect(ids(chooseNodes(fleetOf(...order), CF.frankfurt, new Map(), 4))).toEqual(expected);
    }
  });

  it("counts whole kilometres, so sites metres apart tie and weight decides", () => {
    const fleet = fleetOf(node("near", 50.1109, 8.6821), node("also-near", 50.111, 8.6822, { weight: 2 }));
    expect(ids(chooseNodes(fleet, CF.frankfurt, new Map(), 1))).toEqual(["also-near"]);
  });

  it("skips unhealthy nodes and says which", () => {
    const health = new Map<string, HealthStatus>([...allHealthy, ["fra1", "unhealthy"]]);
    const steering = chooseNodes(EXAMPLE_FLEET, CF.frankfurt, health, 2);
    expect(ids(steering)).toEqual(["iad1", "gru1"]);
    expect(steering.explanation).toBe(
      "nearest=iad1 (6553 km, by coordinates); fallback=gru1 (9810 km); skipped=fra1 (unhealthy)",
    );
  });

  it("keeps nodes of unknown health (never probed, or stale) and marks them", () => {
    const health = new Map<string, HealthStatus>([["iad1", "healthy"]]);
    const steering = chooseNodes(EXAMPLE_FLEET, CF.virginia, health, 2);
    expect(steering.explanation).toBe("nearest=iad1 (11 km, by coordinates); fallback=fra1 (6549 km, health unknown)");
    expect(steering.nodes.map((n) => n.health)).toEqual(["healthy", "unknown"]);
  });

  it("returns no nodes and 'all nodes unhealthy' when every node failed its probe", () => {
    const health = new Map<string, HealthStatus>(EXAMPLE_FLEET.nodes.map((n) => [n.id, "unhealthy"]));
    expect(chooseNodes(EXAMPLE_FLEET, CF.sydney, health, 2)).toEqual({ nodes: [], explanation: "all nodes unhealthy" });
  });

  it("is deterministic: the same inputs give the same answer and explanation", () => {
    const runs = Array.from({ length: 5 }, () => chooseNodes(EXAMPLE_FLEET, CF.saoPaulo, allHealthy, 2));
    for (const run of runs) expect(run).toEqual(runs[0]);
  });
});

describe("chooseNodes without request coordinates", () => {
  const placed = fleetOf(
    node("fra1", 50.11, 8.68, { country: "DE", continent: "EU" }),
    node("ams1", 52.37, 4.9, { country: "NL", continent: "EU", weight: 2 }),
    node("par1", 48.86, 2.35, { country: "FR", continent: "EU" }),
    node("iad1", 38.95, -77.45, { country: "US", continent: "NA", weight: 3 }),
    node("sin1", 1.36, 103.99),
  );

  it("prefers the same country, then the same continent (by weight), then the rest", () => {
    const steering = chooseNodes(placed, { country: "DE", continent: "EU" }, new Map(), 4);
    expect(ids(steering)).toEqual(["fra1", "ams1", "par1", "iad1"]);
    expect(steering.explanation).toBe(
      "nearest=fra1 (same country DE, health unknown); fallback=ams1 (same continent EU, health unknown), " +
        "par1 (same continent EU, health unknown), iad1 (elsewhere, weight 3, health unknown)",
    );
  });

  it("falls back to the continent when no node is in the country", () => {
    const steering = chooseNodes(placed, { country: "IT", continent: "EU" }, new Map(), 2);
    expect(ids(steering)).toEqual(["ams1", "fra1"]);
  });

  it("falls back to weight, then id, when nothing matches or nothing is known", () => {
    expect(ids(chooseNodes(placed, { country: "AU", continent: "OC" }, new Map(), 3))).toEqual([
      "iad1",
      "ams1",
      "fra1",
    ]);
    const steering = chooseNodes(placed, undefined, new Map(), 2);
    expect(ids(steering)).toEqual(["iad1", "ams1"]);
    expect(steering.explanation).toBe(
      "nearest=iad1 (no location, weight 3, health unknown); fallback=ams1 (no location, weight 2, health unknown)",
    );
  });

  it("treats missing, empty or unparseable coordinates as no coordinates", () => {
    for (const cf of [
      { latitude: "50.1", country: "DE" },
      { latitude: "", longitude: "", country: "DE" },
      { latitude: "north", longitude: "8.6", country: "DE" },
      { latitude: "95", longitude: "8.6", country: "DE" },
    ]) {
      expect(coordinates(cf)).toBeUndefined();
      expect(chooseNodes(placed, cf, new Map(), 1).nodes[0]).toMatchObject({ id: "fra1", basis: "country" });
    }
    expect(coordinates({ latitude: "-33.86785", longitude: "151.20732" })).toEqual([-33.86785, 151.20732]);
  });
});

describe("haversineKm", () => {
  it("measures great-circle distances within a few km of published figures", () => {
    // Frankfurt to New York (JFK) is about 6,200 km; London to Sydney about 17,000 km.
    expect(haversineKm([50.0379, 8.5622], [40.6413, -73.7781])).toBeCloseTo(6200, -2);
    expect(haversineKm([51.47, -0.4543], [-33.9399, 151.1753])).toBeCloseTo(17016, -2);
    expect(haversineKm([0, 0], [0, 180])).toBeCloseTo(Math.PI * 6371.0088, 6);
  });
});
