/**
 * Provider faults under load, against the worker under `wrangler dev` with TURN_PROVIDERS=cloudflare
 * only, its API pointed at a fake on a loopback node:http server; bounded request counts, loopback only.
 *
 * - 3,000 valid requests at concurrency 100, the provider failing from request ~600 on (500, then
 *   malformed JSON, then a hang past PROVIDER_TIMEOUT_MS): no 5xx, the same unexpired cached credentials
 *   throughout. An entry this fresh is not refreshed, so the worker does not ask the provider at all.
 *   (A failed refresh-ahead, the one time a valid entry sends the worker upstream, is specified in workerd:
 *   test/unit/providers/failover.test.ts.)
 * - A fresh worker, its cache cold, the provider failing from the start: 503 `upstream_unavailable`
 *   in the documented error shape, with Retry-After.
 *
 * Timings are not asserted; the bench (npm run bench) measures them.
 */
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_SECRETS, defaultFakeOptions, providerEnv } from "../support/fakes/env";
import type { Behaviour } from "../support/fakes/fake";
import { type FakeProviderServer, startFakeProviderServer } from "../support/fakes/http-server";
import { count, runLoad } from "../support/load";
import { waitFor } from "../support/processes";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const JWT_SECRET = "load-fault-test-jwt-secret-0123456789abcdef0123456789";
const USERS = 200;
const TIMEOUT_MS = 1000;
const MIN_REMAINING_SECONDS = 30;
/** The lifetime asked for by default: the cached entry stays valid (and not due for refresh) through the run. */
const TTL_SECONDS = 3600;

interface CredentialsBody {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
  expiresAt: number;
  ttl: number;
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function startProviderAndWorker(): Promise<{ providers: FakeProviderServer; worker: WranglerDev }> {
  const providers = await startFakeProviderServer((apiUrls) => defaultFakeOptions(apiUrls));
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(providerEnv("cloudflare"))) if (value) vars[name] = value;
  try {
    const worker = await startWranglerDev({
      ...vars,
      CLOUDFLARE_TURN_API_URL: providers.apiUrls.cloudflare,
      PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
      // Every user shares one cached entry (the default, stated here because the test depends on it).
      CACHE_SCOPE: "global",
      CACHE_MIN_REMAINING_SECONDS: String(MIN_REMAINING_SECONDS),
      TURN_TTL_SECONDS: String(TTL_SECONDS),
      AUTH_JWT_SECRET: JWT_SECRET,
      // Provider faults are the point here, not limits.
      RATE_LIMIT_ENABLED: "false",
    });
    return { providers, worker };
  } catch (error) {
    await providers.stop();
    throw error;
  }
}

function signTokens(): Promise<string[]> {
  const key = new TextEncoder().encode(JWT_SECRET);
  return Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(`user-${i}`).setExpirationTime("10m").sign(key),
    ),
  );
}

/** The TURN entry's username, credential and expiry: what a client would use. */
function issued(body: CredentialsBody): string | undefined {
  const turn = body.iceServers?.find((server) => server.credential);
  return turn ? `${turn.username}/${turn.credential}@${body.expiresAt}` : undefined;
}

/** Both suites' workers (each with its own fake provider and cold cache), started at once: startup is most of the wait. */
let started: Promise<PromiseSettledResult<{ providers: FakeProviderServer; worker: WranglerDev }>[]> | undefined;
async function startBoth(index: 0 | 1): Promise<{ providers: FakeProviderServer; worker: WranglerDev }> {
  started ??= Promise.allSettled([startProviderAndWorker(), startProviderAndWorker()]);
  const result = (await started)[index]!;
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

describe("provider faults under load, with valid cached credentials (wrangler dev, fake Cloudflare on loopback)", () => {
  let providers: FakeProviderServer;
  let worker: WranglerDev;
  let tokens: string[];

  beforeAll(async () => {
    ({ providers, worker } = await startBoth(0));
    tokens = await signTokens();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await providers?.stop();
  });

  const get = (i: number, query = "") =>
    fetch(`${worker.url}/api/turn/credentials${query}`, { headers: { Authorization: `Bearer ${tokens[i % USERS]}` } });

  it("answers 3,000 requests at concurrency 100 with no 5xx while the provider fails from request ~600 on", async () => {
    // Answered requests after which the provider turns to each fault.
    const faults: [number, Behaviour][] = [
      [600, "status_500"],
      [1_500, "malformed_json"],
      [2_400, "hang"],
    ];
    const phases = ["ok", ...faults.map(([, behaviour]) => behaviour)];
    const seen = phases.map(() => new Set<string>());
    const callsAtFlip: number[] = [];
    let answered = 0;
    let phase = 0;
    let malformed = 0;
    let expired = 0;
    const result = await runLoad(
      3_000,
      100,
      (i) => get(i),
      async (_, response) => {
        const current = phase;
        if (response.status === 200) {
          const body = (await response.json()) as CredentialsBody;
          const credentials = issued(body);
          if (!credentials) malformed++;
          else seen[current]!.add(credentials);
          if (!(body.expiresAt > Date.now() && body.ttl > 0)) expired++;
        } else {
          await response.arrayBuffer();
        }
        answered++;
        const next = faults[phase];
        if (next && answered >= next[0]) {
          callsAtFlip.push(providers.fake.count("cloudflare"));
          providers.fake.set("cloudflare", next[1]);
          phase++;
        }
      },
    );
    const calls = providers.fake.count("cloudflare");
    console.info(
      "load with provider faults: 3,000 requests",
      Object.fromEntries(result.statuses),
      `network errors ${result.networkErrors}`,
      `faults from answers ${faults.map(([at, behaviour]) => `${at} (${behaviour})`).join(", ")}`,
      `upstream calls ${calls} (${calls - callsAtFlip[0]!} after the first fault)`,
      `distinct credentials per phase ${seen.map((set) => set.size).join("/")}`,
    );
    expect([...result.errors]).toEqual([]);
    expect(result.networkErrors).toBe(0);
    expect(count(result, (status) => status >= 500)).toBe(0);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 3_000 });
    expect(phase).toBe(faults.length);
    expect(malformed).toBe(0);
    expect(expired).toBe(0);
    // Every phase, faults included, served the one entry fetched before the first fault.
    const [before, ...after] = seen.map((set) => [...set]);
    expect(before).toHaveLength(1);
    for (const set of after) expect(set).toEqual(before);
    expect(Number(before![0]!.split("@")[1])).toBeGreaterThan(Date.now() + (TTL_SECONDS - 600) * 1000);
    // One upstream call filled the cache; an entry this fresh is not refreshed, so the worker never asked the failing provider.
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls - callsAtFlip[0]!).toBe(0);
    expect(providers.fake.unexpected).toEqual([]);
  }, 300_000);
});

describe("provider failing from the start, cache cold (fresh worker under wrangler dev)", () => {
  let providers: FakeProviderServer;
  let worker: WranglerDev;
  let token: string;

  beforeAll(async () => {
    ({ providers, worker } = await startBoth(1));
    providers.fake.set("cloudflare", "status_500");
    [token] = (await signTokens()) as [string];
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await providers?.stop();
  });

  const get = () => fetch(`${worker.url}/api/turn/credentials`, { headers: { Authorization: `Bearer ${token}` } });

  interface Answer {
    status: number;
    headers: Headers;
    text: string;
  }
  const read = async (response: Response): Promise<Answer> => ({
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  });

  const expectUnavailable = ({ status, headers, text }: Answer) => {
    expect(status).toBe(503);
    expect(headers.get("Retry-After")).toBe("10");
    expect(headers.get("Cache-Control")).toBe("no-store");
    expect(headers.get("Content-Type")).toMatch(/^application\/json/);
    const body = JSON.parse(text) as ErrorBody;
    expect(Object.keys(body)).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
    expect(body.error.code).toBe("upstream_unavailable");
    expect(body.error.message).toEqual(expect.any(String));
    for (const secret of Object.values(PROVIDER_SECRETS)) expect(text).not.toContain(secret);
    expect(text).not.toContain("127.0.0.1");
  };

  it("answers 503 upstream_unavailable with Retry-After, for each fault and then the open circuit", async () => {
    const faults: [Behaviour, string][] = [
      ["status_500", "status_500"],
      ["malformed_json", "malformed_json"],
      ["hang", "timeout"],
    ];
    for (const [behaviour, reason] of faults) {
      providers.fake.set("cloudflare", behaviour);
      expectUnavailable(await read(await get()));
      await waitFor(
        async () => worker.output().includes(`"reason":"provider:cloudflare:${reason}"`),
        10_000,
        () => worker.output().slice(-4000),
      );
    }
    expect(providers.fake.count("cloudflare")).toBe(3);

    // Three failures in a row open the circuit: a bounded burst is refused without asking the provider.
    const answers: Answer[] = [];
    const burst = await runLoad(200, 20, get, async (_, response) => void answers.push(await read(response)));
    console.info(
      "cold cache, provider failing: 3 single requests, then 200 at concurrency 20",
      Object.fromEntries(burst.statuses),
      `network errors ${burst.networkErrors}`,
      `upstream calls ${providers.fake.count("cloudflare")}`,
    );
    for (const answer of answers) expectUnavailable(answer);
    expect(burst.networkErrors).toBe(0);
    expect(Object.fromEntries(burst.statuses)).toEqual({ 503: 200 });
    expect(worker.output()).toContain("provider:cloudflare:circuit_open");
    expect(providers.fake.count("cloudflare")).toBe(3);
    expect(worker.output()).not.toContain(PROVIDER_SECRETS.CLOUDFLARE_TURN_API_TOKEN);
  }, 120_000);
});
