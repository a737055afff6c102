/**
 * The deny list (src/admin/deny-list.ts): one KV key for every active entry, read at most once per isolate
 * per 30 s whatever the number of users asking; expired entries pruned on write; the last known list answers
 * when KV fails (logged as stale), while an isolate that never read it fails closed; the REST route refuses a
 * revoked username too.
 */
import { reset } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
  clearDenyCache,
  deniedUntil,
  deny,
  DENY_KEY,
  listDenied,
  MAX_DENY_ENTRIES,
} from "../../../src/admin/deny-list";
import { hashedUserId } from "../../../src/credentials/user-id";
import { AppError } from "../../../src/errors";
import { TEST_SECRETS } from "../../support/test-env";
import { call, operator } from "../../support/worker-fetch";

/** The real (miniflare) KV, counting reads, and failing them while `down` is set. */
function countingKv() {
  const state = { reads: 0, down: false };
  const kv = {
    get: (key: string) => {
      state.reads++;
      if (state.down) return Promise.reject(new Error("KV GET failed: 500 Internal Server Error"));
      return env.TURN_CACHE.get(key);
    },
    put: (...args: Parameters<KVNamespace["put"]>) => env.TURN_CACHE.put(...args),
  } as unknown as KVNamespace;
  return { kv, state };
}

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe("the deny list", () => {
  beforeEach(async () => {
    await reset();
    clearDenyCache();
  });

  it("keeps every active entry under one KV key, and prunes expired ones when it writes", async () => {
    await deny(env.TURN_CACHE, "aaaaaaaaaaaaaaaa", 100, "short", T0);
    await deny(env.TURN_CACHE, "bbbbbbbbbbbbbbbb", 4200, "long", T0);
    const stored = JSON.parse((await env.TURN_CACHE.get(DENY_KEY))!) as { entries: { user: string }[] };
    expect(stored.entries.map((entry) => entry.user)).toEqual(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
    expect((await env.TURN_CACHE.list()).keys.map((key) => key.name)).toEqual([DENY_KEY]);

    await deny(env.TURN_CACHE, "cccccccccccccccc", 4200, undefined, T0 + 200_000);
    const pruned = JSON.parse((await env.TURN_CACHE.get(DENY_KEY))!) as { entries: { user: string }[] };
    expect(pruned.entries.map((entry) => entry.user)).toEqual(["bbbbbbbbbbbbbbbb", "cccccccccccccccc"]);
    expect((await listDenied(env.TURN_CACHE, T0 + 200_000)).map((entry) => entry.user)).toEqual([
      "bbbbbbbbbbbbbbbb",
      "cccccccccccccccc",
    ]);
  });

  it("extends an entry revoked twice, keeping when it started", async () => {
    const first = await deny(env.TURN_CACHE, "aaaaaaaaaaaaaaaa", 100, "first", T0);
    const second = await deny(env.TURN_CACHE, "aaaaaaaaaaaaaaaa", 4200, undefined, T0 + 10_000);
    expect(second).toEqual({
      user: "aaaaaaaaaaaaaaaa",
      since: first.since,
      until: first.since + 10 + 4200,
      reason: "first",
    });
  });

  it("reads KV once per isolate per 30 s, however many users ask", async () => {
    const { kv, state } = countingKv();
    await env.TURN_CACHE.put(
      DENY_KEY,
      JSON.stringify({ entries: [{ user: "dddddddddddddddd", since: T0 / 1000, until: T0 / 1000 + 3600 }] }),
    );
    for (let i = 0; i < 200; i++) {
      const user = i === 7 ? "dddddddddddddddd" : `${String(i).padStart(16, "0")}`;
      const entry = await deniedUntil(kv, user, T0 + i * 100);
      expect(entry !== undefined).toBe(i === 7);
    }
    expect(state.reads).toBe(1);
    await deniedUntil(kv, "eeeeeeeeeeeeeeee", T0 + 30_001);
    expect(state.reads).toBe(2);
  });

  it("keeps using the last known list when KV fails, and says so in the log", async () => {
    const { kv, state } = countingKv();
    await deny(env.TURN_CACHE, "dddddddddddddddd", 3600, undefined, T0);
    clearDenyCache();
    expect(await deniedUntil(kv, "dddddddddddddddd", T0)).toBeDefined();
    state.down = true;
    const log: { denyList?: string } = {};
    expect(await deniedUntil(kv, "dddddddddddddddd", T0 + 31_000, log)).toBeDefined();
    expect(await deniedUntil(kv, "ffffffffffffffff", T0 + 32_000, log)).toBeUndefined();
    expect(log.denyList).toBe("stale");
    // One failed read, then a pause of 5 s before the next try.
    expect(state.reads).toBe(2);
    state.down = false;
    const fresh: { denyList?: string } = {};
    await deniedUntil(kv, "ffffffffffffffff", T0 + 37_000, fresh);
    expect(state.reads).toBe(3);
    expect(fresh.denyList).toBeUndefined();
  });

  it("fails closed (503) in an isolate that never read the list when KV fails", async () => {
    const { kv, state } = countingKv();
    state.down = true;
    const refused = await deniedUntil(kv, "ffffffffffffffff", T0).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(503);
  });

  it("retries a write KV refused (1 write per second per key) and verifies it by reading back", async () => {
    let puts = 0;
    const kv = {
      get: (key: string) => env.TURN_CACHE.get(key),
      put: (...args: Parameters<KVNamespace["put"]>) =>
        ++puts === 1 ? Promise.reject(new Error("KV PUT failed: 429 Too Many Requests")) : env.TURN_CACHE.put(...args),
    } as unknown as KVNamespace;
    const entry = await deny(kv, "aaaaaaaaaaaaaaaa", 3600, "retried", T0);
    expect(puts).toBe(2);
    expect((await listDenied(env.TURN_CACHE, T0)).map((e) => e.user)).toEqual([entry.user]);
  });

  it("refuses a new entry past MAX_DENY_ENTRIES active ones (503), and still extends an existing one", async () => {
    const since = T0 / 1000;
    const entries = Array.from({ length: MAX_DENY_ENTRIES }, (_, i) => ({
      user: i.toString(16).padStart(16, "0"),
      since,
      until: since + 3600,
    }));
    await env.TURN_CACHE.put(DENY_KEY, JSON.stringify({ entries }));
    const full = await deny(env.TURN_CACHE, "ffffffffffffffff", 3600, undefined, T0).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(AppError);
    expect((full as AppError).status).toBe(503);
    expect((await deny(env.TURN_CACHE, entries[0]!.user, 7200, undefined, T0)).until).toBe(since + 7200);
  });

  it("refuses a revoked username on the REST route (/api/turn/rest) with 403 revoked", async () => {
    const [key] = TEST_SECRETS.TURN_REST_API_KEYS.split(",");
    const rest = (username: string) => call(`/api/turn/rest?service=turn&username=${username}&key=${key}`);
    expect((await rest("media-abuser")).status).toBe(200);
    const revoked = await call("/api/admin/revoke", {
      method: "POST",
      headers: { ...(operator().headers as Record<string, string>), "Content-Type": "application/json" },
      body: JSON.stringify({ user: "media-abuser" }),
    });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { user: string }).user).toBe(
      await hashedUserId("media-abuser", TEST_SECRETS.TURN_SECRET),
    );
    const refused = await rest("media-abuser");
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("revoked");
    expect((await rest("media-bystander")).status).toBe(200);
  });
});
