/** Small dense linear algebra shared by the layers (PCA, the gap statistic). */

/** Up to this size symmetricEigen uses the Jacobi method (cheap there, and the results of small problems stay as they were). */
export const JACOBI_MAX = 64;

/**
 * Eigen-decomposition of a symmetric d × d matrix (row-major): the cyclic Jacobi method up
 * to d = JACOBI_MAX, tridiagonalEigen above. Returns the eigenvalues (in no particular order)
 * and the eigenvectors as the columns of a d × d row-major matrix.
 */
export function symmetricEigen(A: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  return d <= JACOBI_MAX ? jacobiEigen(A, d) : tridiagonalEigen(A, d);
}

/**
 * Eigen-decomposition of a symmetric d × d matrix (row-major) by the cyclic Jacobi method:
 * plane rotations zero the off-diagonal entries one at a time until their sum of squares is
 * negligible. Returns the eigenvalues (in no particular order) and the eigenvectors as the
 * columns of a d × d row-major matrix. O(d³) per sweep; meant for covariance matrices of a
 * few dozen rows at most (symmetricEigen uses it up to JACOBI_MAX).
 */
export function jacobiEigen(A: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += a[i] * a[i];
  const tiny = 1e-30 + 1e-24 * scale;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    if (off <= tiny) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // The rotation angle θ with tan 2θ = 2 a_pq / (a_qq − a_pp); t = tan θ, the smaller root.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < d; r++) {
          // columns p and q of A
          const arp = a[r * d + p];
          const arq = a[r * d + q];
          a[r * d + p] = c * arp - s * arq;
          a[r * d + q] = s * arp + c * arq;
        }
        for (let r = 0; r < d; r++) {
          // rows p and q of A
          const apr = a[p * d + r];
          const aqr = a[q * d + r];
          a[p * d + r] = c * apr - s * aqr;
          a[q * d + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < d; r++) {
          const vrp = v[r * d + p];
          const vrq = v[r * d + q];
          v[r * d + p] = c * vrp - s * vrq;
          v[r * d + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

/**
 * Eigen-decomposition of a symmetric d × d matrix (row-major): Householder reflections bring
 * it to tridiagonal form, then implicit QR steps with Wilkinson's shift drive the
 * off-diagonal to zero, splitting off one eigenvalue at a time. Returns the eigenvalues (in
 * no particular order) and the eigenvectors as the columns of a d × d row-major matrix.
 * About 6·d³ operations in all (d = 1,000 in a few seconds), where the cyclic Jacobi method
 * needs several sweeps of that.
 */
export function tridiagonalEigen(A: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A);
  const Qt = new Float64Array(d * d);
  for (let i = 0; i < d; i++) Qt[i * d + i] = 1;
  const w = new Float64Array(d);
  const diag = new Float64Array(d);
  const off = new Float64Array(Math.max(d - 1, 0));
  const v = new Float64Array(d);
  const p = new Float64Array(d);
  // Householder: for column k, a reflection H = I − 2vvᵀ on rows/columns k+1.. that zeroes a[k+2.., k].
  for (let k = 0; k < d - 2; k++) {
    const m = k + 1;
    let norm = 0;
    for (let i = m; i < d; i++) norm += a[i * d + k] * a[i * d + k];
    norm = Math.sqrt(norm);
    const x0 = a[m * d + k];
    const alpha = x0 > 0 ? -norm : norm;
    let vnorm = 0;
    for (let i = m; i < d; i++) {
      v[i] = a[i * d + k] - (i === m ? alpha : 0);
      vnorm += v[i] * v[i];
    }
    if (norm === 0 || vnorm === 0) continue;
    vnorm = Math.sqrt(vnorm);
    for (let i = m; i < d; i++) v[i] /= vnorm;
    // The trailing block B ← H B H = B − 2vqᵀ − 2qvᵀ with p = Bv, q = p − (vᵀp)v.
    let vp = 0;
    for (let i = m; i < d; i++) {
      let s = 0;
      for (let j = m; j < d; j++) s += a[i * d + j] * v[j];
      p[i] = s;
      vp += v[i] * s;
    }
    for (let i = m; i < d; i++) p[i] -= vp * v[i];
    for (let i = m; i < d; i++) {
      const vi = 2 * v[i];
      const qi = 2 * p[i];
      for (let j = m; j < d; j++) a[i * d + j] -= vi * p[j] + qi * v[j];
    }
    a[m * d + k] = a[k * d + m] = alpha;
    for (let i = m + 1; i < d; i++) a[i * d + k] = a[k * d + i] = 0;
    // Qᵀ ← H Qᵀ (the eigenvectors are kept as rows until the end, for contiguous updates).
    w.fill(0);
    for (let j = m; j < d; j++) {
      const vj = v[j];
      for (let c = 0; c < d; c++) w[c] += vj * Qt[j * d + c];
    }
    for (let j = m; j < d; j++) {
      const vj = 2 * v[j];
      for (let c = 0; c < d; c++) Qt[j * d + c] -= vj * w[c];
    }
  }
  for (let i = 0; i < d; i++) diag[i] = a[i * d + i];
  for (let i = 0; i < d - 1; i++) off[i] = a[(i + 1) * d + i];

  // Implicit QR steps on the tridiagonal (diag, off) over the unreduced block lo..hi.
  const eps = Number.EPSILON;
  let hi = d - 1;
  for (let guard = 0; hi > 0 && guard < 60 * d; guard++) {
    if (Math.abs(off[hi - 1]) <= eps * (Math.abs(diag[hi - 1]) + Math.abs(diag[hi]))) {
      off[hi - 1] = 0;
      hi--;
      continue;
    }
    let lo = hi - 1;
    while (lo > 0 && Math.abs(off[lo - 1]) > eps * (Math.abs(diag[lo - 1]) + Math.abs(diag[lo]))) lo--;
    // Wilkinson's shift: the eigenvalue of the trailing 2 × 2 closer to its last entry.
    const e = off[hi - 1];
    const h = (diag[hi - 1] - diag[hi]) / 2;
    const mu = diag[hi] - (e * e) / (h + (h >= 0 ? 1 : -1) * Math.hypot(h, e));
    let x = diag[lo] - mu;
    let z = off[lo];
    for (let k = lo; k < hi; k++) {
      const r = Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : z / r;
      if (k > lo) off[k - 1] = r;
      const ak = diag[k];
      const ak1 = diag[k + 1];
      const bk = off[k];
      diag[k] = c * c * ak + 2 * c * s * bk + s * s * ak1;
      diag[k + 1] = s * s * ak - 2 * c * s * bk + c * c * ak1;
      off[k] = c * s * (ak1 - ak) + (c * c - s * s) * bk;
      if (k + 1 < hi) {
        x = off[k];
        z = s * off[k + 1];
        off[k + 1] *= c;
      }
      const rk = k * d;
      const rk1 = rk + d;
      for (let col = 0; col < d; col++) {
        const qk = Qt[rk + col];
        const qk1 = Qt[rk1 + col];
        Qt[rk + col] = c * qk + s * qk1;
        Qt[rk1 + col] = -s * qk + c * qk1;
      }
    }
  }
  const vectors = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) vectors[j * d + i] = Qt[i * d + j];
  return { values: diag, vectors };
}

/** Column means and the sample covariance matrix (d × d, divisor n − 1) of a row-major matrix. */
export function meanAndCovariance(data: Float64Array, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j] - mean[j];
    for (let p = 0; p < d; p++) {
      const rp = row[p];
      if (rp === 0) continue;
      for (let q = p; q < d; q++) cov[p * d + q] += rp * row[q];
    }
  }
  for (let p = 0; p < d; p++) for (let q = p; q < d; q++) cov[q * d + p] = cov[p * d + q] /= Math.max(n - 1, 1);
  return { mean, cov };
}
