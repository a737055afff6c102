/**
 * The results table of the check page: one row per server URL, shown as "running" at once and
 * filled in as each probe finishes. Text only (textContent), never markup from a server reply.
 * Each cell carries its column's name (data-label): on a narrow screen the stylesheet shows every row
 * as a card, its cells stacked under those names.
 */
import type { ProbeResult, Target } from "./model";

const LABELS = { pass: "pass", fail: "fail", skip: "skipped", running: "running…" } as const;

const COLUMNS = { url: "Server URL", transport: "Transport", outcome: "Result", ms: "Time to relay", detail: "Detail" };

function cell(row: HTMLTableRowElement, text: string, className: keyof typeof COLUMNS): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  td.className = className;
  td.dataset.label = COLUMNS[className];
  return td;
}

/** Empties `body` and adds a running row per target; returns a function that fills row `index`. */
export function renderPending(body: HTMLTableSectionElement, targets: readonly Target[]) {
  body.replaceChildren();
  const rows = targets.map((target) => {
    const row = body.insertRow();
    row.dataset.outcome = "running";
    row.dataset.transport = target.transport;
    cell(row, target.url, "url");
    cell(row, target.transport.toUpperCase(), "transport");
    const badge = cell(row, "", "outcome").appendChild(document.createElement("span"));
    badge.className = "badge";
    badge.textContent = LABELS.running;
    cell(row, "", "ms");
    cell(row, "", "detail");
    return row;
  });
  return (index: number, result: ProbeResult): void => {
    const row = rows[index];
    if (!row) return;
    row.dataset.outcome = result.outcome;
    const { cells } = row;
    cells[2]!.firstElementChild!.textContent = LABELS[result.outcome];
    cells[3]!.textContent = result.ms === undefined ? "–" : `${result.ms} ms`;
    cells[4]!.textContent = result.outcome === "pass" ? `relay ${result.relay ?? ""}` : (result.detail ?? "");
  };
}
