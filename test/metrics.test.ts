import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { toMatrix } from "../src/core/matrix.js";
import { calinskiHarabaszScore } from "../src/metrics/calinski-harabasz.js";
import { daviesBouldinScore } from "../src/metrics/davies-bouldin.js";
import {
  type AverageMethod,
  adjustedMutualInfoScore,
  adjustedRandScore,
  contingencyMatrix,
  fowlkesMallowsScore,
  homogeneityCompletenessVMeasure,
  logFactorials,
  mutualInfoScore,
  normalizedMutualInfoScore,
} from "../src/metrics/external.js";
import { inertiaScore } from "../src/metrics/inertia.js";
import { encodeLabels } from "../src/metrics/labels.js";

/** test/fixtures/metrics.json, written by test/fixtures/make_fixtures.py (scikit-learn 1.2.1). */
interface InternalCase {
  name: string;
  note: string;
  X: number[][];
  labels: number[];
  /** scikit-learn's davies_bouldin_score. */
  davies_bouldin: number;
  /** The same computed in numpy with exact distances (see below). */
  davies_bouldin_exact: number;
  calinski_harabasz: number;
  /** Σ ‖x − mean of its label‖², numpy. */
  inertia: number;
  sampleWeight?: number[];
  inertia_weighted?: number;
  /** scikit-learn's KMeans.inertia_ for these labels (fitted to strict convergence), with sampleWeight if kmeans_weighted. */
  kmeans_inertia?: number;
  kmeans_weighted?: boolean;
}

interface ExternalScores {
  name: string;
  note: string;
  ari: number;
  nmi: Record<AverageMethod, number>;
  ami: Record<AverageMethod, number>;
  mi: number;
  homogeneity: number;
  completeness: number;
  v_measure: number;
  v_measure_beta: Record<"0.5" | "2.0", number>;
  fmi: number;
  /**
   * Average methods for which AMI is 0/0: the normaliser equals E[MI] (in "singletons-pred",
   * "min" = H(true) = MI = E[MI], since every sample is alone in labelsPred). scikit-learn's
   * value is then rounding noise, and so is ours; they are not compared.
   */
  ami_ill_conditioned?: AverageMethod[];
}

interface ExternalCase extends ExternalScores {
  labelsTrue: number[];
  labelsPred: number[];
  contingency?: { rows: number[]; cols: number[]; counts: number[][] };
}

interface LcgRecipe {
  n: number;
  seed: number;
  nTrue: number;
  nPred: number;
  keepPercent: number;
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/metrics.json", import.meta.url), "utf8")) as {
  meta: Record<string, string>;
  internal: InternalCase[];
  external: ExternalCase[];
  lcg: ExternalScores & { recipe: LcgRecipe; check: { trueSum: number; predSum: number; first: number[]; firstPred: number[] } };
};

const METHODS: AverageMethod[] = ["min", "geometric", "arithmetic", "max"];

/** |actual − expected| <= tol, relative to |expected| when that is above 1. */
function expectClose(actual: number, expected: number, tol = 1e-9, what = ""): void {
  const err = Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
  if (!(err <= tol)) throw new Error(`${what}: got ${actual}, expected ${expected} (error ${err} > ${tol})`);
}

/** Both labellings of the large external case, from the recipe shared with the Python script. */
function lcgLabels(r: LcgRecipe): { a: Int32Array; b: Int32Array } {
  const M = 2147483647;
  let x = r.seed;
  const next = (): number => (x = (48271 * x) % M); // < 2^47: exact in doubles
  const a = new Int32Array(r.n);
  const b = new Int32Array(r.n);
  for (let i = 0; i < r.n; i++) {
    const t1 = next() % r.nTrue;
    const t2 = next() % r.nTrue;
    const t = Math.min(t1, t2);
    const u = next();
    a[i] = t;
    b[i] = u % 100 < r.keepPercent ? t : Math.floor(u / 100) % r.nPred;
  }
  return { a, b };
}

function checkExternal(a: ArrayLike<number>, b: ArrayLike<number>, c: ExternalScores): void {
  const w = c.name;
  expectClose(adjustedRandScore(a, b), c.ari, 1e-9, `${w} ARI`);
  for (const m of METHODS) {
    expectClose(normalizedMutualInfoScore(a, b, m), c.nmi[m], 1e-9, `${w} NMI ${m}`);
    if (!c.ami_ill_conditioned?.includes(m)) expectClose(adjustedMutualInfoScore(a, b, m), c.ami[m], 1e-9, `${w} AMI ${m}`);
  }
  expectClose(mutualInfoScore(a, b), c.mi, 1e-9, `${w} MI`);
  const h = homogeneityCompletenessVMeasure(a, b);
  expectClose(h.homogeneity, c.homogeneity, 1e-9, `${w} homogeneity`);
  expectClose(h.completeness, c.completeness, 1e-9, `${w} completeness`);
  expectClose(h.vMeasure, c.v_measure, 1e-9, `${w} V-measure`);
  expectClose(homogeneityCompletenessVMeasure(a, b, 0.5).vMeasure, c.v_measure_beta["0.5"], 1e-9, `${w} V β=0.5`);
  expectClose(homogeneityCompletenessVMeasure(a, b, 2).vMeasure, c.v_measure_beta["2.0"], 1e-9, `${w} V β=2`);
  expectClose(fowlkesMallowsScore(a, b), c.fmi, 1e-9, `${w} FMI`);
}

describe("internal indices equal scikit-learn (fixtures)", () => {
  it("has the fixture cases it should", () => {
    expect(fixture.internal.map((c) => c.name)).toEqual(expect.arrayContaining([
      "blobs-3", "singleton", "two-segments", "duplicates", "label-minus-one", "unbalanced",
      "coincident-centroids", "large", "weighted",
    ]));
  });

  for (const c of fixture.internal) {
    it(`${c.name} (n=${c.X.length}, ${new Set(c.labels).size} labels)`, () => {
      const X = toMatrix(c.X);
      const db = daviesBouldinScore(X, c.labels);
      // The reference is Davies–Bouldin with exact distances. scikit-learn computes distances
      // as ‖x‖² − 2x·y + ‖y‖², which does not always cancel to 0 for a row and itself: its
      // single-row cluster in "singleton" gets a spread of ~1.7e-7 instead of 0. Apart from
      // that rounding (bounded here by 1e-7) the two agree.
      expectClose(db, c.davies_bouldin_exact, 1e-9, "Davies–Bouldin vs exact");
      expectClose(db, c.davies_bouldin, c.name === "singleton" ? 1e-7 : 1e-9, "Davies–Bouldin vs sklearn");
      expectClose(calinskiHarabaszScore(X, c.labels), c.calinski_harabasz, 1e-9, "Calinski–Harabasz");
      expectClose(inertiaScore(X, c.labels), c.inertia, 1e-9, "inertia");
      if (c.sampleWeight) expectClose(inertiaScore(X, c.labels, c.sampleWeight), c.inertia_weighted!, 1e-9, "weighted inertia");
      if (c.kmeans_inertia !== undefined) {
        const w = c.kmeans_weighted ? c.sampleWeight : undefined;
        expectClose(inertiaScore(X, c.labels, w), c.kmeans_inertia, 1e-9, "KMeans.inertia_");
      }
      // number[][] and Matrix give the same numbers.
      expect(daviesBouldinScore(c.X, c.labels)).toBe(db);
    });
  }

  it("singleton: scikit-learn's value differs from the exact one only by its rounding", () => {
    const c = fixture.internal.find((x) => x.name === "singleton")!;
    const dev = Math.abs(c.davies_bouldin - c.davies_bouldin_exact);
    expect(dev).toBeGreaterThan(1e-12); // the case does exercise the rounding
    expect(dev).toBeLessThan(1e-7);
  });
});

describe("external indices equal scikit-learn (fixtures)", () => {
  it("has the fixture cases it should", () => {
    expect(fixture.external.map((c) => c.name)).toEqual(expect.arrayContaining([
      "identical", "permuted", "independent", "noisy-agreement", "one-all-in-one", "all-in-one-first",
      "both-all-in-one", "minus-one", "unbalanced", "large-2000", "singletons-pred", "tiny", "two-samples",
      "one-sample", "empty",
    ]));
  });

  for (const c of fixture.external) {
    it(`${c.name} (n=${c.labelsTrue.length})`, () => {
      checkExternal(c.labelsTrue, c.labelsPred, c);
      if (c.contingency) expect(contingencyMatrix(c.labelsTrue, c.labelsPred)).toEqual(c.contingency);
    });
  }

  it("n = 100,000 with 20 × 22 clusters (labels from a recipe shared with the script)", () => {
    const { a, b } = lcgLabels(fixture.lcg.recipe);
    expect(a.reduce((s, v) => s + v, 0)).toBe(fixture.lcg.check.trueSum);
    expect(b.reduce((s, v) => s + v, 0)).toBe(fixture.lcg.check.predSum);
    expect(Array.from(a.subarray(0, 5))).toEqual(fixture.lcg.check.first);
    expect(Array.from(b.subarray(0, 5))).toEqual(fixture.lcg.check.firstPred);
    checkExternal(a, b, fixture.lcg);
  });
});

describe("by hand", () => {
  // a = 0 0 0 0 1 1 1 1, b = 0 0 0 1 0 1 1 1: contingency [[3, 1], [1, 3]].
  const a = [0, 0, 0, 0, 1, 1, 1, 1];
  const b = [0, 0, 0, 1, 0, 1, 1, 1];

  it("contingency matrix", () => {
    expect(contingencyMatrix(a, b)).toEqual({ rows: [0, 1], cols: [0, 1], counts: [[3, 1], [1, 3]] });
    expect(contingencyMatrix([5, -1, 5, 2], [0, 0, 1, 1])).toEqual({
      rows: [-1, 2, 5], cols: [0, 1], counts: [[1, 0], [0, 1], [1, 1]],
    });
  });

  it("ARI of a 2×2 table: Σ C(nij,2) = 6, Σ C(a,2) = Σ C(b,2) = 12, C(8,2) = 28 → (6 − 36/7) / (12 − 36/7) = 1/8", () => {
    expect(adjustedRandScore(a, b)).toBeCloseTo(0.125, 15);
  });

  it("ARI of a 2×3 table: (2 − 6·3/15) / ((6 + 3)/2 − 6·3/15) = 8/33", () => {
    expect(adjustedRandScore([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2])).toBeCloseTo(8 / 33, 15);
  });

  it("Fowlkes–Mallows: 6 pairs together in both, 12 in each → 6 / √(12·12) = 0.5", () => {
    expect(fowlkesMallowsScore(a, b)).toBeCloseTo(0.5, 15);
  });

  it("mutual information, NMI, homogeneity: MI = ¾ ln(3/2) + ¼ ln(1/2), both entropies ln 2", () => {
    const mi = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
    expect(mutualInfoScore(a, b)).toBeCloseTo(mi, 15);
    for (const m of METHODS) expect(normalizedMutualInfoScore(a, b, m)).toBeCloseTo(mi / Math.LN2, 14);
    const h = homogeneityCompletenessVMeasure(a, b);
    expect(h.homogeneity).toBeCloseTo(mi / Math.LN2, 14);
    expect(h.completeness).toBeCloseTo(mi / Math.LN2, 14);
    expect(h.vMeasure).toBeCloseTo(mi / Math.LN2, 14);
  });

  it("identical labellings score 1 (0 for AMI's chance part)", () => {
    const x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    expect(adjustedRandScore(x, x)).toBe(1);
    expect(normalizedMutualInfoScore(x, x)).toBeCloseTo(1, 15);
    expect(adjustedMutualInfoScore(x, x)).toBeCloseTo(1, 14);
    expect(fowlkesMallowsScore(x, x)).toBeCloseTo(1, 15);
    expect(homogeneityCompletenessVMeasure(x, x).vMeasure).toBeCloseTo(1, 15);
  });

  it("special cases as in scikit-learn", () => {
    // Both labellings a single cluster: a perfect match.
    expect(adjustedRandScore([0, 0, 0], [7, 7, 7])).toBe(1);
    expect(normalizedMutualInfoScore([0, 0, 0], [7, 7, 7])).toBe(1);
    expect(adjustedMutualInfoScore([0, 0, 0], [7, 7, 7])).toBe(1);
    // One labelling a single cluster, the other not.
    expect(normalizedMutualInfoScore([0, 0, 0, 0], [0, 1, 0, 1])).toBe(0);
    expect(adjustedMutualInfoScore([0, 0, 0, 0], [0, 1, 0, 1])).toBe(0);
    expect(homogeneityCompletenessVMeasure([0, 0, 0, 0], [0, 1, 0, 1])).toEqual({ homogeneity: 1, completeness: 0, vMeasure: 0 });
    // Empty input.
    expect(adjustedRandScore([], [])).toBe(1);
    expect(normalizedMutualInfoScore([], [])).toBe(1);
    expect(adjustedMutualInfoScore([], [])).toBe(1);
    expect(fowlkesMallowsScore([], [])).toBe(0);
    expect(mutualInfoScore([], [])).toBe(0); // scikit-learn raises a math domain error here
    expect(homogeneityCompletenessVMeasure([], [])).toEqual({ homogeneity: 1, completeness: 1, vMeasure: 1 });
  });

  it("Davies–Bouldin and Calinski–Harabasz of two tight pairs", () => {
    // Pairs {0, 1} and {10, 11}: centroids 0.5 and 10.5, spreads 0.5 → DB = (0.5 + 0.5) / 10 = 0.1.
    // CH: B = 2·5² + 2·5² = 100, W = 4·0.25 = 1 → (100 / 1) / (1 / 2) = 200.
    const X = [[0], [1], [10], [11]];
    expect(daviesBouldinScore(X, [0, 0, 1, 1])).toBeCloseTo(0.1, 15);
    expect(calinskiHarabaszScore(X, [0, 0, 1, 1])).toBeCloseTo(200, 12);
    expect(inertiaScore(X, [0, 0, 1, 1])).toBeCloseTo(1, 15);
    expect(inertiaScore(X, [0, 0, 1, 1], [1, 3, 1, 1])).toBeCloseTo(0.75 + 0.5, 15); // mean 0.75: 0.75² + 3·0.25²
  });

  it("clusters of identical rows: DB 0, CH 1.0, inertia 0 (scikit-learn's special cases)", () => {
    const X = [[0.1, 0.3], [0.1, 0.3], [0.1, 0.3], [2.7, 1.9], [2.7, 1.9]];
    expect(daviesBouldinScore(X, [4, 4, 4, -1, -1])).toBe(0);
    expect(calinskiHarabaszScore(X, [4, 4, 4, -1, -1])).toBe(1);
    expect(inertiaScore(X, [4, 4, 4, -1, -1])).toBe(0);
  });

  it("inertia with one label is the total sum of squares; with zero weights those rows do not count", () => {
    expect(inertiaScore([[1], [2], [3], [6]], [0, 0, 0, 0])).toBeCloseTo(14, 13); // mean 3: 4 + 1 + 0 + 9
    expect(inertiaScore([[1], [2], [3], [600]], [0, 0, 0, 0], [1, 1, 1, 0])).toBeCloseTo(2, 13);
    expect(inertiaScore([[1], [2], [3], [600]], [0, 0, 0, 1], [1, 1, 1, 0])).toBeCloseTo(2, 13);
  });

  it("log-factorials", () => {
    const lf = logFactorials(100000);
    expect(lf[0]).toBe(0);
    expect(lf[1]).toBe(0);
    expect(lf[5]).toBeCloseTo(Math.log(120), 15);
    // math.lgamma(k + 1) in Python
    expectClose(lf[31], 78.0922235533153, 1e-15, "ln 31!");
    expectClose(lf[100], 363.73937555556347, 1e-15, "ln 100!");
    expectClose(lf[1000], 5912.128178488163, 1e-15, "ln 1000!");
    expectClose(lf[100000], 1051299.221899122, 1e-15, "ln 100000!");
  });
});

describe("properties", () => {
  const noisy = fixture.external.find((c) => c.name === "noisy-agreement")!;
  const unbalanced = fixture.external.find((c) => c.name === "unbalanced")!;

  it("ARI, NMI, AMI, MI, FMI and V-measure are symmetric; homogeneity and completeness swap", () => {
    for (const c of [noisy, unbalanced]) {
      const [a, b] = [c.labelsTrue, c.labelsPred];
      expectClose(adjustedRandScore(b, a), adjustedRandScore(a, b), 1e-14, "ARI");
      expectClose(fowlkesMallowsScore(b, a), fowlkesMallowsScore(a, b), 1e-14, "FMI");
      expectClose(mutualInfoScore(b, a), mutualInfoScore(a, b), 1e-14, "MI");
      for (const m of METHODS) {
        expectClose(normalizedMutualInfoScore(b, a, m), normalizedMutualInfoScore(a, b, m), 1e-14, "NMI");
        expectClose(adjustedMutualInfoScore(b, a, m), adjustedMutualInfoScore(a, b, m), 1e-13, "AMI");
      }
      const ab = homogeneityCompletenessVMeasure(a, b);
      const ba = homogeneityCompletenessVMeasure(b, a);
      expectClose(ba.homogeneity, ab.completeness, 1e-14, "h/c");
      expectClose(ba.completeness, ab.homogeneity, 1e-14, "c/h");
      expectClose(ba.vMeasure, ab.vMeasure, 1e-14, "V");
    }
  });

  it("external indices do not depend on the label values", () => {
    const rename = (labels: number[], f: (v: number) => number): number[] => labels.map(f);
    const [a, b] = [noisy.labelsTrue, noisy.labelsPred];
    const a2 = rename(a, (v) => 1000 - 37 * v); // reverses the order too
    const b2 = rename(b, (v) => (v % 3 === 0 ? -v - 1 : v * 1e6));
    expectClose(adjustedRandScore(a2, b2), adjustedRandScore(a, b), 1e-14, "ARI");
    expectClose(fowlkesMallowsScore(a2, b2), fowlkesMallowsScore(a, b), 1e-14, "FMI");
    expectClose(mutualInfoScore(a2, b2), mutualInfoScore(a, b), 1e-14, "MI");
    expectClose(normalizedMutualInfoScore(a2, b2), normalizedMutualInfoScore(a, b), 1e-14, "NMI");
    expectClose(adjustedMutualInfoScore(a2, b2), adjustedMutualInfoScore(a, b), 1e-13, "AMI");
    expectClose(homogeneityCompletenessVMeasure(a2, b2).vMeasure, homogeneityCompletenessVMeasure(a, b).vMeasure, 1e-14, "V");
  });

  it("internal indices do not depend on the label values or the order of the rows", () => {
    const c = fixture.internal.find((x) => x.name === "label-minus-one")!;
    const relabelled = c.labels.map((v) => (v === -1 ? 50 : -3 * v - 7));
    const order = c.labels.map((_, i) => (i * 37) % c.labels.length); // 37 is coprime with 135
    expect(new Set(order).size).toBe(c.labels.length);
    const X2 = order.map((i) => c.X[i]);
    const l2 = order.map((i) => relabelled[i]);
    expectClose(daviesBouldinScore(X2, l2), daviesBouldinScore(c.X, c.labels), 1e-12, "DB");
    expectClose(calinskiHarabaszScore(X2, l2), calinskiHarabaszScore(c.X, c.labels), 1e-12, "CH");
    expectClose(inertiaScore(X2, l2), inertiaScore(c.X, c.labels), 1e-12, "inertia");
  });

  it("label encoding numbers labels in increasing order, for compact and sparse label values", () => {
    const compact = encodeLabels([3, -1, 3, 0]);
    expect(Array.from(compact.classes)).toEqual([-1, 0, 3]);
    expect(Array.from(compact.codes)).toEqual([2, 0, 2, 1]);
    expect(Array.from(compact.counts)).toEqual([1, 1, 2]);
    const sparse = encodeLabels([1e9, -5, 0.5, 1e9]);
    expect(Array.from(sparse.classes)).toEqual([-5, 0.5, 1e9]);
    expect(Array.from(sparse.codes)).toEqual([2, 0, 1, 2]);
    expect(sparse.m).toBe(3);
  });
});

describe("input errors", () => {
  const X = [[0], [1], [2], [3]];

  it("Davies–Bouldin and Calinski–Harabasz need 2 ≤ labels ≤ n − 1", () => {
    for (const f of [daviesBouldinScore, calinskiHarabaszScore]) {
      expect(() => f(X, [1, 1, 1, 1])).toThrow(InputError);
      expect(() => f(X, [1, 1, 1, 1])).toThrow(/number of distinct labels is 1/);
      expect(() => f(X, [0, 1, 2, 3])).toThrow(/between 2 and n_samples − 1 \(3\)/);
      expect(() => f(X, [0, 1, 1])).toThrow(/labels has 3 values but X has 4 rows/);
      expect(() => f(X, [0, 1, NaN, 1])).toThrow(InputError);
      expect(() => f([[0], [1], [NaN], [3]], [0, 0, 1, 1])).toThrow(InputError);
      expect(() => f([], [])).toThrow(InputError);
      expect(() => f([[], [], []], [0, 1, 1])).toThrow(/no columns/);
    }
  });

  it("inertia checks labels and weights", () => {
    expect(() => inertiaScore(X, [0, 1])).toThrow(InputError);
    expect(() => inertiaScore(X, [0, 0, 1, 1], [1, 1])).toThrow(/sampleWeight has 2 values/);
    expect(() => inertiaScore(X, [0, 0, 1, 1], [1, -1, 1, 1])).toThrow(/sampleWeight\[1\]/);
    expect(() => inertiaScore(X, [0, 0, 1, 1], [1, 1, Infinity, 1])).toThrow(InputError);
  });

  it("external indices need labellings of equal length, finite labels and a known average method", () => {
    expect(() => adjustedRandScore([0, 1, 1], [0, 1])).toThrow(/labelsTrue has 3 values but labelsPred has 2/);
    expect(() => normalizedMutualInfoScore([0, NaN], [0, 1])).toThrow(/labelsTrue\[1\] is NaN/);
    expect(() => contingencyMatrix([0, 1], [0, Infinity])).toThrow(/labelsPred\[1\]/);
    expect(() => normalizedMutualInfoScore([0, 1], [0, 1], "mean" as AverageMethod)).toThrow(/averageMethod/);
    expect(() => adjustedMutualInfoScore([0, 1], [0, 1], "median" as AverageMethod)).toThrow(InputError);
    expect(() => homogeneityCompletenessVMeasure([0, 1], [0, 1], -1)).toThrow(/beta/);
  });
});
