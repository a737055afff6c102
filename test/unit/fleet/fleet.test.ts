/**
 * The fleet file's schema: the example parses, mistakes are refused with where they are (never
 * a value), defaults apply, and parsing is cached by the text itself.
 */
import { describe, expect, it } from "vitest";
import example from "../../../infrastructure/fleet.example.json";
import { FleetFormatError, parseFleet } from "../../../src/fleet/fleet";
import { parseIceUrl } from "../../../src/fleet/turn-url";

const base = {
  version: 1,
  nodes: [
    {
      id: "fra1",
      region: "europe",
      latitude: 50.1,
      longitude: 8.7,
      urls: { udp: "turn:a.example.com:3478?transport=udp" },
    },
  ],
};

/** The problem parseFleet reports for `base` changed by `change`. */
function problemWith(change: (fleet: typeof base & Record<string, unknown>) => void): string {
  const fleet = structuredClone(base) as typeof base & Record<string, unknown>;
  change(fleet);
  try {
    parseFleet(JSON.stringify(fleet));
  } catch (error) {
    if (error instanceof FleetFormatError) return error.problem;
    throw error;
  }
  return "parsed";
}

describe("the fleet schema", () => {
  it("parses the example fleet file", () => {
    const fleet = parseFleet(JSON.stringify(example));
    expect(fleet.nodes.map((node) => node.id)).toEqual(["fra1", "iad1", "gru1", "sin1", "syd1"]);
  });

  it("defaults weight to 1 and keeps optional country and continent codes", () => {
    const fleet = parseFleet(JSON.stringify(base));
    expect(fleet.nodes[0]!.weight).toBe(1);
    const placed = structuredClone(base);
    Object.assign(placed.nodes[0]!, { country: "DE", continent: "EU" });
    expect(parseFleet(JSON.stringify(placed)).nodes[0]).toMatchObject({ country: "DE", continent: "EU" });
  });

  it.each<[string, (fleet: typeof base & Record<string, unknown>) => void, string]>([
    ["a second node with the same id", (f) => f.nodes.push(structuredClone(f.nodes[0]!)), "nodes.1.id: duplicate id"],
    ["a latitude off the globe", (f) => (f.nodes[0]!.latitude = 90.5), "nodes.0.latitude"],
    ["a longitude off the globe", (f) => (f.nodes[0]!.longitude = -181), "nodes.0.longitude"],
    ["a node without URLs", (f) => (f.nodes[0]!.urls = {} as (typeof f.nodes)[0]["urls"]), "nodes.0.urls"],
    ["a udp URL on tcp", (f) => (f.nodes[0]!.urls.udp = "turn:a.example.com:3478?transport=tcp"), "nodes.0.urls.udp"],
    ["a udp URL without its transport", (f) => (f.nodes[0]!.urls.udp = "turn:a.example.com:3478"), "nodes.0.urls.udp"],
    [
      "a tls URL with turn:",
      (f) => Object.assign(f.nodes[0]!.urls, { tls: "turn:a.example.com:5349?transport=tcp" }),
      "nodes.0.urls.tls",
    ],
    [
      "a tcp URL with https:",
      (f) => Object.assign(f.nodes[0]!.urls, { tcp: "https://a.example.com/" }),
      "nodes.0.urls.tcp",
    ],
    ["an unknown URL key", (f) => Object.assign(f.nodes[0]!.urls, { dtls: "turns:a.example.com" }), "nodes.0.urls"],
    ["a misspelt node field", (f) => Object.assign(f.nodes[0]!, { wieght: 2 }), "nodes.0"],
    ["a zero weight", (f) => Object.assign(f.nodes[0]!, { weight: 0 }), "nodes.0.weight"],
    ["an id with spaces", (f) => (f.nodes[0]!.id = "fra 1"), "nodes.0.id"],
    ["a lowercase country code", (f) => Object.assign(f.nodes[0]!, { country: "de" }), "nodes.0.country"],
    ["an unknown continent", (f) => Object.assign(f.nodes[0]!, { continent: "EUR" }), "nodes.0.continent"],
    ["another version", (f) => (f.version = 2), "version"],
    ["no nodes", (f) => (f.nodes = []), "nodes"],
  ])("refuses %s, naming where", (_, change, where) => {
    expect(problemWith(change)).toContain(where);
  });

  it.each([
    ["localhost", "turn:localhost:3478?transport=udp"],
    ["a loopback IPv4 literal", "turn:127.0.0.1:3478?transport=udp"],
    ["a private IPv4 literal", "turn:10.0.0.7:3478?transport=udp"],
    ["a CGNAT IPv4 literal", "turn:100.64.1.1:3478?transport=udp"],
    ["a documentation IPv4 literal", "turn:192.0.2.10:3478?transport=udp"],
    ["a loopback IPv6 literal", "turn:[::1]:3478?transport=udp"],
    ["a unique-local IPv6 literal", "turn:[fd00::1]:3478?transport=udp"],
    ["an IPv4-mapped loopback", "turn:[::ffff:127.0.0.1]:3478?transport=udp"],
    ["port 53", "turn:a.example.com:53?transport=udp"],
    ["port 0053", "turn:a.example.com:0053?transport=udp"],
    ["userinfo", "turn:u@a.example.com:3478?transport=udp"],
  ])("refuses a node URL naming %s", (_, url) => {
    expect(problemWith((f) => (f.nodes[0]!.urls.udp = url))).toContain("nodes.0.urls.udp");
  });

  it("says what a non-public node needs, and allows it with the lab opt-in", () => {
    const local = (f: typeof base & Record<string, unknown>) =>
      (f.nodes[0]!.urls.udp = "turn:127.0.0.1:3478?transport=udp");
    expect(problemWith(local)).toContain('"lab": true');
    expect(problemWith((f) => (local(f), Object.assign(f.nodes[0]!, { lab: true })))).toBe("parsed");
    expect(problemWith((f) => (local(f), Object.assign(f.nodes[0]!, { lab: "yes" })))).toContain("nodes.0.lab");
  });

  it("accepts public IP literals", () => {
    expect(problemWith((f) => (f.nodes[0]!.urls.udp = "turn:203.0.114.7:3478?transport=udp"))).toBe("parsed");
    expect(problemWith((f) => (f.nodes[0]!.urls.udp = "turn:[2606:4700::1]:3478?transport=udp"))).toBe("parsed");
  });

  it("refuses text that is not JSON", () => {
    expect(() => parseFleet("{nodes: [")).toThrow(new FleetFormatError("not JSON"));
  });

  it("parses each distinct text once (cached by value)", () => {
    const text = JSON.stringify(base);
    expect(parseFleet(text)).toBe(parseFleet(`${text}`));
    expect(parseFleet(JSON.stringify(base, null, 2))).not.toBe(parseFleet(text));
  });
});

describe("ICE URI parsing", () => {
  it.each([
    ["turn:turn.example.com", { scheme: "turn", host: "turn.example.com", port: 3478, transport: "udp" }],
    ["turn:turn.example.com:80?transport=tcp", { port: 80, transport: "tcp", explicitTransport: true }],
    ["turns:turn.example.com?transport=tcp", { port: 5349, transport: "tls" }],
    ["turns:turn.example.com:443", { port: 443, transport: "tls", explicitTransport: false }],
    ["stun:127.0.0.1:19302", { scheme: "stun", host: "127.0.0.1", port: 19302, transport: "udp" }],
    ["turn:[::1]:3478?transport=udp", { host: "::1", port: 3478 }],
  ])("parses %s", (url, expected) => {
    expect(parseIceUrl(url)).toMatchObject(expected);
  });

  it.each([
    "http://turn.example.com",
    "turn:",
    "turn:host:0",
    "turn:host:65536",
    "turn:host?transport=sctp",
    "turns:host?transport=udp",
    "stun:host?transport=tcp",
    "turn:user@host",
    "turn:host/path",
    " turn:host",
  ])("refuses %s", (url) => {
    expect(parseIceUrl(url)).toBeUndefined();
  });
});
