/**
 * The agglomeration loops of hierarchical clustering on flat typed arrays:
 *
 * - nnChainMatrix: the nearest-neighbour chain on a condensed distance matrix with
 *   Lance–Williams updates (complete, average, weighted), as scipy's `nn_chain`.
 * - nnChainWard: the nearest-neighbour chain for Ward's linkage on centroids and sizes
 *   (O(n·d) memory, no distance matrix).
 * - genericCentroid: Müllner's generic algorithm (nearest-neighbour candidates, a heap of
 *   lower bounds) for the centroid and median linkages on centroids (O(n·d) memory).
 * - primSingle: single linkage by Prim's minimum spanning tree (O(n) memory).
 * - sortAndLabel: scipy's final step for the chain and the tree: merges sorted by height
 *   (stable), then renumbered (new cluster n + i, smaller id first).
 *
 * The nearest-neighbour scans over the active clusters are passed in (`scan`), so that the
 * caller can run them on worker threads; the scans return the smallest value and, among
 * equal values, the smallest cluster id, which makes every tie rule independent of the
 * order in which clusters are stored and of the number of workers.
 *
 * Raw linkage rows are (a, b, height, size) with a < b the slots (rows) that represent the
 * two clusters; the merged cluster takes slot b, as in scipy.
 */

import { linkageLwUpdateKernel, type LwUpdateParams, type LwUpdateShared } from "./linkage-scan.js";

/**
 * Called between merges and between the scans of a merge (with the number of merges done):
 * returns a promise to await (a pause for the event loop, a progress report) or null. It
 * should be cheap (a look at the clock), as calls can be as frequent as the scans.
 */
export type Pause = (merges: number) => Promise<void> | null;

/** Result of a scan: the smallest value and its cluster id. */
export interface ScanResult {
  v: number;
  id: number;
}

/** Condensed index offset of row i: D[i, j] (i < j) is at rowOffset(n, i) + j. */
export function rowOffset(n: number, i: number): number {
  return n * i - (i * (i + 1)) / 2 - i - 1;
}

/** Linkage codes of the Lance–Williams updates. */
export const LW_COMPLETE = 0;
export const LW_AVERAGE = 1;
export const LW_WEIGHTED = 2;

/**
 * The nearest-neighbour chain on a condensed distance matrix D (overwritten), scipy's
 * `nn_chain`: the nearest neighbour of the chain's top is the active cluster at the smallest
 * distance, the previous element of the chain when it is at that distance, else the lowest
 * slot among those at that distance. Writes the n − 1 raw merges into Z (unsorted).
 */
export async function nnChainMatrix(D: Float64Array, n: number, method: number, Z: Float64Array, pause: Pause): Promise<void> {
  const size = new Float64Array(n).fill(1);
  // Active clusters in increasing order: the matrix is read in address order (a row of the
  // condensed matrix forward, a column with falling strides). Offsets fit in int32: the
  // caller keeps n(n−1)/2 below 2^31.
  const active = new Int32Array(n);
  const off = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    active[i] = i;
    off[i] = rowOffset(n, i);
  }
  let m = n;
  const chain = new Int32Array(n);
  let len = 0;
  for (let k = 0; k < n - 1; k++) {
    const p = pause(k);
    if (p) await p;
    if (len === 0) {
      chain[0] = active[0];
      len = 1;
    }
    let x: number;
    let y: number;
    let dmin: number;
    for (;;) {
      x = chain[len - 1];
      const prev = len > 1 ? chain[len - 2] : -1;
      const ox = off[x];
      // In increasing order, a strict "<" keeps the lowest slot among equal distances.
      let bv = Infinity;
      let bi = -1;
      let t = 0;
      for (; t < m; t++) {
        const i = active[t];
        if (i >= x) break;
        const v = D[(off[i] + x) | 0];
        if (v < bv) {
          bv = v;
          bi = i;
        }
      }
      if (t < m && active[t] === x) t++;
      for (; t < m; t++) {
        const i = active[t];
        const v = D[(ox + i) | 0];
        if (v < bv) {
          bv = v;
          bi = i;
        }
      }
      if (prev >= 0) {
        const dp = prev < x ? D[(off[prev] + x) | 0] : D[(ox + prev) | 0];
        if (dp <= bv) {
          y = prev;
          dmin = dp;
          break;
        }
      }
      chain[len++] = bi;
      const q = pause(k);
      if (q) await q;
    }
    len -= 2;
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    const nx = size[x];
    const ny = size[y];
    Z[k * 4] = x;
    Z[k * 4 + 1] = y;
    Z[k * 4 + 2] = dmin;
    Z[k * 4 + 3] = nx + ny;
    size[x] = 0;
    size[y] = nx + ny;
    let px = 0;
    while (active[px] !== x) px++;
    active.copyWithin(px, px + 1, m);
    m--;
    const nxy = nx + ny;
    const ox = off[x];
    const oy = off[y];
    for (let t = 0; t < m; t++) {
      const i = active[t];
      if (i === y) continue;
      const ixo = i < x ? (off[i] + x) | 0 : (ox + i) | 0;
      const iyo = i < y ? (off[i] + y) | 0 : (oy + i) | 0;
      const dxi = D[ixo];
      const dyi = D[iyo];
      let v: number;
      if (method === LW_COMPLETE) v = dxi > dyi ? dxi : dyi;
      else if (method === LW_AVERAGE) v = (nx * dxi + ny * dyi) / nxy;
      else v = 0.5 * (dxi + dyi);
      D[iyo] = v;
    }
  }
}

/**
 * The same chain on the full square n × n distance matrix (twice the memory of the
 * condensed one, as much as scipy holds): every scan reads one row in address order. When
 * fewer than half the positions are still active, the matrix is compacted in place to the
 * active clusters (in slot order), so that rows stay dense and scans stream through memory
 * (about n²/3 copies in all). Same values, so the same results as nnChainMatrix.
 */
export async function nnChainSquare(
  D: Float64Array, n: number, method: number, Z: Float64Array, pause: Pause,
  parallel?: { alive: Int32Array; update: (x: number, y: number, N: number, m: number, nx: number, ny: number) => boolean },
): Promise<void> {
  let N = n; // the matrix's current stride: positions 0..N−1
  const size = new Float64Array(n).fill(1); // by position
  const slotOf = new Int32Array(n); // the cluster (slot) at each position; positions keep slot order
  // Active positions, increasing (in shared memory when the update runs on workers).
  const alive = parallel ? parallel.alive : new Int32Array(n);
  const S: LwUpdateShared = { D, alive };
  const P: LwUpdateParams = { x: 0, y: 0, N: n, m: n, method, nx: 1, ny: 1, chunk: n };
  const newPos = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    slotOf[i] = i;
    alive[i] = i;
  }
  let m = n;
  const chain = new Int32Array(n); // positions
  let len = 0;
  for (let k = 0; k < n - 1; k++) {
    const p = pause(k);
    if (p) await p;
    if (m < N / 2 && N >= 256) {
      // Compaction: entry (a, b) moves to (r, c) with r ≤ a, c ≤ b, so forward copying in place is safe.
      for (let r = 0; r < m; r++) {
        const ao = alive[r] * N;
        const ro = r * m;
        for (let c = 0; c < m; c++) D[ro + c] = D[ao + alive[c]];
      }
      for (let r = 0; r < m; r++) {
        const a = alive[r];
        newPos[a] = r;
        size[r] = size[a];
        slotOf[r] = slotOf[a];
        alive[r] = r;
      }
      for (let t = 0; t < len; t++) chain[t] = newPos[chain[t]];
      N = m;
    }
    if (len === 0) {
      chain[0] = alive[0];
      len = 1;
    }
    let x: number;
    let y: number;
    let dmin: number;
    for (;;) {
      x = chain[len - 1];
      const prev = len > 1 ? chain[len - 2] : -1;
      const ox = x * N;
      let bv = Infinity;
      let bi = -1;
      for (let t = 0; t < m; t++) {
        const i = alive[t];
        const v = D[ox + i];
        if (v < bv && i !== x) {
          bv = v;
          bi = i;
        }
      }
      if (prev >= 0) {
        const dp = D[ox + prev];
        if (dp <= bv) {
          y = prev;
          dmin = dp;
          break;
        }
      }
      chain[len++] = bi;
      const q = pause(k);
      if (q) await q;
    }
    len -= 2;
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    const nx = size[x];
    const ny = size[y];
    Z[k * 4] = slotOf[x];
    Z[k * 4 + 1] = slotOf[y];
    Z[k * 4 + 2] = dmin;
    Z[k * 4 + 3] = nx + ny;
    size[x] = 0;
    size[y] = nx + ny;
    let px = 0;
    while (alive[px] !== x) px++;
    alive.copyWithin(px, px + 1, m);
    m--;
    // The update on workers when it is big enough (the column writes miss the cache and the TLB).
    if (parallel && parallel.update(x, y, N, m, nx, ny)) continue;
    // Here: the same kernel over all m positions as one chunk.
    Object.assign(P, { x, y, N, m, nx, ny, chunk: m });
    linkageLwUpdateKernel(S, P, 0, 1);
  }
}

/**
 * Centroids kept in compact positions: position t (0 ≤ t < m) holds cluster ids[t] with
 * centroid C[t·d ..] and size size[t]; where[id] is the position of an active cluster.
 */
export interface CentroidStore {
  C: Float64Array;
  size: Float64Array;
  ids: Int32Array;
  where: Int32Array;
  d: number;
  m: number;
}

/** A store of n singletons: the rows of X (copied into C, which the caller allocates). */
export function initStore(X: Float64Array, n: number, d: number, C: Float64Array, size: Float64Array, ids: Int32Array): CentroidStore {
  C.set(X.subarray(0, n * d));
  const where = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    size[i] = 1;
    ids[i] = i;
    where[i] = i;
  }
  return { C, size, ids, where, d, m: n };
}

/** Squared Ward distance between the clusters at positions pa and pb: the kernel's formula with pa as the query. */
export function wardSq(s: CentroidStore, pa: number, pb: number): number {
  const { C, size, d } = s;
  let acc = 0;
  for (let j = 0; j < d; j++) {
    const u = C[pa * d + j] - C[pb * d + j];
    acc += u * u;
  }
  const sa = size[pa];
  const sb = size[pb];
  return ((2 * sa) * sb / (sa + sb)) * acc;
}

/** Squared distance between the centroids at positions pa and pb. */
export function centroidSq(s: CentroidStore, pa: number, pb: number): number {
  const { C, d } = s;
  let acc = 0;
  for (let j = 0; j < d; j++) {
    const u = C[pa * d + j] - C[pb * d + j];
    acc += u * u;
  }
  return acc;
}

/**
 * Merges the cluster at slot x into slot y (the merged cluster keeps y's slot): its centroid
 * is the size-weighted mean (Ward, centroid) or the midpoint (median); x's position is
 * filled by the last one.
 */
function mergeInStore(s: CentroidStore, x: number, y: number, midpoint: boolean): void {
  const { C, size, ids, where, d } = s;
  const px = where[x];
  const py = where[y];
  const nx = size[px];
  const ny = size[py];
  const nxy = nx + ny;
  for (let j = 0; j < d; j++) {
    C[py * d + j] = midpoint ? 0.5 * (C[px * d + j] + C[py * d + j]) : (nx * C[px * d + j] + ny * C[py * d + j]) / nxy;
  }
  size[py] = nxy;
  const last = --s.m;
  if (px !== last) {
    for (let j = 0; j < d; j++) C[px * d + j] = C[last * d + j];
    size[px] = size[last];
    ids[px] = ids[last];
    where[ids[px]] = px;
  }
  where[x] = -1;
}

/**
 * The nearest-neighbour chain for Ward's linkage on centroids: the squared Ward distance of
 * clusters A and B is 2|A||B|/(|A|+|B|)·‖cA − cB‖², the merge height its square root
 * (equal to scipy's Lance–Williams update of Euclidean distances). Tie rule as nnChainMatrix.
 * `scan(px, sx)` finds the nearest cluster of the one at position px (size sx).
 */
export async function nnChainWard(
  s: CentroidStore, n: number, Z: Float64Array, scan: (px: number, sx: number) => ScanResult | Promise<ScanResult>, pause: Pause,
): Promise<void> {
  const chain = new Int32Array(n);
  let len = 0;
  for (let k = 0; k < n - 1; k++) {
    const p = pause(k);
    if (p) await p;
    if (len === 0) {
      let lo = n;
      for (let t = 0; t < s.m; t++) if (s.ids[t] < lo) lo = s.ids[t];
      chain[0] = lo;
      len = 1;
    }
    let x: number;
    let y: number;
    let dmin: number;
    for (;;) {
      x = chain[len - 1];
      const prev = len > 1 ? chain[len - 2] : -1;
      const px = s.where[x];
      const r0 = scan(px, s.size[px]);
      const r = r0 instanceof Promise ? await r0 : r0;
      // A scan of millions of centroids takes milliseconds, and a chain can grow long.
      const q = pause(k);
      if (q) await q;
      if (prev >= 0) {
        const dp = wardSq(s, px, s.where[prev]);
        if (dp <= r.v) {
          y = prev;
          dmin = dp;
          break;
        }
      }
      chain[len++] = r.id;
    }
    len -= 2;
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    const nx = s.size[s.where[x]];
    const ny = s.size[s.where[y]];
    Z[k * 4] = x;
    Z[k * 4 + 1] = y;
    Z[k * 4 + 2] = Math.sqrt(dmin);
    Z[k * 4 + 3] = nx + ny;
    mergeInStore(s, x, y, false);
  }
}

/** A binary min-heap of keys 0..n−1 by value; equal values: the smaller key first. */
class KeyHeap {
  private readonly heap: Int32Array;
  private readonly index: Int32Array;
  private size: number;

  constructor(private readonly values: Float64Array, n: number) {
    this.heap = new Int32Array(n);
    this.index = new Int32Array(n);
    this.size = n;
    for (let i = 0; i < n; i++) {
      this.heap[i] = i;
      this.index[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  top(): number {
    return this.heap[0];
  }

  removeTop(): void {
    const last = --this.size;
    if (last > 0) {
      this.heap[0] = this.heap[last];
      this.index[this.heap[0]] = 0;
      this.down(0);
    }
  }

  /** Call after values[key] changed. */
  update(key: number, old: number): void {
    const i = this.index[key];
    if (this.values[key] < old) this.up(i);
    else this.down(i);
  }

  private less(a: number, b: number): boolean {
    const va = this.values[a];
    const vb = this.values[b];
    return va < vb || (va === vb && a < b);
  }

  private up(i: number): void {
    const { heap, index } = this;
    const key = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(key, heap[parent])) break;
      heap[i] = heap[parent];
      index[heap[i]] = i;
      i = parent;
    }
    heap[i] = key;
    index[key] = i;
  }

  private down(i: number): void {
    const { heap, index } = this;
    const key = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.less(heap[c + 1], heap[c])) c++;
      if (!this.less(heap[c], key)) break;
      heap[i] = heap[c];
      index[heap[i]] = i;
      i = c;
    }
    heap[i] = key;
    index[key] = i;
  }
}

/**
 * Müllner's generic algorithm for the centroid (`midpoint` false) and median (`midpoint`
 * true) linkages on centroids, as scipy's `fast_linkage`: every slot keeps a candidate
 * nearest neighbour among higher slots and a lower bound of its distance in a heap; the
 * heap's top is checked against the true distance and refreshed when stale. Distances are
 * between centroids (for median, the midpoints of the merged clusters). Merges come out in
 * order with their final numbering (no sort: these linkages are not monotone). Ties: the
 * smallest slot first, and its nearest neighbour the smallest slot at the same distance.
 * `scan(px, minId)` finds the nearest cluster with a slot above minId.
 */
export async function genericCentroid(
  s: CentroidStore, n: number, midpoint: boolean, Z: Float64Array,
  scan: (px: number, minId: number) => ScanResult, pause: Pause,
): Promise<void> {
  const neighbor = new Int32Array(n);
  const mind = new Float64Array(n);
  const cid = new Int32Array(n);
  for (let x = 0; x < n; x++) cid[x] = x;
  if (n < 2) return;
  for (let x = 0; x < n - 1; x++) {
    // The first candidates are half the work: pauses (and progress, at 0 merges) here too.
    const p = pause(0);
    if (p) await p;
    const r = scan(s.where[x], x);
    neighbor[x] = r.id;
    mind[x] = r.v;
  }
  const heap = new KeyHeap(mind, n - 1);
  const { C, size, ids, where, d } = s;
  for (let k = 0; k < n - 1; k++) {
    const p = pause(k);
    if (p) await p;
    let x: number;
    let y: number;
    let v: number;
    for (;;) {
      x = heap.top();
      y = neighbor[x];
      v = mind[x];
      if (v === centroidSq(s, where[x], where[y])) break;
      const r = scan(where[x], x);
      const old = mind[x];
      neighbor[x] = r.id;
      mind[x] = r.v;
      heap.update(x, old);
      const q = pause(k);
      if (q) await q;
    }
    heap.removeTop();
    const nx = size[where[x]];
    const ny = size[where[y]];
    const a = cid[x];
    const b = cid[y];
    Z[k * 4] = a < b ? a : b;
    Z[k * 4 + 1] = a < b ? b : a;
    Z[k * 4 + 2] = Math.sqrt(v);
    Z[k * 4 + 3] = nx + ny;
    cid[y] = n + k;
    mergeInStore(s, x, y, midpoint);
    // Candidates that pointed at x now point at the merged cluster (a guess, checked when popped);
    // lower bounds that the merged cluster beats are lowered.
    const py = where[y];
    for (let t = 0; t < s.m; t++) {
      const z = ids[t];
      if (z >= y) continue;
      if (z < x && neighbor[z] === x) neighbor[z] = y;
      let acc = 0;
      for (let j = 0; j < d; j++) {
        const u = C[t * d + j] - C[py * d + j];
        acc += u * u;
      }
      if (acc < mind[z]) {
        const old = mind[z];
        neighbor[z] = y;
        mind[z] = acc;
        heap.update(z, old);
      }
    }
    if (y < n - 1) {
      const r = scan(py, y);
      if (r.id >= 0) {
        const old = mind[y];
        neighbor[y] = r.id;
        mind[y] = r.v;
        heap.update(y, old);
      }
    }
  }
}

/**
 * Single linkage by Prim's algorithm, scipy's `mst_single_linkage`: from row 0, each step
 * adds the row nearest to the tree (the first such row), recorded as a merge with the row
 * added before it (same hierarchy, as Prim's order makes the chain of added rows a path
 * whose maxima are the single-linkage heights). `step(x)` lowers the keys with row x and
 * returns the row with the smallest key; `height(v)` turns a key into a distance.
 */
export async function primSingle(
  n: number, Z: Float64Array, step: (x: number) => ScanResult | Promise<ScanResult>, height: (v: number) => number, pause: Pause,
): Promise<void> {
  let x = 0;
  for (let k = 0; k < n - 1; k++) {
    const p = pause(k);
    if (p) await p;
    const r0 = step(x);
    const r = r0 instanceof Promise ? await r0 : r0;
    Z[k * 4] = x;
    Z[k * 4 + 1] = r.id;
    Z[k * 4 + 2] = height(r.v);
    Z[k * 4 + 3] = 0;
    x = r.id;
  }
}

/**
 * scipy's last step for the chain and the tree: merges sorted by height (stable: equal
 * heights keep their order), then each merge's two clusters named by their current ids
 * (smaller first) and the merged cluster numbered n + its row; sizes recomputed.
 */
export function sortAndLabel(raw: Float64Array, n: number): Float64Array {
  const rows = n - 1;
  const order = Array.from({ length: rows }, (_, i) => i);
  order.sort((a, b) => raw[a * 4 + 2] - raw[b * 4 + 2] || a - b);
  const Z = new Float64Array(rows * 4);
  const parent = new Int32Array(2 * n - 1);
  const size = new Float64Array(2 * n - 1);
  for (let i = 0; i < 2 * n - 1; i++) {
    parent[i] = i;
    size[i] = 1;
  }
  const find = (a: number): number => {
    let r = a;
    while (parent[r] !== r) r = parent[r];
    while (parent[a] !== r) {
      const next = parent[a];
      parent[a] = r;
      a = next;
    }
    return r;
  };
  for (let i = 0; i < rows; i++) {
    const o = order[i] * 4;
    const ra = find(raw[o]);
    const rb = find(raw[o + 1]);
    const a = ra < rb ? ra : rb;
    const b = ra < rb ? rb : ra;
    const id = n + i;
    parent[a] = id;
    parent[b] = id;
    size[id] = size[a] + size[b];
    Z[i * 4] = a;
    Z[i * 4 + 1] = b;
    Z[i * 4 + 2] = raw[o + 2];
    Z[i * 4 + 3] = size[id];
  }
  return Z;
}
