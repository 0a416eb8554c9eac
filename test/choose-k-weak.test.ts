/**
 * Weak structure in the choice of k (src/metrics/choose-k.ts): when the recommendation is 2,
 * the best k ≥ 3 by the same voting is reported as `alternative`, and a note says how strong
 * the 2-split is (weak by Kaufman & Rousseeuw's silhouette bands, 0.5 or less).
 */
import { describe, expect, it } from "vitest";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { chooseK, type KEvaluation, recommendBeyondTwo } from "../src/metrics/choose-k.js";

/** Two round Gaussian groups (sd 1) whose centres are `sep` apart along the first axis. */
function twoGroups(sep: number, seed: number, d = 2, per = 150): Matrix {
  const rng = new Random(seed);
  const n = 2 * per;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = (j === 0 ? (i % 2) * sep : 0) + rng.normal();
  return { data, rows: n, cols: d };
}

/** Four Gaussian groups (sd 1) at the corners of a square of side 10. */
function fourGroups(seed: number, per = 60): Matrix {
  const rng = new Random(seed);
  const corners = [[0, 0], [10, 0], [0, 10], [10, 10]];
  const data = new Float64Array(4 * per * 2);
  for (let i = 0; i < 4 * per; i++) for (let j = 0; j < 2; j++) data[i * 2 + j] = corners[i % 4][j] + rng.normal();
  return { data, rows: 4 * per, cols: 2 };
}

const OPTIONS = { kMin: 2, kMax: 8, gapReferences: 5, stabilityResamples: 5, resampleNInit: 3 } as const;
const TWO_NOTE = /^the evidence points to 2 segments/;

describe("a recommendation of 2 comes with the best k ≥ 3", () => {
  it("on a clear 2-split: the alternative is reported, and the note calls the split clear, not weak", async () => {
    const r = await chooseK(twoGroups(12, 1), { ...OPTIONS, randomState: 1 });
    expect(r.recommendation.k).toBe(2);
    const sil2 = r.evaluations[0].silhouette;
    expect(sil2).toBeGreaterThan(0.8);
    const alt = r.alternative!;
    expect(alt.k).toBeGreaterThanOrEqual(3);
    expect(alt.k).toBeLessThanOrEqual(8);
    // The same voting restricted to k ≥ 3.
    const again = recommendBeyondTwo(r.evaluations, { elbow: r.elbow.knee, gap: r.gap!.k, stabilityThreshold: 0.75 })!;
    expect(alt).toEqual({ k: again.k, reasons: again.reasons });
    expect(alt.reasons[0]).toMatch(new RegExp(`^k=${alt.k}: \\d of 5 methods`));
    const notes = r.notes.filter((n) => TWO_NOTE.test(n));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`a clear split (silhouette ${Number(sil2.toPrecision(2))})`);
    expect(notes[0]).toContain(`If you need more segments, k = ${alt.k} is the best of 3..8: `);
    expect(notes[0]).not.toMatch(/structure is weak/);
  });

  it("on a weak 2-split (silhouette 0.5 or less): the note says the structure is weak", async () => {
    const r = await chooseK(twoGroups(2.5, 2), { ...OPTIONS, randomState: 2 });
    expect(r.recommendation.k).toBe(2);
    const sil2 = r.evaluations[0].silhouette;
    expect(sil2).toBeLessThanOrEqual(0.5);
    expect(sil2).toBeGreaterThan(0.25);
    const alt = r.alternative!;
    expect(alt.k).toBeGreaterThanOrEqual(3);
    const note = r.notes.find((n) => TWO_NOTE.test(n))!;
    expect(note).toMatch(new RegExp(`^the evidence points to 2 segments: the structure is weak \\(silhouette ${Number(sil2.toPrecision(2))}\\)\\. If you need more segments, k = ${alt.k} is the best of 3\\.\\.8: `));
    // The alternative's evidence: its silhouette and its stability.
    const e = r.evaluations.find((x) => x.k === alt.k)!;
    expect(note).toContain(`silhouette ${Number(e.silhouette.toPrecision(2))}`);
    expect(note).toContain(`mean bootstrap Jaccard ${Number(e.stability!.toPrecision(2))}`);
  });

  it("on four groups: recommends 4, with no alternative and no note about 2 segments", async () => {
    const r = await chooseK(fourGroups(3), { ...OPTIONS, randomState: 3 });
    expect(r.recommendation.k).toBe(4);
    expect(r.alternative).toBeNull();
    expect(r.notes.some((n) => TWO_NOTE.test(n))).toBe(false);
  });

  it("no alternative when the range stops at 2", async () => {
    const r = await chooseK(twoGroups(12, 4), { ...OPTIONS, kMax: 2, randomState: 4 });
    expect(r.recommendation.k).toBe(2);
    expect(r.alternative).toBeNull();
  });
});

describe("recommendBeyondTwo", () => {
  const ev = (k: number, inertia: number, sil: number, db: number, ch: number, gap: number, stability: number): KEvaluation => ({
    k, inertia, nIter: 5, sizes: [], silhouette: sil, daviesBouldin: db, calinskiHarabasz: ch,
    logW: null, logWReference: null, gap, gapSe: 0.02, stability, stabilityMin: stability, clusterStability: null,
    stable: stability >= 0.75,
  });
  // k = 2 is best by every index. Among k ≥ 3: silhouette and Davies–Bouldin point to 3, Calinski–Harabasz
  // to 4; the inertia curve from k = 2 bends at 4 (Kneedle: differences 0, .006, .397, .212, 0); the gap
  // rule holds at 2 (0.5 ≥ 0.3 − 0.02), and from 3 on first at 4 (0.6 ≥ 0.55 − 0.02; not at 3: 0.3 < 0.6 − 0.02).
  const evaluations = [
    ev(2, 100, 0.6, 0.5, 500, 0.5, 0.95),
    ev(3, 80, 0.4, 0.8, 300, 0.3, 0.9),
    ev(4, 30, 0.35, 0.9, 350, 0.6, 0.6),
    ev(5, 25, 0.3, 1.0, 320, 0.55, 0.8),
    ev(6, 22, 0.25, 1.1, 310, 0.5, 0.8),
  ];

  it("re-reads the elbow from k = 2 and the gap rule from k = 3, and prefers a stable k", () => {
    const r = recommendBeyondTwo(evaluations, { elbow: 2, gap: 2, stabilityThreshold: 0.75 })!;
    expect(r.votes).toEqual({ silhouette: 3, daviesBouldin: 3, calinskiHarabasz: 4, elbow: 4, gap: 4 });
    // k = 4 has 3 votes but is not stable (0.6): the stable k = 3 with 2 votes is chosen.
    expect(r.k).toBe(3);
    const text = r.reasons.join("\n");
    expect(r.reasons[0]).toMatch(/^k=3: 2 of 5 methods point to it \(silhouette, Davies–Bouldin\), the most among stable k/);
    expect(text).toContain("the elbow of the inertia curve from k=2 on (Kneedle) is at k=4");
    expect(text).toContain("the gap statistic picks k=4 (smallest k ≥ 3 with Gap(k) ≥ Gap(k+1) − s(k+1))");
    expect(text).toMatch(/k=4 had 3 votes \(Calinski–Harabasz, elbow, gap statistic\) but is not stable/);
  });

  it("keeps an elbow and a gap that are already at 3 or more", () => {
    const r = recommendBeyondTwo(evaluations, { elbow: 5, gap: 5, stabilityThreshold: 0.75 })!;
    expect(r.votes.elbow).toBe(5);
    expect(r.votes.gap).toBe(5);
    // 2 votes each for 3 and 5, both stable: the more stable k = 3 wins.
    expect(r.k).toBe(3);
    expect(r.reasons[1]).toMatch(/^tie with k=5 \(2 votes each\), broken by stability/);
    expect(r.reasons.join("\n")).toContain("the elbow of the inertia curve (Kneedle) is at k=5");
  });

  it("is null when no k ≥ 3 was evaluated", () => {
    expect(recommendBeyondTwo(evaluations.slice(0, 1), { elbow: null })).toBeNull();
  });
});
