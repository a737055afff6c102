/**
 * Fake Metered: `GET /api/v1/turn/credentials?apiKey=…[&region=…]` answers 200 with a bare array
 * (stun:80, turn:80, turn:80/tcp, turn:443, turns:443/tcp), the same credential for the same key;
 * 400 `{"error":"Please specify API Key"}` without a key and 401 `{"error":"Invalid API Key"}` for an
 * unknown one. `POST /api/v1/turn/credential?secretKey=…` with `{"expiryInSeconds","label"}` creates
 * a credential and its apiKey; a bad secret key gets 400 `{"message":"invalid secretKey"}`, as the
 * secret-key endpoints answer errors. The documented set has plain `turn:…:443?transport=tcp`;
 * `dashboard` answers `turns:…:443?transport=tcp`, as dashboard copies show it.
 */
import { type FakeHandler, type Issued, json, parseJson } from "./fake";

const HOST = "global.relay.metered.ca";

export function meteredFake(apiKeys: readonly string[], secretKeys: readonly string[]): FakeHandler {
  const known = new Set(apiKeys);
  const credentials = new Map<string, Issued>();
  return ({ method, path, query, body }, { behaviour, issue }) => {
    if (method === "POST" && path === "/api/v1/turn/credential") {
      if (!secretKeys.includes(query.get("secretKey") ?? "")) return json(400, { message: "invalid secretKey" });
      const request = parseJson(body);
      if (!Number.isInteger(request?.expiryInSeconds)) return json(400, { message: "invalid expiryInSeconds" });
      if (behaviour === "wrong_schema") return json(200, { ok: true });
      const made = issue("metered-expiring");
      const apiKey = `created-api-key-${made.username.replace(/\D/g, "")}`;
      known.add(apiKey);
      credentials.set(apiKey, made);
      const { expiryInSeconds, label } = request ?? {};
      return json(200, { username: made.username, password: made.credential, expiryInSeconds, label, apiKey });
    }
    if (method !== "GET" || path !== "/api/v1/turn/credentials") return;
    const apiKey = query.get("apiKey");
    if (!apiKey) return json(400, { error: "Please specify API Key" });
    if (behaviour === "invalid_key" || !known.has(apiKey)) return json(401, { error: "Invalid API Key" });
    if (behaviour === "malformed_json") return new Response("[{", { status: 200 });
    if (behaviour === "wrong_schema") return json(200, { iceServers: [] });
    if (behaviour === "empty") return json(200, []);
    // Metered's credentials belong to the API key: the same key gives the same credential.
    let credential = credentials.get(apiKey);
    if (!credential) credentials.set(apiKey, (credential = issue("metered")));
    return json(200, [
      { urls: "stun:stun.relay.metered.ca:80" },
      { urls: `turn:${HOST}:80`, ...credential },
      { urls: `turn:${HOST}:80?transport=tcp`, ...credential },
      { urls: `turn:${HOST}:443`, ...credential },
      { urls: `${behaviour === "dashboard" ? "turns" : "turn"}:${HOST}:443?transport=tcp`, ...credential },
    ]);
  };
}
