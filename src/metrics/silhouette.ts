import { InputError } from "../core/errors.js";
import { type MatrixLike, toMatrix } from "../core/matrix.js";
import { makeRandom } from "../core/random.js";
import { encodeLabels } from "./labels.js";

export interface SilhouetteOptions {
  /** Score a random subset of this many rows (scikit-learn's sample_size). */
  sampleSize?: number | null;
  randomState?: number | null;
}

/**
 * Silhouette coefficient of every row, as scikit-learn's `silhouette_samples` with the
 * Euclidean metric: s = (b − a) / max(a, b), and 0 for rows alone in their cluster.
 */
export function silhouetteSamples(Xin: MatrixLike, labels: ArrayLike<number>): Float64Array {
  const X = toMatrix(Xin, "X");
  const { rows: n, cols: d, data } = X;
  if (labels.length !== n) throw new InputError(`labels has ${labels.length} values but X has ${n} rows`);
  const { codes, m } = encodeLabels(labels);
  if (m < 2 || m > n - 1) {
    throw new InputError(`the number of labels is ${m}; silhouette needs 2 <= labels <= n_samples - 1 (${n - 1})`);
  }
  const counts = new Float64Array(m);
  for (let i = 0; i < n; i++) counts[codes[i]]++;
  const sums = new Float64Array(m);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    const xo = i * d;
    for (let j = 0; j < n; j++) {
      const yo = j * d;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const u = data[xo + t] - data[yo + t];
        s += u * u;
      }
      sums[codes[j]] += Math.sqrt(s);
    }
    const own = codes[i];
    if (counts[own] <= 1) {
      out[i] = 0;
      continue;
    }
    const a = sums[own] / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c < m; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
    const mx = Math.max(a, b);
    out[i] = mx > 0 ? (b - a) / mx : 0;
  }
  return out;
}

/** Mean silhouette coefficient, optionally on a random sample of rows. */
export function silhouetteScore(Xin: MatrixLike, labels: ArrayLike<number>, options: SilhouetteOptions = {}): number {
  let X = toMatrix(Xin, "X");
  let lab: ArrayLike<number> = labels;
  if (options.sampleSize != null) {
    const s = options.sampleSize;
    if (!Number.isInteger(s) || s < 2 || s > X.rows) {
      throw new InputError(`sampleSize must be an integer between 2 and the number of rows (${X.rows}), got ${s}`);
    }
    const idx = makeRandom(options.randomState).sampleWithoutReplacement(X.rows, s);
    const d = X.cols;
    const data = new Float64Array(s * d);
    const l = new Int32Array(s);
    for (let r = 0; r < s; r++) {
      data.set(X.data.subarray(idx[r] * d, idx[r] * d + d), r * d);
      l[r] = labels[idx[r]];
    }
    X = { data, rows: s, cols: d };
    lab = l;
  }
  const s = silhouetteSamples(X, lab);
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  return total / s.length;
}
