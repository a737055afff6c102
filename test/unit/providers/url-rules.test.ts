/**
 * The browser rules every served URL passes (libwebrtc's ice_server_parsing.cc, Firefox's
 * `_validateIceServers`), and the fleet's public-host rule.
 */
import { describe, expect, it } from "vitest";
import { credentialProblem, iceUrlProblem, isPublicHost, parseIceUrlParts } from "../../../src/providers/url-rules";

describe("the browser URL rules", () => {
  it.each([
    "stun:stun.example.com",
    "stun:stun.example.com:3478",
    "stuns:stun.example.com:5349",
    "turn:turn.example.com:3478",
    "turn:turn.example.com:3478?transport=udp",
    "turn:turn.example.com:443?transport=tcp",
    "turns:turn.example.com:443?transport=tcp",
    "turns:turn.example.com",
    "turn:203.0.114.7:3478",
    "turn:[2001:4860::8888]:3478?transport=udp",
    "turn:[::ffff:192.0.2.1]:3478",
    "turn:localhost:3478",
  ])("accepts %s", (url) => {
    expect(iceUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ["turn://turn.example.com:3478", "syntax"],
    ["TURN:turn.example.com:3478", "scheme"],
    ["http:turn.example.com", "scheme"],
    ["stun:stun.example.com:3478?transport=udp", "query"],
    ["turn:turn.example.com:3478?transport=sctp", "query"],
    ["turn:turn.example.com:3478?transport=UDP", "query"],
    ["turns:turn.example.com:443?transport=udp", "query"],
    ["turn:turn.example.com:3478?transport=udp&x=1", "query"],
    ["turn:user@turn.example.com:3478", "userinfo"],
    ["turn:user:pass@turn.example.com", "userinfo"],
    ["turn:turn.example.com:0", "port"],
    ["turn:turn.example.com:65536", "port"],
    ["turn:turn.example.com:", "port"],
    ["turn:turn.example.com:+80", "port"],
    ["turn:turn.example.com:53", "port_53"],
    ["turn:turn.example.com:0053?transport=udp", "port_53"],
    ["stun:stun.example.com:00053", "port_53"],
    ["turn:bad_host.example.com", "host"],
    ["turn:-bad.example.com", "host"],
    ["turn:a..b.example.com", "host"],
    ["turn:1.2.3", "host"],
    ["turn:256.1.1.1", "host"],
    ["turn:01.2.3.4", "host"],
    ["turn:[::1", "syntax"],
    ["turn:[zz::1]:3478", "host"],
    ["turn:[1:2:3:4:5:6:7:8:9]", "host"],
    ["turn:", "host"],
    ["turn:turn.example.com/path", "syntax"],
    ["turn:turn.example.com:3478#frag", "syntax"],
    [`turn:${"a".repeat(600)}.com`, "too_long"],
  ])("refuses %s (%s)", (url, problem) => {
    expect(iceUrlProblem(url)).toBe(problem);
  });

  it("names the connectivity class of each URL", () => {
    const classOf = (url: string) => (parseIceUrlParts(url) as { class: string }).class;
    expect(classOf("turn:h.example.com")).toBe("turn-udp");
    expect(classOf("turn:h.example.com?transport=udp")).toBe("turn-udp");
    expect(classOf("turn:h.example.com?transport=tcp")).toBe("turn-tcp");
    expect(classOf("turns:h.example.com:443?transport=tcp")).toBe("turn-tls");
    expect(classOf("stun:h.example.com")).toBe("stun");
  });

  it("serves a TURN URL only with a non-empty username and credential, within browser limits", () => {
    expect(credentialProblem("user", "secret")).toBeUndefined();
    expect(credentialProblem(undefined, "secret")).toBe("no_credential");
    expect(credentialProblem("user", "")).toBe("no_credential");
    expect(credentialProblem("evil\r\nuser", "secret")).toBe("control_character");
    expect(credentialProblem("nul\u0000", "secret")).toBe("control_character");
    expect(credentialProblem("u".repeat(509), "secret")).toBeUndefined();
    expect(credentialProblem("u".repeat(510), "secret")).toBe("username_too_long");
    // 509 bytes, not characters: 255 two-byte characters are 510 bytes.
    expect(credentialProblem("é".repeat(255), "secret")).toBe("username_too_long");
  });
});

describe("public hosts (fleet node URLs)", () => {
  it.each(["turn.example.com", "203.0.114.7", "8.8.8.8", "[2606:4700::1111]", "[2001:4860::8888]"])(
    "counts %s as public",
    (host) => {
      expect(isPublicHost(host)).toBe(true);
    },
  );

  it.each([
    "localhost",
    "turn.localhost",
    "intranet",
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.1.1",
    "0.0.0.0",
    "192.0.2.1",
    "198.51.100.1",
    "203.0.113.1",
    "198.18.0.1",
    "192.88.99.1",
    "224.0.0.1",
    "255.255.255.255",
    "168.63.129.16",
    "[::1]",
    "[::]",
    "[::127.0.0.1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:0:7f00:1]",
    "[64:ff9b::7f00:1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[2001:db8::1]",
    "[2001::1]",
    "[2002:7f00:1::1]",
    "[3fff::1]",
    "[5f00::1]",
  ])("refuses %s", (host) => {
    expect(isPublicHost(host)).toBe(false);
  });
});
