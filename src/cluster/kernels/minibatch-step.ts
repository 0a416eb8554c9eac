/**
 * The mini-batch K-Means kernel (workers run it from cluster/kernels/index.ts).
 *
 * A batch is a list of row indices into the data (nothing is copied: each row is read where
 * it lies). The batch is cut into chunks of P.chunk positions; for each chunk the kernel
 * finds every row's nearest center (ties to the lower index) and adds the row, times its
 * weight, to that chunk's sums for the center. The caller reduces the chunks in order, so
 * sums and inertia are bit-identical whatever the number of threads.
 *
 * Modes:
 * - 0: the chunks [chunkStart, chunkEnd) of the batch of P.m rows.
 * - 1: a worker's loop over many steps. The worker waits for ctl[GEN] to change, then claims
 *   chunks of the batch (ctl[NEXT]) with the calling thread (mode 3) until none is left, and
 *   waits again, until ctl[QUIT] is set. It spins briefly before sleeping, because steps
 *   follow each other every ~100 µs.
 * - 3: the calling thread's share of a step in that loop.
 * - 2: labels of rows [chunk × chunkStart, chunk × chunkEnd) of the data (no batch, no sums):
 *   the final assignment of every row; stats[ch] receives each chunk's inertia.
 */

export interface MiniBatchShared {
  /** n × d data, row-major. */
  X: Float64Array;
  /** One weight per data row; ignored when P.unit is 1. */
  weights: Float64Array;
  /** The batch: row indices into X (mode 0 and 1). */
  idx: Int32Array;
  /** k × d centers. */
  centers: Float64Array;
  /** Nearest center of each batch position (modes 0, 1) or of each row (mode 2). */
  labels: Int32Array;
  /** Per chunk: k × d weighted sums of its rows by nearest center. */
  sums: Float64Array;
  /** Per chunk: k weights. */
  wsum: Float64Array;
  /** Per chunk: weighted squared distance of its rows to their nearest centers. */
  stats: Float64Array;
  /** Control words of the worker loop: [GEN, DONE, QUIT, ERR, M, NEXT]. */
  ctl: Int32Array;
}

export interface MiniBatchParams {
  /** Rows in the batch (modes 0, 1; mode 1 reads it from ctl[M] at every step) or in the data (mode 2). */
  m: number;
  d: number;
  k: number;
  /** Positions (modes 0, 1) or rows (mode 2) per chunk. */
  chunk: number;
  /** 1: every weight is 1 (the weights array is not read). */
  unit: number;
  mode: number;
}

export const CTL_GEN = 0;
export const CTL_DONE = 1;
export const CTL_QUIT = 2;
export const CTL_ERR = 3;
export const CTL_M = 4;
export const CTL_NEXT = 5;

export function minibatchKernel(S: MiniBatchShared, P: MiniBatchParams, chunkStart: number, chunkEnd: number): void {
  const { X, weights, idx, centers, labels, sums, wsum, stats, ctl } = S;
  const { d, k, chunk, unit, mode } = P;
  // Loops specialised to d (the loop over features unrolled, two rows per pass over the
  // centers so that each center's coordinates are loaded once for both) are generated once
  // per d and thread; without runtime code generation the generic loops below run.
  type Batch = (X: Float64Array, W: Float64Array, unit: number, I: Int32Array, C: Float64Array, k: number, t0: number, t1: number,
    L: Int32Array, sums: Float64Array, so: number, wsum: Float64Array, wo: number) => number;
  type Label = (X: Float64Array, W: Float64Array, unit: number, C: Float64Array, k: number, i0: number, i1: number, L: Int32Array) => number;
  const g = globalThis as unknown as { __segmentaMiniBatch?: Record<number, { batch: Batch; label: Label } | null> };
  const cache = (g.__segmentaMiniBatch ??= {});
  let gen = cache[d];
  if (gen === undefined) {
    gen = null;
    if (d <= 64) {
      try {
        // Pieces of code: lx/ly load rows xo/yo into x0…/y0…; scan2 and scan1 find the
        // nearest center (b1, bi) of x and (e1, ei) of y; ax/ay add a row × its weight to the sums.
        let lx = "";
        let ly = "";
        let scan2 = "let b1 = Infinity, bi = 0, e1 = Infinity, ei = 0;\nfor (let c = 0, co = 0; c < k; c++, co += " + d + ") {\nlet u, v, w, s = 0, r = 0;\n";
        let scan1 = "let b1 = Infinity, bi = 0;\nfor (let c = 0, co = 0; c < k; c++, co += " + d + ") {\nlet u, s = 0;\n";
        let ax = "wsum[wo + bi] += wx;\n{ const o = so + bi * " + d + ";\n";
        let ay = "wsum[wo + ei] += wy;\n{ const o = so + ei * " + d + ";\n";
        for (let j = 0; j < d; j++) {
          lx += "const x" + j + " = X[xo + " + j + "];\n";
          ly += "const y" + j + " = X[yo + " + j + "];\n";
          scan2 += "w = C[co + " + j + "]; u = x" + j + " - w; s += u * u; v = y" + j + " - w; r += v * v;\n";
          scan1 += "u = x" + j + " - C[co + " + j + "]; s += u * u;\n";
          ax += "sums[o + " + j + "] += x" + j + " * wx;\n";
          ay += "sums[o + " + j + "] += y" + j + " * wy;\n";
        }
        scan2 += "if (s < b1) { b1 = s; bi = c; }\nif (r < e1) { e1 = r; ei = c; }\n}\n";
        scan1 += "if (s < b1) { b1 = s; bi = c; }\n}\n";
        ax += "}\n";
        ay += "}\n";
        // Touch every cache line of every row first (a value in every 8, and the last: rows
        // need not start on a line): independent loads let the processor overlap the misses.
        let touches = "X[o]";
        for (let j = 8; j < d; j += 8) touches += " + X[o + " + j + "]";
        if (d > 1) touches += " + X[o + " + (d - 1) + "]";
        let batch = "let touch = 0;\nfor (let t = t0; t < t1; t++) { const o = I[t] * " + d + "; touch += " + touches + "; }\n";
        batch += "let inertia = touch > 1e308 ? -0 : 0;\nlet t = t0;\nfor (; t + 1 < t1; t += 2) {\n";
        batch += "const xi = I[t], yi = I[t + 1], xo = xi * " + d + ", yo = yi * " + d + ";\n" + lx + ly + scan2;
        batch += "const wx = unit === 1 ? 1 : W[xi], wy = unit === 1 ? 1 : W[yi];\nL[t] = bi; L[t + 1] = ei;\ninertia += wx * b1 + wy * e1;\n";
        batch += ax + ay + "}\n";
        batch += "if (t < t1) {\nconst xi = I[t], xo = xi * " + d + ";\n" + lx + scan1;
        batch += "const wx = unit === 1 ? 1 : W[xi];\nL[t] = bi;\ninertia += wx * b1;\n" + ax + "}\nreturn inertia;";
        let label = "let inertia = 0;\nlet i = i0;\nfor (; i + 1 < i1; i += 2) {\nconst xo = i * " + d + ", yo = xo + " + d + ";\n";
        label += lx + ly + scan2;
        label += "L[i] = bi; L[i + 1] = ei;\ninertia += unit === 1 ? b1 + e1 : W[i] * b1 + W[i + 1] * e1;\n}\n";
        label += "if (i < i1) {\nconst xo = i * " + d + ";\n" + lx + scan1;
        label += "L[i] = bi;\ninertia += unit === 1 ? b1 : W[i] * b1;\n}\nreturn inertia;";
        gen = {
          batch: new Function("X", "W", "unit", "I", "C", "k", "t0", "t1", "L", "sums", "so", "wsum", "wo", batch) as Batch,
          label: new Function("X", "W", "unit", "C", "k", "i0", "i1", "L", label) as Label,
        };
      } catch {
        gen = null;
      }
    }
    cache[d] = gen;
  }

  // Modes 0 and 2 do chunks [chunkStart, chunkEnd) (of the batch, or of the data's rows);
  // modes 1 and 3 claim chunks one at a time from the counter ctl[NEXT] until none is left
  // (each chunk's sums have their own place, so who does which chunk changes nothing) and
  // count the chunks done in ctl[DONE]; mode 3 does that once (the calling thread's share of
  // a step), mode 1 once per step until told to quit.
  const fixed = mode === 0 || mode === 2;
  const rows = mode === 2;
  let seen = 0;
  for (;;) {
    let m = P.m;
    try {
      if (mode === 1) {
        let g2 = Atomics.load(ctl, 0);
        let spins = 0;
        while (g2 === seen) {
          if (++spins > 20000) {
            Atomics.wait(ctl, 0, seen, 50);
            spins = 0;
          }
          g2 = Atomics.load(ctl, 0);
        }
        seen = g2;
        if (Atomics.load(ctl, 2) !== 0) return;
        m = Atomics.load(ctl, 4);
      }
      const nc = Math.ceil(m / chunk);
      let ch = fixed ? chunkStart : Atomics.add(ctl, 5, 1);
      const last = fixed ? chunkEnd : nc;
      while (ch < last) {
        const t0 = ch * chunk;
        const t1 = Math.min(m, t0 + chunk);
        const so = ch * k * d;
        const wo = ch * k;
        if (!rows) {
          for (let t = 0; t < k * d; t++) sums[so + t] = 0;
          for (let c = 0; c < k; c++) wsum[wo + c] = 0;
        }
        if (gen !== null) {
          stats[ch] = rows
            ? gen.label(X, weights, unit, centers, k, t0, t1, labels)
            : gen.batch(X, weights, unit, idx, centers, k, t0, t1, labels, sums, so, wsum, wo);
        } else {
          let inertia = 0;
          for (let t = t0; t < t1; t++) {
            const i = rows ? t : idx[t];
            const xo = i * d;
            let b1 = Infinity;
            let bi = 0;
            for (let c = 0; c < k; c++) {
              const co = c * d;
              let s = 0;
              for (let j = 0; j < d; j++) {
                const u = X[xo + j] - centers[co + j];
                s += u * u;
              }
              if (s < b1) {
                b1 = s;
                bi = c;
              }
            }
            const w = unit === 1 ? 1 : weights[i];
            labels[t] = bi;
            inertia += w * b1;
            if (rows) continue;
            wsum[wo + bi] += w;
            const o = so + bi * d;
            for (let j = 0; j < d; j++) sums[o + j] += X[xo + j] * w;
          }
          stats[ch] = inertia;
        }
        if (fixed) ch++;
        else {
          Atomics.add(ctl, 1, 1);
          ch = Atomics.add(ctl, 5, 1);
        }
      }
    } catch (e) {
      if (!fixed) Atomics.store(ctl, 3, 1);
      throw e;
    }
    if (mode !== 1) return;
  }
}
