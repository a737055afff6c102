/**
 * The README's quick start, as a newcomer runs it: `npm start` (scripts/dev.mjs, the same entry) on a fresh
 * clone, with no .dev.vars yet, starts the worker and a coturn on loopback with the secret it just wrote;
 * /check#run in a real Chromium then passes every TURN row; Ctrl-C stops both. Without any coturn it says how to
 * get one in one line and still serves the worker. Ports come from PORT and COTURN_PORT (free ones here). A failing
 * test shows npm start's output (test/support/on-failure.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, closeChromium, launchChromium, watchedPage } from "../support/chromium";
import { coturnProgram, requireCoturn } from "../support/coturn-build";
import { freePort, start, type Started, waitFor } from "../support/processes";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const enabled = requireCoturn() && chromiumAvailable();

interface Run {
  server: Started;
  url: string;
  coturnPort: number;
  devVars: string;
}

const dirs: string[] = [];
const runs: Run[] = [];

/** `node scripts/dev.mjs` on free ports, as `npm start` runs it, with `env` on top of a loopback-only environment. */
async function npmStart(env: Record<string, string | undefined>): Promise<Run> {
  const [port, coturnPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), "icegate-quick-start-"));
  dirs.push(dir);
  const devVars = join(dir, ".dev.vars");
  const server = start(
    process.execPath,
    [
      "scripts/dev.mjs",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      join(dir, "state"),
      "--show-interactive-dev-session=false",
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PORT: String(port), COTURN_PORT: String(coturnPort), DEV_VARS: devVars, ...env },
    },
  );
  const run = { server, url: `http://127.0.0.1:${port}`, coturnPort, devVars };
  runs.push(run);
  await waitFor(
    async () => (await fetch(`${run.url}/healthz`)).ok,
    90_000,
    () => server.output(),
  );
  return run;
}

function acceptsTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

describe.skipIf(!enabled)("npm start on a fresh clone", () => {
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await Promise.allSettled(runs.splice(0).map(({ server }) => server.stop()));
    await closeChromium(browser);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe("with a coturn", () => {
    let run: Run;

    beforeAll(async () => {
      run = await npmStart({ TURNSERVER: coturnProgram("turnserver") });
    }, 120_000);

    it("starts a coturn with the secret it wrote, and /check#run in Chromium passes every TURN row", async () => {
      expect(readFileSync(run.devVars, "utf8")).toMatch(/^TURN_SECRET=\S{43}$/m);
      const output = run.server.output();
      expect(output).toContain(`coturn 4.17.1 on 127.0.0.1:${run.coturnPort} (udp, tcp), for local development only`);
      expect(output).toContain(`${run.url}/check#run`);
      expect(output).toContain(`curl -s ${run.url}/api/turn/credentials`);
      // No secret on the screen: only its fingerprint.
      const secret = /^TURN_SECRET=(\S+)$/m.exec(readFileSync(run.devVars, "utf8"))![1]!;
      expect(output).not.toContain(secret);

      const { page, problems } = await watchedPage(browser!);
      try {
        await page.goto(`${run.url}/check#run`);
        await page.locator("#check[data-state=done], #check[data-state=error]").waitFor({ timeout: 60_000 });
        const rows = await page.locator("#rows tr").evaluateAll((trs) =>
          trs.map((tr) => ({
            url: tr.querySelector("td")?.textContent ?? "",
            outcome: (tr as HTMLElement).dataset.outcome ?? "",
          })),
        );
        const turn = rows.filter(({ url }) => /^turns?:/.test(url));
        expect(turn.map(({ url }) => url)).toEqual([
          `turn:127.0.0.1:${run.coturnPort}?transport=udp`,
          `turn:127.0.0.1:${run.coturnPort}?transport=tcp`,
        ]);
        expect(turn.map(({ outcome }) => outcome)).toEqual(["pass", "pass"]);
        expect(problems()).toEqual([]);
      } finally {
        await page.context().close();
      }
    });

    it("stops the worker and coturn on Ctrl-C (SIGINT to npm start alone)", async () => {
      await expect(acceptsTcp(run.coturnPort)).resolves.toBe(true);
      const exited = new Promise<number | null>((resolve) => run.server.child.once("exit", resolve));
      process.kill(run.server.child.pid!, "SIGINT");
      await expect(exited).resolves.toBe(130);
      await expect(acceptsTcp(run.coturnPort)).resolves.toBe(false);
      await expect(fetch(`${run.url}/healthz`)).rejects.toThrow();
    });
  });

  it("without any coturn, says in one line how to get one and still serves the worker", async () => {
    const emptyCache = mkdtempSync(join(tmpdir(), "icegate-no-cache-"));
    dirs.push(emptyCache);
    // Only node's own directory on PATH (wrangler's `#!/usr/bin/env node` needs it), and no cached build.
    const run = await npmStart({ TURNSERVER: undefined, PATH: dirname(process.execPath), XDG_CACHE_HOME: emptyCache });
    const hint = run.server
      .output()
      .split("\n")
      .filter((line) => line.includes("coturn"));
    expect(hint).toEqual([
      "icegate: no coturn found, so /check's TURN rows will fail: `apt install coturn`, `brew install coturn` or " +
        "`bash scripts/coturn-build.sh`, then npm start again (the worker runs anyway).",
    ]);
    const reply = await fetch(`${run.url}/api/turn/credentials`);
    expect(reply.status).toBe(200);
  });
});
