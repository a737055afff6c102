/**
 * Sets one key of a dotenv-style file (.dev.vars, a docker compose .env) in place, for
 * scripts/rotate.mjs: every other line, comment, blank and the order are kept; the file is
 * written to a temporary file beside it and renamed over it, with mode 0600.
 */
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";

/** A file that cannot be read, parsed or written safely. Its message names the file, never a value. */
export class EnvFileError extends Error {}

/**
 * Sets `key` in a dotenv-style file in place: every other line, comment and blank is kept as is;
 * a missing key is added at the end. Written to a temporary file beside it, then renamed over it.
 */
export function updateEnvFile(file, key, value, append) {
  let target = resolve(file);
  let text = "";
  try {
    target = realpathSync(target);
    text = readFileSync(target, "utf8");
  } catch (caught) {
    const error = /** @type {NodeJS.ErrnoException | undefined} */ (caught);
    if (error?.code !== "ENOENT") throw new EnvFileError(`cannot read ${file}: ${error?.code ?? "error"}`);
  }
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text === "" ? [] : text.split(/\r?\n/);
  const finalNewline = text === "" || text.endsWith("\n");
  if (text.endsWith("\n")) lines.pop();

  const pattern = new RegExp(`^(\\s*(?:export\\s+)?)${key}\\s*=(.*)$`);
  const found = lines.flatMap((line, index) => (pattern.test(line) ? [index] : []));
  if (found.length > 1) throw new EnvFileError(`${file} sets ${key} on ${found.length} lines: keep one and retry`);
  if (found.length === 1) {
    const index = found[0];
    const match = pattern.exec(lines[index]);
    const prefix = match?.[1] ?? "";
    const current = parseEnvValue(match?.[2] ?? "");
    const items = current.value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
    const next = append ? (items.includes(value) ? items : [...items, value]).join(",") : value;
    lines[index] = `${prefix}${key}=${formatEnvValue(next, file)}${current.comment}`;
  } else {
    lines.push(`${key}=${formatEnvValue(value, file)}`);
  }
  writeAtomically(target, lines.join(eol) + (finalNewline ? eol : ""));
}

function parseEnvValue(rest) {
  const text = rest.trimStart();
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    let end = 1;
    while (end < text.length && text[end] !== quote) end += quote === '"' && text[end] === "\\" ? 2 : 1;
    const inner = text.slice(1, end);
    return {
      value: quote === '"' ? inner.replace(/\\(["\\])/g, "$1") : inner,
      comment: text.slice(end + 1),
    };
  }
  const match = /^(.*?)(\s+#.*)?$/.exec(text);
  return { value: match?.[1]?.trim() ?? "", comment: match?.[2] ?? "" };
}

function formatEnvValue(value, file) {
  if (/^[A-Za-z0-9_\-.,:+/=@]*$/.test(value)) return value;
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  throw new EnvFileError(`this value cannot be written safely to ${file}; set it by hand`);
}

function writeAtomically(target, content) {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o600);
    renameSync(temp, target);
  } catch (caught) {
    const error = /** @type {NodeJS.ErrnoException | undefined} */ (caught);
    rmSync(temp, { force: true });
    throw new EnvFileError(`cannot write ${target}: ${error?.code ?? "error"}`);
  }
  try {
    const dir = openSync(dirname(target), "r");
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Not every platform can fsync a directory; the rename is done either way.
  }
}
