/**
 * Inside workerd: routes the worker's outbound `fetch` to FakeProviders with `vi.spyOn(globalThis,
 * "fetch")`, at the providers' default API URLs. Any other URL is recorded in `fake.unexpected` and
 * answered 599; `expectNoUnexpectedCalls` (in afterEach) turns that into a failed test.
 * `useFakeProviders` does it all per test, after emptying KV and the isolate's caches and breakers.
 */
import { reset } from "cloudflare:test";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { resetProviderState } from "../../../src/providers/resolve";
import { defaultFakeOptions } from "./env";
import { type FakeOptions, FakeProviders } from "./providers";

/** Installs the spy; restore it with `vi.restoreAllMocks()`. */
export function installFakeProviders(options: FakeOptions = defaultFakeOptions()): FakeProviders {
  const fake = new FakeProviders(options);
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) =>
    fake.handle(new Request(input, init), init?.signal),
  );
  return fake;
}

export function expectNoUnexpectedCalls(fake: FakeProviders | undefined): void {
  expect(fake?.unexpected ?? [], "the worker called a URL no fake provider answers").toEqual([]);
}

/**
 * Per test: empty KV (`reset`), the isolate's cache tiers and circuit breakers, and a fresh fake;
 * afterwards, fail on any unexpected outbound call and restore `fetch`.
 */
export function useFakeProviders(options?: () => FakeOptions): { readonly fake: FakeProviders } {
  const state: { fake: FakeProviders | undefined } = { fake: undefined };
  beforeEach(async () => {
    await reset();
    resetProviderState();
    state.fake = installFakeProviders(options?.());
  });
  afterEach(() => {
    expectNoUnexpectedCalls(state.fake);
    vi.restoreAllMocks();
  });
  return {
    get fake() {
      if (!state.fake) throw new Error("useFakeProviders: no test is running");
      return state.fake;
    },
  };
}
