import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { dataset } from "./helpers/dataset.js";
import { InputError } from "../src/core/errors.js";
import { FittedPipeline, fitPipeline } from "../src/preprocess/pipeline.js";
import { StandardScaler } from "../src/preprocess/scaler.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/preprocess.json", import.meta.url), "utf8"));

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  }
}

describe("StandardScaler equals scikit-learn", () => {
  it("mean, scale (1 for a constant column) and transform", async () => {
    const m = await new StandardScaler().fit(fx.scaler.X);
    expectClose(m.mean, fx.scaler.mean);
    expectClose(m.scale, fx.scaler.scale);
    expect(m.scale[2]).toBe(1);
    expectClose(m.transform(fx.scaler.X).data, fx.scaler.transformed.flat());
    expectClose(m.inverseTransform(m.transform(fx.scaler.X)).data, fx.scaler.X.flat(), 1e-12);
  });

  // Exact references from Python's fractions.Fraction (the sums overflow a double when taken as they are).
  it("huge finite values give a finite mean and scale, without overflow", async () => {
    const m = await new StandardScaler().fit([[1e300, 5], [-1e308, 6], [1, 7], [2, 8], [3, 9]]);
    expectClose(m.mean, [-1.99999998e307, 7]);
    expectClose(m.scale, [4.00000001e307, Math.SQRT2]);
    const z = m.transform([[1e300, 5], [-1e308, 6], [1, 7]]).data;
    expectClose([z[0], z[2], z[4]], [0.5000000187499999, -2.0, 0.49999999375]);
    expect(Array.from(z).every(Number.isFinite)).toBe(true);
  });

  it("values near ±1.8e308 of both signs: x − mean would overflow, the transform does not", async () => {
    const m = await new StandardScaler().fit([[1.7e308], [-1.7e308], [0], [1]]);
    expectClose(m.mean, [0.25]);
    expectClose(m.scale, [1.2020815280171307e308]);
    const z = m.transform([[1.7e308], [-1.7e308]]).data;
    expectClose(z, [1.7e308 / 1.2020815280171307e308, -1.7e308 / 1.2020815280171307e308]);
  });
});

describe("default table preprocessing equals scikit-learn's ColumnTransformer", () => {
  const t = fx.table;
  const train = dataset(t.train, t.numeric);
  const features = [...t.numeric, ...t.categorical];
  let p: FittedPipeline;
  beforeAll(async () => {
    p = await fitPipeline(train, features);
  });

  it("fits the same imputation values, means, scales and categories", () => {
    const j = p.toJSON();
    expectClose(j.numeric.imputer!.statistics as number[], t.impute_numeric);
    expect(j.categorical.map((s) => s.impute)).toEqual(t.impute_categorical);
    expectClose(j.scaler!.center, t.mean);
    expectClose(j.scaler!.scale, t.scale);
    expect(j.categorical.map((s) => s.encoder.categories[0])).toEqual(t.categories);
    expect(p.featureNames).toEqual(t.feature_names.map((n: string) => n.replace(/^num__/, "").replace(/^cat__(plan|region)_/, "$1=")));
  });

  it("transforms the training rows identically", () => {
    expectClose(p.transform(train).data, t.train_transformed.flat());
  });

  it("imputes and ignores unseen categories at predict time, reporting them", () => {
    const report = { imputed: {}, unseen: {} };
    const X = p.transform(dataset(t.test, t.numeric, "new.csv"), report);
    expectClose(X.data, t.test_transformed.flat());
    expect(report.unseen).toEqual({ plan: { count: 1, examples: ["Enterprise"] }, region: { count: 1, examples: ["South"] } });
    expect(report.imputed).toEqual({ age: 1, spend: 1, plan: 1 });
  });

  it("survives JSON exactly", () => {
    const q = FittedPipeline.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
    expect(Array.from(q.transform(train).data)).toEqual(Array.from(p.transform(train).data));
  });

  it("names a column that is absent at transform time", () => {
    const partial = dataset({ age: [1], spend: [2], visits: [3], plan: ["Basic"] }, ["age", "spend", "visits"], "new.csv");
    expect(() => p.transform(partial)).toThrow(/new\.csv has no column "region", which the model needs/);
  });

  it("rejects a column with no values at all", async () => {
    const empty = dataset({ a: [1, 2, 3], b: [null, null, null] }, ["a", "b"], "x.csv");
    await expect(fitPipeline(empty, ["a", "b"])).rejects.toThrow(InputError);
    await expect(fitPipeline(empty, ["a", "b"])).rejects.toThrow(/column "b" has no values in any of its 3 rows/);
  });

  it("applies the signed log1p before scaling when asked", async () => {
    const ds = dataset({ m: [-9, 0, 9, 99] }, ["m"]);
    const q = await fitPipeline(ds, ["m"], { log1p: ["m"] });
    const logs = [-Math.log(10), 0, Math.log(10), Math.log(100)];
    const mean = logs.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
    expectClose(q.transform(ds).data, logs.map((v) => (v - mean) / sd));
  });
});
