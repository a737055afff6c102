/**
 * Issue 16, item 1, measured: the worker under `wrangler dev` (real workerd) with Cloudflare's API URL
 * pointed at a loopback server that answers 200 MiB, streamed with backpressure (200, 500, 200). The
 * worker must read at most its 64 KiB cap, cancel, and fail over to coturn; workerd's memory (the peak
 * resident set, VmHWM, of wrangler's workerd processes, read from /proc) must not grow by anything near
 * the body's size. Reading the body whole (the code before issue 16) grew it by about 600 MiB here (606 MiB measured).
 * The bounds are on memory and bytes, never on time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { providerEnv } from "../support/fakes/env";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev";

const MiB = 1024 * 1024;
const BODY_BYTES = 200 * MiB;
/** Generous: the cap is 64 KiB; reading the body whole costs hundreds of MiB. */
const MAX_GROWTH_BYTES = 64 * MiB;

/** A loopback "provider" answering every request with BODY_BYTES of padding; counts what it sent. */
function startHugeProvider(status: () => number) {
  const sent = { bytes: 0, requests: 0 };
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const server: Server = createServer((request, response) => {
    sent.requests++;
    request.resume();
    response.writeHead(status(), { "Content-Type": "application/json" });
    response.write("{");
    let written = 0;
    const pump = () => {
      while (written < BODY_BYTES) {
        written += chunk.length;
        sent.bytes += chunk.length;
        if (!response.write(chunk)) return void response.once("drain", pump);
      }
      response.end("}");
    };
    response.on("close", () => (written = BODY_BYTES));
    pump();
  });
  return {
    sent,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The workerd processes in wrangler's process group: wrangler dev runs two (its proxy and the worker),
 * so both are measured, and the growth of their sum is what counts.
 */
function workerdPids(group: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp === group && comm.startsWith("workerd")) pids.push(Number(entry));
    } catch {
      // The process went away while we looked.
    }
  }
  if (pids.length === 0) throw new Error(`no workerd in process group ${group}`);
  return pids;
}

/** VmHWM (peak resident set) and VmRSS summed over processes, in bytes. */
function memory(pids: number[]): { peak: number; rss: number } {
  const total = { peak: 0, rss: 0 };
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) * 1024;
    total.peak += kib("VmHWM");
    total.rss += kib("VmRSS");
  }
  return total;
}

describe("a provider that answers 200 MiB, under wrangler dev", () => {
  let replyStatus = 200;
  const provider = startHugeProvider(() => replyStatus);
  let worker: WranglerDev;
  let pids: number[];

  beforeAll(async () => {
    const base = await provider.listen();
    const vars: Record<string, string> = {};
    for (const [name, value] of Object.entries(providerEnv("cloudflare,coturn"))) if (value) vars[name] = value;
    worker = await startWranglerDev({
      ...vars,
      TURN_SECRET: "integration-huge-reply-turn-secret-3c2b1a",
      CLOUDFLARE_TURN_API_URL: `${base}/cloudflare/v1`,
      // Generous: the point is memory, and a slow shared machine must not turn this into a timeout.
      PROVIDER_TIMEOUT_MS: "20000",
      ALLOW_ANONYMOUS: "true",
      RATE_LIMIT_ENABLED: "false",
    });
    pids = workerdPids(worker.pid!);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await provider.stop();
  });

  const ask = async () => {
    const response = await fetch(`${worker.url}/api/turn/credentials`);
    const text = await response.text();
    expect(response.status, `${text}\n${worker.output().slice(-2000)}`).toBe(200);
    return { status: response.status, body: JSON.parse(text) as { iceServers: { urls: string[] }[] } };
  };

  it("fails over to coturn, reading a few KiB of the 200 MiB and growing workerd's memory by far less", async () => {
    // Warm up without the provider (the module loaded, the isolate running). Cloudflare's circuit opens after
    // three failures (src/providers/breaker.ts), so the three measured requests all reach the provider.
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const before = memory(pids);
    const sentBefore = provider.sent.bytes;
    for (const status of [200, 500, 200]) {
      replyStatus = status;
      const reply = await ask();
      expect(reply.body.iceServers.flatMap((server) => server.urls).join(",")).toContain("127.0.0.1");
    }
    const after = memory(pids);
    const sent = provider.sent.bytes - sentBefore;
    expect(provider.sent.requests).toBe(3);
    const growth = after.peak - before.peak;
    expect(growth, `workerd's peak RSS grew by ${Math.round(growth / MiB)} MiB`).toBeLessThan(MAX_GROWTH_BYTES);
    expect(after.rss - before.rss).toBeLessThan(MAX_GROWTH_BYTES);
    // What the server managed to write before the worker hung up: socket buffers, never the whole body.
    expect(sent, `the server wrote ${Math.round(sent / MiB)} MiB`).toBeLessThan(150 * MiB);
  });
});
