/**
 * Time and memory of big work, estimated from the sizes before it starts, so that what
 * cannot fit is refused with a way out and what will take long is announced.
 *
 * Agglomerative clustering (src/cluster/agglomerative.ts) has one algorithm per linkage:
 * - ward: the nearest-neighbour chain on cluster centroids: the centroids (n × d) and a few
 *   arrays of n, no distance matrix;
 * - centroid, median: Müllner's generic algorithm on centroids: the same, plus a heap of n;
 * - single: Prim's minimum spanning tree with distances computed on the fly: arrays of n
 *   (and a shared copy of the rows when worker threads scan them);
 * - complete, average, weighted: the nearest-neighbour chain on the distance matrix: the full
 *   n × n matrix (8n² bytes) while it stays within `maxSquareEntries` entries and the memory
 *   limit, else the condensed n(n−1)/2 (half of it, slower scans).
 * All of them then keep the tree: the raw merges, the merges sorted by height, the sort's
 * order and union–find arrays, and the cut's arrays (about 108 bytes per row).
 *
 * The memory is what the fit allocates beyond its input, in bytes (an upper bound: the
 * working arrays of the merges are garbage by the time the tree is cut). The time is CPU
 * time, in seconds, of the quadratic part: the scans of the merges and the distance matrix.
 */

/** The linkages of agglomerative clustering (the same names as src/cluster/agglomerative.ts). */
export type BudgetLinkage = "ward" | "complete" | "average" | "single" | "centroid" | "median" | "weighted";
export type BudgetMetric = "euclidean" | "manhattan" | "cosine" | "precomputed";

/** The algorithm the fit runs for these sizes, linkage and memory limit. */
export type AgglomerativeMethod =
  | "nn-chain-centroids"
  | "generic-centroids"
  | "prim-spanning-tree"
  | "nn-chain-square-matrix"
  | "nn-chain-condensed-matrix";

export interface AgglomerativeEstimate {
  /** Memory the fit allocates beyond its input, in bytes. */
  bytes: number;
  /** Of which the pairwise distance matrix (0 for the methods without one). */
  matrixBytes: number;
  /** CPU time of the fit, in seconds (divided among `threads` for the parts that workers share). */
  seconds: number;
  method: AgglomerativeMethod;
  /** What takes the memory, in words: "the pairwise distances", "the cluster centroids". */
  memoryFor: string;
}

export interface AgglomerativeEstimateOptions {
  /** Default "euclidean"; "precomputed" means the input is the n × n matrix of distances (d = n). */
  metric?: BudgetMetric;
  /**
   * Bytes of memory available: the distance-matrix linkages take the condensed matrix
   * (half the memory) when the full square one would not fit.
   */
  memoryLimit?: number;
  /** Largest number of entries of the full square matrix (the fit's linkageTuning.maxSquare; default 2^29). */
  maxSquareEntries?: number;
  /** Threads sharing the scans and the distances (worker threads; default 1). */
  threads?: number;
  /**
   * Multiplies every time constant below (default 1): the speed of this machine relative to
   * the one they were measured on (2 for a machine half as fast).
   */
  slowdown?: number;
}

/** V8's largest typed array in Node 20 (buffer.constants.MAX_LENGTH), in elements. */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32;

/** Bytes per row of the tree and its cut (raw merges 32, sorted merges 32, sort order 8, union–find 24, cut 12). */
const TREE_BYTES_PER_ROW = 108;

/**
 * Seconds of CPU time per unit of work, measured on the calling thread (workers: 0) with
 * uniform random data, n = 4,000 to 16,000, d = 2 to 32: Node 20.20 on one core of a 2-core
 * Intel Xeon virtual machine (process.cpuUsage, so that other load on the machine did not
 * count). Fits were within about 25 % of the measured times, more than enough for "about
 * 4 minutes" (bench/agglomerative-estimate.ts measures them again).
 */
export const AGGLOMERATIVE_SECONDS = {
  /** Ward's chain: per n² · (d + 3.5) (about 2.5 scans of the active clusters per merge). */
  ward: 1.0e-9,
  /** Generic centroid algorithm: per n² · (d + 6). */
  centroid: 1.45e-9,
  /** Prim: per n² · (d + 2). */
  single: 1.1e-9,
  /** Distance matrix: per entry computed · (d + 1). */
  pdist: 2.2e-9,
  /** Chain on the full square matrix: per n² (scans and Lance–Williams updates). */
  chainSquare: 2.8e-8,
  /** Chain on the condensed matrix (strided reads): per n². */
  chainCondensed: 4.5e-8,
  /** Sorting the merges by height: per n · log2(n). */
  sort: 5e-8,
};

/**
 * Time and memory of `AgglomerativeClustering.fit` on n rows of d features with this
 * linkage, from the algorithm the fit runs (see the file's comment).
 */
export function estimateAgglomerative(
  n: number, d: number, linkage: BudgetLinkage, options: AgglomerativeEstimateOptions = {},
): AgglomerativeEstimate {
  const metric = options.metric ?? "euclidean";
  const threads = Math.max(1, options.threads ?? 1);
  const k = options.slowdown ?? 1;
  const c = AGGLOMERATIVE_SECONDS;
  const n2 = n * n;
  const dEff = metric === "precomputed" ? n : d;
  // Workers read the rows from shared memory: a copy when they are not already there.
  const rowsCopy = threads > 1 && metric !== "precomputed" ? 8 * n * d : 0;
  const norms = metric === "cosine" ? 8 * n : 0;
  const tree = TREE_BYTES_PER_ROW * n;
  const sort = c.sort * n * Math.log2(Math.max(2, n));
  let working: number;
  let matrixBytes = 0;
  let seconds: number;
  let method: AgglomerativeMethod;
  let memoryFor: string;
  if (linkage === "ward") {
    method = "nn-chain-centroids";
    memoryFor = "the cluster centroids and the tree";
    working = 8 * n * d + 20 * n; // centroids; sizes, ids, positions, the chain
    seconds = (c.ward * n2 * (d + 3.5)) / threads;
  } else if (linkage === "centroid" || linkage === "median") {
    method = "generic-centroids";
    memoryFor = "the cluster centroids and the tree";
    working = 8 * n * d + 40 * n; // centroids; sizes, ids, positions, candidates, bounds, heap
    seconds = c.centroid * n2 * (d + 6);
  } else if (linkage === "single") {
    method = "prim-spanning-tree";
    memoryFor = "the spanning tree";
    working = 9 * n + norms + (threads > 1 ? 8 * n * dEff : 0); // keys, flags (a shared copy of the rows or distances)
    seconds = (c.single * n2 * ((metric === "precomputed" ? 1 : d) + 2)) / threads;
  } else {
    const pairs = (n * (n - 1)) / 2;
    const maxSquare = options.maxSquareEntries ?? 2 ** 29;
    const limit = options.memoryLimit ?? Infinity;
    const rest = 24 * n + norms + rowsCopy + tree; // the chain's arrays of n, the tree
    const square = n2 <= maxSquare && 8 * n2 + rest <= limit;
    method = square ? "nn-chain-square-matrix" : "nn-chain-condensed-matrix";
    memoryFor = "the pairwise distances";
    matrixBytes = 8 * (square ? n2 : pairs);
    working = matrixBytes + 24 * n + norms + rowsCopy;
    const entries = square ? n2 : pairs;
    const distances = metric === "precomputed" ? c.pdist * entries : (c.pdist * entries * (d + 1)) / threads;
    seconds = distances + (square ? c.chainSquare : c.chainCondensed) * n2;
  }
  return { bytes: working + tree, matrixBytes, seconds: (seconds + sort) * k, method, memoryFor };
}

const UNITS = ["bytes", "KB", "MB", "GB", "TB", "PB"];

/** A size in plain words (decimal units, two significant figures): "8.1 GB", "12 MB", "512 bytes". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "an unbounded amount of memory";
  let v = Math.max(0, bytes);
  let u = 0;
  while (v >= 999.5 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  if (u === 0) return `${Math.round(v)} bytes`;
  const s = v < 9.95 ? v.toFixed(1) : String(Math.round(v));
  return `${s.endsWith(".0") ? s.slice(0, -2) : s} ${UNITS[u]}`;
}

/** A duration in plain words: "less than a second", "about 8 seconds", "about 4 minutes", "about 9 hours", "about 3 days". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "forever";
  if (seconds < 1) return "less than a second";
  const about = (v: number, unit: string): string => {
    const r = Math.round(v);
    return `about ${r} ${unit}${r === 1 ? "" : "s"}`;
  };
  if (seconds < 90) return about(seconds, "second");
  if (seconds < 90 * 60) return about(seconds / 60, "minute");
  if (seconds < 48 * 3600) return about(seconds / 3600, "hour");
  return about(seconds / 86400, "day");
}

/** A count with thousands separators: 45000 → "45,000". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
