/**
 * How certain a mixture's assignment is: each customer's top probability, and, for the
 * customers whose top probability is below a threshold ("between segments"), which two
 * segments they sit between. Pure functions of a probability matrix (n × k, rows summing to 1,
 * as GaussianMixtureModel.predictProba returns).
 */
import { InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../../core/matrix.js";

/** The top probability under which a customer is said to sit between segments. */
export const BETWEEN_THRESHOLD = 0.6;

export interface TopProbabilities {
  /** The assigned segment of every row: the column of its largest probability (the first on ties, as argmax). */
  labels: Int32Array;
  /** The largest probability of every row. */
  maxProbability: Float64Array;
  /** The column of the second largest probability of every row (−1 with one column). */
  second: Int32Array;
}

function checkProba(proba: Matrix): void {
  if (proba.cols < 1) throw new InputError("proba: a probability matrix needs one column per segment; it has none");
}

function checkThreshold(threshold: number): void {
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold <= 1)) {
    throw new InputError(`threshold must be a probability in (0, 1], got ${threshold}; the usual value is ${BETWEEN_THRESHOLD}`);
  }
}

/** Each row's assigned segment, its probability, and the runner-up segment. */
export function topProbabilities(probaIn: MatrixLike): TopProbabilities {
  const proba = toMatrix(probaIn, "proba");
  checkProba(proba);
  const { rows: n, cols: k, data } = proba;
  const labels = new Int32Array(n);
  const maxProbability = new Float64Array(n);
  const second = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let b1 = 0;
    let b2 = -1;
    for (let c = 1; c < k; c++) {
      const v = data[o + c];
      if (v > data[o + b1]) {
        b2 = b1;
        b1 = c;
      } else if (b2 < 0 || v > data[o + b2]) {
        b2 = c;
      }
    }
    labels[i] = b1;
    maxProbability[i] = data[o + b1];
    second[i] = b2;
  }
  return { labels, maxProbability, second };
}

export interface BetweenSegmentsPair {
  /** The two segments (a < b): the row's most and second most probable, in label order. */
  a: number;
  b: number;
  /** Rows below the threshold whose two most probable segments are a and b. */
  count: number;
  /** Of them, those assigned to a (the rest are assigned to b). */
  assignedToA: number;
}

export interface BetweenSegments {
  threshold: number;
  /** Rows in all. */
  rows: number;
  /** Rows whose top probability is below the threshold. */
  count: number;
  /** count / rows (0 for no rows). */
  share: number;
  /** Per pair of segments, the rows between them, most rows first (then by a, b). */
  pairs: BetweenSegmentsPair[];
  /** Per segment (by label), the rows assigned to it below the threshold. */
  perSegment: number[];
}

/**
 * The customers between segments: those whose top probability is below `threshold`
 * (default 0.6), counted by the pair of their two most probable segments.
 */
export function betweenSegments(probaIn: MatrixLike, threshold = BETWEEN_THRESHOLD): BetweenSegments {
  checkThreshold(threshold);
  const proba = toMatrix(probaIn, "proba");
  checkProba(proba);
  const k = proba.cols;
  const top = topProbabilities(proba);
  const n = proba.rows;
  const pairCounts = new Map<number, { count: number; assignedToA: number }>();
  const perSegment = new Array<number>(k).fill(0);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!(top.maxProbability[i] < threshold)) continue;
    count++;
    const l = top.labels[i];
    perSegment[l]++;
    const s = top.second[i];
    if (s < 0) continue;
    const a = Math.min(l, s);
    const b = Math.max(l, s);
    const key = a * k + b;
    const e = pairCounts.get(key) ?? { count: 0, assignedToA: 0 };
    e.count++;
    if (l === a) e.assignedToA++;
    pairCounts.set(key, e);
  }
  const pairs: BetweenSegmentsPair[] = [...pairCounts.entries()]
    .map(([key, e]) => ({ a: Math.floor(key / k), b: key % k, count: e.count, assignedToA: e.assignedToA }))
    .sort((x, y) => y.count - x.count || x.a - y.a || x.b - y.b);
  return { threshold, rows: n, count, share: n > 0 ? count / n : 0, pairs, perSegment };
}
