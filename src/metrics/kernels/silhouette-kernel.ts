/**
 * The silhouette kernel: sums of Euclidean distances from every row to every cluster,
 * each pair computed once (tiles of the upper triangle), one square root per pair. Workers
 * run it from metrics/kernels/index.ts (registered in io/kernels.ts).
 *
 * Several labellings of the same rows can be scored in one pass (`labelings` > 1): each
 * distance is then added once per labelling, so the distances, the costly part, are computed
 * once for all of them. Labelling l's codes are `codes[l·n .. l·n + n)`, already offset so that
 * its clusters own the columns [off_l, off_l + m_l) of the n × m sums (m = Σ m_l).
 *
 * Work is cut into `slots`; slot s takes its share of the tiles numbered [t0, t1) (all of them
 * by default) and adds into its own n × m block of `acc`, so slots never write to the same
 * memory. The caller adds the blocks. Calls over consecutive tile ranges add up to one call
 * over the whole range (this is how the caller reports progress between them).
 */

export interface SilhouetteShared {
  X: Float64Array;
  /** labelings × n cluster codes (columns of acc). */
  codes: Int32Array;
  /** slots × n × m partial sums. */
  acc: Float64Array;
}

export interface SilhouetteParams {
  n: number;
  d: number;
  /** Columns of the sums: the number of clusters, over all labellings. */
  m: number;
  /** Rows per tile side. */
  tile: number;
  slots: number;
  /** Labellings scored together (default 1). */
  labelings?: number;
  /** The tiles of this call, in the row order of the upper triangle (default: all). */
  t0?: number;
  t1?: number;
}

/** The number of tiles of the upper triangle (the unit of t0 and t1). */
export function silhouetteTiles(n: number, tile: number): number {
  const blocks = Math.ceil(n / tile);
  return (blocks * (blocks + 1)) / 2;
}

export function silhouetteKernel(S: SilhouetteShared, P: SilhouetteParams, slotStart: number, slotEnd: number): void {
  const { X, codes, acc } = S;
  const { n, d, m, tile, slots } = P;
  const L = P.labelings ?? 1;
  type Pairs = (X: Float64Array, codes: Int32Array, acc: Float64Array, base: number, i0: number, i1: number, j0: number, j1: number, diag: number, m: number, n: number) => void;
  const g = globalThis as unknown as { __segmentaSilhouette?: Record<string, Pairs | null> };
  const cache = (g.__segmentaSilhouette ??= {});
  const key = L === 1 ? String(d) : d + ":" + L;
  let pairs = cache[key];
  if (pairs === undefined) {
    pairs = null;
    if (d <= 64 && L <= 16) {
      try {
        // Rows i in [i0, i1) against rows j in [j0, j1) (j > i on the diagonal tile): each
        // distance is added to row i's sum for j's cluster and to row j's sum for i's cluster.
        let src = "for (let i = i0; i < i1; i++) {\nconst xo = i * " + d + ", ai = base + i * m;\n";
        for (let t = 0; t < d; t++) src += "const x" + t + " = X[xo + " + t + "];\n";
        if (L === 1) {
          src += "const ci = codes[i];\nlet own = 0;\n";
        } else {
          for (let l = 0; l < L; l++) src += "const c" + l + " = codes[" + l + " * n + i];\n";
        }
        src += "for (let j = diag ? i + 1 : j0; j < j1; j++) {\nconst yo = j * " + d + ";\nlet u, s = 0;\n";
        for (let t = 0; t < d; t++) src += "u = x" + t + " - X[yo + " + t + "]; s += u * u;\n";
        if (L === 1) {
          src += "const r = Math.sqrt(s), cj = codes[j];\nif (cj === ci) own += r; else acc[ai + cj] += r;\nacc[base + j * m + ci] += r;\n}\nacc[ai + ci] += own;\n}";
        } else {
          src += "const r = Math.sqrt(s), aj = base + j * m;\n";
          for (let l = 0; l < L; l++) src += "acc[ai + codes[" + l + " * n + j]] += r; acc[aj + c" + l + "] += r;\n";
          src += "}\n}";
        }
        pairs = new Function("X", "codes", "acc", "base", "i0", "i1", "j0", "j1", "diag", "m", "n", src) as Pairs;
      } catch {
        pairs = null;
      }
    }
    cache[key] = pairs;
  }
  const blocks = Math.ceil(n / tile);
  const t0 = P.t0 ?? 0;
  const span = (P.t1 ?? (blocks * (blocks + 1)) / 2) - t0;
  for (let s = slotStart; s < slotEnd; s++) {
    const base = s * n * m;
    const first = t0 + Math.floor((s * span) / slots);
    const last = t0 + Math.floor(((s + 1) * span) / slots);
    // Walk the upper-triangle tiles in row order, handling those numbered [first, last).
    let t = 0;
    for (let bi = 0; bi < blocks && t < last; bi++) {
      const rowTiles = blocks - bi;
      if (t + rowTiles <= first) {
        t += rowTiles;
        continue;
      }
      for (let bj = bi; bj < blocks; bj++, t++) {
        if (t < first) continue;
        if (t >= last) break;
        const i0 = bi * tile;
        const i1 = Math.min(n, i0 + tile);
        const j0 = bj * tile;
        const j1 = Math.min(n, j0 + tile);
        const diag = bi === bj ? 1 : 0;
        if (pairs !== null) {
          pairs(X, codes, acc, base, i0, i1, j0, j1, diag, m, n);
        } else {
          for (let i = i0; i < i1; i++) {
            for (let j = diag ? i + 1 : j0; j < j1; j++) {
              let q = 0;
              for (let c = 0; c < d; c++) {
                const u = X[i * d + c] - X[j * d + c];
                q += u * u;
              }
              const r = Math.sqrt(q);
              for (let l = 0; l < L; l++) {
                acc[base + i * m + codes[l * n + j]] += r;
                acc[base + j * m + codes[l * n + i]] += r;
              }
            }
          }
        }
      }
    }
  }
}
