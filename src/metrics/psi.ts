/**
 * Population stability index (PSI): how far the distribution of one variable in new data has
 * moved from its distribution in the training data, over the same bins.
 *
 *   PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)
 *
 * where e_i is the share of the training rows in bin i ("expected") and a_i the share of the
 * new rows ("actual"). Every term is ≥ 0, so PSI is 0 for identical shares and grows with the
 * shift; the usual reading is < 0.1 stable, 0.1–0.25 watch, > 0.25 retrain (PSI_WATCH,
 * PSI_RETRAIN; a value equal to a threshold reads as the lower band).
 *
 * Empty bins: a share of 0 would make the logarithm infinite, so a share below PSI_EPSILON
 * (0.0001, one row in ten thousand) is replaced by PSI_EPSILON in both the difference and the
 * logarithm, without renormalising the other shares. A bin empty on both sides then adds 0;
 * a bin empty on one side only adds (s − ε)·ln(s / ε), large for a large s, as it should.
 *
 * Numeric variables are binned on the training data: up to 10 quantile bins whose inner edges
 * are the 10 %, 20 %, …, 90 % quantiles (linear interpolation between order statistics, like
 * numpy's default), equal edges merged (a column with many ties gets fewer bins), each bin
 * closed on the right: a value x goes to bin j = the number of edges < x. Missing values
 * (NaN) have their own bin. Categorical variables have one bin per training category plus one
 * for any other category and one for missing values.
 *
 * Pure and isomorphic (no Node imports); the loops run on typed arrays.
 */

/** Below this PSI a distribution reads as stable. */
export const PSI_WATCH = 0.1;
/** Above this PSI a distribution has moved enough to fit the model again. */
export const PSI_RETRAIN = 0.25;
/** Shares below this are raised to it before the logarithm (empty bins). */
export const PSI_EPSILON = 1e-4;
/** The number of quantile bins of a numeric variable (before equal edges merge). */
export const PSI_BINS = 10;

export type PsiReading = "stable" | "watch" | "retrain";

/** The usual reading of a PSI value: < 0.1 stable, 0.1–0.25 watch, > 0.25 retrain. */
export function psiReading(psi: number): PsiReading {
  if (psi > PSI_RETRAIN) return "retrain";
  if (psi > PSI_WATCH) return "watch";
  return "stable";
}

/** The shares of counts (all 0 when the counts sum to 0). */
export function shares(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const out = new Float64Array(counts.length);
  if (total > 0) for (let i = 0; i < counts.length; i++) out[i] = counts[i] / total;
  return out;
}

/** One bin's term of the PSI: (a − e)·ln(a / e) with shares below PSI_EPSILON raised to it. */
export function psiTerm(expected: number, actual: number): number {
  const e = expected < PSI_EPSILON ? PSI_EPSILON : expected;
  const a = actual < PSI_EPSILON ? PSI_EPSILON : actual;
  return (a - e) * Math.log(a / e);
}

/**
 * The PSI between two count vectors over the same bins (training counts, new counts). Either
 * side with no rows at all gives NaN: there is no distribution to compare.
 */
export function psi(expectedCounts: ArrayLike<number>, actualCounts: ArrayLike<number>): number {
  if (expectedCounts.length !== actualCounts.length) {
    throw new RangeError(`PSI needs the same bins on both sides: ${expectedCounts.length} training bins, ${actualCounts.length} new`);
  }
  const e = shares(expectedCounts);
  const a = shares(actualCounts);
  let te = 0;
  let ta = 0;
  for (let i = 0; i < e.length; i++) {
    te += expectedCounts[i];
    ta += actualCounts[i];
  }
  if (!(te > 0) || !(ta > 0)) return NaN;
  let sum = 0;
  for (let i = 0; i < e.length; i++) sum += psiTerm(e[i], a[i]);
  return sum;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) of values sorted increasingly, with linear interpolation between
 * the order statistics at positions q·(n − 1) (numpy's default, "linear"); NaN when empty.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/**
 * The inner edges of the quantile bins of `values` (NaN = missing, ignored): the 1/bins, 2/bins,
 * …, (bins−1)/bins quantiles, equal ones merged, increasing. Empty when there is no value or
 * a single distinct one (one bin then holds every value).
 */
export function quantileEdges(values: ArrayLike<number>, bins = PSI_BINS): number[] {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) n++;
  const sorted = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) sorted[j++] = values[i];
  sorted.sort();
  const edges: number[] = [];
  if (n === 0 || sorted[0] === sorted[n - 1]) return edges;
  for (let b = 1; b < bins; b++) {
    const x = quantileSorted(sorted, b / bins);
    if (Number.isFinite(x) && (edges.length === 0 || x > edges[edges.length - 1])) edges.push(x);
  }
  return edges;
}

/**
 * The counts of `values` in the bins of `edges` (increasing): bin j holds the x with exactly j
 * edges below them, i.e. (−∞, e0], (e0, e1], …, (e_last, +∞); then one last bin for missing
 * values (NaN). Length edges.length + 2.
 */
export function binCounts(values: ArrayLike<number>, edges: readonly number[]): Float64Array {
  const m = edges.length;
  const counts = new Float64Array(m + 2);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) {
      counts[m + 1]++;
      continue;
    }
    // Binary search: the number of edges < x.
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts;
}

/**
 * The counts of text values in the bins of `categories`: one per category in its order, then
 * one for any other value, then one for missing values (null or ""). Length categories.length + 2.
 */
export function categoryCounts(values: readonly (string | null)[], categories: readonly string[]): Float64Array {
  const index = new Map<string, number>();
  categories.forEach((c, i) => index.set(c, i));
  const m = categories.length;
  const counts = new Float64Array(m + 2);
  for (const v of values) {
    if (v === null || v === "") counts[m + 1]++;
    else counts[index.get(v) ?? m]++;
  }
  return counts;
}

/** The label of bin j of numeric `edges` (see binCounts): "≤ 3", "3 – 7", "> 9" or "missing". */
export function numericBinLabel(edges: readonly number[], j: number, format: (x: number) => string = formatEdge): string {
  const m = edges.length;
  if (j === m + 1) return "missing";
  if (m === 0) return "all values";
  if (j === 0) return `≤ ${format(edges[0])}`;
  if (j === m) return `> ${format(edges[m - 1])}`;
  return `${format(edges[j - 1])} – ${format(edges[j])}`;
}

/** A bin edge, short: 4 significant digits, no exponent for ordinary magnitudes. */
export function formatEdge(x: number): string {
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) return String(Number(x.toPrecision(4)));
  return x.toPrecision(3);
}
