import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { AffineScalerModel, MaxAbsScaler, MinMaxScaler, RobustScaler, percentile } from "../src/preprocess/scalers.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/scalers.json", import.meta.url), "utf8")) as {
  X: number[][];
  cases: { name: string; options: Record<string, unknown>; transformed: number[][] }[];
};

function make(name: string, options: Record<string, unknown>) {
  if (name.startsWith("minmax")) return new MinMaxScaler(options);
  if (name.startsWith("robust")) return new RobustScaler(options);
  return new MaxAbsScaler();
}

describe("scalers equal scikit-learn's", () => {
  for (const c of fx.cases) {
    it(c.name, async () => {
      const m = await make(c.name, c.options).fit(fx.X);
      const T = m.transform(fx.X);
      const expected = c.transformed.flat();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(T.data[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      expect(worst).toBeLessThan(1e-12);
      const back = m.inverseTransform(T).data;
      fx.X.flat().forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThan(1e-9 * Math.max(1, Math.abs(v))));
      expect(Array.from(AffineScalerModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).transform(fx.X).data)).toEqual(Array.from(T.data));
    });
  }

  it("maps a constant column to 0 (scale 1) and rejects bad ranges", async () => {
    const m = await new MinMaxScaler().fit([[3], [3]]);
    expect(Array.from(m.transform([[3]]).data)).toEqual([0]);
    expect(() => new MinMaxScaler({ featureRange: [1, 0] })).toThrow(InputError);
    expect(() => new RobustScaler({ quantileRange: [80, 20] })).toThrow(InputError);
  });
});

describe("percentiles between values near ±1.8e308", () => {
  // numpy's own interpolation overflows here (inf, -inf, -inf); the exact quartiles are ∓8.5e307 and the median 0.
  it("interpolate without overflowing", async () => {
    const sorted = Float64Array.from([-1.7e308, 1.7e308]);
    expect(percentile(sorted, 25) / 1e307).toBeCloseTo(-8.5, 12);
    expect(percentile(sorted, 75) / 1e307).toBeCloseTo(8.5, 12);
    const m = await new RobustScaler().fit([[-1.7e308], [1.7e308]]);
    expect(m.center[0]).toBe(0);
    expect(m.scale[0] / 1.7e308).toBeCloseTo(1, 12);
  });
});
