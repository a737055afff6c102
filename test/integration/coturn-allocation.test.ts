/**
 * The core promise, end to end: credentials served by the worker (running in workerd under
 * `wrangler dev`) complete a real allocation on Debian's coturn; tampered and expired ones are refused.
 */
import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Coturn, startCoturn, tryAllocation } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const TURN_SECRET = "integration-turn-secret-5e8d1c2b7a";
const JWT_SECRET = "integration-jwt-secret-0123456789abcdef0123456789";
const REST_KEY = "integration-rest-key-9f8e7d6c";

const enabled = requireCoturn();

interface TurnServer {
  urls: string[];
  username?: string;
  credential?: string;
}

describe.skipIf(!enabled)("worker credentials against a real coturn", () => {
  let coturn: Coturn;
  let worker: WranglerDev;

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [TURN_SECRET], allowLoopbackPeers: true });
    worker = await startWranglerDev({
      TURN_SECRET,
      AUTH_JWT_SECRET: JWT_SECRET,
      TURN_REST_API_KEYS: REST_KEY,
      TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp,turn:127.0.0.1:${coturn.port}?transport=tcp`,
      STUN_URLS: `stun:127.0.0.1:${coturn.port}`,
      TURN_TTL_SECONDS: "600",
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await coturn?.stop();
  });

  async function fetchTurnServer(query = ""): Promise<TurnServer> {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("integration-user")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(JWT_SECRET));
    const response = await fetch(`${worker.url}/api/turn/credentials${query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { iceServers: TurnServer[] };
    const turn = body.iceServers.find((server) => server.username !== undefined);
    expect(turn).toBeDefined();
    return turn!;
  }

  it("serves credentials that allocate over UDP", async () => {
    const turn = await fetchTurnServer();
    const result = await tryAllocation(coturn, turn.username!, turn.credential!, "udp");
    expect(result.ok, result.output).toBe(true);
  });

  it("serves credentials that allocate over TCP", async () => {
    const turn = await fetchTurnServer("?ttl=120");
    const result = await tryAllocation(coturn, turn.username!, turn.credential!, "tcp");
    expect(result.ok, result.output).toBe(true);
  });

  it("serves draft-REST credentials (as Janus asks for them) that allocate", async () => {
    const response = await fetch(`${worker.url}/api/turn/rest?service=turn&api=${REST_KEY}`, { method: "POST" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { username: string; password: string; uris: string[] };
    expect(body.uris[0]).toBe(`turn:127.0.0.1:${coturn.port}?transport=udp`);
    const result = await tryAllocation(coturn, body.username, body.password);
    expect(result.ok, result.output).toBe(true);
  });

  it("is refused by coturn when the credential is tampered with", async () => {
    const turn = await fetchTurnServer();
    const flipped = `${turn.credential!.startsWith("A") ? "B" : "A"}${turn.credential!.slice(1)}`;
    const result = await tryAllocation(coturn, turn.username!, flipped);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("Cannot complete Allocation");
  });

  it("is refused by coturn when the username is changed to another user", async () => {
    const turn = await fetchTurnServer();
    const [expiry] = turn.username!.split(":");
    const result = await tryAllocation(coturn, `${expiry}:someone-else`, turn.credential!);
    expect(result.ok).toBe(false);
  });

  it("is refused by coturn when the expiry is pushed forward without re-signing", async () => {
    const turn = await fetchTurnServer();
    const [expiry, user] = turn.username!.split(":");
    const result = await tryAllocation(coturn, `${Number(expiry) + 86400}:${user}`, turn.credential!);
    expect(result.ok).toBe(false);
  });

  it("is refused by coturn once expired, even when correctly signed", async () => {
    const username = `${Math.floor(Date.now() / 1000) - 60}:integration-user`;
    const password = createHmac("sha1", TURN_SECRET).update(username).digest("base64");
    const result = await tryAllocation(coturn, username, password);
    expect(result.ok).toBe(false);
    // The same recipe with a future expiry works, so the refusal above is the expiry's doing.
    const fresh = `${Math.floor(Date.now() / 1000) + 60}:integration-user`;
    const control = await tryAllocation(coturn, fresh, createHmac("sha1", TURN_SECRET).update(fresh).digest("base64"));
    expect(control.ok, control.output).toBe(true);
  });
});
