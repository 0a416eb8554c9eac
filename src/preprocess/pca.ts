import { InputError } from "../core/errors.js";
import { meanAndCovariance, symmetricEigen } from "../core/linalg.js";
import { type Matrix, type MatrixLike, matrixData, toArrays, toMatrix } from "../core/matrix.js";

export interface PCAOptions {
  /**
   * Components to keep: a whole number, a share of variance in (0, 1) (the fewest
   * components whose explained variance ratios add up to more than it), or null for all
   * min(n, d). Default null, as scikit-learn.
   */
  nComponents?: number | null;
  /** Divide each component by its standard deviation, so the outputs have unit variance. */
  whiten?: boolean;
}

export interface PCAJSON {
  type: "PCA";
  mean: number[];
  components: number[][];
  explainedVariance: number[];
  explainedVarianceRatio: number[];
  singularValues: number[];
  whiten: boolean;
}

/** A fitted PCA: principal axes (rows of `components`), their variances and the mean. */
export class PCAModel {
  constructor(
    readonly mean: Float64Array,
    /** nComponents × d, each row a unit principal axis. */
    readonly components: Matrix,
    readonly explainedVariance: Float64Array,
    readonly explainedVarianceRatio: Float64Array,
    readonly singularValues: Float64Array,
    readonly whiten: boolean,
  ) {}

  get nComponents(): number {
    return this.components.rows;
  }

  /** Feature names of the output: pca0, pca1, … (as scikit-learn's get_feature_names_out). */
  getFeatureNamesOut(): string[] {
    return Array.from({ length: this.nComponents }, (_, i) => `pca${i}`);
  }

  /** Projects rows onto the components (n × nComponents). */
  transform(Xin: MatrixLike): Matrix {
    const X = toMatrix(Xin, "X");
    const d = this.mean.length;
    if (X.cols !== d) throw new InputError(`X has ${X.cols} features but the PCA was fitted with ${d}`);
    const k = this.nComponents;
    const C = this.components.data;
    const out = matrixData(X.rows * k);
    for (let i = 0; i < X.rows; i++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (X.data[i * d + j] - this.mean[j]) * C[c * d + j];
        out[i * k + c] = this.whiten ? s / Math.sqrt(this.explainedVariance[c]) : s;
      }
    }
    return { data: out, rows: X.rows, cols: k };
  }

  /** Maps projected rows back to the original features. */
  inverseTransform(Yin: MatrixLike): Matrix {
    const Y = toMatrix(Yin, "Y");
    const k = this.nComponents;
    const d = this.mean.length;
    if (Y.cols !== k) throw new InputError(`Y has ${Y.cols} columns but the PCA has ${k} components`);
    const C = this.components.data;
    const out = new Float64Array(Y.rows * d);
    for (let i = 0; i < Y.rows; i++) {
      for (let j = 0; j < d; j++) {
        let s = this.mean[j];
        for (let c = 0; c < k; c++) {
          const y = this.whiten ? Y.data[i * k + c] * Math.sqrt(this.explainedVariance[c]) : Y.data[i * k + c];
          s += y * C[c * d + j];
        }
        out[i * d + j] = s;
      }
    }
    return { data: out, rows: Y.rows, cols: d };
  }

  toJSON(): PCAJSON {
    return {
      type: "PCA", mean: Array.from(this.mean), components: toArrays(this.components),
      explainedVariance: Array.from(this.explainedVariance), explainedVarianceRatio: Array.from(this.explainedVarianceRatio),
      singularValues: Array.from(this.singularValues), whiten: this.whiten,
    };
  }

  static fromJSON(j: PCAJSON): PCAModel {
    if (j?.type !== "PCA") throw new InputError('not a PCA model: expected { type: "PCA", ... }');
    return new PCAModel(
      Float64Array.from(j.mean), toMatrix(j.components, "components"), Float64Array.from(j.explainedVariance),
      Float64Array.from(j.explainedVarianceRatio), Float64Array.from(j.singularValues), j.whiten,
    );
  }
}

/**
 * Principal component analysis as scikit-learn's PCA with the full SVD: the axes are the
 * eigenvectors of the covariance matrix (computed here from the d × d covariance, which is
 * exact enough and cheap for n ≫ d), ordered by variance, with scikit-learn's sign rule
 * (svd_flip: the projection of largest magnitude on each axis is positive).
 */
export class PCA {
  constructor(readonly options: PCAOptions = {}) {
    const k = options.nComponents;
    if (k != null && !(Number.isInteger(k) && k >= 1) && !(k > 0 && k < 1)) {
      throw new InputError(`nComponents must be a whole number ≥ 1, a share of variance in (0, 1), or null; got ${k}`);
    }
  }

  async fit(Xin: MatrixLike): Promise<PCAModel> {
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d, data } = X;
    if (n < 2) throw new InputError("PCA needs at least 2 rows");
    const { mean, cov } = meanAndCovariance(data, n, d);
    const { values, vectors } = symmetricEigen(cov, d);
    const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
    const all = Math.min(n, d);
    let total = 0;
    for (let j = 0; j < d; j++) total += Math.max(values[j], 0);
    const ratio = order.slice(0, all).map((j) => Math.max(values[j], 0) / total);
    let k = this.options.nComponents ?? all;
    if (k > 0 && k < 1) {
      // The fewest components whose cumulative ratio exceeds the share (scikit-learn's searchsorted, side "right").
      let cum = 0;
      let m = 0;
      while (m < all && cum <= k) cum += ratio[m++];
      k = m;
    }
    if (k > all) throw new InputError(`nComponents=${k} must be at most min(rows, columns) = ${all}`);
    const comps = new Float64Array(k * d);
    for (let c = 0; c < k; c++) {
      const e = order[c];
      // svd_flip: the sign that makes the largest-magnitude projection positive.
      let best = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (data[i * d + j] - mean[j]) * vectors[j * d + e];
        if (Math.abs(s) > Math.abs(best)) best = s;
      }
      const sign = best < 0 ? -1 : 1;
      for (let j = 0; j < d; j++) comps[c * d + j] = sign * vectors[j * d + e];
    }
    const ev = Float64Array.from(order.slice(0, k), (j) => Math.max(values[j], 0));
    return new PCAModel(
      mean, { data: comps, rows: k, cols: d }, ev, Float64Array.from(ratio.slice(0, k)),
      Float64Array.from(ev, (v) => Math.sqrt(v * (n - 1))), this.options.whiten ?? false,
    );
  }
}
