/**
 * Segment profiles, names and descriptions: a hand-computed toy table, properties on random
 * data against brute-force computations, RFM names on a synthetic RFM table, generic names,
 * uniqueness, and the number formatting.
 */
import { describe, expect, it } from "vitest";
import { type Dataset, datasetFromRecords } from "../src/core/dataset.js";
import { Random } from "../src/core/random.js";
import { median, select } from "../src/core/stats.js";
import { categoryWords, featureLabel, formatFeatureValue, formatNumber, formatPercent, humanizeFeatureName } from "../src/profile/names.js";
import {
  profileSegments, rfmScoreOfValue, type CategoricalStats, type NumericStats, type SegmentCategoricalFeature,
  type SegmentNumericFeature,
} from "../src/profile/profiles.js";
import { quintileScores } from "../src/profile/rfm-scores.js";

const close = (a: number | null, b: number, tol = 1e-12): void => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
};

describe("profileSegments on a hand-computed table", () => {
  // x: 1, 2, 3 in segment 0; 10, 20 in segment 1; missing in the noise row.
  // cat: a, a, b | b, (missing) | a.
  const data = datasetFromRecords(
    [
      { x: 1, cat: "a", flag: 1 }, { x: 2, cat: "a", flag: 0 }, { x: 3, cat: "b", flag: 0 },
      { x: 10, cat: "b", flag: 1 }, { x: 20, cat: null, flag: 1 }, { x: null, cat: "a", flag: 0 },
    ],
    { x: "numeric", cat: "categorical", flag: "boolean" },
  );
  const labels = Int32Array.of(0, 0, 0, 1, 1, -1);
  const p = profileSegments(data, labels, { features: ["x", "cat", "flag"] });

  it("population", () => {
    expect(p.n).toBe(6);
    expect(p.noise).toBe(1);
    const x = p.population.features[0] as NumericStats;
    expect(x).toMatchObject({ name: "x", kind: "numeric", count: 5, missing: 1, median: 3, min: 1, max: 20 });
    close(x.mean, 7.2);
    close(x.std, Math.sqrt(254.8 / 5)); // deviations −6.2, −5.2, −4.2, 2.8, 12.8
    const cat = p.population.features[1] as CategoricalStats;
    expect(cat).toMatchObject({ count: 5, missing: 1, distinct: 2, otherCount: 0 });
    expect(cat.categories).toEqual([{ value: "a", count: 3, share: 0.6 }, { value: "b", count: 2, share: 0.4 }]);
    const flag = p.population.features[2] as NumericStats;
    close(flag.mean, 0.5);
    expect(flag.median).toBe(0.5);
  });

  it("segment sizes, shares, means, medians, std and standardized differences", () => {
    expect(p.segments.map((s) => [s.id, s.size, s.share])).toEqual([[0, 3, 0.5], [1, 2, 2 / 6]]);
    const popStd = Math.sqrt(254.8 / 5);
    const x0 = p.segments[0].features[0] as SegmentNumericFeature;
    expect(x0).toMatchObject({ count: 3, missing: 0, mean: 2, median: 2, min: 1, max: 3 });
    close(x0.std, Math.sqrt(2 / 3));
    close(x0.standardizedDifference, (2 - 7.2) / popStd);
    expect(x0.effectSize).toBe(x0.standardizedDifference);
    // Cohen's d against the rest (10, 20): pooled sd sqrt((2·1 + 1·50) / 3).
    close(x0.cohensD, (2 - 15) / Math.sqrt(52 / 3));
    const x1 = p.segments[1].features[0] as SegmentNumericFeature;
    expect(x1).toMatchObject({ count: 2, missing: 0, mean: 15, median: 15, std: 5 });
    close(x1.standardizedDifference, (15 - 7.2) / popStd);
    // Rest of segment 1: 1, 2, 3 (the noise row has no x).
    close(x1.cohensD, (15 - 2) / Math.sqrt(52 / 3));
  });

  it("category shares, lift and standardized share differences; missing counted", () => {
    const c0 = p.segments[0].features[1] as SegmentCategoricalFeature;
    expect(c0.count).toBe(3);
    expect(c0.missing).toBe(0);
    const a0 = c0.categories.find((c) => c.value === "a")!;
    close(a0.share, 2 / 3);
    expect(a0.populationShare).toBe(0.6);
    close(a0.lift, 2 / 3 / 0.6);
    close(a0.difference, 2 / 3 - 0.6);
    close(a0.standardizedDifference, (2 / 3 - 0.6) / Math.sqrt(0.24));
    const c1 = p.segments[1].features[1] as SegmentCategoricalFeature;
    expect(c1.count).toBe(1);
    expect(c1.missing).toBe(1);
    expect(c1.categories.map((c) => c.share)).toEqual([0, 1]);
    // a and b tie in |standardized difference| (1.2247); the more frequent one (a, −) is kept.
    expect(c1.topCategory).toBe("a");
    close(c1.effectSize, (0 - 0.6) / Math.sqrt(0.24));
  });

  it("ranks distinguishing features by |effect size|", () => {
    const d1 = p.segments[1].distinguishing;
    // segment 1: x (15 − 7.2) / 7.14 = 1.093; cat: 1.2247; flag: (1 − 0.5) / 0.5 = 1.
    expect(d1.map((d) => d.feature)).toEqual(["cat", "x", "flag"]);
    expect(d1[0]).toMatchObject({ kind: "categorical", category: "a", direction: "lower", segmentValue: 0, populationValue: 0.6 });
    expect(d1[2]).toMatchObject({ kind: "boolean", direction: "higher", segmentValue: 1, populationValue: 0.5 });
    close(d1[2].effectSize, 1);
  });

  it("is plain JSON (no NaN, no typed arrays)", () => {
    const text = JSON.stringify(p);
    expect(JSON.parse(text)).toEqual(p);
    expect(text).not.toMatch(/NaN|Infinity/);
  });

  it("refuses unknown columns, bad labels and labels of the wrong length", () => {
    expect(() => profileSegments(data, labels, { features: ["nope"] })).toThrow(/no column "nope"/);
    expect(() => profileSegments(data, Int32Array.of(0, 1), { features: ["x"] })).toThrow(/2 labels for 6 rows/);
    expect(() => profileSegments(data, Int32Array.of(0, 0, 0, 1, 1, -2), { features: ["x"] })).toThrow(/noise/);
  });
});

describe("median and select", () => {
  it("equal numpy's median, including even counts and many ties", () => {
    const rnd = new Random(3);
    for (let t = 0; t < 200; t++) {
      const m = 1 + Math.floor(rnd.random() * 60);
      const a = Float64Array.from({ length: m }, () => (t % 2 ? Math.floor(rnd.random() * 4) : rnd.random() * 100 - 50));
      const sorted = Float64Array.from(a).sort();
      const expected = m % 2 ? sorted[(m - 1) / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
      expect(median(Float64Array.from(a))).toBe(expected);
      const k = Math.floor(rnd.random() * m);
      const b = Float64Array.from(a);
      expect(select(b, k)).toBe(sorted[k]);
      for (let i = 0; i < m; i++) expect(i < k ? b[i] <= b[k] : b[i] >= b[k]).toBe(true);
    }
    expect(Number.isNaN(median(new Float64Array(0)))).toBe(true);
  });
});

describe("profile properties on random data", () => {
  const rnd = new Random(11);
  const n = 997;
  const k = 5;
  const cats = ["x", "y", "z", "w"];
  const records = Array.from({ length: n }, () => ({
    a: rnd.random() < 0.05 ? null : Math.round(rnd.random() * 1000) / 10,
    b: Math.floor(rnd.random() * 7),
    c: rnd.random() < 0.1 ? null : cats[Math.floor(rnd.random() ** 2 * 4)],
  }));
  const data = datasetFromRecords(records, { a: "numeric", b: "numeric", c: "categorical" });
  const labels = Int32Array.from({ length: n }, () => Math.floor(rnd.random() * (k + 1)) - 1);
  const p = profileSegments(data, labels, { features: ["a", "b", "c"], topFeatures: 3 });

  it("sizes add up; means and medians equal brute force; standardized differences equal StandardScaler means", () => {
    expect(p.segments.reduce((t, s) => t + s.size, 0) + p.noise).toBe(n);
    for (const [fi, name] of (["a", "b"] as const).entries()) {
      const all = records.map((r) => r[name]).filter((v): v is number => v !== null);
      const mu = all.reduce((t, v) => t + v, 0) / all.length;
      const sd = Math.sqrt(all.reduce((t, v) => t + (v - mu) ** 2, 0) / all.length);
      close((p.population.features[fi] as NumericStats).mean, mu, 1e-12);
      close((p.population.features[fi] as NumericStats).std, sd, 1e-12);
      let weighted = 0;
      let counted = 0;
      for (const s of p.segments) {
        const vals = records.filter((_, i) => labels[i] === s.id).map((r) => r[name]).filter((v): v is number => v !== null);
        const f = s.features[fi] as SegmentNumericFeature;
        expect(f.count).toBe(vals.length);
        expect(f.missing).toBe(s.size - vals.length);
        const m = vals.reduce((t, v) => t + v, 0) / vals.length;
        close(f.mean, m, 1e-12);
        const sorted = vals.slice().sort((x, y) => x - y);
        const h = sorted.length >> 1;
        expect(f.median).toBe(sorted.length % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2);
        // Mean of the standardized values of the segment.
        close(f.standardizedDifference, vals.reduce((t, v) => t + (v - mu) / sd, 0) / vals.length, 1e-9);
        weighted += f.mean! * f.count;
        counted += f.count;
      }
      const noiseVals = records.filter((_, i) => labels[i] === -1).map((r) => r[name]).filter((v): v is number => v !== null);
      close((weighted + noiseVals.reduce((t, v) => t + v, 0)) / (counted + noiseVals.length), mu, 1e-12);
    }
  });

  it("category shares equal brute force and sum to 1; effect size is the largest |standardized share difference|", () => {
    const present = records.filter((r) => r.c !== null);
    for (const s of p.segments) {
      const f = s.features[2] as SegmentCategoricalFeature;
      const inSeg = records.filter((r, i) => labels[i] === s.id && r.c !== null);
      expect(f.count).toBe(inSeg.length);
      close(f.categories.reduce((t, c) => t + c.share, 0), 1);
      let best = 0;
      for (const c of f.categories) {
        const share = inSeg.filter((r) => r.c === c.value).length / inSeg.length;
        const pop = present.filter((r) => r.c === c.value).length / present.length;
        close(c.share, share);
        close(c.populationShare, pop);
        close(c.standardizedDifference, (share - pop) / Math.sqrt(pop * (1 - pop)));
        if (Math.abs(c.standardizedDifference) > Math.abs(best)) best = c.standardizedDifference;
      }
      expect(f.effectSize).toBe(best);
      expect(s.distinguishing.length).toBe(3);
      const effects = s.distinguishing.map((d) => Math.abs(d.effectSize));
      expect(effects).toEqual(effects.slice().sort((x, y) => y - x));
    }
  });

  it("lists the maxCategories most frequent categories and sums the rest", () => {
    const q = profileSegments(data, labels, { features: ["c"], maxCategories: 2 });
    const pop = q.population.features[0] as CategoricalStats;
    expect(pop.categories.map((c) => c.value)).toEqual(["x", "y"]);
    expect(pop.otherCount).toBe(records.filter((r) => r.c === "z" || r.c === "w").length);
    for (const s of q.segments) {
      const f = s.features[0] as SegmentCategoricalFeature;
      close(f.categories.reduce((t, c) => t + c.share, 0) + f.otherShare, 1);
    }
  });

  it("names are unique and deterministic", () => {
    const names = p.segments.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(profileSegments(data, labels, { features: ["a", "b", "c"], topFeatures: 3 })).toEqual(p);
  });
});

/** A synthetic RFM table: customers drawn from archetypes, labelled by archetype. */
function rfmTable(archetypes: { recency: [number, number]; frequency: [number, number]; monetary: [number, number]; n: number }[], seed = 5): { data: Dataset; labels: Int32Array } {
  const rnd = new Random(seed);
  const records: Record<string, unknown>[] = [];
  const labels: number[] = [];
  const u = ([lo, hi]: [number, number]): number => lo + rnd.random() * (hi - lo);
  archetypes.forEach((a, s) => {
    for (let i = 0; i < a.n; i++) {
      const frequency = Math.round(u(a.frequency));
      records.push({ recency_days: Math.round(u(a.recency)), frequency, monetary: Math.round(u(a.monetary) * frequency * 100) / 100, tenure_days: Math.round(u([30, 700])) });
      labels.push(s);
    }
  });
  return {
    data: datasetFromRecords(records, { recency_days: "numeric", frequency: "numeric", monetary: "numeric", tenure_days: "numeric" }),
    labels: Int32Array.from(labels),
  };
}

describe("names and descriptions", () => {
  it("follow the RFM vocabulary when recency, frequency and monetary are present", () => {
    const { data, labels } = rfmTable([
      { recency: [1, 15], frequency: [10, 20], monetary: [80, 120], n: 150 }, // recent, frequent
      { recency: [200, 360], frequency: [1, 1], monetary: [10, 40], n: 300 }, // long gone, one order
      { recency: [60, 120], frequency: [3, 5], monetary: [30, 60], n: 250 }, // middle
      { recency: [150, 300], frequency: [8, 15], monetary: [60, 100], n: 100 }, // were frequent, gone
      { recency: [1, 20], frequency: [1, 1], monetary: [20, 50], n: 120 }, // new
    ]);
    const p = profileSegments(data, labels, { features: ["recency_days", "frequency", "monetary", "tenure_days"] });
    expect(p.naming).toBe("rfm");
    const names = p.segments.map((s) => s.name);
    expect(names[0]).toBe("Champions");
    expect(names[1]).toBe("Lost");
    expect(names[3]).toMatch(/^(At Risk|Can't Lose Them)$/);
    expect(names[4]).toBe("New Customers");
    expect(new Set(names).size).toBe(names.length);
    expect(p.segments[0].rfm).toMatchObject({ r: 5, f: 5, m: 5, segment: "Champions" });
    expect(p.segments[1].rfm).toMatchObject({ r: 1, f: 1, segment: "Lost" });
    // The description: the RFM features against the population, rounded.
    const s0 = p.segments[0];
    const rec = s0.features[0] as SegmentNumericFeature;
    const pop = p.population.features as NumericStats[];
    expect(s0.description).toBe(
      `Champions: bought ${formatNumber(rec.mean!)} days ago on average (population: ${formatNumber(pop[0].mean!)}), ` +
        `${formatNumber((s0.features[1] as SegmentNumericFeature).mean!)} orders (population: ${formatNumber(pop[1].mean!)}), ` +
        `spent ${formatNumber((s0.features[2] as SegmentNumericFeature).mean!)} (population: ${formatNumber(pop[2].mean!)}).`,
    );
    expect(s0.description).toMatch(/^Champions: bought \d+ days ago on average \(population: \d+\), \d+ orders \(population: [\d.]+\), spent [\d,]+ \(population: [\d,]+\)\.$/);
  });

  it("RFM scores of segment medians use the quintiles of the population's scores", () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([1, 20, 21, 50, 61, 80, 81, 100].map((x) => rfmScoreOfValue(v, x))).toEqual([1, 1, 2, 3, 4, 4, 5, 5]);
    // 40 ones, then 2..61.
    const w = Float64Array.from({ length: 100 }, (_, i) => (i < 40 ? 1 : i - 38));
    // A value held by many takes the smallest of their ranks, 1 (pandas rank(method="min")), as
    // the RFM table's scores do: quintile 1, and with reverse 6 − 1 = 5. The 40 equal customers
    // all get the same score.
    expect(rfmScoreOfValue(w, 1)).toBe(1);
    expect(rfmScoreOfValue(w, 1, true)).toBe(5);
    expect([...new Set(quintileScores(w).subarray(0, 40))]).toEqual([1]);
    expect(rfmScoreOfValue(w, 61)).toBe(5);
    expect(rfmScoreOfValue(w, 61, true)).toBe(1);
    expect(rfmScoreOfValue(w, 0.5)).toBe(1); // below every value: rank 0.5
    expect(rfmScoreOfValue(w, 30.5)).toBe(4); // between 30 (rank 69) and 31 (rank 70): 69.5
  });

  it("make equal names unique with a qualifier, then a number", () => {
    const { data, labels } = rfmTable([
      { recency: [1, 10], frequency: [10, 14], monetary: [50, 60], n: 100 },
      { recency: [1, 10], frequency: [15, 20], monetary: [200, 300], n: 100 }, // also Champions, spends more
      { recency: [60, 120], frequency: [3, 5], monetary: [30, 60], n: 300 },
      { recency: [200, 360], frequency: [1, 1], monetary: [10, 40], n: 300 },
    ]);
    const p = profileSegments(data, labels, { features: ["recency_days", "frequency", "monetary"] });
    expect(p.segments[0].rfm!.segment).toBe("Champions");
    expect(p.segments[1].rfm!.segment).toBe("Champions");
    const names = p.segments.map((s) => s.name);
    expect(names[0]).toMatch(/^Champions \((lower spend|less frequent)\)$/);
    expect(names[1]).toMatch(/^Champions \((higher spend|more frequent)\)$/);
    expect(names[3]).toBe("Lost");
    // Four identical archetypes: no single contrast; numbered.
    const same = rfmTable([1, 2, 3, 4].map(() => ({ recency: [1, 5] as [number, number], frequency: [10, 14] as [number, number], monetary: [50, 60] as [number, number], n: 50 })).concat([{ recency: [200, 360], frequency: [1, 1], monetary: [10, 40], n: 600 }]));
    const q = profileSegments(same.data, same.labels, { features: ["recency_days", "frequency", "monetary"] });
    expect(q.segments.slice(0, 4).map((s) => s.name)).toEqual(["Champions", "Champions 2", "Champions 3", "Champions 4"]);
  });

  it("are generic High/Low and categorical words without RFM features", () => {
    const rnd = new Random(8);
    const records: Record<string, unknown>[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 600; i++) {
      const s = i % 3;
      labels.push(s);
      records.push({
        MonthlyCharges: s === 0 ? 90 + rnd.random() * 20 : 30 + rnd.random() * 40,
        tenure_days: s === 0 ? 30 + rnd.random() * 60 : s === 1 ? 900 + rnd.random() * 400 : 200 + rnd.random() * 600,
        Contract: s === 2 ? (rnd.random() < 0.9 ? "Month-to-month" : "One year") : rnd.random() < 0.3 ? "Month-to-month" : rnd.random() < 0.5 ? "One year" : "Two year",
        SeniorCitizen: s === 1 ? 0 : Number(rnd.random() < 0.4),
      });
    }
    const data = datasetFromRecords(records, { MonthlyCharges: "numeric", tenure_days: "numeric", Contract: "categorical", SeniorCitizen: "boolean" });
    const p = profileSegments(data, Int32Array.from(labels), { features: ["MonthlyCharges", "tenure_days", "Contract", "SeniorCitizen"] });
    expect(p.naming).toBe("generic");
    const [a, b, c] = p.segments;
    expect(a.name).toMatch(/^(High monthly charges, short tenure|Short tenure, high monthly charges)$/);
    expect(b.name).toMatch(/^Long tenure/);
    expect(c.name).toMatch(/^Mostly Month-to-month contract/);
    expect(c.description).toMatch(/^Mostly Month-to-month contract.*: \d+% Month-to-month contract \(population: \d+%\)/);
    expect(a.description).toMatch(/monthly charges \d+ on average \(population: \d+\)/);
    expect(a.description).toMatch(/customers for \d+ days \(population: \d+\)/);
    // User names replace generated ones and are kept as given; generated names avoid them.
    const q = profileSegments(data, Int32Array.from(labels), { features: ["MonthlyCharges", "tenure_days", "Contract"], segmentNames: { 1: "Loyal <b>", 2: a.name } });
    expect(q.segments.map((s) => s.name)).toEqual([`${a.name} 2`, "Loyal <b>", a.name]);
    expect(q.segments[1].description).toMatch(/^Loyal <b>: /);
  });

  it("call a segment close to average when nothing stands out", () => {
    const rnd = new Random(2);
    const records = Array.from({ length: 400 }, () => ({ v: rnd.random() }));
    const labels = Int32Array.from({ length: 400 }, (_, i) => i % 2);
    const p = profileSegments(datasetFromRecords(records, { v: "numeric" }), labels, { features: ["v"] });
    expect(p.segments[0].name).toBe("Close to average");
    expect(p.segments[1].name).toBe("Close to average 2");
  });
});

describe("words and numbers", () => {
  it("humanizes feature names", () => {
    expect(humanizeFeatureName("MonthlyCharges")).toBe("monthly charges");
    expect(humanizeFeatureName("tenure_days")).toBe("tenure");
    expect(humanizeFeatureName("monetary")).toBe("spend");
    expect(humanizeFeatureName("NPSScore")).toBe("NPS score");
    expect(humanizeFeatureName("SeniorCitizen")).toBe("senior citizen");
    expect(humanizeFeatureName("Annual Income (k$)")).toBe("annual income (k$)");
    expect(humanizeFeatureName("days")).toBe("days");
    expect(humanizeFeatureName("<img src=x onerror=alert(1)>")).toBe("<img src=x onerror=alert(1)>");
  });

  it("formats numbers, shares and units", () => {
    expect([0, 0.04219, 0.5, 1, 4.26, 9.96, 14.2, 92.5, 1234.4, 1234567.8, -3.14, -0.004].map(formatNumber)).toEqual([
      "0", "0.042", "0.5", "1", "4.3", "10", "14", "93", "1,234", "1,234,568", "−3.1", "−0.004",
    ]);
    expect(formatNumber(NaN)).toBe("n/a");
    expect([0.42, 0.045, 0.0012, 1].map(formatPercent)).toEqual(["42%", "4.5%", "0.12%", "100%"]);
    expect(formatFeatureValue("recency_days", "numeric", 9.2)).toBe("9.2 days");
    expect(formatFeatureValue("recency_days", "numeric", 1)).toBe("1 day");
    expect(formatFeatureValue("return_rate", "numeric", 0.125)).toBe("13%");
    expect(formatFeatureValue("Partner", "boolean", 0.5)).toBe("50%");
    expect(formatFeatureValue("signup", "datetime", Date.UTC(2011, 4, 3, 12))).toBe("2011-05-03");
    expect(categoryWords("Yes", "device protection")).toBe("device protection");
    expect(categoryWords("No", "device protection")).toBe("no device protection");
    expect(categoryWords("Month-to-month", "contract")).toBe("Month-to-month contract");
    expect(categoryWords("No internet service", "internet service")).toBe("No internet service");
    // A segment without a negated category is named by what it has, not "no no internet service".
    const d = (segmentValue: number, category: string, direction: "higher" | "lower") =>
      ({ feature: "InternetService", kind: "categorical" as const, category, effectSize: direction === "higher" ? 1 : -1, direction, segmentValue, populationValue: 0.22 });
    expect(featureLabel(d(0, "No", "lower"))).toBe("with internet service");
    expect(featureLabel(d(0.1, "No", "lower"))).toBe("fewer without internet service");
    expect(featureLabel(d(0.9, "No", "higher"))).toBe("mostly no internet service");
    expect(featureLabel(d(0.01, "DSL", "lower"))).toBe("no DSL internet service");
  });
});
