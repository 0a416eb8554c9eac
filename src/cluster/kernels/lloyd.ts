/**
 * Hot loops of K-Means on flat row-major Float64Arrays. Pure functions: every output buffer
 * is allocated by the caller, nothing is allocated inside.
 */

/** Squared Euclidean distance between row i of X and row c of C (both with d columns). */
export function sqDist(X: Float64Array, i: number, C: Float64Array, c: number, d: number): number {
  let s = 0;
  const xo = i * d;
  const co = c * d;
  for (let j = 0; j < d; j++) {
    const t = X[xo + j] - C[co + j];
    s += t * t;
  }
  return s;
}

/**
 * Assigns each row of X to its nearest center (ties go to the lower center index) and
 * writes the label and the squared distance. Returns the weighted sum of squared distances.
 */
export function assignLabels(
  X: Float64Array, n: number, d: number, C: Float64Array, k: number,
  labels: Int32Array, dist: Float64Array | null, weights: Float64Array | null,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    const xo = i * d;
    for (let c = 0; c < k; c++) {
      const co = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = X[xo + j] - C[co + j];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = c;
      }
    }
    labels[i] = best;
    if (dist) dist[i] = bestD;
    total += weights ? weights[i] * bestD : bestD;
  }
  return total;
}

/**
 * Weighted sums of the rows of each cluster into `sums` (k × d) and the weight of each
 * cluster into `clusterWeight` (k). Both are overwritten.
 */
export function accumulateCenters(
  X: Float64Array, n: number, d: number, labels: Int32Array, weights: Float64Array,
  k: number, sums: Float64Array, clusterWeight: Float64Array,
): void {
  sums.fill(0, 0, k * d);
  clusterWeight.fill(0, 0, k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    const w = weights[i];
    clusterWeight[c] += w;
    const xo = i * d;
    const so = c * d;
    for (let j = 0; j < d; j++) sums[so + j] += X[xo + j] * w;
  }
}

/** Weighted inertia of a labelling: Σ w_i ‖x_i − c_{label(i)}‖². */
export function inertiaOf(
  X: Float64Array, n: number, d: number, C: Float64Array, labels: Int32Array, weights: Float64Array | null,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const s = sqDist(X, i, C, labels[i], d);
    total += weights ? weights[i] * s : s;
  }
  return total;
}
