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

/**
 * Largest d for which specialised loops are generated: full and tied unroll the d(d+1)/2
 * terms of a triangular factor, and beyond d = 28 (406 terms) the generated function grows
 * past what V8 optimises (full at d = 32 ran 5× slower than the generic loops); diag and
 * spherical unroll d terms.
 */
export const MIXTURE_GEN_MAX_D = { triangular: 28, diagonal: 64 };

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
  labels: Int32Array, logp: Float64Array, resp: Float64Array, W: Float64Array,
) => number;

const ARGS = ["X", "mu", "prec", "muU", "cen", "bias", "k", "start", "end", "acc", "R", "ro", "S1", "s1o", "S2", "s2o", "labels", "logp", "resp", "W"];

/**
 * Rows per block. A chunk is processed block by block: (A) each component's weighted
 * log-probabilities for the block's rows, with that component's parameters held in locals;
 * (B) per row, log-sum-exp and the responsibilities; (C) per component, the block's sums in
 * locals, then added to the chunk's sums. W holds the block's k × BLOCK exponentials, d ×
 * BLOCK for "tied"'s x U, and each row's 1 / Σ exp (the responsibility is exp × that, formed
 * where it is used).
 */
export const MIXTURE_BLOCK = 256;

/** Scratch length a chunk function needs. */
export function mixtureScratchLength(k: number, d: number): number {
  return (k + d + 1) * MIXTURE_BLOCK;
}

/** Source of the chunk loop for one covariance type and dimension, loops over features unrolled. */
export function mixtureSource(type: number, d: number): string {
  const B = MIXTURE_BLOCK;
  const m2 = (d * (d + 1)) / 2;
  const J = Array.from({ length: d }, (_, j) => j);
  const lines = (f: (j: number) => string): string => J.map(f).join("\n") + "\n";
  let s = "let total = 0;\nconst outL = labels.length > 0, outP = logp.length > 0, outR = resp.length > 0;\nconst VO = k * " + B + ", IO = (k + " + d + ") * " + B + ";\n";
  s += "for (let b0 = start; b0 < end; b0 += " + B + ") {\nconst b1 = Math.min(end, b0 + " + B + ");\n";
  // (A) weighted log-probabilities, component by component.
  if (type === TIED) {
    s += "for (let i = b0, t = 0; i < b1; i++, t++) {\nconst xo = i * " + d + ", vo = VO + t * " + d + ";\n";
    let p = 0;
    for (const j of J) {
      const terms = [];
      for (let i = 0; i <= j; i++) terms.push(`X[xo + ${i}] * prec[${p++}]`);
      s += `W[vo + ${j}] = ${terms.join(" + ")};\n`;
    }
    s += "}\n";
  }
  s += "for (let c = 0, mo = 0; c < k; c++, mo += " + d + ") {\nconst bc = bias[c], wo = c * " + B + ";\n";
  if (type === TIED) s += lines((j) => `const m${j} = muU[mo + ${j}];`);
  else s += lines((j) => `const m${j} = mu[mo + ${j}];`);
  if (type === FULL) {
    s += "const uo = c * " + m2 + ";\n";
    for (let p = 0; p < m2; p++) s += `const u${p} = prec[uo + ${p}];\n`;
  } else if (type === DIAG) s += lines((j) => `const p${j} = prec[mo + ${j}];`);
  else if (type === SPHERICAL) s += "const pc = prec[c];\n";
  s += "for (let i = b0, t = 0; i < b1; i++, t++) {\n";
  if (type === TIED) {
    s += "const vo = VO + t * " + d + ";\nlet y, q = 0;\n";
    s += lines((j) => `y = W[vo + ${j}] - m${j}; q += y * y;`);
  } else {
    s += "const xo = i * " + d + ";\n" + lines((j) => `const z${j} = X[xo + ${j}] - m${j};`);
    if (type === FULL) {
      s += "let y, q = 0;\n";
      let p = 0;
      for (const j of J) {
        const terms = [];
        for (let i = 0; i <= j; i++) terms.push(`z${i} * u${p++}`);
        s += `y = ${terms.join(" + ")}; q += y * y;\n`;
      }
    } else if (type === DIAG) {
      s += "let q = 0;\n" + lines((j) => `q += z${j} * z${j} * p${j};`);
    } else {
      s += "let q = 0;\n" + lines((j) => `q += z${j} * z${j};`) + "q = q * pc;\n";
    }
  }
  s += "W[wo + t] = bc - 0.5 * q;\n}\n}\n";
  // (B) log-sum-exp per row (scipy's: the largest term factored out, 0 when it is not finite).
  s += "for (let i = b0, t = 0; i < b1; i++, t++) {\nlet mx = -Infinity, am = 0;\n";
  s += "for (let c = 0, o = t; c < k; c++, o += " + B + ") { const wl = W[o]; if (wl > mx) { mx = wl; am = c; } }\n";
  s += "const base = mx === -Infinity || mx === Infinity || mx !== mx ? 0 : mx;\nlet sum = 0;\n";
  s += "for (let c = 0, o = t; c < k; c++, o += " + B + ") { const e = Math.exp(W[o] - base); W[o] = e; sum += e; }\n";
  s += "const lp = Math.log(sum) + base;\ntotal += lp;\nconst inv = 1 / sum;\nW[IO + t] = inv;\n";
  s += "if (outL) labels[i] = am;\nif (outP) logp[i] = lp;\n";
  s += "if (outR) { const o2 = i * k; for (let c = 0, o = t; c < k; c++, o += " + B + ") resp[o2 + c] = W[o] * inv; }\n}\n";
  // (C) the block's sums per component, in locals.
  s += "if (acc !== 0) {\nfor (let c = 0, mo = 0; c < k; c++, mo += " + d + ") {\nconst wo = c * " + B + ";\n";
  s += type === TIED ? lines((j) => `const m${j} = cen[${j}];`) : lines((j) => `const m${j} = mu[mo + ${j}];`);
  s += "let sr = 0;\n" + lines((j) => `let a${j} = 0;`);
  const ms = type === FULL ? m2 : type === TIED ? 0 : d;
  for (let p = 0; p < ms; p++) s += `let g${p} = 0;\n`;
  s += "for (let i = b0, t = 0; i < b1; i++, t++) {\nconst r = W[wo + t] * W[IO + t];\nif (r === 0) continue;\nsr += r;\nconst xo = i * " + d + ";\n";
  s += lines((j) => `const z${j} = X[xo + ${j}] - m${j}; const r${j} = r * z${j}; a${j} += r${j};`);
  if (type === FULL) {
    let p = 0;
    for (const j of J) for (let i = 0; i <= j; i++) s += `g${p++} += r${i} * z${j};\n`;
  } else if (type !== TIED) {
    s += lines((j) => `g${j} += r${j} * z${j};`);
  }
  s += "}\nR[ro + c] += sr;\nconst o1 = s1o + mo;\n" + lines((j) => `S1[o1 + ${j}] += a${j};`);
  if (ms > 0) {
    s += "const o2 = s2o + c * " + ms + ";\n";
    for (let p = 0; p < ms; p++) s += `S2[o2 + ${p}] += g${p};\n`;
  }
  s += "}\n}\n";
  s += "}\nreturn total;";
  return s;
}

/** The same loop for any d, with the arithmetic of the generated code in the same order. */
function genericChunk(type: number, d: number): ChunkFn {
  const B = MIXTURE_BLOCK;
  const m2 = (d * (d + 1)) / 2;
  const ms = type === FULL ? m2 : type === TIED ? 0 : d;
  const m = new Float64Array(d);
  const z = new Float64Array(d);
  const rz = new Float64Array(d);
  const a = new Float64Array(d);
  const g = new Float64Array(ms);
  return (X, mu, prec, muU, cen, bias, k, start, end, acc, R, ro, S1, s1o, S2, s2o, labels, logp, resp, W) => {
    let total = 0;
    const outL = labels.length > 0;
    const outP = logp.length > 0;
    const outR = resp.length > 0;
    const VO = k * B;
    const IO = (k + d) * B;
    for (let b0 = start; b0 < end; b0 += B) {
      const b1 = Math.min(end, b0 + B);
      if (type === TIED) {
        for (let i = b0, t = 0; i < b1; i++, t++) {
          const xo = i * d;
          const vo = VO + t * d;
          let p = 0;
          for (let j = 0; j < d; j++) {
            let y = X[xo] * prec[p++];
            for (let r = 1; r <= j; r++) y += X[xo + r] * prec[p++];
            W[vo + j] = y;
          }
        }
      }
      for (let c = 0, mo = 0; c < k; c++, mo += d) {
        const bc = bias[c];
        const wo = c * B;
        for (let j = 0; j < d; j++) m[j] = type === TIED ? muU[mo + j] : mu[mo + j];
        for (let i = b0, t = 0; i < b1; i++, t++) {
          let q = 0;
          if (type === TIED) {
            const vo = VO + t * d;
            for (let j = 0; j < d; j++) {
              const y = W[vo + j] - m[j];
              q += y * y;
            }
          } else {
            const xo = i * d;
            for (let j = 0; j < d; j++) z[j] = X[xo + j] - m[j];
            if (type === FULL) {
              const uo = c * m2;
              let p = 0;
              for (let j = 0; j < d; j++) {
                let y = z[0] * prec[uo + p++];
                for (let r = 1; r <= j; r++) y += z[r] * prec[uo + p++];
                q += y * y;
              }
            } else if (type === DIAG) {
              for (let j = 0; j < d; j++) q += z[j] * z[j] * prec[mo + j];
            } else {
              for (let j = 0; j < d; j++) q += z[j] * z[j];
              q = q * prec[c];
            }
          }
          W[wo + t] = bc - 0.5 * q;
        }
      }
      for (let i = b0, t = 0; i < b1; i++, t++) {
        let mx = -Infinity;
        let am = 0;
        for (let c = 0, o = t; c < k; c++, o += B) {
          const wl = W[o];
          if (wl > mx) {
            mx = wl;
            am = c;
          }
        }
        const base = mx === -Infinity || mx === Infinity || Number.isNaN(mx) ? 0 : mx;
        let sum = 0;
        for (let c = 0, o = t; c < k; c++, o += B) {
          const e = Math.exp(W[o] - base);
          W[o] = e;
          sum += e;
        }
        const lp = Math.log(sum) + base;
        total += lp;
        const inv = 1 / sum;
        W[IO + t] = inv;
        if (outL) labels[i] = am;
        if (outP) logp[i] = lp;
        if (outR) {
          const o2 = i * k;
          for (let c = 0, o = t; c < k; c++, o += B) resp[o2 + c] = W[o] * inv;
        }
      }
      if (acc === 0) continue;
      for (let c = 0, mo = 0; c < k; c++, mo += d) {
        const wo = c * B;
        for (let j = 0; j < d; j++) m[j] = type === TIED ? cen[j] : mu[mo + j];
        let sr = 0;
        a.fill(0);
        g.fill(0);
        for (let i = b0, t = 0; i < b1; i++, t++) {
          const r = W[wo + t] * W[IO + t];
          if (r === 0) continue;
          sr += r;
          const xo = i * d;
          for (let j = 0; j < d; j++) {
            z[j] = X[xo + j] - m[j];
            rz[j] = r * z[j];
            a[j] += rz[j];
          }
          if (type === FULL) {
            let p = 0;
            for (let j = 0; j < d; j++) for (let t2 = 0; t2 <= j; t2++) g[p++] += rz[t2] * z[j];
          } else if (type !== TIED) {
            for (let j = 0; j < d; j++) g[j] += rz[j] * z[j];
          }
        }
        R[ro + c] += sr;
        for (let j = 0; j < d; j++) S1[s1o + mo + j] += a[j];
        const o2 = s2o + c * ms;
        for (let p = 0; p < ms; p++) S2[o2 + p] += g[p];
      }
    }
    return total;
  };
}

/** The chunk loop for a covariance type and d: generated (cached) when possible, else generic. */
export function mixtureChunkFn(type: number, d: number, allowGenerated = true): ChunkFn {
  const maxD = type === FULL || type === TIED ? MIXTURE_GEN_MAX_D.triangular : MIXTURE_GEN_MAX_D.diagonal;
  if (!allowGenerated || d > maxD) return genericChunk(type, d);
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
  const W = new Float64Array(mixtureScratchLength(k, d));
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
    S.lpn[ch] = fn(S.X, S.mu, S.prec, S.muU, S.cen, S.bias, k, start, end, acc, S.R, ro, S.S1, s1o, S.S2, s2o, S.labels, S.logp, S.resp, W);
  }
}

export const mixtureKernels = {
  mixtureEStep: mixtureEStepKernel,
};
