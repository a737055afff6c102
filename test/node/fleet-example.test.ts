/**
 * infrastructure/fleet.example.json is a well-formed fleet: it parses, node ids are unique,
 * coordinates are on the globe, and each node's URLs are TURN URIs of the right scheme and
 * transport, all naming that node's own host on a reserved example domain.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as z from "zod";

const FLEET_FILE = new URL("../../infrastructure/fleet.example.json", import.meta.url);

const TURN_URI = /^(turns?):([a-z0-9-]+(?:\.[a-z0-9-]+)+):(\d{1,5})\?transport=(udp|tcp)$/;

const FleetNode = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  region: z.string().min(1),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  urls: z.strictObject({
    udp: z.string().regex(TURN_URI),
    tcp: z.string().regex(TURN_URI),
    tls: z.string().regex(TURN_URI),
  }),
  weight: z.number().positive(),
});
type FleetNode = z.infer<typeof FleetNode>;

const Fleet = z.strictObject({
  $comment: z.string().optional(),
  version: z.literal(1),
  nodes: z.array(FleetNode).min(1),
});

function parts(uri: string) {
  const [, scheme, host, port, transport] = TURN_URI.exec(uri)!;
  return { scheme, host, port: Number(port), transport };
}

describe("the example fleet file", () => {
  const fleet = Fleet.parse(JSON.parse(readFileSync(FLEET_FILE, "utf8")));

  it("describes four or five nodes, with unique ids, on different continents", () => {
    expect(fleet.nodes.length).toBeGreaterThanOrEqual(4);
    expect(fleet.nodes.length).toBeLessThanOrEqual(5);
    const ids = fleet.nodes.map((node) => node.id);
    expect(new Set(ids).size).toBe(ids.length);
    const regions = fleet.nodes.map((node) => node.region);
    expect(new Set(regions).size).toBe(regions.length);
  });

  it.each<[string, (node: FleetNode) => string, object]>([
    ["udp", (node) => node.urls.udp, { scheme: "turn", transport: "udp" }],
    ["tcp", (node) => node.urls.tcp, { scheme: "turn", transport: "tcp" }],
    ["tls", (node) => node.urls.tls, { scheme: "turns", transport: "tcp" }],
  ])("gives every node a %s URL with the right scheme and transport", (_, url, expected) => {
    for (const node of fleet.nodes) expect(parts(url(node)), node.id).toMatchObject(expected);
  });

  it("points all of a node's URLs at that node's own host, on a reserved example domain", () => {
    const hosts = fleet.nodes.map((node) => {
      const [udp, tcp, tls] = [node.urls.udp, node.urls.tcp, node.urls.tls].map(parts);
      expect(tcp!.host, node.id).toBe(udp!.host);
      expect(tls!.host, node.id).toBe(udp!.host);
      expect(udp!.host, node.id).toMatch(/\.example\.(com|net|org)$/);
      return udp!.host;
    });
    expect(new Set(hosts).size).toBe(hosts.length);
  });

  it("uses valid port numbers, the standard 3478 for plain TURN", () => {
    for (const node of fleet.nodes) {
      for (const uri of [node.urls.udp, node.urls.tcp, node.urls.tls]) {
        const { port } = parts(uri);
        expect(port, uri).toBeGreaterThanOrEqual(1);
        expect(port, uri).toBeLessThanOrEqual(65535);
      }
      expect(parts(node.urls.udp).port, node.id).toBe(3478);
    }
  });

  it("rejects a node whose coordinates are off the globe (the schema is not a rubber stamp)", () => {
    const broken = structuredClone(fleet);
    broken.nodes[0]!.latitude = 91;
    expect(Fleet.safeParse(broken).success).toBe(false);
    const wrongScheme = structuredClone(fleet);
    wrongScheme.nodes[0]!.urls.tls = wrongScheme.nodes[0]!.urls.tls.replace(/^turns:/, "https:");
    expect(Fleet.safeParse(wrongScheme).success).toBe(false);
  });
});
