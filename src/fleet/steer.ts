/**
 * Geo-steering, pure: which fleet nodes a request gets, nearest first, and a one-line explanation
 * for the X-Icegate-Steering debug header.
 *
 * With request.cf coordinates, nodes rank by great-circle distance (whole kilometres), then weight
 * (higher first), then id. Without them, by place: same country, then same continent, then the
 * rest, each by weight, then id. Unhealthy nodes are skipped; unknown health counts as healthy
 * (see health.ts). Each chosen node becomes one RTCIceServer entry: its udp, tcp and tls URLs.
 */
import type { Fleet, FleetNode } from "./fleet";
import type { HealthStatus } from "./health";

/** The parts of request.cf steering uses. Cloudflare sends latitude and longitude as strings. */
export interface RequestPlace {
  latitude?: string | number;
  longitude?: string | number;
  country?: string;
  continent?: string;
}

export type SteeringBasis = "coordinates" | "country" | "continent" | "weight";

export interface SteeredNode {
  id: string;
  /** The node's URLs, udp then tcp then tls: one RTCIceServer entry. */
  urls: string[];
  basis: SteeringBasis;
  distanceKm: number | undefined;
  health: "healthy" | "unknown";
}

export interface Steering {
  nodes: SteeredNode[];
  explanation: string;
}

export const DEFAULT_MAX_ICE_SERVERS = 2;
const EARTH_RADIUS_KM = 6371.0088;

interface Ranked {
  node: FleetNode;
  basis: SteeringBasis;
  /** Whole kilometres, when the request had coordinates. */
  distanceKm: number | undefined;
  place: number;
}

/**
 * The nearest healthy nodes, at most `maxIceServers` of them, and why. When every node is
 * unhealthy, no nodes and "all nodes unhealthy": the caller falls back to its next provider.
 */
export function chooseNodes(
  fleet: Fleet,
  cf: RequestPlace | undefined,
  health: ReadonlyMap<string, HealthStatus>,
  maxIceServers = DEFAULT_MAX_ICE_SERVERS,
): Steering {
  const limit = Math.max(1, Math.floor(maxIceServers));
  const chosen: SteeredNode[] = [];
  const skipped: string[] = [];
  for (const { node, basis, distanceKm } of rank(fleet.nodes, cf)) {
    if (chosen.length >= limit) break;
    const status = health.get(node.id) ?? "unknown";
    if (status === "unhealthy") skipped.push(node.id);
    else chosen.push({ id: node.id, urls: urlsOf(node), basis, distanceKm, health: status });
  }
  if (chosen.length === 0) return { nodes: [], explanation: "all nodes unhealthy" };
  return { nodes: chosen, explanation: explain(chosen, skipped, fleet.nodes, cf) };
}

function rank(nodes: readonly FleetNode[], cf: RequestPlace | undefined): Ranked[] {
  const point = coordinates(cf);
  const ranked = nodes.map((node): Ranked => {
    if (point) {
      const distanceKm = Math.round(haversineKm(point, [node.latitude, node.longitude]));
      return { node, basis: "coordinates", distanceKm, place: distanceKm };
    }
    const place =
      node.country && node.country === cf?.country ? 0 : node.continent && node.continent === cf?.continent ? 1 : 2;
    return { node, basis: (["country", "continent", "weight"] as const)[place]!, distanceKm: undefined, place };
  });
  return ranked.sort(
    (a, b) =>
      a.place - b.place ||
      b.node.weight - a.node.weight ||
      (a.node.id < b.node.id ? -1 : a.node.id > b.node.id ? 1 : 0),
  );
}

/** Latitude and longitude from request.cf, when both are present and on the globe. */
export function coordinates(cf: RequestPlace | undefined): [number, number] | undefined {
  const latitude = finite(cf?.latitude);
  const longitude = finite(cf?.longitude);
  if (latitude === undefined || longitude === undefined) return undefined;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  return [latitude, longitude];
}

function finite(value: string | number | undefined): number | undefined {
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** Great-circle distance on a spherical Earth (mean radius): within 0.5 % of the ellipsoid. */
export function haversineKm([lat1, lon1]: [number, number], [lat2, lon2]: [number, number]): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function urlsOf(node: FleetNode): string[] {
  return [node.urls.udp, node.urls.tcp, node.urls.tls].filter((url): url is string => url !== undefined);
}

function explain(chosen: SteeredNode[], skipped: string[], nodes: readonly FleetNode[], cf: RequestPlace | undefined) {
  const weightOf = new Map(nodes.map((node) => [node.id, node.weight]));
  const located = Boolean(cf?.country || cf?.continent);
  const describe = (node: SteeredNode, first: boolean) => {
    const why = {
      coordinates: `${node.distanceKm} km${first ? ", by coordinates" : ""}`,
      country: `same country ${cf?.country}`,
      continent: `same continent ${cf?.continent}`,
      weight: `${located ? "elsewhere" : "no location"}, weight ${weightOf.get(node.id)}`,
    }[node.basis];
    return `${node.id} (${why}${node.health === "unknown" ? ", health unknown" : ""})`;
  };
  const [nearest, ...fallbacks] = chosen;
  const parts = [`nearest=${describe(nearest!, true)}`];
  if (fallbacks.length > 0) parts.push(`fallback=${fallbacks.map((node) => describe(node, false)).join(", ")}`);
  if (skipped.length > 0) parts.push(`skipped=${skipped.map((id) => `${id} (unhealthy)`).join(", ")}`);
  return parts.join("; ");
}
