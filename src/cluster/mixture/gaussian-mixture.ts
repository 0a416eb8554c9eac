/**
 * Gaussian mixtures fitted by EM, with scikit-learn 1.2's GaussianMixture semantics, defaults
 * and numerics: the precisions' Cholesky factors, log-determinants from them, log-sum-exp
 * responsibilities, the lower bound as the mean log-likelihood, convergence when it changes
 * by less than tol, the best of nInit runs, and a final E-step so that the labels agree with
 * the returned parameters.
 *
 * Each EM iteration is one pass over the rows (cluster/mixture/kernels.ts): the E-step with
 * the current parameters and, in the same pass, the sums the M-step needs, per chunk of rows,
 * on the worker pool when one is installed; the chunks' sums are added in chunk order, so
 * results do not depend on the number of workers. The M-step forms scikit-learn's estimates
 * from those sums (means Σ r x / nₖ with nₖ = Σ r + 10ε, covariances with regCovar added to
 * the diagonal, weights nₖ / Σ nₖ), analytically the same expressions as scikit-learn's.
 */
import { AbortError, InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../../core/matrix.js";
import { allocF64, allocI32, getParallelExecutor, isShared, type ParallelExecutor, sharedMemoryAvailable, type TypedArray } from "../../core/parallel.js";
import { makeRandom, type Random } from "../../core/random.js";
import { KMeans, kmeansPlusPlus } from "../kmeans.js";
import { DIAG, FULL, type MixtureParams, type MixtureShared, mixtureEStepKernel, secondMomentSize, SPHERICAL, TIED } from "./kernels.js";
import {
  choleskyLower, choleskyUpperOfPrecision, invLowerTransposed, isLowerTriangular, isSymmetric, isUpperTriangular, packUpper, timesTranspose, unpackSymmetric,
} from "./linalg.js";

export type CovarianceType = "full" | "tied" | "diag" | "spherical";
export type MixtureInitParams = "kmeans" | "k-means++" | "random" | "random_from_data";
export const COVARIANCE_TYPES: readonly CovarianceType[] = ["full", "tied", "diag", "spherical"];
const INIT_PARAMS: readonly MixtureInitParams[] = ["kmeans", "k-means++", "random", "random_from_data"];

/**
 * Covariances, precisions or their Cholesky factors, in scikit-learn's shapes: "full", an
 * array of k d × d matrices ((k, d, d)); "tied", one d × d matrix; "diag", a k × d matrix;
 * "spherical", k numbers.
 */
export type MixtureMatrices = Matrix[] | Matrix | Float64Array;

export interface GaussianMixtureOptions {
  /** Number of components (segments). Default 1. */
  nComponents?: number;
  /** "full" (default): each component its own covariance; "tied": one shared; "diag": axis-aligned; "spherical": one variance each. */
  covarianceType?: CovarianceType;
  /** Convergence threshold on the change of the lower bound (mean log-likelihood). Default 1e-3. */
  tol?: number;
  /** Added to the covariances' diagonals so that they stay positive definite. Default 1e-6. */
  regCovar?: number;
  /** EM iterations per initialisation. Default 100 (0 returns the initial parameters). */
  maxIter?: number;
  /** Initialisations; the one with the best lower bound is kept. Default 1. */
  nInit?: number;
  /**
   * How the initial responsibilities are drawn: "kmeans" (default; the labels of one K-Means
   * run), "k-means++" (k rows picked by k-means++), "random" (uniform, normalised per row),
   * "random_from_data" (k random rows). Seeds do not reproduce scikit-learn's draws: the
   * random streams differ from numpy's. Unlike scikit-learn, with "kmeans" and nInit > 1 the
   * second, fourth, … runs start from k-means++ rows: K-Means from different seeds mostly
   * reaches the same partition and so the same EM optimum, and the alternation finds better
   * optima more often (on the real tables of test/fixtures/gmm.json the median lower bound
   * over seeds is at least scikit-learn's, where kmeans-only runs fell below it on three).
   */
  initParams?: MixtureInitParams;
  /** Initial weights (k values in [0, 1] summing to 1). */
  weightsInit?: ArrayLike<number>;
  /** Initial means (k × d). */
  meansInit?: MatrixLike;
  /**
   * Initial precisions (inverse covariances): "full", k matrices d × d; "tied", one d × d
   * matrix; "diag", a k × d matrix; "spherical", k numbers.
   */
  precisionsInit?: Matrix[] | ArrayLike<ArrayLike<ArrayLike<number>>> | MatrixLike | ArrayLike<number>;
  /** Seed; undefined means a different run every time. With "kmeans", the first initialisation is KMeans with this seed. */
  randomState?: number | null;
  /**
   * scikit-learn's warm_start: when true and `fit` is given `{ previous: model }`, the fit
   * starts from that model's parameters (and its lower bound) instead of initialising, with
   * one run whatever nInit.
   */
  warmStart?: boolean;
}

export interface GaussianMixtureProgress {
  init: number;
  nInit: number;
  iteration: number;
  lowerBound: number;
}

export interface GaussianMixtureFitOptions {
  signal?: AbortSignal;
  /** Called after every EM iteration. */
  onProgress?: (p: GaussianMixtureProgress) => void;
  /** Receives warnings (no convergence within maxIter). */
  onWarning?: (message: string) => void;
  /** With `warmStart: true`: the model to continue from (same nComponents, covarianceType and features). */
  previous?: GaussianMixtureModel;
  /** 0 keeps the fit on the calling thread even when a worker pool is installed. */
  workers?: 0;
}

export interface GaussianMixtureJSON {
  type: "GaussianMixture";
  version: 1;
  covarianceType: CovarianceType;
  nComponents: number;
  nFeatures: number;
  weights: number[];
  means: number[][];
  /** full: k × d × d; tied: d × d; diag: k × d; spherical: k. */
  covariances: number[] | number[][] | number[][][];
  precisionsCholesky: number[] | number[][] | number[][][];
  converged: boolean;
  nIter: number;
  /** null when there was no EM iteration (−∞). */
  lowerBound: number | null;
  labels?: number[];
}

const EPS = 2.220446049250313e-16;
const LOG_2PI = Math.log(2 * Math.PI);
/** Rows per chunk: the unit of a worker's work and of the order in which sums are added. */
const CHUNK = 4096;
/** Work per pass (rows × components × (d² + d)) from which workers are used. */
const PARALLEL_WORK = 2_000_000;

function typeCode(t: CovarianceType): number {
  return t === "full" ? FULL : t === "tied" ? TIED : t === "diag" ? DIAG : SPHERICAL;
}

/** Length of the flat covariance (or precision factor) arrays of a type. */
function covLength(t: CovarianceType, k: number, d: number): number {
  return t === "full" ? k * d * d : t === "tied" ? d * d : t === "diag" ? k * d : k;
}

/** The parameters of a mixture, flat: scikit-learn's weights_, means_, covariances_, precisions_cholesky_. */
interface Params {
  weights: Float64Array;
  means: Float64Array;
  /** null when not known (precisionsInit given and no M-step yet). */
  cov: Float64Array | null;
  pchol: Float64Array;
}

/** scikit-learn's number of free parameters (_n_parameters). */
export function mixtureParameterCount(k: number, d: number, t: CovarianceType): number {
  const cov = t === "full" ? (k * d * (d + 1)) / 2 : t === "diag" ? k * d : t === "tied" ? (d * (d + 1)) / 2 : k;
  return Math.trunc(cov + d * k + k - 1);
}

/** A fitted Gaussian mixture. */
export class GaussianMixtureModel {
  readonly nComponents: number;
  readonly nFeatures: number;
  readonly weights: Float64Array;
  readonly means: Matrix;
  readonly covariances: MixtureMatrices;
  readonly precisions: MixtureMatrices;
  readonly precisionsCholesky: MixtureMatrices;
  /** The kernel's form of the parameters. */
  private readonly kprec: Float64Array;
  private readonly bias: Float64Array;
  private readonly muU: Float64Array;

  /** @internal Use GaussianMixture.fit or GaussianMixtureModel.fromJSON. */
  constructor(
    readonly covarianceType: CovarianceType,
    params: Params,
    readonly converged: boolean,
    readonly nIter: number,
    readonly lowerBound: number,
    /** The training rows' components (the fit's final E-step); empty for a loaded model without them. */
    readonly labels: Int32Array,
  ) {
    const k = params.weights.length;
    const d = params.means.length / k;
    this.nComponents = k;
    this.nFeatures = d;
    this.weights = params.weights;
    this.means = { data: params.means, rows: k, cols: d };
    const t = covarianceType;
    const cov = params.cov ?? covariancesFromFactors(t, params.pchol, k, d);
    this.covariances = shape(t, cov, k, d);
    this.precisionsCholesky = shape(t, params.pchol, k, d);
    this.precisions = shape(t, precisionsFromFactors(t, params.pchol, k, d), k, d);
    const kf = kernelForm(t, params, k, d);
    this.kprec = kf.kprec;
    this.bias = kf.bias;
    this.muU = kf.muU;
  }

  /** scikit-learn's _n_parameters: free parameters of the model (for BIC and AIC). */
  get nParameters(): number {
    return mixtureParameterCount(this.nComponents, this.nFeatures, this.covarianceType);
  }

  /** The most probable component of each row. */
  predict(X: MatrixLike): Int32Array {
    return this.evaluate(X, true, false, false).labels;
  }

  /** Each row's probability of each component (n × k; rows sum to 1). */
  predictProba(X: MatrixLike): Matrix {
    const r = this.evaluate(X, false, false, true);
    return { data: r.resp, rows: r.n, cols: this.nComponents };
  }

  /** Each row's log-likelihood under the mixture. */
  scoreSamples(X: MatrixLike): Float64Array {
    return this.evaluate(X, false, true, false).logp;
  }

  /** The mean log-likelihood of the rows. */
  score(X: MatrixLike): number {
    const r = this.evaluate(X, false, false, false);
    return r.total / r.n;
  }

  /** Bayesian information criterion: −2 · score · n + nParameters · ln n (lower is better). */
  bic(X: MatrixLike): number {
    const r = this.evaluate(X, false, false, false);
    return -2 * (r.total / r.n) * r.n + this.nParameters * Math.log(r.n);
  }

  /** Akaike information criterion: −2 · score · n + 2 · nParameters (lower is better). */
  aic(X: MatrixLike): number {
    const r = this.evaluate(X, false, false, false);
    return -2 * (r.total / r.n) * r.n + 2 * this.nParameters;
  }

  /**
   * n random rows from the mixture, grouped by component as scikit-learn's sample returns
   * them: the counts per component are multinomial(n, weights), then each component's rows
   * are its mean plus its covariance's Cholesky factor times standard normal draws.
   */
  sample(n: number, seed?: number): { X: Matrix; labels: Int32Array } {
    if (!Number.isInteger(n) || n < 1) throw new InputError(`sample: n is ${n}; expected a whole number ≥ 1`);
    const { nComponents: k, nFeatures: d, covarianceType: t } = this;
    const rng = makeRandom(seed);
    const counts = new Int32Array(k);
    for (let i = 0; i < n; i++) counts[rng.choice(this.weights)]++;
    const cov = flatOf(this.covariances);
    const X = new Float64Array(n * d);
    const labels = new Int32Array(n);
    const L = new Float64Array(d * d);
    const z = new Float64Array(d);
    let row = 0;
    for (let c = 0; c < k; c++) {
      if (t === "full" || t === "tied") {
        const ok = choleskyLower(cov, d, L, t === "full" ? c * d * d : 0);
        if (!ok) throw new InputError(`sample: the covariance of component ${c} is not positive definite`);
      }
      for (let s = 0; s < counts[c]; s++, row++) {
        labels[row] = c;
        for (let j = 0; j < d; j++) z[j] = rng.normal();
        for (let j = 0; j < d; j++) {
          let v = this.means.data[c * d + j];
          if (t === "full" || t === "tied") {
            for (let m = 0; m <= j; m++) v += L[j * d + m] * z[m];
          } else {
            v += z[j] * Math.sqrt(t === "diag" ? cov[c * d + j] : cov[c]);
          }
          X[row * d + j] = v;
        }
      }
    }
    return { X: { data: X, rows: n, cols: d }, labels };
  }

  toJSON(options: { includeLabels?: boolean } = {}): GaussianMixtureJSON {
    const t = this.covarianceType;
    const json: GaussianMixtureJSON = {
      type: "GaussianMixture",
      version: 1,
      covarianceType: t,
      nComponents: this.nComponents,
      nFeatures: this.nFeatures,
      weights: Array.from(this.weights),
      means: toArrays(this.means),
      covariances: nested(t, this.covariances),
      precisionsCholesky: nested(t, this.precisionsCholesky),
      converged: this.converged,
      nIter: this.nIter,
      lowerBound: Number.isFinite(this.lowerBound) ? this.lowerBound : null,
    };
    if (options.includeLabels !== false && this.labels.length > 0) json.labels = Array.from(this.labels);
    return json;
  }

  /**
   * Restores a model from `toJSON()`, checking every field first (shapes, finite numbers,
   * weights in [0, 1] summing to 1, triangular precision factors with a positive diagonal,
   * labels in range); messages name the field.
   */
  static fromJSON(json: GaussianMixtureJSON): GaussianMixtureModel {
    return modelFromJSON(json);
  }

  /** Runs the E-step over X with the outputs asked for. */
  private evaluate(Xin: MatrixLike, wantLabels: boolean, wantLogp: boolean, wantResp: boolean): {
    labels: Int32Array; logp: Float64Array; resp: Float64Array; total: number; n: number;
  } {
    const X = toMatrix(Xin, "X");
    if (X.cols !== this.nFeatures) {
      throw new InputError(`X has ${X.cols} ${X.cols === 1 ? "column" : "columns"} but the mixture was fitted on ${this.nFeatures}; give the same features in the same order`);
    }
    if (X.rows === 0) throw new InputError("X has no rows");
    const n = X.rows;
    const k = this.nComponents;
    const d = this.nFeatures;
    const executor = getParallelExecutor();
    const work = n * k * (d * d + d);
    const parallel = executor?.runSync && sharedMemoryAvailable() && work >= PARALLEL_WORK && n >= 2 * CHUNK ? executor : null;
    const sh = parallel !== null;
    const nChunks = Math.max(1, Math.ceil(n / CHUNK));
    const type = typeCode(this.covarianceType);
    const S: MixtureShared = {
      X: sh && !isShared(X.data) ? sharedCopy(X.data) : X.data,
      mu: copyInto(this.means.data, sh),
      prec: copyInto(this.kprec, sh),
      muU: copyInto(this.muU, sh),
      cen: allocF64(0, sh),
      bias: copyInto(this.bias, sh),
      R: allocF64(0, sh),
      S1: allocF64(0, sh),
      S2: allocF64(0, sh),
      lpn: allocF64(nChunks, sh),
      labels: allocI32(wantLabels ? n : 0, sh),
      logp: allocF64(wantLogp ? n : 0, sh),
      resp: allocF64(wantResp ? n * k : 0, sh),
    };
    const P: MixtureParams = { n, d, k, chunk: CHUNK, type, acc: 0 };
    if (parallel) parallel.runSync!("mixtureEStep", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, nChunks);
    else mixtureEStepKernel(S, P, 0, nChunks);
    let total = 0;
    for (let ch = 0; ch < nChunks; ch++) total += S.lpn[ch];
    return { labels: S.labels, logp: S.logp, resp: S.resp, total, n };
  }
}

function copyInto(a: Float64Array, shared: boolean): Float64Array {
  const out = allocF64(a.length, shared);
  out.set(a);
  return out;
}

function sharedCopy(a: Float64Array): Float64Array {
  return copyInto(a, true);
}

/** Flat values of a MixtureMatrices. */
function flatOf(m: MixtureMatrices): Float64Array {
  if (m instanceof Float64Array) return m;
  if (Array.isArray(m)) {
    const d = m.length > 0 ? m[0].cols : 0;
    const out = new Float64Array(m.length * d * d);
    m.forEach((x, c) => out.set(x.data, c * d * d));
    return out;
  }
  return (m as Matrix).data;
}

/** Flat values in scikit-learn's shape for the type. */
function shape(t: CovarianceType, flat: Float64Array, k: number, d: number): MixtureMatrices {
  if (t === "full") return Array.from({ length: k }, (_, c) => ({ data: flat.slice(c * d * d, (c + 1) * d * d), rows: d, cols: d }));
  if (t === "tied") return { data: flat, rows: d, cols: d };
  if (t === "diag") return { data: flat, rows: k, cols: d };
  return flat;
}

function nested(t: CovarianceType, m: MixtureMatrices): number[] | number[][] | number[][][] {
  if (t === "full") return (m as Matrix[]).map((x) => toArrays(x));
  if (t === "spherical") return Array.from(m as Float64Array);
  return toArrays(m as Matrix);
}

/** Precisions from their factors A (A Aᵀ, or A² for diag and spherical), flat. */
function precisionsFromFactors(t: CovarianceType, pchol: Float64Array, k: number, d: number): Float64Array {
  const out = new Float64Array(pchol.length);
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    for (let c = 0; c < m; c++) timesTranspose(pchol, d, out, c * d * d, c * d * d);
  } else {
    for (let i = 0; i < pchol.length; i++) out[i] = pchol[i] * pchol[i];
  }
  return out;
}

/** Covariances as the inverses of the precisions (when only precisions are known), flat. */
function covariancesFromFactors(t: CovarianceType, pchol: Float64Array, k: number, d: number): Float64Array {
  if (t === "diag" || t === "spherical") return pchol.map((v) => 1 / (v * v));
  const m = t === "full" ? k : 1;
  const out = new Float64Array(m * d * d);
  const P = new Float64Array(d * d);
  const L = new Float64Array(d * d);
  const Li = new Float64Array(d * d);
  for (let c = 0; c < m; c++) {
    timesTranspose(pchol, d, P, c * d * d, 0);
    if (!choleskyLower(P, d, L)) throw new InputError(`the precision of component ${c} is not positive definite`);
    // Σ = P⁻¹ = L⁻ᵀ L⁻¹ = (L⁻¹)ᵀ (L⁻¹); invLowerTransposed gives (L⁻¹)ᵀ.
    invLowerTransposed(L, d, Li);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += Li[i * d + r] * Li[j * d + r];
        out[c * d * d + i * d + j] = s;
      }
    }
  }
  return out;
}

/**
 * The kernel's form of parameters: packed upper-triangular precision factors (a factor that
 * is not upper triangular, as scikit-learn's Cholesky factor of precisionsInit, is replaced by
 * the upper one of the same precision), squared factors for diag and spherical, the bias
 * log wₖ − d/2 log 2π + log det (from the factors' diagonals, as scikit-learn), and for
 * "tied" the products μₖ U.
 */
function kernelForm(t: CovarianceType, p: Params, k: number, d: number): { kprec: Float64Array; bias: Float64Array; muU: Float64Array } {
  const bias = new Float64Array(k);
  const logdet = new Float64Array(k);
  const m2 = (d * (d + 1)) / 2;
  let kprec: Float64Array;
  let muU = new Float64Array(0);
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    kprec = new Float64Array(m * m2);
    const U = new Float64Array(d * d);
    const P = new Float64Array(d * d);
    for (let c = 0; c < m; c++) {
      const o = c * d * d;
      let ld = 0;
      for (let j = 0; j < d; j++) ld += Math.log(p.pchol[o + j * d + j]);
      logdet[c] = ld;
      if (isUpperTriangular(p.pchol, d, o)) {
        packUpper(p.pchol, d, kprec, o, c * m2);
      } else {
        timesTranspose(p.pchol, d, P, o, 0);
        if (!choleskyUpperOfPrecision(P, d, U)) throw new InputError(`the precision of component ${c} is not positive definite`);
        packUpper(U, d, kprec, 0, c * m2);
      }
    }
    if (t === "tied") {
      for (let c = 1; c < k; c++) logdet[c] = logdet[0];
      muU = new Float64Array(k * d);
      for (let c = 0; c < k; c++) {
        let q = 0;
        for (let j = 0; j < d; j++) {
          let y = p.means[c * d] * kprec[q++];
          for (let i = 1; i <= j; i++) y += p.means[c * d + i] * kprec[q++];
          muU[c * d + j] = y;
        }
      }
    }
  } else {
    kprec = p.pchol.map((v) => v * v);
    if (t === "diag") {
      for (let c = 0; c < k; c++) {
        let ld = 0;
        for (let j = 0; j < d; j++) ld += Math.log(p.pchol[c * d + j]);
        logdet[c] = ld;
      }
    } else {
      for (let c = 0; c < k; c++) logdet[c] = d * Math.log(p.pchol[c]);
    }
  }
  for (let c = 0; c < k; c++) bias[c] = Math.log(p.weights[c]) + (logdet[c] - 0.5 * d * LOG_2PI);
  return { kprec, bias, muU };
}

/** Gaussian mixture clustering (scikit-learn's GaussianMixture). */
export class GaussianMixture {
  readonly options: Readonly<GaussianMixtureOptions>;

  constructor(options: GaussianMixtureOptions = {}) {
    this.options = { ...options };
    validateOptions(this.options);
  }

  /** Fits and returns the most probable component of each training row (the model's labels). */
  async fitPredict(X: MatrixLike, fitOptions: GaussianMixtureFitOptions = {}): Promise<Int32Array> {
    return (await this.fit(X, fitOptions)).labels;
  }

  async fit(Xin: MatrixLike, fitOptions: GaussianMixtureFitOptions = {}): Promise<GaussianMixtureModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const n = X.rows;
    const d = X.cols;
    const k = o.nComponents ?? 1;
    const t = o.covarianceType ?? "full";
    const tol = o.tol ?? 1e-3;
    const reg = o.regCovar ?? 1e-6;
    const maxIter = o.maxIter ?? 100;
    if (d === 0) throw new InputError("X has no columns: choose at least one feature");
    if (n < 2) throw new InputError(`X has ${n} ${n === 1 ? "row" : "rows"}; a Gaussian mixture needs at least 2`);
    if (n < k) throw new InputError(`X has ${n} rows but nComponents is ${k}: lower nComponents (at most the number of rows) or supply more rows`);
    const init = checkInits(o, k, d, t);
    const previous = fitOptions.previous;
    if (previous !== undefined && !o.warmStart) {
      throw new InputError("fit was given a previous model but warmStart is false: set warmStart: true to continue from it, or leave previous out");
    }
    if (previous) {
      if (!(previous instanceof GaussianMixtureModel)) throw new InputError("previous must be a fitted GaussianMixtureModel");
      if (previous.nComponents !== k || previous.covarianceType !== t || previous.nFeatures !== d) {
        throw new InputError(
          `previous has ${previous.nComponents} components, ${previous.covarianceType} covariances and ${previous.nFeatures} features; ` +
          `this fit has nComponents ${k}, covarianceType ${t} and ${d} features: warm starts continue the same model`,
        );
      }
    }
    const doInit = !previous;
    const nInit = doInit ? (o.nInit ?? 1) : 1;
    const rng = makeRandom(o.randomState);
    const executor = fitOptions.workers === 0 ? null : getParallelExecutor();
    const work = n * k * (d * d + d);
    const parallel = executor && sharedMemoryAvailable() && work >= PARALLEL_WORK && n >= 2 * CHUNK ? executor : null;
    const engine = makeEngine(X, k, t, parallel);
    const ctx: FitContext = { X, n, d, k, t, reg, rng, randomState: o.randomState, workers: fitOptions.workers, signal: fitOptions.signal };

    let maxLowerBound = -Infinity;
    let converged = false;
    let best: Params | null = null;
    let bestNIter = 0;
    for (let run = 0; run < nInit; run++) {
      if (fitOptions.signal?.aborted) throw new AbortError("the Gaussian mixture fit was aborted");
      let params: Params = doInit ? await initialize(ctx, o.initParams ?? "kmeans", init, run) : paramsOf(previous!);
      let lowerBound = doInit ? -Infinity : previous!.lowerBound;
      if (maxIter === 0) {
        best = params;
        bestNIter = 0;
        continue;
      }
      let nIter: number;
      for (nIter = 1; nIter <= maxIter; nIter++) {
        if (fitOptions.signal?.aborted) throw new AbortError("the Gaussian mixture fit was aborted");
        const prev = lowerBound;
        setEngineParams(engine, t, params);
        lowerBound = (await runEStep(engine, true)) / n;
        params = mStep(engine, ctx, params.means);
        const change = lowerBound - prev;
        fitOptions.onProgress?.({ init: run, nInit, iteration: nIter, lowerBound });
        if (Math.abs(change) < tol) {
          converged = true;
          break;
        }
      }
      if (nIter > maxIter) nIter = maxIter;
      if (lowerBound > maxLowerBound || maxLowerBound === -Infinity) {
        maxLowerBound = lowerBound;
        best = params;
        bestNIter = nIter;
      }
    }
    if (!converged && maxIter > 0) {
      fitOptions.onWarning?.(
        `the Gaussian mixture did not converge in ${maxIter} iterations (initialisation ${nInit} of ${nInit}): ` +
        `increase maxIter or tol, try other initial parameters, or check for degenerate data`,
      );
    }
    // The final E-step, so that the labels agree with the parameters returned.
    setEngineParams(engine, t, best!);
    const labels = allocI32(n, parallel !== null);
    engine.S.labels = labels;
    await runEStep(engine, false);
    engine.S.labels = allocI32(0, parallel !== null);
    return new GaussianMixtureModel(t, best!, converged, bestNIter, maxLowerBound, Int32Array.from(labels));
  }
}

interface FitContext {
  X: Matrix;
  n: number;
  d: number;
  k: number;
  t: CovarianceType;
  reg: number;
  rng: Random;
  randomState: number | null | undefined;
  workers: 0 | undefined;
  signal: AbortSignal | undefined;
}

/** The buffers of one fit's passes, shared with workers when they are used. */
interface Engine {
  S: MixtureShared;
  P: MixtureParams;
  nChunks: number;
  parallel: ParallelExecutor | null;
  ms: number;
  /** Chunk sums added in chunk order. */
  R: Float64Array;
  S1: Float64Array;
  S2: Float64Array;
  /** tied: column means c, Σ (x − c), and the packed scatter Σ (x − c)(x − c)ᵀ (unweighted, once per fit). */
  cen: Float64Array;
  Sg: Float64Array;
  S2g: Float64Array;
}

function makeEngine(X: Matrix, k: number, t: CovarianceType, parallel: ParallelExecutor | null): Engine {
  const { rows: n, cols: d } = X;
  const sh = parallel !== null;
  const nChunks = Math.max(1, Math.ceil(n / CHUNK));
  const type = typeCode(t);
  const ms = secondMomentSize(type, d);
  const m2 = (d * (d + 1)) / 2;
  const precLen = t === "full" ? k * m2 : t === "tied" ? m2 : t === "diag" ? k * d : k;
  const { cen, Sg, S2g } = tiedStats(X, t);
  const S: MixtureShared = {
    X: sh && !isShared(X.data) ? sharedCopy(X.data) : X.data,
    mu: allocF64(k * d, sh),
    prec: allocF64(precLen, sh),
    muU: allocF64(t === "tied" ? k * d : 0, sh),
    cen: copyInto(cen, sh),
    bias: allocF64(k, sh),
    R: allocF64(nChunks * k, sh),
    S1: allocF64(nChunks * k * d, sh),
    S2: allocF64(nChunks * k * ms, sh),
    lpn: allocF64(nChunks, sh),
    labels: allocI32(0, sh),
    logp: allocF64(0, sh),
    resp: allocF64(0, sh),
  };
  return {
    S, P: { n, d, k, chunk: CHUNK, type, acc: 1 }, nChunks, parallel, ms,
    R: new Float64Array(k), S1: new Float64Array(k * d), S2: new Float64Array(k * ms), cen, Sg, S2g,
  };
}

function setEngineParams(e: Engine, t: CovarianceType, p: Params): void {
  const k = e.P.k;
  const d = e.P.d;
  const kf = kernelForm(t, p, k, d);
  e.S.mu.set(p.means);
  e.S.prec.set(kf.kprec);
  e.S.bias.set(kf.bias);
  if (t === "tied") e.S.muU.set(kf.muU);
}

/** One pass: returns the sum of the rows' log-likelihoods; with acc, the M-step's sums are left in e.R, e.S1, e.S2. */
async function runEStep(e: Engine, acc: boolean): Promise<number> {
  e.P.acc = acc ? 1 : 0;
  if (e.parallel) {
    await e.parallel.run("mixtureEStep", e.S as unknown as Record<string, TypedArray>, e.P as unknown as Record<string, number>, e.nChunks);
  } else {
    mixtureEStepKernel(e.S, e.P, 0, e.nChunks);
  }
  let total = 0;
  for (let ch = 0; ch < e.nChunks; ch++) total += e.S.lpn[ch];
  if (acc) {
    const { k, d } = e.P;
    const ms = e.ms;
    e.R.fill(0);
    e.S1.fill(0);
    e.S2.fill(0);
    for (let ch = 0; ch < e.nChunks; ch++) {
      for (let c = 0; c < k; c++) e.R[c] += e.S.R[ch * k + c];
      const o1 = ch * k * d;
      for (let t = 0; t < k * d; t++) e.S1[t] += e.S.S1[o1 + t];
      const o2 = ch * k * ms;
      for (let t = 0; t < k * ms; t++) e.S2[t] += e.S.S2[o2 + t];
    }
  }
  return total;
}

/** The M-step from the engine's sums (taken about `centers`, the means of the E-step), weights nₖ / Σ nₖ. */
function mStep(e: Engine, ctx: FitContext, centers: Float64Array): Params {
  return paramsFromSums(ctx, e.R, e.S1, e.S2, centers, e, false);
}

/**
 * scikit-learn's _estimate_gaussian_parameters and _compute_precision_cholesky from sums of
 * responsibilities R, Σ r z and second moments about `centers` (tied: about the column
 * means, with the unweighted scatter in tiedStats). Weights are nₖ / n with `byRows` (the
 * initialisation), else nₖ / Σ nₖ (the M-step).
 */
function paramsFromSums(
  ctx: FitContext, R: Float64Array, S1: Float64Array, S2: Float64Array, centers: Float64Array,
  tied: { cen: Float64Array; Sg: Float64Array; S2g: Float64Array }, byRows: boolean,
): Params {
  const { n, d, k, t, reg } = ctx;
  const nk = new Float64Array(k);
  for (let c = 0; c < k; c++) nk[c] = R[c] + 10 * EPS;
  const means = new Float64Array(k * d);
  const C = t === "tied" ? null : centers;
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) {
      const cj = C ? C[c * d + j] : tied.cen[j];
      means[c * d + j] = (S1[c * d + j] + R[c] * cj) / nk[c];
    }
  }
  const cov = new Float64Array(covLength(t, k, d));
  const m2 = (d * (d + 1)) / 2;
  if (t === "full") {
    const delta = new Float64Array(d);
    const full = new Float64Array(d * d);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) delta[j] = means[c * d + j] - C![c * d + j];
      unpackSymmetric(S2, d, full, c * m2, 0);
      const o = c * d * d;
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          const s1a = S1[c * d + a];
          const s1b = S1[c * d + b];
          cov[o + a * d + b] = (full[a * d + b] - s1a * delta[b] - delta[a] * s1b + R[c] * delta[a] * delta[b]) / nk[c] + (a === b ? reg : 0);
        }
      }
    }
  } else if (t === "diag" || t === "spherical") {
    for (let c = 0; c < k; c++) {
      const eps1 = (nk[c] - R[c]) / nk[c];
      let total = 0;
      for (let j = 0; j < d; j++) {
        const s1 = S1[c * d + j];
        const cj = C![c * d + j];
        const v = (S2[c * d + j] - (s1 * s1) / nk[c] + eps1 * cj * (2 * s1 + R[c] * cj)) / nk[c] + reg;
        if (t === "diag") cov[c * d + j] = v;
        else total += v;
      }
      if (t === "spherical") cov[c] = total / d;
    }
  } else {
    // (XᵀX − Σ nₖ mₖ mₖᵀ) / Σ nₖ with x = g + z, mₖ = g + δₖ.
    const g = tied.cen;
    let N = 0;
    for (let c = 0; c < k; c++) N += nk[c];
    const D = new Float64Array(d);
    const num = new Float64Array(d * d);
    unpackSymmetric(tied.S2g, d, num, 0, 0);
    const delta = new Float64Array(d);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) {
        delta[j] = means[c * d + j] - g[j];
        D[j] += nk[c] * delta[j];
      }
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) num[a * d + b] -= nk[c] * delta[a] * delta[b];
    }
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        num[a * d + b] += g[a] * (tied.Sg[b] - D[b]) + (tied.Sg[a] - D[a]) * g[b] + (n - N) * g[a] * g[b];
        cov[a * d + b] = num[a * d + b] / N + (a === b ? reg : 0);
      }
    }
  }
  const weights = new Float64Array(k);
  let wsum = 0;
  for (let c = 0; c < k; c++) wsum += nk[c];
  for (let c = 0; c < k; c++) weights[c] = byRows ? nk[c] / n : nk[c] / wsum;
  return { weights, means, cov, pchol: precisionCholesky(t, cov, k, d, reg) };
}

/** scikit-learn's _compute_precision_cholesky, with an InputError naming regCovar when a covariance is singular. */
function precisionCholesky(t: CovarianceType, cov: Float64Array, k: number, d: number, reg: number): Float64Array {
  const out = new Float64Array(cov.length);
  const advice = `increase regCovar (now ${reg}) or lower nComponents, and check for duplicate rows or constant features`;
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    const L = new Float64Array(d * d);
    for (let c = 0; c < m; c++) {
      if (!choleskyLower(cov, d, L, c * d * d, 0)) {
        const what = t === "full" ? `the covariance of component ${c}` : "the shared (tied) covariance";
        throw new InputError(`Gaussian mixture: ${what} is not positive definite (singular), as happens with collapsed or duplicate rows: ${advice}`);
      }
      invLowerTransposed(L, d, out, 0, c * d * d);
    }
  } else {
    for (let i = 0; i < cov.length; i++) {
      if (!(cov[i] > 0)) {
        const c = t === "diag" ? Math.floor(i / d) : i;
        throw new InputError(`Gaussian mixture: a variance of component ${c} is not positive (singular covariance): ${advice}`);
      }
      out[i] = 1 / Math.sqrt(cov[i]);
    }
  }
  return out;
}

/** The explicit starts, checked and flattened (null when not given). */
interface Inits {
  weights: Float64Array | null;
  means: Float64Array | null;
  /** Flat precisions in scikit-learn's shape. */
  precisions: Float64Array | null;
}

/**
 * Initial parameters as scikit-learn's _initialize_parameters and _initialize: responsibilities
 * from initParams, parameters estimated from them (weights nₖ / n), then the explicit starts
 * put in place of the estimates (precisionsInit's Cholesky factors as the precision factors).
 */
async function initialize(ctx: FitContext, how: MixtureInitParams, init: Inits, run: number): Promise<Params> {
  const { k, d, t } = ctx;
  let est: Params | null = null;
  if (!(init.weights && init.means && init.precisions)) est = await estimateFromInitialResp(ctx, how, run);
  const weights = init.weights ? Float64Array.from(init.weights) : est!.weights;
  const means = init.means ? Float64Array.from(init.means) : est!.means;
  if (!init.precisions) return { weights, means, cov: est!.cov, pchol: est!.pchol };
  const P = init.precisions;
  const pchol = new Float64Array(P.length);
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    for (let c = 0; c < m; c++) choleskyLower(P, d, pchol, c * d * d, c * d * d);
  } else {
    for (let i = 0; i < P.length; i++) pchol[i] = Math.sqrt(P[i]);
  }
  return { weights, means, cov: null, pchol };
}

/** The parameters estimated from initParams' responsibilities. */
async function estimateFromInitialResp(ctx: FitContext, how: MixtureInitParams, run: number): Promise<Params> {
  const { X, n, d, k, rng } = ctx;
  // With several runs, every other "kmeans" run starts from k-means++ rows instead: K-Means
  // runs from different seeds mostly reach the same partition, so their EM runs reach the same
  // optimum, while k-means++ rows explore others; the best lower bound is kept either way.
  if (how === "kmeans" && run % 2 === 1) how = "k-means++";
  if (how === "kmeans") {
    const seed = run === 0 && ctx.randomState != null ? ctx.randomState : rng.int(2 ** 31);
    const km = await new KMeans({ nClusters: k, nInit: 1, randomState: seed, ...(ctx.signal ? { signal: ctx.signal } : {}) }).fit(X, ctx.workers === 0 ? { workers: 0 } : {});
    return sumsFromResp(ctx, (add) => {
      for (let i = 0; i < n; i++) add(i, km.labels[i], 1);
    });
  }
  if (how === "random") {
    const resp = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += resp[i * k + c] = rng.random();
      for (let c = 0; c < k; c++) resp[i * k + c] /= s;
    }
    return sumsFromResp(ctx, (add) => {
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) add(i, c, resp[i * k + c]);
    });
  }
  let picks: Int32Array;
  if (how === "random_from_data") {
    picks = rng.sampleWithoutReplacement(n, k);
  } else {
    // k-means++ (scikit-learn's greedy variant) picks rows; the row of each center is found by value.
    const centers = kmeansPlusPlus(X, k, new Float64Array(n).fill(1), rng);
    picks = new Int32Array(k);
    for (let c = 0; c < k; c++) {
      let found = 0;
      for (let i = 0; i < n; i++) {
        let same = true;
        for (let j = 0; j < d && same; j++) same = X.data[i * d + j] === centers[c * d + j];
        if (same) {
          found = i;
          break;
        }
      }
      picks[c] = found;
    }
  }
  return sumsFromResp(ctx, (add) => {
    for (let c = 0; c < k; c++) add(picks[c], c, 1);
  });
}

/**
 * The parameters (weights nₖ / n) estimated from responsibilities listed by `each` (it calls
 * add(row, component, r) for every non-zero r): the means first, then the sums about them.
 */
function sumsFromResp(ctx: FitContext, each: (add: (i: number, c: number, r: number) => void) => void): Params {
  const { X, n, d, k, t } = ctx;
  const x = X.data;
  const R = new Float64Array(k);
  const T1 = new Float64Array(k * d);
  each((i, c, r) => {
    R[c] += r;
    for (let j = 0; j < d; j++) T1[c * d + j] += r * x[i * d + j];
  });
  const centers = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centers[c * d + j] = T1[c * d + j] / (R[c] + 10 * EPS);
  const tied = tiedStats(X, t);
  const ms = secondMomentSize(typeCode(t), d);
  const S1 = new Float64Array(k * d);
  const S2 = new Float64Array(k * ms);
  const z = new Float64Array(d);
  each((i, c, r) => {
    for (let j = 0; j < d; j++) {
      z[j] = x[i * d + j] - (t === "tied" ? tied.cen[j] : centers[c * d + j]);
      S1[c * d + j] += r * z[j];
    }
    if (t === "full") {
      let p = c * ms;
      for (let j = 0; j < d; j++) for (let a = 0; a <= j; a++) S2[p++] += r * z[a] * z[j];
    } else if (t !== "tied") {
      for (let j = 0; j < d; j++) S2[c * d + j] += r * z[j] * z[j];
    }
  });
  void n;
  return paramsFromSums(ctx, R, S1, S2, centers, tied, true);
}

/** The column means and the unweighted scatter about them (tied; empty otherwise). */
function tiedStats(X: Matrix, t: CovarianceType): { cen: Float64Array; Sg: Float64Array; S2g: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const m2 = (d * (d + 1)) / 2;
  const cen = new Float64Array(d);
  const Sg = new Float64Array(d);
  const S2g = new Float64Array(t === "tied" ? m2 : 0);
  if (t !== "tied") return { cen, Sg, S2g };
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) cen[j] += data[i * d + j];
  for (let j = 0; j < d; j++) cen[j] /= n;
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      z[j] = data[i * d + j] - cen[j];
      Sg[j] += z[j];
    }
    let p = 0;
    for (let j = 0; j < d; j++) for (let a = 0; a <= j; a++) S2g[p++] += z[a] * z[j];
  }
  return { cen, Sg, S2g };
}

/** A fitted model's parameters, flat (for a warm start). */
function paramsOf(m: GaussianMixtureModel): Params {
  return {
    weights: Float64Array.from(m.weights),
    means: Float64Array.from(m.means.data),
    cov: Float64Array.from(flatOf(m.covariances)),
    pchol: Float64Array.from(flatOf(m.precisionsCholesky)),
  };
}

function validateOptions(o: GaussianMixtureOptions): void {
  const k = o.nComponents ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`nComponents must be a whole number ≥ 1, got ${String(k)}`);
  if (o.covarianceType !== undefined && !COVARIANCE_TYPES.includes(o.covarianceType)) {
    throw new InputError(`covarianceType must be one of ${COVARIANCE_TYPES.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(o.covarianceType)}`);
  }
  if (o.tol !== undefined && !(o.tol >= 0 && Number.isFinite(o.tol))) throw new InputError(`tol must be a number ≥ 0, got ${String(o.tol)}`);
  if (o.regCovar !== undefined && !(o.regCovar >= 0 && Number.isFinite(o.regCovar))) throw new InputError(`regCovar must be a number ≥ 0, got ${String(o.regCovar)}`);
  if (o.maxIter !== undefined && (!Number.isInteger(o.maxIter) || o.maxIter < 0)) throw new InputError(`maxIter must be a whole number ≥ 0, got ${String(o.maxIter)}`);
  if (o.nInit !== undefined && (!Number.isInteger(o.nInit) || o.nInit < 1)) throw new InputError(`nInit must be a whole number ≥ 1, got ${String(o.nInit)}`);
  if (o.initParams !== undefined && !INIT_PARAMS.includes(o.initParams)) {
    throw new InputError(`initParams must be one of ${INIT_PARAMS.map((s) => `"${s}"`).join(", ")}, got ${JSON.stringify(o.initParams)}`);
  }
  if (o.randomState !== undefined && o.randomState !== null && !Number.isFinite(o.randomState)) throw new InputError(`randomState must be a number, got ${String(o.randomState)}`);
}

/** Checks weightsInit, meansInit and precisionsInit against k, d and the type (as scikit-learn's _check_parameters). */
function checkInits(o: GaussianMixtureOptions, k: number, d: number, t: CovarianceType): Inits {
  let weights: Float64Array | null = null;
  if (o.weightsInit !== undefined && o.weightsInit !== null) {
    const w = o.weightsInit;
    if (typeof w.length !== "number" || w.length !== k) throw new InputError(`weightsInit has ${String(w.length)} values; expected nComponents = ${k}`);
    weights = new Float64Array(k);
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = Number(w[c]);
      if (!(v >= 0 && v <= 1)) throw new InputError(`weightsInit[${c}] is ${String(w[c])}; every weight must be in [0, 1]`);
      weights[c] = v;
      s += v;
    }
    if (!(Math.abs(1 - s) <= 1e-8)) throw new InputError(`weightsInit sums to ${s}; the weights must sum to 1`);
  }
  let means: Float64Array | null = null;
  if (o.meansInit !== undefined && o.meansInit !== null) {
    const m = toMatrix(o.meansInit, "meansInit");
    if (m.rows !== k || m.cols !== d) throw new InputError(`meansInit is ${m.rows} × ${m.cols}; expected nComponents × features = ${k} × ${d}`);
    means = Float64Array.from(m.data);
  }
  let precisions: Float64Array | null = null;
  if (o.precisionsInit !== undefined && o.precisionsInit !== null) precisions = checkPrecisions(o.precisionsInit, k, d, t);
  return { weights, means, precisions };
}

function checkPrecisions(p: unknown, k: number, d: number, t: CovarianceType): Float64Array {
  const shapeText = t === "full" ? `${k} matrices ${d} × ${d}` : t === "tied" ? `a ${d} × ${d} matrix` : t === "diag" ? `a ${k} × ${d} matrix` : `${k} numbers`;
  const bad = (why: string): never => {
    throw new InputError(`precisionsInit (covarianceType "${t}") ${why}; expected ${shapeText}`);
  };
  let flat: Float64Array;
  if (t === "full") {
    const list = p as ArrayLike<MatrixLike>;
    if (!list || typeof list.length !== "number" || list.length !== k) bad(`has ${String((list as { length?: unknown })?.length)} entries`);
    flat = new Float64Array(k * d * d);
    for (let c = 0; c < k; c++) {
      const m = toMatrix(list[c], `precisionsInit[${c}]`);
      if (m.rows !== d || m.cols !== d) bad(`[${c}] is ${m.rows} × ${m.cols}`);
      flat.set(m.data, c * d * d);
    }
  } else if (t === "spherical") {
    const a = p as ArrayLike<number>;
    if (!a || typeof a.length !== "number" || a.length !== k) bad(`has ${String((a as { length?: unknown })?.length)} values`);
    flat = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      const v = a[c];
      if (typeof v !== "number" || !Number.isFinite(v)) bad(`[${c}] is ${String(v)}`);
      flat[c] = v;
    }
  } else {
    const m = toMatrix(p as MatrixLike, "precisionsInit");
    const rows = t === "tied" ? d : k;
    if (m.rows !== rows || m.cols !== d) bad(`is ${m.rows} × ${m.cols}`);
    flat = Float64Array.from(m.data);
  }
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    const L = new Float64Array(d * d);
    for (let c = 0; c < m; c++) {
      const which = t === "full" ? `[${c}]` : "";
      if (!isSymmetric(flat, d, c * d * d)) bad(`${which} is not symmetric`);
      if (!choleskyLower(flat, d, L, c * d * d, 0)) bad(`${which} is not positive definite`);
    }
  } else {
    for (let i = 0; i < flat.length; i++) if (!(flat[i] > 0)) bad(`has a value ${flat[i]} that is not positive`);
  }
  return flat;
}

// ---------------------------------------------------------------------------------------------
// JSON

function showValue(v: unknown): string {
  if (v === undefined) return "missing";
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function isWhole(v: unknown, min: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min;
}

const T = "GaussianMixture model";

/** A list of `len` finite numbers at `field`, into out at offset. */
function readNumbers(v: unknown, len: number, field: string, out: Float64Array, offset: number): void {
  if (!Array.isArray(v) || v.length !== len) {
    throw new InputError(`${T}: ${field} is ${Array.isArray(v) ? `a list of ${v.length}` : showValue(v)}; expected a list of ${len} numbers`);
  }
  for (let i = 0; i < len; i++) {
    const x: unknown = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) throw new InputError(`${T}: ${field}[${i}] is ${showValue(x)}; expected a finite number`);
    out[offset + i] = x;
  }
}

/** rows × cols finite numbers (a list of lists) at `field`. */
function readMatrix(v: unknown, rows: number, cols: number, field: string, out: Float64Array, offset: number): void {
  if (!Array.isArray(v) || v.length !== rows) {
    throw new InputError(`${T}: ${field} is ${Array.isArray(v) ? `a list of ${v.length}` : showValue(v)}; expected ${rows} rows of ${cols} numbers`);
  }
  for (let r = 0; r < rows; r++) readNumbers(v[r], cols, `${field}[${r}]`, out, offset + r * cols);
}

/** A type's matrices (full k × d × d, tied d × d, diag k × d, spherical k) at `field`, flat. */
function readTyped(v: unknown, t: CovarianceType, k: number, d: number, field: string): Float64Array {
  const out = new Float64Array(covLength(t, k, d));
  if (t === "full") {
    if (!Array.isArray(v) || v.length !== k) throw new InputError(`${T}: ${field} is ${Array.isArray(v) ? `a list of ${v.length}` : showValue(v)}; expected ${k} matrices ${d} × ${d}`);
    for (let c = 0; c < k; c++) readMatrix(v[c], d, d, `${field}[${c}]`, out, c * d * d);
  } else if (t === "tied") readMatrix(v, d, d, field, out, 0);
  else if (t === "diag") readMatrix(v, k, d, field, out, 0);
  else readNumbers(v, k, field, out, 0);
  return out;
}

function modelFromJSON(json: GaussianMixtureJSON): GaussianMixtureModel {
  const j = json as unknown as Record<string, unknown> | null;
  if (!j || typeof j !== "object" || j.type !== "GaussianMixture") {
    throw new InputError("not a GaussianMixture model: expected { type: \"GaussianMixture\", covarianceType, weights, means, precisionsCholesky, ... }");
  }
  if (j.version !== 1) throw new InputError(`${T}: version is ${showValue(j.version)}; this version of segmenta reads version 1`);
  const t = j.covarianceType as CovarianceType;
  if (!COVARIANCE_TYPES.includes(t)) throw new InputError(`${T}: covarianceType is ${showValue(t)}; expected one of ${COVARIANCE_TYPES.join(", ")}`);
  const k = j.nComponents;
  if (!isWhole(k, 1)) throw new InputError(`${T}: nComponents is ${showValue(k)}; expected a whole number ≥ 1`);
  const d = j.nFeatures;
  if (!isWhole(d, 1)) throw new InputError(`${T}: nFeatures is ${showValue(d)}; expected a whole number ≥ 1`);
  const weights = new Float64Array(k);
  readNumbers(j.weights, k, "weights", weights, 0);
  let s = 0;
  for (let c = 0; c < k; c++) {
    if (!(weights[c] >= 0 && weights[c] <= 1)) throw new InputError(`${T}: weights[${c}] is ${weights[c]}; expected a number in [0, 1]`);
    s += weights[c];
  }
  if (!(Math.abs(s - 1) <= 1e-6)) throw new InputError(`${T}: weights sum to ${s}; expected 1`);
  const means = new Float64Array(k * d);
  readMatrix(j.means, k, d, "means", means, 0);
  const cov = readTyped(j.covariances, t, k, d, "covariances");
  const pchol = readTyped(j.precisionsCholesky, t, k, d, "precisionsCholesky");
  if (t === "full" || t === "tied") {
    const m = t === "full" ? k : 1;
    for (let c = 0; c < m; c++) {
      const o = c * d * d;
      const which = t === "full" ? `precisionsCholesky[${c}]` : "precisionsCholesky";
      if (!isUpperTriangular(pchol, d, o) && !isLowerTriangular(pchol, d, o)) throw new InputError(`${T}: ${which} is not triangular; expected the Cholesky factor of a precision matrix`);
      for (let a = 0; a < d; a++) {
        if (!(pchol[o + a * d + a] > 0)) throw new InputError(`${T}: ${which}[${a}][${a}] is ${pchol[o + a * d + a]}; the diagonal of a Cholesky factor must be positive`);
        if (!(cov[o + a * d + a] > 0)) throw new InputError(`${T}: covariances${t === "full" ? `[${c}]` : ""}[${a}][${a}] is ${cov[o + a * d + a]}; a variance must be positive`);
      }
    }
  } else {
    for (let i = 0; i < pchol.length; i++) {
      if (!(pchol[i] > 0)) throw new InputError(`${T}: precisionsCholesky value ${i} is ${pchol[i]}; expected a positive number`);
      if (!(cov[i] > 0)) throw new InputError(`${T}: covariances value ${i} is ${cov[i]}; a variance must be positive`);
    }
  }
  if (typeof j.converged !== "boolean") throw new InputError(`${T}: converged is ${showValue(j.converged)}; expected true or false`);
  const nIter = j.nIter;
  if (!isWhole(nIter, 0)) throw new InputError(`${T}: nIter is ${showValue(nIter)}; expected a whole number ≥ 0`);
  const lb = j.lowerBound;
  if (lb !== null && (typeof lb !== "number" || !Number.isFinite(lb))) throw new InputError(`${T}: lowerBound is ${showValue(lb)}; expected a finite number (or null)`);
  let labels = new Int32Array(0);
  if (j.labels !== undefined && j.labels !== null) {
    const L = j.labels;
    if (!Array.isArray(L)) throw new InputError(`${T}: labels is ${showValue(L)}; expected a list of component numbers`);
    labels = new Int32Array(L.length);
    for (let i = 0; i < L.length; i++) {
      const v: unknown = L[i];
      if (!isWhole(v, 0) || v >= k) throw new InputError(`${T}: labels[${i}] is ${showValue(v)}; expected a component number from 0 to ${k - 1}`);
      labels[i] = v;
    }
  }
  return new GaussianMixtureModel(t, { weights, means, cov, pchol }, j.converged, nIter, lb === null ? -Infinity : lb, labels);
}
