/**
 * Segments over time as Vega-Lite specifications (pure functions, segment names on the axes
 * and legends, the colours of theme.ts):
 *
 * - segmentSizesOverTimeChart: the customers of each segment at each date (stacked areas, or
 *   lines with `stacked: false`);
 * - segmentFlowChart: an alluvial (Sankey) diagram of the customers' moves between two
 *   snapshots. Vega-Lite has no sankey mark, so the layout is computed here: one column of
 *   stacked bars (rect marks) per snapshot and one band (an area mark between a lower and an
 *   upper edge, sampled along a smooth S-curve) per flow, as wide as its customers;
 * - migrationHeatmap: the migration matrix (rows: segment before, columns: segment after),
 *   each cell coloured by its share of the row, with its count and share as text;
 * - psiChart: the population stability index per column as bars coloured by their reading,
 *   with the 0.1 and 0.25 thresholds as rules.
 */
import type { TopLevelSpec } from "vega-lite";
import { PSI_RETRAIN, PSI_WATCH, psiReading } from "../metrics/psi.js";
import {
  type BaseChartOptions, type NoiseNameOption, LINE, MARK, NOISE_COLOR, SCHEMA, formatCount, formatShare, noiseDisplayName, round, segmentColor,
} from "./theme.js";

/** One segment's size at one date. */
export interface SegmentSizeAt {
  /** The snapshot date, "YYYY-MM-DD" (or any date Vega parses). */
  date: string;
  /** The segment's label (its colour); −1 for outliers. */
  segment: number;
  /** The segment's name, shown in the legend. */
  name: string;
  customers: number;
}

export interface SizesOverTimeInput extends BaseChartOptions {
  rows: readonly SegmentSizeAt[];
  /** Stacked areas (default) or one line per segment. */
  stacked?: boolean;
}

/** Display names by label: the given name of each label (the first seen), duplicates of a name made distinct. */
function namesByLabel(pairs: Iterable<[number, string | null | undefined]>, noiseName?: string | boolean): Map<number, string> {
  const given = new Map<number, string | null | undefined>();
  for (const [label, name] of pairs) if (!given.has(label) || !given.get(label)) given.set(label, name);
  const out = new Map<number, string>();
  const used = new Set<string>();
  for (const label of [...given.keys()].sort((a, b) => (a < 0 ? 1 : 0) - (b < 0 ? 1 : 0) || a - b)) {
    const g = given.get(label);
    const base = typeof g === "string" && g.trim() !== "" ? g : label < 0 ? noiseDisplayName(noiseName ?? true) : `Segment ${label}`;
    let name = base;
    for (let j = 2; used.has(name); j++) name = `${base} (${j})`;
    used.add(name);
    out.set(label, name);
  }
  return out;
}

function colorScale(names: Map<number, string>): { domain: string[]; range: string[] } {
  return { domain: [...names.values()], range: [...names.keys()].map(segmentColor) };
}

/** The customers of each segment at each date: stacked areas (or lines), segment names in the legend. */
export function segmentSizesOverTimeChart(input: SizesOverTimeInput): TopLevelSpec {
  for (const r of input.rows) {
    if (!(Number.isFinite(r.customers) && r.customers >= 0)) throw new RangeError(`customers must be counts ≥ 0, got ${r.customers} (${r.name}, ${r.date})`);
  }
  const names = namesByLabel(input.rows.map((r) => [r.segment, r.name]));
  const order = [...names.keys()];
  const dates = [...new Set(input.rows.map((r) => r.date))].sort();
  // A segment absent at a date has 0 customers there (so that the stack does not jump).
  const at = new Map<string, number>();
  for (const r of input.rows) at.set(`${r.date}\u0000${r.segment}`, (at.get(`${r.date}\u0000${r.segment}`) ?? 0) + r.customers);
  const rows = dates.flatMap((date) => {
    const total = order.reduce((s, l) => s + (at.get(`${date}\u0000${l}`) ?? 0), 0);
    return order.map((l, i) => {
      const customers = at.get(`${date}\u0000${l}`) ?? 0;
      return { date, segment: names.get(l)!, order: i, customers, share: total > 0 ? customers / total : 0 };
    });
  });
  const stacked = input.stacked ?? true;
  const k = order.length;
  // One tick per snapshot (at most 12, evenly spaced), as months when every date is a 1st.
  const monthly = dates.every((d) => /^\d{4}-\d{2}-01/.test(d));
  const step = Math.max(1, Math.ceil(dates.length / 12));
  const ticks = dates.filter((_, i) => i % step === 0).map((d) => Date.parse(d)).filter((t) => Number.isFinite(t));
  const description = input.description ?? `${stacked ? "Stacked area" : "Line"} chart of the customers of ${k} segment${k === 1 ? "" : "s"} at ${dates.length} date${dates.length === 1 ? "" : "s"} from ${dates[0] ?? "–"} to ${dates[dates.length - 1] ?? "–"}.`;
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Segment sizes over time", subtitle: `${k} segment${k === 1 ? "" : "s"}, ${dates.length} snapshot${dates.length === 1 ? "" : "s"}` },
    width: input.width ?? 520,
    height: input.height ?? 260,
    data: { values: rows },
    mark: stacked ? { type: "area", line: { strokeWidth: 0.5 }, opacity: 0.85 } : { type: "line", point: true },
    encoding: {
      x: { field: "date", type: "temporal", title: null, scale: { type: "utc" }, axis: { format: monthly ? "%b %Y" : "%Y-%m-%d", labelAngle: 0, values: ticks, labelOverlap: true } },
      y: { field: "customers", type: "quantitative", title: "customers", ...(stacked ? { stack: "zero" } : {}), axis: { format: ",~f" } },
      color: { field: "segment", type: "nominal", title: "segment", scale: colorScale(names), legend: { labelLimit: 220 } },
      order: { field: "order", type: "quantitative" },
      tooltip: [
        { field: "date", type: "temporal", format: "%Y-%m-%d" },
        { field: "segment", type: "nominal" },
        { field: "customers", type: "quantitative", format: "," },
        { field: "share", type: "quantitative", format: ".1%" },
      ],
    },
  } as TopLevelSpec;
}

/** Customers who moved from one segment to another between two snapshots. */
export interface Flow {
  /** The segment before (−1: outliers; null: not a customer yet). */
  from: number | null;
  /** The segment after (−1: outliers; null: gone). */
  to: number | null;
  customers: number;
}

export interface FlowChartInput extends BaseChartOptions, NoiseNameOption {
  flows: readonly Flow[];
  /** Segment names by label, before and after (the same names when the segments keep their ids). */
  names?: readonly (string | null | undefined)[];
  /** Names after, when they differ from `names`. */
  afterNames?: readonly (string | null | undefined)[];
  /** The two snapshots' labels (default "before", "after"). */
  before?: string;
  after?: string;
}

const NEW_KEY = -1000;
const GONE_KEY = -1001;
const LIMBO_COLOR = "#d9d9d9";

function flowKey(l: number | null, side: "from" | "to"): number {
  return l === null ? (side === "from" ? NEW_KEY : GONE_KEY) : l;
}

/**
 * The alluvial diagram of the flows between two snapshots: the segments before on the left
 * and after on the right, each a bar as tall as its customers; a band from each segment
 * before to each segment after, as wide as the customers who made that move, coloured by the
 * segment before. Stayers run straight across. Customers new at the second snapshot
 * (from null) and gone from it (to null) are grey.
 */
export function segmentFlowChart(input: FlowChartInput): TopLevelSpec {
  const flows = input.flows.filter((f) => f.customers > 0);
  for (const f of input.flows) if (!(Number.isFinite(f.customers) && f.customers >= 0)) throw new RangeError(`flows must count customers ≥ 0, got ${f.customers}`);
  const label = (key: number, side: "from" | "to"): string => {
    if (key === NEW_KEY) return "new customers";
    if (key === GONE_KEY) return "gone";
    if (key < 0) return noiseDisplayName(input.noiseName ?? true);
    const names = side === "to" && input.afterNames ? input.afterNames : input.names;
    const n = names?.[key];
    return typeof n === "string" && n.trim() !== "" ? n : `Segment ${key}`;
  };
  const color = (key: number): string => (key === NEW_KEY || key === GONE_KEY ? LIMBO_COLOR : segmentColor(key));
  const sortKeys = (a: number, b: number): number => {
    const rank = (k: number) => (k === NEW_KEY || k === GONE_KEY ? 2 : k < 0 ? 1 : 0);
    return rank(a) - rank(b) || a - b;
  };
  const total = flows.reduce((s, f) => s + f.customers, 0);
  const leftKeys = [...new Set(flows.map((f) => flowKey(f.from, "from")))].sort(sortKeys);
  const rightKeys = [...new Set(flows.map((f) => flowKey(f.to, "to")))].sort(sortKeys);
  // Gaps between the bars: 3 % of the customers each.
  const gap = total * 0.03;
  const place = (keys: number[], side: "from" | "to"): Map<number, { y0: number; y1: number; size: number }> => {
    const out = new Map<number, { y0: number; y1: number; size: number }>();
    let y = 0;
    for (const key of keys) {
      const size = flows.filter((f) => flowKey(side === "from" ? f.from : f.to, side) === key).reduce((s, f) => s + f.customers, 0);
      out.set(key, { y0: y, y1: y + size, size });
      y += size + gap;
    }
    return out;
  };
  const left = place(leftKeys, "from");
  const right = place(rightKeys, "to");
  const height = Math.max(...[...left.values(), ...right.values()].map((n) => n.y1), 1);
  // Each band's slice of its two bars: at the left ordered by destination, at the right by origin, so bands do not cross inside a bar.
  const leftOffset = new Map(leftKeys.map((k) => [k, left.get(k)!.y0]));
  const rightOffset = new Map(rightKeys.map((k) => [k, right.get(k)!.y0]));
  const ordered = [...flows].sort((a, b) => sortKeys(flowKey(a.from, "from"), flowKey(b.from, "from")) || sortKeys(flowKey(a.to, "to"), flowKey(b.to, "to")));
  const bandSlices = new Map<Flow, { l0: number; r0: number }>();
  for (const f of ordered) {
    const lk = flowKey(f.from, "from");
    bandSlices.set(f, { l0: leftOffset.get(lk)!, r0: 0 });
    leftOffset.set(lk, leftOffset.get(lk)! + f.customers);
  }
  const byRight = [...flows].sort((a, b) => sortKeys(flowKey(a.to, "to"), flowKey(b.to, "to")) || sortKeys(flowKey(a.from, "from"), flowKey(b.from, "from")));
  for (const f of byRight) {
    const rk = flowKey(f.to, "to");
    bandSlices.get(f)!.r0 = rightOffset.get(rk)!;
    rightOffset.set(rk, rightOffset.get(rk)! + f.customers);
  }
  const STEPS = 24;
  const bands: Record<string, unknown>[] = [];
  ordered.forEach((f, i) => {
    const s = bandSlices.get(f)!;
    const from = label(flowKey(f.from, "from"), "from");
    const to = label(flowKey(f.to, "to"), "to");
    const fromSize = left.get(flowKey(f.from, "from"))!.size;
    for (let t = 0; t <= STEPS; t++) {
      const x = t / STEPS;
      const ease = (1 - Math.cos(Math.PI * x)) / 2;
      const y0 = s.l0 + (s.r0 - s.l0) * ease;
      bands.push({
        band: i, x: round(x, 4), y0: round(y0), y1: round(y0 + f.customers), from, to, customers: f.customers,
        share: fromSize > 0 ? f.customers / fromSize : 0,
        colorKey: from,
      });
    }
  });
  const nodeRows = (nodes: Map<number, { y0: number; y1: number; size: number }>, side: "from" | "to") => [...nodes.entries()].map(([key, n]) => ({
    name: label(key, side), side, x0: side === "from" ? -0.05 : 1, x1: side === "from" ? 0 : 1.05, y0: n.y0, y1: n.y1, mid: (n.y0 + n.y1) / 2,
    customers: n.size, share: total > 0 ? n.size / total : 0, text: `${label(key, side)}  ${formatCount(n.size)}`,
  }));
  const nodes = [...nodeRows(left, "from"), ...nodeRows(right, "to")];
  // One colour per name (left names colour the bands).
  const domain: string[] = [];
  const range: string[] = [];
  for (const [keys, side] of [[leftKeys, "from"], [rightKeys, "to"]] as const) {
    for (const key of keys) {
      const n = label(key, side);
      if (!domain.includes(n)) {
        domain.push(n);
        range.push(color(key));
      }
    }
  }
  const scaleColor = { domain, range };
  const both = flows.filter((f) => f.from !== null && f.to !== null);
  const common = both.reduce((s, f) => s + f.customers, 0);
  const moved = both.filter((f) => f.from !== f.to).reduce((s, f) => s + f.customers, 0);
  const inBoth = common === total ? `${formatCount(total)} customers` : `the ${formatCount(common)} customers in both`;
  const before = input.before ?? "before";
  const after = input.after ?? "after";
  const description = input.description ?? `Alluvial diagram of ${formatCount(total)} customers from ${before} (left) to ${after} (right): `
    + `${formatCount(moved)} of ${inBoth} (${formatShare(common > 0 ? moved / common : 0)}) changed segment. `
    + ordered.filter((f) => f.from !== f.to).sort((a, b) => b.customers - a.customers).slice(0, 5)
      .map((f) => `${formatCount(f.customers)} from ${label(flowKey(f.from, "from"), "from")} to ${label(flowKey(f.to, "to"), "to")}`).join("; ") + ".";
  const xScale = { domain: [-0.5, 1.5], nice: false, zero: false };
  const yScale = { domain: [0, height], reverse: true, nice: false, zero: true };
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Moves between segments", subtitle: `${before} → ${after}: ${formatCount(moved)} of ${inBoth} changed segment` },
    width: input.width ?? 560,
    height: input.height ?? Math.max(240, 22 * Math.max(leftKeys.length, rightKeys.length) + 80),
    config: { view: { stroke: null } },
    layer: [
      {
        data: { values: bands },
        mark: { type: "area", opacity: 0.45, interpolate: "monotone" },
        encoding: {
          x: { field: "x", type: "quantitative", scale: xScale, axis: null },
          y: { field: "y0", type: "quantitative", scale: yScale, axis: null },
          y2: { field: "y1" },
          detail: { field: "band", type: "nominal" },
          color: { field: "colorKey", type: "nominal", scale: scaleColor, legend: null },
          tooltip: [
            { field: "from", type: "nominal", title: before },
            { field: "to", type: "nominal", title: after },
            { field: "customers", type: "quantitative", format: "," },
            { field: "share", type: "quantitative", format: ".1%", title: `share of the ${before} segment` },
          ],
        },
      },
      {
        data: { values: nodes },
        layer: [
          {
            mark: { type: "rect", stroke: "white", strokeWidth: 0.5 },
            encoding: {
              x: { field: "x0", type: "quantitative", scale: xScale, axis: null },
              x2: { field: "x1" },
              y: { field: "y0", type: "quantitative", scale: yScale, axis: null },
              y2: { field: "y1" },
              color: { field: "name", type: "nominal", scale: scaleColor, legend: null },
              tooltip: [
                { field: "name", type: "nominal", title: "segment" },
                { field: "side", type: "nominal", title: "snapshot" },
                { field: "customers", type: "quantitative", format: "," },
                { field: "share", type: "quantitative", format: ".1%" },
              ],
            },
          },
          {
            transform: [{ filter: "datum.side === 'from'" }],
            mark: { type: "text", align: "right", baseline: "middle", dx: -4, fontSize: 11 },
            encoding: {
              x: { field: "x0", type: "quantitative", scale: xScale },
              y: { field: "mid", type: "quantitative", scale: yScale },
              text: { field: "text" },
            },
          },
          {
            transform: [{ filter: "datum.side === 'to'" }],
            mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 11 },
            encoding: {
              x: { field: "x1", type: "quantitative", scale: xScale },
              y: { field: "mid", type: "quantitative", scale: yScale },
              text: { field: "text" },
            },
          },
        ],
      },
      {
        data: { values: [{ x: -0.025, text: before }, { x: 1.025, text: after }] },
        mark: { type: "text", baseline: "bottom", dy: -6, fontWeight: "bold", fontSize: 12 },
        encoding: {
          x: { field: "x", type: "quantitative", scale: xScale },
          y: { datum: 0, type: "quantitative", scale: yScale },
          text: { field: "text" },
        },
      },
    ],
  } as TopLevelSpec;
}

export interface MigrationInput extends BaseChartOptions, NoiseNameOption {
  /** counts[i][j]: customers in segment `before[i]` then in segment `after[j]`. */
  counts: readonly (readonly number[])[];
  /** The segments of the rows and of the columns (labels; −1 outliers). */
  beforeLabels: readonly number[];
  afterLabels: readonly number[];
  /** Segment names by label, before and after. */
  names?: readonly (string | null | undefined)[];
  afterNames?: readonly (string | null | undefined)[];
  /** The two snapshots' labels (default "before", "after"). */
  before?: string;
  after?: string;
}

/**
 * The migration matrix as a heatmap: one row per segment before, one column per segment after,
 * each cell coloured by its share of its row and labelled "count" and "(share)"; the diagonal
 * (stayers, when the segments keep their ids) reads as the strong cells.
 */
export function migrationHeatmap(input: MigrationInput): TopLevelSpec {
  const { counts, beforeLabels, afterLabels } = input;
  if (counts.length !== beforeLabels.length) throw new RangeError(`counts has ${counts.length} rows for ${beforeLabels.length} segments before`);
  for (const row of counts) {
    if (row.length !== afterLabels.length) throw new RangeError(`a row of counts has ${row.length} values for ${afterLabels.length} segments after`);
    for (const c of row) if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`counts must be ≥ 0, got ${c}`);
  }
  const nameOf = (names: readonly (string | null | undefined)[] | undefined, l: number) => {
    if (l < 0) return noiseDisplayName(input.noiseName ?? true);
    const n = names?.[l];
    return typeof n === "string" && n.trim() !== "" ? n : `Segment ${l}`;
  };
  const distinct = (labels: readonly number[], names: readonly (string | null | undefined)[] | undefined): string[] => {
    const used = new Set<string>();
    return labels.map((l) => {
      const base = nameOf(names, l);
      let n = base;
      for (let j = 2; used.has(n); j++) n = `${base} (${j})`;
      used.add(n);
      return n;
    });
  };
  const rowNames = distinct(beforeLabels, input.names);
  const colNames = distinct(afterLabels, input.afterNames ?? input.names);
  const total = counts.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
  const cells = counts.flatMap((row, i) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    return row.map((c, j) => {
      const share = rowTotal > 0 ? c / rowTotal : 0;
      return {
        before: rowNames[i], after: colNames[j], customers: c, share: round(share, 6) ?? 0, ofAll: total > 0 ? round(c / total, 6) : 0,
        count: formatCount(c), shareText: c > 0 ? `(${formatShare(share)})` : "",
      };
    });
  });
  const before = input.before ?? "before";
  const after = input.after ?? "after";
  const stay = beforeLabels.reduce((s, l, i) => {
    const j = afterLabels.indexOf(l);
    return s + (j >= 0 ? counts[i][j] : 0);
  }, 0);
  const description = input.description ?? `Heatmap of the migration matrix of ${formatCount(total)} customers, ${rowNames.length} segments ${before} (rows) by ${colNames.length} ${after} (columns); `
    + `${formatCount(stay)} (${formatShare(total > 0 ? stay / total : 0)}) stayed in a segment of the same id.`;
  const cellW = Math.max(56, Math.min(110, 520 / Math.max(1, colNames.length)));
  const textColor = { condition: { test: "datum.share > 0.55", value: "white" }, value: "#222" };
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Migration matrix", subtitle: `rows: segment ${before}; columns: segment ${after}; colour: share of the row` },
    width: input.width ?? cellW * colNames.length,
    height: input.height ?? 40 * rowNames.length,
    data: { values: cells },
    encoding: {
      x: { field: "after", type: "nominal", title: after, sort: colNames, axis: { orient: "top", labelAngle: -30, labelLimit: 160 } },
      y: { field: "before", type: "nominal", title: before, sort: rowNames, axis: { labelLimit: 200 } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          color: { field: "share", type: "quantitative", title: "share of row", scale: { scheme: "blues", domain: [0, 1] }, legend: { format: ".0%" } },
          tooltip: [
            { field: "before", type: "nominal", title: before },
            { field: "after", type: "nominal", title: after },
            { field: "customers", type: "quantitative", format: "," },
            { field: "share", type: "quantitative", format: ".1%", title: "share of the row" },
            { field: "ofAll", type: "quantitative", format: ".1%", title: "share of all" },
          ],
        },
      },
      { mark: { type: "text", baseline: "bottom", dy: 1, fontSize: 11 }, encoding: { text: { field: "count" }, color: textColor } },
      { mark: { type: "text", baseline: "top", dy: 3, fontSize: 9 }, encoding: { text: { field: "shareText" }, color: textColor } },
    ],
  } as TopLevelSpec;
}

/** One column's PSI. */
export interface PsiRow {
  feature: string;
  psi: number;
}

export interface PsiChartInput extends BaseChartOptions {
  rows: readonly PsiRow[];
}

const READING_COLORS = { stable: "#54a24b", watch: "#f58518", retrain: MARK } as const;

/**
 * The PSI of each column as horizontal bars, largest first, coloured by its reading (stable,
 * watch, retrain), with the 0.1 and 0.25 thresholds as dashed rules.
 */
export function psiChart(input: PsiChartInput): TopLevelSpec {
  const rows = input.rows.filter((r) => Number.isFinite(r.psi)).map((r) => ({ feature: r.feature, psi: round(r.psi, 4) ?? 0, reading: psiReading(r.psi), text: r.psi.toFixed(3) }))
    .sort((a, b) => b.psi - a.psi);
  const order = rows.map((r) => r.feature);
  const max = Math.max(PSI_RETRAIN * 1.4, ...rows.map((r) => r.psi)) * 1.15;
  const retrain = rows.filter((r) => r.reading === "retrain").map((r) => r.feature);
  const watch = rows.filter((r) => r.reading === "watch").map((r) => r.feature);
  const description = input.description ?? `Bar chart of the population stability index of ${rows.length} columns: `
    + rows.map((r) => `${r.feature} ${r.text} (${r.reading})`).join(", ") + ".";
  return {
    $schema: SCHEMA,
    description,
    title: {
      text: input.title ?? "Drift from the training data (PSI)",
      subtitle: retrain.length ? `retrain: ${retrain.join(", ")}` : watch.length ? `watch: ${watch.join(", ")}` : "every column stable",
    },
    width: input.width ?? 420,
    height: input.height ?? Math.max(60, 22 * rows.length),
    layer: [
      {
        data: { values: rows },
        encoding: {
          y: { field: "feature", type: "nominal", title: null, sort: order, axis: { labelLimit: 200 } },
          x: { field: "psi", type: "quantitative", title: "population stability index", scale: { domain: [0, max], nice: false } },
        },
        layer: [
          {
            mark: { type: "bar", height: { band: 0.7 } },
            encoding: {
              color: {
                field: "reading", type: "nominal", title: "reading",
                scale: { domain: ["stable", "watch", "retrain"], range: [READING_COLORS.stable, READING_COLORS.watch, READING_COLORS.retrain] },
              },
              tooltip: [{ field: "feature", type: "nominal", title: "column" }, { field: "psi", type: "quantitative", format: ".3f", title: "PSI" }, { field: "reading", type: "nominal" }],
            },
          },
          { mark: { type: "text", align: "left", baseline: "middle", dx: 3, fontSize: 10 }, encoding: { text: { field: "text" } } },
        ],
      },
      {
        data: { values: [{ at: PSI_WATCH, label: `watch ${PSI_WATCH}` }, { at: PSI_RETRAIN, label: `retrain ${PSI_RETRAIN}` }] },
        layer: [
          { mark: { type: "rule", strokeDash: [4, 3], color: "#555" }, encoding: { x: { field: "at", type: "quantitative" } } },
          {
            mark: { type: "text", align: "center", baseline: "bottom", dy: -2, fontSize: 9, color: "#555" },
            encoding: { x: { field: "at", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** The colours used, for tests and legends elsewhere. */
export const OVER_TIME_COLORS = { reading: READING_COLORS, limbo: LIMBO_COLOR, noise: NOISE_COLOR, line: LINE } as const;
