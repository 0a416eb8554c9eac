/**
 * HDBSCAN with scikit-learn ≥ 1.3's semantics and option names (sklearn.cluster.HDBSCAN):
 *
 * 1. Core distances: the distance of every row to its minSamples-th nearest row, the row
 *    itself counted (minSamples = 1: 0), from the neighbour index (src/neighbors, KD-tree
 *    or brute force, split across the worker pool).
 * 2. The minimum spanning tree of mutual reachability max(core_a, core_b, d(a, b) / alpha):
 *    Borůvka on the KD-tree (mst.ts), or Prim (O(n²) time, O(n) memory) where the index is
 *    brute force (d > 15, cosine, k ≥ n / 2) and for precomputed distances.
 * 3. The single-linkage tree, the condensed tree for minClusterSize, stabilities, the flat
 *    clusters by "eom" or "leaf" with clusterSelectionEpsilon, maxClusterSize and
 *    allowSingleCluster, labels (−1 noise) and probabilities (hdbscan-tree.ts).
 *
 * Where alpha applies follows scikit-learn's two code paths: with euclidean and manhattan
 * (its KD-tree path) only the pair distance is divided by alpha, the core distances are not;
 * with cosine and precomputed (its brute-force path) the whole distance matrix is divided by
 * alpha, core distances included. `coreDistances` holds them as used.
 *
 * Ties are frequent (an edge's weight is often a core distance, shared by several edges),
 * and the order of tied merges decides how the condensed tree splits. scikit-learn sorts
 * its Prim edges (Prim from row 0) by weight with numpy's quicksort, which in practice keeps
 * ties in Prim's order; here the spanning tree's edges are put in the order Prim from row 0
 * adds them and sorted stably, which reproduces that. When several spanning trees are
 * equally minimal, Borůvka may find another one than scikit-learn's Prim (then tied merges
 * may differ); the result is deterministic and the same with any number of workers.
 *
 * Prediction for new rows is the hdbscan library's approximate_predict: the training row
 * nearest in mutual reachability among the new row's 2·minSamples nearest training rows (the
 * new row's core distance: its distance to its minSamples-th nearest training row), the
 * lambda of that distance, and the cluster of that row in the condensed tree or the ancestor
 * it would have left at that lambda; probability = lambda / the cluster's largest lambda.
 */
import { AbortError, InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, toArrays, toMatrix } from "../../core/matrix.js";
import { getParallelExecutor, type ParallelExecutor, sharedMemoryAvailable } from "../../core/parallel.js";
import { NeighborIndex } from "../../neighbors/index.js";
import {
  type ClusterSelectionMethod, type CondensedTree, computeStability, condenseTree, predictionTree, predictOne, type PredictionTree, selectClusters,
  singleLinkage, sortEdges,
} from "./hdbscan-tree.js";
import { boruvkaMST, METRIC_CODE, type MSTEdges, primMatrix, primMST } from "./mst.js";

export type HDBSCANMetric = "euclidean" | "manhattan" | "cosine" | "precomputed";
export type HDBSCANAlgorithm = "auto" | "kd_tree" | "brute";

export interface HDBSCANOptions {
  /** Smallest size of a cluster (default 5; an integer ≥ 2). */
  minClusterSize?: number;
  /** k of the core distance, the point itself counted (default null: minClusterSize). */
  minSamples?: number | null;
  /** Clusters split below this distance are merged (default 0). */
  clusterSelectionEpsilon?: number;
  /** Largest cluster "eom" may select (default null: no limit). */
  maxClusterSize?: number | null;
  /** Default "euclidean". "precomputed": X is the n × n matrix of distances. */
  metric?: HDBSCANMetric;
  /** Distance scaling of robust single linkage (default 1). */
  alpha?: number;
  /** "auto" (default): the KD-tree unless the neighbour index picks brute force; "kd_tree"; "brute" (Prim). */
  algorithm?: HDBSCANAlgorithm;
  /** KD-tree leaf size (default 40). */
  leafSize?: number;
  /** Default "eom". */
  clusterSelectionMethod?: ClusterSelectionMethod;
  /** Default false. */
  allowSingleCluster?: boolean;
}

export type HDBSCANPhase = "core distances" | "spanning tree" | "tree";

export interface HDBSCANFitOptions {
  signal?: AbortSignal;
  /** Progress within the current phase: core distances (rows), spanning tree (edges of n − 1), tree. */
  onProgress?: (done: number, total: number, phase: HDBSCANPhase) => void;
  /** 0 keeps the fit on the calling thread even when a worker pool is installed. */
  workers?: 0;
}

export interface HDBSCANPrediction {
  labels: Int32Array;
  probabilities: Float64Array;
}

interface Resolved {
  minClusterSize: number;
  minSamples: number;
  clusterSelectionEpsilon: number;
  maxClusterSize: number | null;
  metric: HDBSCANMetric;
  alpha: number;
  clusterSelectionMethod: ClusterSelectionMethod;
  allowSingleCluster: boolean;
}

export interface HDBSCANJSON {
  type: "HDBSCAN";
  version: 1;
  /** The options of the fit (minSamples resolved). */
  minClusterSize: number;
  minSamples: number;
  clusterSelectionEpsilon: number;
  maxClusterSize: number | null;
  metric: HDBSCANMetric;
  alpha: number;
  clusterSelectionMethod: ClusterSelectionMethod;
  allowSingleCluster: boolean;
  nSamples: number;
  /** Columns of X (n for precomputed distances). */
  nFeatures: number;
  labels: number[];
  probabilities: number[];
  coreDistances: number[];
  /** Rows of the condensed tree; lambdaVal null stands for Infinity (distance 0). */
  condensedTree: { parent: number[]; child: number[]; lambdaVal: (number | null)[]; childSize: number[] };
  singleLinkageTree: number[][];
  /** The training rows (not for precomputed distances): prediction searches them. */
  trainingData?: number[][];
}

const METRICS: readonly HDBSCANMetric[] = ["euclidean", "manhattan", "cosine", "precomputed"];
const ALGORITHMS: readonly HDBSCANAlgorithm[] = ["auto", "kd_tree", "brute"];
const METHODS: readonly ClusterSelectionMethod[] = ["eom", "leaf"];

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

function resolveOptions(o: HDBSCANOptions): Resolved & { algorithm: HDBSCANAlgorithm; leafSize: number } {
  const minClusterSize = o.minClusterSize ?? 5;
  if (!isInt(minClusterSize) || minClusterSize < 2) {
    throw new InputError(`minClusterSize is ${String(minClusterSize)}; it must be a whole number ≥ 2 (the smallest group called a cluster)`);
  }
  const minSamples = o.minSamples ?? minClusterSize;
  if (!isInt(minSamples) || minSamples < 1) throw new InputError(`minSamples is ${String(minSamples)}; it must be a whole number ≥ 1, or null for minClusterSize`);
  const eps = o.clusterSelectionEpsilon ?? 0;
  if (typeof eps !== "number" || !(eps >= 0) || eps === Infinity) throw new InputError(`clusterSelectionEpsilon is ${String(eps)}; it must be a finite number ≥ 0`);
  const maxClusterSize = o.maxClusterSize ?? null;
  if (maxClusterSize !== null && (!isInt(maxClusterSize) || maxClusterSize < 1)) {
    throw new InputError(`maxClusterSize is ${String(maxClusterSize)}; it must be a whole number ≥ 1, or null for no limit`);
  }
  const metric = o.metric ?? "euclidean";
  if (!METRICS.includes(metric)) throw new InputError(`metric is ${JSON.stringify(metric)}; choose one of ${METRICS.join(", ")}`);
  const alpha = o.alpha ?? 1;
  if (typeof alpha !== "number" || !(alpha > 0) || alpha === Infinity) throw new InputError(`alpha is ${String(alpha)}; it must be a finite number > 0`);
  const algorithm = o.algorithm ?? "auto";
  if (!ALGORITHMS.includes(algorithm)) throw new InputError(`algorithm is ${JSON.stringify(algorithm)}; choose one of ${ALGORITHMS.join(", ")}`);
  const leafSize = o.leafSize ?? 40;
  if (!isInt(leafSize) || leafSize < 1) throw new InputError(`leafSize is ${String(leafSize)}; it must be a whole number ≥ 1`);
  const clusterSelectionMethod = o.clusterSelectionMethod ?? "eom";
  if (!METHODS.includes(clusterSelectionMethod)) throw new InputError(`clusterSelectionMethod is ${JSON.stringify(clusterSelectionMethod)}; choose "eom" or "leaf"`);
  const allowSingleCluster = o.allowSingleCluster ?? false;
  if (typeof allowSingleCluster !== "boolean") throw new InputError(`allowSingleCluster is ${String(allowSingleCluster)}; it must be true or false`);
  return { minClusterSize, minSamples, clusterSelectionEpsilon: eps, maxClusterSize, metric, alpha, clusterSelectionMethod, allowSingleCluster, algorithm, leafSize };
}

/** A fitted HDBSCAN: labels, probabilities, trees, and approximate prediction for new rows. */
export class HDBSCANModel {
  /** Number of clusters (labels 0 … nClusters − 1; −1 is noise). */
  readonly nClusters: number;
  private prediction: PredictionTree | null = null;
  private index: NeighborIndex | null = null;
  private readonly selected: Int32Array;
  private readonly deaths: Float64Array;

  /** @internal */
  constructor(
    readonly options: Readonly<Resolved>,
    readonly labels: Int32Array,
    readonly probabilities: Float64Array,
    readonly condensedTree: CondensedTree,
    /** scipy linkage format, (n − 1) × 4: left, right, distance (mutual reachability), size. */
    readonly singleLinkageTree: Matrix,
    /** Core distance of every training row (divided by alpha for cosine and precomputed, as scikit-learn). */
    readonly coreDistances: Float64Array,
    readonly nFeatures: number,
    /** The training rows (null for precomputed distances). */
    readonly trainingData: Matrix | null,
  ) {
    const n = labels.length;
    const sel = selectClusters(condensedTree, n, computeStability(condensedTree, n), options);
    this.selected = sel.selected;
    this.deaths = sel.deaths;
    this.nClusters = sel.selected.length;
  }

  get nSamples(): number {
    return this.labels.length;
  }

  /** The labels approximatePredict gives (−1 noise). */
  predict(Y: MatrixLike): Int32Array {
    return this.approximatePredict(Y).labels;
  }

  /**
   * The hdbscan library's approximate_predict. For metric "precomputed", Y holds the
   * distances of the new rows to the n training rows (m × n).
   */
  approximatePredict(Yin: MatrixLike): HDBSCANPrediction {
    const Y = toMatrix(Yin, "Y");
    const n = this.nSamples;
    const m = Y.rows;
    const o = this.options;
    const precomputed = o.metric === "precomputed";
    const want = precomputed ? n : this.nFeatures;
    if (Y.cols !== want) {
      throw new InputError(
        precomputed
          ? `Y has ${Y.cols} columns but the model was fitted on ${n} rows of precomputed distances: give each new row's distances to the ${n} training rows`
          : `Y has ${Y.cols} columns but the model was fitted on ${want}; give the same features in the same order`,
      );
    }
    if (precomputed) for (let i = 0; i < Y.data.length; i++) if (Y.data[i] < 0) throw new InputError(`Y: row ${Math.floor(i / n)}, column ${i % n} is a negative distance`);
    const labels = new Int32Array(m).fill(-1);
    const probabilities = new Float64Array(m);
    if (m === 0) return { labels, probabilities };
    this.prediction ??= predictionTree(this.condensedTree, n, this.selected, this.deaths);
    const k = Math.min(n, 2 * o.minSamples);
    let distances: Float64Array;
    let indices: Int32Array;
    if (precomputed) ({ distances, indices } = nearestInRows(Y.data, m, n, k));
    else {
      const T = this.trainingData as Matrix;
      this.index ??= NeighborIndex.build(T.data, n, T.cols, { metric: o.metric as "euclidean", expectedK: k });
      ({ distances, indices } = this.index.kNearest(Y.data, m, k));
    }
    // scikit-learn's brute-force path (cosine, precomputed) scales core distances by alpha too.
    const coreScale = o.metric === "cosine" || precomputed ? o.alpha : 1;
    const core = this.coreDistances;
    const ms = Math.min(o.minSamples, k);
    const out = { label: -1, probability: 0 };
    for (let r = 0; r < m; r++) {
      const base = r * k;
      const own = distances[base + ms - 1] / coreScale;
      let best = Infinity;
      let nearest = -1;
      for (let j = 0; j < k; j++) {
        const q = indices[base + j];
        let w = distances[base + j] / o.alpha;
        if (core[q] > w) w = core[q];
        if (own > w) w = own;
        if (w < best) {
          best = w;
          nearest = q;
        }
      }
      const lambda = best > 0 ? 1 / best : Number.MAX_VALUE;
      predictOne(this.prediction, nearest, lambda, out);
      labels[r] = out.label;
      probabilities[r] = out.probability;
    }
    return { labels, probabilities };
  }

  toJSON(): HDBSCANJSON {
    const o = this.options;
    const t = this.condensedTree;
    const json: HDBSCANJSON = {
      type: "HDBSCAN",
      version: 1,
      minClusterSize: o.minClusterSize,
      minSamples: o.minSamples,
      clusterSelectionEpsilon: o.clusterSelectionEpsilon,
      maxClusterSize: o.maxClusterSize,
      metric: o.metric,
      alpha: o.alpha,
      clusterSelectionMethod: o.clusterSelectionMethod,
      allowSingleCluster: o.allowSingleCluster,
      nSamples: this.nSamples,
      nFeatures: this.nFeatures,
      labels: Array.from(this.labels),
      probabilities: Array.from(this.probabilities),
      coreDistances: Array.from(this.coreDistances),
      condensedTree: {
        parent: Array.from(t.parent), child: Array.from(t.child),
        lambdaVal: Array.from(t.lambdaVal, (v) => (v === Infinity ? null : v)), childSize: Array.from(t.childSize),
      },
      singleLinkageTree: toArrays(this.singleLinkageTree),
    };
    if (this.trainingData) json.trainingData = toArrays(this.trainingData);
    return json;
  }

  /** Restores a model from toJSON's output, checking every field prediction relies on (InputError naming the field). */
  static fromJSON(json: HDBSCANJSON): HDBSCANModel {
    const j = json as unknown as Record<string, unknown>;
    const bad = (field: string, what: string): never => {
      throw new InputError(`HDBSCAN model: ${field} is ${show(j[field.split(/[ .[]/)[0]])}; expected ${what}`);
    };
    if (j?.type !== "HDBSCAN") throw new InputError(`not an HDBSCAN model: type is ${show(j?.type)}; expected "HDBSCAN"`);
    let o: Resolved & { algorithm: HDBSCANAlgorithm; leafSize: number };
    try {
      o = resolveOptions({
        minClusterSize: j.minClusterSize as number, minSamples: j.minSamples as number, clusterSelectionEpsilon: j.clusterSelectionEpsilon as number,
        maxClusterSize: j.maxClusterSize as number | null, metric: j.metric as HDBSCANMetric, alpha: j.alpha as number,
        clusterSelectionMethod: j.clusterSelectionMethod as ClusterSelectionMethod, allowSingleCluster: j.allowSingleCluster as boolean,
      });
    } catch (e) {
      throw new InputError(`HDBSCAN model: ${(e as Error).message}`);
    }
    const n = j.nSamples;
    if (!isInt(n) || n < 2) bad("nSamples", "a whole number ≥ 2");
    const N = n as number;
    const d = j.nFeatures;
    if (!isInt(d) || d < 1 || (o.metric === "precomputed" && d !== N)) bad("nFeatures", o.metric === "precomputed" ? `${N} (precomputed distances)` : "a whole number ≥ 1");
    const labels = intList(j.labels, N, "labels", -1, N - 1);
    const probabilities = numberList(j.probabilities, N, "probabilities", 0, 1);
    const core = numberList(j.coreDistances, N, "coreDistances", 0, Infinity);
    const ct = j.condensedTree as Record<string, unknown> | undefined;
    if (!ct || typeof ct !== "object") bad("condensedTree", "{ parent, child, lambdaVal, childSize }");
    const c = ct as Record<string, unknown>;
    const rows = Array.isArray(c.parent) ? c.parent.length : -1;
    if (rows < N) bad("condensedTree", `at least ${N} rows (one per training row)`);
    const parent = Int32Array.from(intList(c.parent, rows, "condensedTree.parent", N, 2 * N));
    const child = Int32Array.from(intList(c.child, rows, "condensedTree.child", 0, 2 * N));
    const childSize = Int32Array.from(intList(c.childSize, rows, "condensedTree.childSize", 1, N));
    const lv = c.lambdaVal;
    if (!Array.isArray(lv) || lv.length !== rows) bad("condensedTree.lambdaVal", `${rows} values`);
    const lambdaVal = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const v: unknown = (lv as unknown[])[i];
      if (v === null) lambdaVal[i] = Infinity;
      else if (typeof v === "number" && v >= 0 && Number.isFinite(v)) lambdaVal[i] = v;
      else throw new InputError(`HDBSCAN model: condensedTree.lambdaVal ${i} is ${show(v)}; expected a number ≥ 0 or null (infinite)`);
    }
    // Every training row appears once as a child, under a cluster that is a child before (or the root).
    const seen = new Uint8Array(2 * N + 1);
    seen[N] = 1;
    for (let i = 0; i < rows; i++) {
      if (!seen[parent[i]]) throw new InputError(`HDBSCAN model: condensedTree row ${i} has parent ${parent[i]}, which is neither the root ${N} nor a child of an earlier row`);
      if (seen[child[i]] || child[i] === N) throw new InputError(`HDBSCAN model: condensedTree row ${i} has child ${child[i]}, which appears twice`);
      if ((child[i] < N) !== (childSize[i] === 1)) throw new InputError(`HDBSCAN model: condensedTree row ${i} has child ${child[i]} of size ${childSize[i]}; points (ids < ${N}) have size 1, clusters more`);
      seen[child[i]] = 1;
    }
    for (let p = 0; p < N; p++) if (!seen[p]) throw new InputError(`HDBSCAN model: condensedTree has no row for training row ${p}`);
    const slt = j.singleLinkageTree;
    if (!Array.isArray(slt) || slt.length !== N - 1) bad("singleLinkageTree", `${N - 1} merges of 4 numbers`);
    const Z = new Float64Array((N - 1) * 4);
    for (let i = 0; i < N - 1; i++) {
      const row: unknown = (slt as unknown[])[i];
      if (!Array.isArray(row) || row.length !== 4 || !row.every((v) => typeof v === "number" && Number.isFinite(v))) {
        throw new InputError(`HDBSCAN model: singleLinkageTree row ${i} is ${show(row)}; expected 4 finite numbers (left, right, distance, size)`);
      }
      Z.set(row as number[], i * 4);
    }
    let training: Matrix | null = null;
    if (o.metric !== "precomputed") {
      const T = j.trainingData;
      if (!Array.isArray(T) || T.length !== N) bad("trainingData", `${N} rows of ${d as number} numbers (prediction searches them)`);
      for (let i = 0; i < N; i++) {
        const row: unknown = (T as unknown[])[i];
        if (!Array.isArray(row) || row.length !== d) throw new InputError(`HDBSCAN model: trainingData row ${i} is ${show(row)}; expected ${d as number} numbers`);
      }
      training = toMatrix(T as number[][], "HDBSCAN model: trainingData");
    }
    const tree: CondensedTree = { parent, child, lambdaVal, childSize };
    const model = new HDBSCANModel(
      { ...o }, Int32Array.from(labels), Float64Array.from(probabilities), tree, { data: Z, rows: N - 1, cols: 4 }, Float64Array.from(core), d as number, training,
    );
    let maxLabel = -1;
    for (const l of labels) if (l > maxLabel) maxLabel = l;
    if (maxLabel + 1 !== model.nClusters) {
      throw new InputError(`HDBSCAN model: the labels go up to ${maxLabel} but the condensed tree selects ${model.nClusters} ${model.nClusters === 1 ? "cluster" : "clusters"}; the file was edited or damaged`);
    }
    return model;
  }
}

function show(v: unknown): string {
  if (v === undefined) return "missing";
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

function intList(v: unknown, len: number, field: string, lo: number, hi: number): number[] {
  if (!Array.isArray(v) || v.length !== len) throw new InputError(`HDBSCAN model: ${field} has ${Array.isArray(v) ? v.length : show(v)} values; expected ${len}`);
  for (let i = 0; i < len; i++) {
    const x: unknown = v[i];
    if (!isInt(x) || x < lo || x > hi) throw new InputError(`HDBSCAN model: ${field} ${i} is ${show(x)}; expected a whole number from ${lo} to ${hi}`);
  }
  return v as number[];
}

function numberList(v: unknown, len: number, field: string, lo: number, hi: number): number[] {
  if (!Array.isArray(v) || v.length !== len) throw new InputError(`HDBSCAN model: ${field} has ${Array.isArray(v) ? v.length : show(v)} values; expected ${len}`);
  for (let i = 0; i < len; i++) {
    const x: unknown = v[i];
    if (typeof x !== "number" || !Number.isFinite(x) || x < lo || x > hi) throw new InputError(`HDBSCAN model: ${field} ${i} is ${show(x)}; expected a finite number from ${lo} to ${hi}`);
  }
  return v as number[];
}

/** The k smallest values of each of m rows of D (m × n): ascending, ties to the lower column. */
function nearestInRows(D: Float64Array, m: number, n: number, k: number): { distances: Float64Array; indices: Int32Array } {
  const distances = new Float64Array(m * k);
  const indices = new Int32Array(m * k);
  for (let r = 0; r < m; r++) {
    const base = r * k;
    let size = 0;
    for (let j = 0; j < n; j++) {
      const v = D[r * n + j];
      if (size === k && v >= distances[base + k - 1]) continue;
      let t = size < k ? size++ : k - 1;
      while (t > 0 && distances[base + t - 1] > v) {
        distances[base + t] = distances[base + t - 1];
        indices[base + t] = indices[base + t - 1];
        t--;
      }
      distances[base + t] = v;
      indices[base + t] = j;
    }
  }
  return { distances, indices };
}

/** HDBSCAN* clustering with scikit-learn's options (see the file's comment). */
export class HDBSCAN {
  readonly options: Readonly<HDBSCANOptions>;

  constructor(options: HDBSCANOptions = {}) {
    this.options = { ...options };
    resolveOptions(this.options);
  }

  async fit(Xin: MatrixLike, fitOptions: HDBSCANFitOptions = {}): Promise<HDBSCANModel> {
    const o = resolveOptions(this.options);
    const X = toMatrix(Xin, "X");
    const n = X.rows;
    const d = X.cols;
    const signal = fitOptions.signal;
    const check = (): void => {
      if (signal?.aborted) throw new AbortError("HDBSCAN was aborted");
    };
    check();
    if (n < 2) throw new InputError(`HDBSCAN needs at least 2 rows, X has ${n}`);
    if (d === 0) throw new InputError("X has no columns: choose at least one feature");
    const precomputed = o.metric === "precomputed";
    if (precomputed) checkPrecomputed(X);
    if (o.minSamples > n) throw new InputError(`minSamples (${o.minSamples}) is more than the ${n} rows of X: lower minSamples (or minClusterSize, its default)`);
    const executor = fitOptions.workers === 0 ? null : getParallelExecutor();
    const parallel: ParallelExecutor | null = executor && sharedMemoryAvailable() ? executor : null;
    const report = fitOptions.onProgress;
    const k = o.minSamples;

    let core: Float64Array;
    let edges: MSTEdges;
    let training: Matrix | null = null;
    if (precomputed) {
      report?.(0, n, "core distances");
      core = precomputedCore(X.data, n, k, o.alpha);
      report?.(n, n, "core distances");
      check();
      edges = await primMatrix(X.data, n, core, o.alpha, { signal, onProgress: (a, b) => report?.(a, b, "spanning tree") });
    } else {
      training = X;
      const metric = o.metric as "euclidean" | "manhattan" | "cosine";
      // Cosine follows scikit-learn's brute-force path (Prim on 1 − cos); the others the KD-tree when the index has one.
      const algorithm = metric === "cosine" ? "brute" : o.algorithm;
      const index = NeighborIndex.build(X.data, n, d, { metric, algorithm, leafSize: o.leafSize, expectedK: k });
      const knn = await coreAndNeighbors(index, X.data, n, d, k, signal, (a, b) => report?.(a, b, "core distances"));
      core = knn.core;
      check();
      const onProgress = (a: number, b: number): void => report?.(a, b, "spanning tree");
      if (metric === "cosine") {
        for (let i = 0; i < n; i++) core[i] /= o.alpha;
        edges = await primMST(index.data, n, d, METRIC_CODE.cosine, core, o.alpha, { signal, onProgress }, true);
      } else if (index.tree) {
        edges = await boruvkaMST(index.tree, core, o.alpha, METRIC_CODE[metric], parallel, { signal, onProgress }, knn.edges);
      } else {
        edges = await primMST(index.data, n, d, METRIC_CODE[metric], core, o.alpha, { signal, onProgress });
      }
    }
    check();
    report?.(0, 1, "tree");
    const model = modelFromEdges(edges, n, o, core, precomputed ? n : d, training);
    report?.(1, 1, "tree");
    return model;
  }
}

/** Rows × neighbours from which the neighbour lists are queried block by block instead of all at once (about 100 MB of results). */
const KNN_ALL_MAX = 1 << 23;
/** Neighbours per row kept as candidate edges (Borůvka's first bounds, the order of tied merges). */
const EDGE_NEIGHBORS = 32;

/**
 * Core distances (the k-th neighbour's distance, the row itself counted) and each row's
 * first min(k, 32) neighbours. All rows at once on the worker pool when n × k is moderate;
 * else in blocks of rows (the results of n × k neighbours would not fit: minSamples is often
 * a share of the rows), on this thread.
 */
async function coreAndNeighbors(
  index: NeighborIndex, X: Float64Array, n: number, d: number, k: number, signal: AbortSignal | undefined, onProgress: (done: number, total: number) => void,
): Promise<{ core: Float64Array; edges: { indices: Int32Array; distances: Float64Array; k: number } }> {
  const kk = Math.min(k, EDGE_NEIGHBORS);
  const core = new Float64Array(n);
  const indices = new Int32Array(n * kk);
  const distances = new Float64Array(n * kk);
  const keep = (i: number, D: Float64Array, I: Int32Array, offset: number): void => {
    core[i] = D[offset + k - 1];
    for (let j = 0; j < kk; j++) {
      indices[i * kk + j] = I[offset + j];
      distances[i * kk + j] = D[offset + j];
    }
  };
  if (n * k <= KNN_ALL_MAX) {
    const all = await index.kNearestAll(k, { signal, onProgress });
    for (let i = 0; i < n; i++) keep(i, all.distances, all.indices, i * k);
  } else {
    const block = Math.max(1, Math.floor(KNN_ALL_MAX / 8 / k));
    for (let start = 0; start < n; start += block) {
      if (signal?.aborted) throw new AbortError("HDBSCAN was aborted");
      const m = Math.min(block, n - start);
      const r = index.kNearest(X.subarray(start * d, (start + m) * d), m, k);
      for (let t = 0; t < m; t++) keep(start + t, r.distances, r.indices, t * k);
      onProgress(start + m, n);
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }
  return { core, edges: { indices, distances, k: kk } };
}

function modelFromEdges(edges: MSTEdges, n: number, o: Resolved, core: Float64Array, nFeatures: number, training: Matrix | null): HDBSCANModel {
  const order = sortEdges(edges.weight);
  const Z = singleLinkage(edges.from, edges.to, edges.weight, n, order);
  const tree = condenseTree(Z, n, o.minClusterSize);
  const sel = selectClusters(tree, n, computeStability(tree, n), o);
  return new HDBSCANModel(
    { minClusterSize: o.minClusterSize, minSamples: o.minSamples, clusterSelectionEpsilon: o.clusterSelectionEpsilon, maxClusterSize: o.maxClusterSize,
      metric: o.metric, alpha: o.alpha, clusterSelectionMethod: o.clusterSelectionMethod, allowSingleCluster: o.allowSingleCluster },
    sel.labels, sel.probabilities, tree, { data: Z, rows: n - 1, cols: 4 }, core, nFeatures, training,
  );
}

function checkPrecomputed(X: Matrix): void {
  const n = X.rows;
  if (X.cols !== n) throw new InputError(`metric "precomputed" needs a square matrix of distances; X is ${X.rows} × ${X.cols}`);
  const D = X.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = D[i * n + j];
      if (v < 0) throw new InputError(`X: row ${i}, column ${j} is ${v}; distances are ≥ 0`);
      if (j > i) {
        const w = D[j * n + i];
        if (Math.abs(v - w) > 1e-8 + 1e-5 * Math.abs(w)) {
          throw new InputError(`X: the distance matrix is not symmetric (row ${i}, column ${j} is ${v} but row ${j}, column ${i} is ${w})`);
        }
      }
    }
  }
}

/** scikit-learn's core distances of a distance matrix: the k-th smallest of each column (diagonal included) / alpha. */
function precomputedCore(D: Float64Array, n: number, k: number, alpha: number): Float64Array {
  const core = new Float64Array(n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) col[i] = D[i * n + j] / alpha;
    core[j] = kthSmallest(col, n, k - 1);
  }
  return core;
}

function kthSmallest(a: Float64Array, n: number, kth: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return a[kth];
  }
  return a[kth];
}
