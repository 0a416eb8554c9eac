import type { MatrixLike } from "../core/matrix.js";
import { checkX, labelMeans } from "./inertia.js";
import { encodeClusterLabels } from "./labels.js";

/**
 * Calinski–Harabasz index (variance ratio criterion), as scikit-learn's
 * `calinski_harabasz_score`: [B / (m − 1)] / [W / (n − m)], where B = Σₖ nₖ‖cₖ − c‖² is the
 * between-cluster dispersion, W = Σᵢ ‖xᵢ − c(labelᵢ)‖² the within-cluster dispersion, c the
 * mean of all rows and m the number of clusters. Higher is better; 1.0 when W is 0, as in
 * scikit-learn.
 *
 * Labels are arbitrary integers; −1 is treated as a label like any other (as scikit-learn
 * does here), so DBSCAN/HDBSCAN noise counts as one more cluster unless it is removed first.
 * The number of distinct labels must be between 2 and n − 1 (InputError otherwise). O(n·d).
 */
export function calinskiHarabaszScore(Xin: MatrixLike, labels: ArrayLike<number>): number {
  const X = checkX(Xin, "calinskiHarabaszScore");
  const { rows: n, cols: d, data } = X;
  const { codes, m } = encodeClusterLabels(labels, n, "calinskiHarabaszScore");
  const means = new Float64Array(m * d);
  const sizes = new Float64Array(m);
  labelMeans(data, n, d, codes, m, null, means, sizes);
  // Mean of all rows: the size-weighted mean of the cluster means.
  const overall = new Float64Array(d);
  for (let c = 0; c < m; c++) for (let t = 0; t < d; t++) overall[t] += sizes[c] * means[c * d + t];
  for (let t = 0; t < d; t++) overall[t] /= n;

  let between = 0;
  for (let c = 0; c < m; c++) {
    let s = 0;
    for (let t = 0; t < d; t++) {
      const u = means[c * d + t] - overall[t];
      s += u * u;
    }
    between += sizes[c] * s;
  }
  let within = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const co = codes[i] * d;
    for (let t = 0; t < d; t++) {
      const u = data[xo + t] - means[co + t];
      within += u * u;
    }
  }
  return within === 0 ? 1 : (between * (n - m)) / (within * (m - 1));
}
