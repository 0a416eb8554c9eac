/**
 * Drift between the data a model was fitted on and new data: the population stability index
 * (src/metrics/psi.ts) of every input column and of the segment shares.
 *
 * At fit time, buildModelFile records the training distribution of every input column of the
 * model (`ModelFile.distribution`, made by trainingDistribution):
 * - numeric and datetime columns: the inner edges of up to 10 quantile bins of the training
 *   values and the training count in each bin, then in the missing-values bin; boolean columns:
 *   false, true and missing;
 * - categorical columns: the training count of each category (the TOP_CATEGORIES most frequent;
 *   rarer ones are counted as "other"), then of other categories (0 at training unless some
 *   were folded in), then of missing values.
 * The segment shares need nothing new: the model file already holds the training size of each
 * segment (`training.sizes`, and `noise.size` for density models).
 *
 * driftReport bins new data the same way and gives, per column and for the segments, the PSI,
 * its reading (< 0.1 stable, 0.1–0.25 watch, > 0.25 retrain) and the bins that moved most.
 * A model file written before the distribution was recorded has none: driftReport returns null
 * (drift then asks for a refit; predict skips the check).
 *
 * For models fitted on a transaction log's features (cluster --transactions), the columns are
 * those features: the caller computes them from the new log as predict does, then calls this.
 *
 * Isomorphic: no Node imports.
 */
import { type Dataset, isNumericKind } from "../core/dataset.js";
import {
  PSI_BINS, PSI_RETRAIN, PSI_WATCH, type PsiReading, binCounts, categoryCounts, formatEdge, numericBinLabel, psiReading, psiTerm, quantileEdges, shares,
} from "../metrics/psi.js";
import type { LoadedModelFile, ModelFile } from "./model.js";

/** The format version of ModelFile.distribution. */
export const DISTRIBUTION_VERSION = 1;
/** The most categories of one column recorded by name; rarer ones are counted as "other". */
export const TOP_CATEGORIES = 50;

/** A numeric (or boolean, or datetime) column's training bins. */
export interface NumericDistribution {
  name: string;
  kind: "numeric" | "boolean" | "datetime";
  /** The inner edges of the quantile bins, increasing (empty: one bin holds every value). */
  edges: number[];
  /** The training rows in each bin (edges.length + 1 of them), then the missing values. */
  counts: number[];
}

/** A categorical column's training bins. */
export interface CategoricalDistribution {
  name: string;
  kind: "categorical";
  /** The recorded categories, most frequent first. */
  categories: string[];
  /** The training rows of each category, then of any other category, then missing values. */
  counts: number[];
}

export type FeatureDistribution = NumericDistribution | CategoricalDistribution;

/** What a model file records of its training data for drift checks. */
export interface TrainingDistribution {
  version: typeof DISTRIBUTION_VERSION;
  /** The training rows binned. */
  rows: number;
  /** Quantile bins per numeric column (PSI_BINS). */
  bins: number;
  features: FeatureDistribution[];
}

/** The training distribution of the given columns of `data` (the model's input columns). */
export function trainingDistribution(data: Dataset, columns: readonly string[]): TrainingDistribution {
  const features: FeatureDistribution[] = [];
  for (const name of columns) {
    const col = data.columns.find((c) => c.name === name);
    if (!col) continue;
    if (isNumericKind(col.kind)) {
      const values = col.values as Float64Array;
      // Booleans: false (≤ 0) and true.
      const edges = col.kind === "boolean" ? [0] : quantileEdges(values, PSI_BINS);
      features.push({ name, kind: col.kind as NumericDistribution["kind"], edges, counts: Array.from(binCounts(values, edges)) });
    } else if (col.kind === "categorical") {
      const values = col.values as (string | null)[];
      const tally = new Map<string, number>();
      for (const v of values) if (v !== null && v !== "") tally.set(v, (tally.get(v) ?? 0) + 1);
      const categories = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, TOP_CATEGORIES).map((e) => e[0]);
      features.push({ name, kind: "categorical", categories, counts: Array.from(categoryCounts(values, categories)) });
    }
  }
  return { version: DISTRIBUTION_VERSION, rows: data.rows, bins: PSI_BINS, features };
}

/**
 * Checks a parsed ModelFile.distribution: the shapes and numbers drift relies on. `fail`
 * throws with the problem (parseModelFile's, which names the file and the fix).
 */
export function checkDistribution(d: unknown, fail: (problem: string) => never): void {
  const o = d as Partial<TrainingDistribution> | null;
  if (typeof o !== "object" || o === null || Array.isArray(o)) fail(`"distribution" is not an object`);
  if (o!.version !== DISTRIBUTION_VERSION) fail(`distribution.version is ${JSON.stringify(o!.version)}; expected ${DISTRIBUTION_VERSION}`);
  if (!Array.isArray(o!.features)) fail(`distribution.features is not a list`);
  const counts = (c: unknown, n: number, i: number): void => {
    if (!Array.isArray(c) || c.length !== n) fail(`distribution.features[${i}].counts should have ${n} values`);
    for (const x of c as unknown[]) if (typeof x !== "number" || !Number.isInteger(x) || x < 0) fail(`distribution.features[${i}].counts holds ${JSON.stringify(x)}; expected whole numbers of rows`);
  };
  o!.features!.forEach((f, i) => {
    if (typeof f !== "object" || f === null || typeof f.name !== "string") fail(`distribution.features[${i}] has no column name`);
    if (f.kind === "categorical") {
      if (!Array.isArray(f.categories) || f.categories.some((c) => typeof c !== "string")) fail(`distribution.features[${i}].categories is not a list of names`);
      counts(f.counts, f.categories.length + 2, i);
    } else if (f.kind === "numeric" || f.kind === "boolean" || f.kind === "datetime") {
      const e = f.edges as unknown;
      if (!Array.isArray(e) || e.some((x, j) => typeof x !== "number" || !Number.isFinite(x) || (j > 0 && !(x > (e[j - 1] as number))))) {
        fail(`distribution.features[${i}].edges is not an increasing list of numbers`);
      }
      counts(f.counts, (e as number[]).length + 2, i);
    } else {
      fail(`distribution.features[${i}].kind is ${JSON.stringify((f as { kind?: unknown }).kind)}`);
    }
  });
}

/** One bin of a drift table: its label, its training and new shares, its PSI term. */
export interface DriftBin {
  label: string;
  expected: number;
  actual: number;
  /** This bin's part of the PSI: (actual − expected)·ln(actual / expected), ε for empty shares. */
  term: number;
}

/** The drift of one column (or of the segment shares, feature "segments"). */
export interface FeatureDrift {
  feature: string;
  kind: string;
  psi: number;
  reading: PsiReading;
  /** Every bin, in bin order. */
  bins: DriftBin[];
  /** The bins that moved most (largest PSI term first, at most 3, those with a share change ≥ 0.5 point). */
  moved: DriftBin[];
  /** New rows binned (all of them; missing values are a bin). */
  rows: number;
}

export interface DriftReport {
  /** Training rows and new rows. */
  trainingRows: number;
  rows: number;
  /** Every recorded column, in the model's order. */
  features: FeatureDrift[];
  /** The segment shares: training sizes against the segments the model gives the new rows (null when not scored). */
  segments: FeatureDrift | null;
  /** Columns past PSI_RETRAIN, and between PSI_WATCH and PSI_RETRAIN, most drifted first. */
  retrain: string[];
  watch: string[];
}

function featureDriftOf(feature: string, kind: string, expected: ArrayLike<number>, actual: ArrayLike<number>, labels: string[]): FeatureDrift {
  const e = shares(expected);
  const a = shares(actual);
  let ta = 0;
  for (let i = 0; i < actual.length; i++) ta += actual[i];
  const bins: DriftBin[] = labels.map((label, i) => ({ label, expected: e[i], actual: a[i], term: psiTerm(e[i], a[i]) }));
  // Bins empty on both sides add nothing and say nothing: leave them out of the table.
  const shown = bins.filter((b) => b.expected > 0 || b.actual > 0);
  const value = ta > 0 ? shown.reduce((s, b) => s + b.term, 0) : NaN;
  const moved = [...shown].filter((b) => Math.abs(b.actual - b.expected) >= 0.005).sort((x, y) => y.term - x.term).slice(0, 3);
  return { feature, kind, psi: value, reading: Number.isNaN(value) ? "stable" : psiReading(value), bins: shown, moved, rows: ta };
}

/** The drift of each recorded column of `dist` in `data` (columns absent from data are skipped). */
export function featureDrift(dist: TrainingDistribution, data: Dataset): FeatureDrift[] {
  const out: FeatureDrift[] = [];
  for (const f of dist.features) {
    const col = data.columns.find((c) => c.name === f.name);
    if (!col) continue;
    if (f.kind === "categorical") {
      const values = col.kind === "categorical" || col.kind === "id" ? (col.values as (string | null)[]) : Array.from(col.values as Float64Array, (x) => (Number.isNaN(x) ? null : String(x)));
      const labels = [...f.categories, "other", "missing"];
      out.push(featureDriftOf(f.name, f.kind, f.counts, categoryCounts(values, f.categories), labels));
    } else {
      const values = isNumericKind(col.kind) ? (col.values as Float64Array) : Float64Array.from(col.values as (string | null)[], (v) => (v === null || v === "" ? NaN : Number(v)));
      const format = f.kind === "datetime" ? (x: number) => new Date(x).toISOString().slice(0, 10) : formatEdge;
      const labels = f.kind === "boolean" && f.edges.length === 1 && f.edges[0] === 0
        ? ["false", "true", "missing"]
        : Array.from({ length: f.edges.length + 2 }, (_, j) => numericBinLabel(f.edges, j, format));
      out.push(featureDriftOf(f.name, f.kind, f.counts, binCounts(values, f.edges), labels));
    }
  }
  return out;
}

/**
 * The drift of the segment shares: the model's training sizes (and outliers, for density
 * models) against the segments of the new rows (`labels`, −1 for outliers). Null when the
 * model file has no training sizes.
 */
export function segmentDrift(file: ModelFile, names: readonly string[], labels: ArrayLike<number>, noiseName: string | null): FeatureDrift | null {
  const sizes = file.training?.sizes;
  if (!sizes) return null;
  const k = sizes.length;
  const withNoise = noiseName !== null;
  const expected = new Float64Array(k + (withNoise ? 1 : 0));
  sizes.forEach((s, i) => (expected[i] = s));
  if (withNoise) expected[k] = file.noise?.size ?? 0;
  const actual = new Float64Array(expected.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= 0 && l < k) actual[l]++;
    else if (withNoise) actual[k]++;
  }
  const binLabels = [...Array.from({ length: k }, (_, i) => names[i] ?? `Segment ${i}`), ...(withNoise ? [noiseName] : [])];
  return featureDriftOf("segment shares", "segments", expected, actual, binLabels);
}

/**
 * The drift between a model's training data and new data: every recorded column, and the
 * segment shares when the new rows' segments are given. Null when the model file records no
 * training distribution (written before drift checks: fit it again).
 */
export function driftReport(
  m: LoadedModelFile | ModelFile, data: Dataset, scored?: { labels: ArrayLike<number>; names: readonly string[]; noiseName: string | null },
): DriftReport | null {
  const file = "file" in m ? m.file : m;
  const dist = file.distribution;
  if (!dist) return null;
  const features = featureDrift(dist, data);
  const segments = scored ? segmentDrift(file, scored.names, scored.labels, scored.noiseName) : null;
  const ranked = [...features].filter((f) => !Number.isNaN(f.psi)).sort((a, b) => b.psi - a.psi);
  return {
    trainingRows: dist.rows,
    rows: data.rows,
    features,
    segments,
    retrain: ranked.filter((f) => f.psi > PSI_RETRAIN).map((f) => f.feature),
    watch: ranked.filter((f) => f.psi > PSI_WATCH && f.psi <= PSI_RETRAIN).map((f) => f.feature),
  };
}

/** A bin's move, "≤ 12: 10.0% → 25.3%". */
export function describeMove(b: DriftBin): string {
  return `${b.label}: ${pct(b.expected)} → ${pct(b.actual)}`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function listOf(features: FeatureDrift[]): string {
  return features.map((f) => `${f.feature} (PSI ${f.psi.toFixed(3)}${f.moved[0] ? `; ${describeMove(f.moved[0])}` : ""})`).join(", ");
}

/**
 * The lines predict shows for a drift report: one warning when a column (or the segment
 * shares) drifted past 0.25, one note for 0.1–0.25; none when everything is stable.
 */
export function driftWarnings(report: DriftReport): { warnings: string[]; notes: string[] } {
  const all = [...report.features, ...(report.segments ? [report.segments] : [])].filter((f) => !Number.isNaN(f.psi)).sort((a, b) => b.psi - a.psi);
  const retrain = all.filter((f) => f.reading === "retrain");
  const watch = all.filter((f) => f.reading === "watch");
  const warnings = retrain.length
    ? [`drift: ${retrain.length === 1 ? "this column has" : "these columns have"} moved far from the training data (PSI > ${PSI_RETRAIN}): ${listOf(retrain)}; the segments may no longer fit these customers: see segmenta drift, and fit the model again`]
    : [];
  const notes = watch.length ? [`drift to watch (PSI ${PSI_WATCH}–${PSI_RETRAIN}): ${listOf(watch)}`] : [];
  return { warnings, notes };
}
