/**
 * PCA on wide tables (issue #12.7): the method chosen as scikit-learn's svd_solver="auto"
 * does, the randomized SVD equal to scikit-learn's on a 300 × 1,000 table
 * (test/fixtures/pca_wide.json, made by make_pca_wide_fixtures.py), and the full method on
 * tables with fewer rows than columns (through the Gram matrix).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JACOBI_MAX, jacobiEigen, symmetricEigen, tridiagonalEigen } from "../src/core/linalg.js";
import { type Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { PCA } from "../src/preprocess/pca.js";

interface Recipe {
  n: number;
  d: number;
  seed: number;
  multiplier: number;
  increment: number;
  weights: [number, number, number];
  noise: number;
}
const fx = JSON.parse(readFileSync(new URL("./fixtures/pca_wide.json", import.meta.url), "utf8")) as {
  recipe: Recipe;
  check: { x00: number; xLast: number; sum: number };
  solver: string;
  components: number[][];
  explained_variance: number[];
  explained_variance_ratio: number[];
  singular_values: number[];
  transformed_head: number[][];
};

/** The fixture's table, from its recipe (the same arithmetic as the Python script). */
function recipeTable(r: Recipe): Matrix {
  let s = r.seed;
  const draws = (m: number): Float64Array => {
    const out = new Float64Array(m);
    for (let t = 0; t < m; t++) {
      s = (Math.imul(r.multiplier, s) + r.increment) >>> 0;
      out[t] = s / 2 ** 32 - 0.5;
    }
    return out;
  };
  const { n, d } = r;
  const Z = draws(n * 3);
  const W = draws(3 * d);
  const E = draws(n * d);
  const [w0, w1, w2] = r.weights;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      data[i * d + j] = ((w0 * Z[i * 3] * W[j] + w1 * Z[i * 3 + 1] * W[d + j]) + w2 * Z[i * 3 + 2] * W[2 * d + j]) + r.noise * E[i * d + j] + j / 100;
    }
  }
  return { data, rows: n, cols: d };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return worst;
}

/** Largest difference between rows of A and B (k × d), each row compared up to sign. */
function upToSign(A: ArrayLike<number>, B: ArrayLike<number>, k: number, d: number): number {
  let worst = 0;
  for (let c = 0; c < k; c++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += A[c * d + j] * B[c * d + j];
    const sign = dot < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(A[c * d + j] - sign * B[c * d + j]));
  }
  return worst;
}

function randomTable(n: number, d: number, seed: number): Matrix {
  const rng = new Random(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    for (let j = 0; j < d; j++) data[i * d + j] = 3 * a * Math.sin(j + 1) + b * Math.cos(2 * j) + 0.3 * rng.normal();
  }
  return { data, rows: n, cols: d };
}

describe("PCA on wide tables", () => {
  const X = recipeTable(fx.recipe);

  it("the recipe gives the fixture's table", () => {
    expect(X.data[0]).toBe(fx.check.x00);
    expect(X.data[X.data.length - 1]).toBe(fx.check.xLast);
    let sum = 0;
    for (const v of X.data) sum += v;
    expect(Math.abs(sum - fx.check.sum) / fx.check.sum).toBeLessThan(1e-12);
  });

  it("300 × 1,000, 2 components: the randomized method, equal to scikit-learn's", async () => {
    const pca = new PCA({ nComponents: 2 });
    const m = await pca.fit(X);
    expect(fx.solver).toBe("randomized");
    expect(pca.lastFit?.solver).toBe("randomized");
    expect(relErr(m.explainedVarianceRatio, fx.explained_variance_ratio)).toBeLessThan(1e-6);
    expect(relErr(m.explainedVariance, fx.explained_variance)).toBeLessThan(1e-6);
    expect(relErr(m.singularValues, fx.singular_values)).toBeLessThan(1e-6);
    expect(upToSign(m.components.data, fx.components.flat(), 2, fx.recipe.d)).toBeLessThan(1e-6);
    // With scikit-learn's sign rule, the signs agree too, and so do the projections.
    expect(relErr(m.components.data, fx.components.flat())).toBeLessThan(1e-4);
    const head = m.transform({ data: X.data.subarray(0, 5 * fx.recipe.d), rows: 5, cols: fx.recipe.d });
    expect(relErr(head.data, fx.transformed_head.flat())).toBeLessThan(1e-6);
  });

  it("the full method gives the same components (through the 300 × 300 Gram matrix)", async () => {
    const pca = new PCA({ nComponents: 2, svdSolver: "full" });
    const full = await pca.fit(X);
    expect(pca.lastFit?.solver).toBe("full");
    expect(relErr(full.explainedVarianceRatio, fx.explained_variance_ratio)).toBeLessThan(1e-9);
    expect(upToSign(full.components.data, fx.components.flat(), 2, fx.recipe.d)).toBeLessThan(1e-9);
  });

  it("chooses the method as scikit-learn's svd_solver=\"auto\"", () => {
    expect(PCA.chooseSolver(300, 1000, 2)).toBe("randomized");
    expect(PCA.chooseSolver(2000, 5000, 2)).toBe("randomized");
    expect(PCA.chooseSolver(400, 6, null)).toBe("full");
    expect(PCA.chooseSolver(500, 500, 2)).toBe("full"); // small: max(n, d) ≤ 500
    expect(PCA.chooseSolver(600, 600, 2)).toBe("randomized");
    // Tall and narrow: through the covariance (scikit-learn ≥ 1.5's covariance_eigh).
    expect(PCA.chooseSolver(501, 10, 2)).toBe("full");
    expect(PCA.chooseSolver(2_000_000, 8, 2)).toBe("full");
    expect(PCA.chooseSolver(20_000, 300, 2)).toBe("randomized");
    expect(PCA.chooseSolver(1000, 600, 479)).toBe("randomized"); // below 80 % of min(n, d)
    expect(PCA.chooseSolver(1000, 600, 480)).toBe("full");
    expect(PCA.chooseSolver(1000, 600, 0.9)).toBe("full"); // a share of variance needs every component
    expect(PCA.chooseSolver(1000, 600, null)).toBe("full");
  });

  it("randomized and full agree where the axes are separated (tall, wide, and with fewer rows than columns)", async () => {
    for (const [n, d, k] of [[800, 40, 2], [120, 700, 2], [300, 300, 3]] as const) {
      const T = randomTable(n, d, n + d);
      const a = new PCA({ nComponents: k, svdSolver: "randomized" });
      const ma = await a.fit(T);
      const mf = await new PCA({ nComponents: k, svdSolver: "full" }).fit(T);
      expect(relErr(ma.explainedVariance.subarray(0, 2), mf.explainedVariance.subarray(0, 2)), `${n} × ${d}`).toBeLessThan(1e-9);
      expect(upToSign(ma.components.data.subarray(0, 2 * d), mf.components.data.subarray(0, 2 * d), 2, d), `${n} × ${d}`).toBeLessThan(1e-7);
      // The same sign rule: the same signs.
      expect(Math.sign(ma.components.data[0] * mf.components.data[0])).toBe(1);
      expect(a.lastFit!.iterations).toBeLessThanOrEqual(20);
    }
  });

  it("the full method with fewer rows than columns: orthonormal axes whose variances are the projections' and add up to the total", async () => {
    const T = randomTable(30, 80, 7);
    const m = await new PCA({ svdSolver: "full" }).fit(T);
    expect(m.nComponents).toBe(30);
    const d = 80;
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b <= a; b++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += m.components.data[a * d + j] * m.components.data[b * d + j];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
    const Y = m.transform(T);
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let i = 0; i < 30; i++) v += Y.data[i * 30 + c] ** 2;
      expect(v / 29 / m.explainedVariance[c]).toBeCloseTo(1, 10);
    }
    expect(m.explainedVarianceRatio.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
  });

  it("randomized on a table of rank 1: the second axis has no variance, nothing is NaN", async () => {
    const n = 600;
    const d = 20;
    const data = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = (i % 7) * (j + 1);
    const pca = new PCA({ nComponents: 2, svdSolver: "randomized" });
    const m = await pca.fit({ data, rows: n, cols: d });
    expect(pca.lastFit?.solver).toBe("randomized");
    expect(m.explainedVarianceRatio[0]).toBeCloseTo(1, 12);
    expect(m.explainedVarianceRatio[1]).toBeLessThan(1e-20);
    expect(Array.from(m.components.data).every(Number.isFinite)).toBe(true);
  });

  it("symmetricEigen (Jacobi up to 64, Householder + QR above): A v = λ v and orthonormal vectors, on random, diagonal, repeated and 1 × 1 matrices", () => {
    const rng = new Random(3);
    const cases: [number, Float64Array][] = [];
    for (const d of [1, 2, 7, 60, 65, 150]) {
      const A = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) A[i * d + j] = A[j * d + i] = rng.normal();
      cases.push([d, A]);
    }
    cases.push([4, Float64Array.from([3, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0])]); // diagonal, a repeated value
    cases.push([3, new Float64Array(9).fill(1)]); // rank 1: eigenvalues 3, 0, 0
    const solvers = [symmetricEigen, jacobiEigen, tridiagonalEigen];
    for (const [d, A] of cases) for (const solve of solvers) {
      const { values, vectors } = solve(A, d);
      for (let e = 0; e < d; e++) {
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += A[i * d + j] * vectors[j * d + e];
          expect(Math.abs(s - values[e] * vectors[i * d + e]), `d=${d}`).toBeLessThan(1e-12);
        }
        for (let f = 0; f <= e; f++) {
          let s = 0;
          for (let i = 0; i < d; i++) s += vectors[i * d + e] * vectors[i * d + f];
          expect(s, `d=${d}`).toBeCloseTo(e === f ? 1 : 0, 12);
        }
      }
      let trace = 0;
      for (let i = 0; i < d; i++) trace += A[i * d + i];
      expect(values.reduce((x, y) => x + y, 0)).toBeCloseTo(trace, 10);
    }
    expect(JACOBI_MAX).toBe(64);
    // Both methods find the same spectrum.
    const [, A150] = cases[5];
    const sorted = (v: Float64Array): number[] => Array.from(v).sort((x, y) => x - y);
    const [qr, jac] = [sorted(tridiagonalEigen(A150, 150).values), sorted(jacobiEigen(A150, 150).values)];
    expect(Math.max(...qr.map((v, i) => Math.abs(v - jac[i])))).toBeLessThan(1e-10);
    expect(Array.from(tridiagonalEigen(new Float64Array(9).fill(1), 3).values).sort((x, y) => y - x).map((x) => Math.round(x * 1e9) / 1e9 + 0)).toEqual([3, 0, 0]);
  });
});
