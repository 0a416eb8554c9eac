/**
 * The K-Means iteration kernel (workers run it from cluster/kernels/index.ts). It
 * processes whole chunks of rows:
 * bound updates (Hamerly), assignment to the nearest center, and the weighted sums of each
 * chunk's rows per cluster. Sums are kept per chunk and reduced in chunk order by the
 * caller, so results are bit-identical whatever the number of workers.
 *
 * Modes: 0 Lloyd assignment; 1 Hamerly first pass (full scan, sets the bounds);
 * 2 Hamerly step (bounds updated by the last center shifts, most rows skip the scan).
 */

export interface KMeansShared {
  X: Float64Array;
  weights: Float64Array;
  labels: Int32Array;
  upper: Float64Array;
  lower: Float64Array;
  centers: Float64Array;
  /** Half the distance from each center to its nearest other center. */
  half: Float64Array;
  /** Distance each center moved in the last update. */
  shift: Float64Array;
  /** Per chunk: k × d weighted sums (accumulate 1), or their changes (accumulate 2). */
  sums: Float64Array;
  /** Per chunk: k weights, or their changes. */
  wsum: Float64Array;
  /** Per chunk: k row counts, or their changes. */
  counts: Float64Array;
  /** Per chunk: [rows whose label changed, full scans, weighted squared distance sum]. */
  stats: Float64Array;
}

export interface KMeansStepParams {
  n: number;
  d: number;
  k: number;
  chunk: number;
  mode: number;
  /**
   * 0: no sums. 1: each chunk's weighted sums per cluster. 2: only their changes, from
   * the rows whose label changed (the caller keeps the running totals).
   */
  accumulate: number;
  /** Largest center shift, the second largest, and the index of the largest. */
  maxShift: number;
  maxShift2: number;
  argMaxShift: number;
}

export function kmeansStepKernel(S: KMeansShared, P: KMeansStepParams, chunkStart: number, chunkEnd: number): void {
  const { X, weights, labels, upper, lower, centers, half, shift, sums, wsum, counts, stats } = S;
  const { n, d, k, chunk, mode, accumulate, maxShift, maxShift2, argMaxShift } = P;
  // Loops specialised to the dimension d are generated and compiled once per d (with the
  // loop over features unrolled they run about twice as fast as generic ones): a scan of
  // all centers for a list of rows, and the weighted sums of a range of rows per cluster.
  type ScanList = (X: Float64Array, C: Float64Array, k: number, idx: Int32Array, m: number, B1: Float64Array, B2: Float64Array, BI: Int32Array) => void;
  type Bounds = (X: Float64Array, C: Float64Array, L: Int32Array, U: Float64Array, LO: Float64Array, shift: Float64Array, half: Float64Array,
    start: number, end: number, am: number, m1: number, m2: number, idx: Int32Array) => number;
  type SumRange = (X: Float64Array, W: Float64Array, L: Int32Array, start: number, end: number, sums: Float64Array, so: number, wsum: Float64Array, wo: number) => void;
  const g = globalThis as unknown as { __segmentaKMeans?: Record<number, { scan: ScanList; nearest: ScanList; bounds: Bounds; sum: SumRange } | null> };
  const cache = (g.__segmentaKMeans ??= {});
  let gen = cache[d];
  if (gen === undefined) {
    gen = null;
    if (d <= 64) {
      try {
        // Scans of all centers for a list of rows, four rows per pass over the centers (each
        // center's coordinates are loaded once for the four): [0] keeps the nearest and the
        // second-nearest squared distance (Hamerly's bounds need both), [1] only the nearest
        // (Lloyd), about a third faster.
        const scans: string[] = [];
        for (let v = 0; v < 2; v++) {
          const second = v === 0;
          let src = "let t = 0;\nfor (; t + 3 < m; t += 4) {\n";
          for (let r = 0; r < 4; r++) {
            src += "const o" + r + " = idx[t + " + r + "] * " + d + ";\n";
            for (let j = 0; j < d; j++) src += "const x" + r + "_" + j + " = X[o" + r + " + " + j + "];\n";
            src += "let b" + r + " = Infinity, e" + r + " = Infinity, i" + r + " = 0;\n";
          }
          src += "for (let c = 0, co = 0; c < k; c++, co += " + d + ") {\n";
          for (let j = 0; j < d; j++) src += "const c" + j + " = C[co + " + j + "];\n";
          for (let r = 0; r < 4; r++) {
            src += "let s" + r + " = 0, u" + r + ";\n";
            for (let j = 0; j < d; j++) src += "u" + r + " = x" + r + "_" + j + " - c" + j + "; s" + r + " += u" + r + " * u" + r + ";\n";
            src += second
              ? "if (s" + r + " < b" + r + ") { e" + r + " = b" + r + "; b" + r + " = s" + r + "; i" + r + " = c; } else if (s" + r + " < e" + r + ") e" + r + " = s" + r + ";\n"
              : "if (s" + r + " < b" + r + ") { b" + r + " = s" + r + "; i" + r + " = c; }\n";
          }
          src += "}\n";
          for (let r = 0; r < 4; r++) src += "B1[t + " + r + "] = b" + r + "; B2[t + " + r + "] = e" + r + "; BI[t + " + r + "] = i" + r + ";\n";
          src += "}\nfor (; t < m; t++) {\nconst xo = idx[t] * " + d + ";\n";
          for (let j = 0; j < d; j++) src += "const x" + j + " = X[xo + " + j + "];\n";
          src += "let b1 = Infinity, b2 = Infinity, bi = 0;\nfor (let c = 0, co = 0; c < k; c++, co += " + d + ") {\nlet u, s = 0;\n";
          for (let j = 0; j < d; j++) src += "u = x" + j + " - C[co + " + j + "]; s += u * u;\n";
          src += second ? "if (s < b1) { b2 = b1; b1 = s; bi = c; } else if (s < b2) { b2 = s; }\n" : "if (s < b1) { b1 = s; bi = c; }\n";
          src += "}\nB1[t] = b1; B2[t] = b2; BI[t] = bi;\n}";
          scans.push(src);
        }
        // Hamerly's test for a range of rows, with the distance to the own center unrolled;
        // returns how many rows must scan every center (their indices go to idx).
        let bounds = "let m = 0;\nconst SAFE = 1 + 1e-10;\nfor (let i = start; i < end; i++) {\nconst a = L[i];\n";
        bounds += "const u = U[i] + shift[a];\nconst l = LO[i] - (a === am ? m2 : m1);\nLO[i] = l;\nconst h = half[a];\nconst bound = h > l ? h : l;\n";
        bounds += "if (u * SAFE < bound) { U[i] = u; continue; }\nconst xo = i * " + d + ", co = a * " + d + ";\nlet t, s = 0;\n";
        for (let j = 0; j < d; j++) bounds += "t = X[xo + " + j + "] - C[co + " + j + "]; s += t * t;\n";
        bounds += "const ue = Math.sqrt(s);\nU[i] = ue;\nif (ue * SAFE < bound) continue;\nidx[m++] = i;\n}\nreturn m;";
        let sum = "for (let i = start; i < end; i++) {\nconst a = L[i], w = W[i], xo = i * " + d + ", o = so + a * " + d + ";\nwsum[wo + a] += w;\n";
        for (let j = 0; j < d; j++) sum += "sums[o + " + j + "] += X[xo + " + j + "] * w;\n";
        sum += "}";
        gen = {
          scan: new Function("X", "C", "k", "idx", "m", "B1", "B2", "BI", scans[0]) as ScanList,
          nearest: new Function("X", "C", "k", "idx", "m", "B1", "B2", "BI", scans[1]) as ScanList,
          bounds: new Function("X", "C", "L", "U", "LO", "shift", "half", "start", "end", "am", "m1", "m2", "idx", bounds) as Bounds,
          sum: new Function("X", "W", "L", "start", "end", "sums", "so", "wsum", "wo", sum) as SumRange,
        };
      } catch {
        gen = null; // no runtime code generation here (e.g. a strict CSP): use the generic loops
      }
    }
    cache[d] = gen;
  }
  // Scratch for one chunk, allocated once per thread (not per call: no allocation per iteration).
  const gs = globalThis as unknown as { __segmentaScratch?: { idx: Int32Array; B1: Float64Array; B2: Float64Array; BI: Int32Array } };
  if (!gs.__segmentaScratch || gs.__segmentaScratch.idx.length < chunk) {
    gs.__segmentaScratch = { idx: new Int32Array(chunk), B1: new Float64Array(chunk), B2: new Float64Array(chunk), BI: new Int32Array(chunk) };
  }
  const { idx, B1, B2, BI } = gs.__segmentaScratch;
  const SAFE = 1 + 1e-10; // bounds must beat rounding error before a row may skip its scan
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const start = ch * chunk;
    const end = Math.min(n, start + chunk);
    // 1. Which rows must scan every center?
    let m = 0;
    if (mode !== 2) {
      for (let i = start; i < end; i++) idx[m++] = i;
    } else if (gen !== null) {
      m = gen.bounds(X, centers, labels, upper, lower, shift, half, start, end, argMaxShift, maxShift, maxShift2, idx);
    } else {
      for (let i = start; i < end; i++) {
        const a = labels[i];
        const u = upper[i] + shift[a];
        const l = lower[i] - (a === argMaxShift ? maxShift2 : maxShift);
        lower[i] = l;
        const h = half[a];
        const bound = h > l ? h : l;
        if (u * SAFE < bound) {
          upper[i] = u;
          continue;
        }
        const xo = i * d;
        const co = a * d;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = X[xo + j] - centers[co + j];
          s += t * t;
        }
        const ue = Math.sqrt(s);
        upper[i] = ue;
        if (ue * SAFE < bound) continue;
        idx[m++] = i;
      }
    }
    // 2. Scan them.
    if (gen !== null) {
      if (mode === 0) gen.nearest(X, centers, k, idx, m, B1, B2, BI);
      else gen.scan(X, centers, k, idx, m, B1, B2, BI);
    } else {
      for (let t = 0; t < m; t++) {
        const xo = idx[t] * d;
        let b1 = Infinity;
        let b2 = Infinity;
        let bi = 0;
        for (let c = 0; c < k; c++) {
          const co = c * d;
          let s = 0;
          for (let j = 0; j < d; j++) {
            const u = X[xo + j] - centers[co + j];
            s += u * u;
          }
          if (s < b1) {
            b2 = b1;
            b1 = s;
            bi = c;
          } else if (s < b2) b2 = s;
        }
        B1[t] = b1;
        B2[t] = b2;
        BI[t] = bi;
      }
    }
    // 3. New labels and bounds; with accumulate 2, the changes of the sums.
    const so = ch * k * d;
    const wo = ch * k;
    if (accumulate !== 0) {
      for (let t = 0; t < k * d; t++) sums[so + t] = 0;
      for (let t = 0; t < k; t++) {
        wsum[wo + t] = 0;
        counts[wo + t] = 0;
      }
    }
    let changed = 0;
    for (let t = 0; t < m; t++) {
      const i = idx[t];
      const b = BI[t];
      const a = labels[i];
      if (b !== a) {
        changed++;
        if (accumulate === 2) {
          const w = weights[i];
          const xo = i * d;
          const ob = so + b * d;
          const oa = so + a * d;
          for (let j = 0; j < d; j++) {
            const v = X[xo + j] * w;
            sums[ob + j] += v;
            sums[oa + j] -= v;
          }
          wsum[wo + b] += w;
          wsum[wo + a] -= w;
          counts[wo + b] += 1;
          counts[wo + a] -= 1;
        }
      }
      labels[i] = b;
      if (mode !== 0) {
        upper[i] = Math.sqrt(B1[t]);
        lower[i] = Math.sqrt(B2[t]);
      }
    }
    stats[ch * 3] = changed;
    stats[ch * 3 + 1] = m;
    // 4. With accumulate 1, the weighted sums of all the chunk's rows per cluster.
    if (accumulate === 1) {
      if (gen !== null) {
        gen.sum(X, weights, labels, start, end, sums, so, wsum, wo);
      } else {
        for (let i = start; i < end; i++) {
          const a = labels[i];
          const w = weights[i];
          wsum[wo + a] += w;
          const o = so + a * d;
          const xo = i * d;
          for (let j = 0; j < d; j++) sums[o + j] += X[xo + j] * w;
        }
      }
      for (let i = start; i < end; i++) counts[wo + labels[i]] += 1;
    }
  }
}

/** Weighted sum of squared distances of each chunk's rows to their centers, into stats[ch*3+2]. */
export function inertiaKernel(S: KMeansShared, P: KMeansStepParams, chunkStart: number, chunkEnd: number): void {
  const { X, weights, labels, centers, stats } = S;
  const { n, d, chunk } = P;
  for (let ch = chunkStart; ch < chunkEnd; ch++) {
    const end = Math.min(n, (ch + 1) * chunk);
    let total = 0;
    for (let i = ch * chunk; i < end; i++) {
      const xo = i * d;
      const co = labels[i] * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = X[xo + j] - centers[co + j];
        s += t * t;
      }
      total += weights[i] * s;
    }
    stats[ch * 3 + 2] = total;
  }
}
