import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";

export interface StandardScalerOptions {
  withMean?: boolean;
  withStd?: boolean;
}

export interface StandardScalerJSON {
  type: "StandardScaler";
  mean: number[];
  scale: number[];
}

/** A fitted standard scaler: (x − mean) / scale, scale being the population standard deviation (1 where it is 0). */
export class StandardScalerModel {
  constructor(readonly mean: Float64Array, readonly scale: Float64Array) {}

  transform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.mean.length;
    if (X.cols !== d) throw new InputError(`X has ${X.cols} features but the scaler was fitted with ${d}`);
    const out = new Float64Array(X.data.length);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < d; j++) {
        const x = X.data[i * d + j];
        const z = (x - this.mean[j]) / this.scale[j];
        // x − mean overflows only when both are near ±1.8e308 with opposite signs.
        out[i * d + j] = Number.isFinite(z) || !Number.isFinite(x) ? z : x / this.scale[j] - this.mean[j] / this.scale[j];
      }
    }
    return { data: out, rows: X.rows, cols: d };
  }

  inverseTransform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.mean.length;
    const out = new Float64Array(X.data.length);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < d; j++) out[i * d + j] = X.data[i * d + j] * this.scale[j] + this.mean[j];
    }
    return { data: out, rows: X.rows, cols: d };
  }

  /** Output feature names: the input names, one output per input column. */
  getFeatureNamesOut(inputNames: string[]): string[] {
    return [...inputNames];
  }

  toJSON(): StandardScalerJSON {
    return { type: "StandardScaler", mean: Array.from(this.mean), scale: Array.from(this.scale) };
  }

  static fromJSON(j: StandardScalerJSON): StandardScalerModel {
    return new StandardScalerModel(Float64Array.from(j.mean), Float64Array.from(j.scale));
  }
}

/** Column means and population standard deviations, as scikit-learn's StandardScaler. */
export class StandardScaler {
  constructor(readonly options: StandardScalerOptions = {}) {}

  async fit(Xin: MatrixLike): Promise<StandardScalerModel> {
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d, data } = X;
    if (n === 0) throw new InputError("StandardScaler needs at least one row");
    const mean = new Float64Array(d);
    const scale = new Float64Array(d).fill(1);
    const stats = columnMeanStd(data, n, d);
    if (this.options.withMean !== false) mean.set(stats.mean);
    if (this.options.withStd !== false) {
      for (let j = 0; j < d; j++) scale[j] = stats.std[j] > 0 ? stats.std[j] : 1;
    }
    return new StandardScalerModel(mean, scale);
  }
}

/**
 * Per-column mean and population standard deviation (two passes, for accuracy). Each column
 * is summed as x · 2^−k, 2^k near its largest |x|: values as large as ±1.8e308 give a finite
 * mean and spread instead of overflowing, and as the scaling by a power of two is exact, any
 * other column gets the same numbers as without it.
 */
export function columnMeanStd(data: Float64Array, n: number, d: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  const f = columnPowerOfTwoScales(data, n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] * f[j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const t = data[i * d + j] * f[j] - mean[j];
      std[j] += t * t;
    }
  }
  for (let j = 0; j < d; j++) {
    mean[j] /= f[j];
    const s = Math.sqrt(std[j] / n) / f[j];
    // Like scikit-learn, treat a spread at the level of rounding error as zero.
    std[j] = s < 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j])) ? 0 : s;
  }
  return { mean, std };
}

/** Per column, 2^−k with 2^k ≤ max |x| < 2^(k+1) (k within ±1000, so that 2^−k is a normal number); 1 for a column of zeros, or with NaN or ±Infinity only. */
function columnPowerOfTwoScales(data: Float64Array, n: number, d: number): Float64Array {
  const big = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const a = Math.abs(data[i * d + j]);
      if (a > big[j] && a !== Infinity) big[j] = a;
    }
  }
  const f = new Float64Array(d);
  for (let j = 0; j < d; j++) f[j] = big[j] > 0 ? 2 ** -Math.min(1000, Math.max(-1000, Math.floor(Math.log2(big[j])))) : 1;
  return f;
}
