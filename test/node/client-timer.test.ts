/**
 * The browser SDK's timers in Node (tests, SSR, Electron main): unref'd, so a client that is never
 * closed does not hold the process open, and never overflowing setTimeout's 32-bit delay.
 */
import { describe, expect, it, vi } from "vitest";
import { schedule } from "../../src/client/timer";

describe("the SDK's timers in Node", () => {
  it("does not keep the process alive", () => {
    const timer = schedule(() => undefined, 60_000);
    try {
      expect(timer.hasRef()).toBe(false);
    } finally {
      clearTimeout(timer);
    }
  });

  it("clamps a delay beyond setTimeout's limit instead of firing at once", () => {
    vi.useFakeTimers();
    try {
      const fired = vi.fn();
      schedule(fired, 60 * 24 * 3600 * 1000);
      vi.advanceTimersByTime(24 * 3600 * 1000);
      expect(fired).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
