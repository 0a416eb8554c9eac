/**
 * The exact t-SNE objective on a dense P: scikit-learn's `_kl_divergence`. Pure function
 * on flat arrays; writes the gradient into a caller-allocated buffer; allocates nothing.
 *
 * With dᵢⱼ = ‖yᵢ − yⱼ‖², wᵢⱼ = (1 + dᵢⱼ/ν)^(−(ν+1)/2) and qᵢⱼ = max(wᵢⱼ / Σ_{k≠l} w_kl, ε):
 *   KL = Σ_{i≠j} pᵢⱼ log(max(pᵢⱼ, ε) / qᵢⱼ),
 *   ∂KL/∂yᵢ = (2(ν+1)/ν) Σⱼ (pᵢⱼ − qᵢⱼ) wᵢⱼ (yᵢ − yⱼ),
 * ε the float64 machine epsilon. `P` is the full symmetric n × n matrix (diagonal ignored).
 */
export function klDivergenceExactKernel(
  Y: Float64Array, n: number, dim: number, P: Float64Array, dof: number, exaggeration: number,
  grad: Float64Array, computeError: boolean,
): number {
  const eps = 2.220446049250313e-16;
  const exponent = -(dof + 1) / 2;
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let a = 0; a < dim; a++) {
        const u = Y[i * dim + a] - Y[j * dim + a];
        d2 += u * u;
      }
      sumW += dof === 1 ? 1 / (1 + d2) : Math.pow(1 + d2 / dof, exponent);
    }
  }
  const norm = 2 * sumW;
  const c = (2 * (dof + 1)) / dof;
  let kl = 0;
  grad.fill(0, 0, n * dim);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let a = 0; a < dim; a++) {
        const u = Y[i * dim + a] - Y[j * dim + a];
        d2 += u * u;
      }
      const w = dof === 1 ? 1 / (1 + d2) : Math.pow(1 + d2 / dof, exponent);
      const q = Math.max(w / norm, eps);
      const p = P[i * n + j] * exaggeration;
      if (computeError) kl += p * Math.log(Math.max(p, eps) / q);
      const f = c * (p - q) * w;
      for (let a = 0; a < dim; a++) {
        const u = f * (Y[i * dim + a] - Y[j * dim + a]);
        grad[i * dim + a] += u;
        grad[j * dim + a] -= u;
      }
    }
  }
  return computeError ? 2 * kl : NaN;
}
