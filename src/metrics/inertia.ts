import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";
import { checkFiniteLabels, encodeLabels } from "./labels.js";

/**
 * Mean of every label's rows (m × d, row-major), weighted when `weights` is given, written
 * into `out`. A second pass adds the mean residual, so a label whose rows are all equal gets
 * exactly that row as its mean. A label of total weight 0 gets a mean of 0 (none of its rows
 * count). `total` receives each label's row count or total weight.
 */
export function labelMeans(
  data: Float64Array, n: number, d: number, codes: Int32Array, m: number,
  weights: Float64Array | null, out: Float64Array, total: Float64Array,
): void {
  out.fill(0);
  total.fill(0);
  for (let i = 0; i < n; i++) {
    const w = weights === null ? 1 : weights[i];
    if (w === 0) continue;
    const c = codes[i];
    total[c] += w;
    const xo = i * d;
    const co = c * d;
    for (let t = 0; t < d; t++) out[co + t] += w * data[xo + t];
  }
  for (let c = 0; c < m; c++) {
    const inv = total[c] > 0 ? 1 / total[c] : 0;
    for (let t = 0; t < d; t++) out[c * d + t] *= inv;
  }
  const fix = new Float64Array(m * d);
  for (let i = 0; i < n; i++) {
    const w = weights === null ? 1 : weights[i];
    if (w === 0) continue;
    const xo = i * d;
    const co = codes[i] * d;
    for (let t = 0; t < d; t++) fix[co + t] += w * (data[xo + t] - out[co + t]);
  }
  for (let c = 0; c < m; c++) {
    if (!(total[c] > 0)) continue;
    for (let t = 0; t < d; t++) out[c * d + t] += fix[c * d + t] / total[c];
  }
}

/** Converts X and checks that it has rows and columns. */
export function checkX(Xin: MatrixLike, metric: string): Matrix {
  const X = toMatrix(Xin, "X");
  if (X.rows === 0) throw new InputError(`${metric}: X has no rows`);
  if (X.cols === 0) throw new InputError(`${metric}: X has no columns; give at least one feature`);
  return X;
}

/**
 * Inertia of a labelling: Σᵢ wᵢ ‖xᵢ − μ(labelᵢ)‖², the (weighted) sum of squared Euclidean
 * distances of the rows to the (weighted) mean of their label — the quantity K-Means
 * minimises and reports as `inertia` once it has converged. Any number of labels from 1 to
 * n is allowed (1 label gives the total sum of squares). Labels are arbitrary integers;
 * −1 is treated as a label like any other (noise is not left out). Rows of weight 0 do not
 * move their label's mean and add nothing. O(n·d).
 */
export function inertiaScore(Xin: MatrixLike, labels: ArrayLike<number>, sampleWeight?: ArrayLike<number>): number {
  const X = checkX(Xin, "inertiaScore");
  const { rows: n, cols: d, data } = X;
  checkFiniteLabels(labels, "labels");
  if (labels.length !== n) throw new InputError(`labels has ${labels.length} values but X has ${n} rows`);
  let weights: Float64Array | null = null;
  if (sampleWeight !== undefined) {
    if (sampleWeight.length !== n) {
      throw new InputError(`sampleWeight has ${sampleWeight.length} values but X has ${n} rows`);
    }
    weights = Float64Array.from(sampleWeight);
    for (let i = 0; i < n; i++) {
      if (!(weights[i] >= 0) || !Number.isFinite(weights[i])) {
        throw new InputError(`sampleWeight[${i}] is ${sampleWeight[i]}; weights must be finite and non-negative`);
      }
    }
  }
  const { codes, m } = encodeLabels(labels);
  const means = new Float64Array(m * d);
  labelMeans(data, n, d, codes, m, weights, means, new Float64Array(m));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === null ? 1 : weights[i];
    if (w === 0) continue;
    const xo = i * d;
    const co = codes[i] * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = data[xo + t] - means[co + t];
      s += u * u;
    }
    total += w * s;
  }
  return total;
}
