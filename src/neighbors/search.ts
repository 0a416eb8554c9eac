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

/** The tree's reduced distance between row a of A and row b of B (offsets in values): squared euclidean or L1, summed column by column in order, as the tree's leaf scans do. */
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

// ---- bounded max-heap on (D[o + p], I[o + p]): larger distance, or equal distance and larger index, is "above" ----

function siftDown(D: Float64Array, I: Int32Array, o: number, size: number, p: number): void {
  const dp = D[o + p];
  const ip = I[o + p];
  for (;;) {
    let c = 2 * p + 1;
    if (c >= size) break;
    let dc = D[o + c];
    let ic = I[o + c];
    if (c + 1 < size) {
      const d2 = D[o + c + 1];
      const i2 = I[o + c + 1];
      if (d2 > dc || (d2 === dc && i2 > ic)) {
        c++;
        dc = d2;
        ic = i2;
      }
    }
    if (dc < dp || (dc === dp && ic < ip)) break;
    D[o + p] = dc;
    I[o + p] = ic;
    p = c;
  }
  D[o + p] = dp;
  I[o + p] = ip;
}

/**
 * Offers candidate (dist, idx) to the heap of `size` entries (capacity k) at offset o;
 * returns the new size.
 */
export function heapOffer(D: Float64Array, I: Int32Array, o: number, size: number, k: number, dist: number, idx: number): number {
  if (size < k) {
    let p = size;
    while (p > 0) {
      const q = (p - 1) >> 1;
      const dq = D[o + q];
      if (dist > dq || (dist === dq && idx > I[o + q])) {
        D[o + p] = dq;
        I[o + p] = I[o + q];
        p = q;
      } else break;
    }
    D[o + p] = dist;
    I[o + p] = idx;
    return size + 1;
  }
  const top = D[o];
  if (dist > top || (dist === top && idx >= I[o])) return size;
  D[o] = dist;
  I[o] = idx;
  siftDown(D, I, o, size, 0);
  return size;
}

/** Sorts a heap of `size` entries ascending in place (heap sort). */
export function heapSort(D: Float64Array, I: Int32Array, o: number, size: number): void {
  for (let end = size - 1; end > 0; end--) {
    const td = D[o];
    D[o] = D[o + end];
    D[o + end] = td;
    const ti = I[o];
    I[o] = I[o + end];
    I[o + end] = ti;
    siftDown(D, I, o, end, 0);
  }
}

/**
 * The k nearest rows of the tree to point q (at qo): reduced distances and indices, sorted
 * ascending (ties to the lower index), into outD / outI at offset o. With self >= 0 (the
 * query is tree row `self`) that row comes first at distance 0 and the k − 1 others follow.
 * `stackN`/`stackR` need 2·nLevels + 2 entries.
 *
 * `bound` (reduced; Infinity if unknown) is a distance within which the query is known to
 * have k rows other than itself: rows and nodes beyond it are never looked at. If fewer
 * than k are found within it (rounding), the search is run again without it, so the result
 * is exact either way. Returns the reduced distance of the k-th row.
 */
export function treeKnn(
  T: TreeArrays, d: number, q: Float64Array, qo: number, k: number, self: number, l1: boolean,
  outD: Float64Array, outI: Int32Array, o: number, stackN: Int32Array, stackR: Float64Array, bound = Infinity,
): number {
  const { ordered, index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = T;
  if (self >= 0) {
    outD[o] = 0;
    outI[o] = self;
    o++;
    k--;
    if (k === 0) return 0;
  }
  let size = 0;
  let worst = bound;
  stackN[0] = 0;
  stackR[0] = 0;
  let sp = 1;
  while (sp > 0) {
    sp--;
    const node = stackN[sp];
    if (stackR[sp] > worst) continue;
    if (nodeIsLeaf[node] === 1) {
      const e = nodeEnd[node];
      if (d === 2 && !l1) {
        const q0 = q[qo];
        const q1 = q[qo + 1];
        for (let t = nodeStart[node]; t < e; t++) {
          const x = ordered[2 * t] - q0;
          const y = ordered[2 * t + 1] - q1;
          const s = x * x + y * y;
          if (s <= worst) {
            const idx = index[t];
            if (idx === self) continue;
            size = heapOffer(outD, outI, o, size, k, s, idx);
            if (size === k) worst = outD[o];
          }
        }
        continue;
      }
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
        if (s <= worst) {
          const idx = index[t];
          if (idx === self) continue;
          size = heapOffer(outD, outI, o, size, k, s, idx);
          if (size === k) worst = outD[o];
        }
      }
      continue;
    }
    const a = 2 * node + 1;
    const ra = boxMinRdist(nodeLower, nodeUpper, a, d, q, qo, l1);
    const rb = boxMinRdist(nodeLower, nodeUpper, a + 1, d, q, qo, l1);
    // The nearer child goes on top so it is searched first.
    if (ra <= rb) {
      if (rb <= worst) {
        stackN[sp] = a + 1;
        stackR[sp++] = rb;
      }
      stackN[sp] = a;
      stackR[sp++] = ra;
    } else {
      if (ra <= worst) {
        stackN[sp] = a;
        stackR[sp++] = ra;
      }
      stackN[sp] = a + 1;
      stackR[sp++] = rb;
    }
  }
  if (size < k && bound !== Infinity) return treeKnn(T, d, q, qo, self >= 0 ? k + 1 : k, self, l1, outD, outI, self >= 0 ? o - 1 : o, stackN, stackR);
  heapSort(outD, outI, o, size);
  return outD[o + k - 1];
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
      if (d === 2 && !l1 && weights === null) {
        // The common case of two columns, unrolled.
        const q0 = q[qo];
        const q1 = q[qo + 1];
        for (let t = s0; t < e; t++) {
          const x = ordered[2 * t] - q0;
          const y = ordered[2 * t + 1] - q1;
          if (x * x + y * y <= r) total++;
        }
        continue;
      }
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
 * Writes the indices of the tree rows within reduced radius r (<=) of q into out from
 * position `base` and returns their number. Writes past the end of `out` are dropped (typed
 * arrays ignore them) while the count goes on, so a caller can grow the buffer and search
 * again. Order: the tree's; sort if needed.
 */
export function treeRadiusCollect(
  T: TreeArrays, d: number, q: Float64Array, qo: number, r: number, l1: boolean, out: Int32Array, base: number, stackN: Int32Array,
): number {
  const { ordered, index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = T;
  let m = base;
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
      if (d === 2 && !l1) {
        const q0 = q[qo];
        const q1 = q[qo + 1];
        for (let t = s0; t < e; t++) {
          const x = ordered[2 * t] - q0;
          const y = ordered[2 * t + 1] - q1;
          if (x * x + y * y <= r) out[m++] = index[t];
        }
        continue;
      }
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
  return m - base;
}

/** Rows per tile of the brute-force scans: a tile of rows stays in cache while a block of queries passes over it. */
export const BRUTE_TILE = 512;

/** Squared norm of the d values of A at ao, summed column by column in order (the brute-force euclidean's norms). */
export function rowSqNorm(A: Float64Array, ao: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) s += A[ao + c] * A[ao + c];
  return s;
}

/**
 * The brute-force reduced distance of a query (Q at qo; squared norm nq for euclidean) to row
 * j of X. Every brute-force path uses this one formula, so counts, lists and k nearest agree:
 * - euclidean: (‖q‖² + ‖x‖²) − 2·q·x floored at 0, the way scikit-learn's brute force computes
 *   it, with the dot product summed column by column in order (norms[j] = rowSqNorm of row j);
 * - cosine (unit rows): 1 − q·x clipped to [0, 2], scikit-learn's cosine_distances;
 * - manhattan: four partial sums over the columns (c mod 4), then (s0 + s1) + (s2 + s3).
 */
export function bruteRdist(X: Float64Array, j: number, d: number, metric: number, norms: Float64Array | null, Q: Float64Array, qo: number, nq: number): number {
  const xo = j * d;
  if (metric === MANHATTAN) {
    const d4 = d & ~3;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let c = 0;
    for (; c < d4; c += 4) {
      s0 += Math.abs(X[xo + c] - Q[qo + c]);
      s1 += Math.abs(X[xo + c + 1] - Q[qo + c + 1]);
      s2 += Math.abs(X[xo + c + 2] - Q[qo + c + 2]);
      s3 += Math.abs(X[xo + c + 3] - Q[qo + c + 3]);
    }
    for (; c < d; c++) s0 += Math.abs(X[xo + c] - Q[qo + c]);
    return s0 + s1 + (s2 + s3);
  }
  let dot = 0;
  for (let c = 0; c < d; c++) dot += X[xo + c] * Q[qo + c];
  return fromDot(metric, dot, nq, metric === COSINE ? 0 : norms![j]);
}

function fromDot(metric: number, dot: number, nq: number, nx: number): number {
  if (metric === COSINE) {
    const r = 1 - dot;
    return r < 0 ? 0 : r > 2 ? 2 : r;
  }
  const r = nq + nx - 2 * dot;
  return r > 0 ? r : 0;
}

/** bruteRdist of one query to rows j0..j1−1 of X, into out[j − j0]. */
export function tileRdist(
  X: Float64Array, j0: number, j1: number, d: number, metric: number, norms: Float64Array | null, Q: Float64Array, qo: number, nq: number, out: Float64Array,
): void {
  for (let j = j0; j < j1; j++) out[j - j0] = bruteRdist(X, j, d, metric, norms, Q, qo, nq);
}

/**
 * tileRdist of two queries at once (offsets qa, qb; norms na, nb), into outA and outB. For
 * euclidean and cosine, four rows of X are taken together: each value of X and of the two
 * queries is loaded once for eight multiply-adds (the results are the same as tileRdist's:
 * every dot product is still summed column by column in order).
 */
export function tileRdist2(
  X: Float64Array, j0: number, j1: number, d: number, metric: number, norms: Float64Array | null,
  Q: Float64Array, qa: number, qb: number, na: number, nb: number, outA: Float64Array, outB: Float64Array,
): void {
  if (metric === MANHATTAN) {
    tileRdist(X, j0, j1, d, metric, norms, Q, qa, na, outA);
    tileRdist(X, j0, j1, d, metric, norms, Q, qb, nb, outB);
    return;
  }
  const cos = metric === COSINE;
  let j = j0;
  for (; j + 3 < j1; j += 4) {
    const x0 = j * d;
    const x1 = x0 + d;
    const x2 = x1 + d;
    const x3 = x2 + d;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let c = 0; c < d; c++) {
      const u = Q[qa + c];
      const w = Q[qb + c];
      const v0 = X[x0 + c];
      const v1 = X[x1 + c];
      const v2 = X[x2 + c];
      const v3 = X[x3 + c];
      a0 += v0 * u;
      a1 += v1 * u;
      a2 += v2 * u;
      a3 += v3 * u;
      b0 += v0 * w;
      b1 += v1 * w;
      b2 += v2 * w;
      b3 += v3 * w;
    }
    const t = j - j0;
    const n0 = cos ? 0 : norms![j];
    const n1 = cos ? 0 : norms![j + 1];
    const n2 = cos ? 0 : norms![j + 2];
    const n3 = cos ? 0 : norms![j + 3];
    outA[t] = fromDot(metric, a0, na, n0);
    outA[t + 1] = fromDot(metric, a1, na, n1);
    outA[t + 2] = fromDot(metric, a2, na, n2);
    outA[t + 3] = fromDot(metric, a3, na, n3);
    outB[t] = fromDot(metric, b0, nb, n0);
    outB[t + 1] = fromDot(metric, b1, nb, n1);
    outB[t + 2] = fromDot(metric, b2, nb, n2);
    outB[t + 3] = fromDot(metric, b3, nb, n3);
  }
  for (; j < j1; j++) {
    outA[j - j0] = bruteRdist(X, j, d, metric, norms, Q, qa, na);
    outB[j - j0] = bruteRdist(X, j, d, metric, norms, Q, qb, nb);
  }
}

/**
 * Brute-force k nearest of m queries (rows qa..qb−1 of Q, row-major with d columns; squared
 * norms qNorms for euclidean) among the n rows of X (norms `norms`): reduced distances into
 * outD/outI at row offsets i·k (i = query row), sorted, ties to the lower index. selfRows:
 * query row i is row i of X, which then comes first at distance 0. Queries go two at a time.
 */
export function bruteKnnBlock(
  X: Float64Array, n: number, d: number, metric: number, norms: Float64Array | null, Q: Float64Array, qNorms: Float64Array | null,
  qa: number, qb: number, k: number, selfRows: boolean, outD: Float64Array, outI: Int32Array,
): void {
  const s0 = selfRows ? 1 : 0;
  const kk = k - s0;
  for (let i = qa; i < qb; i++) {
    if (selfRows) {
      outD[i * k] = 0;
      outI[i * k] = i;
    }
  }
  if (kk === 0) return;
  const distA = new Float64Array(BRUTE_TILE);
  const distB = new Float64Array(BRUTE_TILE);
  const sizes = new Int32Array(qb - qa);
  for (let j0 = 0; j0 < n; j0 += BRUTE_TILE) {
    const j1 = Math.min(n, j0 + BRUTE_TILE);
    for (let i = qa; i < qb; i += 2) {
      const i2 = i + 1 < qb ? i + 1 : i;
      tileRdist2(X, j0, j1, d, metric, norms, Q, i * d, i2 * d, qNorms ? qNorms[i] : 0, qNorms ? qNorms[i2] : 0, distA, distB);
      for (let h = 0; h < 2; h++) {
        const q = h === 0 ? i : i2;
        if (h === 1 && i2 === i) break;
        const dist = h === 0 ? distA : distB;
        const o = q * k + s0;
        let size = sizes[q - qa];
        let worst = size === kk ? outD[o] : Infinity;
        for (let j = j0; j < j1; j++) {
          const s = dist[j - j0];
          if (s <= worst) {
            if (selfRows && j === q) continue;
            size = heapOffer(outD, outI, o, size, kk, s, j);
            if (size === kk) worst = outD[o];
          }
        }
        sizes[q - qa] = size;
      }
    }
  }
  for (let i = qa; i < qb; i++) heapSort(outD, outI, i * k + s0, sizes[i - qa]);
}

/**
 * Brute-force number (or weight sum) of rows of X within reduced radius r of each query row
 * qa..qb−1 of X itself, into counts[i] (a row is at distance 0 from itself).
 */
export function bruteRadiusCountBlock(
  X: Float64Array, n: number, d: number, metric: number, norms: Float64Array | null, qa: number, qb: number, r: number,
  weights: Float64Array | null, counts: Float64Array,
): void {
  counts.fill(0, qa, qb);
  const distA = new Float64Array(BRUTE_TILE);
  const distB = new Float64Array(BRUTE_TILE);
  for (let j0 = 0; j0 < n; j0 += BRUTE_TILE) {
    const j1 = Math.min(n, j0 + BRUTE_TILE);
    for (let i = qa; i < qb; i += 2) {
      const i2 = i + 1 < qb ? i + 1 : i;
      tileRdist2(X, j0, j1, d, metric, norms, X, i * d, i2 * d, norms ? norms[i] : 0, norms ? norms[i2] : 0, distA, distB);
      for (let h = 0; h < 2; h++) {
        const q = h === 0 ? i : i2;
        if (h === 1 && i2 === i) break;
        const dist = h === 0 ? distA : distB;
        if (q >= j0 && q < j1) dist[q - j0] = 0;
        let c = 0;
        if (weights === null) {
          for (let j = j0; j < j1; j++) if (dist[j - j0] <= r) c++;
        } else {
          for (let j = j0; j < j1; j++) if (dist[j - j0] <= r) c += weights[j];
        }
        counts[q] += c;
      }
    }
  }
}
