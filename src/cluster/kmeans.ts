import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../core/matrix.js";
import { Random, makeRandom } from "../core/random.js";
import { allocF64, allocI32, getParallelExecutor, isShared, type ParallelExecutor, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import { inertiaKernel, type KMeansShared, type KMeansStepParams, kmeansStepKernel } from "./kernels/kmeans-step.js";
import { NearestCenterModel } from "./centers.js";
import { sqDist } from "./kernels/lloyd.js";
import { type PlusPlusParams, type PlusPlusShared, plusPlusKernel } from "./kernels/plusplus.js";

export interface KMeansOptions {
  /** Number of clusters (scikit-learn's n_clusters). Default 8. */
  nClusters?: number;
  /** "k-means++" (greedy, as scikit-learn), "random", or a k × d Matrix of initial centers. */
  init?: "k-means++" | "random" | MatrixLike;
  /** Number of initialisations; the one with the lowest inertia is kept. "auto": 1 for k-means++ or given centers, 10 for random. */
  nInit?: number | "auto";
  /** Maximum Lloyd iterations per initialisation. Default 300. */
  maxIter?: number;
  /** Relative tolerance: stop when Σ‖Δcenter‖² ≤ tol × mean feature variance. Default 1e-4. */
  tol?: number;
  /**
   * "lloyd": every row scans every center each iteration. "elkan": the bound-based variant
   * (Hamerly's single lower bound per row, lighter than Elkan's k bounds per row) that skips
   * rows whose nearest center provably did not change; same labels, centers and iteration
   * count as Lloyd. "auto" (the default here; scikit-learn's default is "lloyd") uses bounds
   * when k > 2, since the results are the same and it is faster: `npm run bench --
   * kmeans-auto` times both over n = 2,000–200,000, d = 2–50, k = 2–32; from k = 8 the
   * bounds take 0.18–0.84 of Lloyd's time from 20,000 rows on, at k = 3 about the same, at
   * k = 2 Lloyd is as fast or faster.
   */
  algorithm?: "lloyd" | "elkan" | "auto";
  /** Seed for the initialisation; undefined means a different run every time. */
  randomState?: number | null;
  /**
   * Called after Lloyd iterations: after every one, or with `progressInterval` at most every
   * that many milliseconds and after the last of each run (the inertia it reports costs one
   * more pass over the data).
   */
  onProgress?: (p: { init: number; iteration: number; inertia: number }) => void;
  /** Least time between two onProgress calls, in ms (default 0: every iteration). */
  progressInterval?: number;
  /** Aborts the fit between iterations. */
  signal?: AbortSignal;
}

export interface KMeansFitOptions {
  /** One non-negative weight per row (scikit-learn's sample_weight). */
  sampleWeight?: ArrayLike<number>;
  /** Receives warnings (e.g. fewer distinct clusters than k). */
  onWarning?: (message: string) => void;
  /** 0 keeps the fit on the calling thread even when a worker pool is installed. */
  workers?: 0;
}

export interface KMeansJSON {
  type: "KMeans";
  version: 1;
  nClusters: number;
  nFeatures: number;
  clusterCenters: number[][];
  inertia: number;
  nIter: number;
  labels?: number[];
}

/** The fitted model: centers, labels of the training rows, inertia and iteration count. */
export class KMeansModel extends NearestCenterModel {
  constructor(
    readonly clusterCenters: Matrix,
    readonly labels: Int32Array,
    readonly inertia: number,
    readonly nIter: number,
  ) {
    super();
  }

  toJSON(options: { includeLabels?: boolean } = {}): KMeansJSON {
    const json: KMeansJSON = {
      type: "KMeans",
      version: 1,
      nClusters: this.nClusters,
      nFeatures: this.nFeatures,
      clusterCenters: toArrays(this.clusterCenters),
      inertia: this.inertia,
      nIter: this.nIter,
    };
    if (options.includeLabels !== false) json.labels = Array.from(this.labels);
    return json;
  }

  /** Restores a model from `toJSON()`, checking every field it relies on (shapes, finite numbers, labels in range). */
  static fromJSON(json: KMeansJSON): KMeansModel {
    if (json?.type !== "KMeans" || !Array.isArray(json.clusterCenters)) {
      throw new InputError("not a KMeans model: expected { type: \"KMeans\", clusterCenters: [...] }");
    }
    const centers = centersFromJSON(json, "KMeans");
    return new KMeansModel(centers, labelsFromJSON(json.labels, centers.rows, "KMeans"), statFromJSON(json.inertia, "inertia", "KMeans"), statFromJSON(json.nIter, "nIter", "KMeans"));
  }

}

/** A value as it appears in a JSON file, shortened, for messages. */
export function showJSONValue(v: unknown): string {
  if (v === undefined) return "missing";
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 1;
}

/**
 * The centers of a (mini-batch) K-Means JSON as a Matrix, after checking that nClusters and
 * nFeatures are whole numbers, that there are nClusters centers of nFeatures values each and
 * that every value is a finite number (a null would otherwise become 0). Messages name the field.
 */
export function centersFromJSON(json: { nClusters?: unknown; nFeatures?: unknown; clusterCenters?: unknown }, type: string): Matrix {
  const { nClusters: k, nFeatures: d, clusterCenters: C } = json;
  if (!isCount(k)) throw new InputError(`${type} model: nClusters is ${showJSONValue(k)}; expected a whole number ≥ 1`);
  if (!isCount(d)) throw new InputError(`${type} model: nFeatures is ${showJSONValue(d)}; expected a whole number ≥ 1`);
  if (!Array.isArray(C)) throw new InputError(`${type} model: clusterCenters is ${showJSONValue(C)}; expected a list of centers`);
  if (C.length !== k) throw new InputError(`${type} model: it has ${C.length} ${C.length === 1 ? "center" : "centers"} but nClusters is ${k}`);
  const data = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const row: unknown = C[c];
    if (!Array.isArray(row)) throw new InputError(`${type} model: center ${c} is ${showJSONValue(row)}; expected a list of ${d} numbers`);
    if (row.length !== d) throw new InputError(`${type} model: center ${c} has ${row.length} ${row.length === 1 ? "value" : "values"} but the model has ${d} ${d === 1 ? "feature" : "features"} (nFeatures)`);
    for (let j = 0; j < d; j++) {
      const v: unknown = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new InputError(`${type} model: center ${c}, feature ${j} is ${showJSONValue(v)}; every center value must be a finite number`);
      }
      data[c * d + j] = v;
    }
  }
  return { data, rows: k, cols: d };
}

/** Training labels of a model JSON (absent: none), each a whole number in [0, k). */
export function labelsFromJSON(labels: unknown, k: number, type: string): Int32Array {
  if (labels === undefined || labels === null) return new Int32Array(0);
  if (!Array.isArray(labels)) throw new InputError(`${type} model: labels is ${showJSONValue(labels)}; expected a list of cluster numbers`);
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l: unknown = labels[i];
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0 || l >= k) {
      throw new InputError(`${type} model: label ${i} is ${showJSONValue(l)}; expected a cluster number from 0 to ${k - 1}`);
    }
    out[i] = l;
  }
  return out;
}

/** A fitted statistic (inertia, nIter): a finite number ≥ 0; absent or null (a NaN written by JSON.stringify) reads as NaN. */
export function statFromJSON(v: unknown, field: string, type: string): number {
  if (v === undefined || v === null) return NaN;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new InputError(`${type} model: ${field} is ${showJSONValue(v)}; expected a finite number ≥ 0`);
  return v;
}

/** K-Means clustering with scikit-learn's algorithm and defaults. */
export class KMeans {
  readonly options: Readonly<KMeansOptions>;

  constructor(options: KMeansOptions = {}) {
    this.options = { ...options };
    validateOptions(this.options);
  }

  async fit(Xin: MatrixLike, fitOptions: KMeansFitOptions = {}): Promise<KMeansModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const n = X.rows;
    const d = X.cols;
    const k = o.nClusters ?? 8;
    if (n < k) throw new InputError(`n_samples=${n} should be >= nClusters=${k}: lower nClusters or supply more rows`);
    if (d === 0) throw new InputError("X has no columns: choose at least one feature");
    const weights = checkWeights(fitOptions.sampleWeight, n);
    const init = o.init ?? "k-means++";
    let initCenters: Matrix | null = null;
    if (typeof init !== "string") {
      initCenters = toMatrix(init, "init");
      if (initCenters.rows !== k || initCenters.cols !== d) {
        throw new InputError(`init has shape ${initCenters.rows} × ${initCenters.cols}; expected nClusters × features = ${k} × ${d}`);
      }
    }
    let nInit = o.nInit ?? "auto";
    if (nInit === "auto") nInit = init === "random" ? 10 : 1;
    if (initCenters && nInit !== 1) {
      fitOptions.onWarning?.(`explicit initial centers were given, so nInit=${nInit} is ignored and 1 run is made`);
      nInit = 1;
    }
    const maxIter = o.maxIter ?? 300;
    const tol = scaledTolerance(X, o.tol ?? 1e-4);
    const rng = makeRandom(o.randomState);
    const bounds = useBounds(o.algorithm ?? "auto", k);
    const executor = fitOptions.workers === 0 ? null : getParallelExecutor();
    const parallel = executor && sharedMemoryAvailable() && n * k * d >= PARALLEL_WORK && n >= 2 * CHUNK ? executor : null;
    const engine = makeEngine(X, weights, k, parallel);

    let best: { labels: Int32Array; centers: Float64Array; inertia: number; nIter: number } | null = null;
    for (let run = 0; run < nInit; run++) {
      const centers = initCenters
        ? Float64Array.from(initCenters.data)
        : init === "random"
          ? randomInit(X, k, weights, rng)
          : await kmeansPlusPlusOn(engine, k, rng);
      const res = await runOnce(engine, X, centers, maxIter, tol, bounds, run, o);
      if (best === null || (res.inertia < best.inertia && !sameClustering(res.labels, best.labels, k))) {
        best = { labels: Int32Array.from(res.labels), centers: Float64Array.from(res.centers), inertia: res.inertia, nIter: res.nIter };
      }
    }
    const b = best!;
    warnIfFewClusters(b.labels, k, fitOptions.onWarning);
    return new KMeansModel({ data: b.centers, rows: k, cols: d }, b.labels, b.inertia, b.nIter);
  }
}

/** Whether to run the bound-based (Hamerly) variant: "elkan" asks for bounds, "auto" picks them when k > 2. */
function useBounds(algorithm: "lloyd" | "elkan" | "auto", k: number): boolean {
  if (algorithm === "lloyd") return false;
  if (algorithm === "elkan") return true;
  return k > 2;
}

/** Rows per chunk: the unit of work of a worker and of the deterministic reduction of sums. */
const CHUNK = 8192;
/** Iterations between full recomputations of the cluster sums. */
const RECOMPUTE = 16;
/** Work (rows × centers × features per iteration) from which workers are used. */
const PARALLEL_WORK = 4_000_000;

/** Buffers of one fit, shared with workers when they are used. */
interface Engine {
  S: KMeansShared;
  n: number;
  d: number;
  k: number;
  nChunks: number;
  parallel: ParallelExecutor | null;
  /** Unweighted column means of X: the origin of scikit-learn's mean-centred coordinates. */
  xMean: Float64Array;
  /** Running totals per cluster of the rows' weighted sums, weights and counts (by label). */
  sums: Float64Array;
  wsum: Float64Array;
  counts: Float64Array;
  /** The same after empty-cluster relocation, from which the centers are computed. */
  workSums: Float64Array;
  workW: Float64Array;
  /** Whether some weight is 0 (then sums are recomputed every iteration, see runOnce). */
  zeroWeights: boolean;
  dist: Float64Array | null;
}

function makeEngine(X: Matrix, weights: Float64Array, k: number, parallel: ParallelExecutor | null): Engine {
  const { rows: n, cols: d } = X;
  const shared = parallel !== null;
  const nChunks = Math.max(1, Math.ceil(n / CHUNK));
  const sharedX = shared && !isShared(X.data) ? allocF64(n * d, true) : X.data;
  if (sharedX !== X.data) sharedX.set(X.data);
  const w = shared && !isShared(weights) ? allocF64(n, true) : weights;
  if (w !== weights) w.set(weights);
  const S: KMeansShared = {
    X: sharedX,
    weights: w,
    labels: allocI32(n, shared),
    upper: allocF64(n, shared),
    lower: allocF64(n, shared),
    centers: allocF64(k * d, shared),
    half: allocF64(k, shared),
    shift: allocF64(k, shared),
    sums: allocF64(nChunks * k * d, shared),
    wsum: allocF64(nChunks * k, shared),
    counts: allocF64(nChunks * k, shared),
    stats: allocF64(nChunks * 3, shared),
  };
  const xMean = new Float64Array(d);
  columnMeans(X, xMean);
  let zeroWeights = false;
  for (let i = 0; i < n; i++) if (weights[i] === 0) zeroWeights = true;
  return {
    S, n, d, k, nChunks, parallel, xMean, zeroWeights, dist: null,
    sums: new Float64Array(k * d), wsum: new Float64Array(k), counts: new Float64Array(k),
    workSums: new Float64Array(k * d), workW: new Float64Array(k),
  };
}

async function runKernel(e: Engine, kernel: "kmeansStep" | "inertia", P: KMeansStepParams): Promise<void> {
  if (e.parallel) {
    await e.parallel.run(kernel, e.S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, e.nChunks);
  } else if (kernel === "kmeansStep") kmeansStepKernel(e.S, P, 0, e.nChunks);
  else inertiaKernel(e.S, P, 0, e.nChunks);
}

/**
 * One K-Means run from the given centers, following scikit-learn's `_kmeans_single_lloyd`:
 * assign, recompute centers (relocating empty ones), stop on identical labels (strict
 * convergence) or when the squared center shift is at most `tol`; if not strictly
 * converged, assign once more to the final centers. With `bounds` (Hamerly's algorithm)
 * rows whose nearest center provably has not changed skip the scan of all centers; the
 * labels, centers and iteration count are those of Lloyd.
 *
 * A cluster whose weight is still 0 after relocation (its points, or the point relocated to
 * it, all have weight 0) keeps its weighted sum undivided, as scikit-learn's `_average_centers`
 * does. scikit-learn works on mean-centred X, so that sum is taken relative to the column
 * means: the center lands at mean(X) + Σ wᵢ(xᵢ − mean(X)), which is mean(X) for zero weights.
 */
async function runOnce(
  e: Engine, X: Matrix, init: Float64Array, maxIter: number, tol: number, bounds: boolean, run: number, o: KMeansOptions,
): Promise<{ labels: Int32Array; centers: Float64Array; inertia: number; nIter: number; scans: number }> {
  const { S, n, d, k, nChunks, xMean, sums, wsum, counts, workSums, workW } = e;
  S.centers.set(init);
  S.labels.fill(-1);
  S.shift.fill(0);
  const P: KMeansStepParams = { n, d, k, chunk: CHUNK, mode: 0, accumulate: 1, maxShift: 0, maxShift2: 0, argMaxShift: -1 };
  let strict = false;
  let iter = 0;
  let scans = 0;
  let lastProgress = -Infinity;
  for (; iter < maxIter; iter++) {
    if (o.signal?.aborted) throw new AbortError("K-Means was aborted");
    P.mode = bounds ? (iter === 0 ? 1 : 2) : 0;
    // Sums follow the labels incrementally (only rows that change label contribute), and are
    // recomputed from all rows every RECOMPUTE iterations to stop rounding from drifting, and
    // every iteration when some weight is 0 (a cluster of zero weight must read exactly 0).
    P.accumulate = iter % RECOMPUTE === 0 || e.zeroWeights ? 1 : 2;
    if (bounds) halfMinDistances(S.centers, k, d, S.half);
    await runKernel(e, "kmeansStep", P);
    // Reduce the per-chunk sums in chunk order (the same for any number of workers).
    if (P.accumulate === 1) {
      sums.fill(0);
      wsum.fill(0);
      counts.fill(0);
    }
    let changed = 0;
    for (let ch = 0; ch < nChunks; ch++) {
      const so = ch * k * d;
      for (let t = 0; t < k * d; t++) sums[t] += S.sums[so + t];
      for (let c = 0; c < k; c++) {
        wsum[c] += S.wsum[ch * k + c];
        counts[c] += S.counts[ch * k + c];
      }
      changed += S.stats[ch * 3];
      scans += S.stats[ch * 3 + 1];
    }
    // A cluster without rows has exactly zero sums, whatever rounding the updates left.
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        wsum[c] = 0;
        sums.fill(0, c * d, (c + 1) * d);
      }
    }
    workSums.set(sums);
    workW.set(wsum);
    e.dist ??= new Float64Array(n);
    relocateEmptyClusters(X.data, n, d, S.weights, S.centers, workSums, workW, S.labels, e.dist);
    let shiftTotal = 0;
    let m1 = 0;
    let m2 = 0;
    let am = -1;
    for (let c = 0; c < k; c++) {
      const w = workW[c];
      let sc = 0;
      for (let j = 0; j < d; j++) {
        const idx = c * d + j;
        const v = w > 0 ? workSums[idx] / w : xMean[j] + (workSums[idx] - xMean[j] * w);
        const t = v - S.centers[idx];
        sc += t * t;
        S.centers[idx] = v;
      }
      shiftTotal += sc;
      const sh = Math.sqrt(sc);
      S.shift[c] = sh;
      if (sh > m1) {
        m2 = m1;
        m1 = sh;
        am = c;
      } else if (sh > m2) m2 = sh;
    }
    P.maxShift = m1;
    P.maxShift2 = m2;
    P.argMaxShift = am;
    // The last iteration of a run is always reported; the others at most every progressInterval ms.
    const last = changed === 0 || shiftTotal <= tol || iter + 1 >= maxIter;
    if (o.onProgress && (last || !o.progressInterval || Date.now() - lastProgress >= o.progressInterval)) {
      await runKernel(e, "inertia", P);
      o.onProgress({ init: run, iteration: iter + 1, inertia: sumStats(S.stats, nChunks) });
      lastProgress = Date.now();
    }
    if (changed === 0) {
      strict = true;
      break;
    }
    if (shiftTotal <= tol) break;
  }
  if (!strict) {
    P.mode = bounds ? 2 : 0;
    P.accumulate = 0;
    if (bounds) halfMinDistances(S.centers, k, d, S.half);
    await runKernel(e, "kmeansStep", P);
  }
  await runKernel(e, "inertia", P);
  return { labels: S.labels, centers: S.centers, inertia: sumStats(S.stats, nChunks), nIter: Math.min(iter + 1, maxIter), scans };
}

function sumStats(stats: Float64Array, nChunks: number): number {
  let total = 0;
  for (let ch = 0; ch < nChunks; ch++) total += stats[ch * 3 + 2];
  return total;
}

/** Half the distance from each center to its nearest other center (Hamerly's s). */
function halfMinDistances(C: Float64Array, k: number, d: number, out: Float64Array): void {
  out.fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const h = 0.5 * Math.sqrt(sqDist(C, a, C, b, d));
      if (h < out[a]) out[a] = h;
      if (h < out[b]) out[b] = h;
    }
  }
  if (k === 1) out[0] = Infinity;
}

/**
 * Gives each empty cluster the point farthest from its own (old) center, as scikit-learn
 * does: the point's weight moves from its cluster's sums to the empty one. Labels are not
 * changed; the next assignment settles them.
 */
function relocateEmptyClusters(
  X: Float64Array, n: number, d: number, weights: Float64Array, oldCenters: Float64Array,
  sums: Float64Array, clusterWeight: Float64Array, labels: Int32Array, dist: Float64Array,
): void {
  const k = clusterWeight.length;
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (clusterWeight[c] === 0) empty.push(c);
  if (empty.length === 0) return;
  for (let i = 0; i < n; i++) dist[i] = sqDist(X, i, oldCenters, labels[i], d);
  const far = topIndices(dist, n, empty.length);
  for (let e = 0; e < empty.length; e++) {
    const target = empty[e];
    const i = far[e];
    const w = weights[i];
    const from = labels[i];
    for (let j = 0; j < d; j++) {
      sums[from * d + j] -= X[i * d + j] * w;
      sums[target * d + j] = X[i * d + j] * w;
    }
    clusterWeight[target] = w;
    clusterWeight[from] -= w;
  }
}

/** Indices of the m largest values, largest first (ties: lower index first). */
function topIndices(values: Float64Array, n: number, m: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) {
    if (idx.length < m) {
      idx.push(i);
      idx.sort((a, b) => values[b] - values[a] || a - b);
    } else if (values[i] > values[idx[m - 1]]) {
      idx[m - 1] = i;
      idx.sort((a, b) => values[b] - values[a] || a - b);
    }
  }
  return idx;
}

/**
 * scikit-learn's greedy k-means++: the first center drawn with probability ∝ weight, then
 * for each next center 2 + ⌊ln k⌋ candidates drawn ∝ weight × D², keeping the one that
 * lowers the potential most.
 */
export function kmeansPlusPlus(X: Matrix, k: number, weights: Float64Array, rng: Random): Float64Array {
  const st = plusPlusStart(X.data, X.rows, X.cols, k, weights, rng, false);
  for (const _ of plusPlusPasses(st, k, rng)) plusPlusKernel(st.S, st.P, 0, st.nChunks);
  return st.centers;
}

/** The same k-means++ on an engine's data, its passes split across the engine's workers (same centers). */
async function kmeansPlusPlusOn(e: Engine, k: number, rng: Random): Promise<Float64Array> {
  const st = plusPlusStart(e.S.X, e.n, e.d, k, e.S.weights, rng, e.parallel !== null);
  for (const _ of plusPlusPasses(st, k, rng)) {
    if (e.parallel) await e.parallel.run("plusPlus", st.S as unknown as Record<string, TypedArray>, st.P as unknown as Record<string, number>, st.nChunks);
    else plusPlusKernel(st.S, st.P, 0, st.nChunks);
  }
  return st.centers;
}

/**
 * The k-means++ run after the first center: yields whenever the kernel pass set up in st.P
 * must run over every chunk (the caller runs it, here or on workers), then goes on with its
 * result — the distances to the first center, then for each further center the candidates'
 * potentials and the update of the closest distances.
 */
function* plusPlusPasses(st: PlusPlusState, k: number, rng: Random): Generator<void> {
  const { S, P, cumsum } = st;
  const { n, d } = P;
  yield;
  let pot = 0;
  for (let i = 0; i < n; i++) pot += S.closest[i] * S.weights[i];
  for (let c = 1; c < k; c++) {
    // Candidates drawn ∝ weight × squared distance to the closest center so far.
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += S.weights[i] * S.closest[i];
      cumsum[i] = acc;
    }
    for (let t = 0; t < P.nTrials; t++) {
      const id = searchSortedLeft(cumsum, rng.random() * pot);
      S.cand[t] = id > n - 1 ? n - 1 : id;
    }
    P.mode = 0;
    yield;
    // The candidate with the lowest potential (chunk sums added in order) becomes center c.
    let best = -1;
    let bestPot = Infinity;
    for (let t = 0; t < P.nTrials; t++) {
      let p = 0;
      for (let ch = 0; ch < st.nChunks; ch++) p += S.pots[ch * P.nTrials + t];
      if (p < bestPot) {
        bestPot = p;
        best = t;
      }
    }
    const row = S.cand[best];
    st.centers.set(S.X.subarray(row * d, row * d + d), c * d);
    pot = bestPot;
    P.mode = 1;
    P.co = row * d;
    yield;
  }
}

/** One k-means++ run: the kernel's buffers and parameters, and the centers so far. */
interface PlusPlusState {
  S: PlusPlusShared;
  P: PlusPlusParams;
  nChunks: number;
  centers: Float64Array;
  cumsum: Float64Array;
}

/** Rows per chunk of the k-means++ passes (the order in which potentials are added). */
const PLUSPLUS_CHUNK = 8192;

/** The first center (a row drawn ∝ weight); the kernel is then set to measure every row's distance to it. */
function plusPlusStart(
  data: Float64Array, n: number, d: number, k: number, weights: Float64Array, rng: Random, shared: boolean,
): PlusPlusState {
  const nTrials = 2 + Math.floor(Math.log(k));
  const nChunks = Math.max(1, Math.ceil(n / PLUSPLUS_CHUNK));
  const centers = new Float64Array(k * d);
  const first = rng.choice(weights);
  centers.set(data.subarray(first * d, first * d + d), 0);
  const closest = allocF64(n, shared);
  closest.fill(Infinity);
  return {
    S: { X: data, weights, closest, cand: allocI32(nTrials, shared), pots: allocF64(nChunks * nTrials, shared) },
    P: { n, d, chunk: PLUSPLUS_CHUNK, nTrials, mode: 1, co: first * d },
    nChunks, centers, cumsum: new Float64Array(n),
  };
}

/** k distinct rows drawn with probability ∝ weight, without replacement. */
function randomInit(X: Matrix, k: number, weights: Float64Array, rng: Random): Float64Array {
  const { rows: n, cols: d, data } = X;
  const w = Float64Array.from(weights);
  const centers = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const i = rng.choice(w);
    w[i] = 0;
    centers.set(data.subarray(i * d, i * d + d), c * d);
  }
  void n;
  return centers;
}

function searchSortedLeft(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function columnMeans(X: Matrix, out: Float64Array): void {
  const { rows: n, cols: d, data } = X;
  out.fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[j] += data[i * d + j];
  for (let j = 0; j < d; j++) out[j] /= n;
}

/** scikit-learn's `_tolerance`: tol × the mean of the per-feature variances. */
export function scaledTolerance(X: Matrix, tol: number): number {
  if (tol === 0) return 0;
  const { rows: n, cols: d, data } = X;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += data[i * d + j];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const t = data[i * d + j] - mean;
      v += t * t;
    }
    total += v / n;
  }
  return (total / d) * tol;
}

/** True when two labellings are the same partition up to renaming (as scikit-learn checks). */
function sameClustering(a: Int32Array, b: Int32Array, k: number): boolean {
  const map = new Int32Array(k).fill(-1);
  for (let i = 0; i < a.length; i++) {
    if (map[b[i]] === -1) map[b[i]] = a[i];
    else if (map[b[i]] !== a[i]) return false;
  }
  return true;
}

/** Warns when fewer distinct clusters than k were found (scikit-learn's ConvergenceWarning). */
export function warnIfFewClusters(labels: Int32Array, k: number, warn?: (m: string) => void): void {
  if (!warn) return;
  const seen = new Uint8Array(k);
  let distinct = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!seen[labels[i]]) {
      seen[labels[i]] = 1;
      distinct++;
    }
  }
  if (distinct < k) {
    warn(`only ${distinct} distinct clusters were found, fewer than nClusters=${k}: the data may have fewer than ${k} distinct points`);
  }
}

/** Validates scikit-learn's sample_weight: n finite, non-negative weights, not all zero (default: all 1). */
export function checkWeights(w: ArrayLike<number> | undefined, n: number): Float64Array {
  if (w === undefined) return new Float64Array(n).fill(1);
  if (w.length !== n) throw new InputError(`sampleWeight has ${w.length} values but X has ${n} rows`);
  const out = Float64Array.from(w);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(out[i] >= 0) || !Number.isFinite(out[i])) {
      throw new InputError(`sampleWeight[${i}] is ${out[i]}; weights must be finite and non-negative`);
    }
    total += out[i];
  }
  if (total === 0) throw new InputError("sampleWeight sums to 0: give at least one row a positive weight");
  return out;
}

function validateOptions(o: KMeansOptions): void {
  const k = o.nClusters ?? 8;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`nClusters must be a positive integer, got ${k}`);
  if (o.maxIter !== undefined && (!Number.isInteger(o.maxIter) || o.maxIter < 1)) {
    throw new InputError(`maxIter must be a positive integer, got ${o.maxIter}`);
  }
  if (o.nInit !== undefined && o.nInit !== "auto" && (!Number.isInteger(o.nInit) || o.nInit < 1)) {
    throw new InputError(`nInit must be a positive integer or "auto", got ${o.nInit}`);
  }
  if (o.tol !== undefined && !(o.tol >= 0)) throw new InputError(`tol must be >= 0, got ${o.tol}`);
  if (o.init !== undefined && typeof o.init === "string" && o.init !== "k-means++" && o.init !== "random") {
    throw new InputError(`init must be "k-means++", "random" or a Matrix of centers, got "${o.init}"`);
  }
  if (o.algorithm !== undefined && !["lloyd", "elkan", "auto"].includes(o.algorithm)) {
    throw new InputError(`algorithm must be "lloyd", "elkan" or "auto", got "${o.algorithm}"`);
  }
}
