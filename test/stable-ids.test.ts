import { describe, expect, it } from "vitest";
import { type ColumnKind, datasetFromRecords } from "../src/core/dataset.js";
import { generateCustomers } from "../src/io/synthetic.js";
import { adjustedRandScore } from "../src/metrics/external.js";
import { buildModelFile, parseModelFile, predictWithModel, previousFromModel } from "../src/pipeline/model.js";
import { runSegmentation, type SegmentationResult } from "../src/pipeline/run.js";
import { hungarian, matchSegments, segmentCentres } from "../src/pipeline/stable.js";

/** The least total cost over every one-to-one assignment of rows to columns (brute force). */
function bruteForce(cost: number[], n: number, m: number): number {
  let best = Infinity;
  const used = new Array<boolean>(m).fill(false);
  const rec = (i: number, assigned: number, total: number) => {
    if (i === n) {
      if (assigned === Math.min(n, m)) best = Math.min(best, total);
      return;
    }
    // Row i left unassigned (only possible when rows outnumber columns).
    if (n - i > Math.min(n, m) - assigned) rec(i + 1, assigned, total);
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      rec(i + 1, assigned + 1, total + cost[i * m + j]);
      used[j] = false;
    }
  };
  rec(0, 0, 0);
  return best;
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe("hungarian", () => {
  it("solves a hand-built 3 × 3 case", () => {
    // The greedy choice (row 0 → column 0, cost 1) is wrong: the optimum is 0→1, 1→0, 2→2 (2 + 2 + 1 = 5).
    const cost = [1, 2, 9, 2, 9, 9, 9, 3, 1];
    expect(Array.from(hungarian(cost, 3, 3))).toEqual([1, 0, 2]);
  });

  it("equals brute force over permutations on random square and rectangular matrices (k ≤ 6)", () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 6);
      const m = 1 + Math.floor(rnd() * 6);
      // Integer costs make ties common, real ones make them rare: both kinds.
      const cost = Array.from({ length: n * m }, () => (trial % 2 ? Math.floor(rnd() * 5) : rnd() * 100 - 20));
      const assign = hungarian(cost, n, m);
      const cols = Array.from(assign).filter((c) => c >= 0);
      expect(cols.length).toBe(Math.min(n, m));
      expect(new Set(cols).size).toBe(cols.length);
      const total = Array.from(assign).reduce((t, c, i) => t + (c >= 0 ? cost[i * m + c] : 0), 0);
      expect(total).toBeCloseTo(bruteForce(cost, n, m), 9);
    }
  });

  it("refuses a cost that is not finite", () => {
    expect(() => hungarian([1, NaN], 1, 2)).toThrow(/cost\[1\] is NaN/);
  });
});

describe("matchSegments on hand-made segmentations", () => {
  const prev = { source: "old.csv", segments: [{ id: 0, name: "Champions" }, { id: 3, name: "At Risk" }, { id: 5, name: "Lost" }] };

  it("customers decide: kept ids, fresh ids from max + 1, vanished listed", () => {
    // Previous: a,b,c in 0; d,e,f in 3; g,h in 5. New: segment 0 = d,e,f (was 3); segment 1 = a,b (was 0); segment 2 = g,h,i,j (h, g were 5 but i,j new: Jaccard 1 on common).
    const assignments = new Map([["a", 0], ["b", 0], ["c", 0], ["d", 3], ["e", 3], ["f", 3], ["g", 5], ["h", 5]]);
    const ids = ["d", "e", "f", "a", "b", "x", "g", "h", "i", "j"];
    const labels = [0, 0, 0, 1, 1, 3, 2, 2, 2, 2];
    const r = matchSegments({ ...prev, assignments }, { k: 4, labels, ids });
    expect(r.matchedBy).toBe("customers");
    expect(r.commonShare).toBeCloseTo(7 / 10, 12);
    expect(r.ids).toEqual([3, 0, 5, 6]);
    expect(r.matches).toEqual([
      { previous: 3, current: 0, name: "At Risk", jaccard: 1 },
      // c left: on the common customers Champions is {a, b}, as is the new segment 1.
      { previous: 0, current: 1, name: "Champions", jaccard: 1 },
      { previous: 5, current: 2, name: "Lost", jaccard: 1 },
    ]);
    expect(r.new).toEqual([{ current: 3, id: 6 }]);
    expect(r.vanished).toEqual([]);
  });

  it("a pair below the Jaccard threshold is undone: the previous segment vanishes and the new one is new", () => {
    const assignments = new Map([["a", 0], ["b", 0], ["c", 0], ["d", 3], ["e", 3], ["f", 3], ["g", 5], ["h", 5]]);
    // New segment 1 holds a (1 of Champions' 3) and g, h: Jaccard with Lost 2/3, with Champions 1/5.
    const ids = ["d", "e", "f", "a", "g", "h", "b", "c"];
    const labels = [0, 0, 0, 1, 1, 1, 2, 2];
    const r = matchSegments({ ...prev, assignments }, { k: 3, labels, ids });
    expect(r.ids).toEqual([3, 5, 0]);
    expect(r.matches.map((m) => m.jaccard)).toEqual([1, 2 / 3, 2 / 3]);
    // Champions split into a (now with Lost) and b, c: b, c keep Champions with Jaccard 2/3.
    const split = matchSegments({ ...prev, assignments }, { k: 2, labels: [0, 0, 0, 1, 1, 1, 1, 1], ids: ["d", "e", "f", "a", "b", "c", "g", "h"] });
    // Segment 1 = a,b,c,g,h: Jaccard 3/5 with Champions, 2/5 with Lost; Lost vanishes.
    expect(split.ids).toEqual([3, 0]);
    expect(split.vanished).toEqual([{ id: 5, name: "Lost" }]);
    const strict = matchSegments({ ...prev, assignments }, { k: 2, labels: [0, 0, 0, 1, 1, 1, 1, 1], ids: ["d", "e", "f", "a", "b", "c", "g", "h"] }, { minJaccard: 0.7 });
    expect(strict.ids).toEqual([3, 6]);
    expect(strict.vanished.map((v) => v.id)).toEqual([0, 5]);
  });

  it("centres decide when few customers are common: within half the distance to the nearest other previous centre", () => {
    const centres = { data: Float64Array.from([0, 0, 10, 0, 0, 10]), rows: 3, cols: 2 };
    // Half-distances: 0 → 5, 3 → 5, 5 → 5. New centres: near 3, near 0, far from all (7, 7), near 5 but beyond 5.
    const cur = { data: Float64Array.from([9, 1, 1, -1, 7, 7, 0, 16]), rows: 4, cols: 2 };
    const r = matchSegments({ ...prev, centres, assignments: new Map([["zz", 0]]) }, { k: 4, labels: [0, 1, 2, 3], ids: ["a", "b", "c", "d"], centres: cur });
    expect(r.matchedBy).toBe("centres");
    expect(r.rule).toMatch(/^segment centres decide \(only 0 % of this run's customers were assigned in old\.csv; shared customers decide from 50 %\): .* is reported beside\)$/);
    expect(r.ids).toEqual([3, 0, 6, 7]);
    expect(r.matches.map((m) => [m.previous, m.distance])).toEqual([[3, Math.SQRT2], [0, Math.SQRT2]]);
    expect(r.vanished).toEqual([{ id: 5, name: "Lost" }]);
  });

  it("says what to pass when neither rule can apply", () => {
    expect(() => matchSegments({ ...prev, assignments: new Map([["zz", 0]]) }, { k: 2, labels: [0, 1], ids: ["a", "b"] }))
      .toThrow(/--previous old\.csv: it gives no segment centres and only 0 % of this run's customers are in it .* pass the previous model file/);
  });

  it("prefer centres: they decide even when every customer is common (customers move between segments over time); the Jaccard is reported beside", () => {
    const centres = { data: Float64Array.from([0, 0, 10, 0, 0, 10]), rows: 3, cols: 2 };
    // Half of segment 0's customers moved to segment 3, which tripled: by customers (Jaccard 1/3) segment 3 would not match.
    const assignments = new Map([["a", 0], ["b", 0], ["c", 0], ["d", 0], ["e", 3], ["f", 5]]);
    const cur = { data: Float64Array.from([0.5, 0, 9.5, 0, 0, 10.5]), rows: 3, cols: 2 };
    const current = { k: 3, labels: [0, 0, 1, 1, 1, 2], ids: ["a", "b", "c", "d", "e", "f"], centres: cur };
    const r = matchSegments({ ...prev, centres, assignments }, current, { prefer: "centres" });
    expect(r.matchedBy).toBe("centres");
    expect(r.ids).toEqual([0, 3, 5]);
    expect(r.matches.map((m) => [m.previous, m.distance, m.jaccard])).toEqual([[0, 0.5, 2 / 4], [3, 0.5, 1 / 3], [5, 0.5, 1]]);
    // Customers first (the default): every customer is common, so they decide, and segment 3 (Jaccard 1/3) is new.
    const byCustomers = matchSegments({ ...prev, centres, assignments }, current);
    expect(byCustomers.matchedBy).toBe("customers");
    expect(byCustomers.rule).toMatch(/^shared customers decide \(they come first\): 100 %/);
    expect(byCustomers.ids).toEqual([0, 6, 5]);
    expect(byCustomers.vanished).toEqual([{ id: 3, name: "At Risk" }]);
  });

  it("segmentCentres: means per segment, outliers left out, empty segments NaN", () => {
    const X = { data: Float64Array.from([1, 2, 3, 4, 100, 100, 5, 6]), rows: 4, cols: 2 };
    const C = segmentCentres(X, [0, 0, -1, 2], 3);
    expect(Array.from(C.data.subarray(0, 2))).toEqual([2, 3]);
    expect(Number.isNaN(C.data[2])).toBe(true);
    expect(Array.from(C.data.subarray(4))).toEqual([5, 6]);
  });
});

describe("stable ids across runs (runSegmentation with a previous run)", () => {
  const table = generateCustomers({ customers: 1500, seed: 11 });
  const kinds: Record<string, ColumnKind> = { customer_id: "id", age: "numeric", tenure_months: "numeric", monthly_spend: "numeric", support_calls: "numeric", plan: "categorical" };
  const records = table.rows.map((r) => Object.fromEntries(table.columns.map((c, j) => [c, r[j]])));
  const config = { id: "customer_id", features: ["age", "tenure_months", "monthly_spend", "support_calls", "plan"], k: 4, seed: 1, nInit: 10 };
  const dataset = (rows: Record<string, unknown>[]) => datasetFromRecords(rows, kinds, "customers");
  /** Customer id → stable segment id. */
  const assigned = (r: SegmentationResult): Map<string, number> =>
    new Map(r.ids.map((id, i) => [id, r.labels[i] < 0 ? -1 : (r.segmentIds ?? [])[r.labels[i]] ?? r.labels[i]]));
  const previousOf = async () => {
    const data = dataset(records);
    const r0 = await runSegmentation(config, data);
    // Through the model file, as cluster --previous model.json reads it.
    const file = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(r0, data))), "model0.json");
    return { r0, fromModel: previousFromModel(file, "model0.json") };
  };
  /** A seeded permutation of 0..n−1. */
  const permutation = (n: number, seed: number) => {
    const rnd = lcg(seed);
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  };

  it("shuffled rows (and another seed): every customer keeps its segment id and name, by centres and by customers", async () => {
    const { r0, fromModel } = await previousOf();
    const before = assigned(r0);
    const shuffled = dataset(permutation(records.length, 3).map((i) => records[i]));
    for (const previous of [fromModel, { ...fromModel, source: "segments0.csv", centres: null, transform: null, assignments: before }]) {
      const r1 = await runSegmentation({ ...config, seed: 99 }, shuffled, { previous });
      // The precondition: K-Means finds the same partition (ARI 1); only its numbering may differ.
      const row = new Map(r1.ids.map((id, i) => [id, r1.labels[i]]));
      expect(adjustedRandScore(r0.labels, r0.ids.map((id) => row.get(id)!))).toBe(1);
      expect(r1.stable!.matchedBy).toBe(previous.assignments ? "customers" : "centres");
      expect(r1.stable!.new).toEqual([]);
      expect(r1.stable!.vanished).toEqual([]);
      const after = assigned(r1);
      for (const [id, s] of before) expect(after.get(id)).toBe(s);
      expect(r1.segments.map((s) => [s.segment, s.name])).toEqual(r0.segments.map((s) => [s.segment, s.name]));
    }
  });

  it("perturbed data (small noise on every number): the same ids, names, and nearly every customer's id", async () => {
    const { r0, fromModel } = await previousOf();
    const rnd = lcg(5);
    const noisy = records.map((r) => ({
      ...r,
      age: (r.age as number) + (rnd() - 0.5),
      tenure_months: (r.tenure_months as number) * (1 + 0.02 * (rnd() - 0.5)),
      monthly_spend: (r.monthly_spend as number) * (1 + 0.02 * (rnd() - 0.5)),
    }));
    const r1 = await runSegmentation({ ...config, seed: 5 }, dataset(noisy), { previous: fromModel });
    expect(r1.stable!.matchedBy).toBe("centres");
    expect(r1.segmentIds).toEqual([0, 1, 2, 3]);
    expect(r1.segments.map((s) => s.name)).toEqual(r0.segments.map((s) => s.name));
    const before = assigned(r0);
    const after = assigned(r1);
    const same = [...before].filter(([id, s]) => after.get(id) === s).length;
    expect(same / before.size).toBeGreaterThan(0.97);
  });

  it("a bootstrap resample keeps every id whose segment is still there (segment-level Jaccard ≥ 0.75)", async () => {
    const { r0, fromModel } = await previousOf();
    const before = assigned(r0);
    let checked = 0;
    for (const seed of [21, 22, 23]) {
      const rnd = lcg(seed);
      const sample = records.map(() => records[Math.floor(rnd() * records.length)]);
      for (const previous of [fromModel, { ...fromModel, centres: null, transform: null, assignments: before }]) {
        const r1 = await runSegmentation({ ...config, seed }, dataset(sample), { previous });
        const after = assigned(r1);
        const customers = [...new Set(sample.map((r) => String(r.customer_id)))];
        // For each previous segment, the new segment sharing most of its customers (Jaccard on the resampled customers).
        for (const p of r0.segmentIds ?? [0, 1, 2, 3]) {
          const P = new Set(customers.filter((id) => before.get(id) === p));
          let best = { id: -1, jaccard: 0 };
          for (const c of new Set(after.values())) {
            const C = customers.filter((id) => after.get(id) === c);
            const inter = C.filter((id) => P.has(id)).length;
            const j = inter / (P.size + C.length - inter);
            if (j > best.jaccard) best = { id: c, jaccard: j };
          }
          if (best.jaccard >= 0.75) {
            checked++;
            expect(best.id, `seed ${seed}, segment ${p} (${previous.assignments ? "customers" : "centres"}): Jaccard ${best.jaccard}`).toBe(p);
          }
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it("a segment that is gone is listed as vanished, a new one gets the next id and a name of its own", async () => {
    const { r0, fromModel } = await previousOf();
    // Without the customers of segment 1 and with k = 4 again: one segment is new.
    const before = assigned(r0);
    const kept = records.filter((r) => before.get(String(r.customer_id)) !== 1);
    const r1 = await runSegmentation({ ...config, seed: 3 }, dataset(kept), { previous: fromModel });
    expect(r1.stable!.vanished.map((v) => v.id)).toContain(1);
    expect(r1.stable!.new.length).toBeGreaterThanOrEqual(1);
    expect(r1.stable!.new[0].id).toBe(4);
    // Ids in increasing order along segments; labels index segments; the outputs' numbers are the ids.
    expect(r1.segmentIds).toEqual([...r1.segmentIds!].sort((a, b) => a - b));
    expect(r1.segments.map((s) => s.segment)).toEqual(r1.segmentIds);
    const names = r1.segments.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of r1.stable!.matches) expect(r1.segments.find((s) => s.segment === m.previous)!.name).toBe(m.name);
    // A new segment does not take the name of a vanished one: were segment 1 named like the new segment, the new one says "(new)".
    const newName = r1.stable!.new[0].name!;
    const renamed = { ...fromModel, segments: fromModel.segments.map((s) => (s.id === 1 ? { ...s, name: newName } : s)) };
    const r2 = await runSegmentation({ ...config, seed: 3 }, dataset(kept), { previous: renamed });
    expect(r2.stable!.new[0]).toEqual({ current: r1.stable!.new[0].current, id: 4, name: `${newName} (new)` });
    expect(r2.segments.find((s) => s.segment === 4)!.description.startsWith(`${newName} (new)`)).toBe(r1.segments.find((s) => s.segment === 4)!.description.startsWith(newName));
    // The model file records the ids and the lineage; predict gives the same rows the same ids.
    const file = buildModelFile(r1, dataset(kept));
    expect(file.segmentIds).toEqual(r1.segmentIds);
    expect(file.lineage!.previous).toEqual({ source: "model0.json", checksum: fromModel.checksum });
    const loaded = parseModelFile(JSON.parse(JSON.stringify(file)), "model1.json");
    const p = predictWithModel(loaded, dataset(kept));
    expect(Array.from(p.labels, (l) => p.segmentIds![l])).toEqual(Array.from(r1.labels, (l) => r1.segmentIds![l]));
  });
});
