/**
 * Metered housekeeping from the cron (issue 18): in secret-key mode the worker's `scheduled` lists the
 * credentials labelled `icegate`, expired ones included (GET /api/v2/turn/credentials?secretKey&all&label&page,
 * paginated), and deletes exactly the expired ones (DELETE /api/v1/turn/credential?secretKey with
 * `{"username"}`). The fake speaks Metered's documented shapes; the log line has counts, no secret.
 */
import { createScheduledController } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { DEFAULT_API_URLS, PROVIDER_SECRETS, providerEnv } from "../../support/fakes/env";
import { testEnv } from "../../support/worker-fetch";

interface Stored {
  username: string;
  label: string;
  expired: boolean;
}

/** Metered's management API as documented: 50 per page, `all` includes expired ones, `label` filters. */
function meteredAccount(credentials: Stored[]) {
  const calls: { method: string; url: URL; body: unknown }[] = [];
  const stored = [...credentials];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.method === "DELETE" ? await request.json() : undefined;
    calls.push({ method: request.method, url, body });
    if (url.origin !== DEFAULT_API_URLS.metered) return new Response("unexpected host", { status: 599 });
    if (url.searchParams.get("secretKey") !== PROVIDER_SECRETS.METERED_SECRET_KEY) {
      return Response.json({ message: "invalid secretKey" }, { status: 400 });
    }
    if (request.method === "GET" && url.pathname === "/api/v2/turn/credentials") {
      const label = url.searchParams.get("label");
      const matching = stored.filter(
        (c) => (label === null || c.label === label) && (url.searchParams.has("all") || !c.expired),
      );
      const page = Number(url.searchParams.get("page") ?? 1);
      const pages = Math.max(1, Math.ceil(matching.length / 50));
      return Response.json({
        data: matching.slice((page - 1) * 50, page * 50).map((c) => ({
          username: c.username,
          password: `password-${c.username}`,
          apiKey: `api-key-${c.username}`,
          expiryInSeconds: 3600,
          label: c.label,
          expired: c.expired,
        })),
        pagination: {
          total_records: matching.length,
          current_page: page,
          total_pages: pages,
          next_page: page < pages ? page + 1 : null,
          prev_page: page > 1 ? page - 1 : null,
        },
      });
    }
    if (request.method === "DELETE" && url.pathname === "/api/v1/turn/credential") {
      const at = stored.findIndex((c) => c.username === (body as { username?: string }).username);
      if (at < 0)
        return Response.json({ message: "credential of the specified username is not found" }, { status: 400 });
      stored.splice(at, 1);
      return Response.json({ success: true, message: "credential removed" });
    }
    return new Response("not found", { status: 404 });
  });
  return { calls, stored };
}

const secretKeyMode = providerEnv("metered", {
  METERED_API_KEY: undefined,
  METERED_SECRET_KEY: PROVIDER_SECRETS.METERED_SECRET_KEY,
});

async function runCron(changes: Record<string, string | undefined>): Promise<void> {
  const controller = createScheduledController({ cron: "*/5 * * * *", scheduledTime: Date.now() });
  await worker.scheduled(controller, testEnv(changes));
}

describe("Metered housekeeping from the cron", () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  });
  afterEach(() => vi.restoreAllMocks());

  it("deletes exactly the expired icegate credentials, across pages, with the documented calls", async () => {
    const credentials: Stored[] = [
      ...Array.from({ length: 55 }, (_, i) => ({ username: `old-${i}`, label: "icegate", expired: true })),
      { username: "live-1", label: "icegate", expired: false },
      { username: "someone-elses", label: "other-app", expired: true },
    ];
    const { calls, stored } = meteredAccount(credentials);
    await runCron(secretKeyMode);

    const lists = calls.filter((c) => c.method === "GET");
    expect(lists.map((c) => `${c.url.origin}${c.url.pathname}`)).toEqual([
      `${DEFAULT_API_URLS.metered}/api/v2/turn/credentials`,
      `${DEFAULT_API_URLS.metered}/api/v2/turn/credentials`,
    ]);
    expect(lists.map((c) => Object.fromEntries(c.url.searchParams))).toEqual([
      { secretKey: PROVIDER_SECRETS.METERED_SECRET_KEY, all: "true", label: "icegate", page: "1" },
      { secretKey: PROVIDER_SECRETS.METERED_SECRET_KEY, all: "true", label: "icegate", page: "2" },
    ]);
    const deletes = calls.filter((c) => c.method === "DELETE");
    expect(deletes).toHaveLength(55);
    for (const call of deletes) {
      expect(`${call.url.origin}${call.url.pathname}`).toBe(`${DEFAULT_API_URLS.metered}/api/v1/turn/credential`);
      expect(Object.fromEntries(call.url.searchParams)).toEqual({ secretKey: PROVIDER_SECRETS.METERED_SECRET_KEY });
    }
    expect(deletes.map((c) => (c.body as { username: string }).username).sort()).toEqual(
      credentials
        .filter((c) => c.label === "icegate" && c.expired)
        .map((c) => c.username)
        .sort(),
    );
    for (const call of deletes) expect(Object.keys(call.body as object)).toEqual(["username"]);
    expect(calls.some((c) => c.url.pathname.includes("by_label"))).toBe(false);
    expect(stored.map((c) => c.username)).toEqual(["live-1", "someone-elses"]);

    const summary = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "metered-housekeeping");
    expect(summary).toMatchObject({ expired: 55, deleted: 55, failed: 0 });
    expect(lines.join("\n")).not.toContain(PROVIDER_SECRETS.METERED_SECRET_KEY);
  });

  it("does nothing at Metered in API-key mode, or without Metered", async () => {
    for (const env of [providerEnv("metered"), providerEnv("coturn")]) {
      const { calls } = meteredAccount([{ username: "old", label: "icegate", expired: true }]);
      await runCron(env);
      expect(calls).toEqual([]);
      vi.mocked(globalThis.fetch).mockRestore();
    }
  });

  it("logs the failure, without the secret, when Metered refuses the list", async () => {
    const { calls } = meteredAccount([]);
    await runCron({ ...secretKeyMode, METERED_SECRET_KEY: "sentinel-wrong-secret-key-0123456789" });
    expect(calls.filter((c) => c.method === "DELETE")).toEqual([]);
    const summary = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "metered-housekeeping");
    expect(summary).toMatchObject({ expired: 0, deleted: 0, error: "provider:metered:status_400" });
    expect(lines.join("\n")).not.toContain("sentinel-wrong-secret-key");
  });
});
