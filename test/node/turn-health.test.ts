/**
 * `npm run turn:health` against a real coturn on loopback: Binding over UDP and TCP succeeds
 * (exit 0), an authenticated Allocate proves which secret the node accepts, and a closed port
 * fails with a non-zero exit. The secret travels only in the environment and is never printed.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Coturn, startCoturn } from "../support/coturn";
import { freePort } from "../support/processes";
import { requireCoturn } from "../support/coturn-build";
import { PROJECT_ROOT } from "../support/wrangler-dev";

const SECRET = "turn-health-secret-3c9a7e1f5b";
const WRONG = "turn-health-wrong-secret-8d2f4a";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command as `npm run turn:health` does: Node with type stripping, from the project root. */
function turnHealth(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const script = join(PROJECT_ROOT, "scripts/turn-health.ts");
  const nodeArgs = ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", script, ...args];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      nodeArgs,
      { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

interface JsonRow {
  url: string;
  transport: string;
  check: string;
  ok: boolean;
  rttMs: number | null;
  detail: string;
}

const enabled = requireCoturn();

describe.skipIf(!enabled)("npm run turn:health", () => {
  let coturn: Coturn;

  beforeAll(async () => {
    coturn = await startCoturn({ secrets: [SECRET] });
  });
  afterAll(async () => {
    await coturn?.stop();
  });

  it("checks a live coturn over UDP and TCP, prints a table and exits 0", async () => {
    const url = `turn:127.0.0.1:${coturn.port}`;
    const run = await turnHealth([url, "--both"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^URL\s+TRANSPORT\s+CHECK\s+RESULT\s+RTT\s+DETAIL$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(new RegExp(`^${url}\\s+udp\\s+binding\\s+ok\\s+\\d+ ms\\s+127\\.0\\.0\\.1:\\d+$`)),
      expect.stringMatching(new RegExp(`^${url}\\s+tcp\\s+binding\\s+ok\\s+\\d+ ms\\s+127\\.0\\.0\\.1:\\d+$`)),
    ]);
  });

  it("follows the URL's own transport unless told otherwise, and prints JSON with --json", async () => {
    const url = `turn:127.0.0.1:${coturn.port}?transport=tcp`;
    const run = await turnHealth([url, "--json"]);
    expect(run.code).toBe(0);
    const rows = JSON.parse(run.stdout) as JsonRow[];
    expect(rows).toEqual([
      {
        url,
        transport: "tcp",
        check: "binding",
        ok: true,
        rttMs: expect.any(Number),
        detail: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      },
    ]);
    const udp = JSON.parse((await turnHealth([url, "--udp", "--json"])).stdout) as JsonRow[];
    expect(udp.map((row) => row.transport)).toEqual(["udp"]);
  });

  it("with --secret-env, allocates (and releases) with a credential from the secret coturn holds", async () => {
    const run = await turnHealth([`turn:127.0.0.1:${coturn.port}`, "--secret-env", "ICEGATE_TEST_SECRET", "--json"], {
      ICEGATE_TEST_SECRET: SECRET,
    });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const allocations = (JSON.parse(run.stdout) as JsonRow[]).filter((row) => row.check === "allocate");
    expect(allocations.map((row) => [row.transport, row.ok, row.detail])).toEqual([
      ["udp", true, expect.stringMatching(/^relayed 127\.0\.0\.1:\d+, released$/)],
      ["tcp", true, expect.stringMatching(/^relayed 127\.0\.0\.1:\d+, released$/)],
    ]);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it("with --secret-env naming a secret coturn does not hold, fails the Allocate with 401 and exits 1", async () => {
    const run = await turnHealth([`turn:127.0.0.1:${coturn.port}?transport=udp`, "--secret-env", "WRONG_SECRET"], {
      WRONG_SECRET: WRONG,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/udp\s+binding\s+ok/);
    // coturn 4.10+ sends the error code without a reason phrase ("Unauthorized" on 4.6.1).
    expect(run.stdout).toMatch(/udp\s+allocate\s+FAIL\s+-\s+401\b/);
    expect(run.stdout + run.stderr).not.toContain(WRONG);
  });

  it("fails a closed port over UDP and TCP, and exits 1 when any check fails", async () => {
    const closed = await freePort();
    const live = `turn:127.0.0.1:${coturn.port}?transport=udp`;
    const dead = `turn:127.0.0.1:${closed}`;
    const run = await turnHealth([live, dead, "--timeout", "2000", "--json"]);
    expect(run.code).toBe(1);
    const rows = JSON.parse(run.stdout) as JsonRow[];
    expect(rows.map((row) => [row.url, row.transport, row.ok])).toEqual([
      [live, "udp", true],
      [dead, "udp", false],
      [dead, "tcp", false],
    ]);
    expect(rows[2]!.detail).toBe("ECONNREFUSED");
  });
});

describe("npm run turn:health usage", () => {
  it.each([
    [[], "give at least one"],
    [["https://turn.example.com"], "not a stun:, turn: or turns: URI"],
    [["turn:127.0.0.1", "--udp", "--tcp"], "choose one of"],
    [["turn:127.0.0.1", "--timeout", "soon"], "--timeout"],
    [["turn:127.0.0.1", "--secret-env", "ICEGATE_UNSET_VARIABLE"], "empty or unset"],
    [["turn:127.0.0.1", "--frobnicate"], "Unknown option"],
  ])("refuses %j with exit 2 and the usage", async (args, message) => {
    const run = await turnHealth(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("usage: npm run turn:health");
    expect(run.stdout).toBe("");
  });
});
