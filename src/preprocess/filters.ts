import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";

/** A count with its noun, singular for one: "1 feature", "3 features". */
const nOf = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** A column a selection dropped, and why. */
export interface DroppedFeature {
  /** Its index among the input columns. */
  column: number;
  /** Its variance (VarianceThreshold) or its correlation with `partner` (CorrelationFilter). */
  value: number;
  /** The earlier, kept column it is correlated with (CorrelationFilter), or null. */
  partner: number | null;
}

export interface FeatureSelectionJSON {
  type: "VarianceThreshold" | "CorrelationFilter";
  support: boolean[];
  /** Why each dropped column went (absent in model files written before it was recorded). */
  dropped?: DroppedFeature[];
}

/** A fitted column selection: which input columns are kept. */
export class FeatureSelectionModel {
  constructor(
    readonly type: FeatureSelectionJSON["type"],
    /** true for each kept input column. */
    readonly support: boolean[],
    /** Why each dropped column went, as text with column numbers. */
    readonly reasons: string[] = [],
    /** Why each dropped column went: its variance, or the kept column it duplicates. */
    readonly dropped: DroppedFeature[] = [],
  ) {}

  get kept(): number[] {
    return this.support.map((s, j) => (s ? j : -1)).filter((j) => j >= 0);
  }

  transform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    if (X.cols !== this.support.length) throw new InputError(`X has ${nOf(X.cols, "feature")} but the selection was fitted with ${this.support.length}`);
    const kept = this.kept;
    const w = kept.length;
    const out = new Float64Array(X.rows * w);
    for (let i = 0; i < X.rows; i++) for (let t = 0; t < w; t++) out[i * w + t] = X.data[i * X.cols + kept[t]];
    return { data: out, rows: X.rows, cols: w };
  }

  getFeatureNamesOut(inputNames: string[]): string[] {
    return inputNames.filter((_, j) => this.support[j]);
  }

  toJSON(): FeatureSelectionJSON {
    return { type: this.type, support: this.support, dropped: this.dropped };
  }

  static fromJSON(j: FeatureSelectionJSON): FeatureSelectionModel {
    if (j?.type !== "VarianceThreshold" && j?.type !== "CorrelationFilter") throw new InputError("not a feature selection model");
    return new FeatureSelectionModel(j.type, j.support, [], Array.isArray(j.dropped) ? j.dropped : []);
  }
}

function columnStats(X: Matrix): { mean: Float64Array; variance: Float64Array; min: Float64Array; max: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  const min = new Float64Array(d).fill(Infinity);
  const max = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j];
      mean[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) variance[j] += (data[i * d + j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) variance[j] /= n;
  return { mean, variance, min, max };
}

/**
 * Drops columns whose (population) variance is not above `threshold`, as scikit-learn's
 * VarianceThreshold; with threshold 0 a column is dropped exactly when all its values are equal.
 */
export class VarianceThreshold {
  constructor(readonly options: { threshold?: number } = {}) {
    if ((options.threshold ?? 0) < 0) throw new InputError(`threshold must be ≥ 0, got ${options.threshold}`);
  }

  async fit(Xin: MatrixLike): Promise<FeatureSelectionModel> {
    const X = toMatrix(Xin, "X");
    if (X.rows === 0) throw new InputError("VarianceThreshold needs at least one row");
    const t = this.options.threshold ?? 0;
    const { variance, min, max } = columnStats(X);
    const support: boolean[] = [];
    const reasons: string[] = [];
    const dropped: DroppedFeature[] = [];
    for (let j = 0; j < X.cols; j++) {
      // As scikit-learn: a constant column has variance 0 even when rounding says otherwise.
      const v = max[j] - min[j] === 0 ? 0 : variance[j];
      support.push(v > t);
      if (!(v > t)) {
        reasons.push(`column ${j}: variance ${v} ≤ ${t}`);
        dropped.push({ column: j, value: v, partner: null });
      }
    }
    if (!support.some(Boolean)) throw new InputError(`no column has a variance above ${t}; lower the threshold`);
    return new FeatureSelectionModel("VarianceThreshold", support, reasons, dropped);
  }
}

/**
 * Drops one column of each pair whose |Pearson correlation| exceeds `threshold` (default
 * 0.95). Greedy in column order: a column is kept when it is not that correlated with any
 * column kept before it, so of two near-duplicates the earlier one stays.
 */
export class CorrelationFilter {
  constructor(readonly options: { threshold?: number } = {}) {
    const t = options.threshold ?? 0.95;
    if (!(t > 0 && t <= 1)) throw new InputError(`threshold must be in (0, 1], got ${t}`);
  }

  async fit(Xin: MatrixLike): Promise<FeatureSelectionModel> {
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d, data } = X;
    if (n < 2) throw new InputError("CorrelationFilter needs at least 2 rows");
    const t = this.options.threshold ?? 0.95;
    const { mean, variance } = columnStats(X);
    const kept: number[] = [];
    const support = new Array<boolean>(d).fill(false);
    const reasons: string[] = [];
    const dropped: DroppedFeature[] = [];
    for (let j = 0; j < d; j++) {
      let drop = -1;
      let rDrop = 0;
      for (const k of kept) {
        if (variance[j] === 0 || variance[k] === 0) continue;
        let c = 0;
        for (let i = 0; i < n; i++) c += (data[i * d + j] - mean[j]) * (data[i * d + k] - mean[k]);
        const r = c / n / Math.sqrt(variance[j] * variance[k]);
        if (Math.abs(r) > t) {
          drop = k;
          rDrop = r;
          break;
        }
      }
      if (drop < 0) {
        kept.push(j);
        support[j] = true;
      } else {
        reasons.push(`column ${j}: correlation ${rDrop.toFixed(3)} with column ${drop}`);
        dropped.push({ column: j, value: rDrop, partner: drop });
      }
    }
    return new FeatureSelectionModel("CorrelationFilter", support, reasons, dropped);
  }
}
