// One bench worker, served by wrangler's dev server (its programmatic form, `unstable_startWorker`) with no
// DevTools inspector attached, as workers run in production. `wrangler dev` on the command line always
// attaches one, and then every console.log also travels to wrangler over the DevTools protocol
// (Runtime.consoleAPICalled): a dev-only cost that would count the request log several times over.
// The worker's log lines still leave workerd (structured logs on its stdout); this process drops them.
//
//   node scripts/bench/serve.mjs <wrangler.toml> <port> <vars.json> <persist dir>
//
// It prints "ready <url>" once the worker answers, and stops the worker on SIGTERM or SIGINT.
import { readFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";

const [config, port, varsFile, persist] = process.argv.slice(2);
if (!config || !port || !varsFile || !persist) {
  console.error("usage: node scripts/bench/serve.mjs <wrangler.toml> <port> <vars.json> <persist dir>");
  process.exit(2);
}

/** @type {Record<string, string>} */
const vars = JSON.parse(readFileSync(varsFile, "utf8"));
const bindings = Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }]));

const worker = await unstable_startWorker({
  config,
  bindings,
  dev: {
    server: { hostname: "127.0.0.1", port: Number(port) },
    inspector: false,
    watch: false,
    persist,
    logLevel: "warn",
    structuredLogsHandler: () => {},
  },
});
const url = await worker.url;
console.log(`ready ${url.href}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await worker.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
