/**
 * The script of the connectivity-check page (GET /check), bundled by scripts/build-check.mjs.
 * It fetches credentials with the SDK from this origin's /api/turn/credentials (bearer token from
 * the `#token=` fragment or the token field; none when ALLOW_ANONYMOUS allows), then probes every
 * TURN URL of the reply at once and fills the results table. `window.icegate` exposes the SDK and
 * the probe for the browser console and for the browser tests.
 */
import { createIceServerClient, IceServerError, type IceServer } from "../client";
import { type ProbeResult, readFragment, skipped, summarize, targetsOf } from "./model";
import { probeRelay } from "./probe";
import { renderPending } from "./table";

const ENDPOINT = "/api/turn/credentials";

export interface CheckRun {
  results: ProbeResult[];
  /** Set when no credentials could be had: the SDK's status (0 without a reply), code and message. */
  error?: { status: number; code: string; message: string };
}

/** What `window.icegate` offers. */
export interface CheckPageHook {
  createIceServerClient: typeof createIceServerClient;
  IceServerError: typeof IceServerError;
  probeRelay: typeof probeRelay;
  targetsOf: typeof targetsOf;
  /** Runs the check, as the button does; while one runs, answers with that one. */
  run: () => Promise<CheckRun>;
}

declare global {
  interface Window {
    icegate: CheckPageHook;
  }
}

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`icegate check: #${id} is missing`);
  return found;
}

const main = element("check", HTMLElement);
const form = element("run-form", HTMLFormElement);
const tokenField = element("token", HTMLInputElement);
const button = element("run", HTMLButtonElement);
const status = element("status", HTMLElement);
const table = element("results", HTMLTableElement);
const rows = element("rows", HTMLTableSectionElement);

/** `main[data-state]` tells scripts and tests where the run is; the status line tells people. */
function show(state: "running" | "done" | "error", message: string, tone: string = state): void {
  main.dataset.state = state;
  status.textContent = message;
  status.className = tone;
}

async function fetchIceServers(): Promise<IceServer[]> {
  // A client per run: fresh credentials each time, and no refresh timers left behind.
  const client = createIceServerClient({
    endpoint: ENDPOINT,
    getToken: () => tokenField.value.trim(),
    fallbackIceServers: [],
  });
  try {
    return await client.getIceServersOrThrow();
  } finally {
    client.close();
  }
}

async function check(): Promise<CheckRun> {
  button.disabled = true;
  show("running", "Fetching credentials…");
  try {
    const started = performance.now();
    const iceServers = await fetchIceServers();
    const fetchMs = Math.round(performance.now() - started);
    const targets = targetsOf(iceServers);
    const fill = renderPending(rows, targets);
    table.hidden = false;
    show("running", `Credentials in ${fetchMs} ms. Gathering relay candidates from ${targets.length} URLs…`);
    const results = await Promise.all(
      targets.map(async (target, index) => {
        const result = target.transport === "stun" ? skipped(target) : await probeRelay(target);
        fill(index, result);
        return result;
      }),
    );
    if (!results.some((result) => result.outcome !== "skip")) show("error", "The reply lists no TURN server.");
    else {
      const failed = results.some((result) => result.outcome === "fail");
      show("done", `${summarize(results)}. Credentials in ${fetchMs} ms.`, failed ? "failures" : "done");
    }
    return { results };
  } catch (error) {
    const failure =
      error instanceof IceServerError ? error : new IceServerError(0, "page_error", String(error), undefined, error);
    const reply = failure.status > 0 ? `HTTP ${failure.status} ${failure.code}` : failure.code;
    show("error", `No credentials (${reply}): ${failure.message}`);
    return { results: [], error: { status: failure.status, code: failure.code, message: failure.message } };
  } finally {
    button.disabled = false;
  }
}

let running: Promise<CheckRun> | undefined;

function run(): Promise<CheckRun> {
  running ??= check().finally(() => (running = undefined));
  return running;
}

window.icegate = { createIceServerClient, IceServerError, probeRelay, targetsOf, run };

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run();
});

const fragment = readFragment(location.hash);
if (location.hash) {
  // Out of the address bar, the history and any screenshot: the token now lives in the field only.
  history.replaceState(null, "", location.pathname + location.search);
}
if (fragment.token) tokenField.value = fragment.token;
if (fragment.run) void run();
