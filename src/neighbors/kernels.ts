/**
 * The neighbour-search kernels run on the worker pool: k nearest neighbours and radius counts
 * of many query rows. Work is cut into blocks of BLOCK query rows; a run covers blocks
 * [blockStart, blockEnd) and chunk c of nChunks takes blocks blockStart + c, + c + nChunks, …
 * (interleaved, so that dense and sparse regions are shared out evenly among the workers).
 * Every query row's result depends only on that row, so results do not depend on the
 * number of workers or on the chunking.
 */
import { bruteKnnBlock, bruteRadiusCountBlock, MANHATTAN, rowSqNorm, type TreeArrays, tileRdist, treeKnn, treeRadiusCollect, treeRadiusCount } from "./search.js";

/** Query rows per block. */
export const BLOCK = 64;

export interface NeighborsShared {
  /** The indexed rows in their own order (unit rows for cosine). */
  data: Float64Array;
  /** Brute-force euclidean: the squared norm of every indexed row (rowSqNorm). */
  norms?: Float64Array;
  /** Tree arrays (absent for brute force). */
  ordered?: Float64Array;
  index?: Int32Array;
  nodeStart?: Int32Array;
  nodeEnd?: Int32Array;
  nodeIsLeaf?: Uint8Array;
  nodeLower?: Float64Array;
  nodeUpper?: Float64Array;
  /** Outside query rows (kNN of outside points); absent when the queries are the indexed rows. */
  Q?: Float64Array;
  /** kNN outputs: reduced distances and indices, row-major queries × k. */
  distances?: Float64Array;
  indices?: Int32Array;
  /** Radius-count output, one per indexed row. */
  counts?: Float64Array;
  /** Radius-count weights: in tree order for the tree, in row order for brute force. */
  weights?: Float64Array;
  /** Radius lists: the query rows (indexed rows), where each one's list starts in `lists`, and the lists. */
  rows?: Int32Array;
  offsets?: Int32Array;
  lists?: Int32Array;
}

export interface NeighborsParams {
  n: number;
  d: number;
  /** Number of query rows. */
  m: number;
  metric: number;
  /** 1: brute force; 0: the tree. */
  brute: number;
  nLevels: number;
  k: number;
  /** Reduced radius. */
  r: number;
  /** 1 when `weights` is given. */
  weighted: number;
  /** Radius lists: 1 to sort each list ascending. */
  sorted: number;
  blockStart: number;
  blockEnd: number;
  nChunks: number;
}

function treeOf(S: NeighborsShared): TreeArrays {
  return {
    ordered: S.ordered!, index: S.index!, nodeStart: S.nodeStart!, nodeEnd: S.nodeEnd!,
    nodeIsLeaf: S.nodeIsLeaf!, nodeLower: S.nodeLower!, nodeUpper: S.nodeUpper!,
  };
}

/**
 * k nearest neighbours. Queries are the indexed rows (no Q; with the tree they are taken in
 * tree order, so consecutive queries are near each other) or the m rows of Q.
 * Writes reduced distances, sorted ascending, into distances[i·k..] and indices[i·k..].
 */
export function neighborsKnnKernel(S: NeighborsShared, P: NeighborsParams, chunkStart: number, chunkEnd: number): void {
  const { n, d, m, metric, brute, nLevels, k, blockStart, blockEnd, nChunks } = P;
  const outD = S.distances!;
  const outI = S.indices!;
  const outside = S.Q !== undefined;
  const l1 = metric === MANHATTAN;
  const stackN = new Int32Array(2 * nLevels + 4);
  const stackR = new Float64Array(2 * nLevels + 4);
  const T = brute === 1 ? null : treeOf(S);
  let outsideNorms: Float64Array | null = null;
  for (let c = chunkStart; c < chunkEnd; c++) {
    for (let b = blockStart + c; b < blockEnd; b += nChunks) {
      const a = b * BLOCK;
      const e = Math.min(m, a + BLOCK);
      if (T === null) {
        let qNorms = S.norms ?? null;
        if (outside && qNorms !== null) {
          qNorms = outsideNorms ??= new Float64Array(m);
          for (let i = a; i < e; i++) qNorms[i] = rowSqNorm(S.Q!, i * d, d);
        }
        bruteKnnBlock(S.data, n, d, metric, S.norms ?? null, outside ? S.Q! : S.data, qNorms, a, e, k, !outside, outD, outI);
      } else if (outside) {
        const Q = S.Q!;
        for (let i = a; i < e; i++) treeKnn(T, d, Q, i * d, k, -1, l1, outD, outI, i * k, stackN, stackR);
      } else {
        // Consecutive queries in tree order are near each other: the previous query's k-th
        // distance plus the distance between the two bounds the current one's (triangle
        // inequality), with a margin for rounding.
        const X = T.ordered;
        let prev = -1;
        for (let t = a; t < e; t++) {
          const i = T.index[t];
          let bound = Infinity;
          if (prev >= 0) {
            let s = 0;
            for (let j = 0; j < d; j++) {
              const x = Math.abs(X[t * d + j] - X[(t - 1) * d + j]);
              s += l1 ? x : x * x;
            }
            const b = l1 ? prev + s : Math.sqrt(prev) + Math.sqrt(s);
            bound = (l1 ? b : b * b) * (1 + 1e-9) + 1e-300;
          }
          prev = treeKnn(T, d, X, t * d, k, i, l1, outD, outI, i * k, stackN, stackR, bound);
        }
      }
    }
  }
}

/** Radius counts (or weight sums) of every indexed row, into counts[i]. */
export function neighborsRadiusCountKernel(S: NeighborsShared, P: NeighborsParams, chunkStart: number, chunkEnd: number): void {
  const { n, d, m, metric, brute, nLevels, r, weighted, blockStart, blockEnd, nChunks } = P;
  const counts = S.counts!;
  const weights = weighted === 1 ? S.weights! : null;
  const l1 = metric === MANHATTAN;
  const stackN = new Int32Array(2 * nLevels + 4);
  const T = brute === 1 ? null : treeOf(S);
  for (let c = chunkStart; c < chunkEnd; c++) {
    for (let b = blockStart + c; b < blockEnd; b += nChunks) {
      const a = b * BLOCK;
      const e = Math.min(m, a + BLOCK);
      if (T === null) bruteRadiusCountBlock(S.data, n, d, metric, S.norms ?? null, a, e, r, weights, counts);
      else {
        for (let t = a; t < e; t++) counts[T.index[t]] = treeRadiusCount(T, d, T.ordered, t * d, r, l1, weights, stackN);
      }
    }
  }
}

/**
 * Radius lists of the m indexed rows `rows`. Without `lists`: the number of rows within r of
 * each query row q into counts[q]. With `lists`: each query's list into
 * lists[offsets[q]..offsets[q + 1]), ascending with `sorted`, else in the tree's order; a list
 * of another length than its slot (which the counts of the same index and radius rule out)
 * throws.
 */
export function neighborsRadiusListKernel(S: NeighborsShared, P: NeighborsParams, chunkStart: number, chunkEnd: number): void {
  const { n, d, m, metric, brute, nLevels, r, sorted, blockStart, blockEnd, nChunks } = P;
  const rows = S.rows!;
  const X = S.data;
  const lists = S.lists;
  const l1 = metric === MANHATTAN;
  const stackN = new Int32Array(2 * nLevels + 4);
  const T = brute === 1 ? null : treeOf(S);
  const dist = T === null ? new Float64Array(n) : null;
  for (let c = chunkStart; c < chunkEnd; c++) {
    for (let b = blockStart + c; b < blockEnd; b += nChunks) {
      const a = b * BLOCK;
      const e = Math.min(m, a + BLOCK);
      for (let q = a; q < e; q++) {
        const i = rows[q];
        if (lists === undefined) {
          if (T !== null) S.counts![q] = treeRadiusCount(T, d, X, i * d, r, l1, null, stackN);
          else {
            tileRdist(X, 0, n, d, metric, S.norms ?? null, X, i * d, S.norms ? S.norms[i] : 0, dist!);
            dist![i] = 0;
            let cnt = 0;
            for (let j = 0; j < n; j++) if (dist![j] <= r) cnt++;
            S.counts![q] = cnt;
          }
          continue;
        }
        const o = S.offsets![q];
        const want = S.offsets![q + 1] - o;
        let got: number;
        if (T !== null) {
          got = treeRadiusCollect(T, d, X, i * d, r, l1, lists, o, stackN);
          if (got === want && sorted === 1) lists.subarray(o, o + got).sort();
        } else {
          tileRdist(X, 0, n, d, metric, S.norms ?? null, X, i * d, S.norms ? S.norms[i] : 0, dist!);
          dist![i] = 0; // a row's distance to itself (the brute cosine's 1 − u·u may round above 0)
          got = 0;
          for (let j = 0; j < n; j++) {
            if (dist![j] <= r) {
              if (got < want) lists[o + got] = j;
              got++;
            }
          }
        }
        if (got !== want) throw new Error(`radius list of row ${i}: ${got} rows where ${want} were counted`);
      }
    }
  }
}

/** The kernels of this folder, by the names the worker registry knows them. */
export const neighborsKernels = {
  neighborsKnn: neighborsKnnKernel,
  neighborsRadiusCount: neighborsRadiusCountKernel,
  neighborsRadiusList: neighborsRadiusListKernel,
};
