/**
 * Kernels of hierarchical clustering that workers can run (registered in
 * cluster/kernels/index.ts).
 * Work is cut into chunks; each chunk writes its own result (a best pair, or a block of
 * distances), and the caller combines the chunks' results in chunk order with a rule that
 * does not depend on the order (lexicographic minimum of (value, id)), so results are
 * bit-identical for any number of workers.
 *
 * - linkageWardScanKernel: the nearest cluster of one cluster among the active clusters,
 *   from centroids and sizes (Ward's distance, or the plain centroid distance).
 * - linkagePrimKernel: one step of Prim's minimum spanning tree (single linkage) with the
 *   distances computed on the fly from the rows (or read from a square distance matrix).
 * - linkagePdistKernel: blocks of rows of the condensed distance matrix.
 */

/** Centroids in compact positions 0..m-1 (the active clusters), their sizes and cluster ids. */
export interface WardScanShared {
  /** m × d centroids, row-major, one row per position. */
  C: Float64Array;
  /** Size of the cluster at each position. */
  size: Float64Array;
  /** Cluster id (slot) of each position. */
  ids: Int32Array;
  /** Per chunk: [best value, best id]. */
  best: Float64Array;
}

export interface WardScanParams {
  /** Position of the query cluster (skipped). */
  px: number;
  /** Number of active positions. */
  m: number;
  d: number;
  chunk: number;
  /** Size of the query cluster. */
  sx: number;
  /** Only clusters whose id is greater than this are candidates (-1: all). */
  minId: number;
  /** 0: Ward's squared distance 2·sx·s/(sx+s)·‖cx − c‖²; 1: the squared centroid distance ‖cx − c‖². */
  mode: number;
}

/**
 * For each chunk of positions: the smallest value and, among equal values, the smallest
 * cluster id. Values are squared distances (no square roots in the loop).
 */
export function linkageWardScanKernel(S: WardScanShared, P: WardScanParams, chunkStart: number, chunkEnd: number): void {
  const { C, size, ids, best } = S;
  const { px, m, d, chunk, sx, minId, mode } = P;
  type Scan = (C: Float64Array, size: Float64Array, ids: Int32Array, px: number, start: number, end: number, sx2: number, sx: number, minId: number, out: Float64Array, o: number) => void;
  const g = globalThis as unknown as { __segmentaWardScan?: Record<string, Scan | null> };
  const cache = (g.__segmentaWardScan ??= {});
  const key = d + ":" + mode;
  let gen = cache[key];
  if (gen === undefined) {
    gen = null;
    if (d <= 64) {
      try {
        // The loop over features unrolled, the query's coordinates held in locals.
        let src = "const xo = px * " + d + ";\n";
        for (let j = 0; j < d; j++) src += "const x" + j + " = C[xo + " + j + "];\n";
        src += "let bv = Infinity, bi = -1;\nfor (let t = start, co = start * " + d + "; t < end; t++, co += " + d + ") {\n";
        src += "if (t === px) continue;\nconst id = ids[t];\nif (id <= minId) continue;\nlet u, s = 0;\n";
        for (let j = 0; j < d; j++) src += "u = x" + j + " - C[co + " + j + "]; s += u * u;\n";
        if (mode === 0) src += "const st = size[t];\nconst v = (sx2 * st / (sx + st)) * s;\n";
        else src += "const v = s;\n";
        src += "if (v < bv || (v === bv && id < bi)) { bv = v; bi = id; }\n}\nout[o] = bv; out[o + 1] = bi;";
        gen = new Function("C", "size", "ids", "px", "start", "end", "sx2", "sx", "minId", "out", "o", src) as Scan;
      } catch {
        gen = null; // no runtime code generation here (e.g. a strict CSP): the generic loop below
      }
    }
    cache[key] = gen;
  }
  const sx2 = 2 * sx;
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const start = ch * chunk;
    const end = Math.min(m, start + chunk);
    if (gen !== null) {
      gen(C, size, ids, px, start, end, sx2, sx, minId, best, ch * 2);
      continue;
    }
    const xo = px * d;
    let bv = Infinity;
    let bi = -1;
    for (let t = start; t < end; t++) {
      if (t === px) continue;
      const id = ids[t];
      if (id <= minId) continue;
      const co = t * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const u = C[xo + j] - C[co + j];
        s += u * u;
      }
      let v = s;
      if (mode === 0) {
        const st = size[t];
        v = (sx2 * st / (sx + st)) * s;
      }
      if (v < bv || (v === bv && id < bi)) {
        bv = v;
        bi = id;
      }
    }
    best[ch * 2] = bv;
    best[ch * 2 + 1] = bi;
  }
}

export interface PrimShared {
  /** n × d rows (metric 0, 1, 2) or the n × n distance matrix (metric 3). */
  X: Float64Array;
  /** Euclidean norm of each row (metric 2). */
  norms: Float64Array;
  /** Distance of each row not yet in the tree to the tree (squared for metric 0). */
  key: Float64Array;
  /** 1 for rows already in the tree. */
  merged: Uint8Array;
  /** Per chunk: [smallest key, its row]. */
  best: Float64Array;
}

export interface PrimParams {
  /** The row added to the tree last. */
  x: number;
  n: number;
  d: number;
  chunk: number;
  /** 0 euclidean (keys squared), 1 manhattan, 2 cosine, 3 precomputed. */
  metric: number;
}

/**
 * One step of Prim's algorithm as scipy's `mst_single_linkage`: lowers the key of every row
 * outside the tree to its distance to row x, and finds per chunk the smallest key (the first
 * row with it, as rows are scanned in increasing order).
 */
export function linkagePrimKernel(S: PrimShared, P: PrimParams, chunkStart: number, chunkEnd: number): void {
  const { X, norms, key, merged, best } = S;
  const { x, n, d, chunk, metric } = P;
  const xo = x * d;
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const start = ch * chunk;
    const end = Math.min(n, start + chunk);
    let bv = Infinity;
    let bi = -1;
    for (let i = start; i < end; i++) {
      if (merged[i] !== 0) continue;
      let v: number;
      const io = i * d;
      if (metric === 0) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const u = X[xo + j] - X[io + j];
          s += u * u;
        }
        v = s;
      } else if (metric === 1) {
        let s = 0;
        for (let j = 0; j < d; j++) s += Math.abs(X[xo + j] - X[io + j]);
        v = s;
      } else if (metric === 2) {
        let s = 0;
        for (let j = 0; j < d; j++) s += X[xo + j] * X[io + j];
        let c = s / (norms[x] * norms[i]);
        if (c > 1) c = 1;
        else if (c < -1) c = -1;
        v = 1 - c;
      } else {
        v = X[x * n + i];
      }
      if (v < key[i]) key[i] = v;
      if (key[i] < bv) {
        bv = key[i];
        bi = i;
      }
    }
    best[ch * 2] = bv;
    best[ch * 2 + 1] = bi;
  }
}

export interface PdistShared {
  /** n × d rows. */
  X: Float64Array;
  /** Euclidean norm of each row (cosine). */
  norms: Float64Array;
  /** The condensed distance matrix: D[i, j] (i < j) at n·i − i(i+1)/2 + j − i − 1. */
  D: Float64Array;
  /** Chunk c covers rows bounds[c] .. bounds[c + 1] − 1. */
  bounds: Float64Array;
}

export interface PdistParams {
  n: number;
  d: number;
  /** 0 euclidean, 1 manhattan, 2 cosine. */
  metric: number;
  /** 1: D is the full n × n matrix, each row computed whole (j from 0); 0: condensed (j > i). */
  square: number;
}

/** Rows of the condensed distance matrix (scipy's `pdist`) for the chunks' row ranges. */
export function linkagePdistKernel(S: PdistShared, P: PdistParams, chunkStart: number, chunkEnd: number): void {
  const { X, norms, D, bounds } = S;
  const { n, d, metric, square } = P;
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    for (let i = bounds[ch]; i < bounds[ch + 1]; i++) {
      const io = i * d;
      // Row i: j from i + 1 into the condensed matrix, or every j into the square one (the
      // distance of j to i is computed as that of i to j, bit for bit: the terms are symmetric).
      const off = square ? i * n : n * i - (i * (i + 1)) / 2 - i - 1;
      const j0 = square ? 0 : i + 1;
      if (metric === 0) {
        if (d === 8) {
          // The common case of the benchmarks, unrolled by hand.
          const a0 = X[io], a1 = X[io + 1], a2 = X[io + 2], a3 = X[io + 3], a4 = X[io + 4], a5 = X[io + 5], a6 = X[io + 6], a7 = X[io + 7];
          for (let j = j0, jo = j0 * 8; j < n; j++, jo += 8) {
            let u = a0 - X[jo];
            let s = u * u;
            u = a1 - X[jo + 1]; s += u * u;
            u = a2 - X[jo + 2]; s += u * u;
            u = a3 - X[jo + 3]; s += u * u;
            u = a4 - X[jo + 4]; s += u * u;
            u = a5 - X[jo + 5]; s += u * u;
            u = a6 - X[jo + 6]; s += u * u;
            u = a7 - X[jo + 7]; s += u * u;
            D[off + j] = Math.sqrt(s);
          }
          continue;
        }
        for (let j = j0; j < n; j++) {
          const jo = j * d;
          let s = 0;
          for (let t = 0; t < d; t++) {
            const u = X[io + t] - X[jo + t];
            s += u * u;
          }
          D[off + j] = Math.sqrt(s);
        }
      } else if (metric === 1) {
        for (let j = j0; j < n; j++) {
          const jo = j * d;
          let s = 0;
          for (let t = 0; t < d; t++) s += Math.abs(X[io + t] - X[jo + t]);
          D[off + j] = s;
        }
      } else {
        for (let j = j0; j < n; j++) {
          const jo = j * d;
          let s = 0;
          for (let t = 0; t < d; t++) s += X[io + t] * X[jo + t];
          let c = s / (norms[i] * norms[j]);
          if (c > 1) c = 1;
          else if (c < -1) c = -1;
          D[off + j] = 1 - c;
        }
      }
    }
  }
}

export interface LwUpdateShared {
  /** The square distance matrix (stride N). */
  D: Float64Array;
  /** Active positions, increasing (the first m entries). */
  alive: Int32Array;
}

export interface LwUpdateParams {
  /** The merged positions: x leaves, y takes the merged cluster. */
  x: number;
  y: number;
  /** Matrix stride. */
  N: number;
  /** Active positions (after x left). */
  m: number;
  /** 0 complete, 1 average, 2 weighted. */
  method: number;
  nx: number;
  ny: number;
  chunk: number;
}

/**
 * The Lance–Williams update after merging x into y on the square matrix, for the chunks'
 * ranges of active positions: row y and column y get the distances to the merged cluster.
 * Each entry depends only on rows x and y, so any split gives the same matrix.
 */
export function linkageLwUpdateKernel(S: LwUpdateShared, P: LwUpdateParams, chunkStart: number, chunkEnd: number): void {
  const { D, alive } = S;
  const { x, y, N, m, method, nx, ny, chunk } = P;
  const nxy = nx + ny;
  const ox = x * N;
  const oy = y * N;
  const end = Math.min(m, chunkEnd * chunk);
  for (let t = chunkStart * chunk; t < end; t++) {
    const i = alive[t];
    if (i === y) continue;
    const dxi = D[ox + i];
    const dyi = D[oy + i];
    let v: number;
    if (method === 0) v = dxi > dyi ? dxi : dyi;
    else if (method === 1) v = (nx * dxi + ny * dyi) / nxy;
    else v = 0.5 * (dxi + dyi);
    D[oy + i] = v;
    D[i * N + y] = v;
  }
}
