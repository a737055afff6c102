// What the worker talks to during the bench, on 127.0.0.1 only: a JWKS for the ES256 path, and a fake
// Cloudflare Realtime TURN API (POST {url}/turn/keys/{id}/credentials/generate-ice-servers → 201
// {"iceServers":[…]}) that counts its calls, so the bench can report upstream amplification, and the same
// seven-URL list unshaped at GET /full for the browser part.
// And the token pools: HS256 and ES256 tokens signed with jose for many users, so that no per-user
// limit or per-token cache shapes the figures.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export const ISSUER = "https://issuer.bench.invalid";
export const AUDIENCE = "icegate-bench";
export const CLOUDFLARE_KEY_ID = "bench-turn-key";

const CLOUDFLARE_URLS = {
  stun: ["stun:stun.cloudflare.com:3478", "stun:stun.cloudflare.com:53"],
  turn: [
    "turn:turn.cloudflare.com:3478?transport=udp",
    "turn:turn.cloudflare.com:53?transport=udp",
    "turn:turn.cloudflare.com:3478?transport=tcp",
    "turns:turn.cloudflare.com:5349?transport=tcp",
    "turns:turn.cloudflare.com:443?transport=tcp",
  ],
};
const CLOUDFLARE_CREDENTIAL = {
  username: "a0b0c0f6d5e4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8",
  credential: "b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
};

/**
 * What the fake Cloudflare API hands out: its shape per REFERENCE.md, seven URLs, port-53 ones included
 * (the worker drops them). `urls` and `credential` replace Cloudflare's hosts and its credential: the
 * browser part of the bench points them at a loopback coturn, with a credential that coturn accepts.
 */
export function fakeCloudflareIceServers(urls = CLOUDFLARE_URLS, credential = CLOUDFLARE_CREDENTIAL) {
  return [
    { urls: [...urls.stun] },
    { urls: [...urls.turn], username: credential.username, credential: credential.credential },
  ];
}

/**
 * Starts the fake upstream on 127.0.0.1. `counts` holds the calls it answered:
 * `cloudflare` (credential generations, per key id in `cloudflareByKey`), `jwks` and `full`.
 *
 * `iceServers(ttl)` makes the Cloudflare reply's list (default: Cloudflare's own hosts). GET /full answers
 * that list, all seven URLs, in the shape of icegate's reply (`{iceServers, expiresAt, ttl}` with `fullTtl`):
 * what a page gets from a backend that passes the provider's list through unshaped. It allows the
 * cross-origin read from `pageOrigin`.
 */
export async function startUpstream({
  jwks,
  cloudflareToken,
  iceServers = () => fakeCloudflareIceServers(),
  fullTtl = 86_400,
  pageOrigin,
}) {
  const counts = { cloudflare: 0, cloudflareByKey: new Map(), jwks: 0, full: 0, refused: 0 };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const reply = (status, body, headers = {}) => {
      response.writeHead(status, { "Content-Type": "application/json", ...headers });
      response.end(JSON.stringify(body));
    };
    if (request.method === "GET" && url.pathname === "/full") {
      counts.full++;
      const cors = pageOrigin ? { "Access-Control-Allow-Origin": pageOrigin, Vary: "Origin" } : {};
      const body = { iceServers: iceServers(fullTtl), expiresAt: Date.now() + fullTtl * 1000, ttl: fullTtl };
      return reply(200, body, { "Cache-Control": "no-store", ...cors });
    }
    if (request.method === "GET" && url.pathname === "/jwks.json") {
      counts.jwks++;
      return reply(200, jwks);
    }
    const generate = /^\/turn\/keys\/([^/]+)\/credentials\/generate-ice-servers$/.exec(url.pathname);
    if (request.method === "POST" && generate) {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        let ttl;
        try {
          ttl = JSON.parse(body).ttl;
        } catch {
          ttl = undefined;
        }
        if (request.headers.authorization !== `Bearer ${cloudflareToken}` || typeof ttl !== "number") {
          counts.refused++;
          return reply(401, { success: false, errors: [{ message: "refused by the bench's fake API" }] });
        }
        counts.cloudflare++;
        const key = decodeURIComponent(generate[1]);
        counts.cloudflareByKey.set(key, (counts.cloudflareByKey.get(key) ?? 0) + 1);
        reply(201, { iceServers: iceServers(ttl) });
      });
      return;
    }
    counts.refused++;
    reply(404, { error: "not found" });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A random secret of `bytes` bytes, base64url. */
export const secret = (bytes = 32) => randomBytes(bytes).toString("base64url");

/** The ES256 signing key and its public JWKS. */
export async function es256Key() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench-es256", alg: "ES256", use: "sig" };
  return { privateKey, jwks: { keys: [jwk] } };
}

/**
 * `users` tokens, one per user (`bench-user-<i>`), valid for two hours: HS256 with `hsSecret`,
 * or ES256 with `esKey`. iss and aud are set, as a deployed issuer would.
 */
export async function tokenPool({ users, alg, hsSecret, esKey }) {
  const key = alg === "HS256" ? new TextEncoder().encode(hsSecret) : esKey;
  const tokens = [];
  for (let i = 0; i < users; i++) {
    const header = alg === "HS256" ? { alg, typ: "JWT" } : { alg, typ: "JWT", kid: "bench-es256" };
    tokens.push(
      await new SignJWT({})
        .setProtectedHeader(header)
        .setSubject(`bench-user-${i}`)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("2h")
        .sign(key),
    );
  }
  return tokens;
}
