// The TURN side of the browser part of the bench, on loopback only: a real coturn (the 4.17.1 build of
// scripts/coturn-build.sh, as the tests run it) with `use-auth-secret`, plain TURN/STUN and TLS on
// 127.0.0.1 (a throwaway self-signed certificate: the browsers are told to accept it, as they would trust
// a real one), a second TLS port forwarded to the first (Cloudflare has two, 5349 and 443, on one host;
// coturn opens its alternative TLS port only for RFC 5780), and a port-53 "server" that swallows every
// datagram: the stand-in for Cloudflare's port-53 URLs on a network (or in a browser) that blocks them.
//
// The URLs it offers mirror Cloudflare Realtime TURN's seven (REFERENCE.md): stun:3478, stun:53,
// turn:3478 udp, turn:53 udp, turn:3478 tcp, turns:5349 and turns:443.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { freePort, start, waitFor } from "./processes.mjs";
import { ROOT } from "./wrangler.mjs";

/** bash scripts/coturn-build.sh: the bin directory of the cached build, or a reason it is not there. */
export function coturnBin() {
  try {
    const bin = execFileSync("bash", [join(ROOT, "scripts/coturn-build.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
    return { bin };
  } catch (error) {
    return {
      reason: String(error.stderr ?? error)
        .trim()
        .split("\n")
        .pop(),
    };
  }
}

const acceptsTcp = (host, port) =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/**
 * A UDP socket on 127.0.0.1:53 that reads and drops every datagram (a blackhole: no answer, no ICMP).
 * Binding port 53 needs root or a low ip_unprivileged_port_start; without it nothing we start listens
 * there, and a datagram to a closed loopback port is just as unanswered (ICMP errors do not reach the
 * browsers' unconnected ICE sockets).
 */
async function blackhole() {
  const socket = createSocket("udp4");
  socket.on("message", () => {});
  const bound = await new Promise((resolve) => {
    socket.once("error", () => resolve(false));
    socket.bind(53, "127.0.0.1", () => resolve(true));
  });
  if (!bound) socket.close();
  return {
    host: "127.0.0.1",
    port: 53,
    note: bound ? "a UDP socket that drops every datagram" : "nothing listens there (port 53 could not be bound)",
    close: () => (bound ? new Promise((resolve) => socket.close(() => resolve())) : Promise.resolve()),
  };
}

/** A TCP port on 127.0.0.1 that forwards every connection to `port`, byte for byte. */
async function forwarder(port) {
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect({ host: "127.0.0.1", port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts coturn (and the port-53 blackhole) in `dir`. Returns the URL sets the bench serves, a way to
 * mint coturn REST credentials for them, and `stop`.
 */
export async function startCoturn({ bin, dir, secret }) {
  mkdirSync(dir, { recursive: true });
  const [port, tlsPort] = [await freePort(), await freePort()];
  const [cert, key] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ]),
    { stdio: "ignore", timeout: 30_000 },
  );
  const minPort = 20000 + Math.floor(Math.random() * 200) * 100;
  const config = join(dir, "turnserver.conf");
  const lines = [
    "listening-ip=127.0.0.1",
    `listening-port=${port}`,
    `tls-listening-port=${tlsPort}`,
    `cert=${cert}`,
    `pkey=${key}`,
    "relay-ip=127.0.0.1",
    `min-port=${minPort}`,
    `max-port=${minPort + 99}`,
    "use-auth-secret",
    `static-auth-secret=${secret}`,
    "realm=icegate.bench",
    "no-dtls",
    "no-cli",
    "fingerprint",
    // Both peers of a measured connection are on this machine: their relays talk to each other.
    "allow-loopback-peers",
    "log-file=stdout",
    "simple-log",
    `userdb=${join(dir, "turndb")}`,
    `pidfile=${join(dir, "turnserver.pid")}`,
  ];
  writeFileSync(config, `${lines.join("\n")}\n`, { mode: 0o600 });
  const server = start("coturn", join(bin, "turnserver"), ["-c", config], { cwd: dir, log: join(dir, "coturn.log") });
  let exited = false;
  void server.exited.then(() => (exited = true));
  try {
    await waitFor(
      async () => (await acceptsTcp("127.0.0.1", port)) && (await acceptsTcp("127.0.0.1", tlsPort)),
      20_000,
      () => `coturn did not listen on ${port}/${tlsPort}:\n${server.output()}`,
      () => exited,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  const hole = await blackhole();
  const second = await forwarder(tlsPort);
  const plain = `127.0.0.1:${port}`;
  const tls = `127.0.0.1:${tlsPort}`;
  const tls443 = `127.0.0.1:${second.port}`;
  const dead = `${hole.host}:${hole.port}`;
  return {
    pid: server.pid,
    ports: [port, tlsPort, second.port],
    blackhole: hole,
    /** What icegate's coturn minting is configured with: one URL per connectivity class. */
    turnUrls: [`turn:${plain}?transport=udp`, `turn:${plain}?transport=tcp`, `turns:${tls}?transport=tcp`],
    stunUrls: [`stun:${plain}`],
    /** Cloudflare's seven URLs, here: the two on port 53 unreachable, the rest on this coturn. */
    cloudflareUrls: {
      stun: [`stun:${plain}`, `stun:${dead}`],
      turn: [
        `turn:${plain}?transport=udp`,
        `turn:${dead}?transport=udp`,
        `turn:${plain}?transport=tcp`,
        `turns:${tls}?transport=tcp`,
        `turns:${tls443}?transport=tcp`,
      ],
    },
    /** A coturn REST credential (HMAC-SHA1 over `expiry:user`) valid for `ttlSeconds`. */
    credential(ttlSeconds, user = "bench") {
      const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${user}`;
      return { username, credential: createHmac("sha1", secret).update(username).digest("base64") };
    },
    output: server.output,
    stop: async () => {
      await Promise.all([hole.close(), second.close()]);
      await server.stop();
    },
  };
}
