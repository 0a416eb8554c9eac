/**
 * The small dense linear algebra of Gaussian mixtures, on row-major d × d Float64Arrays:
 * Cholesky factors, the factor of a precision matrix from a covariance (scikit-learn's
 * `_compute_precision_cholesky`: the transposed inverse of the covariance's lower Cholesky
 * factor, an upper-triangular U with U Uᵀ = Σ⁻¹), and packing of upper triangles in the
 * order the kernels read them.
 */

/**
 * Lower Cholesky factor L of the symmetric d × d matrix A (A = L Lᵀ), written into `out`
 * (its upper triangle is set to 0). Returns false when a pivot is not positive (A is not
 * positive definite, or has a NaN), as LAPACK's potrf fails.
 */
export function choleskyLower(A: Float64Array, d: number, out: Float64Array, ao = 0, oo = 0): boolean {
  for (let i = 0; i < d * d; i++) out[oo + i] = 0;
  for (let j = 0; j < d; j++) {
    let s = A[ao + j * d + j];
    for (let t = 0; t < j; t++) {
      const v = out[oo + j * d + t];
      s -= v * v;
    }
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    out[oo + j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let v = A[ao + i * d + j];
      for (let t = 0; t < j; t++) v -= out[oo + i * d + t] * out[oo + j * d + t];
      out[oo + i * d + j] = v / ljj;
    }
  }
  return true;
}

/**
 * The inverse of a lower-triangular L (forward substitution on the identity), transposed:
 * the upper-triangular (L⁻¹)ᵀ, into `out`.
 */
export function invLowerTransposed(L: Float64Array, d: number, out: Float64Array, lo = 0, oo = 0): void {
  for (let i = 0; i < d * d; i++) out[oo + i] = 0;
  // Column c of L⁻¹ solves L y = e_c; y_r = 0 for r < c. Its entries y_r are row c of the result.
  for (let c = 0; c < d; c++) {
    for (let r = c; r < d; r++) {
      let v = r === c ? 1 : 0;
      for (let t = c; t < r; t++) v -= L[lo + r * d + t] * out[oo + c * d + t];
      out[oo + c * d + r] = v / L[lo + r * d + r];
    }
  }
}

/**
 * An upper-triangular U with U Uᵀ = P for a symmetric positive definite P (the Cholesky
 * factorisation with the order of the rows reversed). Returns false when P is not positive
 * definite.
 */
export function choleskyUpperOfPrecision(P: Float64Array, d: number, out: Float64Array, po = 0, oo = 0): boolean {
  const R = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) R[(d - 1 - i) * d + (d - 1 - j)] = P[po + i * d + j];
  const L = new Float64Array(d * d);
  if (!choleskyLower(R, d, L)) return false;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[oo + i * d + j] = L[(d - 1 - i) * d + (d - 1 - j)];
  return true;
}

/** A Aᵀ of a d × d matrix, into out. */
export function timesTranspose(A: Float64Array, d: number, out: Float64Array, ao = 0, oo = 0): void {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += A[ao + i * d + t] * A[ao + j * d + t];
      out[oo + i * d + j] = s;
    }
  }
}

/** Whether the d × d matrix is upper triangular (exact zeros below the diagonal). */
export function isUpperTriangular(A: Float64Array, d: number, ao = 0): boolean {
  for (let i = 1; i < d; i++) for (let j = 0; j < i; j++) if (A[ao + i * d + j] !== 0) return false;
  return true;
}

/** Whether the d × d matrix is lower triangular (exact zeros above the diagonal). */
export function isLowerTriangular(A: Float64Array, d: number, ao = 0): boolean {
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) if (A[ao + i * d + j] !== 0) return false;
  return true;
}

/**
 * Packs the upper triangle of a d × d matrix column by column (U[0][0]; U[0][1], U[1][1];
 * U[0][2], …), d(d+1)/2 values: the order in which the kernels form y_j = Σ_{i≤j} z_i U[i][j].
 */
export function packUpper(A: Float64Array, d: number, out: Float64Array, ao = 0, oo = 0): void {
  let p = oo;
  for (let j = 0; j < d; j++) for (let i = 0; i <= j; i++) out[p++] = A[ao + i * d + j];
}

/** Unpacks symmetric sums packed as packUpper packs (column by column, i ≤ j) into a full d × d matrix. */
export function unpackSymmetric(packed: Float64Array, d: number, out: Float64Array, po = 0, oo = 0): void {
  let p = po;
  for (let j = 0; j < d; j++) {
    for (let i = 0; i <= j; i++) {
      const v = packed[p++];
      out[oo + i * d + j] = v;
      out[oo + j * d + i] = v;
    }
  }
}

/** Whether |A − Aᵀ| ≤ atol + rtol·|Aᵀ| everywhere (numpy's allclose of A and its transpose). */
export function isSymmetric(A: Float64Array, d: number, ao = 0, rtol = 1e-5, atol = 1e-8): boolean {
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const a = A[ao + i * d + j];
      const b = A[ao + j * d + i];
      if (!(Math.abs(a - b) <= atol + rtol * Math.abs(b)) || !(Math.abs(b - a) <= atol + rtol * Math.abs(a))) return false;
    }
  }
  return true;
}
