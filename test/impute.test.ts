import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { type ImputeStrategy, SimpleImputer, SimpleImputerModel } from "../src/preprocess/impute.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/impute.json", import.meta.url), "utf8")) as {
  X: (number | null)[][];
  test: (number | null)[][];
  cases: { strategy: ImputeStrategy; fillValue: number | null; addIndicator: boolean; statistics: (number | null)[]; transformed: number[][]; test: number[][] }[];
};

function close(actual: ArrayLike<number>, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected[i])));
}

describe("SimpleImputer equals scikit-learn's", () => {
  for (const c of fx.cases) {
    it(`${c.strategy}${c.addIndicator ? " with indicators" : ""}`, async () => {
      const m = await new SimpleImputer({ strategy: c.strategy, fillValue: c.fillValue ?? undefined, addIndicator: c.addIndicator }).fit(fx.X);
      // scikit-learn reports NaN for a column without values; it drops that column.
      expect(m.statistics.map((s) => (s === null ? null : s))).toHaveLength(c.statistics.length);
      c.statistics.forEach((s, j) => (s === null ? expect(m.statistics[j]).toBeNull() : expect(Math.abs((m.statistics[j] as number) - s)).toBeLessThan(1e-12)));
      close(m.transform(fx.X).data, c.transformed.flat());
      close(m.transform(fx.test).data, c.test.flat());
      close(SimpleImputerModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).transform(fx.test).data, c.test.flat());
    });
  }

  it("names its outputs, and rejects infinities and bad strategies", async () => {
    const m = await new SimpleImputer({ strategy: "median", addIndicator: true }).fit(fx.X);
    expect(m.getFeatureNamesOut(["a", "b", "c", "d"])).toEqual(["a", "b", "d", "a_missing", "b_missing", "c_missing", "d_missing"]);
    await expect(new SimpleImputer().fit([[1], [Infinity]])).rejects.toThrow(InputError);
    expect(() => new SimpleImputer({ strategy: "mode" as ImputeStrategy })).toThrow(InputError);
  });
});

describe("SimpleImputer mean near the largest double", () => {
  it("averages values near 1e308 without overflowing", async () => {
    const { SimpleImputer } = await import("../src/preprocess/impute.js");
    const X = { data: Float64Array.from([1.5e308, 1.7e308, NaN, 1.6e308]), rows: 4, cols: 1 };
    const m = await new SimpleImputer({ strategy: "mean" }).fit(X);
    expect(m.statistics[0]).toBeCloseTo(1.6e308, -300);
    expect(Number.isFinite(m.statistics[0]!)).toBe(true);
  });
});
