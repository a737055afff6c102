#!/usr/bin/env node
/**
 * `npm run turn:health -- <url>... [--udp|--tcp|--both] [--timeout ms] [--json] [--secret-env NAME]`:
 * checks TURN/STUN servers the way a browser first reaches them, with a STUN Binding Request over
 * UDP, TCP, or TLS for turns:, and prints one row per check (url, transport, ok/fail, rtt).
 * With --secret-env, each turn:/turns: URL also gets an authenticated TURN Allocate using a TURN REST
 * credential minted from the secret in that environment variable (never from argv): the rotation
 * runbook's proof that a node accepts a secret. Exits 1 when any check fails, 2 on bad usage.
 * Run by Node's type stripping (`node --experimental-strip-types`), sharing the Worker's STUN codec.
 */
import { parseArgs } from "node:util";
import { parseIceUrl } from "../src/fleet/turn-url.ts";
import { type CheckResult, checkAllocate, checkBinding, type Transport } from "./lib/turn-probe.ts";

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const USAGE = `usage: npm run turn:health -- <url>... [options]

  <url>              stun:, turn: or turns: URI, e.g. turn:turn.example.com:3478?transport=udp
  --udp | --tcp      probe turn:/stun: URLs over this transport only
  --both             probe turn:/stun: URLs over UDP and TCP
                     (default: the URL's ?transport=, or both when it names none; turns: is always TLS)
  --timeout MS       per check (default 3000)
  --json             print a JSON array instead of a table
  --secret-env NAME  also try a TURN Allocate with a credential minted from the secret in $NAME
  --separator C      the TURN REST username separator (default ":")
  --help`;

interface Row extends CheckResult {
  url: string;
  transport: Transport;
  check: "binding" | "allocate";
}

class UsageError extends Error {}

function options(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      udp: { type: "boolean", default: false },
      tcp: { type: "boolean", default: false },
      both: { type: "boolean", default: false },
      timeout: { type: "string", default: "3000" },
      json: { type: "boolean", default: false },
      "secret-env": { type: "string" },
      separator: { type: "string", default: ":" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return undefined;
  if (positionals.length === 0) throw new UsageError("give at least one stun:, turn: or turns: URL");
  if (Number(values.udp) + Number(values.tcp) + Number(values.both) > 1) {
    throw new UsageError("choose one of --udp, --tcp, --both");
  }
  const timeoutMs = Number(values.timeout);
  if (!/^\d+$/.test(values.timeout) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new UsageError("--timeout is a number of milliseconds, 1 to 60000");
  }
  let secret: string | undefined;
  const secretEnv = values["secret-env"];
  if (secretEnv !== undefined) {
    secret = process.env[secretEnv]?.trim();
    if (!secret) throw new UsageError(`--secret-env ${secretEnv}: that environment variable is empty or unset`);
  }
  if (!/^[^A-Za-z0-9\s]$/.test(values.separator)) throw new UsageError("--separator is one punctuation character");
  const forced: Transport[] | undefined = values.udp
    ? ["udp"]
    : values.tcp
      ? ["tcp"]
      : values.both
        ? ["udp", "tcp"]
        : undefined;
  const targets = positionals.map((url) => {
    const target = parseIceUrl(url);
    if (!target) throw new UsageError(`not a stun:, turn: or turns: URI: ${url}`);
    const transports: Transport[] =
      target.transport === "tls"
        ? ["tls"]
        : (forced ?? (target.explicitTransport ? [target.transport] : ["udp", "tcp"]));
    return { url, target, transports };
  });
  return { targets, timeoutMs, json: values.json, secret, separator: values.separator };
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(argv);
  } catch (error) {
    if (!(error instanceof UsageError || (error instanceof TypeError && "code" in error))) throw error;
    console.error(`turn:health: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (!parsed) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const { targets, timeoutMs, secret, separator } = parsed;
  const checks: Promise<Row>[] = [];
  for (const { url, target, transports } of targets) {
    for (const transport of transports) {
      const row =
        (check: Row["check"]) =>
        (result: CheckResult): Row => ({ url, transport, check, ...result });
      checks.push(checkBinding(target.host, target.port, transport, timeoutMs).then(row("binding")));
      if (secret && target.scheme.startsWith("turn")) {
        const credential = { secret, separator };
        checks.push(checkAllocate(target.host, target.port, transport, timeoutMs, credential).then(row("allocate")));
      }
    }
  }
  const rows = await Promise.all(checks);
  console.log(parsed.json ? JSON.stringify(rows, null, 2) : table(rows));
  return rows.every((row) => row.ok) ? EXIT_OK : EXIT_FAILED;
}

function table(rows: Row[]): string {
  const cells = [
    ["URL", "TRANSPORT", "CHECK", "RESULT", "RTT", "DETAIL"],
    ...rows.map((r) => [
      r.url,
      r.transport,
      r.check,
      r.ok ? "ok" : "FAIL",
      r.rttMs === null ? "-" : `${r.rttMs} ms`,
      r.detail,
    ]),
  ];
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

process.exitCode = await main(process.argv.slice(2));
