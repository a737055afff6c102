/**
 * Which Worker a Wrangler command acts on, for `npm run rotate` to say before it acts: the `name` of
 * `[env.<env>]` in wrangler.toml, or of the top level without `--env` (`icegate-dev`, local development only).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The `name` key of one section of wrangler.toml (best effort: a line-by-line read, no TOML parser).
 * @param {string} projectRoot
 * @param {string | undefined} env
 * @returns {string | undefined}
 */
function workerName(projectRoot, env) {
  let text;
  try {
    text = readFileSync(join(projectRoot, "wrangler.toml"), "utf8");
  } catch {
    return undefined;
  }
  const wanted = env ? `env.${env}` : "";
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[\[?([^[\]]+)\]\]?$/.exec(line);
    if (header?.[1]) {
      section = header[1].replace(/["'\s]/g, "");
      continue;
    }
    const match = section === wanted ? /^name\s*=\s*["']([^"']+)["']/.exec(line) : null;
    if (match) return match[1];
  }
  return undefined;
}

/**
 * One line saying where a Wrangler command without or with `--env` acts.
 * @param {string} projectRoot
 * @param {string | undefined} env
 */
export function describeTarget(projectRoot, env) {
  const name = workerName(projectRoot, env) ?? "(no name in wrangler.toml)";
  return env
    ? `acting on the Worker ${name} (--env ${env})`
    : `acting on the Worker ${name}, wrangler.toml's top level for local development, not staging or production (pass --env staging or --env production for those)`;
}
