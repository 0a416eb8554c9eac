/**
 * Every option of the SegmentationConfig is documented once, in the zod schema (`.describe`): its
 * JSON Schema (what /openapi.json serves and the dashboard's set-up form is generated from)
 * carries a description on every property, nested ones too, and describing changes no parsing.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig, SegmentationConfig } from "../src/pipeline/config.js";
import { openApiDocument } from "../src/server/openapi.js";

interface Schema {
  description?: string;
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
}

/** Every property's path and description, recursively (through a nullable object's anyOf branch, as the form does). */
function described(schema: Schema, prefix: string[] = []): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    const path = [...prefix, key];
    out.set(path.join("."), prop.description);
    const object = prop.properties ? prop : prop.anyOf?.find((s) => s.properties);
    if (object) for (const [k, d] of described(object, path)) out.set(k, d);
  }
  return out;
}

const fromZod = described(z.toJSONSchema(SegmentationConfig, { io: "input", unrepresentable: "any" }) as Schema);

describe("the configuration's descriptions", () => {
  it("reach every option, nested ones included", () => {
    // The walk goes through objects, defaults and nullable objects: these are the deepest fields the form shows.
    for (const p of ["k", "kRange.min", "kRange.max", "kChoice.resampleNInit", "preprocessing.outliers.k", "preprocessing.oneHot.drop", "preprocessing.pca.nComponents", "preprocessing.pca.whiten", "preprocessing.asOf"]) {
      expect(fromZod.has(p), p).toBe(true);
    }
    const missing = [...fromZod].filter(([, d]) => typeof d !== "string" || d.trim() === "").map(([p]) => p);
    expect(missing).toEqual([]);
    // One option, one description: no text copied onto two fields by mistake.
    const texts = [...fromZod.values()];
    expect(new Set(texts).size).toBe(texts.length);
  });

  it("are the top-level fields' own, one per field of the zod object", () => {
    const keys = Object.keys(SegmentationConfig.shape);
    expect([...fromZod.keys()].filter((p) => !p.includes("."))).toEqual(keys);
    for (const k of keys) expect(fromZod.get(k)).toBe((SegmentationConfig.shape as Record<string, z.ZodType>)[k].description);
    expect(fromZod.get("eps")).toMatch(/"auto"/);
    expect(fromZod.get("preprocessing.oneHot.minFrequency")).toMatch(/infrequent/);
  });

  it("are served by /openapi.json's SegmentationConfig", () => {
    const doc = openApiDocument("0.0.0") as { components: { schemas: { SegmentationConfig: Schema } } };
    const served = described(doc.components.schemas.SegmentationConfig);
    expect(served).toEqual(fromZod);
    expect([...served].filter(([, d]) => !d).map(([p]) => p)).toEqual([]);
    expect(served.get("kRange.min")).toBe("The smallest k tried.");
  });

  it("do not change what a configuration parses to, nor its messages", () => {
    expect(parseConfig({}).kRange).toEqual({ min: 2, max: 8 });
    expect(parseConfig({}).preprocessing.pca).toBeNull();
    expect(parseConfig({ kRange: { min: 3 } }).kRange).toEqual({ min: 3, max: 8 });
    expect(parseConfig({ preprocessing: { pca: { nComponents: 0.9 } } }).preprocessing.pca).toEqual({ nComponents: 0.9, whiten: false });
    expect(() => parseConfig({ kRange: { min: 5, max: 3 } })).toThrow("config.kRange: the smallest k must not exceed the largest");
    expect(() => parseConfig({ preprocessing: { pca: { nComponents: 2.5 } } })).toThrow("a whole number of components, or a share of variance below 1");
    expect(() => parseConfig({ preprocessing: { asOf: "1 May" } })).toThrow("write the reference date as YYYY-MM-DD");
    expect(() => parseConfig({ colour: "red" })).toThrow(/config/);
  });
});
