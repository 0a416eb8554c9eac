/**
 * Two assignments of the same customers compared (two runs, two dates): the migration matrix
 * (counts, and shares by row: where each "before" segment's customers went), the flows
 * between segments largest first, the agreement of the two (adjusted Rand index and
 * normalised mutual information, scikit-learn's, on the customers in both), the customers in
 * one only, the changes in the one changes format (pipeline/changes.ts) and a paragraph that
 * says it in segment names.
 *
 * Outliers (−1) are a row and a column of their own, like a segment. A segment is the same on
 * both sides only when its number and its name agree: two unrelated runs (DBSCAN and K-Means,
 * two fits without --previous) may give number 0 to different segments; then its customers are
 * movers, and `warnings` says that the two sides' ids are not stable. Isomorphic.
 */
import { InputError } from "../core/errors.js";
import { adjustedRandScore, normalizedMutualInfoScore } from "../metrics/external.js";
import { type SegmentChange, type SegmentMember, segmentChanges } from "./changes.js";

export interface CompareOptions {
  /** How the two sides are named in messages (file paths). */
  labels?: { before: string; after: string };
  /** The date of the after assignment, for the changes (ISO date), or null. */
  date?: string | null;
  /** What is at stake per customer (monetary value, say): added to the changes and summed per flow. */
  value?: ReadonlyMap<string, number>;
  /** Flows named in the summary (default 3). */
  summaryFlows?: number;
}

export interface SideSummary {
  customers: number;
  segments: { segment: number; name: string; size: number }[];
}

export interface MigrationMatrix {
  /** Segment numbers of the rows (before) and columns (after), increasing (−1 first when present). */
  rows: number[];
  cols: number[];
  rowNames: string[];
  colNames: string[];
  /** counts[i][j]: customers in before segment rows[i] and after segment cols[j] (customers in both only). */
  counts: number[][];
  /** shares[i][j] = counts[i][j] / (row i's total): where the customers of each before segment went. */
  shares: number[][];
}

export interface Flow {
  from: number;
  fromName: string;
  to: number;
  toName: string;
  count: number;
  /** The share of the before segment's (common) customers. */
  share: number;
  /** The summed value at stake of the customers of the flow (with CompareOptions.value; null when none is known). */
  value?: number | null;
}

export interface Comparison {
  before: SideSummary;
  after: SideSummary;
  /** Customers in both, in one only. */
  common: number;
  onlyBefore: number;
  onlyAfter: number;
  /** Customers in both whose segment (number and name) is the same, and different. */
  stayed: number;
  moved: number;
  matrix: MigrationMatrix;
  /** Moves between different segments, largest first (ties: by before, then after segment). */
  flows: Flow[];
  /** Adjusted Rand index and normalised mutual information (arithmetic mean) of the two labellings of the common customers; NaN with fewer than 2 of them. */
  adjustedRand: number;
  nmi: number;
  /** Every change: the movers, then the customers new in after and those gone from it (see pipeline/changes.ts). */
  changes: SegmentChange[];
  /** One paragraph in segment names. */
  summary: string;
  /** Segment numbers named differently on the two sides (the ids are not stable), in words; empty when none. */
  warnings: string[];
}

/**
 * Compares two assignments of customers to segments. Each side needs each id once (the
 * message names the side); the two need at least one customer in common.
 */
export function compareAssignments(before: readonly SegmentMember[], after: readonly SegmentMember[], options: CompareOptions = {}): Comparison {
  const labels = options.labels ?? { before: "before", after: "after" };
  // segmentChanges refuses an id twice on a side, naming it.
  const changes = segmentChanges(before, after, options.date ?? null, options.value, labels, true);
  const prev = new Map(before.map((m) => [m.id, m]));
  const a: number[] = [];
  const b: number[] = [];
  const commonIds: string[] = [];
  for (const m of after) {
    const p = prev.get(m.id);
    if (!p) continue;
    a.push(p.segment);
    b.push(m.segment);
    commonIds.push(m.id);
  }
  const common = a.length;
  if (common === 0) {
    throw new InputError(
      `${labels.before} and ${labels.after} have no customer in common (${before.length} and ${after.length} ids, none shared); ` +
        "compare two segmentations of the same customers, and check that --id names the same id column in both",
    );
  }
  const beforeSide = side(before);
  const afterSide = side(after);
  const rowNames = nameMap(before);
  const colNames = nameMap(after);
  // A number on both sides under two names is two segments: not "the same".
  const renamed = [...rowNames].filter(([s, name]) => colNames.has(s) && colNames.get(s) !== name).map(([s]) => s).sort((x, y) => x - y);
  const same = (r: number, c: number) => r === c && !renamed.includes(r);
  const rows = [...new Set(a)].sort((x, y) => x - y);
  const cols = [...new Set(b)].sort((x, y) => x - y);
  const ri = new Map(rows.map((r, i) => [r, i]));
  const ci = new Map(cols.map((c, j) => [c, j]));
  const counts = rows.map(() => new Array<number>(cols.length).fill(0));
  const values = rows.map(() => new Array<number>(cols.length).fill(0));
  const valued = rows.map(() => new Array<boolean>(cols.length).fill(false));
  let stayed = 0;
  for (let x = 0; x < common; x++) {
    const i = ri.get(a[x])!;
    const j = ci.get(b[x])!;
    counts[i][j]++;
    if (same(a[x], b[x])) stayed++;
    const v = options.value?.get(commonIds[x]);
    if (v !== undefined && Number.isFinite(v)) {
      values[i][j] += v;
      valued[i][j] = true;
    }
  }
  const rowTotals = counts.map((r) => r.reduce((s, c) => s + c, 0));
  const shares = counts.map((r, i) => r.map((c) => c / rowTotals[i]));
  const flows: Flow[] = [];
  rows.forEach((r, i) => cols.forEach((c, j) => {
    if (same(r, c) || counts[i][j] === 0) return;
    const f: Flow = { from: r, fromName: rowNames.get(r)!, to: c, toName: colNames.get(c)!, count: counts[i][j], share: shares[i][j] };
    if (options.value) f.value = valued[i][j] ? values[i][j] : null;
    flows.push(f);
  }));
  flows.sort((x, y) => y.count - x.count || x.from - y.from || x.to - y.to);
  const two = common >= 2;
  const comparison: Comparison = {
    before: beforeSide,
    after: afterSide,
    common,
    onlyBefore: prev.size - common,
    onlyAfter: after.length - common,
    stayed,
    moved: common - stayed,
    matrix: { rows, cols, rowNames: rows.map((r) => rowNames.get(r)!), colNames: cols.map((c) => colNames.get(c)!), counts, shares },
    flows,
    adjustedRand: two ? adjustedRandScore(a, b) : NaN,
    nmi: two ? normalizedMutualInfoScore(a, b) : NaN,
    changes,
    summary: "",
    warnings: renamed.length ? [unstableWarning(renamed, rowNames, colNames, labels)] : [],
  };
  comparison.summary = summarise(comparison, options.summaryFlows ?? 3);
  return comparison;
}

/** The warning of segment numbers named differently on the two sides. */
function unstableWarning(renamed: number[], rowNames: Map<number, string>, colNames: Map<number, string>, labels: { before: string; after: string }): string {
  const shown = renamed.slice(0, 3).map((s) => `${s} is "${rowNames.get(s)}" in ${labels.before} and "${colNames.get(s)}" in ${labels.after}`);
  const more = renamed.length > shown.length ? ` and ${renamed.length - shown.length} more` : "";
  return `the segment ids of the two are not stable: ${shown.join("; ")}${more}; ` +
    `a segment is taken as the same only when its number and name agree, so these customers count as movers; ` +
    `to keep segment ids from one run to the next, fit the later one with cluster --previous (the earlier model or segments file)`;
}

function side(members: readonly SegmentMember[]): SideSummary {
  const sizes = new Map<number, number>();
  for (const m of members) sizes.set(m.segment, (sizes.get(m.segment) ?? 0) + 1);
  const names = nameMap(members);
  return {
    customers: members.length,
    segments: [...sizes.keys()].sort((x, y) => x - y).map((s) => ({ segment: s, name: names.get(s)!, size: sizes.get(s)! })),
  };
}

/** Each segment number's name: the first name given to it on that side. */
function nameMap(members: readonly SegmentMember[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const m of members) if (!names.has(m.segment)) names.set(m.segment, m.name);
  return names;
}

const count = (n: number): string => n.toLocaleString("en-US");
const percent = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;

/** "Of 1,000 customers in both, 850 (85 %) kept their segment. 312 Champions (18 %) became At Risk; …" */
function summarise(c: Comparison, nFlows: number): string {
  const parts: string[] = [];
  parts.push(`Of ${count(c.common)} ${c.common === 1 ? "customer" : "customers"} in both, ${count(c.stayed)} (${percent(c.stayed / c.common)}) kept their segment and ${count(c.moved)} moved.`);
  const top = c.flows.slice(0, nFlows);
  if (top.length) {
    const said = top.map((f) => `${count(f.count)} ${f.fromName} (${percent(f.share)}) became ${f.toName}` +
      (f.value !== undefined && f.value !== null ? ` (value ${count(Math.round(f.value))})` : ""));
    parts.push(`${c.flows.length > nFlows ? "The largest flows: " : ""}${said.join("; ")}.`);
  }
  if (c.onlyAfter || c.onlyBefore) {
    parts.push(`${count(c.onlyAfter)} ${c.onlyAfter === 1 ? "customer is" : "customers are"} new and ${count(c.onlyBefore)} ${c.onlyBefore === 1 ? "is" : "are"} gone.`);
  }
  if (Number.isFinite(c.adjustedRand)) {
    parts.push(`Agreement of the two segmentations: adjusted Rand ${c.adjustedRand.toFixed(3)}, NMI ${c.nmi.toFixed(3)} (1 is identical).`);
  }
  return parts.join(" ");
}
