import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { PCA, PCAModel } from "../src/preprocess/pca.js";

interface Case {
  name: string;
  nComponents: number | null;
  whiten: boolean;
  components: number[][];
  explained_variance: number[];
  explained_variance_ratio: number[];
  singular_values: number[];
  mean: number[];
  transformed: number[][];
  inverse: number[][];
}
const fx = JSON.parse(readFileSync(new URL("./fixtures/pca.json", import.meta.url), "utf8")) as { X: number[][]; cases: Case[] };

function expectClose(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst, what).toBeLessThan(tol);
}

describe("PCA equals scikit-learn's (full SVD, svd_flip signs)", () => {
  for (const c of fx.cases) {
    it(c.name, async () => {
      const m = await new PCA({ nComponents: c.nComponents, whiten: c.whiten }).fit(fx.X);
      expect(m.nComponents).toBe(c.components.length);
      expectClose(m.mean, c.mean, 1e-12, "mean");
      expectClose(m.components.data, c.components.flat(), 1e-9, "components");
      expectClose(m.explainedVariance, c.explained_variance, 1e-9, "explainedVariance");
      expectClose(m.explainedVarianceRatio, c.explained_variance_ratio, 1e-9, "explainedVarianceRatio");
      expectClose(m.singularValues, c.singular_values, 1e-9, "singularValues");
      const T = m.transform(fx.X);
      expectClose(T.data, c.transformed.flat(), 1e-9, "transform");
      expectClose(m.inverseTransform(T).data, c.inverse.flat(), 1e-9, "inverseTransform");
      const back = PCAModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
      expect(Array.from(back.transform(fx.X).data)).toEqual(Array.from(T.data));
      expect(m.getFeatureNamesOut()[0]).toBe("pca0");
    });
  }

  it("rejects bad nComponents", async () => {
    expect(() => new PCA({ nComponents: 1.5 })).toThrow(InputError);
    await expect(new PCA({ nComponents: 9 }).fit(fx.X)).rejects.toThrow(/at most min\(rows, columns\) = 6/);
  });
});
