import { describe, expect, it } from "vitest";
import {
  combineIceServers,
  credentialIceServers,
  normalizeIceServers,
  servedIceServers,
  shapeIceServers,
} from "../../../src/providers/ice";

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
        // One server, one credential: one entry (the combined form every provider answers in).
        {
          urls: ["turn:t.example.test:3478", "turns:t.example.test:443?transport=tcp"],
          username: "u",
          credential: "c",
        },
      ]);
    });

    it("answers in combined form, so one provider's list is served without merging it again", () => {
      const given = [
        { urls: ["stun:s.example.test:3478", "stun:s.example.test:3478"] },
        { urls: ["turn:a.example.test:3478", "turn:b.example.test:3478"], username: "u", credential: "c" },
        { urls: ["turn:a.example.test:3478?transport=tcp"], username: "u", credential: "c" },
      ];
      const normalized = normalizeIceServers("metered", given);
      expect(normalized).toEqual([
        { urls: ["stun:s.example.test:3478"] },
        {
          urls: ["turn:a.example.test:3478", "turn:a.example.test:3478?transport=tcp"],
          username: "u",
          credential: "c",
        },
        { urls: ["turn:b.example.test:3478"], username: "u", credential: "c" },
      ]);
      expect(combineIceServers([normalized], 8)).toEqual(normalized);
      expect(servedIceServers([normalized], 8)).toBe(normalized);
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

  describe("servedIceServers", () => {
    const one = [
      { urls: ["stun:s.example.test:3478"] },
      { urls: ["turn:a.example.test:3478"], username: "u", credential: "c" },
      { urls: ["turn:b.example.test:3478"], username: "u", credential: "c" },
    ];

    it("serves one provider's answer as it is when it fits MAX_ICE_SERVERS", () => {
      expect(servedIceServers([one], 3)).toBe(one);
    });

    it("cuts one answer that is too long as combineIceServers does (STUN first)", () => {
      expect(servedIceServers([one], 2)).toEqual(combineIceServers([one], 2));
      expect(servedIceServers([one], 2)).toEqual(one.slice(1));
    });

    it("merges several answers", () => {
      const other = [{ urls: ["turn:c.example.test:3478"], username: "v", credential: "d" }];
      expect(servedIceServers([one, other], 8)).toEqual(combineIceServers([one, other], 8));
    });
  });

  describe("credentialIceServers", () => {
    it("lists STUN URLs once and TURN URLs one entry per host, as combineIceServers would", () => {
      const stun = ["stun:s.example.test:3478", "stun:s.example.test:3478"];
      const turn = ["turn:a.example.test:3478", "turn:b.example.test:3478", "turns:a.example.test:443"];
      const built = credentialIceServers(stun, turn, "1700000000:u", "secret-credential");
      expect(built).toEqual([
        { urls: ["stun:s.example.test:3478"] },
        {
          urls: ["turn:a.example.test:3478", "turns:a.example.test:443"],
          username: "1700000000:u",
          credential: "secret-credential",
        },
        { urls: ["turn:b.example.test:3478"], username: "1700000000:u", credential: "secret-credential" },
      ]);
      expect(built).toEqual(
        combineIceServers(
          [[{ urls: stun }, { urls: turn, username: "1700000000:u", credential: "secret-credential" }]],
          8,
        ),
      );
    });

    it("gives each credential its own entries (the grouping is shared, the credentials are not)", () => {
      const stun: string[] = [];
      const turn = ["turn:a.example.test:3478"];
      const first = credentialIceServers(stun, turn, "1:a", "x");
      const second = credentialIceServers(stun, turn, "2:b", "y");
      expect(first).toEqual([{ urls: turn, username: "1:a", credential: "x" }]);
      expect(second).toEqual([{ urls: turn, username: "2:b", credential: "y" }]);
    });

    it("follows a change of STUN URLs for the same TURN URLs", () => {
      const turn = ["turn:a.example.test:3478"];
      expect(credentialIceServers([], turn, "u", "c")).toHaveLength(1);
      expect(credentialIceServers(["stun:s.example.test:3478"], turn, "u", "c")).toEqual([
        { urls: ["stun:s.example.test:3478"] },
        { urls: turn, username: "u", credential: "c" },
      ]);
    });
  });
});

describe("shapeIceServers (MAX_ICE_URLS)", () => {
  const credential = { username: "1:u", credential: "c" };
  const nodeUrls = (host: string) => [
    `turn:${host}:3478?transport=udp`,
    `turn:${host}:3478?transport=tcp`,
    `turns:${host}:5349?transport=tcp`,
    `turns:${host}:443?transport=tcp`,
  ];

  it("leaves a list within the limit as it is", () => {
    const list = [{ urls: nodeUrls("a.example.com").slice(0, 3), ...credential }];
    expect(shapeIceServers(list, 4)).toBe(list);
  });

  it("keeps one URL per class, TLS on 443 first, then STUN, for one server", () => {
    const list = [
      { urls: ["stun:a.example.com:3478"] },
      {
        urls: [
          "turn:a.example.com:3478?transport=tcp",
          "turn:a.example.com:3478?transport=udp",
          "turns:a.example.com:5349?transport=tcp",
          "turns:a.example.com:443?transport=tcp",
        ],
        ...credential,
      },
    ];
    expect(shapeIceServers(list, 4)).toEqual([
      { urls: ["stun:a.example.com:3478"] },
      {
        urls: [
          "turn:a.example.com:3478?transport=tcp",
          "turn:a.example.com:3478?transport=udp",
          "turns:a.example.com:443?transport=tcp",
        ],
        ...credential,
      },
    ]);
  });

  it("takes the nearest node's classes before the fallback's, and keeps a URL of the fallback", () => {
    const list = [
      { urls: ["stun:s.example.com:3478"] },
      { urls: nodeUrls("near.example.com").slice(0, 3), ...credential },
      { urls: nodeUrls("far.example.com").slice(0, 3), ...credential },
    ];
    const shaped = shapeIceServers(list, 4);
    expect(shaped).toEqual([
      { urls: nodeUrls("near.example.com").slice(0, 3), ...credential },
      { urls: ["turn:far.example.com:3478?transport=udp"], ...credential },
    ]);
  });

  it.each([2, 3])("keeps a URL of a second node even with MAX_ICE_URLS=%i", (max) => {
    const list = [
      { urls: nodeUrls("near.example.com"), ...credential },
      { urls: nodeUrls("far.example.com"), ...credential },
    ];
    const urls = shapeIceServers(list, max).flatMap((server) => server.urls);
    expect(urls).toHaveLength(max);
    expect(urls[0]).toBe("turn:near.example.com:3478?transport=udp");
    expect(urls.some((url) => url.includes("far.example.com"))).toBe(true);
  });

  it("treats different hosts of TURN_URLS as nodes", () => {
    const list = credentialIceServers(
      [],
      [...nodeUrls("a.example.com").slice(0, 3), ...nodeUrls("b.example.com").slice(0, 3)],
      "u",
      "c",
    );
    const urls = shapeIceServers(list, 4).flatMap((server) => server.urls);
    expect(urls.filter((url) => url.includes("b.example.com"))).toEqual(["turn:b.example.com:3478?transport=udp"]);
  });

  it("hands out one URL with MAX_ICE_URLS=1", () => {
    const list = [{ urls: nodeUrls("a.example.com"), ...credential }];
    expect(shapeIceServers(list, 1)).toEqual([{ urls: ["turn:a.example.com:3478?transport=udp"], ...credential }]);
  });
});
