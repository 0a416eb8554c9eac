import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import {
  TSNE, jointProbabilities, jointProbabilitiesNN, klDivergenceBH, klDivergenceExact, nearestNeighbors,
  pcaInitialization, trustworthiness,
} from "../src/embed/tsne.js";

/** test/fixtures/tsne.json, written by test/fixtures/make_tsne_fixtures.py (scikit-learn 1.2). */
interface SmallCase {
  name: string;
  perplexity: number;
  k: number;
  X: number[][];
  knn_indices: number[][];
  P_indptr: number[];
  P_indices: number[];
  P_data: number[];
  pca_init: number[][];
  Y: number[][];
  Y32: number[][];
  P_exact_condensed: number[];
  kl_exact: number;
  grad_exact: number[];
  Y3: number[][];
  kl_exact_dof2: number;
  grad_exact_dof2: number[];
  bh: Record<"0.0" | "0.5", { kl: number; grad: number[] }>;
}
interface EndToEnd {
  name: string;
  method: "barnes_hut" | "exact";
  X: number[][];
  labels: number[];
  kl: number;
  n_iter: number;
  learning_rate: number;
  trustworthiness: number;
  /** Share of each point's 10 nearest neighbours from its own blob: in scikit-learn's embedding, and in the input. */
  purity10: number;
  purity10_input: number;
}
const fx = JSON.parse(readFileSync(new URL("./fixtures/tsne.json", import.meta.url), "utf8")) as {
  cases: SmallCase[];
  end_to_end: EndToEnd[];
};

function matrix(rows: number[][]): Matrix {
  const r = rows.length;
  const c = rows[0].length;
  return { data: Float64Array.from(rows.flat()), rows: r, cols: c };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function sparseP(c: SmallCase): { n: number; indptr: Int32Array; indices: Int32Array; values: Float64Array } {
  return { n: c.X.length, indptr: Int32Array.from(c.P_indptr), indices: Int32Array.from(c.P_indices), values: Float64Array.from(c.P_data) };
}

describe("t-SNE building blocks equal scikit-learn's", () => {
  for (const c of fx.cases) {
    describe(c.name, () => {
      const X = matrix(c.X);
      const n = X.rows;

      it("k nearest neighbours and the joint probabilities P (_joint_probabilities_nn) to 1e-9", () => {
        expect(c.k).toBe(Math.min(n - 1, Math.floor(3 * c.perplexity + 1)));
        const knn = nearestNeighbors(X, c.k);
        expect(Array.from(knn.indices)).toEqual(c.knn_indices.flat());
        const P = jointProbabilitiesNN(knn.indices, knn.distances, n, c.k, c.perplexity);
        expect(Array.from(P.indptr)).toEqual(c.P_indptr);
        expect(Array.from(P.indices)).toEqual(c.P_indices);
        expect(maxAbsDiff(P.values, c.P_data)).toBeLessThan(1e-9);
        // scikit-learn's P is float32: the agreement is at its round-off, far below 1e-9.
        expect(maxAbsDiff(P.values, c.P_data) / maxAbs(c.P_data)).toBeLessThan(1e-6);
        let sum = 0;
        for (const v of P.values) sum += v;
        expect(sum).toBeCloseTo(1, 12);
      });

      it("the exact joint probabilities (_joint_probabilities) to 1e-9", () => {
        const D = new Float64Array(n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let a = 0; a < X.cols; a++) s += (X.data[i * X.cols + a] - X.data[j * X.cols + a]) ** 2;
            D[i * n + j] = s;
          }
        }
        const P = jointProbabilities(D, n, c.perplexity);
        const condensed: number[] = [];
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) condensed.push(P[i * n + j]);
        expect(maxAbsDiff(condensed, c.P_exact_condensed)).toBeLessThan(1e-9);
      });

      it("the PCA initialisation equals scikit-learn's up to the sign of each column", async () => {
        const Y = await pcaInitialization(X, 2);
        const ref = c.pca_init.flat();
        for (let col = 0; col < 2; col++) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += Y.data[2 * i + col] * ref[2 * i + col];
          const sign = Math.sign(dot);
          let worst = 0;
          for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(sign * Y.data[2 * i + col] - ref[2 * i + col]));
          // scikit-learn rounds the projection to float32 before scaling: 1e-7 relative.
          expect(worst / maxAbs(ref)).toBeLessThan(1e-5);
        }
        let m = 0;
        for (let i = 0; i < n; i++) m += Y.data[2 * i];
        m /= n;
        let v = 0;
        for (let i = 0; i < n; i++) v += (Y.data[2 * i] - m) ** 2;
        expect(Math.sqrt(v / n)).toBeCloseTo(1e-4, 15);
      });

      it("the exact KL divergence and gradient (_kl_divergence) to 1e-9", () => {
        const P = new Float64Array(n * n);
        let e = 0;
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            P[i * n + j] = c.P_exact_condensed[e];
            P[j * n + i] = c.P_exact_condensed[e++];
          }
        }
        const r = klDivergenceExact(matrix(c.Y), P);
        expect(Math.abs(r.klDivergence - c.kl_exact)).toBeLessThan(1e-9);
        expect(maxAbsDiff(r.gradient, c.grad_exact)).toBeLessThan(1e-9);
        // Three components: 2 degrees of freedom, with scikit-learn's gradient formula.
        const r3 = klDivergenceExact(matrix(c.Y3), P);
        expect(Math.abs(r3.klDivergence - c.kl_exact_dof2)).toBeLessThan(1e-9);
        expect(maxAbsDiff(r3.gradient, c.grad_exact_dof2)).toBeLessThan(1e-9);
      });

      // scikit-learn evaluates the Barnes–Hut gradient in float32 (positions, forces, the tree's
      // barycenters) and sums the KL in a float32 accumulator; this one runs in float64 on the
      // same tree (same bounds, insertion order and splitting, so the same summaries). They agree
      // to float32 round-off: gradient within 1e-5 of its largest component (measured 2e-7 to
      // 5e-7), KL within 5e-5 relative (measured 1e-7 to 6e-6, the float32 accumulator).
      for (const angle of ["0.0", "0.5"] as const) {
        it(`the Barnes–Hut KL divergence and gradient (_kl_divergence_bh, angle ${angle}) to float32 round-off`, () => {
          const ref = c.bh[angle];
          const r = klDivergenceBH(matrix(c.Y32), sparseP(c), { angle: Number(angle) });
          expect(maxAbsDiff(r.gradient, ref.grad) / maxAbs(ref.grad)).toBeLessThan(1e-5);
          expect(Math.abs(r.klDivergence - ref.kl) / Math.abs(ref.kl)).toBeLessThan(5e-5);
        });
      }
    });
  }

  it("angle 0 gives the exact repulsion: Barnes–Hut equals the exact gradient on the same sparse P", () => {
    const c = fx.cases[1];
    const n = c.X.length;
    const sp = sparseP(c);
    const dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let e = sp.indptr[i]; e < sp.indptr[i + 1]; e++) dense[i * n + sp.indices[e]] = sp.values[e];
    const bh = klDivergenceBH(matrix(c.Y), sp, { angle: 0 });
    const ex = klDivergenceExact(matrix(c.Y), dense);
    // The exact objective floors q at ε and p at ε inside the log: on a sparse P the KL terms
    // match wherever p > 0, and p = 0 terms vanish in both.
    expect(maxAbsDiff(bh.gradient, ex.gradient) / maxAbs(ex.gradient)).toBeLessThan(1e-12);
    expect(Math.abs(bh.klDivergence - ex.klDivergence)).toBeLessThan(1e-12);
  });
});

describe("TSNE end to end against scikit-learn", () => {
  for (const c of fx.end_to_end) {
    it(`${c.name}: KL within 10% of scikit-learn's, trustworthiness at least scikit-learn's − 0.02, blobs stay apart`, async () => {
      const X = matrix(c.X);
      const model = await new TSNE({ method: c.method, randomState: 0 }).fit(X);
      expect(model.embedding.rows).toBe(X.rows);
      expect(model.embedding.cols).toBe(2);
      expect(model.learningRate).toBe(c.learning_rate);
      expect(model.nIter).toBe(c.n_iter);
      expect(Math.abs(model.klDivergence - c.kl) / c.kl).toBeLessThan(0.1);
      const t = trustworthiness(X, model.embedding, 5);
      expect(t).toBeGreaterThanOrEqual(c.trustworthiness - 0.02);
      // The blobs stay apart: nearest embedded neighbours come from the same blob as often as in
      // scikit-learn's embedding (which is about as often as in the input).
      const { indices } = nearestNeighbors(model.embedding, 10);
      let same = 0;
      for (let i = 0; i < X.rows; i++) for (let m = 0; m < 10; m++) if (c.labels[indices[i * 10 + m]] === c.labels[i]) same++;
      expect(same / (X.rows * 10)).toBeGreaterThan(Math.min(c.purity10, c.purity10_input) - 0.01);
      expect(same / (X.rows * 10)).toBeGreaterThan(0.97);
    });
  }

  it("trustworthiness equals scikit-learn's formula on a hand-checked case", () => {
    // 1-D input on a line: an embedding that keeps the order is perfectly trustworthy; swapping
    // the two halves keeps most neighbourhoods, and reversing keeps them all.
    const X = Array.from({ length: 20 }, (_, i) => [i]);
    expect(trustworthiness(X, X, 3)).toBe(1);
    expect(trustworthiness(X, X.map(([v]) => [-v]), 3)).toBe(1);
    const shuffled = X.map(([v]) => [(v * 7) % 20]);
    expect(trustworthiness(X, shuffled, 3)).toBeLessThan(0.8);
  });
});

describe("TSNE determinism, options and errors", () => {
  function blobs(n: number, seed: number): { X: Matrix; labels: number[] } {
    const rng = new Random(seed);
    const centers = [[0, 0, 0, 0], [30, 0, 0, 0], [0, 30, 0, 0]];
    const data = new Float64Array(n * 4);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      labels.push(c);
      for (let j = 0; j < 4; j++) data[i * 4 + j] = centers[c][j] + rng.normal();
    }
    return { X: { data, rows: n, cols: 4 }, labels };
  }

  it("the same seed gives the identical embedding (random and PCA initialisation)", async () => {
    const { X } = blobs(200, 1);
    for (const init of ["random", "pca"] as const) {
      const a = await new TSNE({ init, randomState: 3, perplexity: 15, maxIter: 300 }).fit(X);
      const b = await new TSNE({ init, randomState: 3, perplexity: 15, maxIter: 300 }).fit(X);
      expect(Array.from(a.embedding.data)).toEqual(Array.from(b.embedding.data));
      expect(a.klDivergence).toBe(b.klDivergence);
    }
    const c = await new TSNE({ init: "random", randomState: 4, perplexity: 15, maxIter: 300 }).fit(X);
    const d = await new TSNE({ init: "random", randomState: 3, perplexity: 15, maxIter: 300 }).fit(X);
    expect(Array.from(c.embedding.data)).not.toEqual(Array.from(d.embedding.data));
  });

  it("well-separated blobs land in separate regions (random init too)", async () => {
    const { X, labels } = blobs(240, 2);
    const Y = await new TSNE({ init: "random", randomState: 0, perplexity: 20 }).fitTransform(X);
    // Every point is nearer its own blob's embedded centroid than any other's.
    const cent = new Float64Array(6);
    const cnt = [0, 0, 0];
    for (let i = 0; i < 240; i++) {
      cent[2 * labels[i]] += Y.data[2 * i];
      cent[2 * labels[i] + 1] += Y.data[2 * i + 1];
      cnt[labels[i]]++;
    }
    for (let c = 0; c < 3; c++) {
      cent[2 * c] /= cnt[c];
      cent[2 * c + 1] /= cnt[c];
    }
    for (let i = 0; i < 240; i++) {
      const d = [0, 1, 2].map((c) => (Y.data[2 * i] - cent[2 * c]) ** 2 + (Y.data[2 * i + 1] - cent[2 * c + 1]) ** 2);
      expect(d.indexOf(Math.min(...d))).toBe(labels[i]);
    }
  });

  it("reports progress every 50 iterations, starts from a given init, and stops on abort", async () => {
    const { X } = blobs(90, 3);
    const seen: number[] = [];
    const init = await pcaInitialization(X);
    const m = await new TSNE({ init, perplexity: 10, maxIter: 400 }).fit(X, { onProgress: (p) => seen.push(p.iteration) });
    expect(seen).toEqual([50, 100, 150, 200, 250, 300, 350, 400]);
    const m2 = await new TSNE({ init: "pca", perplexity: 10, maxIter: 400 }).fit(X);
    expect(Array.from(m.embedding.data)).toEqual(Array.from(m2.embedding.data));
    const ac = new AbortController();
    await expect(
      new TSNE({ perplexity: 10 }).fit(X, { signal: ac.signal, onProgress: (p) => p.iteration === 100 && ac.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it("3-D embedding with the exact method (degrees of freedom 2)", async () => {
    // With 2 degrees of freedom scikit-learn's gradient weights pairs by (1 + d/2)^(−3/2) instead of
    // the derivative's (1 + d/2)^(−1), which makes its 3-D t-SNE converge slowly; this follows it.
    // On this data scikit-learn 1.2 reaches KL 1.04 and trustworthiness 0.936 (measured once).
    const { X } = blobs(90, 5);
    const m = await new TSNE({ nComponents: 3, method: "exact", perplexity: 10, randomState: 0 }).fit(X);
    expect(m.embedding.cols).toBe(3);
    expect(m.klDivergence).toBeLessThan(1.25);
    expect(trustworthiness(X, m.embedding, 5)).toBeGreaterThan(0.88);
  });

  it("rejects bad options and inputs with clear messages", async () => {
    expect(() => new TSNE({ maxIter: 100 })).toThrow(/maxIter must be a whole number ≥ 250/);
    expect(() => new TSNE({ angle: 2 })).toThrow(InputError);
    expect(() => new TSNE({ nComponents: 3 })).toThrow(/use method "exact"/);
    expect(() => new TSNE({ method: "fast" as "exact" })).toThrow(/method must be/);
    await expect(new TSNE({ perplexity: 30 }).fit([[1, 2], [3, 4], [5, 6]])).rejects.toThrow(/perplexity \(30\) must be less than the number of rows \(3\)/);
    await expect(new TSNE({ perplexity: 1, init: [[0, 0]] }).fit([[1, 2], [3, 4], [5, 6]])).rejects.toThrow(/init has 1 × 2 values; expected 3 × 2/);
  });
});
