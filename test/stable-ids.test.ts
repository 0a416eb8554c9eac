import { describe, expect, it } from "vitest";
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
    expect(r.rule).toMatch(/only 0 % of this run's customers/);
    expect(r.ids).toEqual([3, 0, 6, 7]);
    expect(r.matches.map((m) => [m.previous, m.distance])).toEqual([[3, Math.SQRT2], [0, Math.SQRT2]]);
    expect(r.vanished).toEqual([{ id: 5, name: "Lost" }]);
  });

  it("says what to pass when neither rule can apply", () => {
    expect(() => matchSegments({ ...prev, assignments: new Map([["zz", 0]]) }, { k: 2, labels: [0, 1], ids: ["a", "b"] })).toThrow(/--previous old\.csv: only 0 % .* pass the previous model file/);
  });

  it("segmentCentres: means per segment, outliers left out, empty segments NaN", () => {
    const X = { data: Float64Array.from([1, 2, 3, 4, 100, 100, 5, 6]), rows: 4, cols: 2 };
    const C = segmentCentres(X, [0, 0, -1, 2], 3);
    expect(Array.from(C.data.subarray(0, 2))).toEqual([2, 3]);
    expect(Number.isNaN(C.data[2])).toBe(true);
    expect(Array.from(C.data.subarray(4))).toEqual([5, 6]);
  });
});
