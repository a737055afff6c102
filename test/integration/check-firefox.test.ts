/**
 * The /check page in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi), against the worker
 * under `wrangler dev` and a real coturn on loopback: no console error or CSP violation (Firefox asks
 * for an icon; the page names its own, which the CSP allows), readable meanings where Firefox gives
 * an empty errorText (401, 701), and a page usable 390 px wide (nothing wider than the screen).
 *
 * Set CHECK_SCREENSHOT_FIREFOX=/tmp/check-firefox.png to keep a picture of the finished page at 390 px.
 */
import type { Browser, Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeFirefox, firefoxAvailable, launchFirefox } from "../support/firefox";
import { type Coturn, startCoturn } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import { freePort } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const TURN_SECRET = "check-firefox-secret-7c2d9e4b1a";

const enabled = requireCoturn() && firefoxAvailable();

interface Row {
  transport: string;
  outcome: string;
  detail: string;
}

describe.skipIf(!enabled)("/check in Firefox", () => {
  let coturn: Coturn | undefined;
  let worker: WranglerDev | undefined;
  let browser: Browser | undefined;
  let deadPort: number;

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [TURN_SECRET], allowLoopbackPeers: true });
    deadPort = await freePort();
    const turn = (port: number, transport: string) => `turn:127.0.0.1:${port}?transport=${transport}`;
    [worker, browser] = await Promise.all([
      startWranglerDev({
        TURN_SECRET,
        ALLOW_ANONYMOUS: "true",
        TURN_TTL_SECONDS: "600",
        STUN_URLS: `stun:127.0.0.1:${coturn.port}`,
        TURN_URLS: [turn(coturn.port, "udp"), turn(coturn.port, "tcp"), turn(deadPort, "tcp")].join(","),
      }),
      launchFirefox(),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([closeFirefox(browser), worker?.stop()]);
    await coturn?.stop();
  });

  /** A page 390 px wide that records console errors, uncaught exceptions and CSP violations. */
  async function phonePage(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`uncaught: ${String(error)}`));
    await page.evaluateOnNewDocument(() => {
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`CSP ${event.effectiveDirective} blocked ${event.blockedURI}`),
      );
    });
    await page.setViewport({ width: 390, height: 844 });
    return { page, problems };
  }

  async function rows(page: Page): Promise<Row[]> {
    await page.waitForSelector("#check[data-state=done], #check[data-state=error]", { timeout: 30_000 });
    return page.$$eval("#rows tr", (trs) =>
      trs.map((tr) => ({
        transport: tr.querySelector(".transport")?.textContent ?? "",
        outcome: (tr as HTMLElement).dataset.outcome ?? "",
        detail: tr.querySelector(".detail")?.textContent ?? "",
      })),
    );
  }

  it("runs the check with no console error, and says what 701 means where Firefox gives no text", async () => {
    const { page, problems } = await phonePage();
    await page.goto(`${worker!.url}/check#run`);
    const result = await rows(page);
    expect(result.map(({ transport, outcome }) => [transport, outcome])).toEqual([
      ["STUN", "skip"],
      ["UDP", "pass"],
      ["TCP", "pass"],
      ["TCP", "fail"],
    ]);
    expect(result[3]!.detail).toBe("701 the TURN server was not reached");
    // Give a late icon request or log line time to show up.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(problems).toEqual([]);
  }, 60_000);

  it("says what 401 means when coturn refuses a credential", async () => {
    const { page, problems } = await phonePage();
    await page.goto(`${worker!.url}/check`);
    await page.waitForFunction(() => "icegate" in window);
    const detail = await page.evaluate(async (url) => {
      const server = { urls: url, username: `${Math.floor(Date.now() / 1000) + 600}:someone`, credential: "wrong" };
      const result = await window.icegate.probeRelay({ url, transport: "udp", server });
      return result.detail;
    }, `turn:127.0.0.1:${coturn!.port}?transport=udp`);
    expect(detail).toBe("401 the TURN server refused the credential (secret mismatch)");
    expect(problems).toEqual([]);
  }, 60_000);

  it("fits a 390 px screen: no sideways scrolling, every result readable", async () => {
    const { page, problems } = await phonePage();
    await page.goto(`${worker!.url}/check#run`);
    await rows(page);
    const layout = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      widest: Math.max(...Array.from(document.querySelectorAll("#rows td"), (td) => td.getBoundingClientRect().right)),
    }));
    expect(layout.viewport).toBe(390);
    expect(layout.page).toBeLessThanOrEqual(390);
    expect(layout.widest).toBeLessThanOrEqual(390);
    if (process.env.CHECK_SCREENSHOT_FIREFOX) {
      await page.screenshot({ path: process.env.CHECK_SCREENSHOT_FIREFOX as `${string}.png`, fullPage: true });
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
