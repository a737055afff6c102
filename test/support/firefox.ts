/**
 * Debian's Firefox ESR (/usr/bin/firefox-esr, never a downloaded browser), driven by puppeteer-core over WebDriver
 * BiDi: headless, a fresh temporary profile per launch (puppeteer's default), with the one pref a TURN server on
 * 127.0.0.1 needs. Firefox gathers no candidates on loopback interfaces unless `media.peerconnection.ice.loopback`
 * is set, and that includes the path to a TURN server listening there.
 */
import puppeteer, { type Browser } from "puppeteer-core";
import { requireTool } from "./processes";

export const FIREFOX_PATH = "/usr/bin/firefox-esr";

export const FIREFOX_PREFS: Record<string, unknown> = {
  // Reach STUN/TURN servers on loopback (every test server listens on 127.0.0.1).
  "media.peerconnection.ice.loopback": true,
  // Nothing but loopback: no update checks, telemetry or other background fetches.
  "app.update.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
};

/** Whether the Firefox tests run; under CI=true a missing Firefox fails instead of skipping. */
export function firefoxAvailable(): boolean {
  return requireTool("firefox-esr", "apt-get install firefox-esr; tests never download a browser");
}

/** Launches Firefox ESR headless with FIREFOX_PREFS and any `extraPrefs`, in a fresh temporary profile. */
export function launchFirefox(extraPrefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...extraPrefs },
    timeout: 60_000,
  });
}

/** Closes the browser; its process is killed if it does not close in time. */
export async function closeFirefox(browser: Browser | undefined): Promise<void> {
  if (!browser) return;
  const process = browser.process();
  const closed = browser.close().catch(() => {});
  const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 10_000).unref());
  if ((await Promise.race([closed.then(() => "closed" as const), timedOut])) === "timeout") process?.kill("SIGKILL");
}
