/**
 * Label encoding shared by the metrics: arbitrary numeric labels (−1 and other negatives
 * included, each a label like any other) become dense codes 0..m−1 in increasing order of
 * the label, as scikit-learn's `LabelEncoder` / `np.unique` number them.
 */
import { InputError } from "../core/errors.js";

export interface EncodedLabels {
  /** Code of every value, 0..m−1. */
  codes: Int32Array;
  /** The distinct labels, increasing; `classes[codes[i]] === labels[i]`. */
  classes: Float64Array;
  /** How many values carry each code. */
  counts: Float64Array;
  /** Number of distinct labels. */
  m: number;
}

/** Integer labels spanning at most this many values (or 2n) are counted in a flat table. */
const TABLE_SPAN = 1 << 16;

/** Encodes labels in O(n + span) for compact integer labels, O(n + m log m) otherwise. */
export function encodeLabels(labels: ArrayLike<number>): EncodedLabels {
  const n = labels.length;
  const codes = new Int32Array(n);
  if (n === 0) return { codes, classes: new Float64Array(0), counts: new Float64Array(0), m: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (!Number.isInteger(v)) {
      integral = false;
      break;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (integral && hi - lo < Math.max(TABLE_SPAN, 2 * n)) {
    const span = hi - lo + 1;
    const table = new Int32Array(span);
    for (let i = 0; i < n; i++) table[labels[i] - lo]++;
    let m = 0;
    for (let v = 0; v < span; v++) if (table[v] > 0) m++;
    const classes = new Float64Array(m);
    const counts = new Float64Array(m);
    let c = 0;
    for (let v = 0; v < span; v++) {
      if (table[v] > 0) {
        classes[c] = v + lo;
        counts[c] = table[v];
        table[v] = c++;
      }
    }
    for (let i = 0; i < n; i++) codes[i] = table[labels[i] - lo];
    return { codes, classes, counts, m };
  }
  // General case: first-seen codes, then renumbered in increasing order of the label.
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let c = seen.get(labels[i]);
    if (c === undefined) {
      c = seen.size;
      seen.set(labels[i], c);
    }
    codes[i] = c;
  }
  const m = seen.size;
  const classes = Float64Array.from(seen.keys()).sort();
  const renumber = new Int32Array(m);
  for (let c = 0; c < m; c++) renumber[seen.get(classes[c])!] = c;
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const c = renumber[codes[i]];
    codes[i] = c;
    counts[c]++;
  }
  return { codes, classes, counts, m };
}

/** Throws an InputError naming the first label that is not a finite number. */
export function checkFiniteLabels(labels: ArrayLike<number>, what: string): void {
  if (!labels || typeof labels.length !== "number") {
    throw new InputError(`${what} must be an array of numbers`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (typeof labels[i] !== "number" || !Number.isFinite(labels[i])) {
      throw new InputError(`${what}[${i}] is ${String(labels[i])}; labels must be finite numbers (integers)`);
    }
  }
}

/**
 * Encodes the labels of an internal index (X, labels) and checks them as scikit-learn's
 * `check_number_of_labels` does: 2 <= number of distinct labels <= n_samples − 1.
 */
export function encodeClusterLabels(labels: ArrayLike<number>, nRows: number, metric: string): EncodedLabels {
  checkFiniteLabels(labels, "labels");
  if (labels.length !== nRows) {
    throw new InputError(`labels has ${labels.length} values but X has ${nRows} rows`);
  }
  const enc = encodeLabels(labels);
  if (enc.m < 2 || enc.m > nRows - 1) {
    throw new InputError(
      `${metric}: the number of distinct labels is ${enc.m}, but it must be between 2 and ` +
        `n_samples − 1 (${Math.max(nRows - 1, 0)}); give at least two clusters and fewer clusters than rows`,
    );
  }
  return enc;
}
