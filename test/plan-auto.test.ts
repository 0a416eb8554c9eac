/**
 * The automatic preprocessing plan: transforms against skew on each side, checked on the
 * training values.
 */
import { describe, expect, it } from "vitest";
import { dataset } from "./helpers/dataset.js";
import type { Dataset } from "../src/core/dataset.js";
import { fitPipeline, type PreprocessOptions } from "../src/preprocess/pipeline.js";
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

  it("leaves a column no transform helps as it is, and says why", () => {
    expect(plan.options.power).not.toContain("pdays");
    expect(plan.options.log1p).not.toContain("pdays");
    const step = stepOf(plan.steps, "pdays")!;
    expect(step.step).toBe("skewed, left as is");
    expect(step.reason).toMatch(/pdays: skewness −\d+\.\d\d \(a long tail of small values\); Yeo-Johnson would leave it at −\d+\.\d\d; 9\d % of its values are 999/);
  });
});
