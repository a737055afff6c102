import { beforeEach, describe, expect, it } from "vitest";
import {
  breakerAllows,
  FAILURES_TO_OPEN,
  OPEN_MS,
  recordFailure,
  recordSuccess,
  resetBreakers,
  withBreaker,
} from "../../../src/providers/breaker";

describe("the circuit breaker", () => {
  beforeEach(() => resetBreakers());
  const t0 = 1_000_000;

  it("stays closed below 3 failures in a row, and a success starts the count again", () => {
    recordFailure("cloudflare", t0);
    recordFailure("cloudflare", t0);
    expect(breakerAllows("cloudflare", t0)).toBe(true);
    recordSuccess("cloudflare");
    recordFailure("cloudflare", t0);
    recordFailure("cloudflare", t0);
    expect(breakerAllows("cloudflare", t0)).toBe(true);
  });

  it("opens after 3 failures, for 30 s, for that provider only", () => {
    for (let i = 0; i < FAILURES_TO_OPEN; i++) recordFailure("cloudflare", t0);
    expect(breakerAllows("cloudflare", t0 + 1)).toBe(false);
    expect(breakerAllows("cloudflare", t0 + OPEN_MS - 1)).toBe(false);
    expect(breakerAllows("metered", t0 + 1)).toBe(true);
  });

  it("then lets exactly one trial through (half-open)", () => {
    for (let i = 0; i < FAILURES_TO_OPEN; i++) recordFailure("twilio", t0);
    expect(breakerAllows("twilio", t0 + OPEN_MS)).toBe(true);
    expect(breakerAllows("twilio", t0 + OPEN_MS + 1)).toBe(false);
  });

  it("closes when the trial succeeds, and opens again for 30 s when it fails", () => {
    for (let i = 0; i < FAILURES_TO_OPEN; i++) recordFailure("twilio", t0);
    breakerAllows("twilio", t0 + OPEN_MS);
    recordFailure("twilio", t0 + OPEN_MS + 5);
    expect(breakerAllows("twilio", t0 + OPEN_MS + 10)).toBe(false);
    expect(breakerAllows("twilio", t0 + 2 * OPEN_MS + 5)).toBe(true);
    recordSuccess("twilio");
    expect(breakerAllows("twilio", t0 + 2 * OPEN_MS + 6)).toBe(true);
  });

  it("does not wait forever for a trial that never reports back", () => {
    for (let i = 0; i < FAILURES_TO_OPEN; i++) recordFailure("metered", t0);
    expect(breakerAllows("metered", t0 + OPEN_MS)).toBe(true);
    expect(breakerAllows("metered", t0 + 2 * OPEN_MS + 1)).toBe(true);
  });

  it("withBreaker refuses while open and turns a bug into a provider failure", async () => {
    await expect(withBreaker("cloudflare", () => Promise.reject(new TypeError("bug")), t0)).rejects.toMatchObject({
      code: "upstream_unavailable",
      reason: "provider:cloudflare:error",
    });
    for (let i = 0; i < FAILURES_TO_OPEN; i++) recordFailure("cloudflare", Date.now());
    await expect(withBreaker("cloudflare", () => Promise.resolve(1))).rejects.toMatchObject({
      reason: "provider:cloudflare:circuit_open",
    });
  });
});
