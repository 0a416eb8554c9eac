import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dataset } from "./helpers/dataset.js";
import { InputError } from "../src/core/errors.js";
import { parseConfig } from "../src/pipeline/config.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { FittedPipeline, fitPipeline, type PreprocessOptions } from "../src/preprocess/pipeline.js";
import { planPreprocessing, skewness } from "../src/preprocess/plan.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/pipeline.json", import.meta.url), "utf8"));

/** Equal up to the sign of each column (PCA components are defined up to sign; scikit-learn flips by its own rule). */
function expectClose(actual: ArrayLike<number>, expected: number[][], tol = 1e-9, upToSign = false): void {
  const d = expected[0].length;
  expect(actual.length).toBe(expected.length * d);
  for (let j = 0; j < d; j++) {
    let sign = 1;
    if (upToSign) {
      let dot = 0;
      for (let i = 0; i < expected.length; i++) dot += actual[i * d + j] * expected[i][j];
      sign = dot < 0 ? -1 : 1;
    }
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i][j];
      const a = sign * actual[i * d + j];
      expect(Math.abs(a - e), `row ${i}, column ${j}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
    }
  }
}

const train = dataset(fx.train, fx.numeric);
const test = dataset(fx.test, fx.numeric, "new.csv");
const byName = (name: string) => fx.cases.find((c: { name: string }) => c.name.startsWith(name));

describe("configurable preprocessing equals scikit-learn's ColumnTransformer", () => {
  it("mean imputation with indicators, min-max scaling, rare categories grouped, binary as one column, whitened PCA", async () => {
    const c = byName("mean+indicator");
    const p = await fitPipeline(train, c.features, c.options as PreprocessOptions);
    // scikit-learn names: num__age, ind__missingindicator_age, cat_plan__plan_infrequent_sklearn, …
    const expected = c.feature_names_before_pca.map((n: string) =>
      n.replace(/^num__/, "").replace(/^ind__missingindicator_(.*)$/, "$1_missing").replace(/^cat_(\w+)__\1_(.*)$/, "$1=$2").replace("infrequent_sklearn", "infrequent"));
    const noPca = await fitPipeline(train, c.features, { ...c.options, pca: null } as PreprocessOptions);
    expect(noPca.featureNames).toEqual(expected);
    expectClose(noPca.transform(train).data, c.before_pca_train, 1e-12);
    expect(p.featureNames).toEqual(["pca0", "pca1", "pca2", "pca3"]);
    expect(Array.from(p.pca!.explainedVarianceRatio).map((x) => +x.toFixed(12))).toEqual(c.explained_variance_ratio.map((x: number) => +x.toFixed(12)));
    expectClose(p.transform(train).data, c.train, 1e-9, true);
    const report = { imputed: {}, unseen: {} };
    expectClose(p.transform(test, report).data, c.test, 1e-9, true);
    expect(report.unseen).toEqual({ plan: { count: 1, examples: ["Enterprise"] } });
    expect(report.imputed).toEqual({ age: 1, spend: 1, plan: 1 });
  });

  it("constant imputation, IQR clipping, log1p, Yeo-Johnson, robust scaling and an ordinal column", async () => {
    const c = byName("constant -1");
    const p = await fitPipeline(train, c.features, c.options as PreprocessOptions);
    const j = p.toJSON();
    expect(Math.abs(j.power!.model.lambdas[0] - c.lambda)).toBeLessThan(1e-6);
    expect(j.outliers!.model.lower[0]).toBeCloseTo(c.bounds[0], 12);
    expect(j.outliers!.model.upper[0]).toBeCloseTo(c.bounds[1], 12);
    expect(p.featureNames).toEqual(["age", "spend", "balance", "size", "plan=Basic", "plan=Gold", "plan=Premium", "plan=Standard"]);
    // λ agrees to 1e-6 (our Brent search), so values through the power transform agree to about that.
    expectClose(p.transform(train).data, c.train, 1e-6);
    expectClose(p.transform(test).data, c.test, 1e-6);
    // The describe() lines name every step.
    const lines = p.describe().join("\n");
    expect(lines).toMatch(/spend \(numeric\): 2 missing values → constant -1, clip outside \[.*\] \(iqr\), signed log1p, robust/);
    expect(lines).toMatch(/balance \(numeric\): .*yeo-johnson λ/);
    expect(lines).toMatch(/size \(ordinal\): .*codes S=0, M=1, L=2/);
  });

  it("median imputation, max-abs scaling, first category dropped", async () => {
    const c = byName("median, maxabs");
    const p = await fitPipeline(train, c.features, c.options as PreprocessOptions);
    expect(p.featureNames).toEqual(c.feature_names.map((n: string) => n.replace(/^num__/, "").replace(/^cat_(\w+)__\1_(.*)$/, "$1=$2")));
    expectClose(p.transform(train).data, c.train, 1e-12);
    expectClose(p.transform(test).data, c.test, 1e-12);
  });

  it("survives JSON exactly, every case", async () => {
    for (const c of fx.cases) {
      const p = await fitPipeline(train, c.features, c.options as PreprocessOptions);
      const q = FittedPipeline.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
      expect(Array.from(q.transform(test).data)).toEqual(Array.from(p.transform(test).data));
      expect(q.featureNames).toEqual(p.featureNames);
    }
  });

  it("rejects unknown categories when asked to, naming the column and value", async () => {
    const p = await fitPipeline(train, ["age", "plan"], { oneHot: { handleUnknown: "error" } });
    expect(() => p.transform(test)).toThrow(/new\.csv: column "plan" has the category "Enterprise", unseen in training/);
  });

  it("rejects an ordinal order that misses a value, and a column given two transforms", async () => {
    await expect(fitPipeline(train, ["size"], { ordinal: { size: ["S", "M"] } })).rejects.toThrow(/ordinal size: the value "L" is not in the given order/);
    await expect(fitPipeline(train, ["spend"], { log1p: ["spend"], power: ["spend"] })).rejects.toThrow(InputError);
  });
});

describe("outliers dropped from the fit still get a segment", () => {
  it("leaves the rows out of the scaler's fit and marks them, at fit and at predict", async () => {
    // 40 ordinary rows and two extreme ones.
    const values = Array.from({ length: 40 }, (_, i) => (i % 2 ? 10 : 20) + (i % 5));
    const ds = dataset({ x: [...values, 500, -300], y: [...values.map((v) => v * 2), 1000, 3] }, ["x", "y"]);
    const p = await fitPipeline(ds, ["x", "y"], { outliers: { method: "iqr", action: "drop" } });
    const mask = p.outlierMask(ds)!;
    expect(Array.from(mask.slice(40))).toEqual([1, 1]);
    expect(mask.slice(0, 40).every((m) => m === 0)).toBe(true);
    // Standardised on the 40 kept rows: their mean is 0.
    const X = p.transform(ds);
    let s = 0;
    for (let i = 0; i < 40; i++) s += X.data[i * 2];
    expect(Math.abs(s / 40)).toBeLessThan(1e-12);
    const r = await runSegmentation({ k: 2, preprocessing: { outliers: { method: "iqr", action: "drop" } } }, ds);
    expect(Array.from(r.outliers!.slice(40))).toEqual([1, 1]);
    expect(r.labels.length).toBe(42);
    expect(r.segments.reduce((a, b) => a + b.size, 0)).toBe(42);
    expect(r.warnings.some((w) => w.includes("2 outlier rows (iqr) were left out of the fit"))).toBe(true);
  });
});

describe("the automatic plan", () => {
  it("computes skewness as scipy.stats.skew (biased)", () => {
    // Hand computation: values 0, 0, 0, 4 → mean 1, m2 = 3, m3 = 6 → 6 / 3^1.5.
    expect(skewness(Float64Array.from([0, 0, 0, 4, NaN]))).toBeCloseTo(6 / 3 ** 1.5, 14);
  });

  it("compresses skewed columns, groups rare categories, keeps binaries as one column, and says why", () => {
    const n = 200;
    const money = Array.from({ length: n }, (_, i) => (i < 190 ? i % 20 : 1000 + i));
    const balance = Array.from({ length: n }, (_, i) => (i < 190 ? (i % 7) - 3 : -500 - i));
    const net = Array.from({ length: n }, (_, i) => (i === 5 ? -40 : i < 190 ? i % 20 : 1000 + i));
    const flat = Array.from({ length: n }, (_, i) => i % 10);
    const city = Array.from({ length: n }, (_, i) => (i === 0 ? "Tiny" : i % 2 ? "A" : "B"));
    const member = Array.from({ length: n }, (_, i) => (i % 3 ? "yes" : "no"));
    const ds = dataset({ money, balance, net, flat, city, member }, ["money", "balance", "net", "flat"]);
    const plan = planPreprocessing(ds, ["money", "balance", "net", "flat", "city", "member"], parseConfig({ preprocessing: { plan: "auto" } }).preprocessing);
    expect(plan.options.log1p).toEqual(["money", "net"]);
    expect(plan.options.power).toEqual(["balance"]);
    expect(plan.options.oneHot).toMatchObject({ drop: "if_binary", minFrequency: 0.01 });
    const text = plan.steps.map((s) => `${s.step}: ${s.columns.join(",")}: ${s.reason}`).join("\n");
    expect(text).toMatch(/log1p: money: skewness \d+\.\d\d and no negative values: .*; skewness after: \d\.\d\d/);
    expect(text).toMatch(/yeo-johnson: balance: skewness −\d+\.\d\d \(a long tail of small values\): a log would lengthen that tail; a Yeo-Johnson/);
    expect(text).toMatch(/signed log1p: net: skewness \d+\.\d\d with a few negative values \(1 of 200, min -40\)/);
    expect(text).toMatch(/no transform: flat: skewness within ±1: flat \(0\.00\)/);
    expect(text).toMatch(/group rare categories: city: .*"Tiny" 1 row\)/);
    expect(text).toMatch(/one column for two values: member: .*member=no dropped \(member=yes kept\)/);
  });

  it("leaves the configuration as is with the standard plan", () => {
    const ds = dataset({ m: [1, 2, 3, 1000] }, ["m"]);
    const plan = planPreprocessing(ds, ["m"], parseConfig({}).preprocessing);
    expect(plan.options.log1p).toEqual([]);
    expect(plan.steps.map((s) => s.step)).toEqual(["standard scaling"]);
  });
});
