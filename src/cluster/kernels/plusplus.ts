/**
 * The k-means++ passes over the rows, as a kernel workers run (cluster/kernels/index.ts).
 * Rows are cut into chunks of P.chunk; sums are kept per chunk and reduced in chunk order by the caller, so the centers chosen are the
 * same whatever the number of workers.
 *
 * Modes: 0 each candidate's potential on each chunk, pots[ch × nTrials + t] =
 * Σ wᵢ · min(closestᵢ, ‖xᵢ − x_cand[t]‖²) over the chunk's rows in order; 1 the closest
 * squared distances lowered to those to the row at offset P.co.
 */

export interface PlusPlusShared {
  /** n × d data, row-major. */
  X: Float64Array;
  weights: Float64Array;
  /** Squared distance of each row to its nearest chosen center. */
  closest: Float64Array;
  /** Candidate rows (mode 0). */
  cand: Int32Array;
  /** Per chunk: one potential per candidate (mode 0). */
  pots: Float64Array;
}

export interface PlusPlusParams {
  n: number;
  d: number;
  chunk: number;
  nTrials: number;
  mode: number;
  /** Mode 1: offset of the chosen row in X. */
  co: number;
}

export function plusPlusKernel(S: PlusPlusShared, P: PlusPlusParams, chunkStart: number, chunkEnd: number): void {
  const { X, weights, closest, cand, pots } = S;
  const { n, d, chunk, nTrials, mode, co } = P;
  // Passes specialised to d, with the candidate's coordinates in local variables (about twice
  // as fast as a loop over the features); generic loops where code cannot be generated.
  type Potential = (X: Float64Array, i0: number, i1: number, co: number, closest: Float64Array, weights: Float64Array) => number;
  type Update = (X: Float64Array, i0: number, i1: number, co: number, closest: Float64Array) => void;
  const g = globalThis as unknown as { __segmentaPlusPlus?: Record<number, { potential: Potential; update: Update } | null> };
  const cache = (g.__segmentaPlusPlus ??= {});
  let gen = cache[d];
  if (gen === undefined) {
    gen = null;
    if (d <= 64) {
      try {
        let load = "";
        let dist = "let t, s = 0;\n";
        for (let j = 0; j < d; j++) {
          load += "const c" + j + " = X[co + " + j + "];\n";
          dist += "t = X[xo + " + j + "] - c" + j + "; s += t * t;\n";
        }
        const loop = "for (let i = i0, xo = i0 * " + d + "; i < i1; i++, xo += " + d + ") {\n" + dist;
        gen = {
          potential: new Function("X", "i0", "i1", "co", "closest", "weights",
            load + "let p = 0;\n" + loop + "const ci = closest[i];\np += (s < ci ? s : ci) * weights[i];\n}\nreturn p;") as Potential,
          update: new Function("X", "i0", "i1", "co", "closest", load + loop + "if (s < closest[i]) closest[i] = s;\n}") as Update,
        };
      } catch {
        gen = null;
      }
    }
    cache[d] = gen;
  }
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const i0 = ch * chunk;
    const i1 = Math.min(n, i0 + chunk);
    if (mode === 0) {
      for (let t = 0; t < nTrials; t++) {
        const c = cand[t] * d;
        if (gen !== null) {
          pots[ch * nTrials + t] = gen.potential(X, i0, i1, c, closest, weights);
          continue;
        }
        let p = 0;
        for (let i = i0; i < i1; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const u = X[i * d + j] - X[c + j];
            s += u * u;
          }
          const ci = closest[i];
          p += (s < ci ? s : ci) * weights[i];
        }
        pots[ch * nTrials + t] = p;
      }
    } else if (gen !== null) {
      gen.update(X, i0, i1, co, closest);
    } else {
      for (let i = i0; i < i1; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const u = X[i * d + j] - X[co + j];
          s += u * u;
        }
        if (s < closest[i]) closest[i] = s;
      }
    }
  }
}
