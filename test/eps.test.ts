/**
 * Choosing eps (src/cluster/density/eps.ts) and the density charts (src/charts/density.ts):
 * the k-distance curve against brute force, its knee on data with a clear one, the fallback
 * on flat curves, duplicates and tiny inputs, and the Vega-Lite specs (compiled by vega-lite).
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import { kDistanceChart, reachabilityChart } from "../src/charts/density.js";
import { NOISE_COLOR } from "../src/charts/theme.js";
import { DBSCAN } from "../src/cluster/density/dbscan.js";
import { ceilSignificant, findKnee, kDistanceCurve, sampleCurve, suggestEps } from "../src/cluster/density/eps.js";
import { OPTICS } from "../src/cluster/density/optics.js";
import { InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { renderSvg } from "../src/report/render.js";
import { blobs } from "./helpers/workers.js";

/** Three tight groups (sd 0.3) and 40 rows spread uniformly over a wide box. */
function groupsWithNoise(seed: number): Matrix {
  const rng = new Random(seed);
  const rows: number[] = [];
  const centers = [[0, 0], [6, 0], [0, 6]];
  for (let i = 0; i < 900; i++) {
    const c = centers[i % 3];
    rows.push(c[0] + rng.normal(0, 0.3), c[1] + rng.normal(0, 0.3));
  }
  for (let i = 0; i < 40; i++) rows.push(rng.uniform(-10, 16), rng.uniform(-10, 16));
  return { data: Float64Array.from(rows), rows: 940, cols: 2 };
}

function bruteKDistances(X: Matrix, k: number, metric: "euclidean" | "manhattan"): number[] {
  const { rows: n, cols: d } = X;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const ds: number[] = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const u = X.data[i * d + t] - X.data[j * d + t];
        s += metric === "manhattan" ? Math.abs(u) : u * u;
      }
      ds.push(metric === "manhattan" ? s : Math.sqrt(s));
    }
    ds.sort((a, b) => a - b);
    out.push(ds[k - 1]);
  }
  return out.sort((a, b) => a - b);
}

describe("the k-distance curve", () => {
  it("is each row's distance to its k-th nearest row (itself the first), sorted", async () => {
    const X = blobs(500, 3, 4, 2, 1);
    for (const metric of ["euclidean", "manhattan"] as const) {
      for (const k of [1, 2, 7]) {
        const c = await kDistanceCurve(X, { minSamples: k, metric });
        const ref = bruteKDistances(X, k, metric);
        expect(c.distances.length).toBe(500);
        for (let i = 0; i < 500; i++) expect(Math.abs(c.distances[i] - ref[i])).toBeLessThan(1e-12);
        expect(c.minSamples).toBe(k);
      }
    }
    // minSamples 1: every row is its own nearest, the curve is all zeros.
    expect(Array.from((await kDistanceCurve(X, { minSamples: 1 })).distances).every((v) => v === 0)).toBe(true);
  });

  it("finds the knee between the groups' scale and the noise: DBSCAN with that eps finds the three groups", async () => {
    const X = groupsWithNoise(4);
    const { eps, reason, curve } = await suggestEps(X, { minSamples: 10 });
    expect(curve.knee.found).toBe(true);
    // Rows in the groups have their 10th neighbour within ~0.2; uniform noise rows several units away.
    expect(eps).toBeGreaterThan(0.15);
    expect(eps).toBeLessThan(1.5);
    // eps is the knee's distance rounded up to 3 significant digits, and the reason says it.
    const kneeDistance = curve.distances[curve.knee.index];
    expect(eps).toBeGreaterThanOrEqual(kneeDistance);
    expect(eps).toBe(ceilSignificant(kneeDistance, 3));
    expect(reason).toContain("10th nearest neighbour");
    expect(reason).toContain(`eps = ${eps}`);
    // coreShare: rows whose 10-distance is ≤ eps are DBSCAN's core rows.
    const m = await new DBSCAN({ eps, minSamples: 10 }).fit(X);
    expect(m.coreSampleIndices.length / 940).toBeCloseTo(curve.knee.coreShare, 12);
    expect(m.nClusters).toBe(3);
    let groupNoise = 0;
    for (let i = 0; i < 900; i++) if (m.labels[i] < 0) groupNoise++;
    expect(groupNoise).toBeLessThan(10);
    let outliers = 0;
    for (let i = 900; i < 940; i++) if (m.labels[i] < 0) outliers++;
    expect(outliers).toBeGreaterThan(30);
  });

  it("falls back to the 90 % quantile when the curve has no knee, and says so", () => {
    // A straight line: Kneedle finds no knee (the curve never leaves the chord).
    const line = Float64Array.from({ length: 100 }, (_, i) => 1 + i / 99);
    const k = findKnee(line, 5);
    expect(k.found).toBe(false);
    expect(k.index).toBe(89); // ⌈0.9 · 100⌉ − 1
    expect(k.eps).toBe(ceilSignificant(line[89], 3));
    expect(k.reason).toMatch(/no clear knee/);
    expect(k.reason).toMatch(/90 % quantile/);
    // Flat: every row at the same distance (a lattice).
    const flat = findKnee(new Float64Array(50).fill(0.25), 4);
    expect(flat.found).toBe(false);
    expect(flat.eps).toBe(0.25);
    expect(flat.coreShare).toBe(1);
    expect(flat.reason).toMatch(/flat/);
    // Two rows: too few for a knee.
    expect(findKnee(Float64Array.from([0.5, 2]), 2).found).toBe(false);
    // Another quantile when asked.
    expect(findKnee(line, 5, 0.5).index).toBe(49);
  });

  it("duplicates: eps stays positive (the first positive distance)", async () => {
    const rows = [...new Array(30).fill([1, 1]), [1, 2], [3, 3]] as number[][];
    const c = await kDistanceCurve(rows, { minSamples: 5 });
    expect(c.knee.eps).toBeGreaterThan(0);
    const same = await kDistanceCurve(new Array(10).fill([2, 2]) as number[][], { minSamples: 3 });
    expect(same.knee.eps).toBeGreaterThan(0);
    expect(same.knee.coreShare).toBe(1);
  });

  it("refuses minSamples above the rows, and bad options", async () => {
    await expect(kDistanceCurve([[0], [1]], { minSamples: 3 })).rejects.toThrow(/minSamples \(3\) is more than the 2 rows/);
    await expect(kDistanceCurve([[0], [1]], { minSamples: 0 })).rejects.toThrow(InputError);
    await expect(kDistanceCurve([[0], [1]], { minSamples: 2, fallbackQuantile: 0 })).rejects.toThrow(/fallbackQuantile/);
  });

  it("ceilSignificant rounds up to 3 digits", () => {
    expect(ceilSignificant(0.4213, 3)).toBe(0.422);
    expect(ceilSignificant(0.42, 3)).toBe(0.42);
    expect(ceilSignificant(123456, 3)).toBe(124000);
    expect(ceilSignificant(0.0009991, 3)).toBe(0.001);
    expect(ceilSignificant(9.999, 3)).toBe(10);
  });

  it("sampleCurve keeps both ends and the knee, at most maxPoints + 1 points, in order", () => {
    const d = Float64Array.from({ length: 10_000 }, (_, i) => i * i);
    const s = sampleCurve(d, 1000, 4321);
    expect(s.positions.length).toBeLessThanOrEqual(1001);
    expect(s.positions[0]).toBe(0);
    expect(s.positions.at(-1)).toBe(9999);
    expect(Array.from(s.positions)).toContain(4321);
    for (let i = 1; i < s.positions.length; i++) expect(s.positions[i]).toBeGreaterThan(s.positions[i - 1]);
    for (let i = 0; i < s.positions.length; i++) expect(s.distances[i]).toBe(d[s.positions[i]]);
  });
});

function dataValues(spec: unknown): Record<string, unknown>[] {
  return ((spec as { data: { values: Record<string, unknown>[] } }).data.values);
}

describe("density charts", () => {
  it("k-distance chart: at most 1,000 points over the share of customers, eps marked at the knee; compiles and renders", async () => {
    const X = groupsWithNoise(7);
    const c = await kDistanceCurve(X, { minSamples: 10 });
    const spec = kDistanceChart({ distances: c.distances, knee: c.knee, minSamples: 10 });
    const values = dataValues(spec);
    expect(values.length).toBeLessThanOrEqual(1000);
    expect(values[0].share).toBe(0);
    expect(values.at(-1)!.share).toBe(1);
    const text = JSON.stringify(spec);
    expect(text).toContain(`eps = ${c.knee.eps}`);
    expect(text).toContain(`"datum":${c.knee.eps}`);
    expect(text).toContain("10th nearest neighbour");
    expect(JSON.parse(text)).toEqual(spec);
    expect(() => compile(structuredClone(spec) as TopLevelSpec)).not.toThrow();
    expect(await renderSvg(spec)).toMatch(/^<svg/);
    // A sample with its positions gives the knee the same place as the whole curve.
    const s = sampleCurve(c.distances, 200, c.knee.index);
    const sampled = kDistanceChart({ distances: s.distances, positions: s.positions, rows: 940, knee: c.knee, minSamples: 10 });
    expect(JSON.stringify(sampled)).toContain(`"datum":${Number((c.knee.index / 939).toPrecision(6))}`);
    expect(dataValues(sampled).length).toBe(s.positions.length);
    // No knee to mark.
    expect(JSON.stringify(kDistanceChart({ distances: c.distances, knee: null, minSamples: 10 }))).not.toContain("eps =");
  });

  it("reachability plot: bars in OPTICS order coloured by segment, noise grey, infinities capped; compiles and renders", async () => {
    const X = groupsWithNoise(2);
    const m = await new OPTICS({ minSamples: 10 }).fit(X);
    const spec = reachabilityChart({ ordering: m.ordering, reachability: m.reachability, labels: m.labels, names: ["North", "East"] });
    const values = dataValues(spec);
    expect(values.length).toBe(940);
    expect(values.map((v) => v.position)).toEqual(Array.from({ length: 940 }, (_, i) => i));
    let maxFinite = 0;
    for (const r of m.reachability) if (Number.isFinite(r)) maxFinite = Math.max(maxFinite, r);
    expect(values[0].capped).toBe(true); // the first row is reached by nobody
    expect(values[0].reachability as number).toBeGreaterThan(maxFinite);
    for (const v of values.slice(1)) if (!v.capped) expect(v.reachability as number).toBeLessThanOrEqual(maxFinite * (1 + 1e-6));
    // The segment of each bar is that of its row, by name; noise in grey.
    const names = new Set(values.map((v) => v.segment));
    expect(names.has("North")).toBe(true);
    expect(names.has("noise")).toBe(true);
    const text = JSON.stringify(spec);
    expect(text).toContain(NOISE_COLOR);
    expect(text).toMatch(/infinite/);
    expect(() => compile(structuredClone(spec) as TopLevelSpec)).not.toThrow();
    expect(await renderSvg(spec)).toMatch(/^<svg/);
  });

  it("reachability plot of many rows: groups of consecutive rows, each its highest reachability", () => {
    const n = 5000;
    const ordering = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
    const reachability = Float64Array.from({ length: n }, (_, i) => (i === n - 1 ? Infinity : (i % 7) / 7));
    const labels = Int32Array.from({ length: n }, (_, i) => (i < 2500 ? 0 : -1));
    const values = dataValues(reachabilityChart({ ordering, reachability, labels }));
    expect(values.length).toBe(Math.ceil(n / 3));
    // Group 0 holds positions 0..2 = rows 4999, 4998, 4997: the first is infinite → capped.
    expect(values[0].capped).toBe(true);
    // Group 1: positions 3..5 = rows 4996, 4995, 4994 (reachabilities 5/7, 4/7, 3/7), noise.
    expect(values[1]).toMatchObject({ position: 3, end: 6, capped: false, reachability: Number((5 / 7).toPrecision(6)), segment: "noise" });
    expect(values.at(-1)!.segment).toBe("Segment 0");
  });
});
