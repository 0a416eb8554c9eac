/**
 * Segment profiles: how each segment differs from the whole population, in the original
 * (unscaled) units of the data, as plain JSON.
 *
 * Definitions (all computed over the values present: a missing value — NaN in a numeric,
 * boolean or datetime column, null in a categorical one — is left out of that feature only,
 * and counted in `missing`):
 * - Population: every row, noise (label −1) included.
 * - mean, median (numpy's: the mean of the two middle values for an even count), std: the
 *   standard deviation with ddof = 0 (numpy's default, and the one StandardScaler divides
 *   by), min, max. Booleans are 0/1, so their mean is the share of true; datetimes are epoch
 *   milliseconds.
 * - standardizedDifference (numeric): (mean_segment − mean_population) / std_population,
 *   the segment's mean in standard units — the same number as the segment's mean after
 *   StandardScaler. 0 when the population is constant.
 * - cohensD (numeric, reported, not used for ranking): (mean_segment − mean_rest) / pooled
 *   standard deviation of segment and rest (sample variances, ddof = 1), where the rest is
 *   every other row with a value; null when undefined (fewer than 2 values on a side, or a
 *   pooled deviation of 0 between different means).
 * - Categorical: each category's share among the present values of the segment and of the
 *   population, their difference, lift = share_segment / share_population, and the
 *   standardized difference (share_segment − share_population) / sqrt(p(1 − p)) with
 *   p = share_population. That is the standardized difference of the category's 0/1
 *   indicator, on the same scale as the numeric one (an indicator's std is sqrt(p(1 − p))).
 * - effectSize: numeric features, the standardized difference; categorical features, the
 *   standardized difference of the category with the largest |value| (named in
 *   `topCategory`; on a tie the more frequent category in the population). Features are ranked by |effectSize| into `distinguishing` (ties: the
 *   order of `features`).
 * - Categories listed: the `maxCategories` most frequent in the population (ties by value);
 *   the rest are summed into `otherCount` / `otherShare`. The effect size looks at all of them.
 *
 * Cost: O(n · features) — one pass per feature to accumulate by segment, plus a linear-time
 * selection (quickselect) for the medians; typed arrays throughout.
 *
 * Outliers: the rows labelled −1 (noise, as density-based algorithms leave customers who fit
 * no segment) are profiled as one more group, `outliers` (id −1), exactly as a segment is:
 * against the same population, with the same statistics, distinguishing features and RFM
 * scores; its name starts "Outliers: " (see nameOutliers in names.ts). The segments' own
 * statistics do not depend on it (each is over its own rows; "the rest" of Cohen's d is every
 * other row, noise included, as before).
 *
 * When the features include recency_days and frequency (the RFM features of
 * src/io/rfm.ts), each segment also gets RFM scores: the quintile score 1–5 of the segment's
 * median within the population's distribution of that feature (see `rfmScoreOfValue`),
 * and the named RFM segment of (R, F) from RFM_GRID; names then use the RFM vocabulary.
 */
import { type Column, type Dataset, getColumn, type NumericColumn } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { median } from "../core/stats.js";
import { nameOutliers, nameSegments, rankDistinguishing } from "./names.js";
import { rankQuantileEdges, rfmSegment, type RfmSegment } from "./rfm-scores.js";

export type NumericKind = "numeric" | "boolean" | "datetime";

export interface ProfileOptions {
  /** Columns to profile (original values); numeric, boolean, datetime and categorical. */
  features: string[];
  /**
   * The features the segments were clustered on (a subset of `features`). Names come first
   * from these; the other features name a segment only when none of these sets it apart.
   * Default: every feature counts as clustered.
   */
  clustered?: string[];
  /** Names given by the user, by segment id (−1: the outliers); they replace the generated names. */
  segmentNames?: Record<number, string>;
  /** How many distinguishing features to keep per segment (default 5). */
  topFeatures?: number;
  /** How many categories to list per categorical feature (default 20; the rest are summed). */
  maxCategories?: number;
}

export interface NumericStats {
  name: string;
  kind: NumericKind;
  /** Values present. */
  count: number;
  missing: number;
  mean: number | null;
  median: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface CategoryShare {
  value: string;
  count: number;
  /** Share among the values present. */
  share: number;
}

export interface CategoricalStats {
  name: string;
  kind: "categorical";
  count: number;
  missing: number;
  /** Distinct categories in the population. */
  distinct: number;
  categories: CategoryShare[];
  /** Values in categories beyond the listed ones. */
  otherCount: number;
  otherShare: number;
}

export type FeatureStats = NumericStats | CategoricalStats;

export interface SegmentNumericFeature extends NumericStats {
  standardizedDifference: number | null;
  cohensD: number | null;
  /** = standardizedDifference. */
  effectSize: number | null;
}

export interface SegmentCategoryShare extends CategoryShare {
  populationShare: number;
  /** share − populationShare. */
  difference: number;
  /** share / populationShare. */
  lift: number | null;
  /** (share − populationShare) / sqrt(populationShare · (1 − populationShare)); 0 when that is 0. */
  standardizedDifference: number;
}

export interface SegmentCategoricalFeature extends Omit<CategoricalStats, "categories"> {
  categories: SegmentCategoryShare[];
  /** The category whose standardized share difference is largest in absolute value. */
  topCategory: string | null;
  /** Its standardized difference (signed). */
  effectSize: number | null;
  /** Its shares in the segment and in the population. */
  topCategoryShare: number | null;
  topCategoryPopulationShare: number | null;
}

export type SegmentFeature = SegmentNumericFeature | SegmentCategoricalFeature;

export interface DistinguishingFeature {
  feature: string;
  kind: NumericKind | "categorical";
  /** Signed effect size (see the module notes). */
  effectSize: number;
  direction: "higher" | "lower";
  /** Categorical features: the category. */
  category?: string;
  /** Mean (numeric) or the category's share (categorical) in the segment and in the population. */
  segmentValue: number;
  populationValue: number;
}

export interface RfmProfile {
  /** Quintile scores 1–5 of the segment medians (recency reversed: 5 = most recent). */
  r: number;
  f: number;
  /** null without a monetary feature. */
  m: number | null;
  segment: RfmSegment;
}

export interface SegmentProfile {
  id: number;
  size: number;
  /** size / all rows (noise included). */
  share: number;
  name: string;
  description: string;
  features: SegmentFeature[];
  /** The most distinguishing features, by |effectSize|. */
  distinguishing: DistinguishingFeature[];
  rfm: RfmProfile | null;
}

export interface ProfileResult {
  n: number;
  /** Rows labelled −1 (noise): in the population, in no segment. */
  noise: number;
  population: { n: number; features: FeatureStats[] };
  /** Segments present in the labels, by increasing id. */
  segments: SegmentProfile[];
  /**
   * The rows labelled −1 (noise: customers who fit no segment) profiled as a group of their
   * own against the population, exactly as a segment (id −1, named "Outliers: …"); null when
   * no row is noise.
   */
  outliers: SegmentProfile | null;
  /** "rfm" when recency_days and frequency were profiled (and clustered on): names follow the RFM vocabulary. */
  naming: "rfm" | "generic";
  /** The features the segments were clustered on, when given (ProfileOptions.clustered). */
  clustered?: string[];
}

/** Profiles the segments of `labels` (one per row of `data`; −1 = noise) on `options.features`. */
export function profileSegments(data: Dataset, labels: Int32Array, options: ProfileOptions): ProfileResult {
  const n = data.rows;
  if (labels.length !== n) throw new InputError(`${data.source}: ${labels.length} labels for ${n} rows`);
  if (!options.features.length) throw new InputError("profileSegments: choose at least one feature to profile");
  const topK = options.topFeatures ?? 5;
  const maxCategories = options.maxCategories ?? 20;
  const columns = options.features.map((name) => {
    const c = getColumn(data, name);
    if (!c) throw new InputError(`${data.source} has no column "${name}" to profile; columns are: ${data.columns.map((x) => x.name).join(", ")}`);
    return c;
  });
  const clustered = options.clustered;
  for (const name of clustered ?? []) {
    if (!options.features.includes(name)) {
      throw new InputError(`profileSegments: the clustered feature "${name}" is not among the features to profile; add it to features`);
    }
  }

  // Segment ids present, and a dense index for each row (−1 for noise).
  let maxLabel = -1;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < -1) throw new InputError(`labels must be −1 (noise) or segment ids 0, 1, ...; row ${i} has ${l}`);
    if (l > maxLabel) maxLabel = l;
  }
  const sizeById = new Float64Array(maxLabel + 1);
  let noise = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) noise++;
    else sizeById[labels[i]]++;
  }
  const ids: number[] = [];
  const denseOf = new Int32Array(maxLabel + 1).fill(-1);
  for (let l = 0; l <= maxLabel; l++) {
    if (sizeById[l] > 0) {
      denseOf[l] = ids.length;
      ids.push(l);
    }
  }
  const k = ids.length;
  // The outliers, when there are any, are one more group after the segments (dense index k).
  const groups = noise > 0 ? k + 1 : k;
  const seg = new Int32Array(n);
  for (let i = 0; i < n; i++) seg[i] = labels[i] < 0 ? (noise > 0 ? k : -1) : denseOf[labels[i]];
  const segSizes = Float64Array.from({ length: groups }, (_, j) => (j < k ? sizeById[ids[j]] : noise));

  const popFeatures: FeatureStats[] = [];
  const segFeatures: SegmentFeature[][] = Array.from({ length: groups }, () => []);
  const medianByName = new Map<string, (number | null)[]>();
  for (const col of columns) {
    if (col.kind === "categorical" || col.kind === "id") {
      const { pop, segs } = profileCategorical(col.name, col.values, seg, groups, maxCategories);
      popFeatures.push(pop);
      segs.forEach((s, j) => segFeatures[j].push(s));
    } else {
      const num = col as NumericColumn;
      const { pop, segs } = profileNumeric(num.name, num.kind, num.values, seg, segSizes);
      popFeatures.push(pop);
      segs.forEach((s, j) => segFeatures[j].push(s));
      medianByName.set(col.name, segs.map((s) => s.median));
    }
  }

  // RFM names describe what the segments were clustered on: recency and frequency must be among it.
  const rfmCols = rfmColumns(clustered?.length ? columns.filter((c) => clustered.includes(c.name)) : columns);
  const profileOf = (id: number, j: number, size: number): SegmentProfile => {
    const features = segFeatures[j];
    const pop = popFeatures;
    const distinguishing = rankDistinguishing(features, pop).slice(0, topK);
    let rfm: RfmProfile | null = null;
    if (rfmCols) {
      const rMed = medianByName.get(rfmCols.recency.name)![j];
      const fMed = medianByName.get(rfmCols.frequency.name)![j];
      const mMed = rfmCols.monetary ? medianByName.get(rfmCols.monetary.name)![j] : null;
      if (rMed !== null && fMed !== null) {
        const r = rfmScoreOfValue(rfmCols.recency.values, rMed, true);
        const f = rfmScoreOfValue(rfmCols.frequency.values, fMed);
        const m = rfmCols.monetary && mMed !== null ? rfmScoreOfValue(rfmCols.monetary.values, mMed) : null;
        rfm = { r, f, m, segment: rfmSegment(r, f)! };
      }
    }
    return { id, size, share: size / n, name: "", description: "", features, distinguishing, rfm };
  };
  const segments = ids.map((id, j) => profileOf(id, j, sizeById[id]));
  const outliers = noise > 0 ? profileOf(-1, k, noise) : null;

  const result: ProfileResult = {
    n, noise, population: { n, features: popFeatures }, segments, outliers, naming: rfmCols ? "rfm" : "generic",
    ...(clustered?.length ? { clustered: [...clustered] } : {}),
  };
  const named = nameSegments(result, { segmentNames: options.segmentNames });
  segments.forEach((s, j) => {
    s.name = named[j].name;
    s.description = named[j].description;
  });
  if (outliers) {
    const o = nameOutliers(result, { segmentNames: options.segmentNames })!;
    outliers.name = o.name;
    outliers.description = o.description;
  }
  return result;
}

function rfmColumns(columns: Column[]): { recency: { name: string; values: Float64Array }; frequency: { name: string; values: Float64Array }; monetary: { name: string; values: Float64Array } | null } | null {
  const num = (name: string): { name: string; values: Float64Array } | null => {
    const c = columns.find((x) => x.name === name);
    return c && c.kind === "numeric" ? { name, values: c.values } : null;
  };
  const recency = num("recency_days");
  const frequency = num("frequency");
  if (!recency || !frequency) return null;
  return { recency, frequency, monetary: num("monetary") };
}

/**
 * The quintile score 1–5 that a customer with value v would get among `values` (missing ones
 * ignored), with the bins of rfm-scores.ts (pandas `qcut` of the ranks 1..m into five equal
 * bins). A value shared by several customers takes the smallest rank of them (pandas
 * `method="min"`), as the RFM table's own scores do (rfm-scores.ts): one-time buyers score
 * F = 1 even when they are 40 % of the customers, and every customer of the most recent day
 * scores R = 5; a value nobody has ranks halfway between its neighbours. With `reverse`
 * (recency, where small is good) the score is 6 − the quintile.
 */
export function rfmScoreOfValue(values: Float64Array, v: number, reverse = false): number {
  let m = 0;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    m++;
    if (x < v) lo++;
    if (x <= v) hi++;
  }
  if (m === 0) return 3;
  const tieRank = lo + 1;
  const rank = Math.min(m, Math.max(1, hi > lo ? tieRank : lo + 0.5));
  const edges = rankQuantileEdges(m, 5);
  let bin = 1;
  while (bin < 5 && edges[bin] < rank) bin++;
  return reverse ? 6 - bin : bin;
}

function profileNumeric(
  name: string, kind: NumericKind, values: Float64Array, seg: Int32Array, segSizes: Float64Array,
): { pop: NumericStats; segs: SegmentNumericFeature[] } {
  const n = values.length;
  const k = segSizes.length;
  const cnt = new Float64Array(k);
  const sum = new Float64Array(k);
  const mn = new Float64Array(k).fill(Infinity);
  const mx = new Float64Array(k).fill(-Infinity);
  let popCount = 0;
  let popSum = 0;
  let popMin = Infinity;
  let popMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    popCount++;
    popSum += x;
    if (x < popMin) popMin = x;
    if (x > popMax) popMax = x;
    const s = seg[i];
    if (s < 0) continue;
    cnt[s]++;
    sum[s] += x;
    if (x < mn[s]) mn[s] = x;
    if (x > mx[s]) mx[s] = x;
  }
  const popMean = popCount ? popSum / popCount : NaN;
  const mean = new Float64Array(k);
  for (let s = 0; s < k; s++) mean[s] = cnt[s] ? sum[s] / cnt[s] : NaN;
  // Second pass: squared deviations, and the values grouped by segment for the medians.
  const ss = new Float64Array(k);
  let popSs = 0;
  const offset = new Float64Array(k + 1);
  for (let s = 0; s < k; s++) offset[s + 1] = offset[s] + cnt[s];
  const fill = offset.slice(0, k);
  const grouped = new Float64Array(offset[k]);
  const all = new Float64Array(popCount);
  let a = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i];
    if (Number.isNaN(x)) continue;
    all[a++] = x;
    popSs += (x - popMean) * (x - popMean);
    const s = seg[i];
    if (s < 0) continue;
    ss[s] += (x - mean[s]) * (x - mean[s]);
    grouped[fill[s]++] = x;
  }
  const popStd = popCount ? Math.sqrt(popSs / popCount) : NaN;
  const nul = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const pop: NumericStats = {
    name, kind, count: popCount, missing: n - popCount, mean: nul(popMean), median: popCount ? median(all) : null,
    std: nul(popStd), min: nul(popMin), max: nul(popMax),
  };
  const segs: SegmentNumericFeature[] = [];
  for (let s = 0; s < k; s++) {
    const c = cnt[s];
    const segMissing = segSizes[s] - c;
    let std: number | null = null;
    let sd: number | null = null;
    let d: number | null = null;
    if (c > 0) {
      std = Math.sqrt(ss[s] / c);
      sd = popStd > 0 ? (mean[s] - popMean) / popStd : 0;
      // Cohen's d against the rest: the rest's mean and sum of squares by the parallel-axis rule.
      const nr = popCount - c;
      if (c >= 2 && nr >= 2) {
        const restMean = (popSum - sum[s]) / nr;
        const restSs = Math.max(0, popSs - ss[s] - c * (mean[s] - popMean) ** 2 - nr * (restMean - popMean) ** 2);
        const pooled = Math.sqrt((ss[s] + restSs) / (c + nr - 2));
        d = pooled > 0 ? (mean[s] - restMean) / pooled : mean[s] === restMean ? 0 : null;
      }
    }
    segs.push({
      name, kind, count: c, missing: segMissing, mean: c ? mean[s] : null,
      median: c ? median(grouped.subarray(offset[s], offset[s + 1])) : null,
      std, min: c ? mn[s] : null, max: c ? mx[s] : null, standardizedDifference: sd, cohensD: d, effectSize: sd,
    });
  }
  return { pop, segs };
}

function profileCategorical(
  name: string, values: (string | null)[], seg: Int32Array, k: number, maxCategories: number,
): { pop: CategoricalStats; segs: SegmentCategoricalFeature[] } {
  const n = values.length;
  const codeOf = new Map<string, number>();
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) {
      codes[i] = -1;
      continue;
    }
    let c = codeOf.get(v);
    if (c === undefined) {
      c = codeOf.size;
      codeOf.set(v, c);
    }
    codes[i] = c;
  }
  const C = codeOf.size;
  const cats = [...codeOf.keys()];
  const popCnt = new Float64Array(C);
  const segCnt = new Float64Array(k * C);
  const segPresent = new Float64Array(k);
  const segAll = new Float64Array(k);
  let present = 0;
  for (let i = 0; i < n; i++) {
    const s = seg[i];
    if (s >= 0) segAll[s]++;
    const c = codes[i];
    if (c < 0) continue;
    present++;
    popCnt[c]++;
    if (s >= 0) {
      segCnt[s * C + c]++;
      segPresent[s]++;
    }
  }
  // Categories by population count, then by value (code-point order, locale-free).
  const order = Array.from({ length: C }, (_, c) => c).sort((a, b) => popCnt[b] - popCnt[a] || (cats[a] < cats[b] ? -1 : cats[a] > cats[b] ? 1 : 0));
  const listed = order.slice(0, maxCategories);
  const otherPop = present - listed.reduce((t, c) => t + popCnt[c], 0);
  const popShare = (c: number): number => (present ? popCnt[c] / present : 0);
  const pop: CategoricalStats = {
    name, kind: "categorical", count: present, missing: n - present, distinct: C,
    categories: listed.map((c) => ({ value: cats[c], count: popCnt[c], share: popShare(c) })),
    otherCount: otherPop, otherShare: present ? otherPop / present : 0,
  };
  const segs: SegmentCategoricalFeature[] = [];
  for (let s = 0; s < k; s++) {
    const m = segPresent[s];
    const stdDiff = (c: number): number => {
      const p = popShare(c);
      const q = m ? segCnt[s * C + c] / m : 0;
      const sd = Math.sqrt(p * (1 - p));
      return sd > 0 ? (q - p) / sd : 0;
    };
    let top = -1;
    let topSd = 0;
    if (m > 0) {
      for (const c of order) {
        const v = stdDiff(c);
        if (top < 0 || Math.abs(v) > Math.abs(topSd)) {
          top = c;
          topSd = v;
        }
      }
    }
    const categories = listed.map((c): SegmentCategoryShare => {
      const share = m ? segCnt[s * C + c] / m : 0;
      const p = popShare(c);
      return { value: cats[c], count: segCnt[s * C + c], share, populationShare: p, difference: share - p, lift: p > 0 ? share / p : null, standardizedDifference: stdDiff(c) };
    });
    const listedCount = listed.reduce((t, c) => t + segCnt[s * C + c], 0);
    segs.push({
      name, kind: "categorical", count: m, missing: segAll[s] - m, distinct: C, categories,
      otherCount: m - listedCount, otherShare: m ? (m - listedCount) / m : 0,
      topCategory: top >= 0 ? cats[top] : null, effectSize: top >= 0 ? topSd : null,
      topCategoryShare: top >= 0 ? segCnt[s * C + top] / m : null, topCategoryPopulationShare: top >= 0 ? popShare(top) : null,
    });
  }
  return { pop, segs };
}
