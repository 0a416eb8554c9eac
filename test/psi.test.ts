/**
 * The population stability index: hand-computed toy cases (the arithmetic is written out in
 * the comments) and numpy references (test/fixtures/make_psi_fixtures.py → psi.json) for the
 * quantile edges, the bin counts and the PSI.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  PSI_EPSILON, binCounts, categoryCounts, numericBinLabel, psi, psiReading, psiTerm, quantileEdges,
} from "../src/metrics/psi.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/psi.json", import.meta.url), "utf8")) as {
  epsilon: number;
  cases: { name: string; train: (number | null)[]; new: (number | null)[]; edges: number[]; trainCounts: number[]; newCounts: number[]; psi: number }[];
};
const nums = (xs: (number | null)[]): Float64Array => Float64Array.from(xs, (x) => (x === null ? NaN : x));

describe("PSI by hand", () => {
  it("three bins: shares .5/.3/.2 against .4/.3/.3", () => {
    // (0.4 − 0.5)·ln(0.4/0.5) + 0 + (0.3 − 0.2)·ln(0.3/0.2) = 0.1·0.2231436 + 0.1·0.4054651 = 0.0628609
    expect(psi([50, 30, 20], [40, 30, 30])).toBeCloseTo(0.0628609, 6);
    // The same shares from other counts give the same value; swapping the sides does too here (PSI is symmetric).
    expect(psi([5, 3, 2], [4, 3, 3])).toBeCloseTo(0.0628609, 6);
    expect(psi([40, 30, 30], [50, 30, 20])).toBeCloseTo(0.0628609, 6);
  });

  it("an empty training bin uses ε = 0.0001", () => {
    expect(PSI_EPSILON).toBe(1e-4);
    // (0.9 − 1)·ln(0.9) + (0.1 − 0.0001)·ln(0.1/0.0001) = 0.0105361 + 0.0999·6.9077553 = 0.7006208
    expect(psi([10, 0], [9, 1])).toBeCloseTo(0.7006208, 6);
    // A bin empty on both sides adds nothing.
    expect(psiTerm(0, 0)).toBe(0);
    expect(psi([10, 0, 0], [9, 1, 0])).toBeCloseTo(0.7006208, 6);
  });

  it("identical shares give 0; no new rows gives NaN; different bins are refused", () => {
    expect(psi([3, 1, 6], [30, 10, 60])).toBeCloseTo(0, 12);
    expect(psi([3, 1], [0, 0])).toBeNaN();
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(RangeError);
  });

  it("quantile edges and bins of a column with ties, by hand", () => {
    // Sorted 0,0,0,0,0,0,1,1,2,5; the q-quantile sits at position 9q: 0.9→0, 1.8→0, 2.7→0, 3.6→0, 4.5→0,
    // 5.4→0+0.4·(1−0)=0.4, 6.3→1, 7.2→1+0.2·(2−1)=1.2, 8.1→2+0.1·(5−2)=2.3; equal edges merge.
    const train = Float64Array.from([0, 1, 0, 0, 5, 0, 1, 0, 2, 0]);
    const edges = quantileEdges(train);
    expect(edges.length).toBe(5);
    [0, 0.4, 1, 1.2, 2.3].forEach((e, i) => expect(edges[i]).toBeCloseTo(e, 12));
    // Bins closed on the right: 0 → (−∞, 0], 1 → (0.4, 1], 2 → (1.2, 2.3], 5 → (2.3, ∞); then missing.
    expect(Array.from(binCounts(train, edges))).toEqual([6, 0, 2, 0, 1, 1, 0]);
    const next = Float64Array.from([0, 0, 0, 1, 1, 1, 2, 2, NaN, 9]);
    expect(Array.from(binCounts(next, edges))).toEqual([3, 0, 3, 0, 2, 1, 1]);
    // (0.3−0.6)·ln(0.5) + (0.3−0.2)·ln(1.5) + (0.2−0.1)·ln 2 + (0.1−0.0001)·ln(1000)
    // = 0.2079442 + 0.0405465 + 0.0693147 + 0.6900846 = 1.0078901
    expect(psi(binCounts(train, edges), binCounts(next, edges))).toBeCloseTo(1.0078901, 6);
    expect(numericBinLabel(edges, 0)).toBe("≤ 0");
    expect(numericBinLabel(edges, 2)).toBe("0.4 – 1");
    expect(numericBinLabel(edges, 5)).toBe("> 2.3");
    expect(numericBinLabel(edges, 6)).toBe("missing");
  });

  it("categories: one bin each, then other, then missing", () => {
    const categories = ["a", "b", "c"];
    const train = categoryCounts(["a", "a", "b", "a", "c", "b", "a", "c", "b", "a"], categories);
    expect(Array.from(train)).toEqual([5, 3, 2, 0, 0]);
    const next = categoryCounts(["a", "d", "b", null, "a", "d", "a", "d", "b", "a"], categories);
    expect(Array.from(next)).toEqual([4, 2, 0, 3, 1]);
    // 0.0223144 + 0.0405465 + (0.0001−0.2)·ln(0.0005) + (0.3−0.0001)·ln(3000) + (0.1−0.0001)·ln(1000)
    // = 0.0223144 + 0.0405465 + 1.5194202 + 2.4011097 + 0.6900846 = 4.6734754
    expect(psi(train, next)).toBeCloseTo(4.6734754, 5);
    expect(Array.from(categoryCounts(["", null, "z"], categories))).toEqual([0, 0, 0, 1, 2]);
  });

  it("the usual reading: < 0.1 stable, 0.1–0.25 watch, > 0.25 retrain", () => {
    expect(psiReading(0)).toBe("stable");
    expect(psiReading(0.1)).toBe("stable");
    expect(psiReading(0.1001)).toBe("watch");
    expect(psiReading(0.25)).toBe("watch");
    expect(psiReading(0.2501)).toBe("retrain");
  });
});

describe("PSI against numpy", () => {
  expect(fixture.epsilon).toBe(PSI_EPSILON);
  for (const c of fixture.cases) {
    it(c.name, () => {
      const train = nums(c.train);
      const next = nums(c.new);
      const edges = quantileEdges(train);
      expect(edges.length).toBe(c.edges.length);
      edges.forEach((e, i) => expect(e).toBeCloseTo(c.edges[i], 9));
      const ct = binCounts(train, edges);
      const cn = binCounts(next, edges);
      expect(Array.from(ct)).toEqual(c.trainCounts);
      expect(Array.from(cn)).toEqual(c.newCounts);
      expect(psi(ct, cn)).toBeCloseTo(c.psi, 10);
    });
  }
});
