/**
 * Agglomerative (hierarchical) clustering with scipy's linkage matrix, dendrogram data and
 * cuts of the tree.
 *
 * Algorithms, by linkage (all O(n²) time):
 * - ward (Euclidean): the nearest-neighbour chain on cluster centroids and sizes, O(n·d)
 *   memory (no distance matrix: 100,000 customers fit in well under 1 GB);
 * - centroid, median (Euclidean): Müllner's generic algorithm on centroids, O(n·d) memory;
 * - single: Prim's minimum spanning tree with distances computed on the fly, O(n) memory
 *   beyond the data;
 * - complete, average, weighted: the nearest-neighbour chain on the distance matrix with
 *   Lance–Williams updates: the full n × n matrix up to 4 GiB (n ≤ 23,170; scans read rows in
 *   address order, as much memory as scipy's pdist and its copy), the condensed n(n−1)/2
 *   beyond (slower scans), refused beyond 2^30 pairs with a message to use ward or single.
 * The big nearest-neighbour scans (Ward, Prim) and the distance matrix are split across
 * worker threads when a parallel executor is installed; results do not depend on it.
 *
 * The linkage matrix equals scipy's `linkage(X, method, metric)`: (n−1) × 4 rows (left,
 * right, height, size), the merged cluster of row i numbered n + i, left < right; rows
 * sorted by height for the monotone linkages (all but centroid and median), as scipy does.
 *
 * Ties. Of the active clusters at the same smallest distance from a cluster, the
 * nearest-neighbour chain takes the one before it in the chain, else the lowest slot
 * (scipy's rule); Prim's step takes the lowest row; the generic algorithm takes the lowest
 * slot. Flat clusters never depend on how ties were broken: a cut at k clusters is scipy's
 * `fcluster(Z, k, 'maxclust')`, which merges all the clusters joined at the cut height, so
 * when the k-th and (k−1)-th largest merge heights are equal the cut has fewer than k
 * clusters (the fit warns). Labels are numbered by first appearance: the cluster of row 0
 * is 0, the next cluster met going down the rows is 1, and so on.
 */
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../core/matrix.js";
import { allocF64, allocI32, getParallelExecutor, isShared, type ParallelExecutor, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import {
  type CentroidStore, genericCentroid, initStore, LW_AVERAGE, LW_COMPLETE, LW_WEIGHTED, nnChainMatrix, nnChainSquare, nnChainWard,
  type Pause, primSingle, rowOffset, type ScanResult, sortAndLabel,
} from "./kernels/linkage-chain.js";
import {
  linkageLwUpdateKernel, linkagePdistKernel, linkagePrimKernel, linkageWardScanKernel, type LwUpdateParams, type LwUpdateShared,
  type PdistParams, type PdistShared, type PrimParams, type PrimShared, type WardScanParams, type WardScanShared,
} from "./kernels/linkage-scan.js";
import { assignLabels } from "./kernels/lloyd.js";
import {
  type AgglomerativeEstimate, estimateAgglomerative, formatBytes, formatCount, formatDuration, MAX_TYPED_ARRAY_LENGTH,
} from "../core/budget.js";

export type Linkage = "ward" | "complete" | "average" | "single" | "centroid" | "median" | "weighted";
export type AgglomerativeMetric = "euclidean" | "manhattan" | "cosine" | "precomputed";

const LINKAGES: readonly Linkage[] = ["ward", "complete", "average", "single", "centroid", "median", "weighted"];
const METRICS: readonly AgglomerativeMetric[] = ["euclidean", "manhattan", "cosine", "precomputed"];
/** The linkages defined by cluster centroids: Euclidean only; predict goes to the nearest centroid. */
const CENTROID_LINKAGES: readonly Linkage[] = ["ward", "centroid", "median"];

export interface AgglomerativeOptions {
  /** Number of clusters to cut the tree into (default 2; must be unset when distanceThreshold is set). */
  nClusters?: number | null;
  /**
   * Cut the tree at this height instead: clusters are the subtrees whose merges are all
   * below the threshold (scikit-learn: "at or above which clusters will not be merged").
   */
  distanceThreshold?: number | null;
  /** Default "ward". ward, centroid and median need the Euclidean metric. */
  linkage?: Linkage;
  /** Default "euclidean". "precomputed": X is the n × n matrix of distances. */
  metric?: AgglomerativeMetric;
  /** Accepted for scikit-learn compatibility; the full tree is always built (the chain needs it, and cuts are free). */
  computeFullTree?: "auto" | boolean;
}

export interface AgglomerativeFitOptions {
  /** Aborts the fit (checked between merges). */
  signal?: AbortSignal;
  /** Receives warnings (e.g. fewer clusters than nClusters because of tied merge heights). */
  onWarning?: (message: string) => void;
  /**
   * Called now and then (about every 0.1 s of work, and at the start of the distance matrix)
   * with the number of merges done; `phase` says whether the distance matrix (complete,
   * average, weighted) is being computed, with the fraction of it done, or the merges.
   */
  onProgress?: (p: AgglomerativeProgress) => void;
  /** 0 keeps the fit on the calling thread even when a worker pool is installed. */
  workers?: 0;
  /**
   * Bytes of memory the fit may use beyond its input (e.g. the machine's available memory).
   * A fit whose estimate (see estimateAgglomerative in core/budget.ts) exceeds it is refused
   * before any allocation with an InputError saying the way out; the distance-matrix linkages
   * take the condensed matrix (half the memory) when the full one would not fit. Default: no
   * limit but the absolute ones (typed-array sizes, int32 offsets of the condensed matrix).
   */
  memoryLimit?: number;
  /** onWarning is told the estimated time before starting when it exceeds this many seconds (default 10). */
  warnAfterSeconds?: number;
}

export interface AgglomerativeProgress {
  /** Merges done. */
  merges: number;
  /** Merges in all (n − 1). */
  total: number;
  /** "distances": computing the distance matrix (merges 0); "merges": building the tree. */
  phase?: "distances" | "merges";
  /** In the "distances" phase, the fraction of the matrix computed (0 to 1). */
  fraction?: number;
}

export interface AgglomerativeJSON {
  type: "AgglomerativeClustering";
  version: 1;
  linkage: Linkage;
  metric: AgglomerativeMetric;
  /** Number of rows the tree was fitted on. */
  nSamples: number;
  /** Columns of X (or n for precomputed distances). */
  nFeatures: number;
  distanceThreshold: number | null;
  linkageMatrix: number[][];
  labels: number[];
  /** ward, centroid, median: the mean of each cluster (predict goes to the nearest). */
  clusterCenters?: number[][];
  /** Other linkages with a computed metric: the training rows (predict goes to the nearest one's cluster). */
  trainingData?: number[][];
}

/** Dendrogram drawing data, equal to scipy's `dendrogram(Z, no_plot=True)` (optionally `truncate_mode='lastp'`). */
export interface DendrogramData {
  /** Leaf ids left to right: rows (< n) or, when truncated, merged clusters (n + row of Z). */
  leaves: number[];
  /** Leaf labels: the row's label (its index by default), or "(size)" for a truncated cluster. */
  ivl: string[];
  /** Number of rows under each leaf. */
  leafCounts: number[];
  /** One U-shaped link per drawn merge: x of its four points (leaves at 5, 15, 25, ...). */
  icoord: number[][];
  /** Heights of the four points of each link (bottom-left, top, top, bottom-right). */
  dcoord: number[][];
  /** Number of rows (leaves of the full tree). */
  nSamples: number;
}

export interface DendrogramOptions {
  /** Show only the last p merges (scipy's truncate_mode='lastp'); 0 or ≥ n: the whole tree. */
  p?: number;
  /** Labels of the rows (default: their index). */
  labels?: readonly string[];
}

/** A fitted hierarchy: the linkage matrix, the flat clusters of the chosen cut, dendrogram data. */
export class AgglomerativeModel {
  /** Number of flat clusters in `labels`. */
  readonly nClusters: number;
  /** Largest merge height of each merged cluster's subtree (scipy's monotone criterion for cuts). */
  private readonly maxDist: Float64Array;

  constructor(
    /** (n−1) × 4: left, right, height, size (scipy's linkage format). */
    readonly linkageMatrix: Matrix,
    /** Flat cluster of every training row, numbered by first appearance. */
    readonly labels: Int32Array,
    readonly linkage: Linkage,
    readonly metric: AgglomerativeMetric,
    readonly nFeatures: number,
    readonly distanceThreshold: number | null,
    /** ward, centroid, median: mean of each flat cluster (k × d); otherwise null. */
    readonly clusterCenters: Matrix | null,
    /** Training rows kept for predict (linkages without centroids, computed metrics); otherwise null. */
    readonly trainingData: Matrix | null,
  ) {
    this.maxDist = subtreeMaxHeights(linkageMatrix);
    let k = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] + 1 > k) k = labels[i] + 1;
    this.nClusters = k;
  }

  /** Number of training rows (leaves of the tree). */
  get nSamples(): number {
    return this.linkageMatrix.rows + 1;
  }

  /** Merge heights in linkage-matrix order (scikit-learn's `distances_`). */
  get distances(): Float64Array {
    const Z = this.linkageMatrix;
    const out = new Float64Array(Z.rows);
    for (let i = 0; i < Z.rows; i++) out[i] = Z.data[i * 4 + 2];
    return out;
  }

  /**
   * The model this tree gives with k flat clusters (its cut at k), as a fit with nClusters k
   * gives it; `X` is the data the tree was fitted on (for the cluster means, or the rows kept
   * for predict). One tree serves every k.
   */
  withClusters(X: Matrix, k: number, onWarning?: (message: string) => void): AgglomerativeModel {
    if (X.rows !== this.nSamples) throw new InputError(`withClusters: X has ${X.rows} rows but the tree has ${this.nSamples} leaves`);
    return modelOfCut(this.linkageMatrix, X, this.linkage, this.metric, this.nFeatures, null, k, onWarning);
  }

  /**
   * Flat clusters of at most k (scipy's `fcluster(Z, k, 'maxclust')`): the lowest height at
   * which the tree has at most k clusters; fewer than k when merges at that height are tied.
   * Labels by first appearance.
   */
  cut(k: number): Int32Array {
    if (!Number.isInteger(k) || k < 1) throw new InputError(`cut: k must be a positive integer, got ${k}`);
    const n = this.nSamples;
    if (k >= n) return firstAppearance(Int32Array.from({ length: n }, (_, i) => i));
    return this.cutBy(this.maxclustThreshold(k), false);
  }

  /**
   * Flat clusters whose rows were all merged at or below height h (scipy's
   * `fcluster(Z, h, 'distance')`). Labels by first appearance.
   */
  cutAtHeight(h: number): Int32Array {
    if (typeof h !== "number" || Number.isNaN(h)) throw new InputError(`cutAtHeight: h must be a number, got ${h}`);
    return this.cutBy(h, false);
  }

  /**
   * A height at which the tree has k clusters when one exists (midway between the two merge
   * heights around the cut): where a chart draws the cut line. Null when ties make k
   * impossible (then cut(k) gives fewer clusters).
   */
  cutHeight(k: number): number | null {
    const n = this.nSamples;
    if (!Number.isInteger(k) || k < 1 || k > n) return null;
    const h = sortedCopy(this.maxDist);
    if (k === n) return h.length > 0 && h[0] > 0 ? h[0] / 2 : null;
    const lo = h[n - k - 1];
    if (k === 1) return lo + Math.max(Math.abs(lo) * 0.05, 1e-12);
    const hi = h[n - k];
    return hi > lo ? (lo + hi) / 2 : null;
  }

  /**
   * Segments of new rows. ward, centroid, median: the nearest cluster mean (Euclidean; ties,
   * the lower label). Other linkages: the segment of the nearest training row by the
   * model's metric (ties, the lower row); with precomputed distances Y is the m × n matrix
   * of distances from the new rows to the training rows.
   */
  predict(Yin: MatrixLike): Int32Array {
    const Y = toMatrix(Yin, "X");
    if (Y.cols !== this.nFeatures) {
      throw new InputError(
        this.metric === "precomputed"
          ? `X has ${Y.cols} columns but a precomputed model needs the distances to its ${this.nFeatures} training rows`
          : `X has ${Y.cols} features but the model was fitted with ${this.nFeatures}`,
      );
    }
    const out = new Int32Array(Y.rows);
    if (this.clusterCenters) {
      assignLabels(Y.data, Y.rows, Y.cols, this.clusterCenters.data, this.clusterCenters.rows, out, null, null);
      return out;
    }
    const n = this.nSamples;
    if (this.metric === "precomputed") {
      for (let r = 0; r < Y.rows; r++) {
        let bv = Infinity;
        let bi = 0;
        for (let i = 0; i < n; i++) {
          const v = Y.data[r * n + i];
          if (v < bv) {
            bv = v;
            bi = i;
          }
        }
        out[r] = this.labels[bi];
      }
      return out;
    }
    const T = this.trainingData!;
    const d = T.cols;
    const metric = this.metric === "euclidean" ? 0 : this.metric === "manhattan" ? 1 : 2;
    const tn = metric === 2 ? rowNorms(T) : null;
    for (let r = 0; r < Y.rows; r++) {
      const yo = r * d;
      let yn = 0;
      if (metric === 2) {
        for (let j = 0; j < d; j++) yn += Y.data[yo + j] * Y.data[yo + j];
        yn = Math.sqrt(yn);
        if (yn === 0) throw new InputError(`X: row ${r} is all zeros; the cosine distance is undefined for it`);
      }
      let bv = Infinity;
      let bi = 0;
      for (let i = 0; i < n; i++) {
        const io = i * d;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const a = Y.data[yo + j];
          const b = T.data[io + j];
          if (metric === 0) s += (a - b) * (a - b);
          else if (metric === 1) s += Math.abs(a - b);
          else s += a * b;
        }
        const v = metric === 2 ? 1 - s / (yn * tn![i]) : s;
        if (v < bv) {
          bv = v;
          bi = i;
        }
      }
      out[r] = this.labels[bi];
    }
    return out;
  }

  /** Leaf order of the full tree (scipy's `leaves_list`). */
  leaves(): Int32Array {
    return Int32Array.from(dendrogram(this.linkageMatrix).leaves);
  }

  /** Dendrogram drawing data (scipy's `dendrogram`, optionally truncated to the last p merges). */
  dendrogram(options: DendrogramOptions = {}): DendrogramData {
    return dendrogram(this.linkageMatrix, options);
  }

  toJSON(): AgglomerativeJSON {
    const json: AgglomerativeJSON = {
      type: "AgglomerativeClustering",
      version: 1,
      linkage: this.linkage,
      metric: this.metric,
      nSamples: this.nSamples,
      nFeatures: this.nFeatures,
      distanceThreshold: this.distanceThreshold,
      linkageMatrix: toArrays(this.linkageMatrix),
      labels: Array.from(this.labels),
    };
    if (this.clusterCenters) json.clusterCenters = toArrays(this.clusterCenters);
    if (this.trainingData) json.trainingData = toArrays(this.trainingData);
    return json;
  }

  static fromJSON(json: AgglomerativeJSON): AgglomerativeModel {
    if (json?.type !== "AgglomerativeClustering" || !Array.isArray(json.linkageMatrix) || !Array.isArray(json.labels)) {
      throw new InputError("not an AgglomerativeClustering model: expected { type: \"AgglomerativeClustering\", linkageMatrix: [...], labels: [...] }");
    }
    if (!LINKAGES.includes(json.linkage) || !METRICS.includes(json.metric)) {
      throw new InputError(`AgglomerativeClustering model: unknown linkage ${JSON.stringify(json.linkage)} or metric ${JSON.stringify(json.metric)}`);
    }
    const Z = json.linkageMatrix.length > 0 ? toMatrix(json.linkageMatrix, "linkageMatrix") : { data: new Float64Array(0), rows: 0, cols: 4 };
    if (Z.cols !== 4 || json.labels.length !== Z.rows + 1) {
      throw new InputError(`AgglomerativeClustering model: linkageMatrix must be (n−1) × 4 with n = ${json.labels.length} labels`);
    }
    const centers = json.clusterCenters ? toMatrix(json.clusterCenters, "clusterCenters") : null;
    const training = json.trainingData ? toMatrix(json.trainingData, "trainingData") : null;
    return new AgglomerativeModel(
      Z, Int32Array.from(json.labels), json.linkage, json.metric, json.nFeatures, json.distanceThreshold ?? null, centers, training,
    );
  }

  /** The threshold of scipy's maxclust for k < n clusters: the (n−k)-th smallest subtree height. */
  maxclustThreshold(k: number): number {
    return sortedCopy(this.maxDist)[this.nSamples - k - 1];
  }

  /** Clusters of the subtrees whose largest merge height is ≤ t (or < t when strict). */
  private cutBy(t: number, strict: boolean): Int32Array {
    const Z = this.linkageMatrix.data;
    const n = this.nSamples;
    const parent = new Int32Array(2 * n - 1);
    for (let i = 0; i < parent.length; i++) parent[i] = i;
    const find = (a: number): number => {
      while (parent[a] !== a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
      }
      return a;
    };
    for (let i = 0; i < n - 1; i++) {
      const h = this.maxDist[i];
      if (strict ? h < t : h <= t) {
        const id = n + i;
        parent[find(Z[i * 4])] = id;
        parent[find(Z[i * 4 + 1])] = id;
      }
    }
    const roots = new Int32Array(n);
    for (let i = 0; i < n; i++) roots[i] = find(i);
    return firstAppearance(roots);
  }

  /** @internal The cut for distanceThreshold (strict, as scikit-learn). */
  cutBelow(t: number): Int32Array {
    return this.cutBy(t, true);
  }
}

/** Hierarchical clustering with scipy's linkages and scikit-learn's option names. */
export class AgglomerativeClustering {
  readonly options: Readonly<AgglomerativeOptions>;

  constructor(options: AgglomerativeOptions = {}) {
    this.options = { ...options };
    validateOptions(this.options);
  }

  async fit(Xin: MatrixLike, fitOptions: AgglomerativeFitOptions = {}): Promise<AgglomerativeModel> {
    const o = this.options;
    const linkage = o.linkage ?? "ward";
    const metric = o.metric ?? "euclidean";
    const X = toMatrix(Xin, "X");
    const n = X.rows;
    const d = X.cols;
    if (n < 2) throw new InputError(`hierarchical clustering needs at least 2 rows, X has ${n}`);
    if (d === 0) throw new InputError("X has no columns: choose at least one feature");
    const threshold = o.distanceThreshold ?? null;
    const k = threshold === null ? (o.nClusters ?? 2) : null;
    if (k !== null && k > n) throw new InputError(`nClusters=${k} is more than the ${n} rows of X: lower nClusters or supply more rows`);
    if (metric === "precomputed") checkPrecomputed(X);
    if (metric === "cosine") checkCosine(X);
    if (fitOptions.signal?.aborted) throw new AbortError("hierarchical clustering was aborted");

    const executor = fitOptions.workers === 0 ? null : getParallelExecutor();
    const parallel = executor && sharedMemoryAvailable() ? executor : null;
    const estimate = checkBudget(n, d, linkage, metric, parallel, fitOptions);
    const progress = makeProgress(fitOptions, n - 1);
    const pause = progress.pause;
    const raw = new Float64Array((n - 1) * 4);
    let Zdata: Float64Array;
    if (linkage === "ward") {
      await wardTree(X, raw, parallel, pause);
      Zdata = sortAndLabel(raw, n);
    } else if (linkage === "centroid" || linkage === "median") {
      const C = new Float64Array(n * d);
      const s = initStore(X.data, n, d, C, new Float64Array(n), new Int32Array(n));
      const chunk = linkageTuning.scanChunk;
      const S: WardScanShared = { C: s.C, size: s.size, ids: s.ids, best: new Float64Array(2 * Math.ceil(n / chunk)) };
      const res: ScanResult = { v: 0, id: -1 };
      const P: WardScanParams = { px: 0, m: n, d, chunk, sx: 1, minId: -1, mode: 1 };
      await genericCentroid(s, n, linkage === "median", raw, (px, minId) => {
        P.px = px;
        P.m = s.m;
        P.minId = minId;
        const nChunks = Math.ceil(s.m / chunk);
        linkageWardScanKernel(S, P, 0, nChunks);
        return combine(S.best, nChunks, res);
      }, pause);
      Zdata = raw;
    } else if (linkage === "single") {
      await singleTree(X, metric, raw, parallel, pause);
      Zdata = sortAndLabel(raw, n);
    } else {
      const square = estimate.method === "nn-chain-square-matrix";
      const D = await distanceMatrix(X, metric, parallel, square, progress);
      const method = linkage === "complete" ? LW_COMPLETE : linkage === "average" ? LW_AVERAGE : LW_WEIGHTED;
      if (square) await nnChainSquare(D, n, method, raw, pause, squareUpdater(D, n, method, parallel));
      else await nnChainMatrix(D, n, method, raw, pause);
      Zdata = sortAndLabel(raw, n);
    }
    fitOptions.onProgress?.({ merges: n - 1, total: n - 1, phase: "merges" });
    const Z: Matrix = { data: Zdata, rows: n - 1, cols: 4 };
    return modelOfCut(Z, X, linkage, metric, d, threshold, k, fitOptions.onWarning);
  }
}

/**
 * The model of a tree Z (fitted on X) cut below `threshold`, or else into k flat clusters:
 * the labels, and the cluster means (centroid linkages) or the rows kept for predict.
 */
function modelOfCut(
  Z: Matrix, X: Matrix, linkage: Linkage, metric: AgglomerativeMetric, d: number, threshold: number | null, k: number | null,
  onWarning?: (message: string) => void,
): AgglomerativeModel {
  const n = Z.rows + 1;
  const probe = new AgglomerativeModel(Z, new Int32Array(n), linkage, metric, d, threshold, null, null);
  const labels = threshold !== null ? probe.cutBelow(threshold) : probe.cut(k!);
  let nc = 0;
  for (let i = 0; i < n; i++) if (labels[i] + 1 > nc) nc = labels[i] + 1;
  if (k !== null && nc < k) {
    onWarning?.(`the tree has no cut with exactly ${k} clusters (merges tied at height ${probe.maxclustThreshold(k)}): ${nc} clusters returned`);
  }
  const centers = CENTROID_LINKAGES.includes(linkage) ? clusterMeans(X, labels, nc) : null;
  const training = centers === null && metric !== "precomputed" ? X : null;
  return new AgglomerativeModel(Z, labels, linkage, metric, d, threshold, centers, training);
}

/**
 * When work goes to the workers (results are the same either way; tests lower these to
 * exercise the workers on small inputs).
 */
export const linkageTuning = {
  /** Positions (clusters or rows) per chunk of a nearest-neighbour scan: the unit of work of a worker. */
  scanChunk: 2048,
  /** Scans of at least this many active clusters × features go to the workers. */
  parallelScan: 120_000,
  /** Pairs of rows from which the distance matrix is computed by the workers. */
  parallelPdist: 2_000_000,
  /** Active clusters from which the square-matrix chain's update runs on workers. */
  parallelUpdate: 4096,
  /** Positions per chunk of that update. */
  updateChunk: 2048,
  /**
   * complete, average, weighted: the full square distance matrix (n² doubles, fast scans)
   * up to this many entries (4 GiB), the condensed one (half) beyond.
   */
  maxSquare: 2 ** 29,
};

type Runner = (name: string, kernel: (S: never, P: never, a: number, b: number) => void, S: object, P: object, nChunks: number) => void | Promise<void>;

/**
 * Runs a kernel on the workers (blocking when the executor can, to keep the per-merge
 * latency low) or on the calling thread, with the same chunks either way. A pool that
 * does not know the kernel (not registered in io/pool.ts) is not used.
 */
function makeRunner(parallel: ParallelExecutor | null): { run: Runner; enabled: () => boolean } {
  let exec = parallel;
  const local = (kernel: (S: never, P: never, a: number, b: number) => void, S: object, P: object, nChunks: number): void =>
    kernel(S as never, P as never, 0, nChunks);
  const run: Runner = (name, kernel, S, P, nChunks) => {
    if (exec === null) return local(kernel, S, P, nChunks);
    const shared = S as Record<string, TypedArray>;
    const params = P as unknown as Record<string, number>;
    const fallback = (e: unknown): void => {
      if (!String(e).includes("unknown kernel")) throw e;
      exec = null;
      local(kernel, S, P, nChunks);
    };
    if (exec.runSync) {
      try {
        exec.runSync(name, shared, params, nChunks);
      } catch (e) {
        fallback(e);
      }
      return;
    }
    return exec.run(name, shared, params, nChunks).catch(fallback);
  };
  return { run, enabled: () => exec !== null };
}

/** Progress reports and pauses for the event loop during the long phases of a fit. */
interface Progress {
  /** Between merges and between the scans of a merge. */
  pause: Pause;
  /** Between blocks of the distance matrix: `done` of `all` blocks. */
  distances: (done: number, all: number) => Promise<void> | null;
}

/**
 * Time-based, not count-based: a merge of Ward's chain on millions of rows takes
 * milliseconds, one of a small matrix microseconds, so every call reads the clock (far
 * cheaper than the scan between two calls) and reports when 0.1 s has passed.
 */
function makeProgress(o: AgglomerativeFitOptions, total: number): Progress {
  let last = Date.now();
  const aborted = (): void => {
    if (o.signal?.aborted) throw new AbortError("hierarchical clustering was aborted");
  };
  const tick = (report: () => void): Promise<void> | null => {
    aborted();
    const now = Date.now();
    if (now - last < 100) return null;
    last = now;
    report();
    // Let timers and the abort signal's listeners run.
    return new Promise<void>((resolve) => setTimeout(resolve, 0)).then(aborted);
  };
  return {
    pause: (merges) => tick(() => o.onProgress?.({ merges, total, phase: "merges" })),
    distances: (done, all) => {
      if (done === 0) {
        aborted();
        o.onProgress?.({ merges: 0, total, phase: "distances", fraction: 0 });
        return null;
      }
      return tick(() => o.onProgress?.({ merges: 0, total, phase: "distances", fraction: done / all }));
    },
  };
}

/**
 * The estimate of the fit's time and memory, checked before anything big is allocated:
 * refused (InputError, with the ways out) beyond the absolute limits of the code or the
 * caller's memoryLimit; onWarning is told the time when it exceeds warnAfterSeconds.
 */
function checkBudget(
  n: number, d: number, linkage: Linkage, metric: AgglomerativeMetric, parallel: ParallelExecutor | null, o: AgglomerativeFitOptions,
): AgglomerativeEstimate {
  const limit = o.memoryLimit;
  if (limit !== undefined && (typeof limit !== "number" || Number.isNaN(limit) || limit <= 0)) {
    throw new InputError(`memoryLimit must be a positive number of bytes, got ${limit}`);
  }
  const warnAfter = o.warnAfterSeconds ?? 10;
  if (typeof warnAfter !== "number" || Number.isNaN(warnAfter) || warnAfter < 0) {
    throw new InputError(`warnAfterSeconds must be a number ≥ 0, got ${warnAfter}`);
  }
  const threads = parallel !== null && n * d >= linkageTuning.parallelScan ? parallel.size : 1;
  const opts = { metric, memoryLimit: limit, maxSquareEntries: linkageTuning.maxSquare, threads };
  const e = estimateAgglomerative(n, d, linkage, opts);
  const what = `agglomerative clustering (${linkage} linkage) of ${formatCount(n)} rows`;
  const needs = `needs about ${formatBytes(e.bytes)} for ${e.memoryFor}`;
  const matrix = e.matrixBytes > 0;
  const fits = (m: number): boolean => {
    const f = estimateAgglomerative(m, d, linkage, opts);
    return (!matrix || (m * (m - 1)) / 2 <= MAX_PAIRS) && largestArray(m, d, linkage, metric, f) <= MAX_TYPED_ARRAY_LENGTH &&
      (limit === undefined || f.bytes <= limit);
  };
  const waysOut = (): string => {
    // The largest sample that fits (the estimate grows with the rows).
    let lo = 2;
    let hi = n;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    const sample = fits(lo) ? `cluster a sample of at most ${formatCount(lo >= 1000 ? Math.floor(lo / 1000) * 1000 : lo)} rows` : "cluster a sample (fewer rows)";
    if (!matrix) return `${sample}, or use --algorithm minibatch-kmeans (mini-batch K-Means: memory a few arrays of the rows)`;
    const ward = estimateAgglomerative(n, d, "ward", { ...opts, metric: "euclidean" });
    const linear = metric === "euclidean"
      ? `use --linkage ward (memory linear in the rows: about ${formatBytes(ward.bytes)} here) or single`
      : `use --linkage single (memory linear in the rows)`;
    return `${sample}, ${linear}, or use --algorithm minibatch-kmeans (mini-batch K-Means)`;
  };
  if ((matrix && (n * (n - 1)) / 2 > MAX_PAIRS) || largestArray(n, d, linkage, metric, e) > MAX_TYPED_ARRAY_LENGTH) {
    throw new InputError(
      `${what} ${needs}, beyond what this linkage can index (${formatCount(matrix ? MAX_PAIRS : MAX_TYPED_ARRAY_LENGTH)} ${matrix ? "pairs" : "values in one array"}); ${waysOut()}`,
    );
  }
  if (limit !== undefined && e.bytes > limit) {
    throw new InputError(`${what} ${needs}, more than the ${formatBytes(limit)} of memory available; ${waysOut()}`);
  }
  if (e.seconds > warnAfter) {
    o.onWarning?.(
      `${what} ${metric === "precomputed" ? "(precomputed distances)" : `× ${d} ${d === 1 ? "feature" : "features"}`} will take ${formatDuration(e.seconds)} (estimated from the sizes, ` +
        `${threads > 1 ? `on ${threads} threads` : "on one core"}; the time grows with the square of the rows): ` +
        `cluster a sample or use --algorithm minibatch-kmeans for a faster run`,
    );
  }
  return e;
}

/** Entries of the largest typed array the fit allocates (the distance matrix, or the centroids or rows). */
function largestArray(n: number, d: number, linkage: Linkage, metric: AgglomerativeMetric, e: AgglomerativeEstimate): number {
  if (e.matrixBytes > 0) return e.matrixBytes / 8;
  return linkage === "single" && metric === "precomputed" ? n * n : n * d;
}

/** Lexicographic minimum (value, id) of the chunks' results, in chunk order. */
function combine(best: Float64Array, nChunks: number, out: ScanResult): ScanResult {
  let bv = Infinity;
  let bi = -1;
  for (let c = 0; c < nChunks; c++) {
    const v = best[c * 2];
    const id = best[c * 2 + 1];
    if (id < 0) continue;
    if (v < bv || (v === bv && id < bi)) {
      bv = v;
      bi = id;
    }
  }
  out.v = bv;
  out.id = bi;
  return out;
}

async function wardTree(X: Matrix, raw: Float64Array, parallel: ParallelExecutor | null, pause: Pause): Promise<void> {
  const { rows: n, cols: d } = X;
  const shared = parallel !== null && n * d >= linkageTuning.parallelScan;
  const s: CentroidStore = initStore(X.data, n, d, allocF64(n * d, shared), allocF64(n, shared), allocI32(n, shared));
  const chunk = linkageTuning.scanChunk;
  const S: WardScanShared = { C: s.C, size: s.size, ids: s.ids, best: allocF64(2 * Math.ceil(n / chunk), shared) };
  const P: WardScanParams = { px: 0, m: n, d, chunk, sx: 1, minId: -1, mode: 0 };
  const runner = makeRunner(shared ? parallel : null);
  const res: ScanResult = { v: 0, id: -1 };
  await nnChainWard(s, n, raw, (px, sx) => {
    P.px = px;
    P.sx = sx;
    P.m = s.m;
    const nChunks = Math.ceil(s.m / chunk);
    if (s.m * d >= linkageTuning.parallelScan && runner.enabled()) {
      const r = runner.run("linkageWardScan", linkageWardScanKernel, S, P, nChunks);
      if (r) return r.then(() => combine(S.best, nChunks, res));
    } else linkageWardScanKernel(S, P, 0, nChunks);
    return combine(S.best, nChunks, res);
  }, pause);
}

async function singleTree(X: Matrix, metric: AgglomerativeMetric, raw: Float64Array, parallel: ParallelExecutor | null, pause: Pause): Promise<void> {
  const n = X.rows;
  const code = metric === "euclidean" ? 0 : metric === "manhattan" ? 1 : metric === "cosine" ? 2 : 3;
  const d = code === 3 ? n : X.cols;
  const shared = parallel !== null && n * d >= linkageTuning.parallelScan;
  const { data, norms } = distanceInputs(X, code, shared);
  const chunk = linkageTuning.scanChunk;
  const nChunks = Math.ceil(n / chunk);
  const S: PrimShared = {
    X: data, norms, key: allocF64(n, shared).fill(Infinity),
    merged: shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n),
    best: allocF64(2 * nChunks, shared),
  };
  const P: PrimParams = { x: 0, n, d, chunk, metric: code };
  const runner = makeRunner(shared ? parallel : null);
  const res: ScanResult = { v: 0, id: -1 };
  await primSingle(n, raw, (x) => {
    S.merged[x] = 1;
    P.x = x;
    const r = runner.run("linkagePrim", linkagePrimKernel, S, P, nChunks);
    if (r) return r.then(() => combine(S.best, nChunks, res));
    return combine(S.best, nChunks, res);
  }, code === 0 ? Math.sqrt : (v) => v, pause);
}

/**
 * Largest number of pairs for the distance-matrix linkages (complete, average, weighted): an
 * absolute cap (the condensed matrix's offsets stay in int32), whatever the memory.
 */
const MAX_PAIRS = 2 ** 30;

/**
 * The Lance–Williams update of the square-matrix chain on the workers, for rows of at least
 * `parallelUpdate` active positions (D must be in shared memory); undefined without workers.
 */
function squareUpdater(D: Float64Array, n: number, method: number, parallel: ParallelExecutor | null) {
  if (parallel === null || !isShared(D) || n < linkageTuning.parallelUpdate) return undefined;
  const runner = makeRunner(parallel);
  const chunk = linkageTuning.updateChunk;
  const S: LwUpdateShared = { D, alive: allocI32(n, true) };
  const P: LwUpdateParams = { x: 0, y: 0, N: n, m: n, method, nx: 1, ny: 1, chunk };
  return {
    alive: S.alive,
    update: (x: number, y: number, N: number, m: number, nx: number, ny: number): boolean => {
      if (m < linkageTuning.parallelUpdate || !runner.enabled()) return false;
      Object.assign(P, { x, y, N, m, nx, ny });
      // Synchronous: the executor blocks until the workers are done (runSync), as the chain needs the rows at once.
      const r = runner.run("linkageLwUpdate", linkageLwUpdateKernel, S, P, Math.ceil(m / chunk));
      if (r) throw new Error("the square-matrix update needs an executor that can block (runSync)");
      return true; // done, on the workers or (a pool without the kernel) here
    },
  };
}

/**
 * The distances between all rows (scipy's `pdist`): the condensed upper triangle, or the full
 * square matrix when `square`. Computed by the workers for large n.
 */
async function distanceMatrix(
  X: Matrix, metric: AgglomerativeMetric, parallel: ParallelExecutor | null, square: boolean, progress: Progress,
): Promise<Float64Array> {
  const n = X.rows;
  const pairs = (n * (n - 1)) / 2; // checkBudget kept it within MAX_PAIRS
  const length = square ? n * n : pairs;
  const shared = parallel !== null && pairs >= linkageTuning.parallelPdist && metric !== "precomputed";
  let D: Float64Array;
  try {
    D = allocF64(length, shared);
  } catch (e) {
    throw new InputError(
      `cannot allocate the ${formatBytes(length * 8)} distance matrix for ${formatCount(n)} rows (${String(e)}): ` +
        `use --linkage ward or single (memory linear in the rows), or cluster a sample`,
    );
  }
  await progress.distances(0, 1);
  if (metric === "precomputed") {
    // The upper triangle (mirrored when square, so that the matrix is exactly symmetric).
    for (let i = 0; i < n; i++) {
      const off = square ? i * n : rowOffset(n, i);
      for (let j = i + 1; j < n; j++) {
        const v = X.data[i * n + j];
        D[off + j] = v;
        if (square) D[j * n + i] = v;
      }
    }
    return D;
  }
  const d = X.cols;
  const code = metric === "euclidean" ? 0 : metric === "manhattan" ? 1 : 2;
  const { data, norms } = distanceInputs(X, code, shared);
  // Chunks of rows with about the same number of distances each.
  const nChunks = Math.max(1, Math.min(n - 1, 64));
  const bounds = allocF64(nChunks + 1, shared);
  let c = 1;
  let acc = 0;
  for (let i = 0; i < n && c < nChunks; i++) {
    acc += square ? n : n - i - 1;
    if (acc >= ((square ? n * n : pairs) * c) / nChunks) bounds[c++] = i + 1;
  }
  while (c <= nChunks) bounds[c++] = n;
  const P: PdistParams = { n, d, metric: code, square: square ? 1 : 0 };
  const runner = makeRunner(shared ? parallel : null);
  // In batches of chunks (each entry is computed on its own, so any split gives the same
  // matrix), with a progress report and a pause between batches.
  const batch = shared ? 4 * Math.max(1, parallel!.size) : 1;
  for (let c0 = 0; c0 < nChunks; c0 += batch) {
    const c1 = Math.min(nChunks, c0 + batch);
    const part = allocF64(c1 - c0 + 1, shared);
    part.set(bounds.subarray(c0, c1 + 1));
    const r = runner.run("linkagePdist", linkagePdistKernel, { X: data, norms, D, bounds: part } satisfies PdistShared, P, c1 - c0);
    if (r) await r;
    const p = progress.distances(c1, nChunks);
    if (p) await p;
  }
  return D;
}

/**
 * What the distance kernels read: the rows (copied into shared memory when workers will read
 * them) and, for the cosine metric (code 2), the row norms.
 */
function distanceInputs(X: Matrix, code: number, shared: boolean): { data: Float64Array; norms: Float64Array } {
  let data = X.data;
  if (shared && !isShared(data)) {
    data = allocF64(X.data.length, true);
    data.set(X.data);
  }
  const norms = allocF64(code === 2 ? X.rows : 0, shared);
  if (code === 2) norms.set(rowNorms(X));
  return { data, norms };
}

function rowNorms(X: Matrix): Float64Array {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += data[i * d + j] * data[i * d + j];
    out[i] = Math.sqrt(s);
  }
  return out;
}

function checkPrecomputed(X: Matrix): void {
  const n = X.rows;
  if (X.cols !== n) {
    throw new InputError(`metric "precomputed" needs the n × n matrix of distances between the rows; X is ${X.rows} × ${X.cols}`);
  }
  const D = X.data;
  for (let i = 0; i < n; i++) {
    if (D[i * n + i] !== 0) throw new InputError(`precomputed distances: the diagonal must be 0, X[${i}][${i}] is ${D[i * n + i]}`);
    for (let j = i + 1; j < n; j++) {
      const a = D[i * n + j];
      const b = D[j * n + i];
      if (a < 0) throw new InputError(`precomputed distances must be non-negative, X[${i}][${j}] is ${a}`);
      if (Math.abs(a - b) > 1e-12 * Math.max(1, Math.abs(a), Math.abs(b))) {
        throw new InputError(`precomputed distances must be symmetric: X[${i}][${j}] = ${a} but X[${j}][${i}] = ${b}`);
      }
    }
  }
}

function checkCosine(X: Matrix): void {
  const norms = rowNorms(X);
  for (let i = 0; i < norms.length; i++) {
    if (norms[i] === 0) {
      throw new InputError(`X: row ${i} is all zeros, and the cosine distance is undefined for it: drop such rows or use metric "euclidean"`);
    }
  }
}

function validateOptions(o: AgglomerativeOptions): void {
  const linkage = o.linkage ?? "ward";
  const metric = o.metric ?? "euclidean";
  if (!LINKAGES.includes(linkage)) throw new InputError(`linkage must be one of ${LINKAGES.join(", ")}; got ${JSON.stringify(linkage)}`);
  if (!METRICS.includes(metric)) throw new InputError(`metric must be one of ${METRICS.join(", ")}; got ${JSON.stringify(metric)}`);
  if (CENTROID_LINKAGES.includes(linkage) && metric !== "euclidean") {
    throw new InputError(
      `linkage "${linkage}" works with cluster centroids and needs metric "euclidean" (got "${metric}"): ` +
        `use linkage "average", "complete" or "single" with metric "${metric}"`,
    );
  }
  const t = o.distanceThreshold;
  if (t !== undefined && t !== null) {
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0) throw new InputError(`distanceThreshold must be a finite number ≥ 0, got ${t}`);
    if (o.nClusters !== undefined && o.nClusters !== null) {
      throw new InputError("give either nClusters or distanceThreshold, not both (set nClusters: null to cut at a height)");
    }
  }
  const k = o.nClusters;
  if (k !== undefined && k !== null && (!Number.isInteger(k) || k < 1)) throw new InputError(`nClusters must be a positive integer, got ${k}`);
  const f = o.computeFullTree;
  if (f !== undefined && f !== "auto" && typeof f !== "boolean") throw new InputError(`computeFullTree must be "auto", true or false, got ${JSON.stringify(f)}`);
}

/** Largest merge height in each merged cluster's subtree. */
function subtreeMaxHeights(Z: Matrix): Float64Array {
  const rows = Z.rows;
  const n = rows + 1;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let h = Z.data[i * 4 + 2];
    const a = Z.data[i * 4];
    const b = Z.data[i * 4 + 1];
    if (a >= n && out[a - n] > h) h = out[a - n];
    if (b >= n && out[b - n] > h) h = out[b - n];
    out[i] = h;
  }
  return out;
}

function sortedCopy(a: Float64Array): Float64Array {
  return Float64Array.from(a).sort();
}

/** Renumbers cluster ids 0, 1, 2, ... in order of first appearance along the rows. */
function firstAppearance(roots: Int32Array): Int32Array {
  const map = new Map<number, number>();
  const out = new Int32Array(roots.length);
  for (let i = 0; i < roots.length; i++) {
    let c = map.get(roots[i]);
    if (c === undefined) {
      c = map.size;
      map.set(roots[i], c);
    }
    out[i] = c;
  }
  return out;
}

function clusterMeans(X: Matrix, labels: Int32Array, k: number): Matrix {
  const { rows: n, cols: d, data } = X;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    for (let j = 0; j < d; j++) sums[c * d + j] += data[i * d + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) sums[c * d + j] /= counts[c];
  return { data: sums, rows: k, cols: d };
}

/**
 * Dendrogram drawing data of a linkage matrix, equal to scipy's
 * `dendrogram(Z, truncate_mode='lastp' if p else None, p=p, no_plot=True)`: leaves left to
 * right (the left child of each merge first), leaf labels (a merged cluster shown as a leaf
 * reads "(size)"), and one U-shaped link per drawn merge with its x (leaves at 5, 15, ...)
 * and heights. Iterative, so deep trees (single linkage chains) do not overflow the stack.
 */
export function dendrogram(Zin: MatrixLike, options: DendrogramOptions = {}): DendrogramData {
  const Z = toMatrix(Zin, "linkageMatrix");
  if (Z.cols !== 4) throw new InputError(`a linkage matrix has 4 columns, this one has ${Z.cols}`);
  const n = Z.rows + 1;
  let p = options.p ?? 0;
  if (!Number.isInteger(p) || p < 0) throw new InputError(`dendrogram: p must be a non-negative integer, got ${p}`);
  if (p > n || p === 0) p = n;
  if (options.labels && options.labels.length !== n) throw new InputError(`dendrogram: ${options.labels.length} labels for ${n} rows`);
  const out: DendrogramData = { leaves: [], ivl: [], leafCounts: [], icoord: [], dcoord: [], nSamples: n };
  const D = Z.data;
  const leaf = (i: number): number | null => {
    if (i < n) {
      out.leaves.push(i);
      out.ivl.push(options.labels ? options.labels[i] : String(i));
      out.leafCounts.push(1);
      return 0;
    }
    if (i < 2 * n - p) {
      const size = D[(i - n) * 4 + 3];
      out.leaves.push(i);
      out.ivl.push(`(${size})`);
      out.leafCounts.push(size);
      return 0; // drawn from the baseline, as scipy does
    }
    return null;
  };
  if (n === 1) {
    leaf(0);
    return out;
  }
  interface Frame { i: number; iv: number; ax: number; aw: number; ah: number; stage: number }
  const stack: Frame[] = [{ i: 2 * n - 2, iv: 0, ax: 0, aw: 0, ah: 0, stage: 0 }];
  let ret: { x: number; w: number; h: number } | null = null;
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (ret !== null) {
      if (f.stage === 1) {
        f.ax = ret.x;
        f.aw = ret.w;
        f.ah = ret.h;
        f.stage = 2;
        ret = null;
        stack.push({ i: D[(f.i - n) * 4 + 1], iv: f.iv + f.aw, ax: 0, aw: 0, ah: 0, stage: 0 });
        continue;
      }
      const h = D[(f.i - n) * 4 + 2];
      out.icoord.push([f.ax, f.ax, ret.x, ret.x]);
      out.dcoord.push([f.ah, h, h, ret.h]);
      ret = { x: (f.ax + ret.x) / 2, w: f.aw + ret.w, h };
      stack.pop();
      continue;
    }
    const lh = leaf(f.i);
    if (lh !== null) {
      ret = { x: f.iv + 5, w: 10, h: lh };
      stack.pop();
      continue;
    }
    f.stage = 1;
    stack.push({ i: D[(f.i - n) * 4], iv: f.iv, ax: 0, aw: 0, ah: 0, stage: 0 });
  }
  return out;
}
