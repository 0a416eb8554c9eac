import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { OneHotEncoder, OneHotEncoderModel, type OneHotEncoderOptions, OrdinalEncoder } from "../src/preprocess/encode.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/encoders.json", import.meta.url), "utf8")) as {
  X: string[][];
  test: string[][];
  onehot: { name: string; options: OneHotEncoderOptions; feature_names: string[]; transformed: number[][]; test: number[][] }[];
  ordinal: { transformed: number[][]; test: number[][] };
};

/** scikit-learn's names (plan_Basic, plan_infrequent_sklearn) in Segmenta's form (plan=Basic, plan=infrequent). */
const ours = (name: string): string => name.replace(/^([a-z]+)_/, "$1=").replace(/=infrequent_sklearn$/, "=infrequent");

describe("OneHotEncoder equals scikit-learn's", () => {
  for (const c of fx.onehot) {
    it(c.name, async () => {
      const m = await new OneHotEncoder(c.options).fit(fx.X);
      expect(m.getFeatureNamesOut(["plan", "paperless", "code"])).toEqual(c.feature_names.map(ours));
      expect(Array.from(m.transform(fx.X).data)).toEqual(c.transformed.flat());
      expect(Array.from(m.transform(fx.test).data)).toEqual(c.test.flat());
      const back = OneHotEncoderModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
      expect(Array.from(back.transform(fx.test).data)).toEqual(c.test.flat());
    });
  }

  it("rejects an unseen category with handleUnknown error, naming it", async () => {
    const m = await new OneHotEncoder().fit(fx.X);
    expect(() => m.transform(fx.test)).toThrow(/category "Gold" was not seen at fit time/);
    await expect(new OneHotEncoder().fit([["a"], [null]])).rejects.toThrow(InputError);
  });
});

describe("OrdinalEncoder equals scikit-learn's", () => {
  it("codes and unknown value", async () => {
    const m = await new OrdinalEncoder({ handleUnknown: "use_encoded_value", unknownValue: -1 }).fit(fx.X);
    expect(Array.from(m.transform(fx.X).data)).toEqual(fx.ordinal.transformed.flat());
    expect(Array.from(m.transform(fx.test).data)).toEqual(fx.ordinal.test.flat());
    const strict = await new OrdinalEncoder().fit(fx.X);
    expect(() => strict.transform(fx.test)).toThrow(InputError);
  });
});
