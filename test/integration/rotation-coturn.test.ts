/**
 * The overlap protocol of docs/ROTATION.md against Debian's coturn: while the fleet accepts
 * {old, new}, credentials the worker minted under either secret allocate; once the fleet accepts
 * {new} only, old-secret credentials are refused and new ones still allocate. The secrets come from
 * scripts/rotate.mjs, and the worker under `wrangler dev` mints the credentials.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Coturn, startCoturn, tryAllocation } from "../support/coturn";
import { requireCoturn } from "../support/coturn-build";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const ROTATE = resolve(import.meta.dirname, "../../scripts/rotate.mjs");

const enabled = requireCoturn();

interface Minted {
  secret: string;
  /** What rotate printed for the secret. */
  rotateFingerprint: string;
  /** What the worker running with the secret reports in /healthz. */
  healthFingerprint: string;
  username: string;
  credential: string;
}

/** A new TURN secret the way an operator makes one: `rotate --dry-run --print` (value on stdout). */
function newSecret(): { secret: string; fingerprint: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ICEGATE_WRANGLER;
  const run = spawnSync(process.execPath, [ROTATE, "--dry-run", "--print", "--silent"], { encoding: "utf8", env });
  expect(run.status, run.stderr).toBe(0);
  const fingerprint = /^fingerprint TURN_SECRET (sha256:[0-9a-f]{12})$/m.exec(run.stderr)?.[1];
  expect(fingerprint).toBeDefined();
  return { secret: run.stdout.trim(), fingerprint: fingerprint! };
}

/** Runs the worker with `secret`, asks it for credentials once, and stops it. */
async function mintWithWorker(secret: string, rotateFingerprint: string): Promise<Minted> {
  let worker: WranglerDev | undefined;
  try {
    worker = await startWranglerDev({
      TURN_SECRET: secret,
      // The URL is not part of the credential: coturn's port is chosen per test below.
      TURN_URLS: "turn:127.0.0.1:3478?transport=udp",
      TURN_TTL_SECONDS: "600",
      ALLOW_ANONYMOUS: "true",
    });
    const health = (await (await fetch(`${worker.url}/healthz`)).json()) as { secrets: Record<string, string> };
    const response = await fetch(`${worker.url}/api/turn/credentials`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { iceServers: { username?: string; credential?: string }[] };
    const turn = body.iceServers.at(-1);
    expect(turn?.username).toMatch(/^\d+:/);
    return {
      secret,
      rotateFingerprint,
      healthFingerprint: health.secrets.TURN_SECRET ?? "",
      username: turn!.username!,
      credential: turn!.credential!,
    };
  } finally {
    await worker?.stop();
  }
}

describe.skipIf(!enabled)("rotating TURN_SECRET with an overlap on a real coturn", () => {
  let old: Minted;
  let current: Minted;

  beforeAll(async () => {
    const first = newSecret();
    const second = newSecret();
    old = await mintWithWorker(first.secret, first.fingerprint);
    current = await mintWithWorker(second.secret, second.fingerprint);
  }, 240_000);

  /** A coturn accepting exactly `secrets` (one static-auth-secret line each); each test stops its own. */
  function fleet(secrets: string[]): Promise<Coturn> {
    return startCoturn({ secrets, allowLoopbackPeers: true });
  }

  it("rotate prints the same fingerprint the worker reports in /healthz", () => {
    expect(old.secret).not.toBe(current.secret);
    expect(old.healthFingerprint).toBe(old.rotateFingerprint);
    expect(current.healthFingerprint).toBe(current.rotateFingerprint);
    expect(current.healthFingerprint).not.toBe(old.healthFingerprint);
  });

  it("while the fleet accepts old and new, credentials minted under either allocate", async () => {
    const coturn = await fleet([old.secret, current.secret]);
    try {
      const withOld = await tryAllocation(coturn, old.username, old.credential);
      expect(withOld.ok, withOld.output).toBe(true);
      const withNew = await tryAllocation(coturn, current.username, current.credential);
      expect(withNew.ok, withNew.output).toBe(true);
      const withNewOverTcp = await tryAllocation(coturn, current.username, current.credential, "tcp");
      expect(withNewOverTcp.ok, withNewOverTcp.output).toBe(true);
    } finally {
      await coturn.stop();
    }
  });

  it("once the old secret leaves the fleet, its credentials are refused and the new ones still allocate", async () => {
    const coturn = await fleet([current.secret]);
    try {
      const withOld = await tryAllocation(coturn, old.username, old.credential);
      expect(withOld.ok).toBe(false);
      expect(withOld.output).toContain("Cannot complete Allocation");
      const withNew = await tryAllocation(coturn, current.username, current.credential);
      expect(withNew.ok, withNew.output).toBe(true);
    } finally {
      await coturn.stop();
    }
  });

  it("a fleet that has not received the new secret yet refuses the new credentials (why the fleet goes first)", async () => {
    const coturn = await fleet([old.secret]);
    try {
      const withNew = await tryAllocation(coturn, current.username, current.credential);
      expect(withNew.ok).toBe(false);
      const withOld = await tryAllocation(coturn, old.username, old.credential);
      expect(withOld.ok, withOld.output).toBe(true);
    } finally {
      await coturn.stop();
    }
  });
});
