/**
 * Outliers (label −1, customers who fit no segment) as a group of their own in the profiles
 * and names (issue #14.6): their profile against the population equals the hand-computed one,
 * their name starts "Outliers: " and names what sets them apart, and the segments' names and
 * descriptions do not change when noise rows are added.
 */
import { describe, expect, it } from "vitest";
import { datasetFromRecords } from "../src/core/dataset.js";
import { Random } from "../src/core/random.js";
import { median } from "../src/core/stats.js";
import { formatNumber, nameOutliers, nameSegments } from "../src/profile/names.js";
import { profileSegments, type SegmentCategoricalFeature, type SegmentNumericFeature } from "../src/profile/profiles.js";

const close = (a: number | null | undefined, b: number, tol = 1e-12): void => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

describe("the outliers' profile on a hand-made table", () => {
  // monthly_spend: 1..5 in segment 0; 10..14 in segment 1; 100, 60 and a missing value are noise.
  const spend = [1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 100, 60, null];
  const plan = ["a", "a", "b", "a", "b", "b", "b", "a", "b", "b", "c", "c", "a"];
  const labels = Int32Array.of(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1, -1);
  const data = datasetFromRecords(spend.map((s, i) => ({ monthly_spend: s, plan: plan[i] })), { monthly_spend: "numeric", plan: "categorical" });
  const p = profileSegments(data, labels, { features: ["monthly_spend", "plan"] });
  const present = spend.filter((x): x is number => x !== null);

  it("is the noise rows' profile against the whole population, as a segment's", () => {
    expect(p.noise).toBe(3);
    const o = p.outliers!;
    expect(o).not.toBeNull();
    expect([o.id, o.size, o.share]).toEqual([-1, 3, 3 / 13]);
    const x = o.features[0] as SegmentNumericFeature;
    expect(x).toMatchObject({ count: 2, missing: 1, median: 80, min: 60, max: 100 });
    close(x.mean, 80);
    close(x.std, 20);
    const popMean = mean(present);
    const popStd = std(present);
    close(x.standardizedDifference, (80 - popMean) / popStd);
    // Cohen's d against the 10 segment rows: pooled sample variance of {60, 100} and {1..5, 10..14}.
    const rest = [1, 2, 3, 4, 5, 10, 11, 12, 13, 14];
    const ssRest = rest.reduce((a, v) => a + (v - mean(rest)) ** 2, 0);
    close(x.cohensD, (80 - mean(rest)) / Math.sqrt((800 + ssRest) / 10));
    const c = o.features[1] as SegmentCategoricalFeature;
    // Categories by population count: b 6, a 5, c 2.
    expect(c.categories.map((k) => [k.value, k.count, k.share])).toEqual([["b", 0, 0], ["a", 1, 1 / 3], ["c", 2, 2 / 3]]);
    // c: share 2/3 against 2/13 in the population.
    expect(c.topCategory).toBe("c");
    close(c.effectSize, (2 / 3 - 2 / 13) / Math.sqrt((2 / 13) * (11 / 13)));
    expect(o.distinguishing[0].feature).toBe("monthly_spend");
    expect(o.rfm).toBeNull();
  });

  it("leaves the segments' statistics as they are, noise in the population only", () => {
    const x0 = p.segments[0].features[0] as SegmentNumericFeature;
    close(x0.mean, 3);
    close(x0.median, 3);
    close(x0.std, Math.sqrt(2));
    expect(p.segments.map((s) => s.size)).toEqual([5, 5]);
    expect(p.population.features[0]).toMatchObject({ count: 12, missing: 1 });
  });

  it("is named 'Outliers: ' and what sets them apart, and described as fitting no segment", () => {
    const o = p.outliers!;
    // Spend (80 against 19.58) is 2.12 standard units above the population (so "very high"); plan c 1.42.
    expect(o.name).toBe("Outliers: very high monthly spend, mostly c plan");
    expect(o.description).toBe("3 customers (23%) fit no segment: monthly spend 80 on average, 4.1× the population's 20, 67% c plan (population: 15%).");
    expect(p.segments.map((s) => s.name)).not.toContain(o.name);
  });

  it("is null without noise", () => {
    const q = profileSegments(data, Int32Array.of(0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0), { features: ["monthly_spend", "plan"] });
    expect(q.noise).toBe(0);
    expect(q.outliers).toBeNull();
    expect(nameOutliers(q)).toBeNull();
  });

  it("takes the user's name for −1, and never the name of a segment", () => {
    const given = profileSegments(data, labels, { features: ["monthly_spend", "plan"], segmentNames: { [-1]: "Wholesalers" } });
    expect(given.outliers!.name).toBe("Wholesalers");
    const clash = profileSegments(data, labels, { features: ["monthly_spend", "plan"], segmentNames: { 1: "Outliers: very high monthly spend, mostly c plan" } });
    expect(clash.segments[1].name).toBe("Outliers: very high monthly spend, mostly c plan");
    expect(clash.outliers!.name).toBe("Outliers: very high monthly spend, mostly c plan 2");
  });
});

describe("segments' names with and without noise rows", () => {
  // Three well-separated groups on income and age, then 40 customers labelled noise, in pairs
  // symmetric about the groups' mean: far out on income, close on age, all in region "west".
  const rng = new Random(7);
  const centres = [[30, 25], [70, 70], [110, 30]];
  const rows: { income: number; age: number; region: string }[] = [];
  const base: number[] = [];
  for (let i = 0; i < 600; i++) {
    const g = i % 3;
    rows.push({ income: centres[g][0] + 4 * rng.normal(), age: centres[g][1] + 3 * rng.normal(), region: ["north", "south", "east"][(i * 7) % 3 === g ? g : (g + 1) % 3] });
    base.push(g);
  }
  const noisy = [...rows];
  const noisyLabels = [...base];
  const incomeMean = mean(rows.map((r) => r.income));
  const ageMean = mean(rows.map((r) => r.age));
  for (let i = 0; i < 20; i++) {
    for (const sign of [1, -1]) {
      noisy.push({ income: incomeMean + sign * (40 + 4 * i), age: ageMean + sign * (i % 5), region: "west" });
      noisyLabels.push(-1);
    }
  }
  const types = { income: "numeric", age: "numeric", region: "categorical" } as const;
  // Noise that leaves the population much as it was: copies of 10 customers of each group.
  const copies = [...rows, ...rows.slice(0, 30)];
  const copiesLabels = [...base, ...new Array<number>(30).fill(-1)];
  const clean = profileSegments(datasetFromRecords(rows, types), Int32Array.from(base), { features: ["income", "age", "region"], clustered: ["income", "age"] });
  const withNoise = profileSegments(datasetFromRecords(noisy, types), Int32Array.from(noisyLabels), { features: ["income", "age", "region"], clustered: ["income", "age"] });

  it("keeps every segment's name when the noise leaves the population as it was", () => {
    expect(clean.outliers).toBeNull();
    const same = profileSegments(datasetFromRecords(copies, types), Int32Array.from(copiesLabels), { features: ["income", "age", "region"], clustered: ["income", "age"] });
    expect(same.segments.map((s) => s.name)).toEqual(clean.segments.map((s) => s.name));
    expect(clean.segments.map((s) => s.name)).toEqual(["Low income, low age", "High age", "High income"]);
  });

  it("names the segments as nameSegments does without the outliers (they take no part in telling segments apart)", () => {
    const named = nameSegments({ ...withNoise, outliers: null });
    expect(withNoise.segments.map((s) => [s.name, s.description])).toEqual(named.map((s) => [s.name, s.description]));
  });

  it("names outliers whose clustered features are ordinary on average by a described feature that sets them apart (region 'west')", () => {
    const o = withNoise.outliers!;
    const incomes = noisy.slice(600).map((r) => r.income);
    close((o.features[0] as SegmentNumericFeature).mean, mean(incomes), 1e-9);
    close((o.features[0] as SegmentNumericFeature).median, median(Float64Array.from(incomes)), 1e-9);
    // The clustered features do not set them apart on average...
    close((o.features[0] as SegmentNumericFeature).standardizedDifference, 0, 1e-9);
    close((o.features[1] as SegmentNumericFeature).standardizedDifference, 0, 1e-9);
    // ... so the name is the region they all share (a described feature), in the words of a segment's name.
    expect(o.name).toBe("Outliers: mostly west region");
    expect(o.description).toMatch(/^40 customers \(6\.3%\) fit no segment: 100% west region \(population: 6\.3%\)/);
  });

  it("says 'widely spread' when no feature sets them apart on average", () => {
    const p = profileSegments(datasetFromRecords(noisy.map(({ income, age }) => ({ income, age })), types), Int32Array.from(noisyLabels), { features: ["income", "age"] });
    const o = p.outliers!;
    const inc = o.features[0] as SegmentNumericFeature;
    const incomes = noisy.slice(600).map((r) => r.income);
    const all = noisy.map((r) => r.income);
    close(inc.std, std(incomes), 1e-9);
    const ratio = std(incomes) / std(all);
    expect(ratio).toBeGreaterThan(1.5);
    expect(o.name).toBe("Outliers: widely spread income");
    expect(o.description).toBe(`40 customers (6.3%) fit no segment: on average they are close to the population, but their income is spread ${formatNumber(ratio)}× as widely `
      + `(standard deviation ${formatNumber(std(incomes))} against ${formatNumber(std(all))}).`);
    // Nothing spread out either: no common trait.
    const q = profileSegments(datasetFromRecords(noisy.map(({ age }) => ({ age })), types), Int32Array.from(noisyLabels), { features: ["age"] });
    expect(q.outliers!.name).toBe("Outliers: no common trait");
    expect(q.outliers!.description).toBe("40 customers (6.3%) fit no segment: on average they are close to the population on every feature.");
  });
});

describe("outliers in RFM vocabulary", () => {
  // Segments: recent/frequent, lapsed/infrequent; outliers: huge spend, many orders.
  const rows: { recency_days: number; frequency: number; monetary: number }[] = [];
  const labels: number[] = [];
  const rng = new Random(3);
  for (let i = 0; i < 200; i++) {
    const g = i % 2;
    rows.push({ recency_days: g ? 200 + 20 * rng.random() : 5 + 10 * rng.random(), frequency: g ? 1 + Math.floor(2 * rng.random()) : 6 + Math.floor(4 * rng.random()), monetary: g ? 50 + 50 * rng.random() : 400 + 200 * rng.random() });
    labels.push(g);
  }
  for (let i = 0; i < 10; i++) {
    rows.push({ recency_days: 20 + 20 * rng.random(), frequency: 40 + Math.floor(20 * rng.random()), monetary: 20000 + 5000 * rng.random() });
    labels.push(-1);
  }
  const types = { recency_days: "numeric", frequency: "numeric", monetary: "numeric" } as const;
  const p = profileSegments(datasetFromRecords(rows, types), Int32Array.from(labels), { features: ["recency_days", "frequency", "monetary"] });

  it("names the outliers with the RFM words, not an RFM segment, and describes recency, frequency and spend", () => {
    expect(p.naming).toBe("rfm");
    expect(p.outliers!.rfm).not.toBeNull();
    const o = p.outliers!;
    const d = o.distinguishing.map((x) => x.feature);
    // The two largest effects, in the words of featureLabel: big spenders, frequent.
    expect(d.slice(0, 2).sort()).toEqual(["frequency", "monetary"]);
    const words = { monetary: "big spenders", frequency: "frequent" } as Record<string, string>;
    expect(o.name).toBe(`Outliers: ${d.slice(0, 2).map((f) => words[f]).join(", ")}`);
    expect(o.description).toMatch(/^10 customers \(4\.8%\) fit no segment: bought \d+ days ago on average \(population: \d+\), \d+ orders, \d+(\.\d)?× the population's \d+(\.\d)?, spent [\d,]+, \d+(\.\d)?× the population's [\d,]+\.$/);
    for (const s of p.segments) expect(s.name.startsWith("Outliers")).toBe(false);
  });
});
