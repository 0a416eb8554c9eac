/**
 * HDBSCAN's parallel kernel: one round of Borůvka's minimum spanning tree on a KD-tree, in
 * mutual-reachability distance max(core_p, core_q, d(p, q) / alpha).
 *
 * Points are numbered by their position in the tree's permutation (a leaf's points are
 * consecutive). For every point p of the chunk the kernel finds the cheapest edge from p to
 * a point q of another component, in the total order (weight, smaller end, larger end) —
 * for one p that is (weight, q) — so that the round's choice of edges does not depend on
 * the traversal, the chunking or the number of workers. A node is skipped when all its
 * points are in p's component (nodeComp), or when a lower bound of its edges,
 * max(core_p, the node's smallest core distance, box distance / alpha), exceeds p's best, or
 * equals it with no smaller q in the node, or exceeds the best weight found so far for p's
 * component (compBound). compBound is shared between workers without locks: every value
 * written there is the weight of a real edge of the component, so a stale or lost update
 * only prunes less; the component's cheapest edge is never pruned.
 */

export interface BoruvkaShared {
  /** n × d coordinates in tree order. */
  X: Float64Array;
  /** Core distance per point. */
  core: Float64Array;
  /** Component (a point id) per point. */
  comp: Int32Array;
  nodeStart: Int32Array;
  nodeEnd: Int32Array;
  nodeIsLeaf: Uint8Array;
  nodeLower: Float64Array;
  nodeUpper: Float64Array;
  /** The component of all the node's points, or −1 when they are in several. */
  nodeComp: Int32Array;
  /** Smallest core distance in the node. */
  nodeMinCore: Float64Array;
  /** Per component: an upper bound of its cheapest edge's weight. */
  compBound: Float64Array;
  /** Out, per point: the cheapest edge's weight (Infinity: none found below the bound) and other end. */
  bestW: Float64Array;
  bestQ: Int32Array;
  [key: string]: Float64Array | Int32Array | Uint8Array;
}

export interface BoruvkaParams {
  n: number;
  d: number;
  alpha: number;
  /** 0 euclidean, 1 manhattan. */
  metric: number;
  /** Points per chunk. */
  chunk: number;
  nLevels: number;
  [key: string]: number;
}

export function hdbscanBoruvkaKernel(S: BoruvkaShared, P: BoruvkaParams, chunkStart: number, chunkEnd: number): void {
  const { X, core, comp, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper, nodeComp, nodeMinCore, compBound, bestW, bestQ } = S;
  const n = P.n;
  const d = P.d;
  const alpha = P.alpha;
  const manhattan = P.metric === 1;
  const stackNode = new Int32Array(2 * P.nLevels + 4);
  const stackLb = new Float64Array(2 * P.nLevels + 4);
  const pStart = chunkStart * P.chunk;
  const pEnd = Math.min(n, chunkEnd * P.chunk);
  for (let p = pStart; p < pEnd; p++) {
    const c = comp[p];
    const cp = core[p];
    bestW[p] = Infinity;
    bestQ[p] = -1;
    if (cp > compBound[c] || nodeComp[0] === c) continue;
    const po = p * d;
    let bw = Infinity;
    let bq = -1;
    stackNode[0] = 0;
    stackLb[0] = cp;
    let top = 1;
    while (top > 0) {
      top--;
      const node = stackNode[top];
      const lb = stackLb[top];
      if (lb > bw || (lb === bw && nodeStart[node] >= bq) || lb > compBound[c]) continue;
      if (nodeIsLeaf[node]) {
        const e = nodeEnd[node];
        for (let q = nodeStart[node]; q < e; q++) {
          if (comp[q] === c) continue;
          const cq = core[q];
          if (cq > bw) continue;
          let dist = 0;
          const qo = q * d;
          if (manhattan) {
            for (let j = 0; j < d; j++) {
              const t = X[po + j] - X[qo + j];
              dist += t < 0 ? -t : t;
            }
          } else {
            for (let j = 0; j < d; j++) {
              const t = X[po + j] - X[qo + j];
              dist += t * t;
            }
            dist = Math.sqrt(dist);
          }
          dist /= alpha;
          let w = cp > cq ? cp : cq;
          if (dist > w) w = dist;
          if (w < bw || (w === bw && q < bq)) {
            bw = w;
            bq = q;
          }
        }
        continue;
      }
      // Both children: lower bounds, the nearer one searched first (pushed last).
      const a = 2 * node + 1;
      const b = a + 1;
      let lbA = Infinity;
      let lbB = Infinity;
      if (nodeComp[a] !== c) lbA = childBound(X, po, d, nodeLower, nodeUpper, a, manhattan, alpha, cp, nodeMinCore[a]);
      if (nodeComp[b] !== c) lbB = childBound(X, po, d, nodeLower, nodeUpper, b, manhattan, alpha, cp, nodeMinCore[b]);
      if (lbA <= lbB) {
        if (lbB !== Infinity) {
          stackNode[top] = b;
          stackLb[top++] = lbB;
        }
        if (lbA !== Infinity) {
          stackNode[top] = a;
          stackLb[top++] = lbA;
        }
      } else {
        if (lbA !== Infinity) {
          stackNode[top] = a;
          stackLb[top++] = lbA;
        }
        stackNode[top] = b;
        stackLb[top++] = lbB;
      }
    }
    bestW[p] = bw;
    bestQ[p] = bq;
    if (bw < compBound[c]) compBound[c] = bw;
  }
}

function childBound(
  X: Float64Array, po: number, d: number, lower: Float64Array, upper: Float64Array, node: number, manhattan: boolean, alpha: number, cp: number, minCore: number,
): number {
  const b = node * d;
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = X[po + j];
    let g = lower[b + j] - x;
    if (g <= 0) g = x - upper[b + j];
    if (g > 0) s += manhattan ? g : g * g;
  }
  const box = (manhattan ? s : Math.sqrt(s)) / alpha;
  let lb = cp > minCore ? cp : minCore;
  if (box > lb) lb = box;
  return lb;
}

/** HDBSCAN's kernels for the worker pool's registry (src/io/kernels.ts). */
export const hdbscanKernels = {
  hdbscanBoruvka: hdbscanBoruvkaKernel,
};
