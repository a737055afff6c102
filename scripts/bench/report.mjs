// The bench's report: Markdown tables of the figures, the targets with pass/miss, and the region of
// BENCHMARKS.md between the `bench:results` markers that `npm run bench` rewrites (the prose around it,
// such as the analysis of a missed target, is kept).
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const TARGETS = {
  floorRatio: 0.9,
  addedP99Ms: 1,
  upstreamCallsPerKeyPerLifetime: 1,
  bundleGzipKiB: 64,
  startupMs: 5,
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
    `| Path | req/s | floor req/s | bare req/s | ÷ floor | ÷ bare | floor ÷ bare | p50 ms | p99 ms | floor p99 ms | bare p99 ms | added p99 ms (÷ bare) | reply bytes (worker / floor / bare) | non-2xx |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const result = pick(row);
    if (!result) {
      lines.push(`| ${row.label} | ${row.note} | | | | | | | | | | | | |`);
      continue;
    }
    const { worker, floor, bare } = result.sides;
    const failedSides = Object.entries(result.sides).filter(([, side]) => side.failed > 0);
    const failed = failedSides.reduce((sum, [, side]) => sum + side.failed, 0);
    const statuses = failedSides
      .map(
        ([name, side]) =>
          `${name}: ${Object.entries(side.statuses)
            .map(([status, count]) => `${count}× ${status}`)
            .join(", ")}`,
      )
      .join("; ");
    lines.push(
      `| ${row.label} | ${num(worker.rps)} | ${num(floor.rps)} | ${num(bare.rps)} | ` +
        `${num(result.ratios["worker/floor"], 2)} | ${num(result.ratios["worker/bare"], 2)} | ${num(result.ratios["floor/bare"], 2)} | ` +
        `${ms(worker.p50)} | ${ms(worker.p99)} | ${ms(floor.p99)} | ${ms(bare.p99)} | ${ms(result.addedP99["worker/bare"])} | ` +
        `${row.bytes.worker} / ${row.bytes.floor} / ${row.bytes.baseline} | ${failed === 0 ? "0" : `**${failed}** (${statuses})`} |`,
    );
  }
  const diagnostic = rows.some((row) => row.diagnostic)
    ? ' No target applies to the diagnostic row: "request log muted" is the same build with `console.log` stubbed out, so its difference to the first row is what the one request log line costs (workerd hands each line to wrangler as a structured log; no DevTools inspector is attached, as in production).'
    : "";
  return (
    `${lines.join("\n")}\n\n_${connections} connection${connections === 1 ? "" : "s"}. ` +
    "Each round loads the worker, the floor and the bare baseline once each (the order rotating from round to round); " +
    "the req/s and latency columns are medians over rounds, every ratio and the added latency are medians of the rounds' own ratios and differences. " +
    "The floor is the bare baseline plus icegate's reply headers and one request log line (bench/baseline `/floor/:body`); floor and bare get the same requests as the worker, tokens included, and answer the worker's own reply body." +
    `${diagnostic}_`
  );
}

/** Browser rows of one list, by browser. */
const browserRow = (report, browser, list) =>
  report.browser?.rows?.find((row) => row.browser === browser && row.list === list);

export function targets(report) {
  const list = [];
  for (const row of report.rows.filter((candidate) => candidate.floorTarget)) {
    for (const [result, where] of [
      [row.load, `${report.meta.connections} connections`],
      [row.latency, "1 connection"],
    ]) {
      const target = `Throughput ≥ ${TARGETS.floorRatio.toFixed(2)} × floor at ${where}: ${row.label}`;
      if (!result) {
        list.push({ target, measured: row.note });
        continue;
      }
      list.push({
        target,
        measured: `${num(result.ratios["worker/floor"], 2)} × (÷ bare: ${num(result.ratios["worker/bare"], 2)} ×)`,
        ok: result.ratios["worker/floor"] >= TARGETS.floorRatio,
      });
    }
  }
  for (const row of report.rows.filter((candidate) => !candidate.diagnostic)) {
    if (!row.load) continue;
    list.push({
      target: `Added p99 ≤ ${TARGETS.addedP99Ms} ms over the bare baseline at ${report.meta.connections} connections: ${row.label}`,
      measured: `${ms(row.load.addedP99["worker/bare"])} ms`,
      ok: row.load.addedP99["worker/bare"] <= TARGETS.addedP99Ms,
    });
    if (row.latency) {
      list.push({
        target: `Added p99 ≤ ${TARGETS.addedP99Ms} ms over the bare baseline at 1 connection: ${row.label}`,
        measured: `${ms(row.latency.addedP99["worker/bare"])} ms`,
        ok: row.latency.addedP99["worker/bare"] <= TARGETS.addedP99Ms,
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
    target: `Startup ≤ ${TARGETS.startupMs} ms of CPU, every sample`,
    measured: startup.available
      ? `${ms(startup.cpuMaxMs)} ms at most, median ${ms(startup.cpuMs)} ms (wrangler check startup's profile, sample by sample; its "Active" figure: ${ms(startup.activeMs)} ms)`
      : startup.note,
    ok: startup.available ? startup.cpuMaxMs <= TARGETS.startupMs : undefined,
  });
  for (const browser of [...new Set((report.browser?.rows ?? []).map((row) => row.browser))]) {
    const shaped = browserRow(report, browser, "cloudflare");
    const full = browserRow(report, browser, "full");
    for (const phase of ["cold", "warm"]) {
      const target = `Shaped list at least as fast as the full one to an open data channel, ${phase}: ${browser}`;
      if (!shaped?.[phase] || !full?.[phase]) {
        list.push({ target, measured: shaped?.note ?? full?.note ?? "not measured" });
        continue;
      }
      const a = shaped[phase].openMs.median;
      const b = full[phase].openMs.median;
      list.push({
        target,
        measured: `${ms(a)} ms (${shaped.urls} URLs) against ${ms(b)} ms (${full.urls} URLs)`,
        ok: a <= b,
      });
    }
  }
  return list;
}

/** The browser table: medians (and quartiles) per browser and list of ICE servers. */
function browserTable(report) {
  const b = report.browser;
  if (!b?.rows?.length) return [`_Not measured: ${b?.note ?? "left out"}._`];
  const cell = (stat) =>
    stat && Number.isFinite(stat.median) ? `${ms(stat.median)} (${ms(stat.p25)}–${ms(stat.p75)})` : "–";
  const lines = [
    "| Browser | ICE servers from | URLs | SDK fetches per credential lifetime | cold: fetch ms | cold: first relay candidate ms | cold: open data channel ms | warm: fetch ms | warm: first relay candidate ms | warm: open data channel ms | samples |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const row of b.rows) {
    const name = `${row.browser}${row.version ? ` ${row.version}` : ""}`;
    if (!row.cold) {
      lines.push(`| ${name} | ${row.label} | ${row.note ?? "–"} | | | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${name} | ${row.label} | ${row.urls} | ${row.fetches} | ${cell(row.cold.fetchMs)} | ${cell(row.cold.relayMs)} | ${cell(row.cold.openMs)} | ` +
        `${cell(row.warm.fetchMs)} | ${cell(row.warm.relayMs)} | ${cell(row.warm.openMs)} | ${row.samples}${row.failed ? ` (**${row.failed} failed**)` : ""} |`,
    );
  }
  const lists = new Map();
  for (const row of b.rows) if (row.urlList && !lists.has(row.list)) lists.set(row.list, row);
  const slower = [];
  for (const browser of [...new Set(b.rows.map((row) => row.browser))]) {
    const shaped = b.rows.find((row) => row.browser === browser && row.list === "cloudflare");
    const full = b.rows.find((row) => row.browser === browser && row.list === "full");
    for (const phase of ["cold", "warm"]) {
      const [s, f] = [shaped?.[phase]?.openMs, full?.[phase]?.openMs];
      if (!s || !f || !(s.median > f.median)) continue;
      const overlap = s.p25 <= f.p75 && f.p25 <= s.p75;
      slower.push(
        `${browser}, ${phase}: the shaped list (${shaped.urls} URLs) opened its data channel in ${ms(s.median)} ms, ` +
          `the full list (${full.urls} URLs) in ${ms(f.median)} ms. ` +
          (overlap
            ? `Their quartiles overlap (${ms(s.p25)}–${ms(s.p75)} against ${ms(f.p25)}–${ms(f.p75)} ms): the difference is within the spread of the samples.`
            : `Their quartiles do not overlap (${ms(s.p25)}–${ms(s.p75)} against ${ms(f.p25)}–${ms(f.p75)} ms): a real difference on this machine, to be explained in the text below.`),
      );
    }
  }
  return [
    ...lines,
    "",
    ...(slower.length > 0 ? [...slower.map((line) => `> ${line}`), ""] : []),
    `_Medians over ${b.samples} page(s) per browser and list, quartiles in brackets; every time runs from the call to the SDK's \`getIceServers()\`. ` +
      "Each page makes one SDK client, then connects twice: cold (the SDK's first fetch) and warm (the SDK's cache, no fetch). " +
      "A connection is two relay-only RTCPeerConnections in the page, trickling candidates to each other, through a real coturn on loopback; " +
      `"first relay candidate" is the offerer's, "open data channel" the offerer's channel \`open\` event. ` +
      `"SDK fetches per credential lifetime" counts the SDK's requests over both connections (ttl ${num(b.ttl)} s: the SDK asks again only near expiry). ` +
      `Port 53: ${b.blackhole ?? "unreachable"}._`,
    "",
    "URLs served:",
    "",
    ...[...lists.values()].map((row) => `- ${row.label}: ${row.urlList.map((url) => `\`${url}\``).join(", ")}`),
  ];
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
      `${meta.rounds} round(s) of ${meta.duration} s per side and path, rotating worker, floor and bare baseline. ` +
      `Requests went ${meta.direct ? "straight to the workerd runtime's socket (behind wrangler dev's proxy)" : "through wrangler dev's proxy"}. ` +
      `Both bench workers run with RATE_LIMIT_ENABLED=false (rate limiting off), ${meta.users} distinct users per token pool.`,
    "",
    `### Credential path against its floor and the bare baseline, ${meta.connections} connections`,
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
    "### Time to a working relay in the browser",
    "",
    ...browserTable(report),
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

export const README_START = "<!-- bench:readme:start -->";
export const README_END = "<!-- bench:readme:end -->";

/** "a–b" of the finite values (or one value when they agree), with `digits` decimals. */
function span(values, digits = 2) {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0) return "–";
  const [low, high] = [Math.min(...finite), Math.max(...finite)];
  return num(low, digits) === num(high, digits) ? num(low, digits) : `${num(low, digits)}–${num(high, digits)}`;
}

/**
 * The README's performance figures (between the `bench:readme` markers): the targets with this run's
 * figures and the browser medians, formatted by prettier as the README's lint requires.
 */
export async function readmeMarkdown(report, readmeFile) {
  const { meta } = report;
  const floorRows = report.rows.filter((row) => row.floorTarget && row.load);
  const paths = report.rows.filter((row) => !row.diagnostic && row.load);
  const all = targets(report);
  const verdictOf = (prefix) => {
    const matching = all.filter((t) => t.target.startsWith(prefix) && t.ok !== undefined);
    if (matching.length === 0) return "n/a";
    return matching.every((t) => t.ok) ? "met" : matching.some((t) => t.ok) ? "partly met" : "missed";
  };
  const up = report.upstream;
  const startup = report.startup.worker;
  const lines = [
    README_START,
    `Figures of the last \`npm run bench\` (${meta.date}, ${meta.cores} × ${meta.cpuModel}${meta.quick ? ", **--quick: not figures to quote**" : ""}; [BENCHMARKS.md](BENCHMARKS.md) has every row):`,
    "",
    "| Target | Measured |",
    "| --- | --- |",
    `| Throughput ≥ ${TARGETS.floorRatio.toFixed(2)} × the floor (anonymous, HS256, cached provider) | ${verdictOf("Throughput ≥")}: ${span(floorRows.map((row) => row.load.ratios["worker/floor"]))} × at ${meta.connections} connections, ${span(floorRows.map((row) => row.latency?.ratios["worker/floor"]))} × at 1 |`,
    `| … the same against the bare baseline (no target) | ${span(floorRows.map((row) => row.load.ratios["worker/bare"]))} × at ${meta.connections} connections, ${span(floorRows.map((row) => row.latency?.ratios["worker/bare"]))} × at 1 |`,
    `| Added p99 ≤ ${TARGETS.addedP99Ms} ms over the bare baseline | ${span(paths.map((row) => row.latency?.addedP99["worker/bare"]))} ms at 1 connection, ${span(paths.map((row) => row.load.addedP99["worker/bare"]))} ms at ${meta.connections} (queueing on a saturated machine) |`,
    `| ${TARGETS.upstreamCallsPerKeyPerLifetime} upstream call per provider key per lifetime per isolate | ${up.available ? `${verdictOf("≤")}: ${up.calls} call(s) for ${num(up.requests)} requests (also asserted by tests)` : up.note} |`,
    `| Bundle ≤ ${TARGETS.bundleGzipKiB} KiB gzip | ${verdictOf("Bundle")}: ${num(report.bundle.worker.gzipKiB, 1)} KiB (\`npm run build:check-size\` fails CI above it) |`,
    `| Startup ≤ ${TARGETS.startupMs} ms of CPU, every sample | ${startup.available ? `${verdictOf("Startup")}: ${ms(startup.cpuMinMs)}–${ms(startup.cpuMaxMs)} ms in \`wrangler check startup\`'s profile (its "Active": ${ms(startup.activeMs)})` : startup.note} |`,
    "",
  ];
  const browserRows = (report.browser?.rows ?? []).filter((row) => row.cold);
  if (browserRows.length > 0) {
    lines.push(
      "Time to a working relay, from `getIceServers()` (medians in ms; cold: the SDK's first fetch, warm: its cache):",
      "",
      "| Browser | ICE servers from | URLs | cold: first relay candidate | cold: open data channel | warm: first relay candidate | warm: open data channel |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
      ...browserRows.map(
        (row) =>
          `| ${row.browser} | ${row.label} | ${row.urls} | ${ms(row.cold.relayMs.median)} | ${ms(row.cold.openMs.median)} | ${ms(row.warm.relayMs.median)} | ${ms(row.warm.openMs.median)} |`,
      ),
      "",
    );
  } else {
    lines.push(`Time to a working relay in the browser: not measured (${report.browser?.note ?? "left out"}).`, "");
  }
  lines.push(README_END);
  const prettier = await import("prettier");
  const config = (await prettier.resolveConfig(readmeFile)) ?? {};
  return (await prettier.format(lines.join("\n"), { ...config, parser: "markdown", filepath: readmeFile })).trimEnd();
}

/** Replaces the README's region between the `bench:readme` markers; a README without them is left alone. */
export function writeReadme(file, text) {
  if (!existsSync(file)) return false;
  const current = readFileSync(file, "utf8");
  const start = current.indexOf(README_START);
  const end = current.indexOf(README_END);
  if (start < 0 || end < start) return false;
  writeFileSync(file, `${current.slice(0, start)}${text}${current.slice(end + README_END.length)}`);
  return true;
}
