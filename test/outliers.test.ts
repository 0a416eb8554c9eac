import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { OutlierHandler, OutlierModel } from "../src/preprocess/outliers.js";

// One column 1..9 with an outlier of 100: Q1 = 3, Q3 = 7 (numpy's linear percentiles of
// [1..9, 100]: positions 2.25 and 6.75 → 3.25 and 7.75).
const X = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100].map((v) => [v]);

describe("outlier handling", () => {
  it("IQR bounds by hand, and clipping", async () => {
    const m = await new OutlierHandler({ method: "iqr", action: "clip" }).fit(X);
    const iqr = 7.75 - 3.25;
    expect(m.lower[0]).toBeCloseTo(3.25 - 1.5 * iqr, 12);
    expect(m.upper[0]).toBeCloseTo(7.75 + 1.5 * iqr, 12);
    const T = Array.from(m.transform(X).data);
    expect(T.slice(0, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(T[9]).toBeCloseTo(14.5, 12);
  });

  it("z-score and MAD bounds by hand, flag and drop", async () => {
    const vals = X.map((r) => r[0]);
    const mean = vals.reduce((a, b) => a + b) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    const z = await new OutlierHandler({ method: "zscore", action: "flag", k: 2 }).fit(X);
    expect(z.upper[0]).toBeCloseTo(mean + 2 * sd, 12);
    const flagged = z.transform(X);
    expect(flagged.cols).toBe(2);
    expect(Array.from({ length: 10 }, (_, i) => flagged.data[i * 2 + 1])).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(z.getFeatureNamesOut(["spend"])).toEqual(["spend", "outlier"]);
    // median 5.5; |x − 5.5| sorted: 0.5 0.5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 94.5 → MAD 2.5
    const mad = await new OutlierHandler({ method: "mad", action: "drop" }).fit(X);
    expect(mad.upper[0]).toBeCloseTo(5.5 + (3.5 * 2.5) / 0.6745, 12);
    expect(Array.from(mad.outlierMask(X))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(mad.transform(X).data).toEqual(Float64Array.from(X.flat()));
    const back = OutlierModel.fromJSON(JSON.parse(JSON.stringify(mad.toJSON())));
    expect(Array.from(back.outlierMask(X))).toEqual(Array.from(mad.outlierMask(X)));
  });

  it("rejects bad options", () => {
    expect(() => new OutlierHandler({ method: "grubbs" as never })).toThrow(InputError);
    expect(() => new OutlierHandler({ action: "remove" as never })).toThrow(InputError);
    expect(() => new OutlierHandler({ k: 0 })).toThrow(InputError);
  });
});
