import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { CorrelationFilter, FeatureSelectionModel, VarianceThreshold } from "../src/preprocess/filters.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/filters.json", import.meta.url), "utf8")) as {
  X: number[][];
  cases: { threshold: number; support: boolean[] }[];
};

describe("feature filters", () => {
  for (const c of fx.cases) {
    it(`VarianceThreshold(${c.threshold}) keeps the columns scikit-learn keeps`, async () => {
      const m = await new VarianceThreshold({ threshold: c.threshold }).fit(fx.X);
      expect(m.support).toEqual(c.support);
      const T = m.transform(fx.X);
      expect(T.cols).toBe(c.support.filter(Boolean).length);
      expect(FeatureSelectionModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).support).toEqual(c.support);
    });
  }

  it("CorrelationFilter keeps the earlier of two near-duplicates, by hand", async () => {
    const X = Array.from({ length: 20 }, (_, i) => [i, 2 * i + (i % 2) * 0.01, (i * 7) % 5, -i]);
    const m = await new CorrelationFilter({ threshold: 0.95 }).fit(X);
    // columns 1 and 3 are (anti)correlated with column 0 beyond 0.95; column 2 is not.
    expect(m.support).toEqual([true, false, true, false]);
    expect(m.getFeatureNamesOut(["a", "b", "c", "d"])).toEqual(["a", "c"]);
    expect(m.reasons[0]).toMatch(/column 1: correlation 1\.000 with column 0/);
  });

  it("rejects bad thresholds and all-constant data", async () => {
    expect(() => new CorrelationFilter({ threshold: 0 })).toThrow(InputError);
    expect(() => new VarianceThreshold({ threshold: -1 })).toThrow(InputError);
    await expect(new VarianceThreshold().fit([[1, 2], [1, 2]])).rejects.toThrow(/no column has a variance above 0/);
  });
});
