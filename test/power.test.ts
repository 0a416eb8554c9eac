import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { boxCox, brentMinimize, PowerTransformer, PowerTransformerModel, yeoJohnson } from "../src/preprocess/power.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/power.json", import.meta.url), "utf8")) as {
  cases: { name: string; method: "yeo-johnson" | "box-cox"; standardize: boolean; X: number[][]; lambdas: number[]; transformed: number[][] }[];
};

describe("PowerTransformer equals scikit-learn's", () => {
  for (const c of fx.cases) {
    it(c.name, async () => {
      const m = await new PowerTransformer({ method: c.method, standardize: c.standardize }).fit(c.X);
      c.lambdas.forEach((l, j) => expect(Math.abs(m.lambdas[j] - l), `lambda ${j}: ${m.lambdas[j]} vs ${l}`).toBeLessThan(1e-6));
      // λ agrees to about 1e-8, so the transformed values agree to about that too.
      const T = m.transform(c.X).data;
      const expected = c.transformed.flat();
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(T[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      expect(worst).toBeLessThan(1e-6);
      expect(Array.from(PowerTransformerModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).transform(c.X).data)).toEqual(Array.from(T));
    });
  }

  it("transforms by hand, minimises a parabola, and rejects non-positive data for Box-Cox", async () => {
    expect(yeoJohnson(3, 1)).toBe(3);
    expect(yeoJohnson(-3, 1)).toBeCloseTo(-3, 12);
    expect(yeoJohnson(1, 0)).toBeCloseTo(Math.log(2), 14);
    expect(boxCox(Math.E, 0)).toBeCloseTo(1, 14);
    expect(boxCox(4, 0.5)).toBeCloseTo(2, 14);
    // A minimum is located to about sqrt(machine epsilon) relative: the function is flat there.
    expect(brentMinimize((x) => (x - 0.7) ** 2 + 1, -2, 2)).toBeCloseTo(0.7, 7);
    await expect(new PowerTransformer({ method: "box-cox" }).fit([[1], [0], [2]])).rejects.toThrow(InputError);
  });
});
