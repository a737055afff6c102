// The bench's report: Markdown tables of the figures, the targets with pass/miss, and the region of
// BENCHMARKS.md between the `bench:results` markers that `npm run bench` rewrites (the prose around it,
// such as the analysis of a missed target, is kept).
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const TARGETS = {
  throughputRatio: 0.85,
  addedP99Ms: 1,
  upstreamCallsPerKeyPerLifetime: 1,
  bundleGzipKiB: 50,
  startupMs: 10,
};

export const START = "<!-- bench:results:start -->";
export const END = "<!-- bench:results:end -->";

const num = (value, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : "–";
const ms = (value) => num(value, 2);
const verdict = (ok) => (ok === undefined ? "n/a" : ok ? "pass" : "**miss**");

function loadTable(rows, pick, connections) {
  const lines = [
    `| Path | req/s | baseline req/s | ratio | p50 ms | p99 ms | baseline p50 ms | baseline p99 ms | added p99 ms | reply bytes (worker / baseline) | non-2xx |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const result = pick(row);
    if (!result) {
      lines.push(`| ${row.label} | ${row.note} | | | | | | | | | |`);
      continue;
    }
    const failed = result.failed.worker + result.failed.baseline;
    const statuses = ["worker", "baseline"]
      .filter((side) => result.failed[side] > 0)
      .map(
        (side) =>
          `${side}: ${Object.entries(result.statuses[side])
            .map(([status, count]) => `${count}× ${status}`)
            .join(", ")}`,
      )
      .join("; ");
    lines.push(
      `| ${row.label} | ${num(result.worker.rps)} | ${num(result.baseline.rps)} | ${num(result.ratio, 2)} | ` +
        `${ms(result.worker.p50)} | ${ms(result.worker.p99)} | ${ms(result.baseline.p50)} | ${ms(result.baseline.p99)} | ` +
        `${ms(result.addedP99)} | ${row.bytes.worker} / ${row.bytes.baseline} | ${failed === 0 ? "0" : `**${failed}** (${statuses})`} |`,
    );
  }
  const diagnostic = rows.some((row) => row.diagnostic)
    ? ' No target applies to the diagnostic rows. "Request log muted" is the same build with `console.log` stubbed out, so its difference to the first row is what the one request log line costs (workerd hands each line to wrangler as a structured log; no DevTools inspector is attached, as in production). "The baseline with icegate\'s reply headers and one log line" is the bare baseline plus only those two obligations (security and no-store headers on every reply, one log line per request): its ratio is the most any worker that keeps them can reach here.'
    : "";
  return `${lines.join("\n")}\n\n_${connections} connection${connections === 1 ? "" : "s"}; medians of the rounds; ratio and added latency are medians of the paired rounds (worker round, then baseline round).${diagnostic}_`;
}

export function targets(report) {
  const list = [];
  for (const row of report.rows.filter((candidate) => !candidate.diagnostic)) {
    if (!row.load) {
      list.push({ target: `Throughput ≥ ${TARGETS.throughputRatio} × baseline: ${row.label}`, measured: row.note });
      continue;
    }
    list.push({
      target: `Throughput ≥ ${TARGETS.throughputRatio} × baseline: ${row.label}`,
      measured: `${num(row.load.ratio, 2)} ×`,
      ok: row.load.ratio >= TARGETS.throughputRatio,
    });
    list.push({
      target: `Added p99 ≤ ${TARGETS.addedP99Ms} ms at ${report.meta.connections} connections: ${row.label}`,
      measured: `${ms(row.load.addedP99)} ms`,
      ok: row.load.addedP99 <= TARGETS.addedP99Ms,
    });
    if (row.latency) {
      list.push({
        target: `Added p99 ≤ ${TARGETS.addedP99Ms} ms at 1 connection: ${row.label}`,
        measured: `${ms(row.latency.addedP99)} ms`,
        ok: row.latency.addedP99 <= TARGETS.addedP99Ms,
      });
    }
  }
  const up = report.upstream;
  list.push({
    target: `≤ ${TARGETS.upstreamCallsPerKeyPerLifetime} upstream call per provider key per credential lifetime per isolate`,
    measured: up.available ? `${up.calls} call(s) for ${up.keys} key, ${up.isolates} isolate, 1 lifetime` : up.note,
    ok: up.available ? up.calls <= TARGETS.upstreamCallsPerKeyPerLifetime * up.keys * up.isolates : undefined,
  });
  list.push({
    target: `Bundle ≤ ${TARGETS.bundleGzipKiB} KiB gzip`,
    measured: `${num(report.bundle.worker.gzipKiB, 2)} KiB`,
    ok: report.bundle.worker.gzipKiB <= TARGETS.bundleGzipKiB,
  });
  const startup = report.startup.worker;
  list.push({
    target: `Startup < ${TARGETS.startupMs} ms of CPU`,
    measured: startup.available
      ? `${ms(startup.cpuMs)} ms (wrangler check startup's profile, sample by sample; its "Active" figure: ${ms(startup.activeMs)} ms)`
      : startup.note,
    ok: startup.available ? startup.cpuMs < TARGETS.startupMs : undefined,
  });
  return list;
}

export function markdown(report) {
  const { meta } = report;
  const up = report.upstream;
  const startupCell = (side, field) => {
    if (!side.available) return field === "activeMs" ? side.note : "–";
    if (field === "samples") return num(side.samples);
    if (field === "activeMs" && report.startup.samples > 1) {
      return `${ms(side.activeMs)} ms (${ms(side.minMs)}–${ms(side.maxMs)})`;
    }
    if (field === "cpuMs" && report.startup.samples > 1) {
      return `${ms(side.cpuMs)} ms (${ms(side.cpuMinMs)}–${ms(side.cpuMaxMs)})`;
    }
    return `${ms(side[field])} ms`;
  };
  const kib = (bytes) => `${num(bytes / 1024, 1)} KiB`;
  const total = report.bundle.worker.parts.reduce((sum, part) => sum + part.bytes, 0);
  const sections = [
    START,
    "## Results",
    "",
    `Measured on ${meta.date} by \`npm run bench\`${meta.quick ? " **--quick (a smoke test: one short round; not figures to quote)**" : ""}: ` +
      `${meta.cores} × ${meta.cpuModel}, Node ${meta.node}, workerd ${meta.workerd}, wrangler ${meta.wrangler}, Hono ${meta.hono}. ` +
      `Load average at the start: ${meta.loadAverage} (other processes were running: figures are noisy). ` +
      `${meta.rounds} round(s) of ${meta.duration} s per side and path, alternating worker and baseline. ` +
      `Requests went ${meta.direct ? "straight to the workerd runtime's socket (behind wrangler dev's proxy)" : "through wrangler dev's proxy"}. ` +
      `Both bench workers run with RATE_LIMIT_ENABLED=false (rate limiting off), ${meta.users} distinct users per token pool.`,
    "",
    `### Credential path against the bare baseline, ${meta.connections} connections`,
    "",
    loadTable(report.rows, (row) => row.load, meta.connections),
    "",
    "### Latency at 1 connection (no queueing)",
    "",
    loadTable(report.rows, (row) => row.latency, 1),
    "",
    "### Upstream amplification",
    "",
    "| Provider | Requests (fresh isolate, cold cache) | Upstream calls | Per 10,000 requests | Whole run |",
    "| --- | ---: | ---: | ---: | --- |",
    up.available
      ? `| cloudflare (fake API on 127.0.0.1, 1 key) | ${num(up.requests)} | ${up.calls} | ${num((up.calls * 10_000) / up.requests, 2)} | ${up.totalCalls} call(s) over ${num(up.totalRequests)} requests |`
      : `| cloudflare | ${up.note} | | | |`,
    "",
    `JWKS (ES256 path): ${report.jwks.fetches} fetch(es) over ${num(report.jwks.requests)} requests.`,
    "",
    "### Bundle and startup",
    "",
    "| | icegate | baseline |",
    "| --- | ---: | ---: |",
    `| Bundle, gzip (\`wrangler deploy --dry-run --env production\`) | ${num(report.bundle.worker.gzipKiB, 2)} KiB (${num(report.bundle.worker.totalKiB, 2)} KiB raw) | ${num(report.bundle.baseline.gzipKiB, 2)} KiB (${num(report.bundle.baseline.totalKiB, 2)} KiB raw) |`,
    `| Startup CPU, \`wrangler check startup\` "Active", median${report.startup.samples > 1 ? ` (min–max) of ${report.startup.samples}` : " of 1"} | ${startupCell(report.startup.worker, "activeMs")} | ${startupCell(report.startup.baseline, "activeMs")} |`,
    `| … of which garbage collection | ${startupCell(report.startup.worker, "gcMs")} | ${startupCell(report.startup.baseline, "gcMs")} |`,
    `| … profiler samples (1 ms interval) | ${startupCell(report.startup.worker, "samples")} | ${startupCell(report.startup.baseline, "samples")} |`,
    `| Startup CPU, the same profiles sample by sample (each sample ≤ 1.5 ms), median${report.startup.samples > 1 ? ` (min–max) of ${report.startup.samples}` : " of 1"} | ${startupCell(report.startup.worker, "cpuMs")} | ${startupCell(report.startup.baseline, "cpuMs")} |`,
    "",
    "wrangler's \"Active\" sums each non-idle sample's time delta whole. The first sample taken once the isolate runs " +
      "JavaScript carries, as its delta, the unsampled wait for the profiling request to arrive: wall time, not CPU " +
      "(a bare Hono worker that does nothing at startup reads about 12 ms from it; a worker whose module is empty has a " +
      "single idle sample in a 25 ms window). The sample-by-sample figure counts each sample as at most 1.5 sampling " +
      "intervals, and is the one the startup target is judged on.",
    "",
    "Largest parts of icegate's bundle (minified bytes before gzip, from esbuild's metafile):",
    "",
    "| Part | Minified | Share |",
    "| --- | ---: | ---: |",
    ...report.bundle.worker.parts
      .slice(0, 10)
      .map((part) => `| ${part.name} | ${kib(part.bytes)} | ${num((100 * part.bytes) / total, 0)} % |`),
    "",
    "### Targets",
    "",
    "| Target | Measured | Result |",
    "| --- | --- | --- |",
    ...targets(report).map((t) => `| ${t.target} | ${t.measured} | ${verdict(t.ok)} |`),
    ...(report.warnings.length > 0 ? ["", ...report.warnings.map((warning) => `> ${warning}`)] : []),
    END,
  ];
  return sections.join("\n");
}

const TEMPLATE = `# Benchmarks

\`npm run bench\` (scripts/bench.mjs) measures icegate's credential path under \`wrangler dev\` (workerd) against a
bare Hono worker (bench/baseline) and rewrites the results below.

${START}
${END}
`;

/** Replaces the results region of `file` (creating the file when missing). */
export function writeResults(file, text) {
  const current = existsSync(file) ? readFileSync(file, "utf8") : TEMPLATE;
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${text}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${text}\n`;
  writeFileSync(file, next);
}
