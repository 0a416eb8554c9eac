/**
 * The silhouette kernel: sums of Euclidean distances from every row to every cluster,
 * each pair computed once (tiles of the upper triangle), one square root per pair. Self-
 * contained (no imports, no closures) so that worker threads can receive its source text.
 *
 * Work is cut into `slots`; slot s takes its share of the tiles and adds into its own
 * n × m block of `acc`, so slots never write to the same memory. The caller adds the blocks.
 */

export interface SilhouetteShared {
  X: Float64Array;
  codes: Int32Array;
  /** slots × n × m partial sums. */
  acc: Float64Array;
}

export interface SilhouetteParams {
  n: number;
  d: number;
  m: number;
  /** Rows per tile side. */
  tile: number;
  slots: number;
}

export function silhouetteKernel(S: SilhouetteShared, P: SilhouetteParams, slotStart: number, slotEnd: number): void {
  const { X, codes, acc } = S;
  const { n, d, m, tile, slots } = P;
  type Pairs = (X: Float64Array, codes: Int32Array, acc: Float64Array, base: number, i0: number, i1: number, j0: number, j1: number, diag: number, m: number) => void;
  const g = globalThis as unknown as { __segmentaSilhouette?: Record<number, Pairs | null> };
  const cache = (g.__segmentaSilhouette ??= {});
  let pairs = cache[d];
  if (pairs === undefined) {
    pairs = null;
    if (d <= 64) {
      try {
        // Rows i in [i0, i1) against rows j in [j0, j1) (j > i on the diagonal tile): each
        // distance is added to row i's sum for j's cluster and to row j's sum for i's cluster.
        let src = "for (let i = i0; i < i1; i++) {\nconst xo = i * " + d + ", ci = codes[i], ai = base + i * m;\n";
        for (let t = 0; t < d; t++) src += "const x" + t + " = X[xo + " + t + "];\n";
        src += "let own = 0;\nfor (let j = diag ? i + 1 : j0; j < j1; j++) {\nconst yo = j * " + d + ";\nlet u, s = 0;\n";
        for (let t = 0; t < d; t++) src += "u = x" + t + " - X[yo + " + t + "]; s += u * u;\n";
        src += "const r = Math.sqrt(s), cj = codes[j];\nif (cj === ci) own += r; else acc[ai + cj] += r;\nacc[base + j * m + ci] += r;\n}\nacc[ai + ci] += own;\n}";
        pairs = new Function("X", "codes", "acc", "base", "i0", "i1", "j0", "j1", "diag", "m", src) as Pairs;
      } catch {
        pairs = null;
      }
    }
    cache[d] = pairs;
  }
  const blocks = Math.ceil(n / tile);
  const tiles = (blocks * (blocks + 1)) / 2;
  for (let s = slotStart; s < slotEnd; s++) {
    const base = s * n * m;
    const first = Math.floor((s * tiles) / slots);
    const last = Math.floor(((s + 1) * tiles) / slots);
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
          pairs(X, codes, acc, base, i0, i1, j0, j1, diag, m);
        } else {
          for (let i = i0; i < i1; i++) {
            const ci = codes[i];
            for (let j = diag ? i + 1 : j0; j < j1; j++) {
              let q = 0;
              for (let c = 0; c < d; c++) {
                const u = X[i * d + c] - X[j * d + c];
                q += u * u;
              }
              const r = Math.sqrt(q);
              acc[base + i * m + codes[j]] += r;
              acc[base + j * m + ci] += r;
            }
          }
        }
      }
    }
  }
}
