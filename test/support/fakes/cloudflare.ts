/**
 * Fake Cloudflare Realtime TURN: `POST /turn/keys/{id}/credentials/generate-ice-servers` with a
 * Bearer token and `{"ttl":N}` answers 201 `{"iceServers":[stun…, turn…]}`, port-53 URLs included, as
 * documented; `legacy` answers the old endpoint's single object. Its 401/400 bodies are stand-ins.
 */
import { type FakeHandler, json, parseJson } from "./fake";

const TURN_URLS = [
  "turn:turn.cloudflare.com:3478?transport=udp",
  "turn:turn.cloudflare.com:53?transport=udp",
  "turn:turn.cloudflare.com:3478?transport=tcp",
  "turn:turn.cloudflare.com:80?transport=tcp",
  "turns:turn.cloudflare.com:5349?transport=tcp",
  "turns:turn.cloudflare.com:443?transport=tcp",
];
const ONLY_53 = ["turn:turn.cloudflare.com:53?transport=udp", "turn:turn.cloudflare.com:53?transport=tcp"];

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
    const turn = { urls: behaviour === "only_port_53" ? ONLY_53 : TURN_URLS, ...issue("cf") };
    if (behaviour === "legacy") return json(201, { iceServers: turn });
    return json(201, {
      iceServers: [{ urls: ["stun:stun.cloudflare.com:3478", "stun:stun.cloudflare.com:53"] }, turn],
    });
  };
}
