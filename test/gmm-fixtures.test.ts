/**
 * The Gaussian-mixture fixtures (test/fixtures/gmm.json, written by
 * test/fixtures/make_gmm_fixtures.py with scikit-learn 1.2) are well formed and agree with
 * themselves, recomputed here without any library code: every fit's densities, computed from
 * its weights, means and precision Cholesky factors, give its score_samples, predict_proba,
 * predict and score; BIC and AIC follow from score, n and the parameter count; the Cholesky
 * factors invert the covariances; the hand-made 1-D case's one EM step is redone here from
 * its start; a warm start retraces the cold run from the same start; the model-selection
 * tables pick their lowest BIC. The GaussianMixture tests
 * (src/cluster against these references) live with the estimator.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

type CovType = "full" | "tied" | "diag" | "spherical";
/** full: k x d x d; tied: d x d; diag: k x d; spherical: k. */
type Prec = number[][][] | number[][] | number[];

interface GmmFit {
  name: string;
  params: { n_components: number; covariance_type: CovType; tol: number; reg_covar: number; max_iter: number; n_init: number };
  start: { method: "kmeans" | "random_rows" | "given"; seed?: number; how: string; reg_covar?: number; rows?: number[] };
  init: { weights: number[]; means: number[][]; precisions: Prec };
  error?: string;
  lower_bound: number;
  n_iter: number;
  converged: boolean;
  weights: number[];
  means: number[][];
  covariances: Prec;
  precisions: Prec;
  precisions_cholesky: Prec;
  predict: number[];
  predict_proba_head: number[][];
  score_samples_head: number[];
  score: number;
  bic: number;
  aic: number;
  n_parameters: number;
  label_margin: number;
  independent: { lower_bound: number; n_iter: number; converged: boolean; lower_bound_diff: number; means_diff: number; weights_diff: number; labels_differ: number };
  perturbed: { n_iter: number; lower_bound_diff: number; means_diff: number; labels_differ: number };
  reproducible: boolean;
}

interface OwnInit {
  params: { n_components: number; covariance_type: CovType; init_params: string; n_init: number };
  seeds: number[];
  lower_bounds: number[];
  n_iter: number[];
  converged: boolean[];
  median_lower_bound: number;
}

type PerType = Record<CovType, number[]>;
interface Selection {
  params: { n_init: number; random_state: number };
  ks: number[];
  types: CovType[];
  bic: PerType;
  aic: PerType;
  score: PerType;
  n_parameters: PerType;
  lower_bound: PerType;
  best: { k: number; covariance_type: CovType; bic: number };
  truth?: { k: number; covariance_type: CovType };
}

interface WarmState {
  max_iter: number;
  lower_bound: number;
  n_iter: number;
  converged: boolean;
  weights: number[];
  means: number[][];
  covariances: Prec;
  precisions: Prec;
  score: number;
  bic: number;
  predict: number[];
}

interface WarmStart {
  name: string;
  params: GmmFit["params"] & { warm_start: true };
  start: GmmFit["start"];
  init: GmmFit["init"];
  first: WarmState;
  second: WarmState;
}

interface GmmCase {
  name: string;
  source: string;
  n: number;
  d: number;
  X: number[][];
  fits: GmmFit[];
  own_init?: OwnInit[];
  warm_start?: WarmStart[];
  selection?: Selection;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/gmm.json", import.meta.url), "utf8")) as {
  generator: string;
  sklearn: string;
  cases: GmmCase[];
};

const TYPES: CovType[] = ["full", "tied", "diag", "spherical"];
const HEAD = 20;
const REAL = ["mall", "online_retail_rfm", "telco2000"];

function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

function nParameters(t: CovType, k: number, d: number): number {
  const cov = { full: (k * d * (d + 1)) / 2, tied: (d * (d + 1)) / 2, diag: k * d, spherical: k }[t];
  return cov + k * d + k - 1;
}

/** The shape a covariance, precision or Cholesky array of this type must have. */
function checkShape(a: Prec, t: CovType, k: number, d: number): void {
  const mat = (m: unknown): void => {
    expect(Array.isArray(m)).toBe(true);
    const rows = m as number[][];
    expect(rows).toHaveLength(d);
    for (const r of rows) {
      expect(r).toHaveLength(d);
      for (const v of r) expect(Number.isFinite(v)).toBe(true);
    }
  };
  if (t === "full") {
    expect(a).toHaveLength(k);
    for (const m of a as number[][][]) mat(m);
  } else if (t === "tied") {
    mat(a);
  } else if (t === "diag") {
    expect(a).toHaveLength(k);
    for (const r of a as number[][]) {
      expect(r).toHaveLength(d);
      for (const v of r) expect(v).toBeGreaterThan(0);
    }
  } else {
    expect(a).toHaveLength(k);
    for (const v of a as number[]) expect(v).toBeGreaterThan(0);
  }
}

/** Lower Cholesky factor of a symmetric matrix, or null when it is not positive definite. */
function cholesky(A: number[][]): number[][] | null {
  const d = A.length;
  const L = A.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i][j];
      for (let p = 0; p < j; p++) s -= L[i][p] * L[j][p];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i][i] = Math.sqrt(s);
      } else {
        L[i][j] = s / L[j][j];
      }
    }
  }
  return L;
}

/**
 * A component's log-density evaluator from its precision Cholesky factor as the fixture
 * stores it: full/tied a d x d matrix C with C C^T = precision (any triangle), diag a
 * vector, spherical a number; log N = -0.5 (d log 2 pi + |(x - mu) C|^2) + log|det C|.
 */
function logDensity(t: CovType, pc: Prec, j: number, d: number): (x: number[], mu: number[]) => number {
  const c0 = d * Math.log(2 * Math.PI);
  if (t === "full" || t === "tied") {
    const C = t === "full" ? (pc as number[][][])[j] : (pc as number[][]);
    // |det C| of a triangular C is the product of its diagonal; check it is triangular
    const lower = C.every((r, a) => r.every((v, b) => b <= a || v === 0));
    const upper = C.every((r, a) => r.every((v, b) => b >= a || v === 0));
    expect(lower || upper).toBe(true);
    let logdet = 0;
    for (let a = 0; a < d; a++) logdet += Math.log(Math.abs(C[a][a]));
    return (x, mu) => {
      let q = 0;
      for (let b = 0; b < d; b++) {
        let y = 0;
        for (let a = 0; a < d; a++) y += (x[a] - mu[a]) * C[a][b];
        q += y * y;
      }
      return -0.5 * (c0 + q) + logdet;
    };
  }
  const s = t === "diag" ? (pc as number[][])[j] : new Array<number>(d).fill((pc as number[])[j]);
  let logdet = 0;
  for (const v of s) logdet += Math.log(v);
  return (x, mu) => {
    let q = 0;
    for (let a = 0; a < d; a++) q += ((x[a] - mu[a]) * s[a]) ** 2;
    return -0.5 * (c0 + q) + logdet;
  };
}

/** Weighted log-densities (n x k), log p(x) and log responsibilities of a model. */
function eStep(X: number[][], t: CovType, weights: number[], means: number[][], pc: Prec) {
  const k = weights.length;
  const d = means[0].length;
  const dens = Array.from({ length: k }, (_, j) => logDensity(t, pc, j, d));
  const logNorm: number[] = [];
  const logResp: number[][] = [];
  for (const x of X) {
    const w = dens.map((f, j) => Math.log(weights[j]) + f(x, means[j]));
    const m = Math.max(...w);
    const lse = m + Math.log(w.reduce((s, v) => s + Math.exp(v - m), 0));
    logNorm.push(lse);
    logResp.push(w.map((v) => v - lse));
  }
  return { logNorm, logResp };
}

/** The explicit start's precisions as scikit-learn turns them into Cholesky factors. */
function initCholesky(t: CovType, prec: Prec): Prec {
  if (t === "full") return (prec as number[][][]).map((P) => cholesky(P)!);
  if (t === "tied") return cholesky(prec as number[][])!;
  if (t === "diag") return (prec as number[][]).map((r) => r.map(Math.sqrt));
  return (prec as number[]).map(Math.sqrt);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

describe("Gaussian-mixture fixtures (gmm.json) are well formed", () => {
  it("names its generator and scikit-learn, and has the cases the GaussianMixture tests use", () => {
    expect(fixture.generator).toBe("test/fixtures/make_gmm_fixtures.py");
    expect(fixture.sklearn).toBe("1.2.1");
    expect(fixture.cases.map((c) => c.name)).toEqual([
      "hand1d", "degenerate", "mall", "online_retail_rfm", "telco2000", "mall_raw", "blobs8d",
      "generated_full", "generated_tied", "generated_diag", "generated_spherical", "mall_income_spending",
    ]);
  });

  it("every real table has a same-start fit of every covariance type for k = 2, 3 and 4, all reproducible", () => {
    for (const name of REAL) {
      const c = fixture.cases.find((x) => x.name === name)!;
      for (const t of TYPES) {
        for (const k of [2, 3, 4]) {
          const f = c.fits.find((x) => x.params.covariance_type === t && x.params.n_components === k && x.start.method === "kmeans");
          expect(f, `${name} ${t} k${k}`).toBeDefined();
        }
      }
      for (const f of c.fits) expect(f.reproducible, `${name} ${f.name}`).toBe(true);
    }
  });

  it("has a fixed-iteration fit (tol 0), a fit that did not converge, and fits where reg_covar decides", () => {
    const all = fixture.cases.flatMap((c) => c.fits.map((f) => ({ c, f })));
    const fixed = all.filter(({ f }) => f.params.tol === 0 && !f.error);
    expect(fixed.length).toBeGreaterThanOrEqual(1);
    for (const { f } of fixed) {
      expect(f.n_iter).toBe(f.params.max_iter); // |change| < 0 never holds
      expect(f.converged).toBe(false);
    }
    const stopped = all.filter(({ f }) => f.params.tol > 0 && !f.error && !f.converged);
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    for (const { f } of stopped) expect(f.n_iter).toBe(f.params.max_iter);
    for (const { f } of all) if (!f.error && f.n_iter < f.params.max_iter) expect(f.converged).toBe(true);

    // the degenerate case: the nearly constant column's variance IS reg_covar (plus ~1e-12)
    const deg = fixture.cases.find((c) => c.name === "degenerate")!;
    for (const t of TYPES) {
      const a = deg.fits.find((f) => f.name === `${t}_k3`)!;
      const b = deg.fits.find((f) => f.name === `${t}_k3_reg1e-3`)!;
      const colVar = (f: GmmFit): number[] => {
        const cv = f.covariances;
        if (t === "full") return (cv as number[][][]).map((m) => m[2][2]);
        if (t === "tied") return [(cv as number[][])[2][2]];
        if (t === "diag") return (cv as number[][]).map((r) => r[2]);
        return cv as number[];
      };
      if (t !== "spherical") {
        for (const v of colVar(a)) {
          expect(v).toBeGreaterThanOrEqual(1e-6);
          expect(v).toBeLessThan(1.1e-6);
        }
        for (const v of colVar(b)) {
          expect(v).toBeGreaterThanOrEqual(1e-3);
          expect(v).toBeLessThan(1.0001e-3);
        }
      }
      // spherical: the duplicated rows' component collapses to about reg_covar
      expect(Math.min(...colVar(a))).toBeLessThan(1.1e-6);
      expect(a.bic).toBeLessThan(b.bic - 100);
    }
    // without reg_covar, scikit-learn refuses full and diag (a component of identical rows)
    for (const t of ["full", "diag"]) {
      const f = deg.fits.find((x) => x.name === `${t}_k3_reg0`)!;
      expect(f.error).toMatch(/ill-defined empirical covariance.*increase reg_covar/);
    }
  });

  for (const c of fixture.cases) {
    describe(`${c.name} (${c.n} x ${c.d})`, () => {
      const { n, d, X } = c;

      it("has an n x d matrix of finite numbers with 6 decimals at most", () => {
        expect(X).toHaveLength(n);
        for (const row of X) {
          expect(row).toHaveLength(d);
          for (const v of row) {
            expect(Number.isFinite(v)).toBe(true);
            expect(Math.abs(Math.round(v * 1e6) / 1e6 - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v)));
          }
        }
        const names = c.fits.map((f) => f.name);
        expect(new Set(names).size).toBe(names.length);
      });

      for (const f of c.fits) {
        const t = f.params.covariance_type;
        const k = f.params.n_components;

        it(`${f.name}: the start has scikit-learn's shapes, weights summing to 1, positive-definite symmetric precisions`, () => {
          expect(f.params.n_init).toBe(1);
          expect(f.init.weights).toHaveLength(k);
          for (const w of f.init.weights) expect(w).toBeGreaterThan(0);
          expect(close(f.init.weights.reduce((s, w) => s + w, 0), 1, 1e-12)).toBe(true);
          expect(f.init.means).toHaveLength(k);
          for (const m of f.init.means) expect(m).toHaveLength(d);
          checkShape(f.init.precisions, t, k, d);
          const mats = t === "full" ? (f.init.precisions as number[][][]) : t === "tied" ? [f.init.precisions as number[][]] : [];
          for (const P of mats) {
            for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) expect(P[a][b]).toBe(P[b][a]);
            expect(cholesky(P)).not.toBeNull();
          }
          if (f.start.method === "random_rows") {
            expect(f.start.rows).toHaveLength(k);
            f.start.rows!.forEach((r, j) => expect(f.init.means[j]).toEqual(X[r]));
          }
        });

        if (f.error) continue;

        it(`${f.name}: shapes, weights summing to 1, labels in 0..k-1, BIC and AIC from score, n and the parameter count`, () => {
          expect(f.weights).toHaveLength(k);
          expect(close(f.weights.reduce((s, w) => s + w, 0), 1, 1e-12)).toBe(true);
          expect(f.means).toHaveLength(k);
          for (const m of f.means) expect(m).toHaveLength(d);
          checkShape(f.covariances, t, k, d);
          checkShape(f.precisions, t, k, d);
          checkShape(f.precisions_cholesky, t, k, d);
          expect(f.predict).toHaveLength(n);
          for (const l of f.predict) expect(Number.isInteger(l) && l >= 0 && l < k).toBe(true);
          const h = Math.min(HEAD, n);
          expect(f.predict_proba_head).toHaveLength(h);
          expect(f.score_samples_head).toHaveLength(h);
          for (const row of f.predict_proba_head) {
            expect(row).toHaveLength(k);
            expect(close(row.reduce((s, v) => s + v, 0), 1, 1e-12)).toBe(true);
          }
          expect(f.n_parameters).toBe(nParameters(t, k, d));
          expect(close(f.bic, -2 * f.score * n + f.n_parameters * Math.log(n), 1e-12)).toBe(true);
          expect(close(f.aic, -2 * f.score * n + 2 * f.n_parameters, 1e-12)).toBe(true);
          expect(f.n_iter).toBeGreaterThanOrEqual(1);
          expect(f.n_iter).toBeLessThanOrEqual(f.params.max_iter);
        });

        it(`${f.name}: the Cholesky factors invert the covariances and give the precisions`, () => {
          // U U^T = precision and U^T cov U = I (full, tied); pc^2 cov = 1 (diag, spherical)
          const mats =
            t === "full"
              ? (f.precisions_cholesky as number[][][]).map((U, j) => [U, (f.covariances as number[][][])[j], (f.precisions as number[][][])[j]])
              : t === "tied"
                ? [[f.precisions_cholesky, f.covariances, f.precisions] as number[][][]]
                : [];
          for (const [U, S, P] of mats) {
            const scale = Math.max(...P.flat().map(Math.abs));
            for (let a = 0; a < d; a++) {
              for (let b = 0; b < d; b++) {
                let uu = 0;
                let usu = 0;
                for (let p = 0; p < d; p++) {
                  uu += U[a][p] * U[b][p];
                  for (let q = 0; q < d; q++) usu += U[p][a] * S[p][q] * U[q][b];
                }
                expect(Math.abs(uu - P[a][b])).toBeLessThanOrEqual(1e-10 * scale);
                expect(Math.abs(usu - (a === b ? 1 : 0))).toBeLessThanOrEqual(1e-8);
              }
            }
          }
          if (t === "diag" || t === "spherical") {
            const pc = (f.precisions_cholesky as (number | number[])[]).flat();
            const cv = (f.covariances as (number | number[])[]).flat();
            const pr = (f.precisions as (number | number[])[]).flat();
            pc.forEach((u, i) => {
              expect(close(u * u * cv[i], 1, 1e-12)).toBe(true);
              expect(close(u * u, pr[i], 1e-12)).toBe(true);
            });
          }
        });

        it(`${f.name}: densities from its weights, means and Cholesky factors give score_samples, predict_proba, predict and score`, () => {
          const { logNorm, logResp } = eStep(X, t, f.weights, f.means, f.precisions_cholesky);
          // scikit-learn computes diag and spherical distances as expanded squares,
          // sum p (mu^2 - 2 x mu + x^2), whose rounding is ~eps times the size of the terms
          // (1e-10 where a component's variance collapsed to reg_covar 1e-6; more at 1e12);
          // the direct (x - mu) form here is exact to ~eps. Allow 8 eps times the terms.
          const rowTol = X.map((x) => {
            if (t === "full" || t === "tied") return 1e-10;
            let worst = 0;
            for (let j = 0; j < k; j++) {
              let terms = 0;
              for (let a = 0; a < d; a++) {
                const p = t === "diag" ? (f.precisions as number[][])[j][a] : (f.precisions as number[])[j];
                terms += p * (f.means[j][a] ** 2 + 2 * Math.abs(x[a] * f.means[j][a]) + x[a] ** 2);
              }
              worst = Math.max(worst, terms);
            }
            return 1e-10 + 8 * Number.EPSILON * worst;
          });
          f.score_samples_head.forEach((v, i) => expect(close(logNorm[i], v, rowTol[i]), `row ${i}: ${logNorm[i]} vs ${v}`).toBe(true));
          f.predict_proba_head.forEach((row, i) =>
            row.forEach((p, j) => expect(Math.abs(Math.exp(logResp[i][j]) - p)).toBeLessThanOrEqual(2 * rowTol[i])),
          );
          const mean = logNorm.reduce((s, v) => s + v, 0) / n;
          expect(close(mean, f.score, Math.max(...rowTol))).toBe(true);
          let margin = Infinity;
          logResp.forEach((r, i) => {
            let top = 0;
            for (let j = 1; j < k; j++) if (r[j] > r[top]) top = j;
            expect(top, `row ${i}`).toBe(f.predict[i]);
            for (let j = 0; j < k; j++) if (j !== top) margin = Math.min(margin, r[top] - r[j]);
          });
          if (k > 1) expect(Math.abs(margin - f.label_margin)).toBeLessThanOrEqual(1e-6 * Math.max(1, f.label_margin));
          if (f.reproducible) expect(f.label_margin).toBeGreaterThan(1e-6); // identical predictions are a fair demand
        });

        it(`${f.name}: the independent EM and the perturbed start agree as "reproducible" says`, () => {
          const i = f.independent;
          const ok =
            i.n_iter === f.n_iter &&
            i.converged === f.converged &&
            i.lower_bound_diff <= 1e-9 * Math.max(1, Math.abs(f.lower_bound)) &&
            i.means_diff <= 1e-9 &&
            i.weights_diff <= 1e-10 &&
            i.labels_differ === 0;
          expect(ok).toBe(f.reproducible);
          expect(Math.abs(Math.abs(i.lower_bound - f.lower_bound) - i.lower_bound_diff)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(f.lower_bound)));
          if (f.reproducible) {
            expect(f.perturbed.n_iter).toBe(f.n_iter);
            expect(f.perturbed.labels_differ).toBe(0);
            expect(f.perturbed.lower_bound_diff).toBeLessThanOrEqual(1e-9);
          }
        });

        if (f.converged && f.reproducible) {
          it(`${f.name}: converged, so the final parameters' score is within tol of the lower bound (the last E-step's)`, () => {
            expect(f.score).toBeGreaterThanOrEqual(f.lower_bound - 1e-12);
            expect(f.score - f.lower_bound).toBeLessThan(f.params.tol);
          });
        }
      }

      for (const w of c.warm_start ?? []) {
        it(`${w.name}: a warm start continues the same iterations: first + second run = the cold run from the same start`, () => {
          const t = w.params.covariance_type;
          const k = w.params.n_components;
          for (const s of [w.first, w.second]) {
            expect(s.weights).toHaveLength(k);
            checkShape(s.covariances, t, k, d);
            expect(s.predict).toHaveLength(n);
            expect(s.n_iter).toBeLessThanOrEqual(s.max_iter);
            if (!s.converged) expect(s.n_iter).toBe(s.max_iter);
            expect(close(s.bic, -2 * s.score * n + nParameters(t, k, d) * Math.log(n), 1e-12)).toBe(true);
          }
          expect(w.first.converged).toBe(false); // else the second run would have nothing to continue
          // the second run's first change is measured from the first run's lower bound: it
          // retraces the cold run's iterations first.n_iter + 1, 2, ...
          const cold = c.fits.find(
            (f) => f.params.covariance_type === t && f.params.n_components === k && f.params.tol === w.params.tol &&
              f.params.reg_covar === w.params.reg_covar && JSON.stringify(f.init) === JSON.stringify(w.init),
          );
          expect(cold, "a same-start fit of the same case").toBeDefined();
          if (w.second.converged) {
            expect(cold!.converged).toBe(true);
            expect(w.first.n_iter + w.second.n_iter).toBe(cold!.n_iter);
            expect(close(w.second.lower_bound, cold!.lower_bound, 1e-12)).toBe(true);
            w.second.means.forEach((m, j) => m.forEach((v, a) => expect(close(v, cold!.means[j][a], 1e-10)).toBe(true)));
            expect(w.second.predict).toEqual(cold!.predict);
          } else {
            expect(w.first.n_iter + w.second.n_iter).toBeLessThan(cold!.n_iter);
            // more iterations of EM raise the likelihood: the cold run ends higher
            expect(cold!.lower_bound).toBeGreaterThan(w.second.lower_bound);
            expect(w.second.lower_bound).toBeGreaterThan(w.first.lower_bound);
          }
        });
      }

      if (c.own_init) {
        it("own-init lower bounds: ten seeds, n_init 5, k-means init, and their median", () => {
          for (const o of c.own_init!) {
            expect(o.params.init_params).toBe("kmeans");
            expect(o.params.n_init).toBe(5);
            expect(o.seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            expect(o.lower_bounds).toHaveLength(10);
            for (const v of o.lower_bounds) expect(Number.isFinite(v)).toBe(true);
            expect(o.median_lower_bound).toBe(median(o.lower_bounds));
            expect(o.n_iter.every((v, s) => v >= 1 && v <= 100 && (v < 100 || !o.converged[s]))).toBe(true);
          }
        });
      }

      if (c.selection) {
        it("the BIC table: BIC and AIC from score and the parameter count, and the lowest BIC is the recorded best", () => {
          const s = c.selection!;
          expect(s.ks).toEqual([1, 2, 3, 4, 5, 6]);
          expect(s.types).toEqual(TYPES);
          let best = { bic: Infinity, k: 0, t: "full" as CovType };
          for (const t of TYPES) {
            expect(s.bic[t]).toHaveLength(s.ks.length);
            s.ks.forEach((k, i) => {
              const p = nParameters(t, k, d);
              expect(s.n_parameters[t][i]).toBe(p);
              expect(close(s.bic[t][i], -2 * s.score[t][i] * n + p * Math.log(n), 1e-12)).toBe(true);
              expect(close(s.aic[t][i], -2 * s.score[t][i] * n + 2 * p, 1e-12)).toBe(true);
              if (s.bic[t][i] < best.bic) best = { bic: s.bic[t][i], k, t };
            });
          }
          expect({ k: best.k, covariance_type: best.t, bic: best.bic }).toEqual(s.best);
          // k = 1: every type is one Gaussian; full and tied are the same model
          expect(close(s.score.full[0], s.score.tied[0], 1e-9)).toBe(true);
          if (c.name.startsWith("generated_")) {
            expect(s.truth).toEqual({ k: 3, covariance_type: c.name.slice("generated_".length) });
            expect(s.best.k).toBe(s.truth!.k);
            expect(s.best.covariance_type).toBe(s.truth!.covariance_type);
          }
        });
      }
    });
  }

  it("hand1d: one EM step from the start, redone here by the textbook formulas", () => {
    const c = fixture.cases.find((x) => x.name === "hand1d")!;
    const x = c.X.map((r) => r[0]);
    expect(x).toEqual([-1, 0, 0.5, 1, 1.5, 4, 5, 5.5, 6, 8]);
    for (const f of c.fits.filter((g) => g.params.max_iter === 1)) {
      const t = f.params.covariance_type;
      expect(f.n_iter).toBe(1);
      expect(f.converged).toBe(false);
      const w = f.init.weights;
      const mu = f.init.means.map((m) => m[0]);
      const prec = (f.init.precisions as (number | number[] | number[][])[]).flat(2) as number[];
      const v = t === "tied" ? [1 / prec[0], 1 / prec[0]] : prec.map((p) => 1 / p);
      expect(v).toEqual(t === "tied" ? [2, 2] : [1, 4]);
      // scikit-learn's start: Cholesky (full, tied) or square root (diag, spherical) of these
      const chol = (initCholesky(t, f.init.precisions) as (number | number[] | number[][])[]).flat(2) as number[];
      chol.forEach((u, j) => expect(u * u).toBeCloseTo(prec[j], 15));
      let ll = 0;
      const nk = [0, 0];
      const sx = [0, 0];
      const r: number[][] = [];
      for (const xi of x) {
        const p = [0, 1].map((j) => (w[j] * Math.exp((-0.5 * (xi - mu[j]) ** 2) / v[j])) / Math.sqrt(2 * Math.PI * v[j]));
        const tot = p[0] + p[1];
        ll += Math.log(tot);
        r.push(p.map((q) => q / tot));
      }
      r.forEach((ri, i) =>
        ri.forEach((q, j) => {
          nk[j] += q;
          sx[j] += q * x[i];
        }),
      );
      const m1 = sx.map((s, j) => s / nk[j]);
      const ss = [0, 1].map((j) => r.reduce((s, ri, i) => s + ri[j] * (x[i] - m1[j]) ** 2, 0));
      expect(f.lower_bound).toBeCloseTo(ll / x.length, 12);
      f.weights.forEach((wj, j) => expect(wj).toBeCloseTo(nk[j] / (nk[0] + nk[1]), 12));
      f.means.forEach((m, j) => expect(m[0]).toBeCloseTo(m1[j], 12));
      const cov = (f.covariances as (number | number[] | number[][])[]).flat(2) as number[];
      if (t === "tied") expect(cov[0]).toBeCloseTo((ss[0] + ss[1]) / x.length + 1e-6, 12);
      else cov.forEach((s, j) => expect(s).toBeCloseTo(ss[j] / nk[j] + 1e-6, 12));
    }
    // the same start run to convergence: the two groups {-1 .. 1.5} and {4 .. 8}
    const conv = c.fits.find((g) => g.name === "full_converged")!;
    expect(conv.converged).toBe(true);
    expect(conv.predict).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  });
});
