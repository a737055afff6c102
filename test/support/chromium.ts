/**
 * Debian's Chromium (/usr/bin/chromium, never a downloaded browser), driven by playwright-core:
 * headless, a fresh temporary profile per launch (Playwright's default), and pages that record
 * every CSP violation, console error and uncaught exception, so a test can require there were none,
 * and every request they send.
 *
 * No WebRTC flags are needed for relay-only peers on loopback: relay candidates come from the TURN
 * server, so mDNS host-candidate hiding and loopback host candidates do not come into play.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { requireTool } from "./processes";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  // Tests run as root in containers, where Chromium's sandbox cannot start.
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  // Nothing but loopback: no update checks, component downloads, sync or other background fetches.
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether the browser tests run; under CI=true a missing Chromium fails instead of skipping. */
export function chromiumAvailable(): boolean {
  return requireTool("chromium", "apt-get install chromium; tests never download a browser");
}

/** Launches Chromium with CHROMIUM_ARGS and any `extraArgs`, in a fresh temporary profile. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}

/** Closes the browser; Playwright kills its process group if it does not exit in time. */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  await browser?.close({ reason: "test finished" });
}

export interface SentRequest {
  url: string;
  headers: Record<string, string>;
}

export interface WatchedPage {
  page: Page;
  /** CSP violations, console errors and uncaught exceptions so far, one line each. */
  problems: () => string[];
  /** Every request the page sent so far, from its first navigation on. */
  requests: () => SentRequest[];
}

interface Violation {
  directive: string;
  blocked: string;
  sample: string;
}

/** A new page (in its own context) that records everything that went wrong on it. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  await page.exposeFunction("__icegateReportViolation", (violation: Violation) => {
    problems.push(`CSP ${violation.directive} blocked ${violation.blocked || "inline"} ${violation.sample}`.trim());
  });
  // Runs before the page's own script, in every document the page loads.
  await page.addInitScript(() => {
    const report = (window as unknown as { __icegateReportViolation: (v: Violation) => void }).__icegateReportViolation;
    document.addEventListener("securitypolicyviolation", (event) =>
      report({ directive: event.effectiveDirective, blocked: event.blockedURI, sample: event.sample }),
    );
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  const requests: SentRequest[] = [];
  page.on("request", (request) => requests.push({ url: request.url(), headers: request.headers() }));
  return { page, problems: () => [...problems], requests: () => [...requests] };
}
