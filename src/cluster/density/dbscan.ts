/**
 * DBSCAN (Ester, Kriegel, Sander & Xu, 1996) with scikit-learn 1.2's semantics and option
 * names, in O(n) memory beyond the data.
 *
 * A row is a core row when the (weighted) number of rows within distance ≤ eps of it, itself
 * included, is at least minSamples. Segments are the connected components of core rows, two
 * core rows being linked when they lie within eps of each other; a non-core row within eps of
 * a core row is a border row and joins a segment; every other row is noise (−1).
 *
 * Numbering follows scikit-learn: segments are numbered in the order of their first core row
 * (scanning rows 0, 1, …), and a border row within eps of core rows of several segments gets
 * the lowest of their numbers (the segment whose expansion reached it first in
 * scikit-learn's `dbscan_inner`).
 *
 * scikit-learn keeps every row's neighbourhood in memory at once (gigabytes with a generous
 * eps). Here the fit makes two passes instead: (1) the neighbourhood sizes of all rows,
 * counted in parallel without storing neighbourhoods, give the core rows; (2) segments are
 * grown from each unlabelled core row with a stack, asking for one core row's neighbourhood
 * at a time. Memory: the data, the neighbour index and a few arrays of n numbers.
 */
import { AbortError, InputError } from "../../core/errors.js";
import { type Matrix, type MatrixLike, takeRows, toArrays, toMatrix } from "../../core/matrix.js";
import { getParallelExecutor, isShared, sharedMemoryAvailable, type TypedArray } from "../../core/parallel.js";
import { type IndexBuffer, type KDTree, type NeighborAlgorithm, NeighborIndex, type NeighborMetric } from "../../neighbors/index.js";
import { boxMaxRdist, boxMinRdist } from "../../neighbors/search.js";
import { type CoreFlagsParams, type CoreFlagsShared, DENSITY_BLOCK, densityCoreFlagsKernel, markDenseNodes } from "./kernels.js";

export type DBSCANMetric = NeighborMetric | "precomputed";

export interface DBSCANOptions {
  /** Largest distance between two rows for one to count in the other's neighbourhood (≤ eps). Default 0.5. */
  eps?: number;
  /** (Weighted) neighbourhood size, the row itself included, from which a row is a core row. Default 5. */
  minSamples?: number;
  /**
   * "euclidean" (default), "manhattan", "cosine" (1 − cosine similarity; a zero row has
   * similarity 0 with everything), or "precomputed": X is then an n × n matrix of distances.
   */
  metric?: DBSCANMetric;
  /** Neighbour search: "auto" (default; KD-tree or brute force as scikit-learn chooses), "kd_tree" or "brute". */
  algorithm?: NeighborAlgorithm;
  /** Rows per leaf of the KD-tree. Default 30 (scikit-learn's). */
  leafSize?: number;
}

export interface DBSCANFitOptions {
  /**
   * One weight per row (scikit-learn's sample_weight): a row counts as its weight in
   * neighbourhood sizes, so a row of weight ≥ minSamples is a core row by itself and a
   * negative weight can keep a neighbour from being core. Default: 1 each.
   */
  sampleWeight?: ArrayLike<number>;
  /** Aborts the fit (an AbortError is thrown). */
  signal?: AbortSignal;
  /** Progress over both passes: `done` of `total` (2 × rows) steps. */
  onProgress?: (done: number, total: number) => void;
}

export interface DBSCANJSON {
  type: "DBSCAN";
  version: 1;
  eps: number;
  minSamples: number;
  metric: DBSCANMetric;
  /** Columns of X (for "precomputed": the number of training rows). */
  nFeatures: number;
  nSamples: number;
  nClusters: number;
  nNoise: number;
  /** Training rows that are core rows, ascending. */
  coreSampleIndices: number[];
  /** Those rows (what predict compares new rows with). */
  components: number[][];
  /** The segment of each core row. */
  coreLabels: number[];
  /** Segment of every training row (−1 noise); absent when saved without labels. */
  labels?: number[];
}

const METRICS: readonly DBSCANMetric[] = ["euclidean", "manhattan", "cosine", "precomputed"];
const ALGORITHMS: readonly NeighborAlgorithm[] = ["auto", "kd_tree", "brute"];

/** A fitted DBSCAN: labels of the training rows, its core rows, and predict for new rows. */
export class DBSCANModel {
  /** Number of segments (labels 0 … nClusters − 1). */
  readonly nClusters: number;
  /** Number of training rows labelled noise (−1). */
  readonly nNoise: number;
  private coreIndex: NeighborIndex | null = null;

  constructor(
    /** Segment of each training row, −1 for noise (empty when restored without labels). */
    readonly labels: Int32Array,
    /** Indices of the core rows, ascending. */
    readonly coreSampleIndices: Int32Array,
    /** The core rows (copied; for "precomputed", their rows of the distance matrix). */
    readonly components: Matrix,
    /** The segment of each core row (labels[coreSampleIndices[i]]). */
    readonly coreLabels: Int32Array,
    readonly eps: number,
    readonly minSamples: number,
    readonly metric: DBSCANMetric,
    /** Number of training rows. */
    readonly nSamples: number,
    counts?: { nClusters: number; nNoise: number },
  ) {
    if (counts) {
      this.nClusters = counts.nClusters;
      this.nNoise = counts.nNoise;
    } else {
      let k = 0;
      let noise = 0;
      for (let i = 0; i < labels.length; i++) {
        if (labels[i] < 0) noise++;
        else if (labels[i] + 1 > k) k = labels[i] + 1;
      }
      this.nClusters = k;
      this.nNoise = noise;
    }
  }

  /** Columns a row must have for predict (for "precomputed": one distance per training row). */
  get nFeatures(): number {
    return this.metric === "precomputed" ? this.nSamples : this.components.cols;
  }

  /**
   * The segment of each row of Y: that of its nearest core row when that lies within eps
   * (ties: the lower core row), else −1 (noise). For "precomputed", Y holds each new row's
   * distances to the nSamples training rows. A training row gets its own label back except
   * a border row near two segments, which may get the other one (the nearer core row's).
   */
  predict(Yin: MatrixLike): Int32Array {
    const Y = toMatrix(Yin, "Y");
    const d = this.nFeatures;
    if (Y.cols !== d && Y.rows > 0) {
      throw new InputError(
        this.metric === "precomputed"
          ? `Y has ${Y.cols} columns; with metric "precomputed" it must hold each row's distances to the ${d} training rows`
          : `Y has ${Y.cols} columns but the model was fitted on ${d}; give the same features in the same order`,
      );
    }
    const m = Y.rows;
    const out = new Int32Array(m).fill(-1);
    const nCore = this.coreSampleIndices.length;
    if (nCore === 0 || m === 0) return out;
    if (this.metric === "precomputed") {
      for (let r = 0; r < m; r++) {
        let best = -1;
        let bestD = Infinity;
        for (let c = 0; c < nCore; c++) {
          const v = Y.data[r * d + this.coreSampleIndices[c]];
          if (v < bestD) {
            bestD = v;
            best = c;
          }
        }
        if (best >= 0 && bestD <= this.eps) out[r] = this.coreLabels[best];
      }
      return out;
    }
    if (!this.coreIndex) {
      this.coreIndex = NeighborIndex.build(this.components.data, nCore, d, { metric: this.metric, expectedK: 1 });
    }
    const { distances, indices } = this.coreIndex.kNearest(Y.data, m, 1);
    for (let r = 0; r < m; r++) if (distances[r] <= this.eps) out[r] = this.coreLabels[indices[r]];
    return out;
  }

  /** Plain JSON; `includeLabels: false` leaves out the training rows' labels (predict does not need them). */
  toJSON(options: { includeLabels?: boolean } = {}): DBSCANJSON {
    const json: DBSCANJSON = {
      type: "DBSCAN",
      version: 1,
      eps: this.eps,
      minSamples: this.minSamples,
      metric: this.metric,
      nFeatures: this.nFeatures,
      nSamples: this.nSamples,
      nClusters: this.nClusters,
      nNoise: this.nNoise,
      coreSampleIndices: Array.from(this.coreSampleIndices),
      components: toArrays(this.components),
      coreLabels: Array.from(this.coreLabels),
    };
    if (options.includeLabels !== false && this.labels.length > 0) json.labels = Array.from(this.labels);
    return json;
  }

  /** Restores a model from `toJSON()`, checking every field (an InputError names the first bad one). */
  static fromJSON(json: DBSCANJSON): DBSCANModel {
    const j = json as unknown as Record<string, unknown> | null;
    const T = "DBSCAN model";
    if (!j || typeof j !== "object" || j.type !== "DBSCAN") {
      throw new InputError("not a DBSCAN model: expected { type: \"DBSCAN\", eps, minSamples, coreSampleIndices, components, ... }");
    }
    if (j.version !== 1) throw new InputError(`${T}: version is ${show(j.version)}; this version of segmenta reads version 1`);
    const eps = j.eps;
    if (typeof eps !== "number" || !(eps > 0)) throw new InputError(`${T}: eps is ${show(eps)}; expected a number > 0`);
    const minSamples = j.minSamples;
    if (!isWhole(minSamples, 1)) throw new InputError(`${T}: minSamples is ${show(minSamples)}; expected a whole number ≥ 1`);
    const metric = j.metric as DBSCANMetric;
    if (!METRICS.includes(metric)) throw new InputError(`${T}: metric is ${show(metric)}; expected one of ${METRICS.join(", ")}`);
    const nSamples = j.nSamples;
    if (!isWhole(nSamples, 1)) throw new InputError(`${T}: nSamples is ${show(nSamples)}; expected a whole number ≥ 1`);
    const d = j.nFeatures;
    if (!isWhole(d, 1)) throw new InputError(`${T}: nFeatures is ${show(d)}; expected a whole number ≥ 1`);
    if (metric === "precomputed" && d !== nSamples) throw new InputError(`${T}: nFeatures is ${d} but a "precomputed" model has one column per training row (nSamples = ${nSamples})`);
    const nClusters = j.nClusters;
    if (!isWhole(nClusters, 0)) throw new InputError(`${T}: nClusters is ${show(nClusters)}; expected a whole number ≥ 0`);
    const nNoise = j.nNoise;
    if (!isWhole(nNoise, 0) || nNoise > nSamples) throw new InputError(`${T}: nNoise is ${show(nNoise)}; expected a whole number from 0 to nSamples (${nSamples})`);

    const csi = j.coreSampleIndices;
    if (!Array.isArray(csi)) throw new InputError(`${T}: coreSampleIndices is ${show(csi)}; expected a list of training row numbers`);
    const nCore = csi.length;
    const core = new Int32Array(nCore);
    for (let i = 0; i < nCore; i++) {
      const v: unknown = csi[i];
      if (!isWhole(v, 0) || v >= nSamples || (i > 0 && v <= core[i - 1])) {
        throw new InputError(`${T}: coreSampleIndices[${i}] is ${show(v)}; expected increasing row numbers from 0 to ${nSamples - 1}`);
      }
      core[i] = v;
    }
    const comp = j.components;
    if (!Array.isArray(comp) || comp.length !== nCore) {
      throw new InputError(`${T}: components has ${Array.isArray(comp) ? `${comp.length} rows` : show(comp)} but there are ${nCore} core rows (coreSampleIndices)`);
    }
    const data = new Float64Array(nCore * d);
    for (let i = 0; i < nCore; i++) {
      const row: unknown = comp[i];
      if (!Array.isArray(row) || row.length !== d) {
        throw new InputError(`${T}: components row ${i} has ${Array.isArray(row) ? `${row.length} values` : show(row)}; expected ${d} numbers (nFeatures)`);
      }
      for (let c = 0; c < d; c++) {
        const v: unknown = row[c];
        if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`${T}: components row ${i}, value ${c} is ${show(v)}; expected a finite number`);
        data[i * d + c] = v;
      }
    }
    const cl = j.coreLabels;
    if (!Array.isArray(cl) || cl.length !== nCore) {
      throw new InputError(`${T}: coreLabels has ${Array.isArray(cl) ? `${cl.length} values` : show(cl)} but there are ${nCore} core rows`);
    }
    const coreLabels = new Int32Array(nCore);
    const seen = new Uint8Array(nClusters);
    for (let i = 0; i < nCore; i++) {
      const v: unknown = cl[i];
      if (!isWhole(v, 0) || v >= nClusters) throw new InputError(`${T}: coreLabels[${i}] is ${show(v)}; expected a segment number from 0 to ${nClusters - 1}`);
      coreLabels[i] = v;
      seen[v] = 1;
    }
    const missing = seen.indexOf(0);
    if (missing >= 0) throw new InputError(`${T}: no core row has segment ${missing} although nClusters is ${nClusters}; every segment has core rows`);

    let labels = new Int32Array(0);
    if (j.labels !== undefined && j.labels !== null) {
      const L = j.labels;
      if (!Array.isArray(L) || L.length !== nSamples) {
        throw new InputError(`${T}: labels has ${Array.isArray(L) ? `${L.length} values` : show(L)}; expected one segment number (or −1) per training row (nSamples = ${nSamples})`);
      }
      labels = new Int32Array(nSamples);
      let noise = 0;
      for (let i = 0; i < nSamples; i++) {
        const v: unknown = L[i];
        if (typeof v !== "number" || !Number.isInteger(v) || v < -1 || v >= nClusters) {
          throw new InputError(`${T}: label ${i} is ${show(v)}; expected −1 (noise) or a segment number from 0 to ${nClusters - 1}`);
        }
        labels[i] = v;
        if (v < 0) noise++;
      }
      if (noise !== nNoise) throw new InputError(`${T}: nNoise is ${nNoise} but ${noise} labels are −1`);
      for (let i = 0; i < nCore; i++) {
        if (labels[core[i]] !== coreLabels[i]) {
          throw new InputError(`${T}: core row ${core[i]} has label ${labels[core[i]]} but coreLabels[${i}] is ${coreLabels[i]}`);
        }
      }
    }
    return new DBSCANModel(labels, core, { data, rows: nCore, cols: d }, coreLabels, eps, minSamples, metric, nSamples, { nClusters, nNoise });
  }
}

/** DBSCAN clustering with scikit-learn 1.2's semantics; see the file's comment. */
export class DBSCAN {
  readonly options: Readonly<DBSCANOptions>;

  constructor(options: DBSCANOptions = {}) {
    this.options = { ...options };
    const o = this.options;
    const eps = o.eps ?? 0.5;
    if (typeof eps !== "number" || !(eps > 0) || eps === Infinity) throw new InputError(`eps must be a finite distance > 0, got ${String(eps)}`);
    const ms = o.minSamples ?? 5;
    if (!isWhole(ms, 1)) throw new InputError(`minSamples must be a whole number ≥ 1 (the row itself counts), got ${String(ms)}`);
    if (!METRICS.includes(o.metric ?? "euclidean")) throw new InputError(`metric must be one of ${METRICS.join(", ")}, got ${String(o.metric)}`);
    if (!ALGORITHMS.includes(o.algorithm ?? "auto")) throw new InputError(`algorithm must be one of ${ALGORITHMS.join(", ")}, got ${String(o.algorithm)}`);
    if (!isWhole(o.leafSize ?? 30, 1)) throw new InputError(`leafSize must be a whole number ≥ 1, got ${String(o.leafSize)}`);
  }

  async fit(Xin: MatrixLike, fitOptions: DBSCANFitOptions = {}): Promise<DBSCANModel> {
    const o = this.options;
    const eps = o.eps ?? 0.5;
    const minSamples = o.minSamples ?? 5;
    const metric = o.metric ?? "euclidean";
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d } = X;
    if (n < 1) throw new InputError("X has no rows: DBSCAN needs at least one row");
    if (d < 1) throw new InputError("X has no columns: choose at least one feature");
    if (metric === "precomputed") checkDistanceMatrix(X);
    const weights = checkSampleWeight(fitOptions.sampleWeight, n);
    const { signal, onProgress } = fitOptions;
    const total = 2 * n;
    checkAbort(signal);

    // Pass 1: neighbourhood sizes → core rows.
    let index: NeighborIndex | null = null;
    let isCore: Uint8Array;
    if (metric === "precomputed") {
      isCore = coreFromCounts(precomputedCounts(X.data, n, eps, weights), minSamples);
    } else {
      index = NeighborIndex.build(X.data, n, d, { metric, algorithm: o.algorithm ?? "auto", leafSize: o.leafSize ?? 30 });
      const progress = onProgress ? (done: number) => onProgress(done, total) : undefined;
      if (index.tree && weights === null && (metric === "euclidean" || metric === "manhattan")) {
        isCore = await coreFlagsOnTree(index.tree, metric === "manhattan", metric === "manhattan" ? eps : eps * eps, minSamples, signal, progress);
      } else {
        isCore = coreFromCounts(await index.radiusCounts(eps, { sampleWeight: weights, signal, onProgress: progress }), minSamples);
      }
    }
    checkAbort(signal);
    onProgress?.(n, total);
    let nCore = 0;
    for (let i = 0; i < n; i++) nCore += isCore[i];

    // Pass 2: grow segments from core rows, one neighbourhood at a time.
    const labels = new Int32Array(n).fill(-1);
    const ticker = new Ticker(signal);
    const report = onProgress ? (expanded: number) => onProgress(n + Math.floor((expanded / Math.max(1, nCore)) * n), total) : undefined;
    const tree = index?.tree;
    if (tree && (metric === "euclidean" || metric === "manhattan")) {
      await growOnTree(tree, X.data, metric === "manhattan", metric === "manhattan" ? eps : eps * eps, isCore, nCore, labels, ticker, report);
    } else {
      const buf: IndexBuffer = { data: new Int32Array(256) };
      const neighbours = index
        ? (i: number) => index.radius(i, eps, buf, false)
        : (i: number) => precomputedRadius(X.data, n, i, eps, buf);
      const stack = new Int32Array(Math.max(1, nCore));
      let label = 0;
      let expanded = 0;
      for (let start = 0; start < n; start++) {
        if (labels[start] !== -1 || !isCore[start]) continue;
        labels[start] = label;
        let top = 0;
        stack[top++] = start;
        while (top > 0) {
          const p = stack[--top];
          const c = neighbours(p);
          const nb = buf.data;
          for (let t = 0; t < c; t++) {
            const v = nb[t];
            if (labels[v] === -1) {
              labels[v] = label;
              if (isCore[v]) stack[top++] = v;
            }
          }
          expanded++;
          if (ticker.due()) {
            report?.(expanded);
            await ticker.pause();
          }
        }
        label++;
      }
    }
    onProgress?.(total, total);

    const core = new Int32Array(nCore);
    for (let i = 0, c = 0; i < n; i++) if (isCore[i]) core[c++] = i;
    const coreLabels = new Int32Array(nCore);
    for (let c = 0; c < nCore; c++) coreLabels[c] = labels[core[c]];
    const components = takeRows(X, core);
    return new DBSCANModel(labels, core, components, coreLabels, eps, minSamples, metric, n);
  }
}

function coreFromCounts(counts: Float64Array, minSamples: number): Uint8Array {
  const out = new Uint8Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i] >= minSamples ? 1 : 0;
  return out;
}

/** Parts of the rows between progress reports and abort checks of the core flags. */
const FLAG_PARTS = 16;
/** Rows from which the core flags are computed on the worker pool. */
const PARALLEL_MIN_ROWS = 8192;

/**
 * Pass 1 without weights on the KD-tree: the core flags by counts that stop at minSamples
 * (kernel densityCoreFlags), on the worker pool when there is one (and the tree is in shared
 * memory), in parts for progress and abort. A pool whose registry lacks the kernel is not
 * used (the flags are then computed on this thread; they are the same either way).
 */
async function coreFlagsOnTree(
  tree: KDTree, l1: boolean, r: number, minSamples: number, signal: AbortSignal | undefined, onProgress: ((done: number) => void) | undefined,
): Promise<Uint8Array> {
  const { n, d } = tree;
  let executor = getParallelExecutor();
  const treeArrays = [tree.ordered, tree.index, tree.nodeStart, tree.nodeEnd, tree.nodeIsLeaf, tree.nodeLower, tree.nodeUpper];
  if (!executor || n < PARALLEL_MIN_ROWS || !sharedMemoryAvailable() || !treeArrays.every(isShared)) executor = null;
  const S: CoreFlagsShared = {
    ordered: tree.ordered, index: tree.index, nodeStart: tree.nodeStart, nodeEnd: tree.nodeEnd, nodeIsLeaf: tree.nodeIsLeaf,
    nodeLower: tree.nodeLower, nodeUpper: tree.nodeUpper, flags: executor ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n),
  };
  markDenseNodes(S, d, r, l1, minSamples, tree.nNodes);
  const blocks = Math.ceil(n / DENSITY_BLOCK);
  const parts = Math.min(FLAG_PARTS, blocks);
  const P: CoreFlagsParams = { n, d, r, l1: l1 ? 1 : 0, minSamples, nLevels: tree.nLevels, blockStart: 0, blockEnd: 0, nChunks: 1 };
  for (let p = 0; p < parts; p++) {
    checkAbort(signal);
    P.blockStart = Math.floor((p * blocks) / parts);
    P.blockEnd = Math.floor(((p + 1) * blocks) / parts);
    let done = false;
    if (executor) {
      P.nChunks = Math.min(P.blockEnd - P.blockStart, 4 * executor.size);
      try {
        await executor.run("densityCoreFlags", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, P.nChunks);
        done = true;
      } catch (e) {
        if (!/unknown kernel/.test(String((e as Error)?.message ?? e))) throw e;
        executor = null;
      }
    }
    if (!done) {
      P.nChunks = 1;
      densityCoreFlagsKernel(S, P, 0, 1);
      if (signal) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    onProgress?.(Math.min(n, P.blockEnd * DENSITY_BLOCK));
  }
  return S.flags;
}

/**
 * Pass 2 on the KD-tree: the same segments as expanding every core row's neighbourhood, but
 * each node counts its rows not yet labelled, and the search for a core row's unlabelled
 * neighbours skips nodes that have none left. Inside a segment most neighbourhoods are
 * labelled already, so most core rows cost a short descent instead of hundreds of distances.
 * Membership (reduced distance ≤ r, nodes wholly inside by their farthest corner) is decided
 * exactly as the tree's radius counts decide it, so core rows and neighbours agree.
 */
async function growOnTree(
  tree: KDTree, X: Float64Array, l1: boolean, r: number, isCore: Uint8Array, nCore: number, labels: Int32Array,
  ticker: Ticker, report: ((expanded: number) => void) | undefined,
): Promise<void> {
  const { n, d, ordered, index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper, nNodes } = tree;
  const remaining = new Int32Array(nNodes);
  for (let node = 0; node < nNodes; node++) remaining[node] = nodeEnd[node] - nodeStart[node];
  const pos = new Int32Array(n);
  for (let t = 0; t < n; t++) pos[index[t]] = t;
  // Marks tree position t labelled: one less unlabelled row in every node from the root to its leaf.
  const take = (t: number): void => {
    let node = 0;
    for (;;) {
      remaining[node]--;
      if (nodeIsLeaf[node] === 1) return;
      const left = 2 * node + 1;
      node = t < nodeEnd[left] ? left : left + 1;
    }
  };
  const stack = new Int32Array(Math.max(1, nCore));
  const nodes = new Int32Array(4 * (tree.nLevels + 2));
  const inside = new Uint8Array(nodes.length);
  let label = 0;
  let expanded = 0;
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1 || !isCore[start]) continue;
    labels[start] = label;
    take(pos[start]);
    let top = 0;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      const qo = p * d;
      let sp = 0;
      nodes[sp] = 0;
      inside[sp++] = 0;
      while (sp > 0 && remaining[0] > 0) {
        const node = nodes[--sp];
        if (remaining[node] === 0) continue;
        let within = inside[sp] === 1;
        if (!within) {
          if (boxMinRdist(nodeLower, nodeUpper, node, d, X, qo, l1) > r) continue;
          within = boxMaxRdist(nodeLower, nodeUpper, node, d, X, qo, l1) <= r;
        }
        if (nodeIsLeaf[node] === 1) {
          const e = nodeEnd[node];
          for (let t = nodeStart[node]; t < e; t++) {
            const v = index[t];
            if (labels[v] !== -1) continue;
            if (!within) {
              let s = 0;
              const o = t * d;
              if (l1) {
                for (let j = 0; j < d; j++) s += Math.abs(ordered[o + j] - X[qo + j]);
              } else {
                for (let j = 0; j < d; j++) {
                  const u = ordered[o + j] - X[qo + j];
                  s += u * u;
                }
              }
              if (!(s <= r)) continue;
            }
            labels[v] = label;
            take(t);
            if (isCore[v]) stack[top++] = v;
          }
          continue;
        }
        const w = within ? 1 : 0;
        nodes[sp] = 2 * node + 2;
        inside[sp++] = w;
        nodes[sp] = 2 * node + 1;
        inside[sp++] = w;
      }
      expanded++;
      if (ticker.due()) {
        report?.(expanded);
        await ticker.pause();
      }
    }
    label++;
  }
}

/** Checks that a "precomputed" X is a square matrix of distances (≥ 0). */
function checkDistanceMatrix(X: Matrix): void {
  if (X.rows !== X.cols) {
    throw new InputError(`with metric "precomputed", X must be a square matrix of distances between rows; got ${X.rows} × ${X.cols}`);
  }
  const n = X.rows;
  for (let i = 0; i < n * n; i++) {
    if (X.data[i] < 0) {
      throw new InputError(`with metric "precomputed", X holds distances, which are ≥ 0; row ${Math.floor(i / n)}, column ${i % n} is ${X.data[i]}`);
    }
  }
}

/** The weights as a Float64Array (null when not given), after checking their number and that they are finite. */
export function checkSampleWeight(w: ArrayLike<number> | undefined | null, n: number): Float64Array | null {
  if (w === undefined || w === null) return null;
  if (typeof w.length !== "number" || w.length !== n) throw new InputError(`sampleWeight has ${w.length} values but X has ${n} rows; give one weight per row`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = w[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(`sampleWeight[${i}] is ${String(v)}; every weight must be a finite number`);
    out[i] = v;
  }
  return out;
}

function precomputedCounts(D: Float64Array, n: number, eps: number, w: Float64Array | null): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * n;
    if (w) {
      for (let j = 0; j < n; j++) if (D[o + j] <= eps) s += w[j];
    } else {
      for (let j = 0; j < n; j++) if (D[o + j] <= eps) s++;
    }
    out[i] = s;
  }
  return out;
}

function precomputedRadius(D: Float64Array, n: number, i: number, eps: number, buf: IndexBuffer): number {
  if (buf.data.length < n) buf.data = new Int32Array(n);
  const out = buf.data;
  let c = 0;
  const o = i * n;
  for (let j = 0; j < n; j++) if (D[o + j] <= eps) out[c++] = j;
  return c;
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/**
 * Lets long synchronous loops report progress and notice an abort: `due()` is true about
 * every 100 ms; `pause()` then yields to the event loop (so that an abort can arrive) and
 * throws AbortError if the signal fired.
 */
export class Ticker {
  private next: number;
  private calls = 0;
  constructor(private readonly signal: AbortSignal | undefined, private readonly interval = 100) {
    this.next = now() + interval;
  }

  due(): boolean {
    if ((++this.calls & 63) !== 0) return false;
    const t = now();
    if (t < this.next) return false;
    this.next = t + this.interval;
    return true;
  }

  async pause(): Promise<void> {
    if (this.signal) await new Promise((resolve) => setTimeout(resolve, 0));
    checkAbort(this.signal);
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

function isWhole(v: unknown, min: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min;
}

function show(v: unknown): string {
  if (v === undefined) return "missing";
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}
