/**
 * OPTICS (Ankerst, Breunig, Kriegel & Sander, 1999) as scikit-learn 1.2 computes it, with
 * its Xi and DBSCAN-like extractions of segments.
 *
 * The graph (`ordering`, `coreDistances`, `reachability`, `predecessor`):
 * - a row's core distance is the distance to its minSamples-th nearest row, itself counted
 *   as the first; Infinity when that exceeds maxEps;
 * - rows are processed one at a time: next is the unprocessed row of smallest reachability
 *   (ties, Infinity included: the lowest row number); a processed row p with a finite core
 *   distance offers every unprocessed row o within maxEps the reachability
 *   max(coreDistance(p), dist(p, o)), kept when strictly smaller than o's (then o's
 *   predecessor is p);
 * - like scikit-learn, core distances and offered reachabilities are rounded to 15 decimals
 *   (numpy's `around(x, 15)`: rint(x·10¹⁵)/10¹⁵), so that near-equal values tie as there.
 *
 * Memory is O(n) beyond the data and the neighbour index: the core distances come from one
 * k-nearest pass (parallel), then one radius query per processed row (maxEps finite, with an
 * indexed heap for the next row) or one scan of the unprocessed rows (maxEps = Infinity,
 * O(n²) time as in scikit-learn).
 */
import { InputError } from "../../core/errors.js";
import { type MatrixLike, toMatrix } from "../../core/matrix.js";
import { checkAbort, Ticker } from "./dbscan.js";
import { type IndexBuffer, type NeighborAlgorithm, NeighborIndex, type NeighborMetric } from "../../neighbors/index.js";

export interface OPTICSOptions {
  /**
   * Rows in a neighbourhood, the row itself included, for a row to be a core row: a whole
   * number ≥ 2, or a fraction of the rows in (0, 1] (then max(2, ⌊fraction·n⌋), as
   * scikit-learn). Default 5.
   */
  minSamples?: number;
  /** Largest distance at which rows are neighbours; Infinity (default) finds segments at every scale. */
  maxEps?: number;
  /** "euclidean" (default), "manhattan" or "cosine". */
  metric?: NeighborMetric;
  /** How segments are read off the reachability plot: "xi" (default) or "dbscan" (a cut at `eps`). */
  clusterMethod?: "xi" | "dbscan";
  /** The cut for clusterMethod "dbscan"; default (null) maxEps. At most maxEps. */
  eps?: number | null;
  /** Least relative steepness of a segment's boundary in the reachability plot, in [0, 1]. Default 0.05. */
  xi?: number;
  /** Xi: correct segments by the predecessors (Schubert & Gertz, 2018). Default true. */
  predecessorCorrection?: boolean;
  /** Xi: least rows in a segment, a whole number ≥ 2 or a fraction of the rows in (0, 1]; default (null) minSamples. */
  minClusterSize?: number | null;
  /** Neighbour search: "auto" (default), "kd_tree" or "brute". */
  algorithm?: NeighborAlgorithm;
  /** Rows per leaf of the KD-tree. Default 30. */
  leafSize?: number;
}

export interface OPTICSFitOptions {
  signal?: AbortSignal;
  /** Progress: `done` of `total` (2 × rows) steps (core distances, then the ordering). */
  onProgress?: (done: number, total: number) => void;
  /** Receives warnings (every reachability infinite). */
  onWarning?: (message: string) => void;
}

/** A fitted OPTICS. Arrays are indexed by row except `ordering` (row numbers in processing order). */
export class OPTICSModel {
  constructor(
    /** Row numbers in the order OPTICS processed them. */
    readonly ordering: Int32Array,
    /** Reachability distance of each row (Infinity for rows reached by nobody, such as the first). */
    readonly reachability: Float64Array,
    /** Core distance of each row (Infinity when beyond maxEps). */
    readonly coreDistances: Float64Array,
    /** The row each row was reached from (−1 for none). */
    readonly predecessor: Int32Array,
    /** Segment of each row, −1 for noise. */
    readonly labels: Int32Array,
    /** Xi's segments as [start, end] positions in `ordering` (inclusive), nested ones before those containing them; null for clusterMethod "dbscan". */
    readonly clusterHierarchy: [number, number][] | null,
    /** minSamples as a number of rows (a fraction resolved). */
    readonly minSamples: number,
    readonly maxEps: number,
    readonly metric: NeighborMetric,
  ) {}

  /** Number of segments (labels 0 … nClusters − 1). */
  get nClusters(): number {
    let k = 0;
    for (let i = 0; i < this.labels.length; i++) if (this.labels[i] + 1 > k) k = this.labels[i] + 1;
    return k;
  }

  get nNoise(): number {
    let c = 0;
    for (let i = 0; i < this.labels.length; i++) if (this.labels[i] < 0) c++;
    return c;
  }

  /** The reachability of the rows in processing order (the reachability plot). */
  get reachabilityPlot(): Float64Array {
    const out = new Float64Array(this.ordering.length);
    for (let i = 0; i < out.length; i++) out[i] = this.reachability[this.ordering[i]];
    return out;
  }

  /** Labels of a DBSCAN-like cut of this graph at eps (scikit-learn's cluster_optics_dbscan); eps ≤ maxEps. */
  extractDbscan(eps: number): Int32Array {
    if (typeof eps !== "number" || !(eps >= 0)) throw new InputError(`eps must be a distance ≥ 0, got ${String(eps)}`);
    if (eps > this.maxEps) throw new InputError(`eps (${eps}) must be at most maxEps (${this.maxEps}): refit with a larger maxEps or cut lower`);
    return clusterOpticsDbscan(this.reachability, this.coreDistances, this.ordering, eps);
  }

  /** Labels and segments by the Xi method with other settings (scikit-learn's cluster_optics_xi). */
  extractXi(options: { xi?: number; minClusterSize?: number | null; predecessorCorrection?: boolean } = {}): { labels: Int32Array; clusterHierarchy: [number, number][] } {
    const n = this.ordering.length;
    const xi = options.xi ?? 0.05;
    checkXi(xi);
    const mcs = resolveMinClusterSize(options.minClusterSize ?? null, this.minSamples, n);
    return clusterOpticsXi(this.reachability, this.predecessor, this.ordering, this.minSamples, mcs, xi, options.predecessorCorrection ?? true);
  }
}

/** OPTICS with scikit-learn 1.2's results; see the file's comment. */
export class OPTICS {
  readonly options: Readonly<OPTICSOptions>;

  constructor(options: OPTICSOptions = {}) {
    this.options = { ...options };
    const o = this.options;
    const ms = o.minSamples ?? 5;
    if (!isSize(ms)) throw new InputError(`minSamples must be a whole number ≥ 2 or a fraction of the rows in (0, 1], got ${String(ms)}`);
    const maxEps = o.maxEps ?? Infinity;
    if (typeof maxEps !== "number" || !(maxEps >= 0)) throw new InputError(`maxEps must be a distance ≥ 0 (or Infinity), got ${String(maxEps)}`);
    if (!["euclidean", "manhattan", "cosine"].includes(o.metric ?? "euclidean")) throw new InputError(`metric must be one of euclidean, manhattan, cosine, got ${String(o.metric)}`);
    if (!["xi", "dbscan"].includes(o.clusterMethod ?? "xi")) throw new InputError(`clusterMethod must be "xi" or "dbscan", got ${String(o.clusterMethod)}`);
    const eps = o.eps ?? null;
    if (eps !== null && (typeof eps !== "number" || !(eps >= 0))) throw new InputError(`eps must be a distance ≥ 0 or null (then maxEps), got ${String(eps)}`);
    if (eps !== null && eps > maxEps) throw new InputError(`eps (${eps}) must be at most maxEps (${maxEps}): lower eps or raise maxEps`);
    checkXi(o.xi ?? 0.05);
    const mcs = o.minClusterSize ?? null;
    if (mcs !== null && !isSize(mcs)) throw new InputError(`minClusterSize must be a whole number ≥ 2, a fraction of the rows in (0, 1], or null (then minSamples), got ${String(mcs)}`);
    if (!["auto", "kd_tree", "brute"].includes(o.algorithm ?? "auto")) throw new InputError(`algorithm must be one of auto, kd_tree, brute, got ${String(o.algorithm)}`);
    const ls = o.leafSize ?? 30;
    if (!Number.isInteger(ls) || ls < 1) throw new InputError(`leafSize must be a whole number ≥ 1, got ${String(ls)}`);
  }

  async fit(Xin: MatrixLike, fitOptions: OPTICSFitOptions = {}): Promise<OPTICSModel> {
    const o = this.options;
    const X = toMatrix(Xin, "X");
    const { rows: n, cols: d } = X;
    if (n < 2) throw new InputError(`X has ${n} rows; OPTICS needs at least 2`);
    if (d < 1) throw new InputError("X has no columns: choose at least one feature");
    const metric = o.metric ?? "euclidean";
    const maxEps = o.maxEps ?? Infinity;
    const minSamples = resolveMinSamples(o.minSamples ?? 5, n);
    const { signal, onProgress } = fitOptions;
    const total = 2 * n;
    checkAbort(signal);

    const index = NeighborIndex.build(X.data, n, d, { metric, algorithm: o.algorithm ?? "auto", leafSize: o.leafSize ?? 30, expectedK: minSamples });
    const knn = await index.kNearestAll(minSamples, { signal, onProgress: onProgress ? (done) => onProgress(done, total) : undefined });
    // Cosine: the distance to the k-th neighbour again as scikit-learn computes cosine
    // distances (normalised rows, 1 − dot), closer to its rounding than the index's.
    const dist = pairDistance(X.data, n, d, metric);
    const core = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const at = i * minSamples + minSamples - 1;
      const v = metric === "cosine" ? dist(i, knn.indices[at]) : knn.distances[at];
      core[i] = v > maxEps ? Infinity : around15(v);
    }
    checkAbort(signal);
    onProgress?.(n, total);

    const code = metric === "euclidean" ? EUCLIDEAN_CODE : metric === "manhattan" ? MANHATTAN_CODE : OTHER_CODE;
    const graph = await opticsGraph(dist, X.data, d, code, n, core, maxEps, index, signal, onProgress ? (done) => onProgress(n + done, total) : undefined);
    onProgress?.(total, total);
    const { ordering, reachability, predecessor } = graph;
    let allInf = true;
    for (let i = 0; i < n && allInf; i++) if (reachability[i] !== Infinity) allInf = false;
    if (allInf) fitOptions.onWarning?.("every reachability is infinite: no row is within maxEps of a core row; set a larger maxEps or every row is noise");

    let labels: Int32Array;
    let hierarchy: [number, number][] | null = null;
    if ((o.clusterMethod ?? "xi") === "xi") {
      const mcs = resolveMinClusterSize(o.minClusterSize ?? null, minSamples, n);
      const r = clusterOpticsXi(reachability, predecessor, ordering, minSamples, mcs, o.xi ?? 0.05, o.predecessorCorrection ?? true);
      labels = r.labels;
      hierarchy = r.clusterHierarchy;
    } else {
      labels = clusterOpticsDbscan(reachability, core, ordering, o.eps ?? maxEps);
    }
    return new OPTICSModel(ordering, reachability, core, predecessor, labels, hierarchy, minSamples, maxEps, metric);
  }
}

function isSize(v: unknown): v is number {
  return typeof v === "number" && ((Number.isInteger(v) && v >= 1) || (v > 0 && v <= 1));
}

function checkXi(xi: number): void {
  if (typeof xi !== "number" || !(xi >= 0 && xi <= 1)) throw new InputError(`xi must be a number from 0 to 1, got ${String(xi)}`);
}

/** scikit-learn's resolution of min_samples: > n is an error; ≤ 1 is a fraction of n (at least 2). */
export function resolveMinSamples(ms: number, n: number): number {
  if (ms > n) throw new InputError(`minSamples (${ms}) must be no greater than the number of rows (${n})`);
  return ms <= 1 ? Math.max(2, Math.trunc(ms * n)) : ms;
}

function resolveMinClusterSize(mcs: number | null, minSamples: number, n: number): number {
  if (mcs === null) return minSamples;
  if (mcs > n) throw new InputError(`minClusterSize (${mcs}) must be no greater than the number of rows (${n})`);
  return mcs <= 1 ? Math.max(2, Math.trunc(mcs * n)) : mcs;
}

const P15 = 1e15;
const TWO52 = 4503599627370496;

/** numpy's around(x, 15) for x ≥ 0 (or ∞): rint(x·10¹⁵)/10¹⁵ with rint rounding halves to even. */
export function around15(x: number): number {
  const y = x * P15;
  if (!(y < TWO52)) return y / P15; // already a whole number (or ∞)
  let r = Math.floor(y);
  const f = y - r;
  if (f > 0.5 || (f === 0.5 && r % 2 !== 0)) r += 1;
  return r / P15;
}

interface Graph {
  ordering: Int32Array;
  reachability: Float64Array;
  predecessor: Int32Array;
}

/** Distance between rows i and j as scikit-learn's pairwise_distances computes it (up to rounding). */
type PairDistance = (i: number, j: number) => number;

function pairDistance(X: Float64Array, n: number, d: number, metric: NeighborMetric): PairDistance {
  if (metric === "manhattan") {
    return (i, j) => {
      let s = 0;
      const a = i * d;
      const b = j * d;
      for (let t = 0; t < d; t++) s += Math.abs(X[a + t] - X[b + t]);
      return s;
    };
  }
  if (metric === "cosine") {
    // scikit-learn normalises the rows (zero rows stay zero), then 1 − dot, clipped to [0, 2].
    const U = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += X[i * d + t] * X[i * d + t];
      const norm = Math.sqrt(s);
      if (norm > 0) for (let t = 0; t < d; t++) U[i * d + t] = X[i * d + t] / norm;
    }
    return (i, j) => {
      let s = 0;
      const a = i * d;
      const b = j * d;
      for (let t = 0; t < d; t++) s += U[a + t] * U[b + t];
      const v = 1 - s;
      return v < 0 ? 0 : v > 2 ? 2 : v;
    };
  }
  return (i, j) => {
    let s = 0;
    const a = i * d;
    const b = j * d;
    for (let t = 0; t < d; t++) {
      const u = X[a + t] - X[b + t];
      s += u * u;
    }
    return Math.sqrt(s);
  };
}

const EUCLIDEAN_CODE = 0;
const MANHATTAN_CODE = 1;
const OTHER_CODE = 2;

async function opticsGraph(
  dist: PairDistance, X: Float64Array, d: number, code: number, n: number, core: Float64Array, maxEps: number,
  index: NeighborIndex, signal: AbortSignal | undefined, onProgress: ((done: number) => void) | undefined,
): Promise<Graph> {
  const reach = new Float64Array(n).fill(Infinity);
  const pred = new Int32Array(n).fill(-1);
  const ordering = new Int32Array(n);
  const ticker = new Ticker(signal);

  if (maxEps === Infinity) {
    // Every unprocessed row is a neighbour: one scan per step both offers reachabilities
    // and finds the next row (first smallest reachability in row order).
    const unproc = new Int32Array(n);
    for (let i = 0; i < n; i++) unproc[i] = i;
    let m = n;
    let pos = 0; // position in unproc of the next row
    for (let step = 0; step < n; step++) {
      const p = unproc[pos];
      unproc.copyWithin(pos, pos + 1, m);
      m--;
      ordering[step] = p;
      const cp = core[p];
      let best = 0;
      let bestR = Infinity;
      if (cp !== Infinity) {
        const po = p * d;
        for (let t = 0; t < m; t++) {
          const q = unproc[t];
          const rq = reach[q];
          // Rounding to 15 decimals moves a value by less than this margin, so a raw
          // distance beyond `lim` cannot improve q: skip the square root and the rounding.
          const lim = rq + 2e-15 + 1e-15 * rq;
          let r: number;
          if (cp > lim) {
            r = Infinity; // max(distance, cp) ≥ cp: no improvement whatever the distance
          } else if (code === EUCLIDEAN_CODE) {
            const qo = q * d;
            let s2 = 0;
            for (let j = 0; j < d; j++) {
              const u = X[po + j] - X[qo + j];
              s2 += u * u;
            }
            r = s2 > lim * lim ? Infinity : Math.sqrt(s2);
          } else if (code === MANHATTAN_CODE) {
            const qo = q * d;
            let s1 = 0;
            for (let j = 0; j < d; j++) s1 += Math.abs(X[po + j] - X[qo + j]);
            r = s1;
          } else {
            r = dist(p, q);
          }
          if (r < cp) r = cp;
          if (r <= lim) {
            r = around15(r);
            if (r < rq) {
              reach[q] = r;
              pred[q] = p;
            }
          }
          if (reach[q] < bestR) {
            bestR = reach[q];
            best = t;
          }
        }
      } else {
        for (let t = 0; t < m; t++) {
          if (reach[unproc[t]] < bestR) {
            bestR = reach[unproc[t]];
            best = t;
          }
        }
      }
      pos = best;
      if (ticker.due()) {
        onProgress?.(step + 1);
        await ticker.pause();
      }
    }
    return { ordering, reachability: reach, predecessor: pred };
  }

  // maxEps finite: a radius query per processed core row; the next row from an indexed heap
  // of the unprocessed rows with a finite reachability (ordered by reachability, then row),
  // else the lowest unprocessed row.
  const processed = new Uint8Array(n);
  const heap = new IndexedHeap(n, reach);
  const buf: IndexBuffer = { data: new Int32Array(256) };
  let lowest = 0;
  for (let step = 0; step < n; step++) {
    let p: number;
    if (heap.size > 0) {
      p = heap.pop();
    } else {
      while (processed[lowest]) lowest++;
      p = lowest;
    }
    processed[p] = 1;
    ordering[step] = p;
    const cp = core[p];
    if (cp !== Infinity) {
      const c = index.radius(p, maxEps, buf, false);
      const nb = buf.data;
      for (let t = 0; t < c; t++) {
        const q = nb[t];
        if (processed[q]) continue;
        let r = dist(p, q);
        if (r < cp) r = cp;
        r = around15(r);
        if (r < reach[q]) {
          reach[q] = r;
          pred[q] = p;
          heap.upsert(q);
        }
      }
    }
    if (ticker.due()) {
      onProgress?.(step + 1);
      await ticker.pause();
    }
  }
  return { ordering, reachability: reach, predecessor: pred };
}

/** A binary min-heap of row numbers keyed by (key[row], row), with decrease-key. */
class IndexedHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  size = 0;

  constructor(n: number, private readonly key: Float64Array) {
    this.heap = new Int32Array(n);
    this.pos = new Int32Array(n).fill(-1);
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka < kb || (ka === kb && a < b);
  }

  /** Inserts the row, or moves it up after its key decreased. */
  upsert(row: number): void {
    let i = this.pos[row];
    if (i < 0) {
      i = this.size++;
      this.heap[i] = row;
      this.pos[row] = i;
    }
    this.up(i);
  }

  pop(): number {
    const h = this.heap;
    const top = h[0];
    this.pos[top] = -1;
    this.size--;
    if (this.size > 0) {
      h[0] = h[this.size];
      this.pos[h[0]] = 0;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    const row = h[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(row, h[parent])) break;
      h[i] = h[parent];
      this.pos[h[i]] = i;
      i = parent;
    }
    h[i] = row;
    this.pos[row] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const row = h[i];
    const size = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], row)) break;
      h[i] = h[c];
      this.pos[h[i]] = i;
      i = c;
    }
    h[i] = row;
    this.pos[row] = i;
  }
}

/** scikit-learn's cluster_optics_dbscan: a cut of the reachability plot at eps. */
export function clusterOpticsDbscan(reachability: Float64Array, coreDistances: Float64Array, ordering: Int32Array, eps: number): Int32Array {
  const n = ordering.length;
  const labels = new Int32Array(n);
  let c = -1;
  for (let t = 0; t < n; t++) {
    const i = ordering[t];
    if (reachability[i] > eps && coreDistances[i] <= eps) c++;
    labels[i] = c;
  }
  for (let i = 0; i < n; i++) if (reachability[i] > eps && !(coreDistances[i] <= eps)) labels[i] = -1;
  return labels;
}

/** scikit-learn's cluster_optics_xi with min_samples and min_cluster_size already resolved to row counts. */
export function clusterOpticsXi(
  reachability: Float64Array, predecessor: Int32Array, ordering: Int32Array, minSamples: number, minClusterSize: number,
  xi: number, predecessorCorrection: boolean,
): { labels: Int32Array; clusterHierarchy: [number, number][] } {
  const n = ordering.length;
  const R = new Float64Array(n + 1);
  const P = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    R[t] = reachability[ordering[t]];
    P[t] = predecessor[ordering[t]];
  }
  R[n] = Infinity;
  const clusters = xiClusters(R, P, ordering, xi, minSamples, minClusterSize, predecessorCorrection);
  return { labels: xiLabels(ordering, clusters), clusterHierarchy: clusters };
}

interface SteepDownArea {
  start: number;
  end: number;
  mib: number;
}

/** scikit-learn's _xi_cluster on the reachability plot R (n values and a final ∞) and the predecessors in order. */
function xiClusters(
  R: Float64Array, P: Int32Array, ordering: Int32Array, xi: number, minSamples: number, minClusterSize: number, correct: boolean,
): [number, number][] {
  const n = P.length;
  const xc = 1 - xi;
  const steepUp = new Uint8Array(n);
  const steepDown = new Uint8Array(n);
  const down = new Uint8Array(n);
  const up = new Uint8Array(n);
  const invXc = 1 / xc;
  for (let i = 0; i < n; i++) {
    const ratio = R[i] / R[i + 1];
    steepUp[i] = ratio <= xc ? 1 : 0;
    steepDown[i] = ratio >= invXc ? 1 : 0;
    down[i] = ratio > 1 ? 1 : 0;
    up[i] = ratio < 1 ? 1 : 0;
  }
  let sdas: SteepDownArea[] = [];
  const clusters: [number, number][] = [];
  let index = 0;
  let mib = 0;
  const filterSdas = (): void => {
    if (mib === Infinity) {
      sdas = [];
      return;
    }
    sdas = sdas.filter((s) => mib <= R[s.start] * xc);
    for (const s of sdas) s.mib = Math.max(s.mib, mib);
  };
  for (let steep = 0; steep < n; steep++) {
    if (!steepUp[steep] && !steepDown[steep]) continue;
    if (steep < index) continue;
    for (let t = index; t <= steep; t++) if (R[t] > mib) mib = R[t];
    if (steepDown[steep]) {
      filterSdas();
      const dEnd = extendRegion(steepDown, up, steep, minSamples);
      sdas.push({ start: steep, end: dEnd, mib: 0 });
      index = dEnd + 1;
      mib = R[index];
    } else {
      filterSdas();
      const uStart = steep;
      const uEnd = extendRegion(steepUp, down, uStart, minSamples);
      index = uEnd + 1;
      mib = R[index];
      const found: [number, number][] = [];
      for (const D of sdas) {
        let cStart = D.start;
        let cEnd = uEnd;
        if (R[cEnd + 1] * xc < D.mib) continue;
        const dMax = R[D.start];
        if (dMax * xc >= R[cEnd + 1]) {
          while (R[cStart + 1] > R[cEnd + 1] && cStart < D.end) cStart++;
        } else if (R[cEnd + 1] * xc >= dMax) {
          while (R[cEnd - 1] > dMax && cEnd > uStart) cEnd--;
        }
        if (correct) {
          const c = correctPredecessor(R, P, ordering, cStart, cEnd);
          if (c === null) continue;
          [cStart, cEnd] = c;
        }
        if (cEnd - cStart + 1 < minClusterSize) continue;
        if (cStart > D.end) continue;
        if (cEnd < uStart) continue;
        found.push([cStart, cEnd]);
      }
      found.reverse();
      clusters.push(...found);
    }
  }
  return clusters;
}

/** scikit-learn's _extend_region. */
function extendRegion(steep: Uint8Array, xward: Uint8Array, start: number, minSamples: number): number {
  const n = steep.length;
  let nonXward = 0;
  let end = start;
  for (let index = start; index < n; index++) {
    if (steep[index]) {
      nonXward = 0;
      end = index;
    } else if (!xward[index]) {
      nonXward++;
      if (nonXward > minSamples) break;
    } else {
      return end;
    }
  }
  return end;
}

/**
 * scikit-learn 1.2's _correct_predecessor, replicated as written: it looks up
 * ordering[predecessor] (a predecessor of −1 reads the last entry, as numpy's index −1 does).
 */
function correctPredecessor(R: Float64Array, P: Int32Array, ordering: Int32Array, s: number, e: number): [number, number] | null {
  const n = ordering.length;
  while (s < e) {
    if (R[s] > R[e]) return [s, e];
    const pe = P[e];
    const target = ordering[pe < 0 ? n + pe : pe];
    for (let i = s; i < e; i++) if (ordering[i] === target) return [s, e];
    e--;
  }
  return null;
}

/** scikit-learn's _extract_xi_labels. */
function xiLabels(ordering: Int32Array, clusters: [number, number][]): Int32Array {
  const n = ordering.length;
  const inOrder = new Int32Array(n).fill(-1);
  let label = 0;
  for (const [s, e] of clusters) {
    let free = true;
    for (let t = s; t <= e && free; t++) if (inOrder[t] !== -1) free = false;
    if (free) {
      inOrder.fill(label, s, e + 1);
      label++;
    }
  }
  const labels = new Int32Array(n);
  for (let t = 0; t < n; t++) labels[ordering[t]] = inOrder[t];
  return labels;
}
