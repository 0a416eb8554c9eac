/**
 * Choosing a Gaussian mixture by BIC over k × covariance type (src/cluster/mixture/select.ts)
 * and the customers between segments (src/cluster/mixture/uncertainty.ts): the parameter
 * counts of scikit-learn, Kass & Raftery's scale, the reason on a hand-made table, the true
 * (k, type) recovered on generated mixtures of each type, failed fits recorded per cell, and
 * the pairs of segments on a hand-made probability matrix.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Matrix } from "../src/core/matrix.js";
import { AbortError, InputError } from "../src/core/errors.js";
import { Random } from "../src/core/random.js";
import { type CovarianceType, mixtureParameterCount } from "../src/cluster/mixture/gaussian-mixture.js";
import {
  chooseMixture, evidenceStrength, type MixtureCandidate, selectionSummary, selectMixture,
} from "../src/cluster/mixture/select.js";
import { betweenSegments, topProbabilities } from "../src/cluster/mixture/uncertainty.js";

function mat(rows: number[][]): Matrix {
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0].length };
}

describe("mixtureParameterCount and evidenceStrength", () => {
  it("scikit-learn's _n_parameters: covariance parameters + k·d means + k − 1 weights", () => {
    // k = 3, d = 2: full 3·3 + 6 + 2; tied 3 + 6 + 2; diag 6 + 6 + 2; spherical 3 + 6 + 2.
    expect(mixtureParameterCount(3, 2, "full")).toBe(17);
    expect(mixtureParameterCount(3, 2, "tied")).toBe(11);
    expect(mixtureParameterCount(3, 2, "diag")).toBe(14);
    expect(mixtureParameterCount(3, 2, "spherical")).toBe(11);
    // k = 1, d = 5: full = tied = 15 + 5.
    expect(mixtureParameterCount(1, 5, "full")).toBe(20);
    expect(mixtureParameterCount(1, 5, "tied")).toBe(20);
  });

  it("Kass & Raftery: 0–2 weak, 2–6 positive, 6–10 strong, above 10 very strong", () => {
    expect([0, 1.99, 2, 2.01, 6, 6.5, 10, 10.01, 300].map(evidenceStrength)).toEqual([
      "weak", "weak", "weak", "positive", "positive", "strong", "strong", "very strong", "very strong",
    ]);
  });
});

function cell(k: number, covarianceType: CovarianceType, bic: number | null, d = 2): MixtureCandidate {
  const p = mixtureParameterCount(k, d, covarianceType);
  if (bic === null) {
    return { k, covarianceType, bic: null, aic: null, lowerBound: null, converged: null, nParameters: p, error: "the covariance of component 2 is singular" };
  }
  return { k, covarianceType, bic, aic: bic - 10 * p, lowerBound: -bic / 1000, converged: true, nParameters: p };
}

describe("chooseMixture", () => {
  it("the lowest BIC, the runner-up's difference in Kass & Raftery's words, failed cells skipped", () => {
    const table = [
      cell(2, "full", 1000), cell(2, "spherical", 1040), cell(3, "full", 980), cell(3, "spherical", 992.3), cell(4, "full", null),
    ];
    const c = chooseMixture(table);
    expect(c).toMatchObject({ criterion: "bic", k: 3, covarianceType: "full", value: 980, bic: 980, nParameters: 17 });
    expect(c.runnerUp).toMatchObject({ k: 3, covarianceType: "spherical", value: 992.3, evidence: "very strong" });
    expect(c.runnerUp!.difference).toBeCloseTo(12.3, 10);
    expect(c.withinTwo).toEqual([]);
    expect(c.reason).toBe(
      "BIC is lowest for 3 segments with full covariances: each segment has its own size, shape and orientation (BIC 980.0, 17 parameters); "
      + "the next best, 3 spherical, is 12.3 higher: very strong evidence by Kass & Raftery's scale (> 10). "
      + "1 combination was skipped: the fit failed (see the table).",
    );
  });

  it("models within 2 are listed, and the simplest of them is offered when it has fewer parameters", () => {
    const table = [cell(3, "full", 500), cell(3, "diag", 501.5), cell(4, "full", 501.9), cell(2, "full", 504)];
    const c = chooseMixture(table);
    expect(c.runnerUp).toMatchObject({ k: 3, covarianceType: "diag", evidence: "weak" });
    expect(c.withinTwo.map((w) => [w.k, w.covarianceType])).toEqual([[3, "diag"], [4, "full"]]);
    expect(c.reason).toContain("weak evidence by Kass & Raftery's scale (0–2)");
    expect(c.reason).toContain("2 other models are within 2 of it, where the data cannot tell them apart: 3 diag (+1.5), 4 full (+1.9).");
    expect(c.reason).toContain("The simplest of them, 3 segments with diag covariances (14 parameters against 17), is as good a choice if fewer parameters are preferred.");
  });

  it("AIC is chosen the same way on its own column; ties go to fewer parameters; a table without any fit is an InputError", () => {
    const table = [cell(2, "full", 1000), cell(2, "tied", 1000), cell(3, "full", 999)];
    // AIC = BIC − 10 p: full k=3 has 17 parameters: 999 − 170 = 829, the lowest.
    const a = chooseMixture(table, "aic");
    expect(a).toMatchObject({ criterion: "aic", k: 3, covarianceType: "full", value: 829, bic: 999 });
    expect(a.reason.startsWith("AIC is lowest for 3 segments")).toBe(true);
    // 3 is the largest k of the table: the reason says to look further.
    expect(a.reason).toContain("It is the largest number of segments tried (3): raise kMax to see whether more segments do better.");
    expect(chooseMixture(table, "bic").reason).toContain("raise kMax");
    expect(chooseMixture([...table, cell(4, "full", 1200)], "bic").reason).not.toContain("raise kMax");
    const tie = chooseMixture([cell(2, "full", 1000), cell(2, "tied", 1000)]);
    expect(tie.covarianceType).toBe("tied");
    expect(() => chooseMixture([cell(2, "full", null)])).toThrow(InputError);
    expect(() => chooseMixture([cell(2, "full", null)])).toThrow(/regCovar/);
    const only = chooseMixture([cell(2, "full", 10), cell(3, "full", null)]);
    expect(only.runnerUp).toBeNull();
    expect(only.reason).toContain("the only combination that could be fitted");
  });
});

/**
 * Three 2-D Gaussians of `m` rows each whose shapes are of `type` and no simpler (the
 * shapes of test/fixtures/make_gmm_fixtures.py's generated()).
 */
function generated(type: CovarianceType, m = 400, seed = 0): Matrix {
  const rng = new Random(seed);
  const centres = [[0, 0], [7, 1], [2.5, 7]];
  const rot = (deg: number): number[] => {
    const r = (deg * Math.PI) / 180;
    return [Math.cos(r), -Math.sin(r), Math.sin(r), Math.cos(r)];
  };
  // Each component as (rotation, s1, s2): x = c + R diag(s1, s2) z.
  let shapes: [number, number, number][];
  switch (type) {
    case "spherical": shapes = [[0, 0.4, 0.4], [0, 1, 1], [0, 1.6, 1.6]]; break;
    case "diag": shapes = [[0, 1.6, 0.4], [0, 0.4, 1.4], [0, 1, 0.6]]; break;
    case "tied": shapes = [[35, 1.6, 0.45], [35, 1.6, 0.45], [35, 1.6, 0.45]]; break;
    case "full": shapes = [[30, 1.5, 0.4], [-50, 1.2, 0.5], [80, 1, 0.3]]; break;
  }
  const rows: number[][] = [];
  for (let c = 0; c < 3; c++) {
    const [deg, s1, s2] = shapes[c];
    const R = rot(deg);
    for (let i = 0; i < m; i++) {
      const z1 = s1 * rng.normal();
      const z2 = s2 * rng.normal();
      rows.push([centres[c][0] + R[0] * z1 + R[1] * z2, centres[c][1] + R[2] * z1 + R[3] * z2]);
    }
  }
  return mat(rows);
}

describe("selectMixture", () => {
  for (const type of ["full", "tied", "diag", "spherical"] as CovarianceType[]) {
    it(`recovers 3 segments with ${type} covariances on a generated mixture of that type`, async () => {
      const X = generated(type);
      const progress: [number, number][] = [];
      const s = await selectMixture(X, { kMax: 5, nInit: 2, randomState: 0, onProgress: (done, total) => progress.push([done, total]) });
      expect(s.table).toHaveLength(20);
      expect(s.table.map((c) => [c.k, c.covarianceType]).slice(0, 5)).toEqual([[1, "full"], [1, "tied"], [1, "diag"], [1, "spherical"], [2, "full"]]);
      expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, 20]));
      expect(s.table.every((c) => c.error === undefined)).toBe(true);
      expect([s.best.k, s.best.covarianceType]).toEqual([3, type]);
      // The table's numbers are the fitted models': BIC = −2 n score + p log n with the model's own BIC.
      const best = s.table.find((c) => c.k === 3 && c.covarianceType === type)!;
      expect(s.model.bic(X)).toBe(best.bic);
      expect(s.model.aic(X)).toBe(best.aic);
      expect(best.aic! - best.bic!).toBeCloseTo(best.nParameters * (2 - Math.log(X.rows)), 6);
      expect(s.model.nComponents).toBe(3);
      expect(s.model.covarianceType).toBe(type);
      expect(s.best.reason).toMatch(/^BIC is lowest for 3 segments with /);
      // AIC's choice is a row of the table with the lowest AIC.
      const minAic = Math.min(...s.table.map((c) => c.aic!));
      expect(s.byAic.value).toBe(minAic);
      // The summary is plain JSON without the model.
      const summary = selectionSummary(s);
      expect(summary).not.toHaveProperty("model");
      expect(summary.table).toEqual(s.table);
      expect(summary.best).toEqual(s.best);
    });
  }

  it("a fit that fails (a singular covariance with regCovar 0) is recorded in its cell with the message, not thrown", async () => {
    // A 2-D blob and 30 copies of one far point: with regCovar 0 a component holding only the
    // copies has a zero covariance; k = 1 fits.
    const rng = new Random(3);
    const rows: number[][] = [];
    for (let i = 0; i < 200; i++) rows.push([rng.normal(), rng.normal()]);
    for (let i = 0; i < 30; i++) rows.push([20, 20]);
    const s = await selectMixture(rows, { kMin: 1, kMax: 3, regCovar: 0, randomState: 0, covarianceTypes: ["full", "diag"] });
    const failed = s.table.filter((c) => c.error !== undefined);
    expect(failed.length).toBeGreaterThan(0);
    for (const c of failed) {
      expect(c.bic).toBeNull();
      expect(c.aic).toBeNull();
      expect(c.error).toMatch(/regCovar/);
    }
    expect(s.table.filter((c) => c.k === 1).every((c) => c.error === undefined && Number.isFinite(c.bic))).toBe(true);
    expect(s.table.find((c) => c.k === s.best.k && c.covarianceType === s.best.covarianceType)!.error).toBeUndefined();
    expect(s.best.reason).toMatch(/skipped: the fit failed/);
  });

  it("more components than rows is a failed cell; bad options are InputErrors naming them; an aborted signal stops it", async () => {
    const X = [[0, 0], [1, 0.5], [0.2, 1], [3, 3]];
    const s = await selectMixture(X, { kMin: 1, kMax: 5, covarianceTypes: ["spherical"], randomState: 1 });
    expect(s.table.find((c) => c.k === 5)!.error).toBe("5 components need at least 5 rows; X has 4");
    await expect(selectMixture(X, { kMin: 3, kMax: 2 })).rejects.toThrow(/kMax \(2\) must be at least kMin \(3\)/);
    await expect(selectMixture(X, { kMin: 0 })).rejects.toThrow(/kMin/);
    await expect(selectMixture(X, { covarianceTypes: ["round" as CovarianceType] })).rejects.toThrow(/covarianceTypes: unknown type "round"/);
    await expect(selectMixture(X, { covarianceTypes: [] })).rejects.toThrow(/covarianceTypes is empty/);
    // A bad GaussianMixture option is the caller's mistake, not a failed cell.
    await expect(selectMixture(X, { nInit: 0 })).rejects.toThrow(/nInit must be a whole number/);
    const controller = new AbortController();
    controller.abort();
    await expect(selectMixture(X, { signal: controller.signal })).rejects.toThrow(AbortError);
  });
});

describe("betweenSegments and topProbabilities", () => {
  // Five customers, three segments.
  const proba = mat([
    [0.90, 0.05, 0.05], // sure: segment 0
    [0.50, 0.45, 0.05], // between 0 and 1, assigned 0
    [0.30, 0.55, 0.15], // between 1 and 0, assigned 1
    [0.10, 0.35, 0.55], // between 2 and 1, assigned 2
    [0.20, 0.20, 0.60], // exactly 0.6: not below
  ]);

  it("the assigned segment, its probability and the runner-up of each row", () => {
    const t = topProbabilities(proba);
    expect(Array.from(t.labels)).toEqual([0, 0, 1, 2, 2]);
    expect(Array.from(t.maxProbability)).toEqual([0.9, 0.5, 0.55, 0.55, 0.6]);
    expect(Array.from(t.second)).toEqual([1, 1, 0, 1, 0]);
  });

  it("counts the rows below 0.6 by the pair of their two most probable segments", () => {
    const b = betweenSegments(proba);
    expect(b).toEqual({
      threshold: 0.6, rows: 5, count: 3, share: 0.6,
      pairs: [{ a: 0, b: 1, count: 2, assignedToA: 1 }, { a: 1, b: 2, count: 1, assignedToA: 0 }],
      perSegment: [1, 1, 1],
    });
    const strict = betweenSegments(proba, 0.95);
    expect(strict.count).toBe(5);
    expect(strict.pairs).toEqual([
      { a: 0, b: 1, count: 3, assignedToA: 2 }, { a: 0, b: 2, count: 1, assignedToA: 0 }, { a: 1, b: 2, count: 1, assignedToA: 0 },
    ]);
    expect(() => betweenSegments(proba, 0)).toThrow(/threshold/);
    expect(() => betweenSegments(proba, 1.5)).toThrow(/threshold/);
  });
});

interface SelectionFixture {
  name: string;
  n: number;
  X: number[][];
  selection?: {
    params: { n_init: number; random_state: number; tol: number; reg_covar: number; max_iter: number };
    ks: number[];
    types: CovarianceType[];
    bic: Record<CovarianceType, number[]>;
    aic: Record<CovarianceType, number[]>;
    n_parameters: Record<CovarianceType, number[]>;
    best: { k: number; covariance_type: CovarianceType; bic: number };
    truth?: { k: number; covariance_type: CovarianceType };
  };
}

const FIXTURE = new URL("./fixtures/gmm.json", import.meta.url);

describe("selectMixture against scikit-learn's BIC tables (test/fixtures/gmm.json)", () => {
  const cases = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { cases: SelectionFixture[] }).cases.filter((c) => c.selection);

  it("the fixture has the generated mixtures of each type and the Mall customers", () => {
    expect(cases.map((c) => c.name).sort()).toEqual(
      ["generated_diag", "generated_full", "generated_spherical", "generated_tied", "mall_income_spending"],
    );
  });

  for (const c of cases) {
    const s = c.selection!;
    it(`${c.name}: the same choice as scikit-learn (${s.best.k} ${s.best.covariance_type}), its BIC equal; the parameter counts equal`, async () => {
      // scikit-learn's n_init 3 and k-means starts; our k-means stream differs from numpy's, so
      // only fits that reach the same optimum can be compared number for number.
      const r = await selectMixture(c.X, {
        kMin: s.ks[0], kMax: s.ks[s.ks.length - 1], nInit: s.params.n_init, randomState: 0,
        tol: s.params.tol, regCovar: s.params.reg_covar, maxIter: s.params.max_iter,
      });
      expect(r.covarianceTypes).toEqual(s.types);
      for (const cell of r.table) expect(cell.nParameters).toBe(s.n_parameters[cell.covarianceType][cell.k - s.ks[0]]);
      expect([r.best.k, r.best.covarianceType]).toEqual([s.best.k, s.best.covariance_type]);
      if (s.truth) expect([r.best.k, r.best.covarianceType]).toEqual([s.truth.k, s.truth.covariance_type]);
      // EM stops when the lower bound moves less than tol (1e-3 per row): two fits of one optimum agree to about that.
      expect(Math.abs(r.best.bic - s.best.bic) / Math.abs(s.best.bic)).toBeLessThan(1e-5);
      const aicRef = s.aic[r.best.covarianceType][r.best.k - s.ks[0]];
      expect(Math.abs(r.best.aic - aicRef) / Math.abs(aicRef)).toBeLessThan(1e-5);
      if (s.truth) {
        // At the true k every covariance type reaches scikit-learn's optimum.
        for (const cell of r.table.filter((x) => x.k === s.truth!.k)) {
          const ref = s.bic[cell.covarianceType][cell.k - s.ks[0]];
          expect(Math.abs(cell.bic! - ref) / Math.abs(ref)).toBeLessThan(1e-5);
        }
      }
    });
  }
});
