/**
 * External indices: agreement between two labellings of the same samples (for example the
 * segments of two runs, or segments against known classes). Every function takes
 * `(labelsTrue, labelsPred)` — arbitrary numeric labels, −1 included as a label like any
 * other — and returns the same number as the scikit-learn function of the same name.
 *
 * The labellings are reduced once to a sparse contingency table in O(n + R + C) (R and C the
 * numbers of distinct labels on each side), so every index costs O(n + R·C) at most; the
 * expected mutual information of `adjustedMutualInfoScore` costs O(R·C·min(n, ...)).
 */
import { InputError } from "../core/errors.js";
import { type EncodedLabels, checkFiniteLabels, encodeLabels } from "./labels.js";

/** How the two entropies are averaged to normalise mutual information (scikit-learn's). */
export type AverageMethod = "min" | "geometric" | "arithmetic" | "max";

/** A dense contingency table: `counts[i][j]` samples have label `rows[i]` in the first labelling and `cols[j]` in the second. */
export interface ContingencyMatrix {
  /** Distinct labels of the first labelling, increasing. */
  rows: number[];
  /** Distinct labels of the second labelling, increasing. */
  cols: number[];
  counts: number[][];
}

export interface HomogeneityCompletenessVMeasure {
  homogeneity: number;
  completeness: number;
  vMeasure: number;
}

/** The contingency table in sparse form: non-zero cells in row-major order. */
interface Table {
  n: number;
  a: EncodedLabels;
  b: EncodedLabels;
  nnz: number;
  nzRow: Int32Array;
  nzCol: Int32Array;
  nzCount: Float64Array;
}

const AVERAGE_METHODS: readonly AverageMethod[] = ["min", "geometric", "arithmetic", "max"];

function checkPair(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): void {
  checkFiniteLabels(labelsTrue, "labelsTrue");
  checkFiniteLabels(labelsPred, "labelsPred");
  if (labelsTrue.length !== labelsPred.length) {
    throw new InputError(
      `labelsTrue has ${labelsTrue.length} values but labelsPred has ${labelsPred.length}; ` +
        "give one label per sample in each",
    );
  }
}

function checkAverageMethod(method: string): void {
  if (!(AVERAGE_METHODS as readonly string[]).includes(method)) {
    throw new InputError(`averageMethod must be "min", "geometric", "arithmetic" or "max", got ${JSON.stringify(method)}`);
  }
}

/** Builds the sparse contingency table: a counting sort by the first labelling, then one pass per row. */
function buildTable(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): Table {
  checkPair(labelsTrue, labelsPred);
  const a = encodeLabels(labelsTrue);
  const b = encodeLabels(labelsPred);
  const n = labelsTrue.length;
  const R = a.m;
  const C = b.m;
  const start = new Int32Array(R + 1);
  for (let r = 0; r < R; r++) start[r + 1] = start[r] + a.counts[r];
  const next = start.slice(0, R);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[next[a.codes[i]]++] = i;

  const scratch = new Float64Array(C);
  const touched = new Int32Array(C);
  const nzRow = new Int32Array(n);
  const nzCol = new Int32Array(n);
  const nzCount = new Float64Array(n);
  let nnz = 0;
  for (let r = 0; r < R; r++) {
    let t = 0;
    for (let k = start[r]; k < start[r + 1]; k++) {
      const j = b.codes[order[k]];
      if (scratch[j] === 0) touched[t++] = j;
      scratch[j]++;
    }
    touched.subarray(0, t).sort();
    for (let q = 0; q < t; q++) {
      const j = touched[q];
      nzRow[nnz] = r;
      nzCol[nnz] = j;
      nzCount[nnz] = scratch[j];
      scratch[j] = 0;
      nnz++;
    }
  }
  return { n, a, b, nnz, nzRow, nzCol, nzCount };
}

/**
 * Contingency table of two labellings (scikit-learn's `contingency_matrix`): rows are the
 * sorted distinct labels of `labelsTrue`, columns those of `labelsPred`.
 */
export function contingencyMatrix(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): ContingencyMatrix {
  const t = buildTable(labelsTrue, labelsPred);
  const counts: number[][] = [];
  for (let r = 0; r < t.a.m; r++) counts.push(new Array<number>(t.b.m).fill(0));
  for (let k = 0; k < t.nnz; k++) counts[t.nzRow[k]][t.nzCol[k]] = t.nzCount[k];
  return { rows: Array.from(t.a.classes), cols: Array.from(t.b.classes), counts };
}

// --------------------------------------------------------------------------- pair counting

/** Below this many samples every pair count (at most n²) is an exact double. */
const EXACT_N = 94_906_265;

/** Σ v², exactly. */
function sumOfSquares(v: Float64Array, len: number, n: number): bigint {
  if (n <= EXACT_N) {
    let s = 0;
    for (let k = 0; k < len; k++) s += v[k] * v[k];
    return BigInt(s);
  }
  let s = 0n;
  for (let k = 0; k < len; k++) s += BigInt(v[k]) * BigInt(v[k]);
  return s;
}

/**
 * scikit-learn's `pair_confusion_matrix`, counting ordered pairs of distinct samples:
 * together in both labellings (tp), only in labelsPred (fp), only in labelsTrue (fn), in neither (tn).
 */
interface PairCounts {
  tp: bigint;
  fp: bigint;
  fn: bigint;
  tn: bigint;
}

function pairCounts(t: Table): PairCounts {
  const n = BigInt(t.n);
  const same = sumOfSquares(t.nzCount, t.nnz, t.n);
  const rowSq = sumOfSquares(t.a.counts, t.a.m, t.n);
  const colSq = sumOfSquares(t.b.counts, t.b.m, t.n);
  const tp = same - n;
  const fp = colSq - same;
  const fn = rowSq - same;
  const tn = n * n - fp - fn - same;
  return { tp, fp, fn, tn };
}

/**
 * Adjusted Rand index (scikit-learn's `adjusted_rand_score`): the Rand index corrected for
 * chance, 1 for identical partitions, about 0 for independent ones, down to −0.5. It is
 * 1.0 when no pair of samples is split differently by the two labellings — including empty
 * input, a single sample, and both labellings putting everything in one cluster. Symmetric.
 * Pair counts are exact integers (BigInt products), as in scikit-learn. O(n + R + C).
 */
export function adjustedRandScore(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  const { tp, fp, fn, tn } = pairCounts(buildTable(labelsTrue, labelsPred));
  if (fn === 0n && fp === 0n) return 1;
  const num = tp * tn - fn * fp;
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return (2 * Number(num)) / Number(den);
}

/**
 * Fowlkes–Mallows index (scikit-learn's `fowlkes_mallows_score`): the geometric mean of
 * pairwise precision and recall, TP / √((TP + FP)(TP + FN)), in [0, 1]. It is 0 when no
 * pair of samples is together in both labellings (including empty input). Symmetric.
 */
export function fowlkesMallowsScore(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  const t = buildTable(labelsTrue, labelsPred);
  const n = BigInt(t.n);
  const tk = Number(sumOfSquares(t.nzCount, t.nnz, t.n) - n);
  const pk = Number(sumOfSquares(t.b.counts, t.b.m, t.n) - n);
  const qk = Number(sumOfSquares(t.a.counts, t.a.m, t.n) - n);
  return tk !== 0 ? Math.sqrt(tk / pk) * Math.sqrt(tk / qk) : 0;
}

// --------------------------------------------------------------------------- information

/** Entropy (nats) of a labelling from its label counts; scikit-learn's `entropy` (1.0 for no samples). */
function entropy(counts: Float64Array, n: number): number {
  if (n === 0) return 1;
  if (counts.length === 1) return 0;
  const logN = Math.log(n);
  let h = 0;
  for (let c = 0; c < counts.length; c++) h += (counts[c] / n) * (Math.log(counts[c]) - logN);
  return -h;
}

/** Mutual information (nats) from the table, term by term as scikit-learn computes it. */
function mutualInfo(t: Table): number {
  if (t.a.m === 1 || t.b.m === 1) return 0;
  const logN = Math.log(t.n);
  let mi = 0;
  for (let k = 0; k < t.nnz; k++) {
    const v = t.nzCount[k];
    const p = v / t.n;
    const outer = t.a.counts[t.nzRow[k]] * t.b.counts[t.nzCol[k]];
    const logOuter = -Math.log(outer) + logN + logN;
    const term = p * (Math.log(v) - logN) + p * logOuter;
    if (Math.abs(term) >= Number.EPSILON) mi += term;
  }
  return Math.max(mi, 0);
}

function generalizedAverage(u: number, v: number, method: AverageMethod): number {
  switch (method) {
    case "min":
      return Math.min(u, v);
    case "geometric":
      return Math.sqrt(u * v);
    case "arithmetic":
      return (u + v) / 2;
    case "max":
      return Math.max(u, v);
  }
}

/**
 * ln k! for k = 0..n: products of integers up to 30, Stirling's series beyond (accurate to
 * a few units in the last place of the result).
 */
export function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  let f = 1;
  for (let k = 1; k <= Math.min(n, 30); k++) {
    f *= k;
    out[k] = Math.log(f);
  }
  const halfLog2Pi = 0.5 * Math.log(2 * Math.PI);
  for (let k = 31; k <= n; k++) {
    const z = k + 1;
    const r = 1 / z;
    const r2 = r * r;
    const series = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680))));
    out[k] = (z - 0.5) * Math.log(z) - z + halfLog2Pi + series;
  }
  return out;
}

/**
 * Expected mutual information of two labellings with the table's margins under the
 * hypergeometric (permutation) model, as scikit-learn's `expected_mutual_information`:
 * Σᵢⱼ Σ_nij (nij/N) ln(N·nij / (aᵢbⱼ)) · P(nij | aᵢ, bⱼ, N), nij from max(1, aᵢ + bⱼ − N)
 * to min(aᵢ, bⱼ), the probabilities from a table of log-factorials. The inner sum has at
 * most min(aᵢ, bⱼ) terms, so the whole costs O(N + Σᵢⱼ min(aᵢ, bⱼ)) ≤ O(N·min(R, C)).
 */
function expectedMutualInfo(t: Table): number {
  const R = t.a.m;
  const C = t.b.m;
  if (R === 1 || C === 1) return 0;
  const N = t.n;
  const a = t.a.counts;
  const b = t.b.counts;
  let maxAB = 0;
  for (let i = 0; i < R; i++) maxAB = Math.max(maxAB, a[i]);
  for (let j = 0; j < C; j++) maxAB = Math.max(maxAB, b[j]);
  const lf = logFactorials(N);
  const logK = new Float64Array(maxAB + 1);
  for (let k = 1; k <= maxAB; k++) logK[k] = Math.log(k);
  const logN = Math.log(N);
  let emi = 0;
  for (let i = 0; i < R; i++) {
    const ai = a[i];
    const rowPart = lf[ai] + lf[N - ai] - lf[N];
    for (let j = 0; j < C; j++) {
      const bj = b[j];
      const lo = Math.max(1, ai + bj - N);
      const hi = Math.min(ai, bj);
      const base = rowPart + lf[bj] + lf[N - bj];
      const logAB = logK[ai] + logK[bj];
      let s = 0;
      for (let k = lo; k <= hi; k++) {
        const gln = base - lf[k] - lf[ai - k] - lf[bj - k] - lf[N - ai - bj + k];
        s += k * (logN + logK[k] - logAB) * Math.exp(gln);
      }
      emi += s / N;
    }
  }
  return emi;
}

/**
 * Mutual information (nats) between two labellings (scikit-learn's `mutual_info_score`).
 * 0 when either labelling has a single label, and 0 for empty input (where scikit-learn
 * raises a math domain error). Symmetric.
 */
export function mutualInfoScore(labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>): number {
  const t = buildTable(labelsTrue, labelsPred);
  return t.n === 0 ? 0 : mutualInfo(t);
}

/**
 * Normalised mutual information (scikit-learn's `normalized_mutual_info_score`): MI divided
 * by the `averageMethod` mean of the two entropies. 1.0 when both labellings have a single
 * label (or there are no samples); otherwise 0 when MI is 0. Symmetric.
 */
export function normalizedMutualInfoScore(
  labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, averageMethod: AverageMethod = "arithmetic",
): number {
  checkAverageMethod(averageMethod);
  const t = buildTable(labelsTrue, labelsPred);
  if (t.a.m === t.b.m && t.a.m <= 1) return 1;
  const mi = mutualInfo(t);
  if (mi === 0) return 0;
  const norm = generalizedAverage(entropy(t.a.counts, t.n), entropy(t.b.counts, t.n), averageMethod);
  return mi / norm;
}

/**
 * Adjusted mutual information (scikit-learn's `adjusted_mutual_info_score`):
 * (MI − E[MI]) / (avg(H(true), H(pred)) − E[MI]), with the exact expected mutual information
 * under the hypergeometric model. 1.0 when both labellings have a single label (or there
 * are no samples); about 0 for independent labellings. As in scikit-learn, a denominator
 * smaller than machine epsilon in magnitude is replaced by ±epsilon. Symmetric.
 */
export function adjustedMutualInfoScore(
  labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, averageMethod: AverageMethod = "arithmetic",
): number {
  checkAverageMethod(averageMethod);
  const t = buildTable(labelsTrue, labelsPred);
  if (t.a.m === t.b.m && t.a.m <= 1) return 1;
  const mi = mutualInfo(t);
  const emi = expectedMutualInfo(t);
  const norm = generalizedAverage(entropy(t.a.counts, t.n), entropy(t.b.counts, t.n), averageMethod);
  let den = norm - emi;
  den = den < 0 ? Math.min(den, -Number.EPSILON) : Math.max(den, Number.EPSILON);
  return (mi - emi) / den;
}

/**
 * Homogeneity (each cluster holds members of a single class), completeness (all members of
 * a class are in one cluster) and their weighted harmonic mean, the V-measure
 * ((1 + β)·h·c / (β·h + c)), as scikit-learn's `homogeneity_completeness_v_measure`.
 * A labelling with a single label counts as perfectly homogeneous/complete (1.0); empty
 * input gives 1, 1, 1. β > 1 weights completeness more, β < 1 homogeneity.
 */
export function homogeneityCompletenessVMeasure(
  labelsTrue: ArrayLike<number>, labelsPred: ArrayLike<number>, beta = 1,
): HomogeneityCompletenessVMeasure {
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta < 0) {
    throw new InputError(`beta must be a finite number >= 0, got ${String(beta)}`);
  }
  const t = buildTable(labelsTrue, labelsPred);
  if (t.n === 0) return { homogeneity: 1, completeness: 1, vMeasure: 1 };
  const hTrue = entropy(t.a.counts, t.n);
  const hPred = entropy(t.b.counts, t.n);
  const mi = mutualInfo(t);
  const homogeneity = hTrue !== 0 ? mi / hTrue : 1;
  const completeness = hPred !== 0 ? mi / hPred : 1;
  const vMeasure =
    homogeneity + completeness === 0 ? 0 : ((1 + beta) * homogeneity * completeness) / (beta * homogeneity + completeness);
  return { homogeneity, completeness, vMeasure };
}
