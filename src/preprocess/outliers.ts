import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";
import { percentile } from "./scalers.js";

/** A count with its noun, singular for one: "1 feature", "3 features". */
const nOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

export type OutlierMethod = "iqr" | "zscore" | "mad";
export type OutlierAction = "clip" | "drop" | "flag";

export interface OutlierOptions {
  /**
   * "iqr": outside [Q1 − k·IQR, Q3 + k·IQR] (k = 1.5); "zscore": more than k population
   * standard deviations from the mean (k = 3); "mad": modified z-score 0.6745·|x − median| / MAD
   * above k (k = 3.5, Iglewicz & Hoaglin).
   */
  method?: OutlierMethod;
  action?: OutlierAction;
  k?: number;
}

const DEFAULT_K: Record<OutlierMethod, number> = { iqr: 1.5, zscore: 3, mad: 3.5 };

export interface OutlierJSON {
  type: "OutlierHandler";
  method: OutlierMethod;
  action: OutlierAction;
  lower: number[];
  upper: number[];
}

/**
 * Fitted outlier bounds per column. `clip` moves values onto the bounds; `flag` appends a 0/1
 * column `outlier` (1 where any column is out of bounds); `drop` keeps the matrix as it is and
 * `outlierMask` says which rows to leave out of the fit (they still get a segment at predict time).
 */
export class OutlierModel {
  constructor(
    readonly method: OutlierMethod,
    readonly action: OutlierAction,
    readonly lower: Float64Array,
    readonly upper: Float64Array,
  ) {}

  /** 1 for rows with a value outside its column's bounds. */
  outlierMask(Xin: MatrixLike): Uint8Array {
    const X = this.check(Xin);
    const d = X.cols;
    const mask = new Uint8Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < d; j++) {
        const v = X.data[i * d + j];
        if (v < this.lower[j] || v > this.upper[j]) {
          mask[i] = 1;
          break;
        }
      }
    }
    return mask;
  }

  transform(Xin: MatrixLike): Matrix {
    const X = this.check(Xin);
    const d = X.cols;
    if (this.action === "clip") {
      const out = new Float64Array(X.data.length);
      for (let i = 0; i < X.rows; i++) {
        for (let j = 0; j < d; j++) out[i * d + j] = Math.min(this.upper[j], Math.max(this.lower[j], X.data[i * d + j]));
      }
      return { data: out, rows: X.rows, cols: d };
    }
    if (this.action === "flag") {
      const mask = this.outlierMask(X);
      const out = new Float64Array(X.rows * (d + 1));
      for (let i = 0; i < X.rows; i++) {
        out.set(X.data.subarray(i * d, (i + 1) * d), i * (d + 1));
        out[i * (d + 1) + d] = mask[i];
      }
      return { data: out, rows: X.rows, cols: d + 1 };
    }
    return X;
  }

  getFeatureNamesOut(inputNames: string[]): string[] {
    return this.action === "flag" ? [...inputNames, "outlier"] : [...inputNames];
  }

  toJSON(): OutlierJSON {
    return { type: "OutlierHandler", method: this.method, action: this.action, lower: Array.from(this.lower), upper: Array.from(this.upper) };
  }

  static fromJSON(j: OutlierJSON): OutlierModel {
    if (j?.type !== "OutlierHandler") throw new InputError('not an outlier model: expected { type: "OutlierHandler", ... }');
    return new OutlierModel(j.method, j.action, Float64Array.from(j.lower), Float64Array.from(j.upper));
  }

  private check(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    if (X.cols !== this.lower.length) throw new InputError(`X has ${nOf(X.cols, "feature")} but the outlier bounds were fitted with ${this.lower.length}`);
    return X;
  }
}

export class OutlierHandler {
  constructor(readonly options: OutlierOptions = {}) {
    const m = options.method ?? "iqr";
    const a = options.action ?? "clip";
    if (!(m in DEFAULT_K)) throw new InputError(`outlier method must be iqr, zscore or mad, got "${m}"`);
    if (!["clip", "drop", "flag"].includes(a)) throw new InputError(`outlier action must be clip, drop or flag, got "${a}"`);
    if (options.k !== undefined && !(options.k > 0)) throw new InputError(`k must be positive, got ${options.k}`);
  }

  async fit(Xin: MatrixLike): Promise<OutlierModel> {
    const X = toMatrix(Xin, "X");
    if (X.rows === 0) throw new InputError("outlier bounds need at least one row");
    const method = this.options.method ?? "iqr";
    const k = this.options.k ?? DEFAULT_K[method];
    const { rows: n, cols: d } = X;
    const lower = new Float64Array(d);
    const upper = new Float64Array(d);
    const col = new Float64Array(n);
    for (let j = 0; j < d; j++) {
      for (let i = 0; i < n; i++) col[i] = X.data[i * d + j];
      if (method === "zscore") {
        let mean = 0;
        for (const v of col) mean += v;
        mean /= n;
        let ss = 0;
        for (const v of col) ss += (v - mean) ** 2;
        const sd = Math.sqrt(ss / n);
        lower[j] = mean - k * sd;
        upper[j] = mean + k * sd;
        continue;
      }
      const sorted = Float64Array.from(col).sort();
      if (method === "iqr") {
        const q1 = percentile(sorted, 25);
        const q3 = percentile(sorted, 75);
        lower[j] = q1 - k * (q3 - q1);
        upper[j] = q3 + k * (q3 - q1);
      } else {
        const med = percentile(sorted, 50);
        const dev = Float64Array.from(col, (v) => Math.abs(v - med)).sort();
        const mad = percentile(dev, 50);
        const half = (k * mad) / 0.6745;
        lower[j] = med - half;
        upper[j] = med + half;
      }
    }
    return new OutlierModel(method, this.options.action ?? "clip", lower, upper);
  }
}
