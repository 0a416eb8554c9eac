/**
 * The automatic preprocessing plan: transforms against skew on each side, checked on the
 * training values, and plan text that names what happens to each column.
 */
import { describe, expect, it } from "vitest";
import { dataset } from "./helpers/dataset.js";
import type { Dataset } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { OneHotEncoder } from "../src/preprocess/encode.js";
import { SimpleImputer } from "../src/preprocess/impute.js";
import { fitPipeline, FittedPipeline, type PreprocessOptions } from "../src/preprocess/pipeline.js";
import { planPreprocessing, skewness, type PlanStep } from "../src/preprocess/plan.js";

/** A seeded uniform generator on (0, 1) (Park–Miller), so that the tables are the same on every run. */
function uniform(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function column(X: { data: Float64Array; rows: number; cols: number }, j: number): Float64Array {
  return Float64Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + j]);
}

const stepOf = (steps: PlanStep[], name: string): PlanStep | undefined => steps.find((s) => s.columns.includes(name) && s.step !== "standard scaling");
const auto = (extra: PreprocessOptions = {}): PreprocessOptions & { plan: "auto" } => ({ plan: "auto", ...extra });

/** The skewness of each column after the pipeline the plan chose (no scaling), on the training rows. */
async function skewAfter(ds: Dataset, features: string[], options: PreprocessOptions): Promise<Record<string, number>> {
  const p = await fitPipeline(ds, features, { ...options, scale: "none" });
  const X = p.transform(ds);
  return Object.fromEntries(features.map((f) => [f, skewness(column(X, p.featureNames.indexOf(f)))]));
}

describe("the auto plan treats each side of skew with a transform that reduces it", () => {
  const n = 3000;
  const u = uniform(7);
  // A long tail of small values: a score out of 100 that most customers nearly max out.
  const score = Array.from({ length: n }, () => 100 + 10 * Math.log(u()));
  // Tenure in months, 12 for most customers (as the credit-card table's TENURE).
  const tenure = Array.from({ length: n }, () => (u() < 0.85 ? 12 : 6 + Math.floor(6 * u())));
  // A long tail of large values, no negatives: spend.
  const spend = Array.from({ length: n }, () => Math.exp(3 + 1.2 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())));
  // Right-skewed but tiny values: log1p(x) ≈ x leaves the skew as it was.
  const rate = Array.from({ length: n }, () => 0.001 * -Math.log(u()));
  // 999 ("never contacted") in 96 % of rows, as the bank table's pdays: nothing monotone helps.
  const pdays = Array.from({ length: n }, () => (u() < 0.96 ? 999 : Math.floor(27 * u())));
  const features = ["score", "tenure", "spend", "rate", "pdays"];
  const ds = dataset({ score, tenure, spend, rate, pdays }, features);
  const plan = planPreprocessing(ds, features, auto());

  it("gives left-skewed columns Yeo-Johnson, never log1p, and says the tail is of small values", async () => {
    for (const name of ["score", "tenure"]) {
      expect(skewness(ds.columns.find((c) => c.name === name)!.values as Float64Array)).toBeLessThan(-1);
      expect(plan.options.log1p).not.toContain(name);
      expect(plan.options.power).toContain(name);
      const step = stepOf(plan.steps, name)!;
      expect(step.step).toBe("yeo-johnson");
      expect(step.reason).toMatch(/^skewness −\d+\.\d\d \(a long tail of small values\): a log would lengthen that tail; a Yeo-Johnson power transform/);
      expect(step.reason).not.toMatch(/compresses/);
    }
  });

  it("reduces |skewness| of every column it transforms, on the training data, as its reason says", async () => {
    const before = Object.fromEntries(features.map((f) => [f, skewness(ds.columns.find((c) => c.name === f)!.values as Float64Array)]));
    const after = await skewAfter(ds, features, plan.options);
    for (const name of [...plan.options.log1p!, ...plan.options.power!]) {
      expect(Math.abs(after[name]), name).toBeLessThan(Math.abs(before[name]));
      // The plan's "skewness after" is what the fitted pipeline gives (to the printed 2 decimals).
      const printed = Number(stepOf(plan.steps, name)!.reason.match(/skewness after: (−?\d+\.\d\d)/)![1].replace("−", "-"));
      expect(Math.abs(printed - after[name]), name).toBeLessThanOrEqual(0.006);
    }
    expect(plan.options.log1p).toEqual(["spend"]);
    expect(stepOf(plan.steps, "spend")!.reason).toMatch(/^skewness \d+\.\d\d and no negative values: log1p compresses the long tail of large values; skewness after/);
  });

  it("falls back to Yeo-Johnson when log1p would not reduce the skew, and says so", () => {
    const step = stepOf(plan.steps, "rate")!;
    expect(step.step).toBe("yeo-johnson");
    expect(step.reason).toMatch(/long tail of large values\); log1p would leave it at \d\.\d\d, so a Yeo-Johnson power transform instead/);
    const before = skewness(Float64Array.from(rate));
    const left = Number(step.reason.match(/leave it at (\d\.\d\d)/)![1]);
    expect(left).toBeGreaterThan(0.9 * before - 0.01);
  });

  it("says so when a log configured by hand makes a column's skew worse", () => {
    const plan = planPreprocessing(ds, features, { log1p: ["tenure", "spend"] });
    const step = plan.steps.find((s) => s.step === "log1p")!;
    const before = skewness(Float64Array.from(tenure));
    const after = skewness(Float64Array.from(tenure, Math.log1p));
    expect(Math.abs(after)).toBeGreaterThan(Math.abs(before));
    const f2 = (x: number) => x.toFixed(2).replace("-", "−");
    expect(step.reason).toBe(`as configured; it makes the skew worse for tenure (skewness ${f2(before)} → ${f2(after)}): for a long tail of small values use a Yeo-Johnson power transform (--power, or preprocessing.power) instead`);
  });

  it("leaves a column no transform helps as it is, and says why", () => {
    expect(plan.options.power).not.toContain("pdays");
    expect(plan.options.log1p).not.toContain("pdays");
    const step = stepOf(plan.steps, "pdays")!;
    expect(step.step).toBe("skewed, left as is");
    expect(step.reason).toMatch(/pdays: skewness −\d+\.\d\d \(a long tail of small values\); Yeo-Johnson would leave it at −\d+\.\d\d; 9\d % of its values are 999/);
  });
});

describe("plan and fitted-step wording", () => {
  it("names imputation only for columns with missing values, in the plan and in the fitted steps", async () => {
    const ds = dataset(
      { a: [1, 2, null, 4, 5, 6], b: [3, 1, 4, 1, 5, 9], c: ["x", "y", "x", null, null, "y"], d: ["p", "q", "p", "q", "p", "q"] },
      ["a", "b"],
    );
    const features = ["a", "b", "c", "d"];
    const plan = planPreprocessing(ds, features, {});
    const impute = plan.steps.find((s) => s.step === "impute missing")!;
    expect(impute.columns).toEqual(["a", "c"]);
    expect(impute.reason).toMatch(/^missing values are replaced by the median for numbers, the most frequent category for categories: a \(1 row\), c \(2 rows\); the other 2 features have none/);
    const lines = (await fitPipeline(ds, features, plan.options)).describe();
    // median of 1, 2, 4, 5, 6 is 4
    expect(lines.find((l) => l.startsWith("a "))).toMatch(/^a \(numeric\): 1 missing value → median 4, standardise/);
    expect(lines.find((l) => l.startsWith("b "))).toMatch(/^b \(numeric\): standardise/);
    expect(lines.find((l) => l.startsWith("c "))).toMatch(/^c \(categorical\): 2 missing values → most frequent "x", one-hot into 2 columns/);
    expect(lines.find((l) => l.startsWith("d "))).toMatch(/^d \(categorical\): one-hot into 2 columns/);
    expect(lines.join("\n")).not.toMatch(/^b .*missing|^d .*missing/m);
    expect(lines.at(-1)).toBe("no value was missing in 2 of the 4 columns (b, d) when fitted; a value missing in rows scored later becomes the median or the most frequent category fitted here");
    // Model files written before the counts were recorded keep the old wording.
    const j = (await fitPipeline(ds, features, plan.options)).toJSON();
    delete j.numeric.missing;
    expect(FittedPipeline.fromJSON(j).describe()[1]).toMatch(/^b \(numeric\): missing → median 3\.5/);
  });

  it("names each one-hot column dropped (drop first, if_binary) and each rare category grouped", async () => {
    const n = 200;
    const plan_ = Array.from({ length: n }, (_, i) => (i === 0 ? "Tiny" : i % 3 === 0 ? "Basic" : i % 3 === 1 ? "Gold" : "Premium"));
    const member = Array.from({ length: n }, (_, i) => (i % 2 ? "yes" : "no"));
    const x = Array.from({ length: n }, (_, i) => i % 17);
    const ds = dataset({ x, plan: plan_, member }, ["x"]);
    const features = ["x", "plan", "member"];

    const first = planPreprocessing(ds, features, { oneHot: { drop: "first" } });
    expect(first.steps.find((s) => s.step === "one-hot")!.reason).toMatch(/drop first: plan=Basic dropped, member=no dropped \(member=yes kept\)$/);
    const fittedFirst = (await fitPipeline(ds, features, first.options)).describe().join("\n");
    expect(fittedFirst).toMatch(/plan \(categorical\): one-hot into 3 columns \(Gold, Premium, Tiny\); plan=Basic dropped \(drop first\)/);
    expect(fittedFirst).toMatch(/member \(categorical\): one-hot into 1 column \(yes\); member=no dropped \(drop first\): with two values, member=yes alone says it all/);

    const a = planPreprocessing(ds, features, auto());
    expect(a.steps.find((s) => s.step === "one column for two values")!.reason).toMatch(/member=no dropped \(member=yes kept\)$/);
    expect(a.steps.find((s) => s.step === "group rare categories")!.reason).toMatch(/plan \(1 of 4: "Tiny" 1 row\)$/);
    const fittedAuto = (await fitPipeline(ds, features, a.options)).describe().join("\n");
    expect(fittedAuto).toMatch(/plan \(categorical\): one-hot into 4 columns \(Basic, Gold, Premium, infrequent\); 1 rare category grouped as infrequent: Tiny/);
    expect(fittedAuto).toMatch(/member=no dropped \(drop if_binary\)/);
  });

  it("names each feature a filter drops, with the feature it duplicates or its variance", async () => {
    const a = [1, 2, 3, 4, 5, 6, 7, 8];
    const ds = dataset({ a, b: a.map((v) => 2 * v + 1), c: [5, 5, 5, 5, 5, 5, 5, 5], d: [1, 0, 1, 1, 0, 0, 1, 0] }, ["a", "b", "c", "d"]);
    const plan = planPreprocessing(ds, ["a", "b", "c", "d"], { varianceThreshold: 0, correlationThreshold: 0.95 });
    expect(plan.steps.map((s) => s.step)).toEqual(["standard scaling", "variance filter", "drop near-duplicates"]);
    expect(plan.steps[2].reason).toMatch(/^as configured: of two encoded features with \|correlation\| above 0\.95 the later is dropped \(the fitted steps name each one/);
    const p = await fitPipeline(ds, ["a", "b", "c", "d"], plan.options);
    const lines = p.describe();
    expect(lines).toContain("dropped (variance ≤ 0): c (variance 0)");
    expect(lines).toContain("dropped (|correlation| > 0.95 with an earlier feature): b (r = 1.000 with a)");
    // and after a round trip through the model file
    expect(FittedPipeline.fromJSON(JSON.parse(JSON.stringify(p.toJSON()))).describe()).toEqual(lines);
  });

  it("writes counts of one in the singular", async () => {
    const one = dataset({ a: [1], b: [null] }, ["a", "b"], "one.csv");
    await expect(fitPipeline(one, ["a", "b"])).rejects.toThrow(InputError);
    await expect(fitPipeline(one, ["a", "b"])).rejects.toThrow(/column "b" has no values in any of its 1 row;/);
    const ds = dataset({ a: [1, 2, 3, 4] }, ["a"]);
    await expect(fitPipeline(ds, ["a"], { pca: { nComponents: 2 } })).rejects.toThrow(/there is only 1 feature to project; ask for at most 1 component or/);
    const p = await fitPipeline(ds, ["a"], { pca: { nComponents: 1 } });
    expect(p.describe().at(-1)).toMatch(/^PCA: 1 component of 1 feature keep/);
    await expect(new SimpleImputer().fit([[1, 2], [3]])).rejects.toThrow(/row 1 has 1 value, expected 2 like row 0/);
    expect(() => new OneHotEncoder().fitSync([["a", "b"], ["c"]])).toThrow(/row 1 has 1 value, expected 2 like row 0/);
    const imputer = await new SimpleImputer().fit([[1, 2], [3, 4]]);
    expect(() => imputer.transform([[1]])).toThrow(/^X has 1 feature but the imputer was fitted with 2$/);
  });
});
