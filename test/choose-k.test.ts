/**
 * The choice of k (src/metrics/choose-k.ts): Kneedle, the gap statistic, bootstrap stability,
 * the recommendation on Gaussian blobs with a known number of centres, Mall Customers (5
 * segments, when ../shared/data is there) and k = "auto" in runSegmentation. Small B keeps it fast.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { KMeans } from "../src/cluster/kmeans.js";
import { datasetFromRecords } from "../src/core/dataset.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import {
  chooseK, type ChooseKProgress, clusterwiseJaccard, type KEvaluation, kneedle, principalRotation, recommendK, symmetricEigen,
} from "../src/metrics/choose-k.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { WorkerPool } from "../src/io/pool.js";
import { silhouetteSamples, silhouetteSamplesOfMany, silhouetteScore, silhouetteScores } from "../src/metrics/silhouette.js";

/** k Gaussian blobs (sd 1) in d dimensions, centres at least `sep` apart in a box of ±box. */
function blobs(k: number, seed: number, d = 2, perCluster = 60, sep = 7, box = 12): { X: Matrix; truth: Int32Array } {
  const rng = new Random(seed);
  const centers: number[][] = [];
  while (centers.length < k) {
    const c = Array.from({ length: d }, () => rng.uniform(-box, box));
    if (centers.every((o) => Math.hypot(...o.map((v, j) => v - c[j])) >= sep)) centers.push(c);
  }
  const n = k * perCluster;
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    truth[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centers[c][j] + rng.normal();
  }
  return { X: { data, rows: n, cols: d }, truth };
}

function uniform(n: number, d: number, seed: number): Matrix {
  const rng = new Random(seed);
  return { data: Float64Array.from({ length: n * d }, () => rng.random()), rows: n, cols: d };
}

describe("kneedle", () => {
  it("finds the knee of a hand-made decreasing convex curve", () => {
    // Steep fall to k=4, then nearly flat.
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const y = [100, 62, 35, 14, 12, 10.5, 9.2, 8, 7, 6.2];
    const r = kneedle(x, y);
    expect(r.knee).toBe(4);
    expect(r.index).toBe(3);
    expect(r.xNormalized[0]).toBe(0);
    expect(r.xNormalized[9]).toBe(1);
    expect(r.yNormalized[0]).toBe(1);
    expect(r.yNormalized[9]).toBe(0);
    // The difference curve is 0 at both ends and largest at the knee.
    expect(r.difference[0]).toBeCloseTo(0, 12);
    expect(r.difference[9]).toBeCloseTo(0, 12);
    expect(Math.max(...r.difference)).toBe(r.difference[3]);
    expect(r.reason).toBeNull();
  });

  it("finds the knee of y = 1/x at the point nearest the corner", () => {
    const x = Array.from({ length: 20 }, (_, i) => 0.25 * (i + 1));
    const y = x.map((v) => 1 / v);
    // 1 − yn − xn = 1 − (1/x − 0.2)/3.8 − (x − 0.25)/4.75 is largest at x = √(4.75/3.8) ≈ 1.118,
    // between the grid points 1 and 1.25: the knee is whichever of the two is higher on it.
    const r = kneedle(x, y);
    expect([1, 1.25]).toContain(r.knee);
    const best = Math.max(...r.difference);
    const at = (v: number) => 1 - (1 / v - 0.2) / 3.8 - (v - 0.25) / 4.75;
    expect(best).toBeCloseTo(Math.max(at(1), at(1.25)), 12);
  });

  it("finds the knee of an increasing concave curve", () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7];
    const y = [0, 4, 7.5, 10, 10.3, 10.5, 10.6, 10.7];
    expect(kneedle(x, y, { curve: "concave", direction: "increasing" }).knee).toBe(3);
  });

  it("reports no knee on a straight line, a flat curve, a curve bent the other way, or too few points", () => {
    const x = [1, 2, 3, 4, 5, 6];
    expect(kneedle(x, [10, 8, 6, 4, 2, 0])).toMatchObject({ knee: null, index: -1 });
    expect(kneedle(x, [10, 8, 6, 4, 2, 0]).reason).toMatch(/straight line/);
    expect(kneedle(x, [3, 3, 3, 3, 3, 3]).reason).toMatch(/flat/);
    // Concave decreasing read as convex decreasing: the curve lies above its chord.
    expect(kneedle(x, [10, 9.8, 9.4, 8.5, 6.5, 0]).knee).toBeNull();
    expect(kneedle([1, 2], [2, 1]).reason).toMatch(/at least 3 points/);
    expect(() => kneedle([1, 3, 2], [3, 2, 1])).toThrow(/strictly increasing/);
  });
});

describe("principal components for the gap statistic's reference box", () => {
  it("symmetricEigen diagonalises a symmetric matrix: A·v = λ·v with orthonormal vectors", () => {
    const d = 5;
    const rng = new Random(3);
    const M = Float64Array.from({ length: d * d }, () => rng.normal());
    const A = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let t = 0; t < d; t++) A[i * d + j] += M[t * d + i] * M[t * d + j];
    const { values, vectors } = symmetricEigen(A, d);
    for (let c = 0; c < d; c++) {
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += A[i * d + j] * vectors[j * d + c];
        expect(av).toBeCloseTo(values[c] * vectors[i * d + c], 9);
      }
      for (let c2 = 0; c2 < d; c2++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += vectors[i * d + c] * vectors[i * d + c2];
        expect(dot).toBeCloseTo(c === c2 ? 1 : 0, 10);
      }
    }
  });

  it("principalRotation decorrelates the columns and keeps the total sum of squares", () => {
    const rng = new Random(5);
    const n = 400;
    const data = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const a = rng.normal(0, 3);
      data[i * 2] = a + rng.normal(0, 0.5);
      data[i * 2 + 1] = 2 * a + rng.normal(0, 0.5) + 10;
    }
    const P = principalRotation({ data, rows: n, cols: 2 });
    let cov = 0;
    let ssP = 0;
    let ssX = 0;
    const mx = [0, 1].map((j) => Array.from({ length: n }, (_, i) => data[i * 2 + j]).reduce((s, v) => s + v, 0) / n);
    for (let i = 0; i < n; i++) {
      cov += P.data[i * 2] * P.data[i * 2 + 1];
      ssP += P.data[i * 2] ** 2 + P.data[i * 2 + 1] ** 2;
      ssX += (data[i * 2] - mx[0]) ** 2 + (data[i * 2 + 1] - mx[1]) ** 2;
    }
    expect(Math.abs(cov / n)).toBeLessThan(1e-8);
    expect(ssP).toBeCloseTo(ssX, 6);
  });
});

describe("recommendation on Gaussian blobs with a known number of centres", () => {
  const cases: [k: number, seed: number, d: number][] = [
    [2, 1, 2], [3, 2, 2], [4, 3, 3], [5, 4, 2], [6, 5, 3], [7, 6, 2], [8, 7, 2], [8, 8, 3],
  ];
  for (const [k, seed, d] of cases) {
    it(`finds k=${k} (seed ${seed}, ${d} dimensions)`, async () => {
      const { X } = blobs(k, seed, d);
      const r = await chooseK(X, { kMin: 2, kMax: 10, randomState: seed, gapReferences: 5, stabilityResamples: 5, resampleNInit: 3 });
      expect(r.recommendation.k, r.recommendation.reasons.join("\n")).toBe(k);
      expect(r.evaluations.map((e) => e.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(r.recommendation.votes.silhouette).toBe(k);
      expect(r.recommendation.reasons[0]).toMatch(new RegExp(`^k=${k}: \\d of 5 methods point to it`));
    });
  }
});

describe("gap statistic", () => {
  it("prefers k=1 on uniform noise", async () => {
    for (const [seed, d] of [[1, 2], [2, 3]]) {
      const r = await chooseK(uniform(300, d, seed), { kMin: 2, kMax: 6, randomState: seed, gapReferences: 10, stabilityResamples: 0 });
      expect(r.gap!.k).toBe(1);
      expect(r.recommendation.votes.gap).toBeNull();
      expect(r.recommendation.reasons.join("\n")).toMatch(/gap statistic prefers k=1/);
    }
  });

  it("finds the number of blobs, with s(k) = sd(k)·√(1 + 1/B) > 0 and Gap(k) largest near the truth", async () => {
    for (const [k, seed] of [[3, 11], [5, 12]]) {
      const { X } = blobs(k, seed, 2);
      const r = await chooseK(X, { kMin: 2, kMax: 8, randomState: seed, gapReferences: 10, stabilityResamples: 0 });
      expect(r.gap!.k).toBe(k);
      expect(r.kOne!.gap).not.toBeNull();
      for (const e of r.evaluations) {
        expect(e.gapSe!).toBeGreaterThan(0);
        expect(e.gap!).toBeCloseTo(e.logWReference! - e.logW!, 12);
        expect(e.logW!).toBeCloseTo(Math.log(e.inertia), 12);
      }
      // The gap jumps up to the true k.
      const gapAt = (kk: number) => r.evaluations.find((e) => e.k === kk)!.gap!;
      expect(gapAt(k)).toBeGreaterThan(gapAt(k - 1) + 0.2);
    }
  });
});

describe("stability (clusterwise bootstrap Jaccard)", () => {
  it("clusterwiseJaccard: identical partitions give 1, an undrawn cluster NaN, a split cluster its best half", () => {
    const orig = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2]);
    const idx = Int32Array.from([0, 1, 1, 2, 3, 4, 5, 6, 7]);
    const drawn = new Uint8Array(9);
    for (const i of idx) drawn[i] = 1;
    // Same grouping with other label numbers.
    const same = Int32Array.from([1, 1, 1, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(clusterwiseJaccard(orig, 3, idx, drawn, same, 2))).toEqual([1, 1, NaN]);
    // Cluster 1 split 2 + 2: best Jaccard 2/4.
    const split = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 2, 2]);
    const j = clusterwiseJaccard(orig, 3, idx, drawn, split, 3);
    expect(j[0]).toBe(1);
    expect(j[1]).toBe(0.5);
  });

  it("is near 1 for well-separated blobs at the true k and lower for uniform noise", async () => {
    const { X } = blobs(4, 21, 2);
    const b = await chooseK(X, { kMin: 2, kMax: 6, randomState: 21, gapReferences: 0, stabilityResamples: 10 });
    const at4 = b.evaluations.find((e) => e.k === 4)!;
    expect(at4.stability!).toBeGreaterThan(0.95);
    expect(at4.stabilityMin!).toBeGreaterThan(0.9);
    expect(at4.stable).toBe(true);
    expect(at4.clusterStability).toHaveLength(4);
    for (const seed of [1, 2]) {
      const u = await chooseK(uniform(300, 3, seed), { kMin: 2, kMax: 6, randomState: seed, gapReferences: 0, stabilityResamples: 10 });
      const stab = u.evaluations.map((e) => e.stability!);
      expect(Math.max(...stab)).toBeLessThan(0.92);
      expect(stab.reduce((s, v) => s + v, 0) / stab.length).toBeLessThan(0.82);
    }
  });
});

describe("recommendK", () => {
  const ev = (k: number, sil: number, db: number, ch: number, stability: number | null, stabilityMin = stability): KEvaluation => ({
    k, inertia: 100 / k, nIter: 5, sizes: [], silhouette: sil, daviesBouldin: db, calinskiHarabasz: ch,
    logW: null, logWReference: null, gap: null, gapSe: null, stability, stabilityMin, clusterStability: null,
    stable: stability === null ? null : stability >= 0.75 && stabilityMin! >= 0.5,
  });

  it("goes with the majority, and says when the methods disagree", () => {
    const r = recommendK([ev(2, 0.4, 0.9, 100, null), ev(3, 0.6, 0.5, 150, null), ev(4, 0.5, 0.7, 170, null)], { elbow: 3, gap: 4 });
    expect(r.k).toBe(3);
    expect(r.votes).toEqual({ silhouette: 3, daviesBouldin: 3, calinskiHarabasz: 4, elbow: 3, gap: 4 });
    expect(r.tally).toEqual([{ k: 3, votes: 3, by: ["silhouette", "daviesBouldin", "elbow"] }, { k: 4, votes: 2, by: ["calinskiHarabasz", "gap"] }]);
    expect(r.reasons[0]).toBe("k=3: 3 of 5 methods point to it (silhouette, Davies–Bouldin, elbow)");
    expect(r.reasons.at(-1)).toMatch(/^the methods disagree: k=3 .*; k=4 \(Calinski–Harabasz, gap statistic\)/);
  });

  it("passes over a better-voted k that is not stable, and says so", () => {
    const r = recommendK([ev(2, 0.4, 0.9, 100, 0.95), ev(3, 0.6, 0.5, 150, 0.6, 0.3), ev(4, 0.5, 0.7, 170, 0.9)], { elbow: 3, gap: 4 });
    expect(r.k).toBe(4);
    expect(r.reasons[0]).toMatch(/^k=4: 2 of 5 methods point to it .*the most among stable k/);
    expect(r.reasons.join("\n")).toMatch(/k=3 had 3 votes .* but is not stable: mean bootstrap Jaccard 0\.6, weakest segment 0\.3/);
  });

  it("keeps the votes when no voted k is stable, and warns", () => {
    const r = recommendK([ev(2, 0.4, 0.9, 100, 0.5), ev(3, 0.6, 0.5, 150, 0.6)], { elbow: null, gap: null });
    expect(r.k).toBe(3);
    expect(r.reasons.join("\n")).toMatch(/none of the k the methods point to is stable/);
    expect(r.reasons.join("\n")).toMatch(/no elbow/);
    expect(r.reasons.join("\n")).toMatch(/gap statistic rises across the whole range, so its rule picks no k/);
  });

  it("breaks ties by stability, then silhouette, then the smaller k", () => {
    const r = recommendK([ev(2, 0.5, 0.4, 100, 0.8), ev(3, 0.6, 0.5, 150, 0.9)], {});
    // k=2: Davies–Bouldin; k=3: silhouette, Calinski–Harabasz.
    expect(r.k).toBe(3);
    const t = recommendK([ev(2, 0.6, 0.4, 100, 0.9), ev(3, 0.5, 0.5, 150, 0.8)], { elbow: 3 });
    // 2 votes each (k=2: silhouette, DB; k=3: CH, elbow): k=2 is more stable.
    expect(t.k).toBe(2);
    expect(t.reasons[1]).toMatch(/^tie with k=3 \(2 votes each\), broken by stability/);
  });
});

describe("chooseK options, progress and reproducibility", () => {
  it("reports the share of the work done, never going back, within fits as well as between them", async () => {
    const { X } = blobs(3, 31, 2, 40);
    const seen: ChooseKProgress[] = [];
    const opts = { kMin: 2, kMax: 5, randomState: 7, gapReferences: 3, stabilityResamples: 2 };
    const a = await chooseK(X, { ...opts, progressInterval: 0, onProgress: (p) => seen.push(p) });
    const b = await chooseK(X, opts);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const total = seen[0].total;
    expect(seen.every((p) => p.total === total)).toBe(true);
    expect(seen[0].done).toBe(0);
    expect(seen.at(-1)!.done).toBe(total);
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThanOrEqual(seen[i - 1].done);
    expect(new Set(seen.map((p) => p.phase))).toEqual(new Set(["sweep", "gap", "stability"]));
    expect(seen[0].message).toBe("k=2: K-Means on the data (0%)");
    expect(seen.at(-1)!.message).toMatch(/^k=3 recommended \(100%\)$/);
    // Every fit is reported, each fit on the data iteration by iteration and the silhouette in
    // 64 parts: no step moves the bar by more than a few percent.
    for (const [phase, rounds] of [["gap", 3], ["stability", 2]] as const) {
      for (let k = 2; k <= 5; k++) {
        for (let r = 1; r <= rounds; r++) expect(seen.some((p) => p.phase === phase && p.k === k && p.round === r)).toBe(true);
      }
    }
    // The fits on the data report every iteration (10 initialisations each).
    expect(seen.filter((p) => p.message.startsWith("k=5: K-Means on the data")).length).toBeGreaterThan(20);
    expect(seen.some((p) => p.message.startsWith("silhouette of k=2..5 on all 120 rows"))).toBe(true);
    const steps = seen.slice(1).map((p, i) => (p.done - seen[i].done) / total);
    expect(Math.max(...steps)).toBeLessThan(0.1);
  });

  it("reports at most every progressInterval ms", async () => {
    const { X } = blobs(3, 32, 2, 40);
    const times: number[] = [];
    await chooseK(X, { kMin: 2, kMax: 5, randomState: 1, gapReferences: 3, stabilityResamples: 2, progressInterval: 1e9, onProgress: () => times.push(1) });
    // The first report and the last.
    expect(times).toHaveLength(2);
  });

  it("samples the silhouette, the gap statistic and stability above their thresholds, and says so", async () => {
    const { X } = blobs(3, 41, 2, 100);
    const r = await chooseK(X, { kMin: 2, kMax: 4, randomState: 1, silhouetteSampleSize: 150, maxRows: 120, gapReferences: 2, stabilityResamples: 2 });
    expect(r.silhouetteSample).toBe(150);
    expect(r.gap!.sample).toBe(120);
    expect(r.stability!.sample).toBe(120);
    expect(r.notes.join("\n")).toMatch(/silhouette computed on a random sample of 150 of the 300 rows/);
    expect(r.notes.join("\n")).toMatch(/gap statistic and stability computed on a random sample of 120 of the 300 rows/);
    expect(r.recommendation.k).toBe(3);
  });

  it("rejects a bad range", async () => {
    const { X } = blobs(2, 1, 2, 5);
    await expect(chooseK(X, { kMin: 1 })).rejects.toThrow(/kMin must be a whole number ≥ 2/);
    await expect(chooseK(X, { kMin: 4, kMax: 3 })).rejects.toThrow(/kMax must be a whole number ≥ 4/);
    await expect(chooseK(X, { kMax: 10 })).rejects.toThrow(/X has 10 rows; choosing k up to 10 needs more rows/);
  });
});

describe("k = auto in runSegmentation", () => {
  it("uses chooseK over kRange and keeps kSearch with the indices and the reasons", async () => {
    const { X } = blobs(4, 51, 2, 40);
    const records = Array.from({ length: X.rows }, (_, i) => ({ a: X.data[i * 2], b: X.data[i * 2 + 1] }));
    const ds = datasetFromRecords(records, { a: "numeric", b: "numeric" }, "blobs");
    const progress: string[] = [];
    const r = await runSegmentation(
      { k: "auto", kRange: { min: 2, max: 7 }, seed: 3, kChoice: { gapReferences: 3, stabilityResamples: 3 } }, ds,
      { onProgress: (m, f) => progress.push(`${m} ${f === undefined ? "" : Math.round(100 * f)}`) },
    );
    expect(r.k).toBe(4);
    expect(r.kSearch!.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(Object.keys(r.kSearch![0]).sort()).toEqual(
      ["calinskiHarabasz", "daviesBouldin", "gap", "gapSe", "inertia", "k", "silhouette", "stability", "stabilityMin"].sort(),
    );
    expect(r.kChoice!.recommendation.k).toBe(4);
    expect(r.kChoice!.recommendation.reasons.length).toBeGreaterThan(3);
    // The share done comes as a fraction, not in the words.
    expect(progress[0]).toBe("choosing k: k=2: K-Means on the data 0");
    expect(progress.some((m) => /^choosing k: k=4 recommended 100$/.test(m))).toBe(true);
    // The final model is the sweep's fit for that k (kept, not fitted again), which is the fit
    // KMeans gives with the same options and seed.
    expect(r.inertia).toBeCloseTo(r.kSearch!.find((s) => s.k === 4)!.inertia, 9);
    const fresh = await new KMeans({ nClusters: 4, randomState: 3, nInit: r.config.nInit, maxIter: r.config.maxIter, tol: r.config.tol }).fit(r.matrix);
    expect(r.inertia).toBeCloseTo(fresh.inertia, 9);
  });

  it("rejects a range whose smallest k exceeds its largest", async () => {
    const ds = datasetFromRecords([{ a: 1 }, { a: 2 }, { a: 3 }], { a: "numeric" }, "t");
    await expect(runSegmentation({ k: "auto", kRange: { min: 5, max: 3 } }, ds)).rejects.toThrow(/the smallest k must not exceed the largest/);
  });
});

const MALL = fileURLToPath(new URL("../../shared/data/Mall_Customers.csv", import.meta.url));
const haveMall = existsSync(MALL);
if (!haveMall) console.warn(`Mall Customers test skipped: ${MALL} does not exist (../shared/data lives beside the project, see DESIGN.md)`);

describe.skipIf(!haveMall)("Mall Customers (../shared/data)", () => {
  it('recommends 5 segments on "Annual Income (k$)" and "Spending Score (1-100)", standardised', async () => {
    const lines = readFileSync(MALL, "utf8").trim().split(/\r?\n/);
    const head = lines[0].split(",");
    const records = lines.slice(1).map((l) => Object.fromEntries(l.split(",").map((v, j) => [head[j], v])));
    const ds = datasetFromRecords(records, { "Annual Income (k$)": "numeric", "Spending Score (1-100)": "numeric" }, "Mall_Customers.csv");
    const r = await runSegmentation(
      { k: "auto", kRange: { min: 2, max: 10 }, features: ["Annual Income (k$)", "Spending Score (1-100)"], seed: 42 }, ds,
    );
    expect(r.plan.join(" ")).toMatch(/standard/i);
    expect(r.k, r.kChoice!.recommendation.reasons.join("\n")).toBe(5);
    const at5 = r.kSearch!.find((s) => s.k === 5)!;
    expect(at5.silhouette).toBeCloseTo(0.5547, 3);
    expect(r.kChoice!.recommendation.votes).toMatchObject({ silhouette: 5, daviesBouldin: 5, elbow: 5 });
    expect(at5.stability!).toBeGreaterThan(0.9);
  });
});

describe("the silhouette of several labellings in one pass (what chooseK uses for every k)", () => {
  const rng = new Random(9);
  const n = 2700; // above the parallel threshold; 66 tiles of 256 rows
  const X: Matrix = { data: Float64Array.from({ length: n * 3 }, (_, i) => rng.normal((i % 7) / 3, 1)), rows: n, cols: 3 };
  const labelings = [2, 3, 5, 9].map((m) => Int32Array.from({ length: n }, (_, i) => ((i * 7919) % 104729) % m));
  labelings.push(Int32Array.from({ length: n }, (_, i) => (i % 4) - 1)); // −1 is a label like any other
  const pool = new WorkerPool(2);
  afterAll(async () => {
    setParallelExecutor(null);
    await pool.close();
  });

  for (const parallel of [false, true]) {
    it(`equals one silhouette per labelling, on all rows and on the same sample (${parallel ? "2 workers" : "one thread"})`, () => {
      setParallelExecutor(parallel ? pool : null);
      try {
        const many = silhouetteSamplesOfMany(X, labelings);
        let parts = 0;
        const inParts = silhouetteSamplesOfMany(X, labelings, { onProgress: () => parts++ });
        expect(parts).toBe(64);
        labelings.forEach((labels, l) => {
          const one = silhouetteSamples(X, labels);
          for (let i = 0; i < n; i++) {
            expect(Math.abs(many[l][i] - one[i])).toBeLessThan(1e-12);
            expect(Math.abs(inParts[l][i] - one[i])).toBeLessThan(1e-12);
          }
        });
        const scores = silhouetteScores(X, labelings, { sampleSize: 1000, randomState: 4 });
        labelings.forEach((labels, l) => expect(Math.abs(scores[l] - silhouetteScore(X, labels, { sampleSize: 1000, randomState: 4 }))).toBeLessThan(1e-12));
      } finally {
        setParallelExecutor(null);
      }
    });
  }

  it("reports its progress in 64 parts, with the same result", () => {
    const parts: number[] = [];
    const scores = silhouetteScores(X, labelings, { onProgress: (f) => parts.push(f) });
    expect(parts).toHaveLength(64);
    expect(parts.at(-1)).toBe(1);
    for (let i = 1; i < parts.length; i++) expect(parts[i]).toBeGreaterThan(parts[i - 1]);
    labelings.forEach((labels, l) => expect(Math.abs(scores[l] - silhouetteScore(X, labels))).toBeLessThan(1e-12));
  });

  it("chooseK reports progress during a fit on the worker pool (by a timer), with the same result as without workers", async () => {
    const r = new Random(3);
    const big: Matrix = { data: Float64Array.from({ length: 20000 * 50 }, (_, i) => r.normal(((i / 50) | 0) % 3, 1)), rows: 20000, cols: 50 };
    const opts = { kMin: 4, kMax: 4, randomState: 2, gapReferences: 0, stabilityResamples: 0, silhouetteSampleSize: 500 };
    const seen: ChooseKProgress[] = [];
    setParallelExecutor(pool);
    let a;
    try {
      a = await chooseK(big, { ...opts, progressInterval: 50, onProgress: (p) => seen.push(p) });
    } finally {
      setParallelExecutor(null);
    }
    const during = seen.filter((p) => p.message.startsWith("k=4: K-Means on the data") && p.done > 0 && p.done < seen[0].total);
    expect(during.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThanOrEqual(seen[i - 1].done);
    const b = await chooseK(big, opts);
    expect(a.evaluations[0].inertia).toBe(b.evaluations[0].inertia);
  });

  it("names the labelling that cannot be scored", () => {
    expect(() => silhouetteScores(X, [labelings[0], new Int32Array(n)])).toThrow(/the number of labels of labelling 1 is 1; silhouette needs 2 <= labels/);
    expect(() => silhouetteScores(X, [labelings[0], new Int32Array(5)])).toThrow(/labelling 1 has 5 values but X has 2700 rows/);
  });
});
