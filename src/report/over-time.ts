/**
 * The "Over time" section of a report: segment sizes over time, the moves between two
 * snapshots (alluvial diagram and migration matrix) and the drift of the columns from the
 * training data (PSI bars), each with a few sentences of text. Every part is optional: the
 * section holds the charts of what it is given.
 *
 * For other commands (an export; this is how to use it):
 *
 *   import { overTimeSection } from "../report/over-time.js";
 *   const { section, charts } = overTimeSection({
 *     sizes,        // SegmentSizeAt[]: { date, segment, name, customers } per snapshot and segment
 *     migration,    // { matrix, before, after, onlyBefore?, onlyAfter? }: compareAssignments(...).matrix
 *                   // (pipeline/compare.ts) or any { rows, cols, rowNames, colNames, counts }
 *     psi,          // DriftReport (pipeline/drift.ts) or [{ feature, psi }]
 *   });
 *   buildSegmentationReport(result, data, { ..., extraSections: [section] })  // in a segmentation report
 *   // or a document of its own: renderReportHtml({ title, subtitle, sections: [section] })
 *   // charts: { "over-time-sizes", "over-time-flows", "over-time-migration", "over-time-psi" } for --charts (writeCharts)
 *
 * `segmenta track --report` passes the sizes of every snapshot and the migration between the
 * last two; `segmenta cluster --previous M --report` passes the migration from the previous
 * model's segments of the same customers to the new ones and the drift from its training data.
 */
import type { TopLevelSpec } from "vega-lite";
import {
  type Flow, type PsiRow, type SegmentSizeAt, migrationHeatmap, psiChart, segmentFlowChart, segmentSizesOverTimeChart,
} from "../charts/over-time.js";
import { formatCount, formatShare } from "../charts/theme.js";
import { PSI_RETRAIN, PSI_WATCH } from "../metrics/psi.js";
import type { Dataset } from "../core/dataset.js";
import { compareAssignments } from "../pipeline/compare.js";
import { type DriftReport, driftReport } from "../pipeline/drift.js";
import { type LoadedModelFile, modelSegmentIds, predictWithModel } from "../pipeline/model.js";
import type { SegmentationResult } from "../pipeline/run.js";
import type { PreviousRun } from "../pipeline/stable.js";
import type { ReportBlock, ReportSection, ReportTable } from "./html.js";

/** A migration matrix: counts[i][j] customers in segment rows[i] before and cols[j] after (pipeline/compare.ts's MigrationMatrix fits). */
export interface MigrationMatrixLike {
  rows: readonly number[];
  cols: readonly number[];
  rowNames: readonly string[];
  colNames: readonly string[];
  counts: readonly (readonly number[])[];
}

export interface OverTimeMigration {
  matrix: MigrationMatrixLike;
  /** The two snapshots' labels (dates, file names). */
  before?: string;
  after?: string;
  /** Customers only before (gone) and only after (new), for the text. */
  onlyBefore?: number;
  onlyAfter?: number;
  /** Customers new after, by their segment after, and customers gone, by their segment before: grey bands of the alluvial diagram. */
  arrivals?: readonly { segment: number; customers: number }[];
  departures?: readonly { segment: number; customers: number }[];
}

export interface OverTimeInput {
  /** Every segment's customers at every snapshot date. */
  sizes?: readonly SegmentSizeAt[];
  /** The moves between two snapshots: an alluvial diagram and the matrix as a heatmap. */
  migration?: OverTimeMigration;
  /** The drift of the columns (and segment shares) from the training data. */
  psi?: DriftReport | readonly PsiRow[];
  /** The outliers' name (segment −1), when there are any. */
  noiseName?: string;
}

export interface OverTimeSection {
  section: ReportSection;
  /** The charts by file name, for --charts. */
  charts: Record<string, TopLevelSpec>;
}

/**
 * The flows of a migration matrix (stayers included), then the arrivals (customers new after,
 * by their segment after) as flows from null and the departures (gone, by their segment
 * before) as flows to null.
 */
export function flowsOfMatrix(m: OverTimeMigration): Flow[] {
  const flows: Flow[] = [];
  m.matrix.counts.forEach((row, i) => row.forEach((c, j) => {
    if (c > 0) flows.push({ from: m.matrix.rows[i], to: m.matrix.cols[j], customers: c });
  }));
  for (const a of m.arrivals ?? []) if (a.customers > 0) flows.push({ from: null, to: a.segment, customers: a.customers });
  for (const d of m.departures ?? []) if (d.customers > 0) flows.push({ from: d.segment, to: null, customers: d.customers });
  return flows;
}

function namesByLabel(labels: readonly number[], names: readonly string[]): string[] {
  const out: string[] = [];
  labels.forEach((l, i) => {
    if (l >= 0) out[l] = names[i];
  });
  return out;
}

/**
 * The "Over time" section from what is given (see the file's header): the charts and, for
 * each, a short text; the charts also by file name for --charts. Throws RangeError when
 * given nothing.
 */
export function overTimeSection(input: OverTimeInput, options: { id?: string; title?: string } = {}): OverTimeSection {
  const blocks: ReportBlock[] = [];
  const charts: Record<string, TopLevelSpec> = {};
  const chart = (id: string, title: string, spec: TopLevelSpec, table?: ReportTable): void => {
    charts[id] = spec;
    blocks.push({ type: "chart", chart: { id, title, spec, description: (spec as { description?: string }).description ?? title, table } });
  };

  if (input.sizes && input.sizes.length) {
    blocks.push({ type: "text", text: sizesText(input.sizes) });
    const dates = [...new Set(input.sizes.map((r) => r.date))].sort();
    const names = [...new Map(input.sizes.map((r) => [r.segment, r.name])).entries()].sort((a, b) => (a[0] < 0 ? 1 : 0) - (b[0] < 0 ? 1 : 0) || a[0] - b[0]);
    const at = new Map(input.sizes.map((r) => [`${r.date}\u0000${r.segment}`, r.customers]));
    chart("over-time-sizes", "Segment sizes over time", segmentSizesOverTimeChart({ rows: input.sizes }), {
      head: ["date", ...names.map((n) => n[1])],
      rows: dates.map((d) => [d, ...names.map(([l]) => at.get(`${d}\u0000${l}`) ?? 0)]),
      numeric: [false, ...names.map(() => true)],
    });
  }

  if (input.migration) {
    const m = input.migration;
    const before = m.before ?? "before";
    const after = m.after ?? "after";
    const beforeNames = namesByLabel(m.matrix.rows, m.matrix.rowNames);
    const afterNames = namesByLabel(m.matrix.cols, m.matrix.colNames);
    const noiseAt = m.matrix.rows.indexOf(-1);
    const noiseAfter = m.matrix.cols.indexOf(-1);
    const noiseName = input.noiseName ?? (noiseAt >= 0 ? m.matrix.rowNames[noiseAt] : noiseAfter >= 0 ? m.matrix.colNames[noiseAfter] : true);
    blocks.push({ type: "text", text: migrationText(m) });
    chart("over-time-flows", `Moves between segments, ${before} → ${after}`, segmentFlowChart({
      flows: flowsOfMatrix(m), names: beforeNames, afterNames, before, after, noiseName,
    }));
    chart("over-time-migration", `Migration matrix, ${before} → ${after}`, migrationHeatmap({
      counts: m.matrix.counts, beforeLabels: m.matrix.rows, afterLabels: m.matrix.cols, names: beforeNames, afterNames, before, after, noiseName,
    }), {
      caption: `customers by segment ${before} (rows) and ${after} (columns)`,
      head: [`${before} \\ ${after}`, ...m.matrix.colNames, "total"],
      rows: m.matrix.counts.map((row, i) => [m.matrix.rowNames[i], ...row, row.reduce((a, b) => a + b, 0)]),
      numeric: [false, ...m.matrix.colNames.map(() => true), true],
    });
  }

  if (input.psi) {
    const rows = psiRows(input.psi);
    if (rows.length) {
      blocks.push({ type: "text", text: psiText(rows) });
      chart("over-time-psi", "Drift from the training data (PSI)", psiChart({ rows }), {
        head: ["column", "PSI", "reading"],
        rows: [...rows].sort((a, b) => b.psi - a.psi).map((r) => [r.feature, Number(r.psi.toFixed(3)), r.psi > PSI_RETRAIN ? "retrain" : r.psi > PSI_WATCH ? "watch" : "stable"]),
        numeric: [false, true, false],
      });
    }
  }
  if (!blocks.length) throw new RangeError("the over-time section needs sizes, a migration or PSI values");
  return { section: { id: options.id ?? "over-time", title: options.title ?? "Over time", blocks }, charts };
}

function psiRows(psi: DriftReport | readonly PsiRow[]): PsiRow[] {
  if (Array.isArray(psi)) return (psi as readonly PsiRow[]).filter((r) => Number.isFinite(r.psi));
  const r = psi as DriftReport;
  return [...r.features, ...(r.segments ? [r.segments] : [])].filter((f) => Number.isFinite(f.psi)).map((f) => ({ feature: f.feature, psi: f.psi }));
}

/** "From 2011-01-01 to 2011-12-01 (12 snapshots) the customers went from 1,200 to 4,300; Champions grew most (…), Lost shrank most (…)." */
export function sizesText(sizes: readonly SegmentSizeAt[]): string {
  const dates = [...new Set(sizes.map((r) => r.date))].sort();
  const first = dates[0];
  const last = dates[dates.length - 1];
  const total = (d: string) => sizes.filter((r) => r.date === d).reduce((s, r) => s + r.customers, 0);
  const t0 = total(first);
  const t1 = total(last);
  const share = (d: string, t: number, label: number) => (t > 0 ? sizes.filter((r) => r.date === d && r.segment === label).reduce((s, r) => s + r.customers, 0) / t : 0);
  const labels = [...new Map(sizes.map((r) => [r.segment, r.name])).entries()];
  const change = labels.map(([l, name]) => ({ name, from: share(first, t0, l), to: share(last, t1, l) })).map((c) => ({ ...c, d: c.to - c.from }));
  const up = [...change].sort((a, b) => b.d - a.d)[0];
  const down = [...change].sort((a, b) => a.d - b.d)[0];
  let text = `From ${first} to ${last} (${dates.length} snapshot${dates.length === 1 ? "" : "s"}) the customers went from ${formatCount(t0)} to ${formatCount(t1)}.`;
  if (dates.length > 1 && up && up.d > 0.0005) text += ` ${up.name} grew most (${formatShare(up.from)} → ${formatShare(up.to)} of the customers)`;
  if (dates.length > 1 && down && down.d < -0.0005) text += `${up && up.d > 0.0005 ? "; " : " "}${down.name} shrank most (${formatShare(down.from)} → ${formatShare(down.to)}).`;
  else if (dates.length > 1 && up && up.d > 0.0005) text += ".";
  return text;
}

/** "Of 1,560 customers in both, 290 (18.6 %) changed segment; the largest moves: 90 At risk → Hibernating (36.0 % of At risk), …" */
export function migrationText(m: OverTimeMigration): string {
  const { rows, cols, rowNames, colNames, counts } = m.matrix;
  let total = 0;
  let stayed = 0;
  const moves: { from: string; to: string; count: number; share: number }[] = [];
  counts.forEach((row, i) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    row.forEach((c, j) => {
      total += c;
      if (rows[i] === cols[j]) stayed += c;
      else if (c > 0) moves.push({ from: rowNames[i], to: colNames[j], count: c, share: rowTotal > 0 ? c / rowTotal : 0 });
    });
  });
  const moved = total - stayed;
  const top = moves.sort((a, b) => b.count - a.count).slice(0, 3);
  let text = `Of ${formatCount(total)} customers in both ${m.before ?? "before"} and ${m.after ?? "after"}, ${formatCount(moved)} (${formatShare(total > 0 ? moved / total : 0)}) changed segment`;
  text += top.length ? `; the largest moves: ${top.map((f) => `${formatCount(f.count)} ${f.from} → ${f.to} (${formatShare(f.share)} of ${f.from})`).join(", ")}.` : ".";
  if (m.onlyAfter) text += ` ${formatCount(m.onlyAfter)} customers are new in ${m.after ?? "after"}.`;
  if (m.onlyBefore) text += ` ${formatCount(m.onlyBefore)} customers of ${m.before ?? "before"} are gone.`;
  return text;
}

/** What the PSI values say: the columns to retrain on, to watch, or that all is stable. */
export function psiText(rows: readonly PsiRow[]): string {
  const ranked = [...rows].sort((a, b) => b.psi - a.psi);
  const retrain = ranked.filter((r) => r.psi > PSI_RETRAIN);
  const watch = ranked.filter((r) => r.psi > PSI_WATCH && r.psi <= PSI_RETRAIN);
  const list = (xs: PsiRow[]) => xs.map((r) => `${r.feature} (${r.psi.toFixed(3)})`).join(", ");
  const rule = `The population stability index compares each column's distribution with the training data's (10 quantile bins, one per category, one for missing values): below ${PSI_WATCH} stable, ${PSI_WATCH}–${PSI_RETRAIN} watch, above ${PSI_RETRAIN} retrain.`;
  if (retrain.length) return `${rule} Moved past ${PSI_RETRAIN}: ${list(retrain)}; the segments may no longer describe these customers: fit the model again.${watch.length ? ` To watch: ${list(watch)}.` : ""}`;
  if (watch.length) return `${rule} To watch: ${list(watch)}; no refit needed yet.`;
  return `${rule} Every column is stable: the model still fits this data.`;
}

/**
 * The Over time section of a run given a previous one (cluster --previous): the migration from
 * the previous segments of this run's customers to their new segments, and, when the previous
 * run is a model file that records its training distribution, the drift of this data from it.
 * The previous segment of a customer is the previous run's assignment when it has them (a
 * segments file), else the previous model's prediction on this data. Null when neither can be
 * had (no common customer, or a model whose columns this data lacks: `notes` then says why).
 */
export function overTimeFromPrevious(
  previous: PreviousRun & { model?: LoadedModelFile | null }, result: SegmentationResult, data: Dataset, notes: string[] = [],
): OverTimeSection | null {
  const ids = result.ids ?? Array.from({ length: result.labels.length }, (_, i) => String(i));
  const newId = (l: number) => (l < 0 ? l : result.segmentIds?.[l] ?? l);
  const newName = (l: number) => (l < 0 ? result.noise?.name ?? "Outliers" : result.segments[l]?.name ?? `Segment ${l}`);
  const after = Array.from(result.labels, (l, i) => ({ id: ids[i], segment: newId(l), name: newName(l) }));
  const prevName = new Map(previous.segments.map((s) => [s.id, s.name]));
  let before: { id: string; segment: number; name: string }[] | null = null;
  let psi: DriftReport | null = null;
  const m = previous.model ?? null;
  let predicted: ReturnType<typeof predictWithModel> | null = null;
  if (m) {
    try {
      predicted = predictWithModel(m, data);
    } catch (e) {
      notes.push(`the previous model ${previous.source} cannot score this data (${(e as Error).message}): no migration or drift from it`);
    }
  }
  if (previous.assignments && previous.assignments.size) {
    before = [];
    for (const [id, seg] of previous.assignments) before.push({ id, segment: seg, name: seg < 0 ? "Outliers" : prevName.get(seg) ?? `Segment ${seg}` });
  } else if (m && predicted) {
    const mids = modelSegmentIds(m);
    const p = predicted;
    before = Array.from(p.labels, (l, i) => ({ id: ids[i], segment: l < 0 ? l : mids[l], name: l < 0 ? p.noiseName ?? "Outliers" : p.names[l] }));
  }
  if (m && predicted && m.file.distribution) psi = driftReport(m, data, { labels: predicted.labels, names: predicted.names, noiseName: predicted.noiseName });
  let migration: OverTimeMigration | undefined;
  if (before && before.length) {
    try {
      const c = compareAssignments(before, after, { labels: { before: previous.source, after: "this run" } });
      migration = { matrix: c.matrix, before: "previous", after: "this run", onlyBefore: c.onlyBefore, onlyAfter: c.onlyAfter };
    } catch (e) {
      notes.push(`no migration from ${previous.source}: ${(e as Error).message}`);
    }
  }
  if (!migration && !psi) return null;
  const out = overTimeSection({ ...(migration ? { migration } : {}), ...(psi ? { psi } : {}) });
  out.section.blocks.unshift({
    type: "text",
    text: `Compared with the previous run ${previous.source}: ${before && previous.assignments?.size ? "its assignments of the customers" : "its model's segments of this run's customers"}`
      + `${psi ? " and the distribution of its training data" : ""}. Segments that matched keep their ids and names (see the run's stable ids).`,
  });
  return out;
}
