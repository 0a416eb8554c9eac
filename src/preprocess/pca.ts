import { InputError } from "../core/errors.js";
import { meanAndCovariance, symmetricEigen } from "../core/linalg.js";
import { type Matrix, type MatrixLike, matrixData, toArrays, toMatrix } from "../core/matrix.js";
import { Random } from "../core/random.js";

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

export type PCASolver = "auto" | "full" | "randomized";

/**
 * Principal component analysis as scikit-learn's PCA, with its sign rule (svd_flip: the
 * projection of largest magnitude on each axis is positive) and its choice of method
 * (`svdSolver`, default "auto"):
 *
 * - "full": every component, exactly. The axes are the eigenvectors of the d × d covariance
 *   matrix (of the n × n Gram matrix when there are fewer rows than columns), ordered by
 *   variance. Its cost grows with the cube of min(n, d).
 * - "randomized": the first nComponents only, by randomized subspace iteration (Halko,
 *   Martinsson and Tropp's randomized SVD, as scikit-learn's svd_solver="randomized"):
 *   nComponents + nOversamples random directions, multiplied by the centred data and
 *   re-orthonormalised `iteratedPower` times, then an exact SVD inside that small subspace.
 *   The centred data is never formed and no d × d matrix either: the cost is
 *   O(n·d·(nComponents + nOversamples)) per iteration. With iteratedPower "auto" it runs
 *   scikit-learn's number of iterations (7, or 4 when nComponents ≥ 10 % of min(n, d)) and
 *   then goes on (13 more at most) while the leading axes are still settling, so the
 *   result agrees with the full method to about 1e-9 whenever the components are well
 *   separated.
 * - "auto": scikit-learn's rule — "full" when max(n, d) ≤ 500 or nComponents is a share of
 *   variance or at least 80 % of min(n, d); otherwise "randomized" — except that a tall,
 *   narrow table (n ≥ 10·d, d ≤ 200) goes the "full" way through its covariance, as
 *   scikit-learn ≥ 1.5 does ("covariance_eigh"): exact, and cheaper there.
 */
export interface PCAFitInfo {
  solver: "full" | "randomized";
  /** Power iterations run (randomized only). */
  iterations: number;
}

export interface PCASolverOptions {
  /** "auto" (default), "full" or "randomized"; see PCA. */
  svdSolver?: PCASolver;
  /** Power iterations of the randomized method: "auto" (default) or a fixed number ≥ 0. */
  iteratedPower?: "auto" | number;
  /** Extra random directions of the randomized method (default 10, as scikit-learn). */
  nOversamples?: number;
  /** Seed of the randomized method's random directions (default 0). */
  randomState?: number;
}

/**
 * Principal component analysis as scikit-learn's PCA: see PCASolver for the methods. The
 * axes come out ordered by variance with scikit-learn's sign rule (svd_flip on U: the
 * projection of largest magnitude on each axis is positive).
 */
export class PCA {
  /** How the last fit ran (for tests and progress messages). */
  lastFit: PCAFitInfo | null = null;

  constructor(readonly options: PCAOptions & PCASolverOptions = {}) {
    const k = options.nComponents;
    if (k != null && !(Number.isInteger(k) && k >= 1) && !(k > 0 && k < 1)) {
      throw new InputError(`nComponents must be a whole number ≥ 1, a share of variance in (0, 1), or null; got ${k}`);
    }
    const s = options.svdSolver;
    if (s !== undefined && s !== "auto" && s !== "full" && s !== "randomized") throw new InputError(`svdSolver must be "auto", "full" or "randomized"; got ${String(s)}`);
    const q = options.iteratedPower;
    if (q !== undefined && q !== "auto" && !(Number.isInteger(q) && q >= 0)) throw new InputError(`iteratedPower must be "auto" or a whole number ≥ 0; got ${String(q)}`);
    const p = options.nOversamples;
    if (p !== undefined && !(Number.isInteger(p) && p >= 0)) throw new InputError(`nOversamples must be a whole number ≥ 0; got ${p}`);
  }

  /**
   * The method "auto" picks for an n × d table: scikit-learn's rule, with the covariance
   * route of scikit-learn ≥ 1.5 ("covariance_eigh") for tall, narrow tables first (n ≥ 10·d,
   * here for d ≤ 200), where the d × d covariance is cheaper than any iteration over the rows
   * and exact.
   */
  static chooseSolver(n: number, d: number, nComponents: number | null | undefined): "full" | "randomized" {
    if (n >= 10 * d && d <= 200) return "full";
    if (Math.max(n, d) <= 500) return "full";
    const k = nComponents ?? Math.min(n, d);
    return Number.isInteger(k) && k >= 1 && k < 0.8 * Math.min(n, d) ? "randomized" : "full";
  }

  async fit(Xin: MatrixLike): Promise<PCAModel> {
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d } = X;
    if (n < 2) throw new InputError("PCA needs at least 2 rows");
    const all = Math.min(n, d);
    const asked = this.options.nComponents;
    if (asked != null && asked >= 1 && asked > all) throw new InputError(`nComponents=${asked} must be at most min(rows, columns) = ${all}`);
    const solver = this.options.svdSolver && this.options.svdSolver !== "auto" ? this.options.svdSolver : PCA.chooseSolver(n, d, asked);
    if (solver === "randomized") {
      if (!(asked != null && Number.isInteger(asked))) throw new InputError('svdSolver "randomized" needs nComponents as a whole number of components');
      return this.fitRandomized(X, asked);
    }
    this.lastFit = { solver: "full", iterations: 0 };
    return this.fitFull(X);
  }

  private fitFull(X: Matrix): PCAModel {
    const { rows: n, cols: d, data } = X;
    const all = Math.min(n, d);
    const mean = columnMeans(data, n, d);
    // The eigenvectors of the smaller of the covariance (d × d) and the Gram matrix (n × n).
    let values: Float64Array;
    let axes: (e: number) => Float64Array;
    if (d <= n) {
      const { cov } = meanAndCovariance(data, n, d);
      const eig = symmetricEigen(cov, d);
      values = eig.values;
      axes = (e) => Float64Array.from({ length: d }, (_, j) => eig.vectors[j * d + e]);
    } else {
      const G = gram(data, mean, n, d);
      const eig = symmetricEigen(G, n);
      values = eig.values;
      // v = Xcᵀ u / ‖Xcᵀ u‖ (‖Xcᵀ u‖² = (n − 1) λ).
      axes = (e) => {
        const u = Float64Array.from({ length: n }, (_, i) => eig.vectors[i * n + e]);
        const v = new Float64Array(d);
        for (let i = 0; i < n; i++) {
          const ui = u[i];
          for (let j = 0; j < d; j++) v[j] += ui * (data[i * d + j] - mean[j]);
        }
        let norm = 0;
        for (let j = 0; j < d; j++) norm += v[j] * v[j];
        norm = Math.sqrt(norm);
        if (norm > 0) for (let j = 0; j < d; j++) v[j] /= norm;
        return v;
      };
    }
    const m = values.length;
    const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
    let total = 0;
    for (let j = 0; j < m; j++) total += Math.max(values[j], 0);
    const ratio = order.slice(0, all).map((j) => Math.max(values[j], 0) / total);
    let k = this.options.nComponents ?? all;
    if (k > 0 && k < 1) {
      // The fewest components whose cumulative ratio exceeds the share (scikit-learn's searchsorted, side "right").
      let cum = 0;
      let c = 0;
      while (c < all && cum <= k) cum += ratio[c++];
      k = c;
    }
    const comps = new Float64Array(k * d);
    for (let c = 0; c < k; c++) comps.set(axes(order[c]), c * d);
    flipSigns(comps, k, data, mean, n, d);
    const ev = Float64Array.from(order.slice(0, k), (j) => Math.max(values[j], 0));
    return new PCAModel(
      mean, { data: comps, rows: k, cols: d }, ev, Float64Array.from(ratio.slice(0, k)),
      Float64Array.from(ev, (v) => Math.sqrt(v * (n - 1))), this.options.whiten ?? false,
    );
  }

  private fitRandomized(X: Matrix, k: number): PCAModel {
    const { rows: n, cols: d, data } = X;
    const mean = columnMeans(data, n, d);
    const l = Math.min(k + (this.options.nOversamples ?? 10), n, d);
    const fixed = this.options.iteratedPower ?? "auto";
    const minIter = fixed === "auto" ? (k < 0.1 * Math.min(n, d) ? 7 : 4) : fixed;
    const maxIter = fixed === "auto" ? minIter + 13 : fixed;
    const rng = new Random(this.options.randomState ?? 0);
    // Q: l orthonormal vectors of length n (row-major l × n); Z: l vectors of length d.
    const Z = new Float64Array(l * d);
    for (let e = 0; e < Z.length; e++) Z[e] = rng.normal();
    const Q = new Float64Array(l * n);
    timesCentered(data, mean, n, d, Z, l, Q);
    orthonormalize(Q, l, n, rng);
    let prev: Float64Array | null = null;
    let lastMove = Infinity;
    let svd: { sigma: Float64Array; vt: Float64Array };
    let it = 0;
    for (;;) {
      if (it >= minIter) {
        svd = smallSvd(data, mean, n, d, Q, l);
        if (it >= maxIter) break;
        // Stop when the leading axes no longer move (each compared with its last value, up to sign).
        if (prev) {
          let move = 0;
          for (let c = 0; c < k; c++) {
            let dot = 0;
            for (let j = 0; j < d; j++) dot += svd.vt[c * d + j] * prev[c * d + j];
            const sign = dot < 0 ? -1 : 1;
            let diff = 0;
            for (let j = 0; j < d; j++) diff += (svd.vt[c * d + j] - sign * prev[c * d + j]) ** 2;
            move = Math.max(move, Math.sqrt(diff));
          }
          // Converged; or converging so slowly (the axes are barely separated) that more
          // iterations would not settle them: stop at scikit-learn's count and beyond.
          if (move <= 1e-10 || move > 0.5 * lastMove) break;
          lastMove = move;
        }
        prev = svd.vt;
      }
      transposeTimesCentered(data, mean, n, d, Q, l, Z);
      orthonormalize(Z, l, d, rng);
      timesCentered(data, mean, n, d, Z, l, Q);
      orthonormalize(Q, l, n, rng);
      it++;
    }
    this.lastFit = { solver: "randomized", iterations: it };
    const comps = svd.vt.slice(0, k * d);
    flipSigns(comps, k, data, mean, n, d);
    let total = 0;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const t = data[i * d + j] - mean[j];
        s += t * t;
      }
      total += s / (n - 1);
    }
    const sv = svd.sigma.slice(0, k);
    const ev = Float64Array.from(sv, (s) => (s * s) / (n - 1));
    return new PCAModel(mean, { data: comps, rows: k, cols: d }, ev, Float64Array.from(ev, (v) => v / total), sv, this.options.whiten ?? false);
  }
}

function columnMeans(data: Float64Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
}

/** The n × n Gram matrix of the centred rows, divided by n − 1. */
function gram(data: Float64Array, mean: Float64Array, n: number, d: number): Float64Array {
  const C = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) C[i * d + j] = data[i * d + j] - mean[j];
  const G = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += C[a * d + j] * C[b * d + j];
      G[a * n + b] = G[b * n + a] = s / (n - 1);
    }
  }
  return G;
}

/** svd_flip on U: each axis turned so that the projection of largest magnitude is positive. */
function flipSigns(comps: Float64Array, k: number, data: Float64Array, mean: Float64Array, n: number, d: number): void {
  const best = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (data[i * d + j] - mean[j]) * comps[c * d + j];
      if (Math.abs(s) > Math.abs(best[c])) best[c] = s;
    }
  }
  for (let c = 0; c < k; c++) if (best[c] < 0) for (let j = 0; j < d; j++) comps[c * d + j] = -comps[c * d + j];
}

/** out[c] = (X − 1·meanᵀ) z_c for the l vectors z_c of length d (out: l × n, row-major). Four rows per pass over Z. */
function timesCentered(data: Float64Array, mean: Float64Array, n: number, d: number, Z: Float64Array, l: number, out: Float64Array): void {
  const shift = new Float64Array(l);
  for (let c = 0; c < l; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += mean[j] * Z[c * d + j];
    shift[c] = s;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const r0 = i * d;
    const r1 = r0 + d;
    const r2 = r1 + d;
    const r3 = r2 + d;
    for (let c = 0; c < l; c++) {
      const z = c * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < d; j++) {
        const zj = Z[z + j];
        s0 += data[r0 + j] * zj;
        s1 += data[r1 + j] * zj;
        s2 += data[r2 + j] * zj;
        s3 += data[r3 + j] * zj;
      }
      const o = c * n + i;
      out[o] = s0 - shift[c];
      out[o + 1] = s1 - shift[c];
      out[o + 2] = s2 - shift[c];
      out[o + 3] = s3 - shift[c];
    }
  }
  for (; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < l; c++) {
      const z = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += data[row + j] * Z[z + j];
      out[c * n + i] = s - shift[c];
    }
  }
}

/** out[c] = (X − 1·meanᵀ)ᵀ q_c for the l vectors q_c of length n (out: l × d, row-major). Four rows per pass over out. */
function transposeTimesCentered(data: Float64Array, mean: Float64Array, n: number, d: number, Q: Float64Array, l: number, out: Float64Array): void {
  out.fill(0);
  const sums = new Float64Array(l);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const r0 = i * d;
    const r1 = r0 + d;
    const r2 = r1 + d;
    const r3 = r2 + d;
    for (let c = 0; c < l; c++) {
      const q = c * n + i;
      const q0 = Q[q];
      const q1 = Q[q + 1];
      const q2 = Q[q + 2];
      const q3 = Q[q + 3];
      sums[c] += q0 + q1 + q2 + q3;
      const o = c * d;
      for (let j = 0; j < d; j++) out[o + j] += q0 * data[r0 + j] + q1 * data[r1 + j] + q2 * data[r2 + j] + q3 * data[r3 + j];
    }
  }
  for (; i < n; i++) {
    const row = i * d;
    for (let c = 0; c < l; c++) {
      const q = Q[c * n + i];
      sums[c] += q;
      const o = c * d;
      for (let j = 0; j < d; j++) out[o + j] += q * data[row + j];
    }
  }
  for (let c = 0; c < l; c++) for (let j = 0; j < d; j++) out[c * d + j] -= sums[c] * mean[j];
}

/**
 * Orthonormalises the l rows of V (each of length m) in place by Gram–Schmidt, twice over for
 * accuracy; a row that lies in the span of the earlier ones (the data has a smaller rank) is
 * replaced by a random direction orthogonal to them.
 */
function orthonormalize(V: Float64Array, l: number, m: number, rng: Random): void {
  for (let c = 0; c < l; c++) {
    const row = V.subarray(c * m, (c + 1) * m);
    for (let attempt = 0; ; attempt++) {
      let before = 0;
      for (let j = 0; j < m; j++) before += row[j] * row[j];
      for (let pass = 0; pass < 2; pass++) {
        for (let b = 0; b < c; b++) {
          const other = V.subarray(b * m, (b + 1) * m);
          let dot = 0;
          for (let j = 0; j < m; j++) dot += row[j] * other[j];
          for (let j = 0; j < m; j++) row[j] -= dot * other[j];
        }
      }
      let norm = 0;
      for (let j = 0; j < m; j++) norm += row[j] * row[j];
      if (norm > 1e-24 * before && norm > 0) {
        const f = 1 / Math.sqrt(norm);
        for (let j = 0; j < m; j++) row[j] *= f;
        break;
      }
      if (attempt > 5) {
        row.fill(0);
        break;
      }
      for (let j = 0; j < m; j++) row[j] = rng.normal();
    }
  }
}

/**
 * The SVD of B = Qᵀ Xc (l × d) through the eigen-decomposition of B Bᵀ (l × l): singular
 * values (decreasing) and the right singular vectors as the rows of vt (l × d).
 */
function smallSvd(data: Float64Array, mean: Float64Array, n: number, d: number, Q: Float64Array, l: number): { sigma: Float64Array; vt: Float64Array } {
  const B = new Float64Array(l * d);
  transposeTimesCentered(data, mean, n, d, Q, l, B);
  const BBt = new Float64Array(l * l);
  for (let a = 0; a < l; a++) {
    for (let b = a; b < l; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += B[a * d + j] * B[b * d + j];
      BBt[a * l + b] = BBt[b * l + a] = s;
    }
  }
  const { values, vectors } = symmetricEigen(BBt, l);
  const order = Array.from({ length: l }, (_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
  const sigma = new Float64Array(l);
  const vt = new Float64Array(l * d);
  order.forEach((e, c) => {
    // v = Bᵀ u / ‖Bᵀ u‖, whose norm is the singular value.
    const v = vt.subarray(c * d, (c + 1) * d);
    for (let a = 0; a < l; a++) {
      const u = vectors[a * l + e];
      for (let j = 0; j < d; j++) v[j] += u * B[a * d + j];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm);
    sigma[c] = norm;
    if (norm > 0) for (let j = 0; j < d; j++) v[j] /= norm;
  });
  return { sigma, vt };
}
