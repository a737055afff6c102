/**
 * scripts/rotate.mjs, run as operators run it, against a stand-in `wrangler` that records its
 * argv, environment and stdin. The new secret must travel on wrangler's stdin and nowhere else.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { hasCommand } from "../support/processes";

const ROTATE = resolve(import.meta.dirname, "../../scripts/rotate.mjs");
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const scratch = mkdtempSync(join(tmpdir(), "icegate-rotate-"));

interface Recording {
  called: boolean;
  argv: string[];
  env: Record<string, string>;
  stdin: string;
}

interface StandIn {
  path: string;
  dir: string;
  read: () => Recording;
}

let counter = 0;

/**
 * Writes an executable `wrangler` that records what it was given into its own directory.
 * `behaviour` is extra Node code run after recording, before it prints success and exits 0.
 */
function standInWrangler(behaviour = ""): StandIn {
  const dir = join(scratch, `wrangler-${++counter}`);
  mkdirSync(dir);
  const record = (name: string) => JSON.stringify(join(dir, name));
  const path = join(dir, "wrangler");
  writeFileSync(
    path,
    `#!${process.execPath}
// Stand-in for wrangler: records argv, environment and stdin; never reaches Cloudflare.
const fs = require("node:fs");
const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const stdin = Buffer.concat(chunks).toString("utf8");
  fs.writeFileSync(${record("argv.json")}, JSON.stringify(process.argv.slice(2)));
  fs.writeFileSync(${record("env.json")}, JSON.stringify(process.env));
  fs.writeFileSync(${record("stdin.txt")}, stdin);
  ${behaviour}
  console.log("Success! Uploaded secret " + process.argv[4]);
});
`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    dir,
    read: () => {
      const called = existsSync(join(dir, "argv.json"));
      return {
        called,
        argv: called ? (JSON.parse(readFileSync(join(dir, "argv.json"), "utf8")) as string[]) : [],
        env: called ? (JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as Record<string, string>) : {},
        stdin: called ? readFileSync(join(dir, "stdin.txt"), "utf8") : "",
      };
    },
  };
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The wrangler rotate falls back to when a test names none: the real one must never run here
 * (it would try to reach Cloudflare). It records the call and fails; no test may trip it.
 */
const tripwire = standInWrangler('console.error("tripwire: a test reached the default wrangler"); process.exit(99);');
afterAll(() => {
  const tripped = tripwire.read().called;
  rmSync(scratch, { recursive: true, force: true });
  expect(tripped, "a test fell through to the default wrangler").toBe(false);
});

/**
 * Runs rotate as an operator would. $ICEGATE_WRANGLER is the tripwire unless the test sets it;
 * `ICEGATE_WRANGLER: ""` removes it, so that rotate looks further (node_modules, then PATH).
 */
function rotate(args: string[], options: { input?: string; env?: Record<string, string>; script?: string } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, ICEGATE_WRANGLER: tripwire.path, ...options.env };
  if (env.ICEGATE_WRANGLER === "") delete env.ICEGATE_WRANGLER;
  const result = spawnSync(process.execPath, [options.script ?? ROTATE, ...args], {
    input: options.input ?? "",
    env,
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same algorithm as src/crypto.ts, written again here so that the two are checked against each other. */
function fingerprintOf(secret: string): string {
  return `sha256:${createHash("sha256").update(`icegate-fingerprint/v1\u0000${secret}`).digest("hex").slice(0, 12)}`;
}

function envFile(content = ""): string {
  const path = join(scratch, `env-${++counter}`);
  writeFileSync(path, content, { mode: 0o644 });
  return path;
}

function expectNowhere(secret: string, ...places: string[]): void {
  for (const place of places) expect(place).not.toContain(secret);
}

describe("rotate: the secret travels on wrangler's stdin only", () => {
  let wrangler: StandIn;
  beforeEach(() => {
    wrangler = standInWrangler();
  });

  it("puts a fresh 32-byte base64url TURN_SECRET with exactly `secret put TURN_SECRET --env staging`", () => {
    const kept = envFile();
    const run = rotate(["--env", "staging", "--wrangler", wrangler.path, "--update-env", kept]);
    expect(run.status, run.stderr).toBe(0);

    const { called, argv, env, stdin } = wrangler.read();
    expect(called).toBe(true);
    expect(argv).toEqual(["secret", "put", "TURN_SECRET", "--env", "staging"]);
    expect(stdin).toMatch(BASE64URL);
    expect(Buffer.from(stdin, "base64url")).toHaveLength(32);
    expect(Buffer.from(stdin, "base64url").toString("base64url")).toBe(stdin);

    for (const arg of argv) expect(arg).not.toContain(stdin);
    for (const value of Object.values(env)) expect(value).not.toContain(stdin);
    expectNowhere(stdin, run.stdout, run.stderr);
    // The kept copy is the same value that went to wrangler.
    expect(readFileSync(kept, "utf8")).toBe(`TURN_SECRET=${stdin}\n`);
  });

  it("prints the fingerprint of the value it put, as the worker computes it, and never the value", () => {
    const run = rotate(["--env", "staging", "--wrangler", wrangler.path, "--update-env", envFile()]);
    expect(run.status, run.stderr).toBe(0);
    const { stdin } = wrangler.read();
    expect(run.stdout).toContain(`fingerprint TURN_SECRET ${fingerprintOf(stdin)}\n`);
    expect(run.stdout).toContain("Overlap protocol for TURN_SECRET in environment staging");
    expect(run.stdout).toContain("TURN_TTL_SECONDS");
    // /healthz shows fingerprints only to the operator: the check step says how to ask as one.
    expect(run.stdout).toContain('curl -s -H "Authorization: Bearer $ADMIN_API_TOKEN" https://<worker>/healthz');
    expectNowhere(stdin, run.stdout, run.stderr);
  });

  it("matches the worker's fingerprint on a known value", () => {
    // printf 'icegate-fingerprint/v1\0%s' sentinel-turn-secret-7c1e4f0a9b2d | sha256sum | cut -c1-12
    const run = rotate(["--stdin", "--dry-run", "--silent"], { input: "sentinel-turn-secret-7c1e4f0a9b2d\n" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe("fingerprint TURN_SECRET sha256:d9a4d45e6856\n");
    expect(fingerprintOf("sentinel-turn-secret-7c1e4f0a9b2d")).toBe("sha256:d9a4d45e6856");
  });

  it("says which Worker it acts on: icegate-dev without --env, never staging or production", () => {
    const top = rotate(["--dry-run"]);
    expect(top.status, top.stderr).toBe(0);
    expect(top.stdout).toContain(
      "rotate: acting on the Worker icegate-dev, wrangler.toml's top level for local development, not staging or production",
    );
    const staging = rotate(["--dry-run", "--env", "staging"]);
    expect(staging.stdout).toContain("rotate: acting on the Worker icegate-staging (--env staging)\n");
  });

  it("says that wrangler dev does not reload .dev.vars after updating it", () => {
    const dir = mkdtempSync(join(tmpdir(), "icegate-rotate-devvars-"));
    try {
      const file = join(dir, ".dev.vars");
      writeFileSync(file, "TURN_SECRET=old\n");
      const run = rotate(["--dry-run", "--update-env", file]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain("`wrangler dev` does not reload .dev.vars: restart `npm start`");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the requested entropy with --bytes", () => {
    const run = rotate(["--bytes", "48", "--wrangler", wrangler.path, "--update-env", envFile()]);
    expect(run.status, run.stderr).toBe(0);
    const { argv, stdin } = wrangler.read();
    expect(argv).toEqual(["secret", "put", "TURN_SECRET"]);
    expect(Buffer.from(stdin, "base64url")).toHaveLength(48);
  });

  it("draws a different value on every run", () => {
    const first = rotate(["--dry-run", "--print", "--silent"]);
    const second = rotate(["--dry-run", "--print", "--silent"]);
    expect(first.stdout).not.toBe(second.stdout);
  });

  it("keeps a variable named like the secret out of wrangler's environment", () => {
    const run = rotate(["--wrangler", wrangler.path, "--update-env", envFile()], {
      env: { TURN_SECRET: "stale-value-from-the-operators-shell" },
    });
    expect(run.status, run.stderr).toBe(0);
    const { env } = wrangler.read();
    expect(env).not.toHaveProperty("TURN_SECRET");
    expect(JSON.stringify(env)).not.toContain("stale-value-from-the-operators-shell");
    // The rest of the environment (wrangler's own credentials, PATH) is passed through.
    expect(env.PATH).toBe(process.env.PATH);
  });

  it("prints the value with --print: alone, on stdout, with everything else on stderr", () => {
    const run = rotate(["--env", "production", "--print", "--wrangler", wrangler.path]);
    expect(run.status, run.stderr).toBe(0);
    const { stdin } = wrangler.read();
    expect(run.stdout).toBe(`${stdin}\n`);
    expect(run.stderr).toContain(`fingerprint TURN_SECRET ${fingerprintOf(stdin)}`);
    expect(run.stderr).not.toContain(stdin);
  });

  it("prints only the fingerprint line with --silent", () => {
    const run = rotate(["--silent", "--wrangler", wrangler.path, "--update-env", envFile()]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`fingerprint TURN_SECRET ${fingerprintOf(wrangler.read().stdin)}\n`);
    expect(run.stderr).toBe("");
  });
});

describe("rotate --dry-run", () => {
  it("does not call wrangler and says what it would run, without the value", () => {
    const wrangler = standInWrangler();
    const kept = envFile();
    const run = rotate(["--env", "staging", "--dry-run", "--wrangler", wrangler.path, "--update-env", kept]);
    expect(run.status, run.stderr).toBe(0);
    expect(wrangler.read().called).toBe(false);
    expect(run.stdout).toContain(`would run ${wrangler.path} secret put TURN_SECRET --env staging`);
    const value = readFileSync(kept, "utf8").trim().split("=")[1]!;
    expect(value).toMatch(BASE64URL);
    expect(run.stdout).toContain(fingerprintOf(value));
    expectNowhere(value, run.stdout, run.stderr);
  });
});

describe("rotate --update-env", () => {
  const before = [
    "# Local development secrets",
    "AUTH_JWT_SECRET=keep-this-jwt-secret-0123456789abcdef0123",
    "",
    "# The TURN secret, rotated by npm run rotate",
    "TURN_SECRET=old-turn-secret-value-123456 # rotated quarterly",
    'TURN_URLS="turn:127.0.0.1:3478?transport=udp"',
    "ALLOW_ANONYMOUS=true",
    "",
  ];

  it("rewrites one key in place, keeping every other line, comment and the order, with mode 0600", () => {
    const wrangler = standInWrangler();
    const file = envFile(before.join("\n"));
    const run = rotate(["--wrangler", wrangler.path, "--update-env", file]);
    expect(run.status, run.stderr).toBe(0);
    const { stdin } = wrangler.read();
    const expected = [...before];
    expected[4] = `TURN_SECRET=${stdin} # rotated quarterly`;
    expect(readFileSync(file, "utf8")).toBe(expected.join("\n"));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expectNowhere(stdin, run.stdout, run.stderr);
  });

  it("keeps an `export` prefix and CRLF line endings", () => {
    const file = envFile("# exported for the shell\r\nexport TURN_SECRET='old value with spaces'\r\nOTHER=1\r\n");
    const run = rotate(["--dry-run", "--print", "--silent", "--update-env", file]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(
      `# exported for the shell\r\nexport TURN_SECRET=${run.stdout.trim()}\r\nOTHER=1\r\n`,
    );
  });

  it("adds the key at the end when the file does not have it", () => {
    const file = envFile("# nothing else\nOTHER=1\n");
    const run = rotate(["--dry-run", "--print", "--silent", "--update-env", file]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(`# nothing else\nOTHER=1\nTURN_SECRET=${run.stdout.trim()}\n`);
  });

  it("creates a missing file with mode 0600 and leaves no temporary file behind", () => {
    const dir = mkdtempSync(join(scratch, "new-"));
    const file = join(dir, ".dev.vars");
    const run = rotate(["--dry-run", "--print", "--silent", "--update-env", file]);
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(`TURN_SECRET=${run.stdout.trim()}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(spawnSync("ls", ["-A", dir], { encoding: "utf8" }).stdout.trim()).toBe(".dev.vars");
  });

  it("with --key TURN_SECRETS --append, adds the new value next to the old one for the fleet", () => {
    const wrangler = standInWrangler();
    const file = envFile("# coturn fleet\nTURN_SECRETS=old-fleet-secret-0123456789\nREALM=turn.example.com\n");
    const run = rotate([
      "--secret",
      "TURN_SECRET_NEXT",
      "--env",
      "staging",
      "--wrangler",
      wrangler.path,
      "--update-env",
      file,
      "--key",
      "TURN_SECRETS",
      "--append",
    ]);
    expect(run.status, run.stderr).toBe(0);
    const { argv, stdin } = wrangler.read();
    expect(argv).toEqual(["secret", "put", "TURN_SECRET_NEXT", "--env", "staging"]);
    expect(readFileSync(file, "utf8")).toBe(
      `# coturn fleet\nTURN_SECRETS=old-fleet-secret-0123456789,${stdin}\nREALM=turn.example.com\n`,
    );
    expect(run.stdout).toContain("Promote");
  });

  it("refuses a file that sets the key twice, before calling wrangler", () => {
    const wrangler = standInWrangler();
    const file = envFile("TURN_SECRET=a-first-value-0123456789\nTURN_SECRET=a-second-value-0123456789\n");
    const run = rotate(["--wrangler", wrangler.path, "--update-env", file]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("sets TURN_SECRET on 2 lines");
    expect(wrangler.read().called).toBe(false);
  });
});

describe("rotate refuses bad usage with exit status 2 and changes nothing", () => {
  const wrangler = standInWrangler();

  it.each([
    ["too little entropy", ["--bytes", "8"]],
    ["too much entropy", ["--bytes", "2048"]],
    ["a non-number of bytes", ["--bytes", "lots"]],
    ["less than 32 bytes for the JWT secret", ["--secret", "AUTH_JWT_SECRET", "--bytes", "16"]],
    ["an unknown secret", ["--secret", "DATABASE_URL"]],
    ["an unknown option", ["--force"]],
    ["a malformed environment name", ["--env", "staging; rm -rf /"]],
    ["--append without --update-env", ["--append"]],
    ["--append on a key that holds one value", ["--update-env", "unused.env", "--append"]],
  ])("refuses %s", (_, args) => {
    const run = rotate([...args, "--print", "--wrangler", wrangler.path]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^rotate: /);
    expect(run.stdout).toBe("");
    expect(wrangler.read().called).toBe(false);
  });

  it("refuses to put a generated value that would be kept nowhere but Cloudflare", () => {
    const run = rotate(["--env", "staging", "--wrangler", wrangler.path]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--update-env FILE");
    expect(wrangler.read().called).toBe(false);
  });

  it("never echoes a value given on the command line by mistake", () => {
    for (const args of [
      ["--secret", "METERED_API_KEY", "pasted-by-mistake-9d8c7b"],
      ["--value=pasted-by-mistake-9d8c7b"],
    ]) {
      const run = rotate([...args, "--wrangler", wrangler.path]);
      expect(run.status).toBe(2);
      expectNowhere("pasted-by-mistake-9d8c7b", run.stdout, run.stderr);
    }
    expect(wrangler.read().called).toBe(false);
  });
});

describe("rotate when wrangler fails", () => {
  it("exits non-zero, reports wrangler's status and never prints the secret", () => {
    const wrangler = standInWrangler('console.error("✘ [ERROR] Authentication error [code: 10000]"); process.exit(1);');
    const kept = envFile();
    const run = rotate(["--env", "staging", "--wrangler", wrangler.path, "--update-env", kept, "--print"]);
    expect(run.status).toBe(1);
    const { stdin } = wrangler.read();
    expect(stdin).toMatch(BASE64URL);
    expect(run.stderr).toContain("Authentication error");
    expect(run.stderr).toContain("exited with status 1");
    expect(run.stderr).toContain(`${kept} was already updated`);
    // --print is honoured only on success.
    expectNowhere(stdin, run.stdout, run.stderr);
  });

  it("masks the value even if wrangler echoes its stdin", () => {
    const wrangler = standInWrangler('console.error("echo: " + stdin); process.exit(3);');
    const run = rotate(["--wrangler", wrangler.path, "--update-env", envFile()]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("echo: [redacted]");
    expect(run.stderr).toContain("exited with status 3");
    expectNowhere(wrangler.read().stdin, run.stdout, run.stderr);
  });

  it("exits 1 when wrangler cannot be started", () => {
    const run = rotate(["--wrangler", join(scratch, "no-such-wrangler"), "--update-env", envFile()]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("could not be started (ENOENT)");
  });
});

describe("rotate with provider keys", () => {
  it("reads the key from stdin, not argv, and puts it unchanged", () => {
    const wrangler = standInWrangler();
    const key = "metered-key-from-the-dashboard-4f2a9c";
    const run = rotate(["--secret", "METERED_API_KEY", "--env", "production", "--wrangler", wrangler.path], {
      input: `${key}\n`,
    });
    expect(run.status, run.stderr).toBe(0);
    const { argv, env, stdin } = wrangler.read();
    expect(argv).toEqual(["secret", "put", "METERED_API_KEY", "--env", "production"]);
    expect(stdin).toBe(key);
    expect(JSON.stringify(env)).not.toContain(key);
    expect(run.stdout).toContain(`fingerprint METERED_API_KEY ${fingerprintOf(key)}`);
    expect(run.stdout).toContain("revoke the old key in the Metered dashboard");
    expectNowhere(key, run.stdout, run.stderr);
  });

  it.each([
    ["an empty stdin", ""],
    ["a value too short to be a key", "short\n"],
    ["more than one line", "first-line-0123456789\nsecond-line-0123456789\n"],
  ])("refuses %s", (_, input) => {
    const wrangler = standInWrangler();
    const run = rotate(["--secret", "TWILIO_AUTH_TOKEN", "--wrangler", wrangler.path], { input });
    expect(run.status).toBe(2);
    expect(wrangler.read().called).toBe(false);
  });

  // util-linux `script` gives rotate a real terminal, as when an operator pastes the key.
  it.skipIf(process.platform !== "linux" || !hasCommand("script"))(
    "on a terminal, asks for the key without echoing it",
    async () => {
      const wrangler = standInWrangler();
      const key = "twilio-token-typed-at-a-terminal-77";
      const command = [process.execPath, ROTATE, "--secret", "TWILIO_AUTH_TOKEN", "--wrangler", wrangler.path]
        .map((word) => `'${word}'`)
        .join(" ");
      const env: NodeJS.ProcessEnv = { ...process.env, ICEGATE_WRANGLER: tripwire.path };
      const child = spawn("script", ["-qec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env });
      let screen = "";
      child.stdout.on("data", (chunk: Buffer) => {
        const before = screen;
        screen += chunk.toString();
        if (!before.includes("input hidden") && screen.includes("input hidden")) child.stdin.write(`${key}\r`);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const status = await new Promise<number | null>((done) => child.once("close", done));
      clearTimeout(timer);
      expect(status, screen).toBe(0);
      expect(wrangler.read().stdin).toBe(key);
      expect(screen).toContain(`fingerprint TWILIO_AUTH_TOKEN ${fingerprintOf(key)}`);
      expect(screen).not.toContain(key);
    },
  );

  it("does not generate provider keys: --bytes is refused", () => {
    const run = rotate(["--secret", "CLOUDFLARE_TURN_API_TOKEN", "--bytes", "32"], { input: "x".repeat(40) });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("read from stdin");
  });

  it("fingerprints each key of a TURN_REST_API_KEYS list, as /healthz does", () => {
    const wrangler = standInWrangler();
    const keys = ["rest-key-new-0123456789abcdef0123456", "rest-key-old-0123456789abcdef0123456"];
    const run = rotate(["--secret", "TURN_REST_API_KEYS", "--stdin", "--wrangler", wrangler.path], {
      input: keys.join(","),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(wrangler.read().stdin).toBe(keys.join(","));
    expect(run.stdout).toContain(`fingerprint TURN_REST_API_KEYS ${keys.map(fingerprintOf).join(",")}`);
    for (const key of keys) expectNowhere(key, run.stdout, run.stderr);
  });

  it("refuses a TURN_REST_API_KEYS key shorter than 32 characters, as the worker does", () => {
    const wrangler = standInWrangler();
    const run = rotate(["--secret", "TURN_REST_API_KEYS", "--stdin", "--wrangler", wrangler.path], {
      input: `rest-key-new-0123456789abcdef0123456,${"k".repeat(31)}`,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("at least 32 characters per comma-separated key");
    expect(wrangler.read().called).toBe(false);
    const generated = rotate(["--secret", "TURN_REST_API_KEYS", "--bytes", "16", "--dry-run"]);
    expect(generated.status).toBe(2);
  });

  it("generates ADMIN_API_TOKEN (32 bytes) and tells how to check it as the operator", () => {
    const wrangler = standInWrangler();
    const run = rotate(["--secret", "ADMIN_API_TOKEN", "--env", "staging", "--wrangler", wrangler.path, "--print"]);
    expect(run.status, run.stderr).toBe(0);
    const { argv, stdin } = wrangler.read();
    expect(argv).toEqual(["secret", "put", "ADMIN_API_TOKEN", "--env", "staging"]);
    expect(stdin.length).toBeGreaterThanOrEqual(43);
    expect(run.stdout).toBe(`${stdin}\n`);
    expect(run.stderr).toContain(`fingerprint ADMIN_API_TOKEN ${fingerprintOf(stdin)}`);
    expect(run.stderr).toContain("Authorization: Bearer $ADMIN_API_TOKEN");
  });
});

describe("rotate finds wrangler", () => {
  it("through $ICEGATE_WRANGLER", () => {
    const wrangler = standInWrangler();
    const run = rotate(["--update-env", envFile()], { env: { ICEGATE_WRANGLER: wrangler.path } });
    expect(run.status, run.stderr).toBe(0);
    expect(wrangler.read().argv).toEqual(["secret", "put", "TURN_SECRET"]);
  });

  it("preferring --wrangler over $ICEGATE_WRANGLER", () => {
    const chosen = standInWrangler();
    const other = standInWrangler("process.exit(1);");
    const run = rotate(["--wrangler", chosen.path, "--update-env", envFile()], {
      env: { ICEGATE_WRANGLER: other.path },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(chosen.read().called).toBe(true);
    expect(other.read().called).toBe(false);
  });

  it("on PATH, when the project has no node_modules/.bin/wrangler", () => {
    // A copy of the script in a project without node_modules, so the local wrangler is absent.
    const project = mkdtempSync(join(scratch, "project-"));
    mkdirSync(join(project, "scripts"));
    copyFileSync(ROTATE, join(project, "scripts", "rotate.mjs"));
    cpSync(join(dirname(ROTATE), "lib"), join(project, "scripts", "lib"), { recursive: true });
    const wrangler = standInWrangler();
    const run = rotate(["--env", "staging", "--update-env", envFile()], {
      script: join(project, "scripts", "rotate.mjs"),
      env: { ICEGATE_WRANGLER: "", PATH: `${wrangler.dir}${delimiter}${process.env.PATH ?? ""}` },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(wrangler.read().argv).toEqual(["secret", "put", "TURN_SECRET", "--env", "staging"]);
  });
});
