import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../core/matrix.js";
import { Random, makeRandom } from "../core/random.js";
import { accumulateCenters, assignLabels, inertiaOf, sqDist } from "./kernels/lloyd.js";

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
  /** Only "lloyd" for now; "elkan" and "auto" are accepted and run Lloyd. */
  algorithm?: "lloyd" | "elkan" | "auto";
  /** Seed for the initialisation; undefined means a different run every time. */
  randomState?: number | null;
  /** Called after every Lloyd iteration. */
  onProgress?: (p: { init: number; iteration: number; inertia: number }) => void;
  /** Aborts the fit between iterations. */
  signal?: AbortSignal;
}

export interface KMeansFitOptions {
  /** One non-negative weight per row (scikit-learn's sample_weight). */
  sampleWeight?: ArrayLike<number>;
  /** Receives warnings (e.g. fewer distinct clusters than k). */
  onWarning?: (message: string) => void;
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
export class KMeansModel {
  constructor(
    readonly clusterCenters: Matrix,
    readonly labels: Int32Array,
    readonly inertia: number,
    readonly nIter: number,
  ) {}

  get nClusters(): number {
    return this.clusterCenters.rows;
  }

  get nFeatures(): number {
    return this.clusterCenters.cols;
  }

  /** The nearest center of each row of Y. */
  predict(Y: MatrixLike): Int32Array {
    const m = this.checkInput(Y);
    const labels = new Int32Array(m.rows);
    assignLabels(m.data, m.rows, m.cols, this.clusterCenters.data, this.nClusters, labels, null, null);
    return labels;
  }

  /** Euclidean distance of each row of Y to every center (n × k). */
  transform(Y: MatrixLike): Matrix {
    const m = this.checkInput(Y);
    const k = this.nClusters;
    const out = new Float64Array(m.rows * k);
    for (let i = 0; i < m.rows; i++) {
      for (let c = 0; c < k; c++) out[i * k + c] = Math.sqrt(sqDist(m.data, i, this.clusterCenters.data, c, m.cols));
    }
    return { data: out, rows: m.rows, cols: k };
  }

  /** Sum of squared distances of Y's rows to their nearest center (scikit-learn's −score). */
  score(Y: MatrixLike): number {
    const m = this.checkInput(Y);
    const labels = new Int32Array(m.rows);
    return -assignLabels(m.data, m.rows, m.cols, this.clusterCenters.data, this.nClusters, labels, null, null);
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

  static fromJSON(json: KMeansJSON): KMeansModel {
    if (json?.type !== "KMeans" || !Array.isArray(json.clusterCenters)) {
      throw new InputError("not a KMeans model: expected { type: \"KMeans\", clusterCenters: [...] }");
    }
    const centers = toMatrix(json.clusterCenters, "clusterCenters");
    return new KMeansModel(centers, Int32Array.from(json.labels ?? []), json.inertia, json.nIter);
  }

  private checkInput(Y: MatrixLike): Matrix {
    const m = toMatrix(Y, "X");
    if (m.cols !== this.nFeatures) {
      throw new InputError(`X has ${m.cols} features but the model was fitted with ${this.nFeatures}`);
    }
    return m;
  }
}

/** K-Means clustering with scikit-learn's algorithm and defaults. */
export class KMeans {
  readonly options: Readonly<KMeansOptions>;

  constructor(options: KMeansOptions = {}) {
    this.options = { ...options };
    validateOptions(this.options);
  }

  async fit(X: MatrixLike, fitOptions: KMeansFitOptions = {}): Promise<KMeansModel> {
    return this.fitSync(X, fitOptions);
  }

  /** Synchronous fit, for callers that are already off the main thread. */
  fitSync(Xin: MatrixLike, fitOptions: KMeansFitOptions = {}): KMeansModel {
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

    let best: { labels: Int32Array; centers: Float64Array; inertia: number; nIter: number } | null = null;
    const ws = new Workspace(n, d, k);
    columnMeans(X, ws.xMean);
    for (let run = 0; run < nInit; run++) {
      const centers = initCenters
        ? Float64Array.from(initCenters.data)
        : init === "random"
          ? randomInit(X, k, weights, rng)
          : kmeansPlusPlus(X, k, weights, rng);
      const res = lloyd(X, weights, centers, maxIter, tol, ws, run, o);
      if (best === null || (res.inertia < best.inertia && !sameClustering(res.labels, best.labels, k))) {
        best = { labels: res.labels.slice(), centers: res.centers.slice(), inertia: res.inertia, nIter: res.nIter };
      }
    }
    const b = best!;
    const distinct = new Set(b.labels).size;
    if (distinct < k) {
      fitOptions.onWarning?.(
        `only ${distinct} distinct clusters were found, fewer than nClusters=${k}: the data may have fewer than ${k} distinct points`,
      );
    }
    return new KMeansModel({ data: b.centers, rows: k, cols: d }, b.labels, b.inertia, b.nIter);
  }
}

class Workspace {
  readonly labels: Int32Array;
  readonly labelsOld: Int32Array;
  readonly dist: Float64Array;
  readonly sums: Float64Array;
  readonly clusterWeight: Float64Array;
  /** Unweighted column means of X: the origin of scikit-learn's mean-centred coordinates. */
  readonly xMean: Float64Array;
  constructor(n: number, d: number, k: number) {
    this.xMean = new Float64Array(d);
    this.labels = new Int32Array(n);
    this.labelsOld = new Int32Array(n);
    this.dist = new Float64Array(n);
    this.sums = new Float64Array(k * d);
    this.clusterWeight = new Float64Array(k);
  }
}

/**
 * One Lloyd run from the given centers, following scikit-learn's `_kmeans_single_lloyd`:
 * assign, recompute centers (relocating empty ones), stop on identical labels (strict
 * convergence) or when the squared center shift is at most `tol`.
 *
 * A cluster whose weight is still 0 after relocation (its points, or the point relocated to
 * it, all have weight 0) keeps its weighted sum undivided, as scikit-learn's `_average_centers`
 * does. scikit-learn works on mean-centred X, so that sum is taken relative to the column
 * means: the center lands at mean(X) + Σ wᵢ(xᵢ − mean(X)), which is mean(X) for zero weights.
 */
function lloyd(
  X: Matrix, weights: Float64Array, centers: Float64Array, maxIter: number, tol: number,
  ws: Workspace, run: number, o: KMeansOptions,
): { labels: Int32Array; centers: Float64Array; inertia: number; nIter: number } {
  const { rows: n, cols: d, data } = X;
  const k = centers.length / d;
  const { labels, labelsOld, dist, sums, clusterWeight, xMean } = ws;
  labelsOld.fill(-1);
  let strict = false;
  let iter = 0;
  for (; iter < maxIter; iter++) {
    if (o.signal?.aborted) throw new AbortError("K-Means was aborted");
    assignLabels(data, n, d, centers, k, labels, null, null);
    accumulateCenters(data, n, d, labels, weights, k, sums, clusterWeight);
    relocateEmptyClusters(data, n, d, weights, centers, sums, clusterWeight, labels, dist);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const w = clusterWeight[c];
      for (let j = 0; j < d; j++) {
        const idx = c * d + j;
        const v = w > 0 ? sums[idx] / w : xMean[j] + (sums[idx] - xMean[j] * w);
        const t = v - centers[idx];
        shift += t * t;
        centers[idx] = v;
      }
    }
    if (o.onProgress) o.onProgress({ init: run, iteration: iter + 1, inertia: inertiaOf(data, n, d, centers, labels, weights) });
    let same = true;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== labelsOld[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      strict = true;
      break;
    }
    if (shift <= tol) break;
    labelsOld.set(labels);
  }
  if (!strict) assignLabels(data, n, d, centers, k, labels, null, null);
  const inertia = inertiaOf(data, n, d, centers, labels, weights);
  return { labels, centers, inertia, nIter: Math.min(iter + 1, maxIter) };
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
  const { rows: n, cols: d, data } = X;
  const centers = new Float64Array(k * d);
  const nTrials = 2 + Math.floor(Math.log(k));
  const first = rng.choice(weights);
  centers.set(data.subarray(first * d, first * d + d), 0);
  let closest = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDist(data, i, centers, 0, d);
    pot += closest[i] * weights[i];
  }
  const cumsum = new Float64Array(n);
  let trial = new Float64Array(n);
  let bestTrial = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += weights[i] * closest[i];
      cumsum[i] = acc;
    }
    let bestPot = Infinity;
    let bestId = -1;
    for (let t = 0; t < nTrials; t++) {
      const r = rng.random() * pot;
      let id = searchSortedLeft(cumsum, r);
      if (id > n - 1) id = n - 1;
      let p = 0;
      for (let i = 0; i < n; i++) {
        const dd = sqDist(data, i, data, id, d);
        const m = dd < closest[i] ? dd : closest[i];
        trial[i] = m;
        p += m * weights[i];
      }
      if (p < bestPot) {
        bestPot = p;
        bestId = id;
        const tmp = bestTrial;
        bestTrial = trial;
        trial = tmp;
      }
    }
    centers.set(data.subarray(bestId * d, bestId * d + d), c * d);
    const tmp = closest;
    closest = bestTrial;
    bestTrial = tmp;
    pot = bestPot;
  }
  return centers;
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

function checkWeights(w: ArrayLike<number> | undefined, n: number): Float64Array {
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
