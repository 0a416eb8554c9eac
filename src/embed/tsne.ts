/**
 * t-SNE (t-distributed stochastic neighbour embedding) with the semantics of
 * scikit-learn 1.2's `TSNE`: exact or Barnes–Hut gradient, PCA or random initialisation,
 * perplexity-calibrated Gaussian affinities on the k = min(n − 1, ⌊3·perplexity + 1⌋)
 * nearest neighbours (Barnes–Hut) or on all pairs (exact), early exaggeration for 250
 * iterations with momentum 0.5, then momentum 0.8, per-parameter gains (min gain 0.01),
 * and scikit-learn's stopping rules (checked every 50 iterations).
 *
 * Differences from scikit-learn, all deliberate: the optimisation runs in float64
 * (scikit-learn's Barnes–Hut path runs in float32); the PCA initialisation uses the exact
 * PCA of preprocess/pca.ts (scikit-learn's randomized SVD gives the same axes up to
 * round-off); Barnes–Hut is 2-D only (use method "exact" for 1 or 3 components); with
 * maxIter = 250 the KL reported is the last one evaluated (scikit-learn reports the
 * largest float). As in scikit-learn, with more than 2 components (ν = nComponents − 1
 * degrees of freedom) the gradient weights each pair by (1 + d/ν)^(−(ν+1)/2), which is the
 * exact derivative only for ν = 1.
 *
 * The hot loops live in embed/kernels/ as self-contained chunked kernels (the parallel
 * executor's signature); they run on the calling thread.
 */
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toMatrix } from "../core/matrix.js";
import { makeRandom } from "../core/random.js";
import { PCA } from "../preprocess/pca.js";
import { QuadTree } from "./kernels/quadtree.js";
import { klDivergenceExactKernel } from "./kernels/tsne-exact.js";
import { bhNegativeKernel, bhPositiveKernel, knnKernel, perplexityKernel } from "./kernels/tsne-kernels.js";

export interface TSNEOptions {
  /** Dimension of the embedding. Default 2 (Barnes–Hut needs 2). */
  nComponents?: number;
  /** Effective number of neighbours of each point. Default 30; must be less than the number of rows. */
  perplexity?: number;
  /** Factor on P during the first 250 iterations. Default 12. */
  earlyExaggeration?: number;
  /** "auto" (max(n / earlyExaggeration / 4, 50), the default) or a number. */
  learningRate?: "auto" | number;
  /** Maximum number of iterations, at least 250 (scikit-learn 1.2's n_iter). Default 1000. */
  maxIter?: number;
  /** Stop after this many iterations without a lower KL (checked every 50). Default 300. */
  nIterWithoutProgress?: number;
  /** Stop when the gradient norm falls to this (checked every 50). Default 1e-7. */
  minGradNorm?: number;
  /** "pca" (default: the PCA projection scaled so the first column has std 1e-4), "random" (N(0, 1e-4²)), or an n × nComponents Matrix. */
  init?: "pca" | "random" | MatrixLike;
  /** Barnes–Hut opening angle θ: a cell is summarised when width / distance < θ. Default 0.5. */
  angle?: number;
  /** "barnes_hut" (default, O(n log n)) or "exact" (O(n²) time and memory). */
  method?: "barnes_hut" | "exact";
  /** Seed of the random initialisation; undefined means a different run every time. */
  randomState?: number | null;
}

export interface TSNEProgress {
  /** Iterations done. */
  iteration: number;
  /** KL divergence (with the exaggerated P during the first phase). */
  klDivergence: number;
  gradNorm: number;
  exaggeration: number;
}

export interface TSNEFitOptions {
  /** Aborts the fit (checked every iteration; the event loop is given a turn every 50). */
  signal?: AbortSignal;
  /** Called every 50 iterations. */
  onProgress?: (p: TSNEProgress) => void;
}

/** A fitted t-SNE: the embedding of the training rows, its KL divergence and iteration count. */
export class TSNEModel {
  constructor(
    /** n × nComponents. */
    readonly embedding: Matrix,
    /** KL(P ‖ Q) at the last evaluated iteration (scikit-learn's kl_divergence_). */
    readonly klDivergence: number,
    /** scikit-learn's n_iter_: the 0-based index of the last iteration run (999 for 1000 iterations). */
    readonly nIter: number,
    /** The learning rate used (scikit-learn's learning_rate_). */
    readonly learningRate: number,
  ) {}
}

/** Sparse symmetric joint probabilities (CSR, sorted column indices). */
export interface SparseP {
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

const EXPLORATION_N_ITER = 250;
const N_ITER_CHECK = 50;
const MACHINE_EPSILON = 2.220446049250313e-16;

function nChunksFor(n: number): number {
  return Math.max(1, Math.min(64, n));
}

/**
 * Exact k nearest neighbours of every row (itself excluded): indices (n × k, nearest first,
 * ties to the lower index) and squared Euclidean distances.
 */
export function nearestNeighbors(X: Matrix, k: number): { indices: Int32Array; distances: Float64Array } {
  const { rows: n, cols: d } = X;
  if (!(Number.isInteger(k) && k >= 1 && k < n)) throw new InputError(`k must be a whole number in [1, ${n - 1}]; got ${k}`);
  const indices = new Int32Array(n * k);
  const distances = new Float64Array(n * k);
  const nChunks = nChunksFor(n);
  knnKernel({ X: X.data, indices, distances }, { n, d, k, nChunks }, 0, nChunks);
  return { indices, distances };
}

/**
 * Conditional probabilities p(j | i) from squared distances (n × k), calibrated to the
 * perplexity by scikit-learn's binary search. The distances are rounded to float32 first,
 * as scikit-learn does, so that the search takes the same steps.
 */
export function conditionalProbabilities(
  sqDistances: Float64Array, n: number, k: number, perplexity: number, usingNeighbors = true,
): Float64Array {
  const distances = Float64Array.from(sqDistances, Math.fround);
  const conditional = new Float64Array(n * k);
  const beta = new Float64Array(n);
  const nChunks = nChunksFor(n);
  perplexityKernel({ distances, conditional, beta }, { n, k, perplexity, usingNeighbors: usingNeighbors ? 1 : 0, nChunks }, 0, nChunks);
  return conditional;
}

/**
 * The joint probabilities of Barnes–Hut t-SNE: scikit-learn's `_joint_probabilities_nn`.
 * P = (C + Cᵀ) / ΣC over the k nearest neighbours (C the conditional probabilities), as a
 * symmetric CSR matrix with sorted column indices.
 */
export function jointProbabilitiesNN(
  indices: Int32Array, sqDistances: Float64Array, n: number, k: number, perplexity: number,
): SparseP {
  const cond = conditionalProbabilities(sqDistances, n, k, perplexity, true);
  // Transposed adjacency: for each j, the rows i that have j among their neighbours.
  const revPtr = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) revPtr[indices[e] + 1]++;
  for (let j = 0; j < n; j++) revPtr[j + 1] += revPtr[j];
  const revRow = new Int32Array(n * k);
  const revVal = new Float64Array(n * k);
  const fill = revPtr.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      const at = fill[j]++;
      revRow[at] = i;
      revVal[at] = cond[i * k + t];
    }
  }
  const acc = new Float64Array(n);
  const seen = new Uint8Array(n);
  const indptr = new Int32Array(n + 1);
  const cols = new Int32Array(2 * n * k);
  const vals = new Float64Array(2 * n * k);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const start = nnz;
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      if (!seen[j]) {
        seen[j] = 1;
        cols[nnz++] = j;
      }
      acc[j] += cond[i * k + t];
    }
    for (let e = revPtr[i]; e < revPtr[i + 1]; e++) {
      const j = revRow[e];
      if (!seen[j]) {
        seen[j] = 1;
        cols[nnz++] = j;
      }
      acc[j] += revVal[e];
    }
    cols.subarray(start, nnz).sort();
    for (let e = start; e < nnz; e++) {
      const j = cols[e];
      vals[e] = acc[j];
      acc[j] = 0;
      seen[j] = 0;
    }
    indptr[i + 1] = nnz;
  }
  let sum = 0;
  for (let e = 0; e < nnz; e++) sum += vals[e];
  sum = Math.max(sum, MACHINE_EPSILON);
  const values = vals.slice(0, nnz);
  for (let e = 0; e < nnz; e++) values[e] /= sum;
  return { n, indptr, indices: cols.slice(0, nnz), values };
}

/** Squared Euclidean distances between all rows (n × n). */
function pairwiseSqDistances(X: Matrix): Float64Array {
  const { rows: n, cols: d, data } = X;
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const u = data[i * d + t] - data[j * d + t];
        s += u * u;
      }
      D[i * n + j] = s;
      D[j * n + i] = s;
    }
  }
  return D;
}

/**
 * The joint probabilities of exact t-SNE: scikit-learn's `_joint_probabilities` as a full
 * symmetric n × n matrix: max((C + Cᵀ) / ΣC, ε) off the diagonal, 0 on it.
 */
export function jointProbabilities(sqDistances: Float64Array, n: number, perplexity: number): Float64Array {
  const cond = conditionalProbabilities(sqDistances, n, n, perplexity, false);
  const P = new Float64Array(n * n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = cond[i * n + j] + cond[j * n + i];
      P[i * n + j] = v;
      sum += 2 * v;
    }
  }
  sum = Math.max(sum, MACHINE_EPSILON);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.max(P[i * n + j] / sum, MACHINE_EPSILON);
      P[i * n + j] = v;
      P[j * n + i] = v;
    }
  }
  return P;
}

/** KL divergence and its gradient for a dense P (scikit-learn's `_kl_divergence`). */
export function klDivergenceExact(
  Yin: MatrixLike, P: Float64Array, options: { degreesOfFreedom?: number } = {},
): { klDivergence: number; gradient: Float64Array } {
  const Y = toMatrix(Yin, "Y");
  const gradient = new Float64Array(Y.rows * Y.cols);
  const dof = options.degreesOfFreedom ?? Math.max(Y.cols - 1, 1);
  const klDivergence = klDivergenceExactKernel(Y.data, Y.rows, Y.cols, P, dof, 1, gradient, true);
  return { klDivergence, gradient };
}

/**
 * Barnes–Hut objective state: the quadtree and the force buffers, allocated once and
 * reused by every gradient evaluation.
 */
class BarnesHut {
  readonly tree: QuadTree;
  readonly neg: Float64Array;
  readonly pos: Float64Array;
  readonly sumQParts: Float64Array;
  readonly errorParts: Float64Array;
  readonly nChunks: number;

  constructor(readonly P: SparseP, readonly theta: number) {
    const n = P.n;
    this.tree = new QuadTree(4 * n + 16);
    this.neg = new Float64Array(2 * n);
    this.pos = new Float64Array(2 * n);
    this.nChunks = nChunksFor(n);
    this.sumQParts = new Float64Array(this.nChunks);
    this.errorParts = new Float64Array(this.nChunks);
  }

  /** Writes ∂KL/∂Y into grad; returns the KL divergence (NaN unless computeError). */
  evaluate(Y: Float64Array, grad: Float64Array, exaggeration: number, computeError: boolean): number {
    const { P, tree, neg, pos, nChunks } = this;
    const n = P.n;
    const nCells = tree.build(Y, n);
    bhNegativeKernel(
      { Y, cells: tree.cells, cellNext: tree.cellNext, order: tree.order, neg, sumQ: this.sumQParts },
      { n, nCells, theta2: this.theta * this.theta, nChunks }, 0, nChunks,
    );
    let sumQ = 0;
    for (let c = 0; c < nChunks; c++) sumQ += this.sumQParts[c];
    sumQ = Math.max(sumQ, MACHINE_EPSILON);
    bhPositiveKernel(
      { Y, indptr: P.indptr, indices: P.indices, values: P.values, pos, error: this.errorParts },
      { n, dim: 2, dof: 1, exaggeration, sumQ, computeError: computeError ? 1 : 0, nChunks }, 0, nChunks,
    );
    for (let e = 0; e < 2 * n; e++) grad[e] = 4 * (pos[e] - neg[e] / sumQ);
    if (!computeError) return NaN;
    let C = 0;
    for (let c = 0; c < nChunks; c++) C += this.errorParts[c];
    return C;
  }
}

/** KL divergence and its Barnes–Hut gradient for a sparse P (scikit-learn's `_kl_divergence_bh`, 2-D). */
export function klDivergenceBH(Yin: MatrixLike, P: SparseP, options: { angle?: number } = {}): { klDivergence: number; gradient: Float64Array } {
  const Y = toMatrix(Yin, "Y");
  if (Y.cols !== 2) throw new InputError("the Barnes–Hut gradient is 2-D: Y must have 2 columns");
  if (Y.rows !== P.n) throw new InputError(`Y has ${Y.rows} rows but P is ${P.n} × ${P.n}`);
  const gradient = new Float64Array(Y.rows * 2);
  const klDivergence = new BarnesHut(P, options.angle ?? 0.5).evaluate(Y.data, gradient, 1, true);
  return { klDivergence, gradient };
}

/**
 * The PCA initialisation: the projection on the first nComponents principal axes, scaled so
 * that the standard deviation of the first column is 1e-4.
 */
export async function pcaInitialization(Xin: MatrixLike, nComponents = 2): Promise<Matrix> {
  const X = toMatrix(Xin, "X");
  const Y = (await new PCA({ nComponents }).fit(X)).transform(X);
  const n = Y.rows;
  const k = Y.cols;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += Y.data[i * k];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (Y.data[i * k] - mean) ** 2;
  const sd = Math.sqrt(v / n);
  const f = sd > 0 ? 1e-4 / sd : 1;
  for (let e = 0; e < Y.data.length; e++) Y.data[e] *= f;
  return Y;
}

function checkNumber(name: string, v: number, ok: boolean, what: string): void {
  if (typeof v !== "number" || !Number.isFinite(v) || !ok) throw new InputError(`${name} must be ${what}; got ${v}`);
}

/**
 * t-SNE as scikit-learn 1.2's `TSNE` (see the file comment for the few differences).
 *
 *     const { embedding, klDivergence } = await new TSNE({ randomState: 0 }).fit(X);
 */
export class TSNE {
  constructor(readonly options: TSNEOptions = {}) {
    const o = options;
    if (o.nComponents !== undefined) checkNumber("nComponents", o.nComponents, Number.isInteger(o.nComponents) && o.nComponents >= 1, "a whole number ≥ 1");
    if (o.perplexity !== undefined) checkNumber("perplexity", o.perplexity, o.perplexity > 0, "a number > 0");
    if (o.earlyExaggeration !== undefined) checkNumber("earlyExaggeration", o.earlyExaggeration, o.earlyExaggeration >= 1, "a number ≥ 1");
    if (o.learningRate !== undefined && o.learningRate !== "auto") checkNumber("learningRate", o.learningRate, o.learningRate > 0, '"auto" or a number > 0');
    if (o.maxIter !== undefined) checkNumber("maxIter", o.maxIter, Number.isInteger(o.maxIter) && o.maxIter >= 250, "a whole number ≥ 250");
    if (o.nIterWithoutProgress !== undefined) checkNumber("nIterWithoutProgress", o.nIterWithoutProgress, Number.isInteger(o.nIterWithoutProgress) && o.nIterWithoutProgress >= -1, "a whole number ≥ −1");
    if (o.minGradNorm !== undefined) checkNumber("minGradNorm", o.minGradNorm, o.minGradNorm >= 0, "a number ≥ 0");
    if (o.angle !== undefined) checkNumber("angle", o.angle, o.angle >= 0 && o.angle <= 1, "a number in [0, 1]");
    if (o.method !== undefined && o.method !== "barnes_hut" && o.method !== "exact") throw new InputError(`method must be "barnes_hut" or "exact"; got ${String(o.method)}`);
    if (typeof o.init === "string" && o.init !== "pca" && o.init !== "random") throw new InputError(`init must be "pca", "random" or a Matrix; got ${o.init}`);
    if ((o.method ?? "barnes_hut") === "barnes_hut" && (o.nComponents ?? 2) !== 2) {
      throw new InputError(`method "barnes_hut" embeds in 2 dimensions; use method "exact" for nComponents = ${o.nComponents}`);
    }
  }

  /** Fits and returns the embedding (n × nComponents). */
  async fitTransform(X: MatrixLike, fitOptions: TSNEFitOptions = {}): Promise<Matrix> {
    return (await this.fit(X, fitOptions)).embedding;
  }

  async fit(Xin: MatrixLike, fitOptions: TSNEFitOptions = {}): Promise<TSNEModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const n = X.rows;
    const dim = o.nComponents ?? 2;
    const perplexity = o.perplexity ?? 30;
    const ee = o.earlyExaggeration ?? 12;
    const method = o.method ?? "barnes_hut";
    const maxIter = o.maxIter ?? 1000;
    const { signal, onProgress } = fitOptions;
    if (n < 2) throw new InputError("t-SNE needs at least 2 rows");
    if (perplexity >= n) throw new InputError(`perplexity (${perplexity}) must be less than the number of rows (${n})`);
    const learningRate = o.learningRate === undefined || o.learningRate === "auto" ? Math.max(n / ee / 4, 50) : o.learningRate;

    const abortIfNeeded = (): void => {
      if (signal?.aborted) throw new AbortError("t-SNE was aborted");
    };
    abortIfNeeded();

    let objective: (Y: Float64Array, grad: Float64Array, exaggeration: number, computeError: boolean) => number;
    if (method === "exact") {
      if (n > 12_000) throw new InputError(`method "exact" keeps an n × n matrix: ${n} rows is too many; use method "barnes_hut"`);
      const P = jointProbabilities(pairwiseSqDistances(X), n, perplexity);
      const dof = Math.max(dim - 1, 1);
      objective = (Y, grad, exaggeration, computeError) => klDivergenceExactKernel(Y, n, dim, P, dof, exaggeration, grad, computeError);
    } else {
      const k = Math.min(n - 1, Math.floor(3 * perplexity + 1));
      const knn = nearestNeighbors(X, k);
      abortIfNeeded();
      const bh = new BarnesHut(jointProbabilitiesNN(knn.indices, knn.distances, n, k, perplexity), o.angle ?? 0.5);
      objective = (Y, grad, exaggeration, computeError) => bh.evaluate(Y, grad, exaggeration, computeError);
    }
    abortIfNeeded();

    const init = o.init ?? "pca";
    let Y: Float64Array;
    if (init === "pca") Y = (await pcaInitialization(X, dim)).data;
    else if (init === "random") {
      const rng = makeRandom(o.randomState);
      Y = new Float64Array(n * dim);
      for (let e = 0; e < Y.length; e++) Y[e] = 1e-4 * rng.normal();
    } else {
      const M = toMatrix(init, "init");
      if (M.rows !== n || M.cols !== dim) throw new InputError(`init has ${M.rows} × ${M.cols} values; expected ${n} × ${dim} (rows × nComponents)`);
      Y = Float64Array.from(M.data);
    }

    const grad = new Float64Array(n * dim);
    const update = new Float64Array(n * dim);
    const gains = new Float64Array(n * dim);
    const minGain = 0.01;
    const minGradNorm = o.minGradNorm ?? 1e-7;
    const yieldTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

    // scikit-learn's _gradient_descent: returns the last error evaluated and the last iteration index.
    const descend = async (
      it: number, nIter: number, momentum: number, nIterWithoutProgress: number, exaggeration: number,
    ): Promise<{ error: number; it: number }> => {
      update.fill(0);
      gains.fill(1);
      let error = Number.MAX_VALUE;
      let bestError = Number.MAX_VALUE;
      let bestIter = it;
      let i = it;
      for (; i < nIter; i++) {
        abortIfNeeded();
        const check = (i + 1) % N_ITER_CHECK === 0;
        error = objective(Y, grad, exaggeration, check || i === nIter - 1);
        let norm2 = 0;
        for (let e = 0; e < grad.length; e++) {
          const g = grad[e];
          const u = update[e];
          let gain = u * g < 0 ? gains[e] + 0.2 : gains[e] * 0.8;
          if (gain < minGain) gain = minGain;
          gains[e] = gain;
          const gg = g * gain;
          norm2 += gg * gg;
          const nu = momentum * u - learningRate * gg;
          update[e] = nu;
          Y[e] += nu;
        }
        if (check) {
          const gradNorm = Math.sqrt(norm2);
          onProgress?.({ iteration: i + 1, klDivergence: error, gradNorm, exaggeration });
          if (signal) {
            await yieldTurn();
            abortIfNeeded();
          }
          if (error < bestError) {
            bestError = error;
            bestIter = i;
          } else if (i - bestIter > nIterWithoutProgress) break;
          if (gradNorm <= minGradNorm) break;
        }
      }
      return { error, it: i === nIter ? nIter - 1 : i };
    };

    let r = await descend(0, EXPLORATION_N_ITER, 0.5, EXPLORATION_N_ITER, ee);
    if (r.it + 1 < maxIter) r = await descend(r.it + 1, maxIter, 0.8, o.nIterWithoutProgress ?? 300, 1);
    return new TSNEModel({ data: Y, rows: n, cols: dim }, r.error, r.it, learningRate);
  }
}

/**
 * Trustworthiness of an embedding (scikit-learn's `sklearn.manifold.trustworthiness`,
 * Euclidean): 1 − 2/(nk(2n − 3k − 1)) Σᵢ Σ_{j ∈ kNN_emb(i)} max(0, r(i, j) − k), with r(i, j)
 * the rank of j among i's neighbours in the input space. O(n²) time, O(n) memory.
 */
export function trustworthiness(Xin: MatrixLike, Yin: MatrixLike, nNeighbors = 5): number {
  const X = toMatrix(Xin, "X");
  const Y = toMatrix(Yin, "Y");
  const n = X.rows;
  const k = nNeighbors;
  if (Y.rows !== n) throw new InputError(`X has ${n} rows but the embedding has ${Y.rows}`);
  if (!(Number.isInteger(k) && k >= 1 && k < n / 2)) throw new InputError(`nNeighbors (${k}) should be a whole number less than n / 2 (${n / 2})`);
  const { indices } = nearestNeighbors(Y, k);
  const dx = new Float64Array(n);
  const d = X.cols;
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) {
        const u = X.data[i * d + a] - X.data[j * d + a];
        s += u * u;
      }
      dx[j] = s;
    }
    for (let m = 0; m < k; m++) {
      const j = indices[i * k + m];
      const dj = dx[j];
      // Rank of j among i's input-space neighbours (1 = nearest; ties to the lower index).
      let rank = 1;
      for (let l = 0; l < n; l++) {
        if (l === i || l === j) continue;
        if (dx[l] < dj || (dx[l] === dj && l < j)) rank++;
      }
      if (rank > k) t += rank - k;
    }
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}
