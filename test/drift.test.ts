/**
 * Drift between a model's training data and new data (pipeline/drift.ts): the training
 * distribution recorded in the model file, a hand-checked table, and the demo generator
 * (io/synthetic.ts) with and without a planted shift.
 */
import { describe, expect, it } from "vitest";
import { type ColumnKind, type Dataset, datasetFromRecords } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { generateCustomers } from "../src/io/synthetic.js";
import { TOP_CATEGORIES, driftReport, driftWarnings, trainingDistribution } from "../src/pipeline/drift.js";
import { buildModelFile, type ModelFile, modelChecksum, parseModelFile, predictWithModel } from "../src/pipeline/model.js";
import { runSegmentation } from "../src/pipeline/run.js";

const KINDS: Record<string, ColumnKind> = {
  customer_id: "id", age: "numeric", gender: "categorical", region: "categorical", plan: "categorical", contract: "categorical",
  tenure_months: "numeric", monthly_spend: "numeric", total_spend: "numeric", support_calls: "numeric", uses_app: "boolean", satisfaction: "numeric",
};

function customers(seed: number, n: number, shift?: (r: Record<string, unknown>, i: number) => void): Dataset {
  const t = generateCustomers({ customers: n, seed });
  const records = t.rows.map((row, i) => {
    const r = Object.fromEntries(t.columns.map((c, j) => [c, row[j]]));
    shift?.(r, i);
    return r;
  });
  return datasetFromRecords(records, KINDS, `customers seed ${seed}`);
}

describe("the training distribution in the model file", () => {
  it("records every input column's bins; an old file without them loads and gives no drift report", async () => {
    const ds = customers(7, 600);
    const r = await runSegmentation({ k: 4, seed: 1, id: "customer_id" }, ds);
    const file = JSON.parse(JSON.stringify(buildModelFile(r, ds))) as ModelFile;
    const d = file.distribution!;
    expect(d.rows).toBe(600);
    expect(d.features.map((f) => f.name).sort()).toEqual([...r.pipeline.inputColumns].sort());
    for (const f of d.features) expect(f.counts.reduce((a, b) => a + b, 0)).toBe(600);
    const age = d.features.find((f) => f.name === "age")!;
    expect(age.kind).toBe("numeric");
    if (age.kind !== "categorical") {
      expect(age.edges.length).toBe(9);
      expect(age.counts[age.counts.length - 1]).toBe(ds.columns.find((c) => c.name === "age")!.values.filter((x) => Number.isNaN(x as number)).length);
    }
    const plan = d.features.find((f) => f.name === "plan")!;
    expect(plan.kind === "categorical" && [...plan.categories].sort()).toEqual(["Basic", "Premium", "Standard"]);
    // The file round-trips, and the same data has no drift at all.
    const m = parseModelFile(file, "m.json");
    const same = driftReport(m, ds)!;
    for (const f of same.features) expect(f.psi).toBeCloseTo(0, 12);
    // A file written before drift checks: no distribution (and a checksum of the rest) loads; drift is null.
    const old = { ...file } as Partial<ModelFile>;
    delete old.distribution;
    old.checksum = modelChecksum(old);
    expect(driftReport(parseModelFile(old, "old.json"), ds)).toBeNull();
    // A damaged distribution is refused with the field named.
    const bad = JSON.parse(JSON.stringify(file)) as ModelFile;
    bad.distribution!.features[0].counts.pop();
    bad.checksum = modelChecksum(bad);
    expect(() => parseModelFile(bad, "bad.json")).toThrow(InputError);
    expect(() => parseModelFile(bad, "bad.json")).toThrow(/distribution\.features\[0\]\.counts/);
  });

  it("drift on a hand-checked table equals the plain computation", () => {
    const train = datasetFromRecords(
      [0, 1, 0, 0, 5, 0, 1, 0, 2, 0].map((x, i) => ({ x, c: ["a", "a", "b", "a", "c", "b", "a", "c", "b", "a"][i] })),
      { x: "numeric", c: "categorical" },
    );
    const next = datasetFromRecords(
      [0, 0, 0, 1, 1, 1, 2, 2, null, 9].map((x, i) => ({ x, c: ["a", "d", "b", null, "a", "d", "a", "d", "b", "a"][i] })),
      { x: "numeric", c: "categorical" },
    );
    const dist = trainingDistribution(train, ["x", "c"]);
    const report = driftReport({ distribution: dist, training: { sizes: [] } } as unknown as ModelFile, next)!;
    const [x, c] = report.features;
    // See test/psi.test.ts for the arithmetic of both.
    expect(x.psi).toBeCloseTo(1.0078901, 6);
    expect(c.psi).toBeCloseTo(4.6734754, 5);
    expect(x.reading).toBe("retrain");
    // The bins that moved most: the missing values of x (0 → 10 %), then "≤ 0" (60 % → 30 %).
    expect(x.moved.map((b) => b.label)).toEqual(["missing", "≤ 0", "1.2 – 2.3"]);
    expect(c.moved[0].label).toBe("other");
    expect(report.retrain).toEqual(["c", "x"]);
  });
});

describe("column kinds", () => {
  it("booleans bin as false/true, dates are labelled as dates, rare categories beyond the recorded ones count as other", () => {
    const day = (d: number) => new Date(Date.UTC(2024, 0, 1 + d));
    const train = datasetFromRecords(
      Array.from({ length: 200 }, (_, i) => ({ flag: i % 4 === 0, when: day(i), cat: `c${i % (TOP_CATEGORIES + 10)}` })),
      { flag: "boolean", when: "datetime", cat: "categorical" },
    );
    const dist = trainingDistribution(train, ["flag", "when", "cat"]);
    const [flag, when, cat] = dist.features;
    expect(flag).toMatchObject({ kind: "boolean", edges: [0], counts: [150, 50, 0] });
    expect(cat.kind === "categorical" && cat.categories.length).toBe(TOP_CATEGORIES);
    // 60 categories over 200 rows: c0..c19 have 4 rows, c20..c59 have 3; the 50 recorded are c0..c19 and 30 of the rest (by name), the others are "other".
    expect(cat.counts[TOP_CATEGORIES]).toBe(10 * 3);
    expect(cat.counts.reduce((a, b) => a + b, 0)).toBe(200);
    const next = datasetFromRecords(
      Array.from({ length: 100 }, (_, i) => ({ flag: i % 2 === 0, when: i < 90 ? day(150 + i) : null, cat: "c0" })),
      { flag: "boolean", when: "datetime", cat: "categorical" },
    );
    const r = driftReport({ distribution: dist, training: { sizes: [] } } as unknown as ModelFile, next)!;
    const f = r.features.find((x) => x.feature === "flag")!;
    expect(f.bins.map((b) => [b.label, b.expected, b.actual])).toEqual([["false", 0.75, 0.5], ["true", 0.25, 0.5]]);
    // (0.5 − 0.75)·ln(0.5/0.75) + (0.5 − 0.25)·ln 2 = 0.1013663 + 0.1732868 = 0.2746531
    expect(f.psi).toBeCloseTo(0.2746531, 6);
    const w = r.features.find((x) => x.feature === "when")!;
    expect(w.bins[0].label).toMatch(/^≤ 2024-01-\d\d$/);
    expect(w.bins[w.bins.length - 1].label).toBe("missing");
    expect(w.reading).toBe("retrain");
    expect(when.kind).toBe("datetime");
  });
});

describe("the demo generator: a planted shift warns, another sample does not", () => {
  it("predict's drift check on customers of the same generator and on shifted ones", async () => {
    const train = customers(7, 1500);
    const r = await runSegmentation({ k: 4, seed: 3, id: "customer_id" }, train);
    const m = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(r, train))), "m.json");
    const check = (data: Dataset) => {
      const p = predictWithModel(m, data);
      const report = driftReport(m, data, { labels: p.labels, names: p.names, noiseName: p.noiseName })!;
      return { report, ...driftWarnings(report) };
    };

    // Same generator, another seed: a different sample of the same customers. Nothing to warn of.
    const same = check(customers(11, 1500));
    expect(same.warnings).toEqual([]);
    expect(same.report.retrain).toEqual([]);
    for (const f of same.report.features) expect(f.psi).toBeLessThan(0.1);
    expect(same.report.segments!.psi).toBeLessThan(0.1);

    // Planted shift: every customer a year older on a 20 % dearer bill, and a third fewer on the app.
    const shifted = check(customers(11, 1500, (row, i) => {
      if (typeof row.monthly_spend === "number") row.monthly_spend *= 1.2;
      if (typeof row.age === "number") row.age += 12;
      if (i % 3 === 0) row.uses_app = false;
    }));
    expect(shifted.report.retrain).toEqual(expect.arrayContaining(["age", "monthly_spend"]));
    expect(shifted.warnings.length).toBe(1);
    expect(shifted.warnings[0]).toMatch(/^drift: these columns have moved far from the training data \(PSI > 0.25\): /);
    expect(shifted.warnings[0]).toMatch(/age \(PSI \d+\.\d{3}; /);
    // Columns left alone stay stable.
    for (const name of ["gender", "region", "support_calls"]) expect(shifted.report.features.find((f) => f.feature === name)!.reading).toBe("stable");
  });
});
