/**
 * Janus 1.1.2 (Debian's package) as a real client of /api/turn/rest: configured with turn_rest_api,
 * it POSTs `service=turn&api=KEY&key=KEY&username=ID` in the query and again as the form body, gets
 * credentials from the worker under `wrangler dev`, and those credentials allocate on coturn 4.17.1.
 * libnice ignores loopback, so Janus itself gathers no relay candidate here: the credentials it logged
 * are checked with coturn's TURN client instead.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Coturn, startCoturn, tryAllocation } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import {
  type DraftCredentials,
  type Janus,
  loggedCredentials,
  requestTurnCredentials,
  startJanus,
} from "../support/janus";
import { requireTool, waitFor } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const TURN_SECRET = "janus-integration-turn-secret-7c1d";
const REST_KEY = "janus-integration-rest-key-0123456789abcdef";

const enabled = requireCoturn() && requireTool("janus", "Debian's janus package (1.1.2)");

describe.skipIf(!enabled)("Janus 1.1.2 fetching TURN credentials from the worker", () => {
  let coturn: Coturn;
  let worker: WranglerDev;
  let janus: Janus | undefined;

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [TURN_SECRET], allowLoopbackPeers: true });
    worker = await startWranglerDev({
      TURN_SECRET,
      ALLOW_ANONYMOUS: "true",
      TURN_REST_API_KEYS: REST_KEY,
      TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp,turn:127.0.0.1:${coturn.port}?transport=tcp`,
      STUN_URLS: `stun:127.0.0.1:${coturn.port}`,
      TURN_TTL_SECONDS: "600",
    });
  }, 120_000);

  afterAll(async () => {
    await janus?.stop();
    await worker?.stop();
    await coturn?.stop();
  });

  async function credentialsFromJanus(method: "GET" | "POST"): Promise<DraftCredentials> {
    janus = await startJanus({ turnRestApi: `${worker.url}/api/turn/rest`, turnRestApiKey: REST_KEY, method });
    try {
      await requestTurnCredentials(janus);
      let got: DraftCredentials | undefined;
      await waitFor(
        async () => (got = loggedCredentials(janus!.output())) !== undefined,
        60_000,
        () => `Janus:\n${janus!.output()}\nworker:\n${worker.output()}`,
      );
      return got!;
    } finally {
      await janus.stop();
      janus = undefined;
    }
  }

  it("gets credentials with its default POST (parameters in the query and the body) that allocate on coturn", async () => {
    const credentials = await credentialsFromJanus("POST");
    expect(credentials.uris).toEqual([
      `turn:127.0.0.1:${coturn.port}?transport=udp`,
      `turn:127.0.0.1:${coturn.port}?transport=tcp`,
    ]);
    expect(credentials.ttl).toBe(600);
    // A coturn TURN REST username: the expiry, then the user id made from the username Janus sent.
    expect(credentials.username).toMatch(/^\d+:\S+$/);
    const result = await tryAllocation(coturn, credentials.username, credentials.password);
    expect(result.ok, result.output).toBe(true);
  }, 120_000);

  it("gets credentials with turn_rest_api_method = GET too", async () => {
    const credentials = await credentialsFromJanus("GET");
    const result = await tryAllocation(coturn, credentials.username, credentials.password, "tcp");
    expect(result.ok, result.output).toBe(true);
  }, 120_000);
});
