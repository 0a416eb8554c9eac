import type { MatrixLike } from "../core/matrix.js";
import { checkX, labelMeans } from "./inertia.js";
import { encodeClusterLabels } from "./labels.js";

/** numpy's `allclose(x, 0)`: |x| <= atol (1e-8), the relative part vanishing against 0. */
const ALLCLOSE_ATOL = 1e-8;

/**
 * Davies–Bouldin index, as scikit-learn's `davies_bouldin_score`: the mean over clusters of
 * maxⱼ (sᵢ + sⱼ) / ‖cᵢ − cⱼ‖, where cᵢ is cluster i's centroid and sᵢ the mean Euclidean
 * distance of its rows to cᵢ. Lower is better; 0 is the minimum.
 *
 * Labels are arbitrary integers; −1 is treated as a label like any other (as scikit-learn
 * does here), so DBSCAN/HDBSCAN noise counts as one more cluster unless it is removed first.
 * The number of distinct labels must be between 2 and n − 1 (InputError otherwise).
 *
 * As in scikit-learn, the score is 0 when every sᵢ or every centroid distance is within
 * 1e-8 of 0 (numpy's `allclose`), and pairs of clusters with identical centroids are left
 * out of the maximum. Distances are computed exactly (differences of coordinates), so a
 * cluster of one row has a spread of exactly 0; scikit-learn's ‖x‖² − 2x·y + ‖y‖² distances
 * give it about 1e-8 instead, which is the only difference from its value. O(n·d + m²·d).
 */
export function daviesBouldinScore(Xin: MatrixLike, labels: ArrayLike<number>): number {
  const X = checkX(Xin, "daviesBouldinScore");
  const { rows: n, cols: d, data } = X;
  const { codes, counts, m } = encodeClusterLabels(labels, n, "daviesBouldinScore");
  const centroids = new Float64Array(m * d);
  labelMeans(data, n, d, codes, m, null, centroids, new Float64Array(m));

  const spread = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const co = codes[i] * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = data[xo + t] - centroids[co + t];
      s += u * u;
    }
    spread[codes[i]] += Math.sqrt(s);
  }
  let allSpreadZero = true;
  for (let c = 0; c < m; c++) {
    spread[c] /= counts[c];
    if (!(Math.abs(spread[c]) <= ALLCLOSE_ATOL)) allSpreadZero = false;
  }

  const dist = new Float64Array(m * m);
  let allDistZero = true;
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const u = centroids[a * d + t] - centroids[b * d + t];
        s += u * u;
      }
      const r = Math.sqrt(s);
      dist[a * m + b] = r;
      dist[b * m + a] = r;
      if (!(r <= ALLCLOSE_ATOL)) allDistZero = false;
    }
  }
  if (allSpreadZero || allDistZero) return 0;

  let total = 0;
  for (let a = 0; a < m; a++) {
    let worst = 0;
    for (let b = 0; b < m; b++) {
      const r = dist[a * m + b];
      if (b === a || r === 0) continue;
      const v = (spread[a] + spread[b]) / r;
      if (v > worst) worst = v;
    }
    total += worst;
  }
  return total / m;
}
