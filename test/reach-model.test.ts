/**
 * The OPTICS scoring rule (cluster/density/reach-model.ts): a new row joins the segment of
 * the first of its minSamples nearest training rows in a segment whose core distance reaches
 * it, else it is noise. Hand-computed cases, the JSON round trip, and damaged files.
 */
import { describe, expect, it } from "vitest";
import { ReachModel } from "../src/cluster/density/reach-model.js";
import { loadModel } from "../src/cluster/load.js";
import { OPTICS } from "../src/cluster/density/optics.js";

// Training rows on a line: segment 0 at 0, 1, 2 (core distance 1 each), segment 1 at 10, 10.5
// (core distance 0.5), a noise row at 5 and a row at 20 of segment 1 whose core distance is
// infinite (reaches nobody).
const X = { data: Float64Array.from([0, 1, 2, 10, 10.5, 5, 20]), rows: 7, cols: 1 };
const labels = Int32Array.from([0, 0, 0, 1, 1, -1, 1]);
const core = Float64Array.from([1, 1, 1, 0.5, 0.5, 3, Infinity]);

describe("ReachModel (OPTICS's predict)", () => {
  const m = ReachModel.fromFit(X, labels, core, 2, "euclidean");

  it("keeps the rows in segments only, with their core distances (infinite: reaches nobody)", () => {
    expect(m.rows.rows).toBe(6);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(m.coreDistances[5]).toBe(-Infinity);
    expect(m.nClusters).toBe(2);
  });

  it("scores by hand-computed reach", () => {
    const Y = [[0.4], [2.9], [3.5], [10.2], [11.2], [19.9], [5]];
    // 0.4: nearest 0 (0.4 ≤ 1) → 0. 2.9: nearest 2 (0.9 ≤ 1) → 0. 3.5: nearest 2 (1.5 > 1), next 1 (2.5 > 1) → noise.
    // 10.2: nearest 10 (0.2 ≤ 0.5) → 1. 11.2: nearest 10.5 (0.7 > 0.5), next 10 (1.2) → noise.
    // 19.9: nearest 20 reaches nobody, next 10.5 (9.4) → noise. 5: the noise row is not a candidate; 2 (3 > 1) → noise.
    expect(Array.from(m.predict(Y))).toEqual([0, 0, -1, 1, -1, -1, -1]);
  });

  it("round-trips through JSON and loadModel, and refuses damaged files by field", () => {
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    const back = loadModel(json) as ReachModel;
    expect(back).toBeInstanceOf(ReachModel);
    expect(Array.from(back.predict([[0.4], [3.5], [10.2]]))).toEqual([0, -1, 1]);
    expect(() => loadModel({ ...json, labels: [0, 0, 0, 1, 1, 7] })).toThrow(/labels\[5\] is 7/);
    expect(() => loadModel({ ...json, rows: json.rows.slice(1) })).toThrow(/labels has 6 values; expected one segment per row \(5\)/);
    expect(() => loadModel({ ...json, coreDistances: [1, 1, 1, 0.5, "x", -1] })).toThrow(/coreDistances\[4\] is "x"/);
    expect(() => loadModel({ ...json, metric: "chebyshev" })).toThrow(/metric is "chebyshev"/);
  });

  it("gives the training rows of an OPTICS fit their own segments when they are cores", async () => {
    const pts: number[][] = [];
    for (let i = 0; i < 40; i++) pts.push([i % 2 === 0 ? 0 + (i % 10) * 0.05 : 5 + (i % 10) * 0.05, (i % 7) * 0.05]);
    pts.push([20, 20]);
    const fit = await new OPTICS({ minSamples: 4, clusterMethod: "dbscan", eps: 1 }).fit(pts);
    const model = ReachModel.fromFit({ data: Float64Array.from(pts.flat()), rows: pts.length, cols: 2 }, fit.labels, fit.coreDistances, 4, "euclidean");
    expect(fit.nClusters).toBe(2);
    const again = model.predict(pts);
    for (let i = 0; i < pts.length; i++) if (fit.labels[i] >= 0) expect(again[i]).toBe(fit.labels[i]);
    expect(again[pts.length - 1]).toBe(-1);
  });
});
