/**
 * Hot loops of t-SNE: self-contained functions (no imports, no closures, no module
 * constants) over flat typed arrays, with the parallel executor's kernel signature
 * `(shared, params, chunkStart, chunkEnd)`. Every kernel processes whole chunks of rows
 * (chunk c covers rows [⌊c·n/nChunks⌋, ⌊(c+1)·n/nChunks⌋)) and writes per-row outputs or
 * per-chunk partial sums, which the caller reduces in chunk order: results are the same
 * whether the chunks run on the calling thread or on any number of workers.
 */

export interface KnnShared {
  /** n × d data, row-major. */
  X: Float64Array;
  /** Output, n × k: neighbour indices, nearest first (ties: lower index first). */
  indices: Int32Array;
  /** Output, n × k: squared Euclidean distances, ascending. */
  distances: Float64Array;
}

export interface KnnParams {
  n: number;
  d: number;
  k: number;
  nChunks: number;
}

/**
 * Exact k nearest neighbours of each row among the other rows (the row itself excluded),
 * by a full scan with a bounded max-heap kept in the row's own output slots.
 */
export function knnKernel(S: KnnShared, P: KnnParams, chunkStart: number, chunkEnd: number): void {
  const { X, indices, distances } = S;
  const { n, d, k, nChunks } = P;
  for (let chunk = chunkStart; chunk < chunkEnd; chunk++) {
    const r0 = Math.floor((chunk * n) / nChunks);
    const r1 = Math.floor(((chunk + 1) * n) / nChunks);
    for (let i = r0; i < r1; i++) {
      const o = i * k;
      const xo = i * d;
      let size = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const yo = j * d;
        let s = 0;
        if (size < k) {
          for (let t = 0; t < d; t++) {
            const u = X[xo + t] - X[yo + t];
            s += u * u;
          }
        } else {
          // Partial distances only grow: stop as soon as the row cannot enter the heap.
          const top = distances[o];
          let t = 0;
          for (; t < d; t++) {
            const u = X[xo + t] - X[yo + t];
            s += u * u;
            if (s > top) break;
          }
          if (t < d) continue;
        }
        if (size < k) {
          // Sift up: a max-heap on (distance, index).
          let c = size++;
          while (c > 0) {
            const p = (c - 1) >> 1;
            const pd = distances[o + p];
            if (pd > s || (pd === s && indices[o + p] > j)) break;
            distances[o + c] = pd;
            indices[o + c] = indices[o + p];
            c = p;
          }
          distances[o + c] = s;
          indices[o + c] = j;
        } else {
          const top = distances[o];
          if (s > top || (s === top && j > indices[o])) continue;
          // Replace the root and sift down.
          let c = 0;
          for (;;) {
            const l = 2 * c + 1;
            if (l >= k) break;
            let m = l;
            const r = l + 1;
            if (r < k) {
              const ld = distances[o + l];
              const rd = distances[o + r];
              if (rd > ld || (rd === ld && indices[o + r] > indices[o + l])) m = r;
            }
            const md = distances[o + m];
            if (md < s || (md === s && indices[o + m] < j)) break;
            distances[o + c] = md;
            indices[o + c] = indices[o + m];
            c = m;
          }
          distances[o + c] = s;
          indices[o + c] = j;
        }
      }
      // Heap sort in place: ascending (distance, index).
      for (let end = size - 1; end > 0; end--) {
        const td = distances[o];
        const ti = indices[o];
        const s = distances[o + end];
        const sj = indices[o + end];
        distances[o + end] = td;
        indices[o + end] = ti;
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= end) break;
          let m = l;
          const r = l + 1;
          if (r < end) {
            const ld = distances[o + l];
            const rd = distances[o + r];
            if (rd > ld || (rd === ld && indices[o + r] > indices[o + l])) m = r;
          }
          const md = distances[o + m];
          if (md < s || (md === s && indices[o + m] < sj)) break;
          distances[o + c] = md;
          indices[o + c] = indices[o + m];
          c = m;
        }
        distances[o + c] = s;
        indices[o + c] = sj;
      }
    }
  }
}

export interface PerplexityShared {
  /** n × k squared distances (already rounded to float32, as scikit-learn does). */
  distances: Float64Array;
  /** Output, n × k: conditional probabilities p(j | i). */
  conditional: Float64Array;
  /** Output, n: the precision β of each row's Gaussian. */
  beta: Float64Array;
}

export interface PerplexityParams {
  n: number;
  k: number;
  perplexity: number;
  /** 1: the k columns are nearest neighbours; 0: a full n × n matrix whose diagonal is skipped. */
  usingNeighbors: number;
  nChunks: number;
}

/**
 * Binary search of each row's Gaussian precision so that the conditional distribution
 * has the wanted perplexity: scikit-learn's `_binary_search_perplexity` (start at β = 1,
 * double or halve until bracketed, then bisect; at most 100 steps; stop when the entropy
 * is within 1e-5 of log(perplexity); a zero sum becomes 1e-8).
 */
export function perplexityKernel(S: PerplexityShared, P: PerplexityParams, chunkStart: number, chunkEnd: number): void {
  const { distances, conditional, beta: betaOut } = S;
  const { n, k, perplexity, usingNeighbors, nChunks } = P;
  const desiredEntropy = Math.log(perplexity);
  for (let chunk = chunkStart; chunk < chunkEnd; chunk++) {
    const r0 = Math.floor((chunk * n) / nChunks);
    const r1 = Math.floor(((chunk + 1) * n) / nChunks);
    for (let i = r0; i < r1; i++) {
      const o = i * k;
      let betaMin = -Infinity;
      let betaMax = Infinity;
      let beta = 1;
      const skip = usingNeighbors ? -1 : i;
      for (let step = 0; step < 100; step++) {
        let sumP = 0;
        for (let j = 0; j < k; j++) {
          if (j === skip) continue;
          const p = Math.exp(-distances[o + j] * beta);
          conditional[o + j] = p;
          sumP += p;
        }
        if (sumP === 0) sumP = 1e-8;
        let sumDistP = 0;
        for (let j = 0; j < k; j++) {
          if (j === skip) continue;
          const p = conditional[o + j] / sumP;
          conditional[o + j] = p;
          sumDistP += distances[o + j] * p;
        }
        const entropyDiff = Math.log(sumP) + beta * sumDistP - desiredEntropy;
        if (Math.abs(entropyDiff) <= 1e-5) break;
        if (entropyDiff > 0) {
          betaMin = beta;
          beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
        } else {
          betaMax = beta;
          beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
        }
      }
      if (skip >= 0) conditional[o + skip] = 0;
      betaOut[i] = beta;
    }
  }
}

export interface BHNegativeShared {
  /** n × 2 embedding. */
  Y: Float64Array;
  /** The flattened quadtree (depth-first order), 4 values per cell: barycenter x, y, squared width (−1 for a leaf), point count. */
  cells: Float64Array;
  /** Per cell: the index just past its subtree. */
  cellNext: Int32Array;
  /** The order in which to process the points (a permutation of 0..n−1); chunks are ranges of it. */
  order: Int32Array;
  /** Output, n × 2: unnormalised repulsive forces Σ size·q²·(yᵢ − barycenter). */
  neg: Float64Array;
  /** Output, one per chunk: that chunk's part of Z = Σ size·q. */
  sumQ: Float64Array;
}

export interface BHNegativeParams {
  n: number;
  nCells: number;
  /** angle² (scikit-learn's squared_theta). */
  theta2: number;
  nChunks: number;
}

/**
 * The repulsive part of the Barnes–Hut t-SNE gradient (2-D, one degree of freedom), as
 * scikit-learn's quadtree summarize: a cell is used as a summary when it is a leaf or when
 * width² / distance² < angle²; a leaf whose barycenter is within 1e-6 of the point on every
 * axis (the point itself and its duplicates) is skipped. The tree is walked as a flat array
 * in depth-first order: accept a cell and jump to `next`, or open it and step to cell + 1.
 */
export function bhNegativeKernel(S: BHNegativeShared, P: BHNegativeParams, chunkStart: number, chunkEnd: number): void {
  const { Y, cells, cellNext, order, neg, sumQ } = S;
  const { n, nCells, theta2, nChunks } = P;
  for (let chunk = chunkStart; chunk < chunkEnd; chunk++) {
    const r0 = Math.floor((chunk * n) / nChunks);
    const r1 = Math.floor(((chunk + 1) * n) / nChunks);
    let z = 0;
    for (let t = r0; t < r1; t++) {
      const i = order[t];
      const px = Y[2 * i];
      const py = Y[2 * i + 1];
      let fx = 0;
      let fy = 0;
      let c = 0;
      while (c < nCells) {
        const o = 4 * c;
        const dx = px - cells[o];
        const dy = py - cells[o + 1];
        const w2 = cells[o + 2];
        const d2 = dx * dx + dy * dy;
        if (w2 < 0) {
          // A leaf: skip the point itself (and its exact duplicates).
          if (dx > 1e-6 || dx < -1e-6 || dy > 1e-6 || dy < -1e-6) {
            const q = 1 / (1 + d2);
            const sq = cells[o + 3] * q;
            z += sq;
            const m = sq * q;
            fx += m * dx;
            fy += m * dy;
          }
          c++;
        } else if (w2 < theta2 * d2) {
          const q = 1 / (1 + d2);
          const sq = cells[o + 3] * q;
          z += sq;
          const m = sq * q;
          fx += m * dx;
          fy += m * dy;
          c = cellNext[c];
        } else c++;
      }
      neg[2 * i] = fx;
      neg[2 * i + 1] = fy;
    }
    sumQ[chunk] = z;
  }
}

export interface BHPositiveShared {
  /** n × dim embedding. */
  Y: Float64Array;
  /** The symmetric joint probabilities P in CSR form. */
  indptr: Int32Array;
  indices: Int32Array;
  values: Float64Array;
  /** Output, n × dim: attractive forces Σⱼ pᵢⱼ·qᵢⱼ·(yᵢ − yⱼ) (qᵢⱼ unnormalised). */
  pos: Float64Array;
  /** Output, one per chunk: that chunk's part of Σ pᵢⱼ log(pᵢⱼ / qᵢⱼ) (when computeError). */
  error: Float64Array;
}

export interface BHPositiveParams {
  n: number;
  dim: number;
  /** Degrees of freedom of the Student t kernel. */
  dof: number;
  /** Multiplier of P (the early exaggeration, or 1). */
  exaggeration: number;
  /** Z = Σ q (to normalise q in the error). */
  sumQ: number;
  computeError: number;
  nChunks: number;
}

/**
 * The attractive part of the t-SNE gradient over the nonzero pᵢⱼ, and the KL divergence as
 * scikit-learn's compute_gradient_positive: Σ pᵢⱼ log(max(pᵢⱼ, tiny) / max(qᵢⱼ/Z, tiny)) with
 * tiny the smallest normal float32.
 */
export function bhPositiveKernel(S: BHPositiveShared, P: BHPositiveParams, chunkStart: number, chunkEnd: number): void {
  const { Y, indptr, indices, values, pos, error } = S;
  const { n, dim, dof, exaggeration, sumQ, computeError, nChunks } = P;
  const tiny = 1.1754943508222875e-38;
  const exponent = (dof + 1) / 2;
  for (let chunk = chunkStart; chunk < chunkEnd; chunk++) {
    const r0 = Math.floor((chunk * n) / nChunks);
    const r1 = Math.floor(((chunk + 1) * n) / nChunks);
    let C = 0;
    if (dim === 2 && dof === 1 && !computeError) {
      // The common case, kept branch-free.
      for (let i = r0; i < r1; i++) {
        const px = Y[2 * i];
        const py = Y[2 * i + 1];
        let fx = 0;
        let fy = 0;
        const e1 = indptr[i + 1];
        for (let e = indptr[i]; e < e1; e++) {
          const j2 = 2 * indices[e];
          const dx = px - Y[j2];
          const dy = py - Y[j2 + 1];
          const pq = values[e] / (1 + dx * dx + dy * dy);
          fx += pq * dx;
          fy += pq * dy;
        }
        pos[2 * i] = exaggeration * fx;
        pos[2 * i + 1] = exaggeration * fy;
      }
    } else if (dim === 2) {
      for (let i = r0; i < r1; i++) {
        const px = Y[2 * i];
        const py = Y[2 * i + 1];
        let fx = 0;
        let fy = 0;
        for (let e = indptr[i]; e < indptr[i + 1]; e++) {
          const j = indices[e];
          const dx = px - Y[2 * j];
          const dy = py - Y[2 * j + 1];
          let q = dof / (dof + dx * dx + dy * dy);
          if (dof !== 1) q = Math.pow(q, exponent);
          const p = values[e] * exaggeration;
          const pq = p * q;
          fx += pq * dx;
          fy += pq * dy;
          if (computeError) C += p * Math.log(Math.max(p, tiny) / Math.max(q / sumQ, tiny));
        }
        pos[2 * i] = fx;
        pos[2 * i + 1] = fy;
      }
    } else {
      for (let i = r0; i < r1; i++) {
        for (let a = 0; a < dim; a++) pos[i * dim + a] = 0;
        for (let e = indptr[i]; e < indptr[i + 1]; e++) {
          const j = indices[e];
          let d2 = 0;
          for (let a = 0; a < dim; a++) {
            const u = Y[i * dim + a] - Y[j * dim + a];
            d2 += u * u;
          }
          let q = dof / (dof + d2);
          if (dof !== 1) q = Math.pow(q, exponent);
          const p = values[e] * exaggeration;
          const pq = p * q;
          for (let a = 0; a < dim; a++) pos[i * dim + a] += pq * (Y[i * dim + a] - Y[j * dim + a]);
          if (computeError) C += p * Math.log(Math.max(p, tiny) / Math.max(q / sumQ, tiny));
        }
      }
    }
    error[chunk] = C;
  }
}
