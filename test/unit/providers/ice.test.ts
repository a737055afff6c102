import { describe, expect, it } from "vitest";
import { combineIceServers, normalizeIceServers } from "../../../src/providers/ice";

describe("ICE server lists", () => {
  describe("normalizeIceServers", () => {
    it("takes urls as a string or a list, or the legacy url", () => {
      expect(
        normalizeIceServers("twilio", [
          { urls: "stun:s.example.test:3478" },
          { url: "turn:t.example.test:3478", username: "u", credential: "c" },
          { urls: ["turns:t.example.test:443?transport=tcp"], username: "u", credential: "c" },
        ]),
      ).toEqual([
        { urls: ["stun:s.example.test:3478"] },
        { urls: ["turn:t.example.test:3478"], username: "u", credential: "c" },
        { urls: ["turns:t.example.test:443?transport=tcp"], username: "u", credential: "c" },
      ]);
    });

    it("drops port-53 URLs, which browsers block, and anything that is not stun:/turn:/turns:", () => {
      expect(
        normalizeIceServers("cloudflare", [
          {
            urls: [
              "turn:t.example.test:53?transport=udp",
              "turn:[2001:db8::1]:53",
              "stun:s.example.test:53",
              "https://evil.example.test",
              "turn:t.example.test:5353",
              "turn:t.example.test:3478",
            ],
            username: "u",
            credential: "c",
          },
          { urls: ["stun:only.example.test:53"] },
        ]),
      ).toEqual([{ urls: ["turn:t.example.test:5353", "turn:t.example.test:3478"], username: "u", credential: "c" }]);
    });

    it("fails (reason empty) when no TURN URL is left", () => {
      expect(() => normalizeIceServers("metered", [])).toThrow(
        expect.objectContaining({ reason: "provider:metered:empty" }),
      );
      expect(() => normalizeIceServers("metered", [{ urls: "stun:s.example.test:3478" }])).toThrow(
        expect.objectContaining({ reason: "provider:metered:empty" }),
      );
    });
  });

  describe("combineIceServers", () => {
    const stun = (url: string) => ({ urls: [url] });
    const turn = (urls: string[], username: string) => ({ urls, username, credential: `${username}-secret` });

    it("merges entries with the same credential and drops a URL given twice", () => {
      expect(
        combineIceServers(
          [
            [stun("stun:a:3478"), turn(["turn:a:3478"], "a")],
            [stun("stun:a:3478"), stun("stun:b:3478"), turn(["turn:b:3478"], "b"), turn(["turns:b:443"], "b")],
          ],
          4,
        ),
      ).toEqual([
        { urls: ["stun:a:3478", "stun:b:3478"] },
        turn(["turn:a:3478"], "a"),
        turn(["turn:b:3478", "turns:b:443"], "b"),
      ]);
    });

    it("keeps different servers with one credential apart, so a fleet's nearest node and fallback stay two", () => {
      const shared = { username: "1700000000:u", credential: "c" };
      expect(
        combineIceServers(
          [
            [
              { urls: ["turn:fra.example.test:3478?transport=udp", "turns:fra.example.test:5349"], ...shared },
              { urls: ["turn:iad.example.test:3478?transport=udp"], ...shared },
            ],
          ],
          2,
        ),
      ).toEqual([
        { urls: ["turn:fra.example.test:3478?transport=udp", "turns:fra.example.test:5349"], ...shared },
        { urls: ["turn:iad.example.test:3478?transport=udp"], ...shared },
      ]);
    });

    it("keeps at most `max` entries, dropping STUN-only ones first, then the last", () => {
      const lists = [
        [stun("stun:a:3478"), turn(["turn:a:3478"], "a")],
        [turn(["turn:b:3478"], "b")],
        [turn(["turn:c:3478"], "c")],
      ];
      expect(combineIceServers(lists, 3).map((server) => server.username)).toEqual(["a", "b", "c"]);
      expect(combineIceServers(lists, 2).map((server) => server.username)).toEqual(["a", "b"]);
    });

    it("never mutates the lists it is given (they may be cached)", () => {
      const cached = [turn(["turn:a:3478"], "a")];
      const frozen = structuredClone(cached);
      combineIceServers([cached, [turn(["turn:b:3478"], "a")]], 4);
      expect(cached).toEqual(frozen);
    });
  });
});
