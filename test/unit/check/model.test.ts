/**
 * The check page's pure part (src/check/model.ts): which URLs get a probe over which transport,
 * how results are summed up, and what the URL fragment asks for.
 */
import { describe, expect, it } from "vitest";
import { describeError, readFragment, skipped, summarize, targetsOf, transportOf } from "../../../src/check/model";

describe("transportOf", () => {
  it.each([
    ["turn:turn.example.test:3478?transport=udp", "udp"],
    ["turn:turn.example.test:3478", "udp"],
    ["turn:turn.example.test:3478?transport=tcp", "tcp"],
    ["TURN:turn.example.test?foo=1&transport=TCP", "tcp"],
    ["turns:turn.example.test:5349?transport=tcp", "tls"],
    ["turns:turn.example.test:443", "tls"],
    ["stun:turn.example.test:3478", "stun"],
  ])("reads %s as %s", (url, transport) => {
    expect(transportOf(url)).toBe(transport);
  });
});

describe("targetsOf", () => {
  it("gives each URL its own target, with the credentials of its server, each URL once", () => {
    const turn = { urls: ["turn:a:3478?transport=udp", "turns:a:5349?transport=tcp"], username: "u", credential: "c" };
    const targets = targetsOf([{ urls: "stun:a:3478" }, turn, { ...turn, urls: "turn:a:3478?transport=udp" }]);
    expect(targets.map(({ url, transport }) => [url, transport])).toEqual([
      ["stun:a:3478", "stun"],
      ["turn:a:3478?transport=udp", "udp"],
      ["turns:a:5349?transport=tcp", "tls"],
    ]);
    expect(targets[1]!.server).toBe(turn);
  });
});

describe("summarize", () => {
  it("counts passes, failures and skips", () => {
    const stun = targetsOf([{ urls: "stun:a" }])[0]!;
    const pass = { url: "turn:a", transport: "udp", outcome: "pass" } as const;
    const fail = { url: "turn:b", transport: "tcp", outcome: "fail" } as const;
    expect(summarize([pass, fail, pass, skipped(stun)])).toBe("2 passed, 1 failed, 1 skipped");
    expect(summarize([fail])).toBe("0 passed, 1 failed");
  });
});

describe("readFragment", () => {
  it("takes a token from #token= and runs at once", () => {
    expect(readFragment("#token=aaa.bbb.ccc")).toEqual({ token: "aaa.bbb.ccc", run: true });
  });

  it("runs anonymously on #run, and not at all without a fragment", () => {
    expect(readFragment("#run")).toEqual({ token: "", run: true });
    expect(readFragment("")).toEqual({ token: "", run: false });
    expect(readFragment("#token=")).toEqual({ token: "", run: false });
  });
});

describe("describeError", () => {
  it("gives a meaning when the browser gives no text (Firefox's errorText is always empty)", () => {
    expect(describeError(401, "")).toBe("401 the TURN server refused the credential (secret mismatch)");
    expect(describeError(701, "  ")).toBe("701 the TURN server was not reached");
  });

  it("keeps the browser's text and adds the meaning (Chromium says only Unauthorized)", () => {
    expect(describeError(401, "Unauthorized.")).toBe(
      "401 Unauthorized: the TURN server refused the credential (secret mismatch)",
    );
  });

  it("shows other codes as the browser reports them", () => {
    expect(describeError(403, "Forbidden IP")).toBe("403 Forbidden IP");
    expect(describeError(600, "")).toBe("600");
  });
});
