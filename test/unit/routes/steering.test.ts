import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { signToken, testEnv } from "../../support/worker-fetch";

interface Body {
  iceServers: { urls: string[] | string; username?: string; credential?: string }[];
}

const node = (id: string, latitude: number, longitude: number) => ({
  id,
  region: id,
  latitude,
  longitude,
  urls: {
    udp: `turn:${id}.example.test:3478?transport=udp`,
    tcp: `turn:${id}.example.test:3478?transport=tcp`,
    tls: `turns:${id}.example.test:5349?transport=tcp`,
  },
});

function fleet(prefix: string) {
  return JSON.stringify({
    version: 1,
    nodes: [
      node(`${prefix}-fra`, 50.11, 8.68),
      node(`${prefix}-iad`, 38.95, -77.45),
      node(`${prefix}-sin`, 1.35, 103.82),
    ],
  });
}

const FRANKFURT = { latitude: "50.1", longitude: "8.7", country: "DE", continent: "EU" };
const SINGAPORE = { latitude: "1.3", longitude: "103.8", country: "SG", continent: "AS" };

async function credentialsFrom(cf: Record<string, string>, changes: Record<string, string | undefined>) {
  const ctx = createExecutionContext();
  const request = new Request("https://icegate.example.test/api/turn/credentials", {
    headers: { Authorization: `Bearer ${await signToken()}` },
    cf,
  });
  const response = await worker.fetch(request, testEnv(changes), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("the credentials path with a coturn fleet", () => {
  it("hands out the nearest node and one fallback, explained in X-Icegate-Steering", async () => {
    const response = await credentialsFrom(FRANKFURT, { TURN_FLEET: fleet("a"), STUN_URLS: undefined });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Body;
    expect(body.iceServers).toHaveLength(2);
    expect(body.iceServers[0]!.urls).toEqual([
      "turn:a-fra.example.test:3478?transport=udp",
      "turn:a-fra.example.test:3478?transport=tcp",
      "turns:a-fra.example.test:5349?transport=tcp",
    ]);
    expect(String(body.iceServers[1]!.urls)).toContain("a-iad");
    expect(body.iceServers[0]!.credential).toBe(body.iceServers[1]!.credential);
    expect(response.headers.get("X-Icegate-Steering")).toMatch(/^nearest=a-fra .*fallback=a-iad/);
  });

  it("steers a caller in Singapore to Singapore", async () => {
    const body = (await (await credentialsFrom(SINGAPORE, { TURN_FLEET: fleet("b") })).json()) as Body;
    const turn = body.iceServers.filter((server) => server.username);
    expect(String(turn[0]!.urls)).toContain("b-sin");
  });

  it("leaves out a node the health probe found unhealthy", async () => {
    await env.TURN_CACHE.put("health:v1:c-fra", JSON.stringify({ healthy: false, checkedAt: Date.now(), rttMs: null }));
    const response = await credentialsFrom(FRANKFURT, { TURN_FLEET: fleet("c") });
    const turn = ((await response.json()) as Body).iceServers.filter((server) => server.username);
    expect(turn.map((server) => String(server.urls))).not.toContain(expect.stringContaining("c-fra"));
    expect(String(turn[0]!.urls)).toContain("c-iad");
    expect(response.headers.get("X-Icegate-Steering")).toContain("c-fra (unhealthy)");
  });

  it("falls back to the next provider when every node is unhealthy", async () => {
    for (const id of ["d-fra", "d-iad", "d-sin"]) {
      await env.TURN_CACHE.put(
        `health:v1:${id}`,
        JSON.stringify({ healthy: false, checkedAt: Date.now(), rttMs: null }),
      );
    }
    const changes = {
      TURN_FLEET: fleet("d"),
      TURN_PROVIDERS: "coturn,expressturn",
      EXPRESSTURN_SECRET_KEY: "sentinel-expressturn-secret-0123",
      EXPRESSTURN_SERVER_URL: "turn:relay.expressturn.example.test:3478",
    };
    const response = await credentialsFrom(FRANKFURT, changes);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Body;
    expect(JSON.stringify(body)).toContain("expressturn.example.test");
    expect(JSON.stringify(body)).not.toContain("d-fra");
    // With coturn alone, nobody can answer.
    const alone = await credentialsFrom(FRANKFURT, { TURN_FLEET: fleet("d") });
    expect(alone.status).toBe(503);
  });

  it("hands out at most MAX_ICE_URLS=4 URLs from the two-node default: the nearest node's three and one of the fallback's", async () => {
    const response = await credentialsFrom(FRANKFURT, { TURN_FLEET: fleet("e") });
    const body = (await response.json()) as Body;
    const urls = body.iceServers.flatMap((server) => [server.urls].flat());
    expect(urls).toEqual([
      "turn:e-fra.example.test:3478?transport=udp",
      "turn:e-fra.example.test:3478?transport=tcp",
      "turns:e-fra.example.test:5349?transport=tcp",
      "turn:e-iad.example.test:3478?transport=udp",
    ]);
  });

  it.each([
    ["a loopback node without the lab opt-in", "turn:127.0.0.1:3478?transport=udp"],
    ["a private node", "turn:192.168.1.20:3478?transport=udp"],
    ["a URL browsers refuse", "turn:e-fra.example.test:53?transport=udp"],
  ])("answers 503 not_configured naming TURN_FLEET for %s", async (_, url) => {
    const broken = JSON.parse(fleet("f")) as { nodes: { urls: { udp: string } }[] };
    broken.nodes[0]!.urls.udp = url;
    const response = await credentialsFrom(FRANKFURT, { TURN_FLEET: JSON.stringify(broken) });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: "not_configured", message: "TURN_FLEET is missing or invalid" },
    });
  });

  it("keeps TURN_URLS when no fleet is configured", async () => {
    const response = await credentialsFrom(FRANKFURT, {});
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get("X-Icegate-Steering")).toBeNull();
    const turn = ((await response.json()) as Body).iceServers.find((server) => server.username)!;
    expect(turn.urls).toEqual(testEnv().TURN_URLS.split(","));
  });
});
