/**
 * Fake Twilio Network Traversal Service: `POST /2010-04-01/Accounts/{AC…}/Tokens.json` with Basic
 * auth and the form field `Ttl` answers 201 with `ttl` as a string (`ttl_number`: a number, `ttl_null`:
 * null) and `ice_servers` whose entries carry both `url` and `urls` (`legacy`: `url` only); refused
 * logins get Twilio's 401 error 20003.
 */
import { type FakeHandler, json } from "./fake";

const CREATED = "Mon, 23 Nov 2026 10:00:00 +0000";

export function twilioFake(logins: readonly string[]): FakeHandler {
  return ({ method, path, headers, body }, { behaviour, issue }) => {
    const account = /^\/2010-04-01\/Accounts\/(AC[0-9a-fA-F]{32})\/Tokens\.json$/.exec(path)?.[1];
    if (method !== "POST" || !account) return;
    if (!logins.includes(atob((headers.get("Authorization") ?? "").replace(/^Basic /, "")))) {
      const more_info = "https://www.twilio.com/docs/errors/20003";
      return json(401, { code: 20003, message: "Authenticate", more_info, status: 401 });
    }
    const ttl = new URLSearchParams(body).get("Ttl") ?? "86400";
    if (!headers.get("Content-Type")?.startsWith("application/x-www-form-urlencoded") || !/^\d+$/.test(ttl)) {
      return json(400, { code: 20001, message: "Invalid Ttl", status: 400 });
    }
    if (behaviour === "malformed_json") return new Response("{", { status: 201 });
    if (behaviour === "wrong_schema") return json(201, { account_sid: account, ttl: 86400 });
    const { username, credential } = issue("twilio");
    const entry = (url: string, withCredential: boolean) => ({
      url,
      ...(behaviour === "legacy" ? {} : { urls: url }),
      ...(withCredential ? { username, credential } : {}),
    });
    const iceServers = [
      entry("stun:global.stun.twilio.com:3478", false),
      entry("turn:global.turn.twilio.com:3478?transport=udp", true),
      entry("turn:global.turn.twilio.com:3478?transport=tcp", true),
      entry("turn:global.turn.twilio.com:443?transport=tcp", true),
    ];
    return json(201, {
      account_sid: account,
      date_created: CREATED,
      date_updated: CREATED,
      ice_servers: behaviour === "empty" ? [] : iceServers,
      password: credential,
      ttl: behaviour === "ttl_number" ? Number(ttl) : behaviour === "ttl_null" ? null : ttl,
      username,
    });
  };
}
