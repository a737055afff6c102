#!/usr/bin/env node
/**
 * `npm run rotate -- [options]`: rotates one of icegate's secrets with no redeploy of code.
 * It generates a new value (or reads one from stdin), hands it to `wrangler secret put` on the
 * child's stdin only, optionally rewrites one key of a local env file, and prints the value's
 * fingerprint (the same one /healthz shows the operator) and the next steps of the overlap protocol.
 * The value never appears in argv, in the child's environment, or in any output unless --print.
 * Plain Node ESM, no dependencies. The runbook is docs/ROTATION.md.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { EnvFileError, updateEnvFile } from "./lib/env-file.mjs";
import { describeTarget } from "./lib/wrangler-target.mjs";
import { nextSteps, RUNBOOK } from "./lib/rotation-steps.mjs";

const PROJECT_ROOT = resolve(import.meta.dirname, "..");
const DEFAULT_BYTES = 32;
const MIN_BYTES = 16;
const MAX_BYTES = 1024;
/** Cloudflare's limit on one secret's size. */
const MAX_VALUE_BYTES = 5 * 1024;

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * The secrets rotate knows. `generate`: we create them (and another party must learn the value);
 * `stdin`: they come from elsewhere (a provider's dashboard, or the value currently live).
 * `minLength` mirrors what src/config.ts accepts, so a value the Worker would refuse is refused here.
 */
const SECRETS = {
  TURN_SECRET: { source: "generate", minLength: 16, sharedWith: "the coturn fleet" },
  TURN_SECRET_NEXT: { source: "generate", minLength: 16, sharedWith: "the coturn fleet" },
  AUTH_JWT_SECRET: { source: "generate", minLength: 32, minBytes: 32, sharedWith: "the token issuer" },
  AUTH_JWT_SECRET_PREVIOUS: { source: "stdin", minLength: 32 },
  TURN_REST_API_KEYS: {
    source: "generate",
    minLength: 32,
    minBytes: 24,
    list: true,
    sharedWith: "the REST API clients",
  },
  ADMIN_API_TOKEN: { source: "generate", minLength: 32, minBytes: 32, sharedWith: "the operators" },
  CLOUDFLARE_TURN_API_TOKEN: { source: "stdin", minLength: 8, provider: "Cloudflare Realtime TURN" },
  METERED_API_KEY: { source: "stdin", minLength: 8, provider: "Metered" },
  METERED_SECRET_KEY: { source: "stdin", minLength: 8, provider: "Metered" },
  TWILIO_AUTH_TOKEN: { source: "stdin", minLength: 8, provider: "Twilio" },
  TWILIO_API_KEY_SECRET: { source: "stdin", minLength: 8, provider: "Twilio" },
  EXPRESSTURN_SECRET_KEY: { source: "stdin", minLength: 8, provider: "ExpressTURN" },
};

const USAGE = `Usage: npm run rotate -- [options]

Rotates one secret of the icegate Worker: a new value goes to \`wrangler secret put\` on stdin.
Runbook: ${RUNBOOK}

Options:
  --secret NAME        which secret (default TURN_SECRET): ${Object.keys(SECRETS).join(", ")}
  --env NAME           the Wrangler environment (staging, production); none = top level
  --bytes N            entropy of a generated value, ${MIN_BYTES}..${MAX_BYTES} bytes (default ${DEFAULT_BYTES};
                       at least 32 for AUTH_JWT_SECRET and ADMIN_API_TOKEN, 24 for TURN_REST_API_KEYS);
                       base64url encoded
  --stdin              read the value from stdin instead of generating one (one line; a hidden
                       prompt on a terminal). Provider keys and AUTH_JWT_SECRET_PREVIOUS are always read
                       this way: they come from the provider's dashboard or are the value live now
  --update-env FILE    also set the value in FILE (e.g. .dev.vars, infrastructure/coturn/.env),
                       in place: other lines, comments and order kept; atomic; mode 0600
  --key NAME           the key to set in FILE (default: the secret's name, e.g. TURN_SECRETS for the fleet)
  --append             add the value to the comma-separated list in FILE instead of replacing it
  --dry-run            do everything except calling wrangler (FILE is still written)
  --silent             print only the fingerprint line (and errors)
  --print              also print the value itself, alone on stdout (everything else goes to stderr);
                       use \`npm run --silent rotate\` so that npm adds nothing to stdout
  --wrangler PATH      the wrangler to run (else $ICEGATE_WRANGLER, node_modules/.bin/wrangler, PATH)
  -h, --help           this help

A generated value must also reach someone else (the fleet, the token issuer, the REST clients), and
Cloudflare never shows a secret back: so it needs --update-env FILE or --print, unless --dry-run.
Exit status: 0 done, 2 usage error (nothing changed), 1 failure (wrangler's exit status is reported).`;

class UsageError extends Error {}
class RotateError extends Error {}

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        env: { type: "string" },
        bytes: { type: "string" },
        secret: { type: "string", default: "TURN_SECRET" },
        stdin: { type: "boolean", default: false },
        "update-env": { type: "string" },
        key: { type: "string" },
        append: { type: "boolean", default: false },
        "dry-run": { type: "boolean", default: false },
        silent: { type: "boolean", default: false },
        print: { type: "boolean", default: false },
        wrangler: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    // parseArgs quotes the offending argument, which could be a value pasted by mistake: never echo it.
    throw new UsageError(describeArgError(error));
  }
  if (parsed.help) return { help: true };

  const secret = parsed.secret;
  const spec = Object.hasOwn(SECRETS, secret) ? SECRETS[secret] : undefined;
  if (!spec) throw new UsageError(`--secret must be one of: ${Object.keys(SECRETS).join(", ")}`);
  if (parsed.env !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(parsed.env)) {
    throw new UsageError("--env must be a Wrangler environment name (letters, digits, - and _)");
  }
  const fromStdin = parsed.stdin || spec.source === "stdin";
  let bytes = DEFAULT_BYTES;
  if (parsed.bytes !== undefined) {
    if (fromStdin) throw new UsageError(`--bytes is for generated values; ${secret} is read from stdin here`);
    const minBytes = spec.minBytes ?? MIN_BYTES;
    bytes = /^\d{1,5}$/.test(parsed.bytes) ? Number(parsed.bytes) : NaN;
    if (!(bytes >= minBytes && bytes <= MAX_BYTES)) {
      throw new UsageError(`--bytes must be a whole number from ${minBytes} to ${MAX_BYTES} for ${secret}`);
    }
  }
  const file = parsed["update-env"];
  if (file === "") throw new UsageError("--update-env needs a file name");
  if ((parsed.key !== undefined || parsed.append) && file === undefined) {
    throw new UsageError("--key and --append only apply with --update-env FILE");
  }
  const key = parsed.key ?? secret;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) throw new UsageError("--key must be an env variable name");
  if (parsed.append && key === secret && !spec.list) {
    throw new UsageError(
      `--append builds a comma-separated list, and ${secret} holds one value (the fleet's list is --key TURN_SECRETS)`,
    );
  }
  if (!fromStdin && !parsed.print && file === undefined && !parsed["dry-run"]) {
    throw new UsageError(
      `a new ${secret} must also reach ${spec.sharedWith}, and Cloudflare never shows a secret back: ` +
        "add --update-env FILE (for the fleet: --update-env infrastructure/coturn/.env --key TURN_SECRETS --append) " +
        `or --print; to put a value you already have, pipe it with --stdin. See ${RUNBOOK}.`,
    );
  }
  if (parsed.wrangler === "") throw new UsageError("--wrangler needs a path");
  return {
    help: false,
    secret,
    spec,
    env: parsed.env,
    bytes,
    fromStdin,
    file,
    key,
    append: parsed.append,
    dryRun: parsed["dry-run"],
    silent: parsed.silent,
    print: parsed.print,
    wrangler: parsed.wrangler,
  };
}

function describeArgError(error) {
  const code = error && typeof error === "object" ? error.code : undefined;
  const option = /'(--?[A-Za-z0-9-]+)/.exec(String(error?.message ?? ""))?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return "unexpected argument: values are never taken from the command line (pipe them with --stdin)";
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option${option ? ` ${option}` : ""} (see --help)`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `option${option ? ` ${option}` : ""} is missing its value or does not take one (see --help)`;
    default:
      return "invalid arguments (see --help)";
  }
}

// ---------------------------------------------------------------------------------------------
// The value

function generate(bytes) {
  return randomBytes(bytes).toString("base64url");
}

/** Reads one line from stdin: all of a pipe, or a hidden prompt on a terminal. */
async function readValue(options) {
  const raw = process.stdin.isTTY
    ? await promptHidden(`Paste the value of ${options.secret} (input hidden), then Enter: `)
    : await readAll(process.stdin);
  const value = raw.trim();
  if (value === "") throw new UsageError(`no value for ${options.secret} on stdin`);
  if (/[\r\n]/.test(value)) throw new UsageError(`the value of ${options.secret} on stdin must be one line`);
  if ([...value].some((char) => char.charCodeAt(0) < 0x20 || char === "\u007f")) {
    throw new UsageError(`the value of ${options.secret} has control characters`);
  }
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) {
    throw new UsageError(`the value of ${options.secret} is over Cloudflare's ${MAX_VALUE_BYTES} bytes`);
  }
  for (const part of parts(value, options.spec)) {
    if (part.length < options.spec.minLength) {
      throw new UsageError(
        `the value of ${options.secret} is too short: at least ${options.spec.minLength} characters` +
          (options.spec.list ? " per comma-separated key" : ""),
      );
    }
  }
  return value;
}

async function readAll(stream) {
  const chunks = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_VALUE_BYTES * 2) throw new UsageError("stdin holds far more than one secret");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function promptHidden(question) {
  const input = process.stdin;
  return new Promise((resolvePrompt, rejectPrompt) => {
    let value = "";
    const finish = (error) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      process.stderr.write("\n");
      if (error) rejectPrompt(error);
      else resolvePrompt(value);
    };
    const onData = (chunk) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n" || char === "\u0004") return finish();
        if (char === "\u0003") return finish(new UsageError("cancelled"));
        if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
        else value += char;
      }
    };
    // No echo from here on; only then ask.
    input.setRawMode(true);
    input.setEncoding("utf8");
    input.on("data", onData);
    input.resume();
    process.stderr.write(question);
  });
}

/** The pieces of a value that are secret on their own: each key of a comma-separated list. */
function parts(value, spec) {
  if (!spec.list) return [value];
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** As src/crypto.ts `fingerprint`: `sha256:` + 12 hex digits of SHA-256("icegate-fingerprint/v1\0" + secret). */
function fingerprint(secret) {
  const digest = createHash("sha256").update(`icegate-fingerprint/v1\u0000${secret}`, "utf8").digest("hex");
  return `sha256:${digest.slice(0, 12)}`;
}

// ---------------------------------------------------------------------------------------------
// wrangler

function resolveWrangler(option) {
  const chosen = option ?? process.env.ICEGATE_WRANGLER;
  if (chosen) return chosen.includes("/") ? resolve(chosen) : chosen;
  const local = join(PROJECT_ROOT, "node_modules", ".bin", "wrangler");
  return existsSync(local) ? local : "wrangler";
}

function wranglerArgs(options) {
  return ["secret", "put", options.secret, ...(options.env ? ["--env", options.env] : [])];
}

/** The environment for wrangler: ours, minus anything named like or holding the value. */
function childEnv(options, value) {
  const secretParts = parts(value, options.spec);
  /** @type {Record<string, string>} */
  const env = {};
  for (const [name, content] of Object.entries(process.env)) {
    if (content === undefined || name === options.secret || name === options.key) continue;
    if (secretParts.some((part) => content.includes(part))) continue;
    env[name] = content;
  }
  return env;
}

/** Runs `wrangler secret put`, the value on its stdin. Resolves with its exit status and its output. */
function runWrangler(command, args, options, value) {
  return new Promise((resolveRun) => {
    /** @type {import("node:child_process").ChildProcessWithoutNullStreams} */
    let child;
    try {
      child = spawn(command, args, {
        cwd: PROJECT_ROOT,
        env: childEnv(options, value),
        stdio: ["pipe", "pipe", "pipe"],
        shell: false,
      });
    } catch (error) {
      resolveRun({ status: null, signal: null, output: "", error });
      return;
    }
    const chunks = [];
    child.stdout.on("data", (chunk) => chunks.push(chunk));
    child.stderr.on("data", (chunk) => chunks.push(chunk));
    // A wrangler that exits before reading its stdin gives EPIPE here; its exit status says the rest.
    child.stdin.on("error", () => {});
    child.once("error", (error) => resolveRun({ status: null, signal: null, output: "", error }));
    child.once("close", (status, signal) =>
      resolveRun({ status, signal, output: Buffer.concat(chunks).toString("utf8"), error: undefined }),
    );
    child.stdin.end(value);
  });
}

/** Wrangler's output with every piece of the value masked, in case anything ever echoes it. */
function redact(text, value, spec) {
  let safe = text;
  for (const part of [value, ...parts(value, spec)].sort((a, b) => b.length - a.length)) {
    safe = safe.split(part).join("[redacted]");
  }
  return safe;
}

// ---------------------------------------------------------------------------------------------

async function main(argv) {
  const options = parseOptions(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  // With --print, stdout carries the value alone; everything else goes to stderr.
  const say = (line) => (options.print ? process.stderr : process.stdout).write(`${line}\n`);
  const info = (line) => {
    if (!options.silent) say(line);
  };

  const value = options.fromStdin ? await readValue(options) : generate(options.bytes);
  const fingerprints = parts(value, options.spec).map(fingerprint).join(",");
  say(`fingerprint ${options.secret} ${fingerprints}`);

  if (options.file !== undefined) {
    updateEnvFile(options.file, options.key, value, options.append);
    info(`rotate: ${options.append ? "added the value to" : "set"} ${options.key} in ${options.file} (mode 0600)`);
  }

  if (options.file !== undefined && /(^|[/\\])\.dev\.vars$/.test(options.file)) {
    info("rotate: `wrangler dev` does not reload .dev.vars: restart `npm start` to serve the new value.");
  }

  const command = resolveWrangler(options.wrangler);
  const args = wranglerArgs(options);
  info(`rotate: ${describeTarget(PROJECT_ROOT, options.env)}`);
  if (options.dryRun) {
    info(`rotate: dry run: would run ${[command, ...args].join(" ")} (the value on its stdin)`);
  } else {
    const result = await runWrangler(command, args, options, value);
    const output = redact(result.output, value, options.spec).trimEnd();
    if (result.error || result.status !== 0) {
      if (output) process.stderr.write(`${output}\n`);
      const how = result.error
        ? `could not be started (${result.error.code ?? result.error.message})`
        : result.signal
          ? `was killed by ${result.signal}`
          : `exited with status ${result.status}`;
      const file = options.file !== undefined ? ` ${options.file} was already updated.` : "";
      throw new RotateError(
        `${command} ${args.join(" ")} ${how}; check /healthz (with the operator token) for the fingerprint that is live.${file}`,
      );
    }
    if (output && !options.silent) process.stderr.write(`${output}\n`);
  }

  if (!options.silent) {
    say("");
    for (const line of nextSteps(options, fingerprints, PROJECT_ROOT)) say(line);
  }
  if (options.print) process.stdout.write(`${value}\n`);
  return EXIT_OK;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`rotate: ${error.message}\n\n${USAGE.split("\n")[0]} (--help for the options)\n`);
      process.exitCode = EXIT_USAGE;
    } else if (error instanceof RotateError || error instanceof EnvFileError) {
      process.stderr.write(`rotate: ${error.message}\n`);
      process.exitCode = EXIT_FAILED;
    } else {
      // Unexpected: report the kind only, a message could quote data.
      process.stderr.write(`rotate: unexpected ${error?.name ?? "error"}\n`);
      process.exitCode = EXIT_FAILED;
    }
  },
);
