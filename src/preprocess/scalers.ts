import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, matrixData, toMatrix } from "../core/matrix.js";

/** A fitted per-column affine scaler: (x − center) / scale. */
export class AffineScalerModel {
  constructor(
    readonly type: "MinMaxScaler" | "RobustScaler" | "MaxAbsScaler",
    readonly center: Float64Array,
    readonly scale: Float64Array,
  ) {}

  transform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.center.length;
    if (X.cols !== d) throw new InputError(`X has ${X.cols} features but the ${this.type} was fitted with ${d}`);
    const out = matrixData(X.data.length);
    for (let i = 0; i < X.rows; i++) for (let j = 0; j < d; j++) out[i * d + j] = (X.data[i * d + j] - this.center[j]) / this.scale[j];
    return { data: out, rows: X.rows, cols: d };
  }

  inverseTransform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.center.length;
    const out = matrixData(X.data.length);
    for (let i = 0; i < X.rows; i++) for (let j = 0; j < d; j++) out[i * d + j] = X.data[i * d + j] * this.scale[j] + this.center[j];
    return { data: out, rows: X.rows, cols: d };
  }

  /** Output feature names: the input names, one output per input column. */
  getFeatureNamesOut(inputNames: string[]): string[] {
    return [...inputNames];
  }

  toJSON(): { type: string; center: number[]; scale: number[] } {
    return { type: this.type, center: Array.from(this.center), scale: Array.from(this.scale) };
  }

  static fromJSON(j: { type: string; center: number[]; scale: number[] }): AffineScalerModel {
    if (!["MinMaxScaler", "RobustScaler", "MaxAbsScaler"].includes(j?.type)) throw new InputError(`not a scaler model: ${JSON.stringify(j?.type)}`);
    return new AffineScalerModel(j.type as AffineScalerModel["type"], Float64Array.from(j.center), Float64Array.from(j.scale));
  }
}

function columns(X: Matrix): Float64Array[] {
  return Array.from({ length: X.cols }, (_, j) => Float64Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + j]));
}

/** A zero spread (a constant column) scales by 1, as scikit-learn's `_handle_zeros_in_scale`. */
function safe(s: number): number {
  return s === 0 || !Number.isFinite(s) ? 1 : s;
}

/** numpy's default (linear) percentile of sorted values, q in [0, 100]. */
export function percentile(sorted: Float64Array, q: number): number {
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const t = pos - lo;
  const step = sorted[hi] - sorted[lo];
  // The difference overflows only between values near ±1.8e308 of opposite signs.
  return Number.isFinite(step) || !Number.isFinite(sorted[hi]) || !Number.isFinite(sorted[lo]) ? sorted[lo] + step * t : sorted[lo] * (1 - t) + sorted[hi] * t;
}

function checked(Xin: MatrixLike, what: string): Matrix {
  const X = toMatrix(Xin, "X");
  if (X.rows === 0) throw new InputError(`${what} needs at least one row`);
  return X;
}

/** Scales each column to featureRange (default [0, 1]), as scikit-learn's MinMaxScaler. */
export class MinMaxScaler {
  constructor(readonly options: { featureRange?: [number, number] } = {}) {
    const [a, b] = options.featureRange ?? [0, 1];
    if (!(a < b)) throw new InputError(`featureRange must be [min, max] with min < max, got [${a}, ${b}]`);
  }

  async fit(Xin: MatrixLike): Promise<AffineScalerModel> {
    const X = checked(Xin, "MinMaxScaler");
    const [a, b] = this.options.featureRange ?? [0, 1];
    const center = new Float64Array(X.cols);
    const scale = new Float64Array(X.cols);
    columns(X).forEach((c, j) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of c) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      // x' = (x − lo) / (hi − lo) · (b − a) + a, written as (x − center) / scale.
      scale[j] = safe(hi - lo) / (b - a);
      center[j] = lo - a * scale[j];
    });
    return new AffineScalerModel("MinMaxScaler", center, scale);
  }
}

/** Centers on the median and scales by the interquartile range, as scikit-learn's RobustScaler. */
export class RobustScaler {
  constructor(readonly options: { withCentering?: boolean; withScaling?: boolean; quantileRange?: [number, number] } = {}) {
    const [lo, hi] = options.quantileRange ?? [25, 75];
    if (!(0 <= lo && lo < hi && hi <= 100)) throw new InputError(`quantileRange must satisfy 0 ≤ low < high ≤ 100, got [${lo}, ${hi}]`);
  }

  async fit(Xin: MatrixLike): Promise<AffineScalerModel> {
    const X = checked(Xin, "RobustScaler");
    const [lo, hi] = this.options.quantileRange ?? [25, 75];
    const center = new Float64Array(X.cols);
    const scale = new Float64Array(X.cols).fill(1);
    columns(X).forEach((c, j) => {
      const sorted = c.sort();
      if (this.options.withCentering !== false) center[j] = percentile(sorted, 50);
      if (this.options.withScaling !== false) scale[j] = safe(percentile(sorted, hi) - percentile(sorted, lo));
    });
    return new AffineScalerModel("RobustScaler", center, scale);
  }
}

/** Divides each column by its largest absolute value, as scikit-learn's MaxAbsScaler. */
export class MaxAbsScaler {
  async fit(Xin: MatrixLike): Promise<AffineScalerModel> {
    const X = checked(Xin, "MaxAbsScaler");
    const scale = new Float64Array(X.cols);
    columns(X).forEach((c, j) => {
      let m = 0;
      for (const v of c) m = Math.max(m, Math.abs(v));
      scale[j] = safe(m);
    });
    return new AffineScalerModel("MaxAbsScaler", new Float64Array(X.cols), scale);
  }
}
