/**
 * The density algorithms' worker kernels (registered with the pool as `densityKernels`).
 *
 * densityCoreFlags: which rows are DBSCAN core rows (at least minSamples rows within eps,
 * itself included), unweighted, on the KD-tree. A row's count stops as soon as it reaches
 * minSamples: the nearer child of a node is searched first and nodes wholly within eps add
 * all their rows at once, so a row inside a dense segment is settled after a leaf or two
 * instead of counting its hundreds of neighbours. Membership (reduced distance ≤ r, nodes
 * wholly inside by their farthest corner) is decided as the neighbour index's radius counts
 * decide it, so the flags equal `radiusCounts(eps) ≥ minSamples`. Each row's flag depends
 * on that row only: results do not depend on the chunking or the number of workers.
 */
import { boxMaxRdist, boxMinRdist } from "../../neighbors/search.js";

/** Query rows per block; chunk c of nChunks takes blocks blockStart + c, + c + nChunks, … (interleaved). */
export const DENSITY_BLOCK = 256;

export interface CoreFlagsShared {
  ordered: Float64Array;
  index: Int32Array;
  nodeStart: Int32Array;
  nodeEnd: Int32Array;
  nodeIsLeaf: Uint8Array;
  nodeLower: Float64Array;
  nodeUpper: Float64Array;
  /** Output: 1 for a core row, by row number. */
  flags: Uint8Array;
}

export interface CoreFlagsParams {
  n: number;
  d: number;
  /** Reduced radius: eps² (euclidean) or eps (manhattan). */
  r: number;
  /** 1 for manhattan. */
  l1: number;
  minSamples: number;
  nLevels: number;
  blockStart: number;
  blockEnd: number;
  nChunks: number;
}

/**
 * Rows of the tree within reduced radius r of the point at qo in `ordered` (tree position),
 * counted until `cap` is reached (then returns a number ≥ cap).
 */
export function cappedRadiusCount(S: CoreFlagsShared, d: number, qo: number, r: number, l1: boolean, cap: number, stack: Int32Array): number {
  const { ordered: q, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper } = S;
  let total = 0;
  let sp = 0;
  if (boxMinRdist(nodeLower, nodeUpper, 0, d, q, qo, l1) > r) return 0;
  stack[sp++] = 0;
  while (sp > 0) {
    const node = stack[--sp];
    const s0 = nodeStart[node];
    const e = nodeEnd[node];
    if (boxMaxRdist(nodeLower, nodeUpper, node, d, q, qo, l1) <= r) {
      total += e - s0;
      if (total >= cap) return total;
      continue;
    }
    if (nodeIsLeaf[node] === 1) {
      if (d === 2 && !l1) {
        const q0 = q[qo];
        const q1 = q[qo + 1];
        for (let t = s0; t < e; t++) {
          const x = q[2 * t] - q0;
          const y = q[2 * t + 1] - q1;
          if (x * x + y * y <= r && ++total >= cap) return total;
        }
        continue;
      }
      for (let t = s0; t < e; t++) {
        const po = t * d;
        let s = 0;
        if (l1) {
          for (let j = 0; j < d; j++) s += Math.abs(q[po + j] - q[qo + j]);
        } else {
          for (let j = 0; j < d; j++) {
            const x = q[po + j] - q[qo + j];
            s += x * x;
          }
        }
        if (s <= r && ++total >= cap) return total;
      }
      continue;
    }
    const a = 2 * node + 1;
    const ra = boxMinRdist(nodeLower, nodeUpper, a, d, q, qo, l1);
    const rb = boxMinRdist(nodeLower, nodeUpper, a + 1, d, q, qo, l1);
    // The nearer child on top of the stack, so that it is counted first.
    if (ra <= rb) {
      if (rb <= r) stack[sp++] = a + 1;
      if (ra <= r) stack[sp++] = a;
    } else {
      if (ra <= r) stack[sp++] = a;
      if (rb <= r) stack[sp++] = a + 1;
    }
  }
  return total;
}

/** Core flags of the rows at tree positions in this chunk's blocks (see the file's comment). */
export function densityCoreFlagsKernel(S: CoreFlagsShared, P: CoreFlagsParams, chunkStart: number, chunkEnd: number): void {
  const { n, d, r, minSamples, nLevels, blockStart, blockEnd, nChunks } = P;
  const l1 = P.l1 === 1;
  const stack = new Int32Array(2 * nLevels + 4);
  const { index, flags } = S;
  for (let c = chunkStart; c < chunkEnd; c++) {
    for (let b = blockStart + c; b < blockEnd; b += nChunks) {
      const e = Math.min(n, (b + 1) * DENSITY_BLOCK);
      for (let t = b * DENSITY_BLOCK; t < e; t++) {
        const row = index[t];
        if (flags[row] === 1) continue; // settled by markDenseNodes
        flags[row] = cappedRadiusCount(S, d, t * d, r, l1, minSamples, stack) >= minSamples ? 1 : 0;
      }
    }
  }
}

/**
 * Marks as core every row of each node that holds at least minSamples rows and whose box
 * fits within eps (its diagonal, in the reduced metric, ≤ r): any two of its rows are then
 * within eps of each other (coordinate differences are at most the box's sides, and the
 * rounded sums respect that order), so each has minSamples rows within eps. Returns the
 * number of rows marked. Run before densityCoreFlags, which skips marked rows.
 */
export function markDenseNodes(S: CoreFlagsShared, d: number, r: number, l1: boolean, minSamples: number, nNodes: number): number {
  const { index, nodeStart, nodeEnd, nodeIsLeaf, nodeLower, nodeUpper, flags } = S;
  let marked = 0;
  const stack: number[] = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const s0 = nodeStart[node];
    const e = nodeEnd[node];
    if (e - s0 < minSamples) continue;
    let diag = 0;
    for (let j = 0; j < d; j++) {
      const side = nodeUpper[node * d + j] - nodeLower[node * d + j];
      diag += l1 ? side : side * side;
    }
    if (diag <= r) {
      for (let t = s0; t < e; t++) flags[index[t]] = 1;
      marked += e - s0;
      continue;
    }
    if (nodeIsLeaf[node] !== 1 && 2 * node + 2 < nNodes) stack.push(2 * node + 2, 2 * node + 1);
  }
  return marked;
}

export const densityKernels = { densityCoreFlags: densityCoreFlagsKernel };
