/**
 * A KD-tree in the implicit binary layout of scikit-learn's BinaryTree: node i has children
 * 2i + 1 and 2i + 2, all leaves are on the last level, nNodes = 2^nLevels − 1 with
 * nLevels = 1 + floor(log2(max(1, (n − 1) / leafSize))), so a leaf holds between about
 * leafSize and 2·leafSize points (fewer only when n < leafSize), as in scikit-learn.
 * Each node splits its points at the median (the left child takes floor(m / 2) of its m
 * points) of the dimension where their spread is largest; the split is a quickselect on the
 * permutation `index`, so the data are never moved. `ordered` holds the rows in the order
 * of `index` (row t of `ordered` is row index[t] of `data`) so that a leaf's points are
 * contiguous in memory when searched.
 */
import { InputError } from "../core/errors.js";
import { allocF64, allocI32 } from "../core/parallel.js";

export type NeighborMetric = "euclidean" | "manhattan" | "cosine";
export type NeighborAlgorithm = "auto" | "kd_tree" | "brute";

export interface KDTree {
  readonly n: number;
  readonly d: number;
  /** The points the tree indexes, row-major n × d. For metric "cosine" these are the rows scaled to unit length. */
  readonly data: Float64Array;
  /** Permutation of 0..n-1; node ranges index into it. */
  readonly index: Int32Array;
  /** The rows of `data` in the order of `index` (row t is data row index[t]). */
  readonly ordered: Float64Array;
  readonly nNodes: number;
  readonly nLevels: number;
  readonly leafSize: number;
  /** Per node: range [start, end) of `index`. */
  readonly nodeStart: Int32Array;
  readonly nodeEnd: Int32Array;
  readonly nodeIsLeaf: Uint8Array;
  /** Per node, d values each: the bounding box of its points. */
  readonly nodeLower: Float64Array;
  readonly nodeUpper: Float64Array;
  readonly metric: NeighborMetric;
}

export interface KDTreeOptions {
  /** Default 40 (scikit-learn's KDTree default). */
  leafSize?: number;
  /** Default "euclidean". With "cosine", `data` must already hold unit-length rows (NeighborIndex scales them). */
  metric?: NeighborMetric;
  /** Put every array in shared memory (for worker threads). Default false. */
  shared?: boolean;
}

function allocU8(length: number, shared: boolean): Uint8Array {
  return shared ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length);
}

/** scikit-learn's number of levels for n points and a leaf size. */
export function treeLevels(n: number, leafSize: number): number {
  return 1 + Math.floor(Math.log2(Math.max(1, (n - 1) / leafSize)));
}

/**
 * Builds a KD-tree over the n rows of `data` (row-major n × d). `data` is kept as is (not
 * copied); the tree's own arrays are in shared memory with `shared`.
 */
export function buildKDTree(data: Float64Array, n: number, d: number, options: KDTreeOptions = {}): KDTree {
  const leafSize = options.leafSize ?? 40;
  const metric = options.metric ?? "euclidean";
  const shared = options.shared ?? false;
  if (!Number.isInteger(leafSize) || leafSize < 1) throw new InputError(`leafSize must be an integer >= 1, got ${leafSize}`);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`the KD-tree needs at least one row, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new InputError(`the KD-tree needs at least one column, got ${d}`);
  if (data.length < n * d) throw new InputError(`data has ${data.length} values, fewer than n × d = ${n * d}`);
  const nLevels = treeLevels(n, leafSize);
  const nNodes = 2 ** nLevels - 1;
  const firstLeaf = 2 ** (nLevels - 1) - 1;
  const index = allocI32(n, shared);
  for (let i = 0; i < n; i++) index[i] = i;
  const nodeStart = allocI32(nNodes, shared);
  const nodeEnd = allocI32(nNodes, shared);
  const nodeIsLeaf = allocU8(nNodes, shared);
  const nodeLower = allocF64(nNodes * d, shared);
  const nodeUpper = allocF64(nNodes * d, shared);
  nodeStart[0] = 0;
  nodeEnd[0] = n;
  // Nodes in order of their number: a parent comes before its children.
  for (let node = 0; node < nNodes; node++) {
    const s = nodeStart[node];
    const e = nodeEnd[node];
    const b = node * d;
    for (let j = 0; j < d; j++) {
      nodeLower[b + j] = Infinity;
      nodeUpper[b + j] = -Infinity;
    }
    for (let t = s; t < e; t++) {
      const o = index[t] * d;
      for (let j = 0; j < d; j++) {
        const v = data[o + j];
        if (v < nodeLower[b + j]) nodeLower[b + j] = v;
        if (v > nodeUpper[b + j]) nodeUpper[b + j] = v;
      }
    }
    if (node >= firstLeaf) {
      nodeIsLeaf[node] = 1;
      continue;
    }
    let dim = 0;
    let spread = -1;
    for (let j = 0; j < d; j++) {
      const w = nodeUpper[b + j] - nodeLower[b + j];
      if (w > spread) {
        spread = w;
        dim = j;
      }
    }
    const mid = s + ((e - s) >> 1);
    if (e - s > 1) selectNth(index, data, d, dim, s, e - 1, mid);
    nodeStart[2 * node + 1] = s;
    nodeEnd[2 * node + 1] = mid;
    nodeStart[2 * node + 2] = mid;
    nodeEnd[2 * node + 2] = e;
  }
  const ordered = allocF64(n * d, shared);
  for (let t = 0; t < n; t++) {
    const o = index[t] * d;
    const p = t * d;
    for (let j = 0; j < d; j++) ordered[p + j] = data[o + j];
  }
  return { n, d, data, index, ordered, nNodes, nLevels, leafSize, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper, metric };
}

/**
 * Reorders index[lo..hi] (inclusive) so that the element at position kth has the value it
 * would have in sorted order of coordinate `dim`, smaller-or-equal ones before it and
 * greater-or-equal ones after (Hoare partitioning: runs of equal values split evenly).
 */
function selectNth(index: Int32Array, data: Float64Array, d: number, dim: number, lo: number, hi: number, kth: number): void {
  while (hi > lo) {
    const a = data[index[lo] * d + dim];
    const b = data[index[(lo + hi) >> 1] * d + dim];
    const c = data[index[hi] * d + dim];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (data[index[i] * d + dim] < pivot) i++;
      while (data[index[j] * d + dim] > pivot) j--;
      if (i <= j) {
        const t = index[i];
        index[i] = index[j];
        index[j] = t;
        i++;
        j--;
      }
    }
    if (kth <= j) hi = j;
    else if (kth >= i) lo = i;
    else return;
  }
}

/**
 * Minimum distance from the point (d values of `point` at `offset`) to the bounding box of
 * `node`, in the tree's metric: euclidean (and cosine, whose tree is euclidean over unit
 * rows) the plain euclidean distance, not squared; manhattan the L1 distance.
 */
export function minDistToNode(tree: KDTree, node: number, point: Float64Array, offset: number): number {
  const { d, nodeLower, nodeUpper } = tree;
  const b = node * d;
  let s = 0;
  if (tree.metric === "manhattan") {
    for (let j = 0; j < d; j++) {
      const x = point[offset + j];
      const g = nodeLower[b + j] - x;
      if (g > 0) s += g;
      else {
        const h = x - nodeUpper[b + j];
        if (h > 0) s += h;
      }
    }
    return s;
  }
  for (let j = 0; j < d; j++) {
    const x = point[offset + j];
    const g = nodeLower[b + j] - x;
    if (g > 0) s += g * g;
    else {
      const h = x - nodeUpper[b + j];
      if (h > 0) s += h * h;
    }
  }
  return Math.sqrt(s);
}
