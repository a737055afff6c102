/**
 * Fake Cloudflare Realtime TURN: `POST /turn/keys/{id}/credentials/generate-ice-servers` with a
 * Bearer token and `{"ttl":N}` answers 201 `{"iceServers":[stun…, turn…]}` with the newest documented
 * set of seven URLs (turn:…:443?transport=udp and turns:…:443 included); `older` answers the earlier
 * set with port-53 URLs; `legacy` answers the old `/credentials/generate` endpoint's single object,
 * STUN and TURN URLs together. Its 401/400 bodies are stand-ins.
 */
import { type FakeHandler, json, parseJson } from "./fake";

/** The newest documented TURN URLs: with `stun:stun.cloudflare.com:3478`, seven in all. */
export const CLOUDFLARE_TURN_URLS = [
  "turn:turn.cloudflare.com:3478?transport=udp",
  "turn:turn.cloudflare.com:443?transport=udp",
  "turn:turn.cloudflare.com:3478?transport=tcp",
  "turn:turn.cloudflare.com:80?transport=tcp",
  "turns:turn.cloudflare.com:5349?transport=tcp",
  "turns:turn.cloudflare.com:443?transport=tcp",
];
const OLDER_TURN_URLS = [
  "turn:turn.cloudflare.com:3478?transport=udp",
  "turn:turn.cloudflare.com:53?transport=udp",
  "turn:turn.cloudflare.com:3478?transport=tcp",
  "turn:turn.cloudflare.com:80?transport=tcp",
  "turns:turn.cloudflare.com:5349?transport=tcp",
  "turns:turn.cloudflare.com:443?transport=tcp",
];
const ONLY_53 = ["turn:turn.cloudflare.com:53?transport=udp", "turn:turn.cloudflare.com:53?transport=tcp"];

/**
 * Every kind of URL browsers refuse, beside one good URL of each kind: a STUN URL with a query, a TURN
 * URL without a credential, odd hosts, userinfo, port 0053, an uppercase scheme, an unknown transport,
 * and a username with CR/LF. Served, only `stun:stun.cloudflare.com:3478` and the udp TURN URL remain.
 */
export function hostileIceServers(credential: { username: string; credential: string }) {
  return [
    {
      urls: [
        "stun:stun.cloudflare.com:3478?transport=udp",
        "stun:stun.cloudflare.com:3478",
        "turn:turn.cloudflare.com:3478?transport=tcp",
      ],
    },
    {
      urls: [
        "turn:bad_host!.example:3478",
        "turn:user@turn.cloudflare.com:3478",
        "turn:turn.cloudflare.com:0053?transport=udp",
        "TURN:turn.cloudflare.com:3478",
        "turn:turn.cloudflare.com:3478?transport=sctp",
        "turn:[::1:3478",
        "turn:1.2.3:3478",
        "turn:turn.cloudflare.com:70000",
        "turn:turn.cloudflare.com:3478?transport=udp",
      ],
      ...credential,
    },
    { urls: ["turn:turn2.cloudflare.com:3478"], username: "evil\r\nuser", credential: "x" },
    { urls: ["turn:turn3.cloudflare.com:3478"], username: "u".repeat(510), credential: "x" },
  ];
}

export function cloudflareFake(): FakeHandler {
  return ({ method, path, headers, body }, { behaviour, issue }) => {
    if (method !== "POST" || !/^\/turn\/keys\/[A-Za-z0-9_-]+\/credentials\/generate-ice-servers$/.test(path)) return;
    if (!/^Bearer \S+$/.test(headers.get("Authorization") ?? "")) {
      return json(401, { success: false, errors: [{ code: 10000, message: "Authentication error" }] });
    }
    const ttl = parseJson(body)?.ttl;
    if (headers.get("Content-Type") !== "application/json" || !Number.isInteger(ttl)) {
      return json(400, { success: false, errors: [{ code: 10001, message: "invalid ttl" }] });
    }
    if (behaviour === "malformed_json") return new Response('{"iceServers": [', { status: 201 });
    if (behaviour === "wrong_schema") return json(201, { ice_servers: "nope" });
    if (behaviour === "empty") return json(201, { iceServers: [] });
    if (behaviour === "hostile") return json(201, { iceServers: hostileIceServers(issue("cf")) });
    const urls =
      behaviour === "only_port_53" ? ONLY_53 : behaviour === "older" ? OLDER_TURN_URLS : CLOUDFLARE_TURN_URLS;
    const turn = { urls, ...issue("cf") };
    if (behaviour === "legacy") {
      return json(201, { iceServers: { ...turn, urls: ["stun:stun.cloudflare.com:3478", ...CLOUDFLARE_TURN_URLS] } });
    }
    const stun =
      behaviour === "older"
        ? ["stun:stun.cloudflare.com:3478", "stun:stun.cloudflare.com:53"]
        : ["stun:stun.cloudflare.com:3478"];
    return json(201, { iceServers: [{ urls: stun }, turn] });
  };
}
