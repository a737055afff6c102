/**
 * Fleets and request.cf objects for the fleet tests. The cf values are shaped as Cloudflare sends
 * them: latitude and longitude as strings, ISO country codes, Cloudflare continent codes.
 */
import example from "../../../infrastructure/fleet.example.json";
import { type Fleet, type FleetNode, parseFleet } from "../../../src/fleet/fleet";
import type { RequestPlace } from "../../../src/fleet/steer";

/** infrastructure/fleet.example.json: fra1, iad1, gru1, sin1, syd1. */
export const EXAMPLE_FLEET: Fleet = parseFleet(JSON.stringify(example));

export const CF = {
  frankfurt: { latitude: "50.11090", longitude: "8.68213", country: "DE", continent: "EU", city: "Frankfurt am Main" },
  virginia: { latitude: "39.04372", longitude: "-77.48749", country: "US", continent: "NA", region: "Virginia" },
  singapore: { latitude: "1.28967", longitude: "103.85007", country: "SG", continent: "AS", city: "Singapore" },
  saoPaulo: { latitude: "-23.54750", longitude: "-46.63611", country: "BR", continent: "SA", city: "São Paulo" },
  sydney: { latitude: "-33.86785", longitude: "151.20732", country: "AU", continent: "OC", city: "Sydney" },
} satisfies Record<string, RequestPlace & { city?: string; region?: string }>;

/** A node on `host`.example.net with all three URLs, for fleets built in tests. */
export function node(id: string, latitude: number, longitude: number, extra: Partial<FleetNode> = {}): FleetNode {
  const host = `${id}.example.net`;
  return {
    id,
    region: extra.region ?? id,
    latitude,
    longitude,
    urls: {
      udp: `turn:${host}:3478?transport=udp`,
      tcp: `turn:${host}:3478?transport=tcp`,
      tls: `turns:${host}:5349?transport=tcp`,
    },
    weight: 1,
    ...extra,
  };
}

export function fleetOf(...nodes: FleetNode[]): Fleet {
  return { version: 1, nodes };
}
