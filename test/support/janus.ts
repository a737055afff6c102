/**
 * Debian's Janus 1.1.2 (/usr/bin/janus) as a real draft-REST client: a temporary config folder with
 * only what the test needs (the HTTP transport on a free loopback port, the echotest plugin, the
 * `nat` section's turn_rest_api settings), started in its own process group and killed by its pid.
 * Janus asks the TURN REST API when a handle sets up a PeerConnection, so `requestTurnCredentials`
 * creates a session, attaches echotest and sends it an offer; at debug level 5 Janus logs the reply it
 * got, which is how the test reads the credentials (libnice ignores loopback: Janus gathers no relay
 * candidates here).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, start, waitFor } from "./processes";

export const JANUS = "/usr/bin/janus";
const LIB = "/usr/lib/x86_64-linux-gnu/janus";

export interface JanusOptions {
  turnRestApi: string;
  turnRestApiKey: string;
  method?: "GET" | "POST";
}

export interface Janus {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

export async function startJanus(options: JanusOptions): Promise<Janus> {
  const dir = mkdtempSync(join(tmpdir(), "icegate-janus-"));
  const [configs, plugins, transports, none] = ["configs", "plugins", "transports", "none"].map((name) => {
    const path = join(dir, name);
    mkdirSync(path);
    return path;
  }) as [string, string, string, string];
  symlinkSync(`${LIB}/plugins/libjanus_echotest.so`, join(plugins, "libjanus_echotest.so"));
  symlinkSync(`${LIB}/transports/libjanus_http.so`, join(transports, "libjanus_http.so"));
  const port = await freePort();
  writeFileSync(
    join(configs, "janus.jcfg"),
    `general: {
  configs_folder = "${configs}"
  plugins_folder = "${plugins}"
  transports_folder = "${transports}"
  events_folder = "${none}"
  loggers_folder = "${none}"
  debug_level = 5
  debug_colors = false
}
media: {
}
nat: {
  turn_rest_api = "${options.turnRestApi}"
  turn_rest_api_key = "${options.turnRestApiKey}"
  turn_rest_api_method = "${options.method ?? "POST"}"
  turn_rest_api_timeout = 10
}
plugins: {
}
transports: {
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(configs, "janus.transport.http.jcfg"),
    `general: {
  base_path = "/janus"
  http = true
  ip = "127.0.0.1"
  port = ${port}
  https = false
}
admin: {
  admin_http = false
}
`,
  );
  writeFileSync(join(configs, "janus.plugin.echotest.jcfg"), "general: {\n}\n");
  const server = start(JANUS, ["-F", configs]);
  const url = `http://127.0.0.1:${port}/janus`;
  const stop = async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => (await fetch(`${url}/info`)).ok,
      30_000,
      () => server.output(),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: server.output, stop };
}

/** A minimal audio offer, enough for Janus to set up a PeerConnection (and ask the TURN REST API). */
const OFFER = [
  "v=0",
  "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
  "a=setup:actpass",
  "a=mid:0",
  "a=sendrecv",
  "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2",
  "",
].join("\r\n");

async function janusCall(url: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    body: JSON.stringify({ transaction: crypto.randomUUID(), ...body }),
  });
  return (await response.json()) as Record<string, unknown>;
}

const idOf = (reply: Record<string, unknown>) => {
  const data = reply.data as { id?: number } | undefined;
  if (typeof data?.id !== "number") throw new Error(`unexpected Janus reply: ${JSON.stringify(reply)}`);
  return data.id;
};

/** Makes Janus fetch TURN credentials once: a session, an echotest handle, and an offer to it. */
export async function requestTurnCredentials(janus: Janus): Promise<void> {
  const session = idOf(await janusCall(janus.url, { janus: "create" }));
  const handle = idOf(await janusCall(`${janus.url}/${session}`, { janus: "attach", plugin: "janus.plugin.echotest" }));
  await janusCall(`${janus.url}/${session}/${handle}`, {
    janus: "message",
    body: { audio: true },
    jsep: { type: "offer", sdp: OFFER },
  });
}

export interface DraftCredentials {
  username: string;
  password: string;
  ttl: number;
  uris: string[];
}

/**
 * The reply Janus logged after "Got N bytes from the TURN REST API server", once it also logged that it
 * accepted it ("Got credentials from the TURN REST API backend!"), or undefined while it has not.
 */
export function loggedCredentials(output: string): DraftCredentials | undefined {
  if (!output.includes("Got credentials from the TURN REST API backend!")) return undefined;
  const match = /Got \d+ bytes from the TURN REST API server\n(\{.*\})\n/.exec(output);
  return match?.[1] ? (JSON.parse(match[1]) as DraftCredentials) : undefined;
}
