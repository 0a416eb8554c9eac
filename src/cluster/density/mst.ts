/**
 * Minimum spanning trees of mutual reachability, weight(p, q) = max(core_p, core_q, d(p, q) / alpha):
 *
 * - boruvkaMST: Borůvka's algorithm on a KD-tree (O(n log n)-ish, O(n) memory beyond the
 *   tree): each round every component takes its cheapest edge to another component, found
 *   by one pruned tree search per point (hdbscan-kernels.ts), split across the worker pool;
 *   components at least halve each round. Edges are compared in the total order (weight,
 *   smaller end, larger end) over the points' positions in the tree, so the tree is the same
 *   whatever the number of workers, and Borůvka cannot close a cycle on tied weights.
 * - primMST: Prim's algorithm on data rows or a distance matrix (O(n²) time, O(n) memory),
 *   the loop of scikit-learn's mst_from_data_matrix (same choices on ties), for metrics or
 *   dimensions where a tree does not help, and for precomputed distances.
 *
 * Both return the edges (from, to, weight) in the order scikit-learn's Prim started at
 * point 0 adds them, `from` the end already in the tree: the single-linkage tree built by
 * sorting them stably by weight then follows scikit-learn's, tied merges and left and right
 * children included (up to which of several equally minimal trees is found).
 */
import { AbortError } from "../../core/errors.js";
import { allocF64, allocI32, type ParallelExecutor, type TypedArray } from "../../core/parallel.js";
import { type BoruvkaParams, type BoruvkaShared, hdbscanBoruvkaKernel } from "./hdbscan-kernels.js";

export interface MSTEdges {
  from: Int32Array;
  to: Int32Array;
  weight: Float64Array;
}

/** The KD-tree fields Borůvka reads (src/neighbors' KDTree has them). */
export interface TreeLayout {
  readonly n: number;
  readonly d: number;
  readonly data: Float64Array;
  readonly index: Int32Array;
  readonly ordered?: Float64Array;
  readonly nNodes: number;
  readonly nLevels: number;
  readonly nodeStart: Int32Array;
  readonly nodeEnd: Int32Array;
  readonly nodeIsLeaf: Uint8Array;
  readonly nodeLower: Float64Array;
  readonly nodeUpper: Float64Array;
}

export interface MSTProgress {
  /** Called between rounds (Borůvka) or every so many steps (Prim) with components merged so far of n − 1. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export type DistanceCode = 0 | 1 | 2;
/** 0 euclidean, 1 manhattan, 2 cosine (1 − u·v on rows already scaled to unit length). */
export const METRIC_CODE = { euclidean: 0, manhattan: 1, cosine: 2 } as const;

const BORUVKA_CHUNK = 2048;

function aborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError("HDBSCAN was aborted");
}

/**
 * Borůvka on `tree` (euclidean or manhattan box distances: `metric` 0 or 1). `coreByRow`:
 * core distance of every row. `knn` (optional; rows' nearest neighbours, row-major n × k,
 * as kNearestAll returns them) seeds the first round's bounds.
 */
export async function boruvkaMST(
  tree: TreeLayout, coreByRow: Float64Array, alpha: number, metric: 0 | 1, parallel: ParallelExecutor | null,
  progress: MSTProgress = {}, knn?: { indices: Int32Array; distances: Float64Array; k: number },
): Promise<MSTEdges> {
  const { n, d, nNodes, nLevels, index, nodeStart, nodeEnd, nodeIsLeaf } = tree;
  const shared = parallel !== null;
  const pos = new Int32Array(n);
  for (let t = 0; t < n; t++) pos[index[t]] = t;
  const X = shareable(tree.ordered ?? orderRows(tree.data, index, n, d), shared);
  const core = allocF64(n, shared);
  for (let t = 0; t < n; t++) core[t] = coreByRow[index[t]];
  const comp = allocI32(n, shared);
  for (let t = 0; t < n; t++) comp[t] = t;
  const nodeComp = allocI32(nNodes, shared);
  const nodeMinCore = allocF64(nNodes, shared);
  for (let node = nNodes - 1; node >= 0; node--) {
    if (nodeIsLeaf[node]) {
      let m = Infinity;
      for (let t = nodeStart[node]; t < nodeEnd[node]; t++) if (core[t] < m) m = core[t];
      nodeMinCore[node] = m;
    } else nodeMinCore[node] = Math.min(nodeMinCore[2 * node + 1], nodeMinCore[2 * node + 2]);
  }
  const compBound = allocF64(n, shared);
  const bestW = allocF64(n, shared);
  const bestQ = allocI32(n, shared);
  const S: BoruvkaShared = {
    X, core, comp, nodeStart: shareable(nodeStart, shared), nodeEnd: shareable(nodeEnd, shared), nodeIsLeaf: shareable(nodeIsLeaf, shared),
    nodeLower: shareable(tree.nodeLower, shared), nodeUpper: shareable(tree.nodeUpper, shared), nodeComp, nodeMinCore, compBound, bestW, bestQ,
  };
  const nChunks = Math.ceil(n / BORUVKA_CHUNK);
  const P: BoruvkaParams = { n, d, alpha, metric, chunk: BORUVKA_CHUNK, nLevels };

  // Union-find over positions; the MST's edges as positions.
  const uf = new Int32Array(n);
  for (let t = 0; t < n; t++) uf[t] = t;
  const find = (x: number): number => {
    let r = x;
    while (uf[r] !== r) r = uf[r];
    while (uf[x] !== r) {
      const next = uf[x];
      uf[x] = r;
      x = next;
    }
    return r;
  };
  const ea = new Int32Array(n - 1);
  const eb = new Int32Array(n - 1);
  const ew = new Float64Array(n - 1);
  let edges = 0;
  const cw = new Float64Array(n);
  const clo = new Int32Array(n);
  const chi = new Int32Array(n);
  let first = true;
  while (edges < n - 1) {
    aborted(progress.signal);
    // Which nodes lie in one component.
    for (let node = nNodes - 1; node >= 0; node--) {
      if (nodeIsLeaf[node]) {
        const s = nodeStart[node];
        const e = nodeEnd[node];
        let c = e > s ? comp[s] : -1;
        for (let t = s + 1; t < e && c >= 0; t++) if (comp[t] !== c) c = -1;
        nodeComp[node] = c;
      } else {
        const a = nodeComp[2 * node + 1];
        nodeComp[node] = a >= 0 && a === nodeComp[2 * node + 2] ? a : -1;
      }
    }
    compBound.fill(Infinity);
    if (first && knn) {
      // Round one: every point is its own component; its nearest neighbours bound its cheapest edge.
      const { indices, distances, k } = knn;
      for (let i = 0; i < n; i++) {
        const p = pos[i];
        let b = Infinity;
        for (let j = 0; j < k; j++) {
          const q = indices[i * k + j];
          if (q === i || q < 0) continue;
          const w = Math.max(core[p], coreByRow[q], distances[i * k + j] / alpha);
          if (w < b) b = w;
        }
        compBound[p] = b;
      }
    }
    first = false;
    if (parallel) await parallel.run("hdbscanBoruvka", S as unknown as Record<string, TypedArray>, P, nChunks);
    else hdbscanBoruvkaKernel(S, P, 0, nChunks);
    // Each component's cheapest edge, in the order (weight, smaller end, larger end).
    cw.fill(Infinity);
    for (let p = 0; p < n; p++) {
      const w = bestW[p];
      if (w === Infinity) continue;
      const q = bestQ[p];
      const c = comp[p];
      const lo = p < q ? p : q;
      const hi = p < q ? q : p;
      if (w < cw[c] || (w === cw[c] && (lo < clo[c] || (lo === clo[c] && hi < chi[c])))) {
        cw[c] = w;
        clo[c] = lo;
        chi[c] = hi;
      }
    }
    const before = edges;
    for (let c = 0; c < n; c++) {
      if (comp[c] !== c || cw[c] === Infinity) continue;
      const a = find(clo[c]);
      const b = find(chi[c]);
      if (a === b) continue;
      uf[a] = b;
      ea[edges] = clo[c];
      eb[edges] = chi[c];
      ew[edges] = cw[c];
      edges++;
    }
    if (edges === before) throw new Error("Borůvka made no progress (internal error)");
    for (let t = 0; t < n; t++) comp[t] = find(t);
    progress.onProgress?.(edges, n - 1);
    if (parallel === null && edges < n - 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  for (let e = 0; e < n - 1; e++) {
    ea[e] = index[ea[e]];
    eb[e] = index[eb[e]];
  }
  return primOrder({ from: ea, to: eb, weight: ew }, n, coreByRow, alpha, knn);
}

function orderRows(data: Float64Array, index: Int32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) out[t * d + j] = data[index[t] * d + j];
  return out;
}

/** The array itself when it already is where it must be, else a copy in shared memory. */
function shareable<T extends TypedArray>(a: T, shared: boolean): T {
  if (!shared || (typeof SharedArrayBuffer !== "undefined" && a.buffer instanceof SharedArrayBuffer)) return a;
  const Ctor = a.constructor as new (b: ArrayBufferLike) => T;
  const copy = new Ctor(new SharedArrayBuffer(a.byteLength));
  (copy as unknown as { set(x: T): void }).set(a);
  return copy;
}

/** Extra candidate edges for primOrder: every row to its k nearest neighbours (row-major n × k). */
export interface NeighborEdges {
  indices: Int32Array;
  distances: Float64Array;
  k: number;
}

/**
 * scikit-learn's Prim (mst_from_data_matrix, started at point 0) replayed on a sparse graph:
 * the edges of a minimum spanning tree plus, when given, the edges from every row to its k
 * nearest neighbours, weighted max(core_a, core_b, d / alpha). The graph holds a minimum
 * spanning tree, so Prim on it finds one; and since tied weights almost always come from
 * core distances (the edges from a point to the neighbours inside its core distance, all
 * weighing that core distance), the neighbour edges let Prim choose among tied edges as
 * scikit-learn's does on the full graph: the next point is the one of smallest weight, then
 * smallest index; its edge comes from the first tree point that reached that weight. The
 * edges come out in the order they are added, each from the tree point to the new one.
 * scikit-learn sorts its Prim edges by weight with numpy's quicksort, which in practice keeps
 * tied edges in this order; tied merges decide how the condensed tree splits, so the
 * single-linkage tree sorts these stably.
 */
export function primOrder(mst: MSTEdges, n: number, core: Float64Array, alpha: number, knn?: NeighborEdges): MSTEdges {
  const m = n - 1;
  const k = knn ? knn.k : 0;
  // Adjacency (CSR) of the MST's and the neighbours' edges, both directions.
  const deg = new Int32Array(n + 1);
  for (let i = 0; i < m; i++) {
    deg[mst.from[i] + 1]++;
    deg[mst.to[i] + 1]++;
  }
  if (knn) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const q = knn.indices[i * k + j];
        if (q === i || q < 0) continue;
        deg[i + 1]++;
        deg[q + 1]++;
      }
    }
  }
  for (let i = 0; i < n; i++) deg[i + 1] += deg[i];
  const total = deg[n];
  const adjNode = new Int32Array(total);
  const adjW = new Float64Array(total);
  const fill = deg.slice(0, n);
  const add = (a: number, b: number, w: number): void => {
    adjNode[fill[a]] = b;
    adjW[fill[a]++] = w;
    adjNode[fill[b]] = a;
    adjW[fill[b]++] = w;
  };
  for (let i = 0; i < m; i++) add(mst.from[i], mst.to[i], mst.weight[i]);
  if (knn) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const q = knn.indices[i * k + j];
        if (q === i || q < 0) continue;
        let w = knn.distances[i * k + j] / alpha;
        if (core[i] > w) w = core[i];
        if (core[q] > w) w = core[q];
        add(i, q, w);
      }
    }
  }
  // Lazy binary heap of (weight, point, source): pushed when a point's key strictly drops.
  const cap = total + 1;
  const hW = new Float64Array(cap);
  const hU = new Int32Array(cap);
  const hS = new Int32Array(cap);
  let size = 0;
  const less = (a: number, b: number): boolean => hW[a] < hW[b] || (hW[a] === hW[b] && hU[a] < hU[b]);
  const swap = (a: number, b: number): void => {
    const tw = hW[a];
    hW[a] = hW[b];
    hW[b] = tw;
    const tu = hU[a];
    hU[a] = hU[b];
    hU[b] = tu;
    const ts = hS[a];
    hS[a] = hS[b];
    hS[b] = ts;
  };
  const push = (w: number, u: number, src: number): void => {
    let i = size++;
    hW[i] = w;
    hU[i] = u;
    hS[i] = src;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = (): void => {
    size--;
    if (size === 0) return;
    hW[0] = hW[size];
    hU[0] = hU[size];
    hS[0] = hS[size];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && less(r, l) ? r : l;
      if (!less(c, i)) break;
      swap(c, i);
      i = c;
    }
  };
  const key = new Float64Array(n).fill(Infinity);
  const inTree = new Uint8Array(n);
  const from = new Int32Array(m);
  const to = new Int32Array(m);
  const weight = new Float64Array(m);
  const visit = (v: number): void => {
    inTree[v] = 1;
    for (let t = deg[v]; t < deg[v + 1]; t++) {
      const u = adjNode[t];
      const w = adjW[t];
      if (!inTree[u] && w < key[u]) {
        key[u] = w;
        push(w, u, v);
      }
    }
  };
  visit(0);
  let added = 0;
  while (size > 0) {
    const u = hU[0];
    const w = hW[0];
    const src = hS[0];
    pop();
    if (inTree[u] || w !== key[u]) continue;
    from[added] = src;
    to[added] = u;
    weight[added] = w;
    added++;
    visit(u);
  }
  if (added !== m) throw new Error("the spanning tree is not connected (internal error)");
  return { from, to, weight };
}

/**
 * Prim's algorithm from point 0 as scikit-learn's mst_from_data_matrix: rows of X (n × d,
 * metric 0 euclidean, 1 manhattan, 2 cosine on unit rows), weight max(core_i, core_j,
 * d(i, j) / alpha). Ties go to the first point in row order, as there.
 */
export async function primMST(
  X: Float64Array, n: number, d: number, metric: DistanceCode, core: Float64Array, alpha: number, progress: MSTProgress = {}, chain = false,
): Promise<MSTEdges> {
  return primGeneric(n, core, progress, chain, (i, j) => {
    const io = i * d;
    const jo = j * d;
    let s = 0;
    if (metric === 1) {
      for (let k = 0; k < d; k++) s += Math.abs(X[io + k] - X[jo + k]);
    } else if (metric === 2) {
      for (let k = 0; k < d; k++) s += X[io + k] * X[jo + k];
      s = Math.min(2, Math.max(0, 1 - s));
    } else {
      for (let k = 0; k < d; k++) {
        const t = X[io + k] - X[jo + k];
        s += t * t;
      }
      s = Math.sqrt(s);
    }
    return s / alpha;
  });
}

/**
 * Prim on an n × n matrix of distances (precomputed), weight max(core_i, core_j, D[i][j] / alpha),
 * recording edges as scikit-learn's brute-force path does (see primGeneric's `chain`).
 */
export async function primMatrix(D: Float64Array, n: number, core: Float64Array, alpha: number, progress: MSTProgress = {}): Promise<MSTEdges> {
  return primGeneric(n, core, progress, true, (i, j) => D[i * n + j] / alpha);
}

/**
 * `chain`: record each step's edge from the point added just before (not from the tree point
 * the new one is nearest to), as scikit-learn's mst_from_mutual_reachability (its brute-force
 * path: cosine, precomputed) does; the weights are the same, and so are the single-linkage
 * tree's heights, but tied merges pair differently, so this is kept to match its clusters.
 */
async function primGeneric(n: number, core: Float64Array, progress: MSTProgress, chain: boolean, dist: (i: number, j: number) => number): Promise<MSTEdges> {
  const inTree = new Uint8Array(n);
  const minReach = new Float64Array(n).fill(Infinity);
  const source = new Int32Array(n).fill(1);
  const from = new Int32Array(n - 1);
  const to = new Int32Array(n - 1);
  const weight = new Float64Array(n - 1);
  let current = 0;
  let last = Date.now();
  for (let i = 0; i < n - 1; i++) {
    inTree[current] = 1;
    const cc = core[current];
    let best = Number.MAX_VALUE;
    let src = 0;
    let next = 0;
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const r = minReach[j];
      let w = dist(current, j);
      const cj = core[j];
      if (cc > w) w = cc;
      if (cj > w) w = cj;
      if (w > r) {
        if (r < best) {
          best = r;
          src = source[j];
          next = j;
        }
        continue;
      }
      if (w < r) {
        minReach[j] = w;
        source[j] = current;
        if (w < best) {
          best = w;
          src = current;
          next = j;
        }
      } else if (r < best) {
        best = r;
        src = source[j];
        next = j;
      }
    }
    from[i] = chain ? current : src;
    to[i] = next;
    weight[i] = best;
    current = next;
    if ((i & 255) === 255) {
      aborted(progress.signal);
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        progress.onProgress?.(i + 1, n - 1);
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
    }
  }
  progress.onProgress?.(n - 1, n - 1);
  return { from, to, weight };
}
