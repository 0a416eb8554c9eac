/**
 * Charts of Gaussian mixtures (src/charts/mixture.ts): the BIC/AIC chart per covariance type,
 * the certainty of the assignment, and the segments' ellipses on the PCA map (hand-computed
 * projections: semi-axes are the square roots of the projected covariance's eigenvalues).
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import {
  aicChart, assignmentCertaintyChart, betweenSegmentsTable, bicChart, componentCovariance, ellipseLayer, type MixtureLike, mixtureEllipses,
  selectionTable, withEllipses,
} from "../src/charts/mixture.js";
import { segmentMapChart } from "../src/charts/map.js";
import { segmentColor } from "../src/charts/theme.js";
import type { Matrix } from "../src/core/matrix.js";
import { chooseMixture, type MixtureCandidate } from "../src/cluster/mixture/select.js";
import { type CovarianceType, mixtureParameterCount } from "../src/cluster/mixture/gaussian-mixture.js";
import { renderSvg } from "../src/report/render.js";

type Row = Record<string, unknown>;
type Spec = Record<string, unknown>;

function mat(rows: number[][]): Matrix {
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0].length };
}

/** The data rows of the spec, its layers and its facet's inner spec, in order. */
function datasets(spec: unknown): Row[][] {
  const out: Row[][] = [];
  const walk = (s: Spec): void => {
    const data = s.data as { values?: Row[] } | undefined;
    if (data?.values) out.push(data.values);
    for (const sub of (s.layer as Spec[] | undefined) ?? []) walk(sub);
    if (s.spec) walk(s.spec as Spec);
  };
  walk(spec as Spec);
  return out;
}

async function expectRenders(spec: TopLevelSpec): Promise<string> {
  const json = JSON.stringify(spec);
  expect(JSON.parse(json)).toEqual(spec); // plain JSON
  expect(() => compile(structuredClone(spec))).not.toThrow();
  const svg = await renderSvg(spec);
  expect(svg.trimStart()).toMatch(/^<svg[\s>]/);
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  return svg;
}

/** A table of BICs by hand: 3 full is lowest, 2 full 12.5 higher, 3 diag 1.5 higher; 4 tied failed. */
function handTable(): MixtureCandidate[] {
  const d = 2;
  const bic: Record<CovarianceType, (number | null)[]> = {
    full: [500, 412.5, 400, 405],
    tied: [500, 450, 430, null],
    diag: [510, 420, 401.5, 404],
    spherical: [520, 470, 440, 425],
  };
  const table: MixtureCandidate[] = [];
  for (let k = 1; k <= 4; k++) {
    for (const t of ["full", "tied", "diag", "spherical"] as CovarianceType[]) {
      const b = bic[t][k - 1];
      const p = mixtureParameterCount(k, d, t);
      table.push(b === null
        ? { k, covarianceType: t, bic: null, aic: null, lowerBound: null, converged: null, nParameters: p, error: "covariance of component 3 is singular" }
        : { k, covarianceType: t, bic: b, aic: b - p * (Math.log(300) - 2), lowerBound: -b / 600, converged: true, nParameters: p });
    }
  }
  return table;
}

describe("bicChart and aicChart", () => {
  const table = handTable();
  const selection = { table, best: chooseMixture(table, "bic"), byAic: chooseMixture(table, "aic") };

  it("one line per covariance type over k, failed cells left out, the best circled and named; lower is better stated", async () => {
    const spec = bicChart(selection);
    const [rows, best] = datasets(spec);
    expect(rows).toHaveLength(15);
    expect(rows.find((r) => r.k === 4 && r.covariance === "tied")).toBeUndefined();
    expect(rows.find((r) => r.k === 3 && r.covariance === "diag")).toMatchObject({ value: 401.5, parameters: 14 });
    expect(best).toEqual([{ k: 3, value: 400 }]);
    const subtitle = (spec as unknown as { title: { subtitle: string[] } }).title.subtitle;
    expect(subtitle[0]).toContain("lower is better");
    expect(subtitle[0]).toContain("mclust plots −BIC");
    expect(subtitle[1]).toBe("best: 3 full (BIC 400), 1.5 below the next best: weak evidence");
    expect(subtitle[2]).toContain("1 fit failed");
    const enc = ((spec as unknown as { layer: Spec[] }).layer[0].encoding as Record<string, { scale: { domain: string[]; range: string[] } }>);
    expect(enc.color.scale.domain).toEqual(["full", "tied", "diag", "spherical"]);
    await expectRenders(spec);
  });

  it("aicChart draws AIC and marks AIC's choice", async () => {
    const spec = aicChart(selection);
    const [rows, best] = datasets(spec);
    const fullThree = table.find((c) => c.k === 3 && c.covarianceType === "full")!;
    expect(rows.find((r) => r.k === 3 && r.covariance === "full")!.value).toBeCloseTo(fullThree.aic!, 6);
    expect(best[0].k).toBe(selection.byAic.k);
    expect(JSON.stringify(spec)).toContain("AIC (lower is better)");
    await expectRenders(spec);
  });
});

describe("selectionTable and betweenSegmentsTable", () => {
  it("mclust's table: one row per k, one column per type, failed cells named, the lowest marked", () => {
    const table = handTable();
    const t = selectionTable({ table, best: chooseMixture(table), byAic: chooseMixture(table, "aic") });
    expect(t.head).toEqual(["segments", "full", "tied", "diag", "spherical"]);
    expect(t.rows[2]).toEqual([3, "400.0 ◀", "430.0", "401.5", "440.0"]);
    expect(t.rows[3]).toEqual([4, "405.0", "failed", "404.0", "425.0"]);
    expect(t.caption).toContain("lower is better");
  });

  it("pairs by name with counts, shares and the split of assignments; pairs beyond maxRows summed", () => {
    const between = {
      threshold: 0.6, rows: 1000, count: 60,
      pairs: [{ a: 0, b: 2, count: 40, assignedToA: 25 }, { a: 1, b: 2, count: 15, assignedToA: 15 }, { a: 0, b: 1, count: 5, assignedToA: 0 }],
    };
    const t = betweenSegmentsTable(between, ["Loyal", "New", "At risk"], 2);
    expect(t.rows).toEqual([
      ["Loyal and At risk", "40", "4.0%", "25 / 15"],
      ["New and At risk", "15", "1.5%", "15 / 0"],
      ["1 other pair", "5", "0.5%", null],
    ]);
    expect(t.caption).toBe("60 of 1,000 customers (6.0%) have a top probability below 0.6; the two segments each sits between");
  });
});

describe("assignmentCertaintyChart", () => {
  // Segment 0: 0.55, 0.97, 0.99, 1.0 (one below 0.6); segment 1: 0.5, 0.58, 0.8 (two below).
  const maxProbability = Float64Array.from([0.55, 0.97, 0.5, 0.99, 0.58, 1.0, 0.8]);
  const labels = Int32Array.from([0, 0, 1, 0, 1, 0, 1]);

  it("histograms of the top probability per segment as shares, the threshold drawn, the between-segments count per panel", async () => {
    const spec = assignmentCertaintyChart({ maxProbability, labels, names: ["Loyal", "Bargain hunters"] });
    const [rows] = datasets(spec);
    const loyal = rows.filter((r) => r.segment === "Loyal");
    expect(loyal.map((r) => [r.from, r.to, r.count])).toEqual([[0.55, 0.6, 1], [0.95, 1, 3]]);
    expect(loyal.map((r) => r.share)).toEqual([0.25, 0.75]);
    const bargain = rows.filter((r) => r.segment === "Bargain hunters");
    expect(bargain.map((r) => [r.from, r.count])).toEqual([[0.5, 1], [0.55, 1], [0.8, 1]]);
    expect(loyal[0].panel).toBe("Loyal · 4 customers · 1 between segments (25.0%)");
    expect(bargain[0].panel).toBe("Bargain hunters · 3 customers · 2 between segments (66.7%)");
    const s = spec as unknown as { title: { subtitle: string }; spec: { layer: Spec[] } };
    expect(s.title.subtitle).toBe("3 of 7 customers (42.9%) have a top probability below 0.6: between segments");
    expect(JSON.stringify(s.spec.layer[1])).toContain('"datum":0.6');
    // With two segments the lowest possible top probability is 0.5: the axis starts there.
    expect(JSON.stringify(s.spec.layer[0])).toContain('"domain":[0.5,1]');
    await expectRenders(spec);
  });

  it("another threshold moves the rule and the counts; a length mismatch is refused", () => {
    const spec = assignmentCertaintyChart({ maxProbability, labels, threshold: 0.9 });
    expect((spec as unknown as { title: { subtitle: string } }).title.subtitle).toContain("4 of 7 customers");
    expect(() => assignmentCertaintyChart({ maxProbability: maxProbability.subarray(1), labels })).toThrow(/6 values for 7 labels/);
  });
});

/** (p − c)ᵀ Σ⁻¹ (p − c) for a 2 × 2 covariance. */
function mahalanobis2(p: [number, number], c: [number, number], S: readonly number[]): number {
  const [a, b, , d] = S;
  const det = a * d - b * b;
  const x = p[0] - c[0];
  const y = p[1] - c[1];
  return (d * x * x - 2 * b * x * y + a * y * y) / det;
}

describe("mixtureEllipses", () => {
  const identity = { components: mat([[1, 0], [0, 1]]), mean: Float64Array.from([0, 0]) };

  it("2-D, full covariance [[2,1],[1,2]] on the identity map: semi-axes √3 and 1 along 45°; outlines at 1 and 2 standard deviations", () => {
    const model: MixtureLike = { means: mat([[1, -1]]), covariances: [mat([[2, 1], [1, 2]])], covarianceType: "full" };
    const [e] = mixtureEllipses(model, identity);
    expect(e.center).toEqual([1, -1]);
    expect(e.covariance).toEqual([2, 1, 1, 2]);
    expect(e.semiAxes[0]).toBeCloseTo(Math.sqrt(3), 14);
    expect(e.semiAxes[1]).toBeCloseTo(1, 14);
    expect(e.angle).toBeCloseTo(Math.PI / 4, 14);
    expect(e.shownVariance).toBeCloseTo(1, 14);
    expect(e.outlines.map((o) => o.level)).toEqual([1, 2]);
    for (const o of e.outlines) {
      expect(o.points).toHaveLength(73);
      expect(o.points[72]).toEqual(o.points[0]); // closed
      for (const p of o.points) expect(mahalanobis2(p, e.center, e.covariance)).toBeCloseTo(o.level * o.level, 10);
    }
    // The end of the major axis at one standard deviation: centre + √3 (cos 45°, sin 45°).
    expect(e.outlines[0].points[0][0]).toBeCloseTo(1 + Math.sqrt(1.5), 12);
    expect(e.outlines[0].points[0][1]).toBeCloseTo(-1 + Math.sqrt(1.5), 12);
  });

  it("3-D diagonal covariance [1, 4, 9] onto the axes (x3, x1): Σ₂ = diag(9, 1), semi-axes 3 and 1, 10/14 of the variance shown", () => {
    const pca = { components: mat([[0, 0, 1], [1, 0, 0]]), mean: Float64Array.from([1, 1, 1]) };
    const model: MixtureLike = { means: mat([[1, 2, 3], [0, 0, 0]]), covariances: mat([[1, 4, 9], [1, 1, 1]]), covarianceType: "diag" };
    const [e0, e1] = mixtureEllipses(model, pca, { levels: [1], points: 8 });
    expect(e0.center).toEqual([2, 0]);
    expect(e0.covariance).toEqual([9, 0, 0, 1]);
    expect(e0.semiAxes).toEqual([3, 1]);
    expect(e0.angle).toBe(0);
    expect(e0.shownVariance).toBeCloseTo(10 / 14, 14);
    expect(e0.outlines[0].points).toHaveLength(9);
    expect(e1.center).toEqual([-1, -1]);
    expect(e1.semiAxes).toEqual([1, 1]);
  });

  it("a rotated map keeps the eigenvalues; spherical and tied storage; whitening divides by the explained variance", () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const rot = { components: mat([[c, s], [-s, c]]), mean: Float64Array.from([0, 0]) };
    const tied: MixtureLike = { means: mat([[0, 0], [5, 5]]), covariances: mat([[4, 0], [0, 1]]), covarianceType: "tied" };
    for (const e of mixtureEllipses(tied, rot)) {
      expect(e.semiAxes[0]).toBeCloseTo(2, 12);
      expect(e.semiAxes[1]).toBeCloseTo(1, 12);
      // The major axis was x; on the map x is at −0.3 radians.
      expect(e.angle).toBeCloseTo(-0.3, 12);
    }
    const sph: MixtureLike = { means: mat([[0, 0, 0]]), covariances: Float64Array.from([2]), covarianceType: "spherical" };
    expect(Array.from(componentCovariance(sph, 0))).toEqual([2, 0, 0, 0, 2, 0, 0, 0, 2]);
    const pca3 = { components: mat([[1, 0, 0], [0, 0, 1]]), mean: Float64Array.from([0, 0, 0]) };
    const [e] = mixtureEllipses(sph, pca3);
    expect(e.semiAxes[0]).toBeCloseTo(Math.SQRT2, 14);
    expect(e.semiAxes[1]).toBeCloseTo(Math.SQRT2, 14);
    expect(e.shownVariance).toBeCloseTo(2 / 3, 14);
    const white = { ...pca3, whiten: true, explainedVariance: Float64Array.from([4, 0.5]) };
    const [w] = mixtureEllipses({ ...sph, means: mat([[2, 0, 1]]) }, white);
    expect(w.center[0]).toBeCloseTo(1, 14);
    expect(w.center[1]).toBeCloseTo(Math.SQRT2, 14);
    expect(w.covariance[0]).toBeCloseTo(0.5, 14);
    expect(w.covariance[3]).toBeCloseTo(4, 14);
    expect(() => mixtureEllipses(sph, identity)).toThrow(/2 × 3/);
  });

  it("ellipseLayer draws each outline in its segment's colour over segmentMapChart's map; the map compiles and renders", async () => {
    const model: MixtureLike = {
      means: mat([[0, 0], [4, 1]]), covariances: [mat([[1, 0.5], [0.5, 1]]), mat([[0.5, 0], [0, 2]])], covarianceType: "full",
    };
    const ellipses = mixtureEllipses(model, identity, { points: 24 });
    const layers = ellipseLayer(ellipses, ["Loyal", "New"]);
    const rows = (layers[0].data as { values: Row[] }).values;
    expect(rows).toHaveLength(2 * 2 * 25);
    expect(new Set(rows.filter((r) => r.segment === "New").map((r) => r.stroke))).toEqual(new Set([segmentColor(1)]));
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(["0:1", "0:2", "1:1", "1:2"]));
    const X = Float64Array.from([0, 0, 0.5, 0.2, 4, 1, 4.2, 0.5]);
    const map = segmentMapChart({ x: X, labels: Int32Array.from([0, 0, 1, 1]), segmentNames: ["Loyal", "New"], method: "PCA" });
    const spec = withEllipses(map, layers);
    const s = spec as unknown as Spec & { layer: Spec[] };
    expect(s.layer).toHaveLength(2);
    expect(s.layer[0].mark).toEqual((map as unknown as Spec).mark);
    expect((s.data as { values: Row[] }).values).toHaveLength(4);
    const svg = await expectRenders(spec);
    expect(svg).toContain(segmentColor(1));
    expect(() => withEllipses(spec, layers)).toThrow(/single-mark/);
  });
});
