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
      for (let j = 0; j < d; j++) out[i * d + j] = (X.data[i * d + j] - this.mean[j]) / this.scale[j];
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

/** Per-column mean and population standard deviation (two passes, for accuracy). */
export function columnMeanStd(data: Float64Array, n: number, d: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const t = data[i * d + j] - mean[j];
      std[j] += t * t;
    }
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(std[j] / n);
    // Like scikit-learn, treat a spread at the level of rounding error as zero.
    std[j] = s < 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j])) ? 0 : s;
  }
  return { mean, std };
}
