/**
 * NeighborIndex: the neighbour searcher DBSCAN, HDBSCAN, OPTICS and the eps helper use.
 *
 * Metrics:
 * - "euclidean" and "manhattan": compared as scikit-learn does (a euclidean radius eps is
 *   tested as squared distance <= eps²; distances <= eps count). The KD-tree sums squared
 *   (or absolute) differences column by column, as scikit-learn's KD-tree; brute force (what
 *   "auto" chooses for d > 15) computes squared euclidean distances as (‖x‖² + ‖y‖²) − 2·x·y,
 *   floored at 0, as scikit-learn's brute force does — fast, but a distance near 0 is then
 *   only good to about 1e-8 × ‖x‖. Within one index, counts, lists, k nearest and distance()
 *   all use the same arithmetic, so they agree exactly.
 * - "cosine": the distance is scikit-learn's cosine_distances, 1 − cos(u, v). Rows are scaled
 *   to unit length once (a zero row stays zero). By brute force (what "auto" chooses, as
 *   scikit-learn does) it is computed as 1 − u·v clipped to [0, 2], exactly as scikit-learn:
 *   a zero row is at distance 1 from every other row and 0 from itself. With algorithm
 *   "kd_tree" the unit rows are searched in euclidean distance, since ‖u − v‖² = 2(1 − cos):
 *   distances are ‖u − v‖² / 2, equal to scikit-learn's up to rounding; if any row is zero the
 *   index falls back to brute force (`algorithm` then says "brute").
 *
 * k-nearest results: every row is its own first neighbour (distance 0), then the others by
 * distance, ties to the lower index. Radius results: ascending index.
 *
 * radiusCounts, kNearestAll, radiusBatch and (large) kNearest split their rows across the worker pool when one is installed
 * (getParallelExecutor()); each row's result depends on that row only, so results are the
 * same with any number of workers.
 */
import { AbortError, InputError } from "../core/errors.js";
import { allocF64, allocI32, getParallelExecutor, isShared, type ParallelExecutor, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import { buildKDTree, type KDTree, type NeighborAlgorithm, type NeighborMetric } from "./kdtree.js";
import { BLOCK, type NeighborsParams, type NeighborsShared, neighborsKnnKernel, neighborsRadiusCountKernel, neighborsRadiusListKernel } from "./kernels.js";
import { bruteRdist, COSINE, EUCLIDEAN, MANHATTAN, rowRdist, rowSqNorm, treeRadiusCollect } from "./search.js";

/** A caller-owned buffer of indices; radius queries replace `data` with a bigger array when it is too small. */
export interface IndexBuffer {
  data: Int32Array;
}

export interface NeighborIndexOptions {
  /** Default "euclidean". */
  metric?: NeighborMetric;
  /** Default "auto". */
  algorithm?: NeighborAlgorithm;
  /** Leaf size of the KD-tree; default 40. */
  leafSize?: number;
  /**
   * The k of the k-nearest queries to come (scikit-learn's n_neighbors, used by "auto":
   * brute force when k >= floor(n / 2)); default 5, scikit-learn's default.
   */
  expectedK?: number;
}

export interface SearchOptions {
  signal?: AbortSignal;
  /** Called after each part of the rows with the rows done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** From this many query rows the work of the tree is split across the worker pool. */
const PARALLEL_MIN_ROWS = 4096;
/** From this many query rows × rows × columns, brute-force work is split across the worker pool. */
const PARALLEL_MIN_BRUTE = 1 << 22;
/** Parts of the rows between progress reports and abort checks, when either is asked for. */
const PROGRESS_RUNS = 32;

const METRICS: readonly NeighborMetric[] = ["euclidean", "manhattan", "cosine"];
const ALGORITHMS: readonly NeighborAlgorithm[] = ["auto", "kd_tree", "brute"];

/**
 * The algorithm scikit-learn's "auto" picks (sklearn/neighbors/_base.py, `_fit`): brute force
 * when d > 15, when k >= floor(n / 2), or when the metric has no tree (cosine); else the KD-tree.
 */
export function autoAlgorithm(n: number, d: number, metric: NeighborMetric, expectedK = 5): "kd_tree" | "brute" {
  if (d > 15 || expectedK >= Math.floor(n / 2) || metric === "cosine") return "brute";
  return "kd_tree";
}

export class NeighborIndex {
  /** What "auto" chose (or what was asked for). */
  readonly algorithm: "kd_tree" | "brute";
  /** The KD-tree; null for brute force. */
  readonly tree: KDTree | null;
  readonly metric: NeighborMetric;
  readonly n: number;
  readonly d: number;
  /** The indexed rows, row-major n × d (for cosine: scaled to unit length; zero rows stay zero). */
  readonly data: Float64Array;
  private readonly code: number;
  /** Brute-force euclidean: each row's squared norm (the distances are (‖x‖² + ‖y‖²) − 2·x·y, as scikit-learn's brute force). */
  private readonly norms: Float64Array | null;
  private readonly stack: Int32Array;
  private scratch: Float64Array;

  private constructor(data: Float64Array, n: number, d: number, metric: NeighborMetric, tree: KDTree | null, shared: boolean) {
    this.data = data;
    this.n = n;
    this.d = d;
    this.metric = metric;
    this.tree = tree;
    this.algorithm = tree ? "kd_tree" : "brute";
    this.code = metric === "euclidean" ? EUCLIDEAN : metric === "manhattan" ? MANHATTAN : COSINE;
    this.stack = new Int32Array(2 * (tree?.nLevels ?? 1) + 4);
    this.norms = null;
    if (!tree && this.code === EUCLIDEAN) {
      this.norms = allocF64(n, shared);
      for (let i = 0; i < n; i++) this.norms[i] = rowSqNorm(data, i * d, d);
    }
    this.scratch = new Float64Array(d);
  }

  /** Indexes the n rows of X (row-major n × d). X is not copied unless it must be (cosine, or shared memory for workers). */
  static build(X: Float64Array, n: number, d: number, options: NeighborIndexOptions = {}): NeighborIndex {
    const metric = options.metric ?? "euclidean";
    const algorithm = options.algorithm ?? "auto";
    if (!METRICS.includes(metric)) throw new InputError(`metric must be one of ${METRICS.join(", ")}; got ${String(metric)}`);
    if (!ALGORITHMS.includes(algorithm)) throw new InputError(`algorithm must be one of ${ALGORITHMS.join(", ")}; got ${String(algorithm)}`);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`the neighbour index needs at least one row, got ${n}`);
    if (!Number.isInteger(d) || d < 1) throw new InputError(`the neighbour index needs at least one column, got ${d}`);
    if (X.length < n * d) throw new InputError(`X has ${X.length} values, fewer than n × d = ${n * d}`);
    const leafSize = options.leafSize ?? 40;
    if (!Number.isInteger(leafSize) || leafSize < 1) throw new InputError(`leafSize must be an integer >= 1, got ${leafSize}`);
    for (let t = 0; t < n * d; t++) {
      if (!Number.isFinite(X[t])) {
        throw new InputError(`X has ${X[t]} at row ${Math.floor(t / d)}, column ${t % d}: neighbour search needs finite values; impute or drop missing ones first`);
      }
    }
    const expectedK = options.expectedK ?? 5;
    const shared = getParallelExecutor() !== null && sharedMemoryAvailable();
    let data: Float64Array;
    let zeroRow = false;
    if (metric === "cosine") {
      data = allocF64(n * d, shared);
      for (let i = 0; i < n; i++) {
        const o = i * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += X[o + j] * X[o + j];
        const norm = Math.sqrt(s);
        if (norm === 0) zeroRow = true;
        const div = norm === 0 ? 1 : norm;
        for (let j = 0; j < d; j++) data[o + j] = X[o + j] / div;
      }
    } else if (shared && !isShared(X)) {
      data = allocF64(n * d, true);
      data.set(X.subarray(0, n * d));
    } else {
      data = X.length === n * d ? X : X.subarray(0, n * d);
    }
    let chosen = algorithm === "auto" ? autoAlgorithm(n, d, metric, expectedK) : algorithm;
    if (chosen === "kd_tree" && metric === "cosine" && zeroRow) chosen = "brute";
    const tree = chosen === "kd_tree" ? buildKDTree(data, n, d, { leafSize, metric, shared }) : null;
    return new NeighborIndex(data, n, d, metric, tree, shared);
  }

  /** eps as the loops compare it (squared for euclidean, 2·eps for the tree's cosine). */
  private reduce(eps: number): number {
    if (typeof eps !== "number" || !(eps >= 0) || eps === Infinity) throw new InputError(`eps must be a finite number >= 0, got ${eps}`);
    if (this.code === EUCLIDEAN) return eps * eps;
    if (this.code === COSINE && this.tree) return 2 * eps;
    return eps;
  }

  /** Converts a reduced distance of the loops to a distance in the metric. */
  private unreduce(r: number): number {
    if (this.code === EUCLIDEAN) return Math.sqrt(r);
    if (this.code === COSINE && this.tree) return r / 2;
    return r;
  }

  /** Reduced distance from a query (q at qo; squared norm nq, for the brute-force euclidean) to indexed row j, as the searches compute it. */
  private rdist(q: Float64Array, qo: number, nq: number, j: number): number {
    if (this.tree) return rowRdist(q, qo, this.data, j * this.d, this.d, this.code);
    return bruteRdist(this.data, j, this.d, this.code, this.norms, q, qo, nq);
  }

  /**
   * Distance between rows i and j of the indexed data in the index's metric (0 when i = j),
   * computed as the searches compute it (by brute force, euclidean distances come from
   * (‖x‖² + ‖y‖²) − 2·x·y, as scikit-learn's brute force; the KD-tree sums squared differences).
   */
  distance(i: number, j: number): number {
    if (i === j) return 0;
    const d = this.d;
    return this.unreduce(this.rdist(this.data, i * d, this.norms ? this.norms[i] : 0, j));
  }

  /**
   * Indices of the indexed rows within eps (<=) of row i, i itself included, in ascending
   * order, into out.data; returns their number. With sorted = false the order is the tree's
   * (still deterministic), which saves sorting: about two thirds of the time of a query that
   * finds hundreds of rows, for callers to whom the order does not matter (DBSCAN, OPTICS).
   */
  radius(i: number, eps: number, out: IndexBuffer, sorted = true): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new InputError(`row ${i} is not a row of the index (0 to ${this.n - 1})`);
    return this.radiusAt(this.data, i * this.d, this.reduce(eps), out, i, sorted);
  }

  /**
   * Indices of the indexed rows within eps (<=) of an outside point (d values of `point` at
   * `offset`, raw: scaled to unit length here for cosine), ascending (or the tree's order
   * with sorted = false); returns their number.
   */
  radiusOfPoint(point: Float64Array, offset: number, eps: number, out: IndexBuffer, sorted = true): number {
    const r = this.reduce(eps);
    for (let j = 0; j < this.d; j++) {
      if (!Number.isFinite(point[offset + j])) throw new InputError(`the point has ${point[offset + j]} in column ${j}: give finite values`);
    }
    if (this.code !== COSINE) return this.radiusAt(point, offset, r, out, -1, sorted);
    const zero = this.unitInto(point, offset, this.scratch, 0);
    if (zero && this.tree) {
      // A zero vector is at cosine distance 1 from everything (scikit-learn's convention).
      if (!(1 <= eps)) return 0;
      this.ensure(out, this.n);
      for (let j = 0; j < this.n; j++) out.data[j] = j;
      return this.n;
    }
    return this.radiusAt(this.scratch, 0, r, out, -1, sorted);
  }

  /** Scales d values of src at so to unit length into dst at dof; returns whether the row is zero. */
  private unitInto(src: Float64Array, so: number, dst: Float64Array, dof: number): boolean {
    const d = this.d;
    let s = 0;
    for (let j = 0; j < d; j++) s += src[so + j] * src[so + j];
    const norm = Math.sqrt(s);
    const div = norm === 0 ? 1 : norm;
    for (let j = 0; j < d; j++) dst[dof + j] = src[so + j] / div;
    return norm === 0;
  }

  /** Makes out.data hold at least m entries, keeping its contents. */
  private ensure(out: IndexBuffer, m: number): void {
    if (out.data && out.data.length >= m) return;
    const bigger = new Int32Array(Math.max(m, 2 * (out.data?.length ?? 0), 16));
    if (out.data) bigger.set(out.data);
    out.data = bigger;
  }

  private radiusAt(q: Float64Array, qo: number, r: number, out: IndexBuffer, self: number, sorted: boolean): number {
    const { n, d, tree } = this;
    if (!out.data) out.data = new Int32Array(64);
    if (tree) {
      const l1 = this.code === MANHATTAN;
      let m = treeRadiusCollect(tree, d, q, qo, r, l1, out.data, 0, this.stack);
      if (m > out.data.length) {
        this.ensure(out, m);
        m = treeRadiusCollect(tree, d, q, qo, r, l1, out.data, 0, this.stack);
      }
      if (sorted) out.data.subarray(0, m).sort();
      return m;
    }
    const nq = this.norms ? (self >= 0 ? this.norms[self] : rowSqNorm(q, qo, d)) : 0;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const s = j === self ? 0 : this.rdist(q, qo, nq, j);
      if (s <= r) {
        if (m === out.data.length) this.ensure(out, m + 1);
        out.data[m++] = j;
      }
    }
    return m;
  }

  /** The executor to use for `rows` query rows, if any (and whether the index's arrays can go to it). */
  private executor(rows: number, sync: boolean): ParallelExecutor | null {
    const e = getParallelExecutor();
    // Brute force costs n·d a row: split from a few million multiply-adds.
    const enough = this.tree ? rows >= PARALLEL_MIN_ROWS : rows >= 64 && rows * this.n * this.d >= PARALLEL_MIN_BRUTE;
    if (!e || !enough || !sharedMemoryAvailable() || !isShared(this.data)) return null;
    if (sync && !e.runSync) return null;
    return e;
  }

  private sharedArrays(): NeighborsShared {
    const t = this.tree;
    const S: NeighborsShared = { data: this.data };
    if (this.norms) S.norms = this.norms;
    if (t) {
      S.ordered = t.ordered;
      S.index = t.index;
      S.nodeStart = t.nodeStart;
      S.nodeEnd = t.nodeEnd;
      S.nodeIsLeaf = t.nodeIsLeaf;
      S.nodeLower = t.nodeLower;
      S.nodeUpper = t.nodeUpper;
    }
    return S;
  }

  private params(m: number, k: number, r: number, weighted: boolean): NeighborsParams {
    return {
      n: this.n, d: this.d, m, metric: this.code, brute: this.tree ? 0 : 1, nLevels: this.tree?.nLevels ?? 1,
      k, r, weighted: weighted ? 1 : 0, sorted: 0, blockStart: 0, blockEnd: 0, nChunks: 1,
    };
  }

  /** Runs a kernel over all blocks of m query rows, in parts when progress or abort is asked for. */
  private async runBlocks(
    name: "neighborsKnn" | "neighborsRadiusCount" | "neighborsRadiusList", kernel: (S: NeighborsShared, P: NeighborsParams, a: number, b: number) => void,
    S: NeighborsShared, P: NeighborsParams, m: number, options: SearchOptions, what: string,
  ): Promise<void> {
    const blocks = Math.ceil(m / BLOCK);
    const parts = options.onProgress || options.signal ? Math.min(PROGRESS_RUNS, blocks) : 1;
    const e = this.executor(m, false);
    for (let p = 0; p < parts; p++) {
      if (options.signal?.aborted) throw new AbortError(`${what} was aborted`);
      P.blockStart = Math.floor((p * blocks) / parts);
      P.blockEnd = Math.floor(((p + 1) * blocks) / parts);
      const count = P.blockEnd - P.blockStart;
      if (e) {
        P.nChunks = Math.min(count, 4 * e.size);
        await e.run(name, S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, P.nChunks);
      } else {
        P.nChunks = 1;
        kernel(S, P, 0, 1);
      }
      options.onProgress?.(Math.min(m, P.blockEnd * BLOCK), m);
    }
    if (options.signal?.aborted) throw new AbortError(`${what} was aborted`);
  }

  /**
   * Number of indexed rows within eps (<=) of every indexed row, itself included; with
   * sampleWeight, the sum of their weights instead.
   */
  async radiusCounts(eps: number, options: SearchOptions & { sampleWeight?: Float64Array | null } = {}): Promise<Float64Array> {
    const r = this.reduce(eps);
    const { n } = this;
    const w = options.sampleWeight ?? null;
    if (w !== null && w.length !== n) throw new InputError(`sampleWeight has ${w.length} values but the data have ${n} rows`);
    const shared = this.executor(n, false) !== null;
    const S = this.sharedArrays();
    S.counts = allocF64(n, shared);
    if (w !== null) {
      const wt = allocF64(n, shared);
      if (this.tree) for (let t = 0; t < n; t++) wt[t] = w[this.tree.index[t]];
      else wt.set(w);
      S.weights = wt;
    }
    await this.runBlocks("neighborsRadiusCount", neighborsRadiusCountKernel, S, this.params(n, 0, r, w !== null), n, options, "the radius counts");
    return S.counts;
  }

  /**
   * The radius lists of many indexed rows at once, split across the worker pool: the rows
   * within eps (<=) of rows[q] are indices[offsets[q]..offsets[q + 1]), each list ascending
   * (or, with sorted = false, in the tree's order). Memory is that of the lists: give the
   * rows in batches to bound it. `counts`, the unweighted radiusCounts(eps) of this index
   * (indexed by row), saves the counting pass.
   */
  async radiusBatch(
    rows: Int32Array, eps: number, options: SearchOptions & { sorted?: boolean; counts?: Float64Array | null } = {},
  ): Promise<{ offsets: Int32Array; indices: Int32Array }> {
    const r = this.reduce(eps);
    const m = rows.length;
    for (let q = 0; q < m; q++) {
      const i = rows[q];
      if (!(i >= 0 && i < this.n)) throw new InputError(`rows[${q}] = ${i} is not a row of the index (0 to ${this.n - 1})`);
    }
    const counts = options.counts ?? null;
    if (counts !== null && counts.length !== this.n) throw new InputError(`counts has ${counts.length} values but the index has ${this.n} rows`);
    const shared = this.executor(m, false) !== null;
    const S = this.sharedArrays();
    S.rows = shared && !isShared(rows) ? allocI32(m, true) : rows;
    if (S.rows !== rows) S.rows.set(rows);
    const P = this.params(m, 0, r, false);
    P.sorted = options.sorted === false ? 0 : 1;
    const offsets = allocI32(m + 1, shared);
    if (counts === null) {
      S.counts = allocF64(m, shared);
      await this.runBlocks("neighborsRadiusList", neighborsRadiusListKernel, S, P, m, { signal: options.signal }, "the radius lists");
      for (let q = 0; q < m; q++) offsets[q + 1] = offsets[q] + S.counts[q];
      delete S.counts;
    } else {
      for (let q = 0; q < m; q++) offsets[q + 1] = offsets[q] + counts[rows[q]];
    }
    S.offsets = offsets;
    S.lists = allocI32(offsets[m], shared);
    await this.runBlocks("neighborsRadiusList", neighborsRadiusListKernel, S, P, m, options, "the radius lists");
    return { offsets, indices: S.lists };
  }

  private checkK(k: number): void {
    if (!Number.isInteger(k) || k < 1 || k > this.n) throw new InputError(`the number of neighbours k must be an integer from 1 to the number of rows (${this.n}), got ${k}`);
  }

  /**
   * The k nearest indexed rows of every indexed row, the row itself first (distance 0), as
   * scikit-learn's NearestNeighbors(n_neighbors=k).fit(X).kneighbors(X): row-major n × k,
   * ascending distance, ties to the lower index.
   */
  async kNearestAll(k: number, options: SearchOptions = {}): Promise<{ distances: Float64Array; indices: Int32Array }> {
    this.checkK(k);
    const { n } = this;
    const shared = this.executor(n, false) !== null;
    const S = this.sharedArrays();
    S.distances = allocF64(n * k, shared);
    S.indices = allocI32(n * k, shared);
    await this.runBlocks("neighborsKnn", neighborsKnnKernel, S, this.params(n, k, 0, false), n, options, "the nearest-neighbour search");
    const D = S.distances;
    if (this.code !== MANHATTAN && !(this.code === COSINE && !this.tree)) for (let t = 0; t < D.length; t++) D[t] = this.unreduce(D[t]);
    return { distances: D, indices: S.indices };
  }

  /**
   * The k nearest indexed rows of m outside points (Q row-major m × d, raw: scaled to unit
   * length here for cosine): row-major m × k, ascending distance, ties to the lower index.
   */
  kNearest(Q: Float64Array, m: number, k: number): { distances: Float64Array; indices: Int32Array } {
    this.checkK(k);
    const d = this.d;
    if (!Number.isInteger(m) || m < 0) throw new InputError(`the number of query rows must be an integer >= 0, got ${m}`);
    if (Q.length < m * d) throw new InputError(`the query rows have ${Q.length} values, fewer than m × d = ${m * d}`);
    for (let t = 0; t < m * d; t++) {
      if (!Number.isFinite(Q[t])) throw new InputError(`the query rows have ${Q[t]} at row ${Math.floor(t / d)}, column ${t % d}: give finite values`);
    }
    const e = this.executor(m, true);
    const shared = e !== null;
    let q: Float64Array;
    const zero = new Uint8Array(this.code === COSINE ? m : 0);
    if (this.code === COSINE) {
      q = allocF64(m * d, shared);
      for (let i = 0; i < m; i++) zero[i] = this.unitInto(Q, i * d, q, i * d) ? 1 : 0;
    } else if (shared && !isShared(Q)) {
      q = allocF64(m * d, true);
      q.set(Q.subarray(0, m * d));
    } else q = Q;
    const S = this.sharedArrays();
    S.Q = q;
    S.distances = allocF64(m * k, shared);
    S.indices = allocI32(m * k, shared);
    const P = this.params(m, k, 0, false);
    P.blockStart = 0;
    P.blockEnd = Math.ceil(m / BLOCK);
    if (e) {
      P.nChunks = Math.min(P.blockEnd, 4 * e.size);
      e.runSync!("neighborsKnn", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, P.nChunks);
    } else neighborsKnnKernel(S, P, 0, 1);
    const D = S.distances;
    const I = S.indices;
    if (this.code !== MANHATTAN && !(this.code === COSINE && !this.tree)) for (let t = 0; t < D.length; t++) D[t] = this.unreduce(D[t]);
    if (this.code === COSINE && this.tree) {
      // Zero query rows: cosine distance 1 from every row, so the first k rows.
      for (let i = 0; i < m; i++) {
        if (zero[i] === 0) continue;
        for (let c = 0; c < k; c++) {
          D[i * k + c] = 1;
          I[i * k + c] = c;
        }
      }
    }
    return { distances: D, indices: I };
  }
}
