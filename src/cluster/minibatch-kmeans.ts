/**
 * Mini-batch K-Means with scikit-learn's algorithm, options and defaults (`MiniBatchKMeans`):
 * each step assigns a random batch of rows to the nearest centers and moves every center
 * that received rows to the weighted mean of everything it has seen so far (a learning rate
 * of 1 / accumulated weight); centers whose accumulated weight falls far below the largest
 * are moved to random rows of the batch; an exponentially weighted average of the batch
 * inertia decides when to stop.
 *
 * The step and the stopping rule are separate pieces (`MiniBatchStepper`,
 * `MiniBatchConvergence`) so that io/stream.ts can drive them with batches read from DuckDB
 * without ever holding the data in memory.
 */
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../core/matrix.js";
import { type Random, makeRandom } from "../core/random.js";
import { allocF64, allocI32, getParallelExecutor, isShared, type ParallelExecutor, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import {
  CTL_DONE, CTL_ERR, CTL_GEN, CTL_M, CTL_NEXT, CTL_QUIT, type MiniBatchParams, type MiniBatchShared, minibatchKernel,
} from "./kernels/minibatch-step.js";
import { NearestCenterModel } from "./centers.js";
import { assignLabels } from "./kernels/lloyd.js";
import { centersFromJSON, checkWeights, kmeansPlusPlus, labelsFromJSON, scaledTolerance, showJSONValue, statFromJSON, warnIfFewClusters } from "./kmeans.js";

export interface MiniBatchKMeansOptions {
  /** Number of clusters (scikit-learn's n_clusters). Default 8. */
  nClusters?: number;
  /** "k-means++" (greedy, as scikit-learn), "random", or a k × d Matrix of initial centers. */
  init?: "k-means++" | "random" | MatrixLike;
  /**
   * Maximum number of passes over the data: the fit makes at most ⌊maxIter × n / batchSize⌋
   * steps, unless it stops earlier (see tol and maxNoImprovement). Default 100.
   */
  maxIter?: number;
  /** Rows per mini-batch (at most n). Default 1024. */
  batchSize?: number;
  /**
   * Stop when the squared change of the centers in one step, Σ‖Δcenter‖², is at most
   * tol × mean feature variance (scaled as in KMeans). 0 (the default) disables this rule.
   */
  tol?: number;
  /**
   * Stop after this many consecutive steps without a new minimum of the smoothed
   * (exponentially weighted) batch inertia; null disables this rule. Default 10.
   */
  maxNoImprovement?: number | null;
  /**
   * Rows drawn (with replacement) for each initialisation. Default 3 × batchSize, or
   * 3 × nClusters when that is smaller than nClusters; never more than n.
   */
  initSize?: number;
  /**
   * Initialisations tried, each on its own random sample of initSize rows; the one with the
   * lowest inertia on a further random sample is used (then the algorithm runs once).
   * "auto" (the default, scikit-learn ≥ 1.4's default): 1 for "k-means++" or given
   * centers, 3 for "random".
   */
  nInit?: number | "auto";
  /**
   * A center whose accumulated weight is below reassignmentRatio × the largest one is moved
   * to a random row of the batch (rows drawn ∝ weight). 0 disables reassignment. Default 0.01.
   */
  reassignmentRatio?: number;
  /** Seed for the initialisation, the batches and the reassignments; undefined: a different run every time. */
  randomState?: number | null;
  /** Called after every step with the step number (from 1) and the batch's inertia before the update. */
  onProgress?: (p: MiniBatchProgress) => void;
  /** Aborts the fit between steps. */
  signal?: AbortSignal;
}

export interface MiniBatchProgress {
  /** Steps done so far (1-based). */
  step: number;
  /** The step budget: ⌊maxIter × n / batchSize⌋. */
  nSteps: number;
  /** Weighted sum of squared distances of the batch's rows to the centers before the step. */
  inertia: number;
  /** The smoothed mean batch inertia per row that early stopping watches (null at step 1). */
  ewaInertia: number | null;
  /** Centers moved to a random row of the batch in this step because they had too little weight. */
  reassigned: number;
}

export interface MiniBatchKMeansFitOptions {
  /** One non-negative weight per row (scikit-learn's sample_weight). */
  sampleWeight?: ArrayLike<number>;
  /** Receives warnings (e.g. fewer distinct clusters than k, an ignored nInit). */
  onWarning?: (message: string) => void;
  /** 0 keeps the fit on the calling thread even when a worker pool is installed. */
  workers?: 0;
}

export interface MiniBatchKMeansJSON {
  type: "MiniBatchKMeans";
  version: 1;
  nClusters: number;
  nFeatures: number;
  clusterCenters: number[][];
  inertia: number;
  nIter: number;
  nSteps: number;
  /** Accumulated weight of each center (scikit-learn's private _counts): partialFit continues from it. */
  counts: number[];
  /** Rows seen since the last reassignment check. */
  nSinceLastReassign: number;
  reassignmentRatio: number;
  randomState: number | null;
  labels?: number[];
}

/** Everything a fitted MiniBatchKMeansModel holds (the constructor's argument). */
export interface MiniBatchKMeansState {
  clusterCenters: Matrix;
  labels: Int32Array;
  inertia: number;
  nIter: number;
  nSteps: number;
  counts: Float64Array;
  nSinceLastReassign?: number;
  reassignmentRatio?: number;
  randomState?: number | null;
  /** The random stream that partialFit continues (default: a new one from randomState). */
  random?: Random;
}

/**
 * A fitted mini-batch K-Means model: centers, labels of the training rows, inertia, passes
 * (nIter) and steps (nSteps). `partialFit` updates it in place with one more batch, as
 * scikit-learn's `partial_fit` does; `labels` and `inertia` then describe that batch.
 */
export class MiniBatchKMeansModel extends NearestCenterModel {
  readonly clusterCenters: Matrix;
  /** Accumulated weight of each center (the inverse of its learning rate). Updated by partialFit. */
  readonly counts: Float64Array;
  readonly reassignmentRatio: number;
  readonly randomState: number | null;
  private _labels: Int32Array;
  private _inertia: number;
  private _nIter: number;
  private _nSteps: number;
  private readonly random: Random;
  private stepper: MiniBatchStepper | null = null;
  private nSince: number;

  constructor(state: MiniBatchKMeansState) {
    super();
    this.clusterCenters = state.clusterCenters;
    this.counts = state.counts;
    this._labels = state.labels;
    this._inertia = state.inertia;
    this._nIter = state.nIter;
    this._nSteps = state.nSteps;
    this.nSince = state.nSinceLastReassign ?? 0;
    this.reassignmentRatio = state.reassignmentRatio ?? 0.01;
    this.randomState = state.randomState ?? null;
    this.random = state.random ?? makeRandom(this.randomState);
    if (this.counts.length !== this.clusterCenters.rows) {
      throw new InputError(`counts has ${this.counts.length} values but there are ${this.clusterCenters.rows} centers`);
    }
  }

  /** Labels of the rows of the last fit (or of the last partialFit batch). */
  get labels(): Int32Array {
    return this._labels;
  }

  /** Weighted sum of squared distances of those rows to their centers. */
  get inertia(): number {
    return this._inertia;
  }

  /** Passes over the data made by fit: ⌈nSteps × batchSize / n⌉. */
  get nIter(): number {
    return this._nIter;
  }

  /** Mini-batches processed (by fit and every partialFit since). */
  get nSteps(): number {
    return this._nSteps;
  }

  /** Rows seen since the last check for centers to reassign (part of the state partialFit continues). */
  get nSinceLastReassign(): number {
    return this.stepper ? this.stepper.nSinceLastReassign : this.nSince;
  }

  /**
   * One mini-batch step on the rows of X (scikit-learn's `partial_fit`): the centers and
   * counts are updated in place; labels and inertia become those of X against the updated
   * centers. Returns this model.
   */
  partialFit(Xin: MatrixLike, fitOptions: { sampleWeight?: ArrayLike<number> } = {}): this {
    const X = this.checkInput(Xin);
    if (X.rows === 0) throw new InputError("partialFit needs at least one row");
    const w = checkWeights(fitOptions.sampleWeight, X.rows);
    this.stepper ??= new MiniBatchStepper(
      this.clusterCenters.data, this.nClusters, this.nFeatures, this.reassignmentRatio, this.random, this.counts, X.rows, this.nSince,
    );
    const reassign = this.stepper.shouldReassign(X.rows);
    this.stepper.step(X.data, X.rows, w, reassign, false);
    const labels = new Int32Array(X.rows);
    this._inertia = assignLabels(X.data, X.rows, X.cols, this.clusterCenters.data, this.nClusters, labels, null, w);
    this._labels = labels;
    this._nSteps++;
    return this;
  }

  toJSON(options: { includeLabels?: boolean } = {}): MiniBatchKMeansJSON {
    const json: MiniBatchKMeansJSON = {
      type: "MiniBatchKMeans",
      version: 1,
      nClusters: this.nClusters,
      nFeatures: this.nFeatures,
      clusterCenters: toArrays(this.clusterCenters),
      inertia: this._inertia,
      nIter: this._nIter,
      nSteps: this._nSteps,
      counts: Array.from(this.counts),
      nSinceLastReassign: this.nSinceLastReassign,
      reassignmentRatio: this.reassignmentRatio,
      randomState: this.randomState,
    };
    if (options.includeLabels !== false) json.labels = Array.from(this._labels);
    return json;
  }

  /** Restores a model from `toJSON()`, checking every field it relies on (shapes, finite numbers, labels in range). */
  static fromJSON(json: MiniBatchKMeansJSON): MiniBatchKMeansModel {
    if (json?.type !== "MiniBatchKMeans" || !Array.isArray(json.clusterCenters)) {
      throw new InputError("not a MiniBatchKMeans model: expected { type: \"MiniBatchKMeans\", clusterCenters: [...] }");
    }
    const T = "MiniBatchKMeans";
    const centers = centersFromJSON(json, T);
    const k = centers.rows;
    const counts = new Float64Array(k);
    if (json.counts !== undefined && json.counts !== null) {
      if (!Array.isArray(json.counts) || json.counts.length !== k) {
        throw new InputError(`${T} model: counts has ${Array.isArray(json.counts) ? `${json.counts.length} ${json.counts.length === 1 ? "value" : "values"}` : showJSONValue(json.counts)} but nClusters is ${k}; expected one count per center`);
      }
      for (let c = 0; c < k; c++) {
        const v: unknown = json.counts[c];
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new InputError(`${T} model: counts[${c}] is ${showJSONValue(v)}; expected a finite number ≥ 0`);
        counts[c] = v;
      }
    }
    const ratio = json.reassignmentRatio ?? 0.01;
    if (typeof ratio !== "number" || !Number.isFinite(ratio) || ratio < 0) throw new InputError(`${T} model: reassignmentRatio is ${showJSONValue(ratio)}; expected a finite number ≥ 0`);
    const seed = json.randomState ?? null;
    if (seed !== null && (typeof seed !== "number" || !Number.isInteger(seed))) throw new InputError(`${T} model: randomState is ${showJSONValue(seed)}; expected a whole number or null`);
    return new MiniBatchKMeansModel({
      clusterCenters: centers,
      labels: labelsFromJSON(json.labels, k, T),
      inertia: statFromJSON(json.inertia, "inertia", T),
      nIter: statFromJSON(json.nIter, "nIter", T),
      nSteps: wholeFromJSON(json.nSteps, "nSteps", T),
      counts,
      nSinceLastReassign: wholeFromJSON(json.nSinceLastReassign, "nSinceLastReassign", T),
      reassignmentRatio: ratio,
      randomState: seed,
    });
  }

}

/** A whole number ≥ 0 of a model JSON (absent: 0). */
function wholeFromJSON(v: unknown, field: string, type: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new InputError(`${type} model: ${field} is ${showJSONValue(v)}; expected a whole number ≥ 0`);
  return v;
}

/** Mini-batch K-Means clustering with scikit-learn's algorithm and defaults. */
export class MiniBatchKMeans {
  readonly options: Readonly<MiniBatchKMeansOptions>;

  constructor(options: MiniBatchKMeansOptions = {}) {
    this.options = { ...options };
    validateMiniBatchOptions(this.options);
  }

  /**
   * Fits on X as scikit-learn's `MiniBatchKMeans.fit`: nInit initialisations on random
   * samples of initSize rows (the best on a validation sample is kept), then steps on
   * batches of batchSize rows drawn with replacement until early stopping or
   * ⌊maxIter × n / batchSize⌋ steps; finally every row is assigned to the final centers.
   */
  async fit(Xin: MatrixLike, fitOptions: MiniBatchKMeansFitOptions = {}): Promise<MiniBatchKMeansModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d, data } = X;
    const plan = planMiniBatch(o, n, d, fitOptions.onWarning);
    const { k, batchSize: bs } = plan;
    const weights = checkWeights(fitOptions.sampleWeight, n);
    const rng = makeRandom(o.randomState);
    const tol = scaledTolerance(X, plan.tol);

    // Initialisation: the validation sample first, then one random sample per candidate.
    const valid = gatherRandomRows(X, weights, plan.initSize, rng);
    const candidates = plan.initCenters
      ? null
      : Array.from({ length: plan.nInit }, () => (plan.initSize < n ? gatherRandomRows(X, weights, plan.initSize, rng) : { X, w: weights }));
    const initial = chooseInitialCenters(plan, candidates, valid, rng, k);

    // With a pool of workers (one per core) and data big enough to repay putting it in shared
    // memory, each step is split between this thread and size − 1 workers; the result is the
    // same either way.
    const executor = fitOptions.workers === 0 ? null : getParallelExecutor();
    const workers = executor && executor.size >= 2 && sharedMemoryAvailable() && n * d >= PARALLEL_MIN_VALUES ? executor.size - 1 : 0;
    const shared = workers > 0;
    // Without weights (all 1) the kernel never reads them.
    let unitWeights = true;
    if (fitOptions.sampleWeight !== undefined) for (let i = 0; i < n && unitWeights; i++) unitWeights = weights[i] === 1;
    const sharedX = shared && !isShared(data) ? allocF64(n * d, true) : data;
    if (sharedX !== data) sharedX.set(data);
    const sharedW = unitWeights ? null : shared && !isShared(weights) ? allocF64(n, true) : weights;
    if (sharedW !== null && sharedW !== weights) sharedW.set(weights);
    const centers = allocF64(k * d, shared);
    centers.set(initial);

    const stepper = new MiniBatchStepper(centers, k, d, plan.reassignmentRatio, rng, new Float64Array(k), bs);
    stepper.attach(sharedX, sharedW, bs, shared);
    const conv = new MiniBatchConvergence(n, bs, tol, plan.maxNoImprovement);
    const nSteps = Math.floor((plan.maxIter * n) / bs);
    const idx = stepper.batchIndices;
    const yielder = new Yielder();
    let done = 0;
    if (executor && shared) stepper.startWorkers(executor, workers);
    try {
      for (let i = 0; i < nSteps; i++) {
        if (o.signal?.aborted) throw new AbortError("MiniBatchKMeans was aborted");
        // bs rows drawn uniformly with replacement; the kernel reads them where they lie.
        for (let t = 0; t < bs; t++) idx[t] = rng.int(n);
        const reassign = stepper.shouldReassign(bs);
        const inertia = stepper.stepIndexed(bs, reassign, tol > 0);
        done = i + 1;
        const stop = conv.converged(i, inertia, stepper.squaredDiff);
        o.onProgress?.({ step: done, nSteps, inertia, ewaInertia: conv.ewaInertia, reassigned: stepper.lastReassigned });
        if (stop) break;
        if ((i & 63) === 63) await yielder.maybeYield();
      }
    } finally {
      await stepper.stopWorkers();
    }
    if (o.signal?.aborted) throw new AbortError("MiniBatchKMeans was aborted");
    const labels = allocI32(n, shared);
    const inertia = await assignNearest(sharedX, n, d, centers, k, sharedW, labels, shared ? executor : null);
    warnIfFewClusters(labels, k, fitOptions.onWarning);
    return new MiniBatchKMeansModel({
      clusterCenters: { data: centers, rows: k, cols: d },
      labels,
      inertia,
      nIter: Math.ceil((done * bs) / n),
      nSteps: done,
      counts: stepper.counts,
      nSinceLastReassign: stepper.nSinceLastReassign,
      reassignmentRatio: plan.reassignmentRatio,
      randomState: o.randomState ?? null,
      random: rng,
    });
  }

  /**
   * Starts from nothing with one batch (scikit-learn's first `partial_fit`): initialises the
   * centers from X (one initialisation on at most initSize of its rows), makes one step, and
   * returns the model; call the model's own `partialFit` with the following batches.
   */
  partialFit(Xin: MatrixLike, fitOptions: MiniBatchKMeansFitOptions = {}): MiniBatchKMeansModel {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d } = X;
    const plan = planMiniBatch({ ...o, nInit: 1 }, n, d, fitOptions.onWarning);
    const weights = checkWeights(fitOptions.sampleWeight, n);
    const rng = makeRandom(o.randomState);
    const sample = plan.initSize < n ? gatherRandomRows(X, weights, plan.initSize, rng) : { X, w: weights };
    const centers = plan.initCenters ? Float64Array.from(plan.initCenters.data) : initFromSample(plan, sample.X, sample.w, rng);
    const model = new MiniBatchKMeansModel({
      clusterCenters: { data: centers, rows: plan.k, cols: d },
      labels: new Int32Array(0),
      inertia: NaN,
      nIter: 0,
      nSteps: 0,
      counts: new Float64Array(plan.k),
      reassignmentRatio: plan.reassignmentRatio,
      randomState: o.randomState ?? null,
      random: rng,
    });
    return model.partialFit(X, { sampleWeight: weights });
  }
}

// ---------------------------------------------------------------------------------------
// The pieces shared with io/stream.ts.

/** The options resolved against the data (scikit-learn's `_check_params_vs_input`). */
export interface MiniBatchPlan {
  k: number;
  d: number;
  /** min(batchSize, n). */
  batchSize: number;
  /** Rows per initialisation sample, at most n. */
  initSize: number;
  nInit: number;
  maxIter: number;
  /** tol as given (scale it by the mean feature variance before use). */
  tol: number;
  maxNoImprovement: number | null;
  reassignmentRatio: number;
  init: "k-means++" | "random" | "matrix";
  /** The given initial centers (k × d), when init is a Matrix. */
  initCenters: Matrix | null;
}

/** Validates the options against n rows of d features and resolves the defaults. */
export function planMiniBatch(o: MiniBatchKMeansOptions, n: number, d: number, warn?: (m: string) => void): MiniBatchPlan {
  const k = o.nClusters ?? 8;
  if (n < k) throw new InputError(`n_samples=${n} should be >= nClusters=${k}: lower nClusters or supply more rows`);
  if (d === 0) throw new InputError("X has no columns: choose at least one feature");
  const batchSize = Math.min(o.batchSize ?? 1024, n);
  let initSize = o.initSize;
  if (initSize === undefined) {
    initSize = 3 * batchSize;
    if (initSize < k) initSize = 3 * k;
  } else if (initSize < k) {
    warn?.(`initSize=${initSize} should be at least nClusters=${k}; using 3 × nClusters = ${3 * k}`);
    initSize = 3 * k;
  }
  initSize = Math.min(initSize, n);
  const init = o.init ?? "k-means++";
  let initCenters: Matrix | null = null;
  if (typeof init !== "string") {
    initCenters = toMatrix(init, "init");
    if (initCenters.rows !== k || initCenters.cols !== d) {
      throw new InputError(`init has shape ${initCenters.rows} × ${initCenters.cols}; expected nClusters × features = ${k} × ${d}`);
    }
  }
  let nInit = o.nInit ?? "auto";
  if (nInit === "auto") nInit = init === "random" ? 3 : 1;
  if (initCenters && nInit !== 1) {
    warn?.(`explicit initial centers were given, so nInit=${nInit} is ignored and 1 initialisation is made`);
    nInit = 1;
  }
  return {
    k, d, batchSize, initSize, nInit,
    maxIter: o.maxIter ?? 100,
    tol: o.tol ?? 0,
    maxNoImprovement: o.maxNoImprovement === undefined ? 10 : o.maxNoImprovement,
    reassignmentRatio: o.reassignmentRatio ?? 0.01,
    init: initCenters ? "matrix" : (init as "k-means++" | "random"),
    initCenters,
  };
}

/** Centers from one sample by the plan's method (scikit-learn's `_init_centroids` on a subset). */
export function initFromSample(plan: MiniBatchPlan, X: Matrix, w: Float64Array, rng: Random): Float64Array {
  const { k } = plan;
  if (plan.initCenters) return Float64Array.from(plan.initCenters.data);
  if (plan.init === "k-means++") return kmeansPlusPlus(X, k, w, rng);
  // "random": k distinct rows of the sample, drawn ∝ weight.
  const d = X.cols;
  const picks = new Int32Array(k);
  drawDistinct(w, X.rows, k, rng, new Float64Array(X.rows), picks);
  const centers = new Float64Array(k * d);
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centers[c * d + j] = X.data[picks[c] * d + j];
  return centers;
}

/**
 * The initial centers: given centers as they are; otherwise one candidate per sample, and
 * the one with the lowest (weighted) inertia on the validation sample (the first on ties).
 */
export function chooseInitialCenters(
  plan: MiniBatchPlan, samples: { X: Matrix; w: Float64Array }[] | null, valid: { X: Matrix; w: Float64Array }, rng: Random, k: number,
): Float64Array {
  if (plan.initCenters || samples === null) return Float64Array.from(plan.initCenters!.data);
  if (samples.length === 1) return initFromSample(plan, samples[0].X, samples[0].w, rng);
  let best: Float64Array | null = null;
  let bestInertia = Infinity;
  const labels = new Int32Array(valid.X.rows);
  for (const s of samples) {
    const centers = initFromSample(plan, s.X, s.w, rng);
    const inertia = assignLabels(valid.X.data, valid.X.rows, valid.X.cols, centers, k, labels, null, valid.w);
    if (best === null || inertia < bestInertia) {
      best = centers;
      bestInertia = inertia;
    }
  }
  return best!;
}

/**
 * One mini-batch step at a time (scikit-learn's `_mini_batch_step`), with every buffer
 * allocated up front: a step allocates nothing unless a batch larger than any before arrives.
 *
 * The step: assign each row of the batch to its nearest center; for each center that
 * received weight W from the batch, with accumulated weight N before,
 * center ← (N × center + Σ wᵢxᵢ) / (N + W) and N ← N + W (a learning rate of 1 / N);
 * centers that received nothing stay. Then, when asked, the reassignment of small centers.
 *
 * A batch is either rows given as they are (`step`: partialFit, batches streamed from
 * DuckDB) or row indices into data attached once (`stepIndexed`: the in-memory fit; rows are
 * read where they lie, nothing is copied). With `startWorkers` the indexed steps are split
 * between the calling thread and workers that stay in a loop for the whole fit; the batch is
 * cut into chunks of CHUNK_ROWS positions whose sums are reduced in order, so the result is
 * the same for any number of threads.
 */
export class MiniBatchStepper {
  /** k × d centers, updated in place. */
  readonly centers: Float64Array;
  /** Accumulated weight per center (scikit-learn's weight_sums / _counts), updated in place. */
  readonly counts: Float64Array;
  nSinceLastReassign: number;
  /** Σ‖new − old‖² over the centers in the last step (when the step was asked for it). */
  squaredDiff = 0;
  /** Centers reassigned in the last step. */
  lastReassigned = 0;
  private capacity = 0;
  private readonly S: MiniBatchShared;
  private readonly P: MiniBatchParams;
  private readonly prev: Float64Array;
  private readonly toReassign: Uint8Array;
  private readonly order: Int32Array;
  private readonly picks: Int32Array;
  private readonly totals: Float64Array;
  private readonly totalW: Float64Array;
  private scratch: Float64Array = new Float64Array(0);
  private batchW: Float64Array = new Float64Array(0);
  private identity: Int32Array = new Int32Array(0);
  /** The attached data of stepIndexed. */
  private data: { X: Float64Array; weights: Float64Array | null; idx: Int32Array } | null = null;
  private loop: { done: Promise<void>; error: unknown } | null = null;

  constructor(
    centers: Float64Array, readonly k: number, readonly d: number, readonly reassignmentRatio: number,
    private readonly rng: Random, counts: Float64Array = new Float64Array(k), capacity = 1024, nSinceLastReassign = 0,
  ) {
    this.centers = centers;
    this.counts = counts;
    this.nSinceLastReassign = nSinceLastReassign;
    this.prev = new Float64Array(k * d);
    this.toReassign = new Uint8Array(k);
    this.order = new Int32Array(k);
    this.picks = new Int32Array(k);
    this.totals = new Float64Array(k * d);
    this.totalW = new Float64Array(k);
    const none = new Float64Array(0);
    this.S = {
      X: none, weights: none, idx: new Int32Array(0), centers, labels: new Int32Array(0),
      sums: none, wsum: none, stats: none, ctl: new Int32Array(6),
    };
    this.P = { m: 0, d, k, chunk: CHUNK_ROWS, unit: 0, mode: 0 };
    this.ensureCapacity(capacity, false);
  }

  /** Labels of the last batch against the centers before the step (valid until the next step). */
  get batchLabels(): Int32Array {
    return this.S.labels;
  }

  private ensureCapacity(m: number, shared: boolean): void {
    if (m <= this.capacity) return;
    if (this.loop) throw new Error("MiniBatchStepper: a batch larger than the capacity while workers run");
    const { k, d, S } = this;
    const nc = Math.ceil(m / CHUNK_ROWS);
    this.capacity = m;
    S.labels = allocI32(m, shared);
    S.sums = allocF64(nc * k * d, shared);
    S.wsum = allocF64(nc * k, shared);
    S.stats = allocF64(nc, shared);
    this.scratch = new Float64Array(m);
    this.batchW = new Float64Array(m);
  }

  /**
   * scikit-learn's `_random_reassign`: counts the batch's rows, and says whether this step
   * should look for centers to reassign — always while some center has no weight, else once
   * every 10 × k rows.
   */
  shouldReassign(m: number): boolean {
    this.nSinceLastReassign += m;
    let empty = false;
    for (let c = 0; c < this.k; c++) if (this.counts[c] === 0) empty = true;
    if (empty || this.nSinceLastReassign >= 10 * this.k) {
      this.nSinceLastReassign = 0;
      return true;
    }
    return false;
  }

  /**
   * One step on rows [0, m) of X (row-major, d columns) with weights w. Returns the batch's
   * weighted inertia against the centers before the step.
   */
  step(X: Float64Array, m: number, w: Float64Array, reassign: boolean, computeDiff: boolean): number {
    if (this.loop) throw new Error("MiniBatchStepper.step: workers are attached to indexed data; use stepIndexed");
    this.ensureCapacity(m, false);
    if (this.identity.length < m) this.identity = Int32Array.from({ length: this.capacity }, (_, i) => i);
    const { S, P } = this;
    S.X = X;
    S.weights = w;
    S.idx = this.identity;
    P.unit = 0;
    return this.run(m, reassign, computeDiff);
  }

  /**
   * Attaches n × d data (and weights; null when all are 1) for `stepIndexed`, with a buffer
   * of `capacity` batch indices (`batchIndices`). With `shared`, every buffer the workers
   * read is in shared memory (X and the weights must be already).
   */
  attach(X: Float64Array, weights: Float64Array | null, capacity: number, shared: boolean): void {
    if (this.loop) throw new Error("MiniBatchStepper.attach: workers are running");
    this.capacity = 0;
    this.ensureCapacity(capacity, shared);
    this.data = { X, weights, idx: allocI32(capacity, shared) };
  }

  /** The attached data's batch: fill positions [0, m) with row indices, then call stepIndexed(m). */
  get batchIndices(): Int32Array {
    if (!this.data) throw new Error("MiniBatchStepper: no data attached");
    return this.data.idx;
  }

  /** One step on the attached data's rows batchIndices[0, m). Returns the batch's inertia before the step. */
  stepIndexed(m: number, reassign: boolean, computeDiff: boolean): number {
    if (m > this.capacity) throw new Error(`MiniBatchStepper: a batch of ${m} rows exceeds the capacity ${this.capacity}`);
    this.bindAttached();
    return this.run(m, reassign, computeDiff);
  }

  /** Points the kernel's buffers at the attached data. */
  private bindAttached(): void {
    const data = this.data;
    if (!data) throw new Error("MiniBatchStepper: no data attached");
    const { S, P } = this;
    S.X = data.X;
    S.weights = data.weights ?? EMPTY;
    S.idx = data.idx;
    P.unit = data.weights === null ? 1 : 0;
  }

  /**
   * Starts `workers` workers of the executor, each in a loop sharing every indexed step's
   * chunks with the calling thread. The attached data and the centers must be
   * in shared memory. Stop them with stopWorkers (also after an error).
   */
  startWorkers(executor: ParallelExecutor, workers: number): void {
    if (!this.data || workers < 1 || this.loop) return;
    this.bindAttached();
    const { S, P } = this;
    S.ctl = allocI32(6, true);
    const params: MiniBatchParams = { ...P, mode: 1 };
    const loop: { done: Promise<void>; error: unknown } = { done: Promise.resolve(), error: null };
    loop.done = executor
      .run("minibatch", S as unknown as Record<string, TypedArray>, params as unknown as Record<string, number>, workers)
      .catch((e: unknown) => {
        loop.error = e;
      });
    this.loop = loop;
  }

  /** Ends the workers' loop and waits for them; rethrows the error a worker failed with, if any. */
  async stopWorkers(): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    const ctl = this.S.ctl;
    Atomics.store(ctl, CTL_QUIT, 1);
    Atomics.add(ctl, CTL_GEN, 1);
    Atomics.notify(ctl, CTL_GEN);
    await loop.done;
    this.loop = null;
    this.S.ctl = new Int32Array(6);
    // A worker's own error says more than the calling thread's "a worker failed".
    if (loop.error) throw loop.error instanceof Error ? loop.error : new Error(String(loop.error));
  }

  private run(m: number, reassign: boolean, computeDiff: boolean): number {
    const { k, d, S, P, centers, counts, totals, totalW } = this;
    if (computeDiff) this.prev.set(centers);
    P.m = m;
    const nc = Math.ceil(m / CHUNK_ROWS);
    const loop = this.loop;
    if (loop) {
      const ctl = S.ctl;
      Atomics.store(ctl, CTL_M, m);
      Atomics.store(ctl, CTL_DONE, 0);
      Atomics.store(ctl, CTL_NEXT, 0);
      Atomics.add(ctl, CTL_GEN, 1);
      Atomics.notify(ctl, CTL_GEN);
      P.mode = 3;
      minibatchKernel(S, P, 0, 0);
      P.mode = 0;
      // The chunks the workers claimed finish about when this thread's do: spin.
      let spins = 0;
      let since = 0;
      while (Atomics.load(ctl, CTL_DONE) < nc) {
        if (Atomics.load(ctl, CTL_ERR) !== 0) throw new Error("a mini-batch K-Means worker failed");
        if (++spins === 1 << 20) {
          spins = 0;
          const now = Date.now();
          if (since === 0) since = now;
          else if (now - since > 60_000) throw new Error("mini-batch K-Means workers did not answer for 60 s");
        }
      }
    } else {
      minibatchKernel(S, P, 0, nc);
    }
    // Reduce the chunks in order (the same for any number of threads).
    totals.fill(0);
    totalW.fill(0);
    let inertia = 0;
    const { sums, wsum, stats } = S;
    for (let ch = 0; ch < nc; ch++) {
      const so = ch * k * d;
      for (let t = 0; t < k * d; t++) totals[t] += sums[so + t];
      for (let c = 0; c < k; c++) totalW[c] += wsum[ch * k + c];
      inertia += stats[ch];
    }
    for (let c = 0; c < k; c++) {
      const wc = totalW[c];
      if (!(wc > 0)) continue;
      const before = counts[c];
      const after = before + wc;
      const alpha = 1 / after;
      const o = c * d;
      for (let j = 0; j < d; j++) centers[o + j] = (centers[o + j] * before + totals[o + j]) * alpha;
      counts[c] = after;
    }
    this.lastReassigned = reassign && this.reassignmentRatio > 0 ? this.reassignSmall(m) : 0;
    if (computeDiff) {
      let s = 0;
      for (let t = 0; t < k * d; t++) {
        const u = centers[t] - this.prev[t];
        s += u * u;
      }
      this.squaredDiff = s;
    }
    return inertia;
  }

  /**
   * Moves every center whose accumulated weight is below reassignmentRatio × the largest to
   * a random row of the batch (distinct rows, drawn ∝ weight; at most half the batch's size
   * of centers, the lightest first), and gives it the smallest weight among the centers
   * kept, so that it is not reassigned again at once.
   */
  private reassignSmall(m: number): number {
    const { k, d, counts, toReassign, order, picks, centers, S, P } = this;
    let max = 0;
    for (let c = 0; c < k; c++) if (counts[c] > max) max = counts[c];
    const threshold = this.reassignmentRatio * max;
    let nr = 0;
    for (let c = 0; c < k; c++) {
      toReassign[c] = counts[c] < threshold ? 1 : 0;
      nr += toReassign[c];
    }
    const limit = Math.floor(0.5 * m);
    if (nr > 0.5 * m) {
      // Keep only the `limit` lightest centers (stable insertion sort of k indices by weight).
      for (let c = 0; c < k; c++) {
        let p = c;
        while (p > 0 && counts[order[p - 1]] > counts[c]) {
          order[p] = order[p - 1];
          p--;
        }
        order[p] = c;
      }
      for (let r = limit; r < k; r++) toReassign[order[r]] = 0;
      nr = Math.min(nr, limit);
    }
    if (nr > 0) {
      const { X, idx, weights } = S;
      const bw = this.batchW;
      for (let t = 0; t < m; t++) bw[t] = P.unit === 1 ? 1 : weights[idx[t]];
      drawDistinct(bw, m, nr, this.rng, this.scratch, picks);
      let t = 0;
      for (let c = 0; c < k; c++) {
        if (!toReassign[c]) continue;
        const src = idx[picks[t++]] * d;
        for (let j = 0; j < d; j++) centers[c * d + j] = X[src + j];
      }
    }
    let minKept = Infinity;
    for (let c = 0; c < k; c++) if (!toReassign[c] && counts[c] < minKept) minKept = counts[c];
    if (nr > 0 && minKept < Infinity) for (let c = 0; c < k; c++) if (toReassign[c]) counts[c] = minKept;
    return nr;
  }
}

/** Batch positions per chunk: the unit of the deterministic reduction and of the split between threads. */
const CHUNK_ROWS = 64;
const EMPTY = new Float64Array(0);

/**
 * scikit-learn's early stopping (`_mini_batch_convergence`): the first step is ignored; then
 * an exponentially weighted average of the mean batch inertia (α = 2 × batchSize / (n + 1),
 * at most 1) must reach a new minimum at least once every maxNoImprovement steps, and, when
 * tol > 0, the fit stops as soon as the squared change of the centers is at most tol.
 */
export class MiniBatchConvergence {
  ewaInertia: number | null = null;
  private ewaMin: number | null = null;
  private noImprovement = 0;

  constructor(
    readonly nSamples: number, readonly batchSize: number, readonly tol: number, readonly maxNoImprovement: number | null,
  ) {}

  /** `step` counts from 0; `rows` is the batch's size when it differs from batchSize (a last partial batch). */
  converged(step: number, batchInertia: number, squaredDiff: number, rows = this.batchSize): boolean {
    const mean = batchInertia / rows;
    if (step === 0) return false;
    if (this.ewaInertia === null) this.ewaInertia = mean;
    else {
      const alpha = Math.min(1, (this.batchSize * 2) / (this.nSamples + 1));
      this.ewaInertia = this.ewaInertia * (1 - alpha) + mean * alpha;
    }
    if (this.tol > 0 && squaredDiff <= this.tol) return true;
    if (this.ewaMin === null || this.ewaInertia < this.ewaMin) {
      this.noImprovement = 0;
      this.ewaMin = this.ewaInertia;
    } else this.noImprovement++;
    return this.maxNoImprovement !== null && this.noImprovement >= this.maxNoImprovement;
  }
}

/**
 * Draws `count` distinct indices of [0, m) into `out`, each with probability ∝ w among the
 * rows not drawn yet (uniformly among the rest once no positive weight is left).
 * `scratch` needs m entries. Allocates nothing.
 */
export function drawDistinct(w: Float64Array | null, m: number, count: number, rng: Random, scratch: Float64Array, out: Int32Array): void {
  for (let i = 0; i < m; i++) scratch[i] = w === null ? 1 : w[i];
  for (let t = 0; t < count; t++) {
    let total = 0;
    let free = 0;
    for (let i = 0; i < m; i++) {
      const v = scratch[i];
      if (v > 0) total += v;
      if (v >= 0) free++;
    }
    let pick = -1;
    if (total > 0) {
      let r = rng.random() * total;
      for (let i = 0; i < m; i++) {
        const v = scratch[i];
        if (v > 0) {
          pick = i;
          r -= v;
          if (r < 0) break;
        }
      }
    } else {
      let r = rng.int(free);
      for (let i = 0; i < m; i++) {
        if (scratch[i] >= 0 && r-- === 0) {
          pick = i;
          break;
        }
      }
    }
    if (pick < 0) throw new InputError(`cannot draw ${count} distinct rows from ${m}`);
    scratch[pick] = -1;
    out[t] = pick;
  }
}

/**
 * Labels of rows [0, n) of X (the nearest center; ties to the lower index) and their weighted
 * inertia (weights null: all 1); `labels` needs n entries. Split across the executor's
 * workers when one is given (X, the weights, centers and labels then in shared memory).
 * Chunk sums are added in order, so the inertia is the same with or without workers.
 */
export async function assignNearest(
  X: Float64Array, n: number, d: number, centers: Float64Array, k: number, weights: Float64Array | null, labels: Int32Array,
  executor: ParallelExecutor | null = null,
): Promise<number> {
  const nChunks = Math.max(1, Math.ceil(n / ASSIGN_CHUNK));
  const S: MiniBatchShared = {
    X, weights: weights ?? EMPTY, idx: new Int32Array(0), centers, labels,
    sums: EMPTY, wsum: EMPTY, stats: allocF64(nChunks, executor !== null), ctl: new Int32Array(0),
  };
  const P: MiniBatchParams = { m: n, d, k, chunk: ASSIGN_CHUNK, unit: weights === null ? 1 : 0, mode: 2 };
  if (executor) await executor.run("minibatch", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, nChunks);
  else minibatchKernel(S, P, 0, nChunks);
  let total = 0;
  for (let ch = 0; ch < nChunks; ch++) total += S.stats[ch];
  return total;
}

/** Rows per chunk of assignNearest: the unit of work of a worker and of the order in which inertia is added. */
const ASSIGN_CHUNK = 8192;

/** Values (rows × features) from which a fit puts the data in shared memory for workers. */
const PARALLEL_MIN_VALUES = 400_000;

/** r rows drawn uniformly with replacement (scikit-learn's `randint` samples), with their weights. */
export function gatherRandomRows(X: Matrix, w: Float64Array, r: number, rng: Random): { X: Matrix; w: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(r * d);
  const ow = new Float64Array(r);
  for (let t = 0; t < r; t++) {
    const i = rng.int(n);
    for (let j = 0; j < d; j++) out[t * d + j] = data[i * d + j];
    ow[t] = w[i];
  }
  return { X: { data: out, rows: r, cols: d }, w: ow };
}

/** Hands the event loop a turn about every 50 ms, so that an abort can arrive during a long fit. */
export class Yielder {
  private last = Date.now();
  async maybeYield(): Promise<void> {
    const now = Date.now();
    if (now - this.last < 50) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.last = Date.now();
  }
}

export function validateMiniBatchOptions(o: MiniBatchKMeansOptions): void {
  const posInt = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new InputError(`${name} must be a positive integer, got ${v}`);
  };
  const k = o.nClusters ?? 8;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`nClusters must be a positive integer, got ${k}`);
  posInt("maxIter", o.maxIter);
  posInt("batchSize", o.batchSize);
  posInt("initSize", o.initSize);
  if (o.nInit !== undefined && o.nInit !== "auto" && (!Number.isInteger(o.nInit) || o.nInit < 1)) {
    throw new InputError(`nInit must be a positive integer or "auto", got ${o.nInit}`);
  }
  if (o.tol !== undefined && !(o.tol >= 0 && Number.isFinite(o.tol))) throw new InputError(`tol must be >= 0, got ${o.tol}`);
  if (o.maxNoImprovement !== undefined && o.maxNoImprovement !== null && (!Number.isInteger(o.maxNoImprovement) || o.maxNoImprovement < 0)) {
    throw new InputError(`maxNoImprovement must be a non-negative integer or null, got ${o.maxNoImprovement}`);
  }
  if (o.reassignmentRatio !== undefined && !(o.reassignmentRatio >= 0 && Number.isFinite(o.reassignmentRatio))) {
    throw new InputError(`reassignmentRatio must be >= 0, got ${o.reassignmentRatio}`);
  }
  if (o.init !== undefined && typeof o.init === "string" && o.init !== "k-means++" && o.init !== "random") {
    throw new InputError(`init must be "k-means++", "random" or a Matrix of centers, got "${o.init}"`);
  }
}
