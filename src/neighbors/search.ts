/**
 * The search loops: pure functions over flat typed arrays, shared by the worker kernels
 * (kernels.ts) and the calling thread (NeighborIndex).
 *
 * Distances are handled "reduced" inside the loops (scikit-learn's rdist): euclidean and the
 * tree's cosine work in squared euclidean distances, manhattan in L1 distances, and the brute
 * cosine in 1 − u·v over unit rows. A k-nearest query keeps a bounded max-heap ordered by
 * (distance, key) where the key is the row's index, or −1 for the query's own row: ties go
 * to the lower index, and a row is always its own first neighbour.
 */

/** Metric codes of the kernels. */
export const EUCLIDEAN = 0;
export const MANHATTAN = 1;
/** Cosine: over unit-length rows; the tree searches them in squared euclidean distance (= 2(1 − cos)). */
export const COSINE = 2;

/** The arrays of a KD-tree a search needs (a KDTree has them all). */
export interface TreeArrays {
  ordered: Float64Array;
  index: Int32Array;
  nodeStart: Int32Array;
  nodeEnd: Int32Array;
  nodeIsLeaf: Uint8Array;
  nodeLower: Float64Array;
  nodeUpper: Float64Array;
}

/** Reduced distance from point q (at qo) to node's box: squared euclidean, or L1 when l1. */
export function boxMinRdist(lower: Float64Array, upper: Float64Array, node: number, d: number, q: Float64Array, qo: number, l1: boolean): number {
  const b = node * d;
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = q[qo + j];
    let g = lower[b + j] - x;
    if (g <= 0) {
      g = x - upper[b + j];
      if (g <= 0) continue;
    }
    s += l1 ? g : g * g;
  }
  return s;
}

/** Reduced distance from q to the farthest corner of node's box. */
export function boxMaxRdist(lower: Float64Array, upper: Float64Array, node: number, d: number, q: Float64Array, qo: number, l1: boolean): number {
  const b = node * d;
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = q[qo + j];
    const g = x - lower[b + j];
    const h = upper[b + j] - x;
    const m = g > h ? g : h;
    s += l1 ? m : m * m;
  }
  return s;
}

/** Reduced distance between row a of A and row b of B (offsets in values). */
export function rowRdist(A: Float64Array, ao: number, B: Float64Array, bo: number, d: number, metric: number): number {
  let s = 0;
  if (metric === MANHATTAN) {
    for (let j = 0; j < d; j++) s += Math.abs(A[ao + j] - B[bo + j]);
    return s;
  }
  for (let j = 0; j < d; j++) {
    const t = A[ao + j] - B[bo + j];
    s += t * t;
  }
  return s;
}

/** The brute cosine distance of unit rows, as scikit-learn's cosine_distances: 1 − u·v clipped to [0, 2]. */
export function cosineRdist(A: Float64Array, ao: number, B: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += A[ao + j] * B[bo + j];
  const r = 1 - s;
  return r < 0 ? 0 : r > 2 ? 2 : r;
}

// ---- bounded max-heap on (D[o + p], key(I[o + p])) ----

function heapAbove(D: Float64Array, I: Int32Array, a: number, b: number, self: number): boolean {
  // Whether entry a sorts after entry b (a is "greater").
  const da = D[a];
  const db = D[b];
  if (da !== db) return da > db;
  const ia = I[a] === self ? -1 : I[a];
  const ib = I[b] === self ? -1 : I[b];
  return ia > ib;
}

function siftDown(D: Float64Array, I: Int32Array, o: number, size: number, p: number, self: number): void {
  for (;;) {
    const l = 2 * p + 1;
    if (l >= size) return;
    let c = l;
    if (l + 1 < size && heapAbove(D, I, o + l + 1, o + l, self)) c = l + 1;
    if (!heapAbove(D, I, o + c, o + p, self)) return;
    const td = D[o + c];
    D[o + c] = D[o + p];
    D[o + p] = td;
    const ti = I[o + c];
    I[o + c] = I[o + p];
    I[o + p] = ti;
    p = c;
  }
}

/**
 * Offers candidate (dist, idx) to the heap of `size` entries (capacity k) at offset o;
 * returns the new size.
 */
export function heapOffer(D: Float64Array, I: Int32Array, o: number, size: number, k: number, dist: number, idx: number, self: number): number {
  if (size < k) {
    let p = size;
    D[o + p] = dist;
    I[o + p] = idx;
    while (p > 0) {
      const q = (p - 1) >> 1;
      if (!heapAbove(D, I, o + p, o + q, self)) break;
      const td = D[o + q];
      D[o + q] = D[o + p];
      D[o + p] = td;
      const ti = I[o + q];
      I[o + q] = I[o + p];
      I[o + p] = ti;
      p = q;
    }
    return size + 1;
  }
  const top = D[o];
  if (dist > top) return size;
  if (dist === top) {
    const kt = I[o] === self ? -1 : I[o];
    const kn = idx === self ? -1 : idx;
    if (kn >= kt) return size;
  }
  D[o] = dist;
  I[o] = idx;
  siftDown(D, I, o, size, 0, self);
  return size;
}

/** Sorts a full heap ascending in place (heap sort). */
export function heapSort(D: Float64Array, I: Int32Array, o: number, size: number, self: number): void {
  for (let end = size - 1; end > 0; end--) {
    const td = D[o];
    D[o] = D[o + end];
    D[o + end] = td;
    const ti = I[o];
    I[o] = I[o + end];
    I[o + end] = ti;
    siftDown(D, I, o, end, 0, self);
  }
}

/**
 * The k nearest rows of the tree to point q (at qo): reduced distances and indices, sorted
 * ascending, into outD / outI at offset o. `self` is the query's own row index (−1 for an
 * outside point). `stackN`/`stackR` need 2·nLevels + 2 entries.
 */
export function treeKnn(
  T: TreeArrays, d: number, q: Float64Array, qo: number, k: number, self: number, l1: boolean,
  outD: Float64Array, outI: Int32Array, o: number, stackN: Int32Array, stackR: Float64Array,
): void {
  const { ordered, index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = T;
  let size = 0;
  stackN[0] = 0;
  stackR[0] = boxMinRdist(nodeLower, nodeUpper, 0, d, q, qo, l1);
  let sp = 1;
  while (sp > 0) {
    sp--;
    const node = stackN[sp];
    const rd = stackR[sp];
    if (size === k && rd > outD[o]) continue;
    if (nodeIsLeaf[node] === 1) {
      const e = nodeEnd[node];
      for (let t = nodeStart[node]; t < e; t++) {
        const po = t * d;
        let s = 0;
        if (l1) for (let j = 0; j < d; j++) s += Math.abs(ordered[po + j] - q[qo + j]);
        else {
          for (let j = 0; j < d; j++) {
            const x = ordered[po + j] - q[qo + j];
            s += x * x;
          }
        }
        if (size < k || s <= outD[o]) size = heapOffer(outD, outI, o, size, k, s, index[t], self);
      }
      continue;
    }
    const a = 2 * node + 1;
    const ra = boxMinRdist(nodeLower, nodeUpper, a, d, q, qo, l1);
    const rb = boxMinRdist(nodeLower, nodeUpper, a + 1, d, q, qo, l1);
    // The nearer child goes on top so it is searched first.
    if (ra <= rb) {
      stackN[sp] = a + 1;
      stackR[sp++] = rb;
      stackN[sp] = a;
      stackR[sp++] = ra;
    } else {
      stackN[sp] = a;
      stackR[sp++] = ra;
      stackN[sp] = a + 1;
      stackR[sp++] = rb;
    }
  }
  heapSort(outD, outI, o, size, self);
}

/**
 * The number of tree rows within reduced radius r (<=) of q, or the sum of their weights
 * (`weights` in tree order, i.e. weights[t] belongs to row index[t]) when given. Nodes whose
 * whole box lies within r are added without distance checks.
 */
export function treeRadiusCount(
  T: TreeArrays, d: number, q: Float64Array, qo: number, r: number, l1: boolean, weights: Float64Array | null, stackN: Int32Array,
): number {
  const { ordered, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = T;
  let total = 0;
  let sp = 0;
  stackN[sp++] = 0;
  while (sp > 0) {
    const node = stackN[--sp];
    if (boxMinRdist(nodeLower, nodeUpper, node, d, q, qo, l1) > r) continue;
    const s0 = nodeStart[node];
    const e = nodeEnd[node];
    if (boxMaxRdist(nodeLower, nodeUpper, node, d, q, qo, l1) <= r) {
      if (weights === null) total += e - s0;
      else for (let t = s0; t < e; t++) total += weights[t];
      continue;
    }
    if (nodeIsLeaf[node] === 1) {
      for (let t = s0; t < e; t++) {
        const po = t * d;
        let s = 0;
        if (l1) for (let j = 0; j < d; j++) s += Math.abs(ordered[po + j] - q[qo + j]);
        else {
          for (let j = 0; j < d; j++) {
            const x = ordered[po + j] - q[qo + j];
            s += x * x;
          }
        }
        if (s <= r) total += weights === null ? 1 : weights[t];
      }
      continue;
    }
    stackN[sp++] = 2 * node + 2;
    stackN[sp++] = 2 * node + 1;
  }
  return total;
}

/**
 * Writes the indices of the tree rows within reduced radius r (<=) of q into out (from 0;
 * `out` must hold n entries, or use treeRadiusCollectGrow) and returns their number. Order:
 * the tree's; sort if needed.
 */
export function treeRadiusCollect(T: TreeArrays, d: number, q: Float64Array, qo: number, r: number, l1: boolean, out: Int32Array, stackN: Int32Array): number {
  const { ordered, index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = T;
  let m = 0;
  let sp = 0;
  stackN[sp++] = 0;
  while (sp > 0) {
    const node = stackN[--sp];
    if (boxMinRdist(nodeLower, nodeUpper, node, d, q, qo, l1) > r) continue;
    const s0 = nodeStart[node];
    const e = nodeEnd[node];
    if (boxMaxRdist(nodeLower, nodeUpper, node, d, q, qo, l1) <= r) {
      for (let t = s0; t < e; t++) out[m++] = index[t];
      continue;
    }
    if (nodeIsLeaf[node] === 1) {
      for (let t = s0; t < e; t++) {
        const po = t * d;
        let s = 0;
        if (l1) for (let j = 0; j < d; j++) s += Math.abs(ordered[po + j] - q[qo + j]);
        else {
          for (let j = 0; j < d; j++) {
            const x = ordered[po + j] - q[qo + j];
            s += x * x;
          }
        }
        if (s <= r) out[m++] = index[t];
      }
      continue;
    }
    stackN[sp++] = 2 * node + 2;
    stackN[sp++] = 2 * node + 1;
  }
  return m;
}

/** Rows per tile of the brute-force scans: a tile of rows stays in cache while a block of queries passes over it. */
export const BRUTE_TILE = 512;

/**
 * Brute-force k nearest of m queries (rows qa..qb−1 of Q, row-major with d columns) among the
 * n rows of X: reduced distances into outD/outI at row offsets i·k (i = query row), sorted.
 * selfRows: whether query row i is row i of X (its own first neighbour).
 * `sizes` needs qb − qa entries.
 */
export function bruteKnnBlock(
  X: Float64Array, n: number, d: number, metric: number, Q: Float64Array, qa: number, qb: number, k: number, selfRows: boolean,
  outD: Float64Array, outI: Int32Array, sizes: Int32Array,
): void {
  sizes.fill(0, 0, qb - qa);
  for (let j0 = 0; j0 < n; j0 += BRUTE_TILE) {
    const j1 = Math.min(n, j0 + BRUTE_TILE);
    for (let i = qa; i < qb; i++) {
      const qo = i * d;
      const o = i * k;
      const self = selfRows ? i : -1;
      let size = sizes[i - qa];
      for (let j = j0; j < j1; j++) {
        let s: number;
        if (metric === COSINE) s = j === self ? 0 : cosineRdist(Q, qo, X, j * d, d);
        else s = rowRdist(Q, qo, X, j * d, d, metric);
        if (size < k || s <= outD[o]) size = heapOffer(outD, outI, o, size, k, s, j, self);
      }
      sizes[i - qa] = size;
    }
  }
  for (let i = qa; i < qb; i++) heapSort(outD, outI, i * k, sizes[i - qa], selfRows ? i : -1);
}

/**
 * Brute-force number (or weight sum) of rows of X within reduced radius r of each query row
 * qa..qb−1 of X itself, into counts[i].
 */
export function bruteRadiusCountBlock(
  X: Float64Array, n: number, d: number, metric: number, qa: number, qb: number, r: number, weights: Float64Array | null, counts: Float64Array,
): void {
  counts.fill(0, qa, qb);
  for (let j0 = 0; j0 < n; j0 += BRUTE_TILE) {
    const j1 = Math.min(n, j0 + BRUTE_TILE);
    for (let i = qa; i < qb; i++) {
      const qo = i * d;
      let c = 0;
      for (let j = j0; j < j1; j++) {
        let s: number;
        if (metric === COSINE) s = j === i ? 0 : cosineRdist(X, qo, X, j * d, d);
        else s = rowRdist(X, qo, X, j * d, d, metric);
        if (s <= r) c += weights === null ? 1 : weights[j];
      }
      counts[i] += c;
    }
  }
}
