/**
 * The Gaussian mixture's worker kernel (registered with the pool as `mixtureKernels`).
 *
 * mixtureEStep: one pass over chunks of rows that is both scikit-learn's E-step and the sums
 * of its M-step. For every row it forms the weighted log-probabilities of the components
 * (log wₖ + log N(x | μₖ, Σₖ), through the upper-triangular factor U of each precision:
 * ‖(x − μₖ) U‖²), normalises them with log-sum-exp (the row's log-likelihood, summed per
 * chunk for the lower bound) and, when asked, adds the responsibilities r to the chunk's sums:
 * Σ r, Σ r z and Σ r z zᵀ (full; its upper triangle) or Σ r z² per feature (diag,
 * spherical), where z = x − μₖ (the component's current mean: sums about it stay accurate
 * when the data are far from the origin), or for "tied" Σ r (x − c) about the columns' mean
 * c (its scatter about c is computed once per fit). The caller adds the chunks' sums in
 * chunk order, so results do not depend on the number of workers. Optionally it writes each
 * row's most probable component, log-likelihood and responsibilities (predict, scoreSamples,
 * predictProba, the fit's final E-step).
 *
 * Loops specialised to the dimension d (the loops over features unrolled) are generated and
 * compiled once per covariance type and d, and cached on globalThis; where code cannot be
 * generated (a strict CSP) generic loops with the same arithmetic in the same order are used,
 * so results are the same either way.
 */

/** Covariance types by number, as the kernel's `type` parameter. */
export const FULL = 0;
export const TIED = 1;
export const DIAG = 2;
export const SPHERICAL = 3;

/** Largest d for which specialised loops are generated. */
export const MIXTURE_GEN_MAX_D = 24;

export interface MixtureShared {
  /** n × d rows. */
  X: Float64Array;
  /** k × d means. */
  mu: Float64Array;
  /**
   * Precisions: full, k packed upper factors (d(d+1)/2 each, see linalg's packUpper); tied,
   * one packed factor; diag, k × d precisions; spherical, k precisions.
   */
  prec: Float64Array;
  /** tied: k × d products μₖ U (else empty). */
  muU: Float64Array;
  /** tied: the d column means about which Σ r (x − c) is taken (else empty). */
  cen: Float64Array;
  /** Per component: log wₖ − d/2 log 2π + log det U. */
  bias: Float64Array;
  /** Per chunk: k sums of responsibilities. */
  R: Float64Array;
  /** Per chunk: k × d sums of r z. */
  S1: Float64Array;
  /** Per chunk: k × m second-moment sums (m = d(d+1)/2 full, d diag/spherical, 0 tied). */
  S2: Float64Array;
  /** Per chunk: the sum of the rows' log-likelihoods. */
  lpn: Float64Array;
  /** Optional outputs (empty when not wanted): most probable component, log-likelihood, responsibilities (n × k). */
  labels: Int32Array;
  logp: Float64Array;
  resp: Float64Array;
}

export interface MixtureParams {
  n: number;
  d: number;
  k: number;
  chunk: number;
  type: number;
  /** 1: add the responsibilities to the chunk's sums. */
  acc: number;
}

/** Second-moment values per component in the sums: d(d+1)/2 (full), d (diag, spherical), 0 (tied). */
export function secondMomentSize(type: number, d: number): number {
  return type === FULL ? (d * (d + 1)) / 2 : type === TIED ? 0 : d;
}

type ChunkFn = (
  X: Float64Array, mu: Float64Array, prec: Float64Array, muU: Float64Array, cen: Float64Array, bias: Float64Array,
  k: number, start: number, end: number, acc: number,
  R: Float64Array, ro: number, S1: Float64Array, s1o: number, S2: Float64Array, s2o: number,
  labels: Int32Array, logp: Float64Array, resp: Float64Array, w: Float64Array,
) => number;

const ARGS = ["X", "mu", "prec", "muU", "cen", "bias", "k", "start", "end", "acc", "R", "ro", "S1", "s1o", "S2", "s2o", "labels", "logp", "resp", "w"];

/** Source of the chunk loop for one covariance type and dimension, loops over features unrolled. */
export function mixtureSource(type: number, d: number): string {
  const m2 = (d * (d + 1)) / 2;
  const J = Array.from({ length: d }, (_, j) => j);
  let s = "let total = 0;\nconst outL = labels.length > 0, outP = logp.length > 0, outR = resp.length > 0;\n";
  s += "for (let i = start; i < end; i++) {\nconst xo = i * " + d + ";\n";
  s += J.map((j) => `const x${j} = X[xo + ${j}];`).join("\n") + "\n";
  s += "let mx = -Infinity, am = 0;\n";
  if (type === TIED) {
    // x U once per row; per component y = x U − μₖ U.
    let p = 0;
    for (const j of J) {
      const terms = [];
      for (let i = 0; i <= j; i++) terms.push(`x${i} * prec[${p++}]`);
      s += `const v${j} = ${terms.join(" + ")};\n`;
    }
    s += "for (let c = 0, mo = 0; c < k; c++, mo += " + d + ") {\nlet y, q = 0;\n";
    for (const j of J) s += `y = v${j} - muU[mo + ${j}]; q += y * y;\n`;
  } else {
    s += "for (let c = 0, mo = 0; c < k; c++, mo += " + d + ") {\n";
    s += J.map((j) => `const z${j} = x${j} - mu[mo + ${j}];`).join("\n") + "\n";
    if (type === FULL) {
      s += "const uo = c * " + m2 + ";\nlet y, q = 0;\n";
      let p = 0;
      for (const j of J) {
        const terms = [];
        for (let i = 0; i <= j; i++) terms.push(`z${i} * prec[uo + ${p++}]`);
        s += `y = ${terms.join(" + ")}; q += y * y;\n`;
      }
    } else if (type === DIAG) {
      s += "let q = 0;\n";
      for (const j of J) s += `q += z${j} * z${j} * prec[mo + ${j}];\n`;
    } else {
      s += "let q = 0;\n";
      for (const j of J) s += `q += z${j} * z${j};\n`;
      s += "q = q * prec[c];\n";
    }
  }
  s += "const wl = bias[c] - 0.5 * q;\nw[c] = wl;\nif (wl > mx) { mx = wl; am = c; }\n}\n";
  s += LOGSUMEXP;
  s += "if (acc !== 0) {\n";
  if (type === TIED) {
    s += J.map((j) => `const z${j} = x${j} - cen[${j}];`).join("\n") + "\n";
    s += "for (let c = 0; c < k; c++) {\nconst r = w[c] * inv;\nif (r === 0) continue;\nR[ro + c] += r;\nconst o1 = s1o + c * " + d + ";\n";
    for (const j of J) s += `S1[o1 + ${j}] += r * z${j};\n`;
    s += "}\n";
  } else {
    const ms = type === FULL ? m2 : d;
    s += "for (let c = 0, mo = 0; c < k; c++, mo += " + d + ") {\nconst r = w[c] * inv;\nif (r === 0) continue;\nR[ro + c] += r;\n";
    s += "const o1 = s1o + mo, o2 = s2o + c * " + ms + ";\n";
    for (const j of J) s += `const z${j} = x${j} - mu[mo + ${j}]; const r${j} = r * z${j}; S1[o1 + ${j}] += r${j};\n`;
    if (type === FULL) {
      let p = 0;
      for (const j of J) for (let i = 0; i <= j; i++) s += `S2[o2 + ${p++}] += r${i} * z${j};\n`;
    } else {
      for (const j of J) s += `S2[o2 + ${j}] += r${j} * z${j};\n`;
    }
    s += "}\n";
  }
  s += "}\n";
  s += OUTPUTS;
  s += "}\nreturn total;";
  return s;
}

/** Shared tail of the row loop: log-sum-exp as scipy's (the largest term factored out; 0 if it is not finite). */
const LOGSUMEXP =
  "const base = mx === -Infinity || mx === Infinity || mx !== mx ? 0 : mx;\nlet sum = 0;\n" +
  "for (let c = 0; c < k; c++) { const e = Math.exp(w[c] - base); w[c] = e; sum += e; }\n" +
  "const lp = Math.log(sum) + base;\ntotal += lp;\nconst inv = 1 / sum;\n";

const OUTPUTS =
  "if (outL) labels[i] = am;\nif (outP) logp[i] = lp;\n" +
  "if (outR) { const ro2 = i * k; for (let c = 0; c < k; c++) resp[ro2 + c] = w[c] * inv; }\n";

/** The same loop for any d, with the arithmetic of the generated code in the same order. */
function genericChunk(type: number, d: number): ChunkFn {
  const m2 = (d * (d + 1)) / 2;
  const x = new Float64Array(d);
  const z = new Float64Array(d);
  const rz = new Float64Array(d);
  const v = new Float64Array(d);
  return (X, mu, prec, muU, cen, bias, k, start, end, acc, R, ro, S1, s1o, S2, s2o, labels, logp, resp, w) => {
    let total = 0;
    const outL = labels.length > 0;
    const outP = logp.length > 0;
    const outR = resp.length > 0;
    for (let i = start; i < end; i++) {
      const xo = i * d;
      for (let j = 0; j < d; j++) x[j] = X[xo + j];
      let mx = -Infinity;
      let am = 0;
      if (type === TIED) {
        let p = 0;
        for (let j = 0; j < d; j++) {
          let y = x[0] * prec[p++];
          for (let t = 1; t <= j; t++) y += x[t] * prec[p++];
          v[j] = y;
        }
      }
      for (let c = 0, mo = 0; c < k; c++, mo += d) {
        let q = 0;
        if (type === TIED) {
          for (let j = 0; j < d; j++) {
            const y = v[j] - muU[mo + j];
            q += y * y;
          }
        } else {
          for (let j = 0; j < d; j++) z[j] = x[j] - mu[mo + j];
          if (type === FULL) {
            const uo = c * m2;
            let p = 0;
            for (let j = 0; j < d; j++) {
              let y = z[0] * prec[uo + p++];
              for (let t = 1; t <= j; t++) y += z[t] * prec[uo + p++];
              q += y * y;
            }
          } else if (type === DIAG) {
            for (let j = 0; j < d; j++) q += z[j] * z[j] * prec[mo + j];
          } else {
            for (let j = 0; j < d; j++) q += z[j] * z[j];
            q = q * prec[c];
          }
        }
        const wl = bias[c] - 0.5 * q;
        w[c] = wl;
        if (wl > mx) {
          mx = wl;
          am = c;
        }
      }
      const base = mx === -Infinity || mx === Infinity || mx !== mx ? 0 : mx;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(w[c] - base);
        w[c] = e;
        sum += e;
      }
      const lp = Math.log(sum) + base;
      total += lp;
      const inv = 1 / sum;
      if (acc !== 0) {
        if (type === TIED) {
          for (let j = 0; j < d; j++) z[j] = x[j] - cen[j];
          for (let c = 0; c < k; c++) {
            const r = w[c] * inv;
            if (r === 0) continue;
            R[ro + c] += r;
            const o1 = s1o + c * d;
            for (let j = 0; j < d; j++) S1[o1 + j] += r * z[j];
          }
        } else {
          const ms = type === FULL ? m2 : d;
          for (let c = 0, mo = 0; c < k; c++, mo += d) {
            const r = w[c] * inv;
            if (r === 0) continue;
            R[ro + c] += r;
            const o1 = s1o + mo;
            const o2 = s2o + c * ms;
            for (let j = 0; j < d; j++) {
              z[j] = x[j] - mu[mo + j];
              rz[j] = r * z[j];
              S1[o1 + j] += rz[j];
            }
            if (type === FULL) {
              let p = 0;
              for (let j = 0; j < d; j++) for (let t = 0; t <= j; t++) S2[o2 + p++] += rz[t] * z[j];
            } else {
              for (let j = 0; j < d; j++) S2[o2 + j] += rz[j] * z[j];
            }
          }
        }
      }
      if (outL) labels[i] = am;
      if (outP) logp[i] = lp;
      if (outR) {
        const o = i * k;
        for (let c = 0; c < k; c++) resp[o + c] = w[c] * inv;
      }
    }
    return total;
  };
}

/** The chunk loop for a covariance type and d: generated (cached) when possible, else generic. */
export function mixtureChunkFn(type: number, d: number, allowGenerated = true): ChunkFn {
  if (!allowGenerated || d > MIXTURE_GEN_MAX_D) return genericChunk(type, d);
  const g = globalThis as unknown as { __segmentaMixture?: Record<string, ChunkFn | null> };
  const cache = (g.__segmentaMixture ??= {});
  const key = `${type}:${d}`;
  let fn = cache[key];
  if (fn === undefined) {
    try {
      fn = new Function(...ARGS, mixtureSource(type, d)) as ChunkFn;
    } catch {
      fn = null; // no runtime code generation here: the generic loops
    }
    cache[key] = fn;
  }
  return fn ?? genericChunk(type, d);
}

/** The E-step (and the M-step's sums) over chunks [chunkStart, chunkEnd) of `chunk` rows. */
export function mixtureEStepKernel(S: MixtureShared, P: MixtureParams, chunkStart: number, chunkEnd: number): void {
  const { n, d, k, chunk, type, acc } = P;
  const fn = mixtureChunkFn(type, d);
  const ms = secondMomentSize(type, d);
  const w = new Float64Array(k);
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const start = ch * chunk;
    const end = Math.min(n, start + chunk);
    const ro = ch * k;
    const s1o = ch * k * d;
    const s2o = ch * k * ms;
    if (acc !== 0) {
      S.R.fill(0, ro, ro + k);
      S.S1.fill(0, s1o, s1o + k * d);
      S.S2.fill(0, s2o, s2o + k * ms);
    }
    S.lpn[ch] = fn(S.X, S.mu, S.prec, S.muU, S.cen, S.bias, k, start, end, acc, S.R, ro, S.S1, s1o, S.S2, s2o, S.labels, S.logp, S.resp, w);
  }
}

export const mixtureKernels = {
  mixtureEStep: mixtureEStepKernel,
};
