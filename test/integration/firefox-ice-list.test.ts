/**
 * Firefox 153 ESR (Debian's firefox-esr, over WebDriver BiDi) logs "Using five or more STUN/TURN servers
 * slows down discovery" when an RTCPeerConnection gets five URLs or more. No default reply of the worker
 * (under `wrangler dev`) may trigger it: the two-node fleet, and Cloudflare's seven-URL reply through
 * the fake. Firefox reports it as a page error (BiDi log.entryAdded, type javascript), which puppeteer
 * hands to `pageerror`. The first test proves this test can see the error, by feeding an unshaped list.
 * Ordering makes the check condition-based: after the list under test the page throws a marker error in a
 * later task; when the marker has arrived, any error the list caused has arrived before it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOUDFLARE_TURN_URLS } from "../support/fakes/cloudflare";
import { defaultFakeOptions, providerEnv } from "../support/fakes/env";
import { type FakeProviderServer, startFakeProviderServer } from "../support/fakes/http-server";
import { closeFirefox, firefoxAvailable, launchFirefox } from "../support/firefox";
import { waitFor } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const FIVE_OR_MORE = "Using five or more STUN/TURN servers slows down discovery";

interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

const enabled = firefoxAvailable();

const fleetNode = (id: string, latitude: number, longitude: number) => ({
  id,
  region: id,
  latitude,
  longitude,
  urls: {
    udp: `turn:${id}.example.net:3478?transport=udp`,
    tcp: `turn:${id}.example.net:3478?transport=tcp`,
    tls: `turns:${id}.example.net:443?transport=tcp`,
  },
});

describe.skipIf(!enabled)("Firefox ESR and the size of icegate's ICE lists", () => {
  let browser: Browser | undefined;
  let page: Page;
  let site: Server;
  let providers: FakeProviderServer | undefined;
  let cloudflareWorker: WranglerDev | undefined;
  let fleetWorker: WranglerDev | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    site = createServer((_, response) => {
      response.setHeader("Content-Type", "text/html");
      response.end("<!doctype html><title>icegate ICE list</title>");
    });
    await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
    providers = await startFakeProviderServer((apiUrls) => defaultFakeOptions(apiUrls));
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(providerEnv("cloudflare"))) if (value) vars[name] = value;
    delete vars.MAX_ICE_URLS;
    cloudflareWorker = await startWranglerDev({
      ...vars,
      CLOUDFLARE_TURN_API_URL: providers.apiUrls.cloudflare,
      ALLOW_ANONYMOUS: "true",
      RATE_LIMIT_ENABLED: "false",
    });
    const fleet = { version: 1, nodes: [fleetNode("fra1", 50.11, 8.68), fleetNode("iad1", 38.95, -77.45)] };
    // The fleet goes on the command line: the env file's dotenv quoting would keep JSON's backslashes.
    fleetWorker = await startWranglerDev(
      {
        TURN_SECRET: "firefox-list-turn-secret-0123456789",
        TURN_URLS: "turn:fallback.example.net:3478",
        STUN_URLS: "stun:stun.example.net:3478",
        ALLOW_ANONYMOUS: "true",
        RATE_LIMIT_ENABLED: "false",
      },
      ["--var", `TURN_FLEET:${JSON.stringify(fleet)}`],
    );
    browser = await launchFirefox();
    page = await browser.newPage();
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => errors.push(message.text()));
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  }, 240_000);

  afterAll(async () => {
    await closeFirefox(browser);
    await fleetWorker?.stop();
    await cloudflareWorker?.stop();
    await providers?.stop();
    await new Promise((resolve) => site?.close(resolve));
  });

  /** Builds an RTCPeerConnection from `iceServers` in the page; throws what its constructor threw. */
  async function construct(iceServers: IceServer[]): Promise<void> {
    const thrown = await page.evaluate((servers) => {
      try {
        (window as unknown as { pcs: RTCPeerConnection[] }).pcs ??= [];
        (window as unknown as { pcs: RTCPeerConnection[] }).pcs.push(new RTCPeerConnection({ iceServers: servers }));
        return undefined;
      } catch (error) {
        return String(error);
      }
    }, iceServers);
    if (thrown) throw new Error(`RTCPeerConnection threw: ${thrown}`);
  }

  let markers = 0;

  /**
   * How many "five or more" errors `iceServers` caused. Firefox logs that error from the constructor; an
   * uncaught error thrown by the page in a later task reaches the same console-service stream after it,
   * so once that marker has arrived, every error of the list has too.
   */
  async function errorsCausedBy(iceServers: IceServer[]): Promise<number> {
    const from = errors.length;
    await construct(iceServers);
    const marker = `icegate-marker-${++markers}`;
    await page.evaluate(
      (text) =>
        void setTimeout(() => {
          throw new Error(text);
        }),
      marker,
    );
    await waitFor(
      async () => errors.slice(from).some((text) => text.includes(marker)),
      30_000,
      () => `the marker never arrived; page errors: ${JSON.stringify(errors)}`,
    );
    const upToMarker = errors.slice(from, from + errors.slice(from).findIndex((text) => text.includes(marker)));
    return upToMarker.filter((text) => text.includes(FIVE_OR_MORE)).length;
  }

  const urlCount = (servers: IceServer[]) => servers.flatMap((server) => [server.urls].flat()).length;

  it("sees Firefox's error for an unshaped list: Cloudflare's seven URLs as the provider sends them", async () => {
    const unshaped: IceServer[] = [
      { urls: ["stun:stun.cloudflare.com:3478"] },
      { urls: CLOUDFLARE_TURN_URLS, username: "cf-user", credential: "cf-credential" },
    ];
    expect(await errorsCausedBy(unshaped)).toBe(1);
  }, 60_000);

  it.each([
    ["the two-node fleet", () => fleetWorker!],
    ["Cloudflare's seven-URL reply through the fake", () => cloudflareWorker!],
  ])(
    "logs no list-size error for the default reply of %s",
    async (_, worker) => {
      const response = await fetch(`${worker().url}/api/turn/credentials`);
      expect(response.status, await response.clone().text()).toBe(200);
      const { iceServers } = (await response.json()) as { iceServers: IceServer[] };
      expect(urlCount(iceServers)).toBe(4);
      expect(await errorsCausedBy(iceServers)).toBe(0);
    },
    60_000,
  );
});
