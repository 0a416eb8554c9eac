/**
 * k-means++ as scikit-learn's `_kmeans_plusplus` (greedy: 2 + ⌊ln k⌋ candidates drawn ∝
 * weight × squared distance to the nearest chosen center, the one that lowers the potential
 * most is kept), against a plain transcription of that algorithm using the same random
 * stream. With at most 8,192 rows the kernel's chunk sums add in row order, as here, so the
 * centers must be identical — for d = 8 (generated passes) and d = 70 (the generic loops).
 */
import { describe, expect, it } from "vitest";
import { KMeans, kmeansPlusPlus } from "../src/cluster/kmeans.js";
import type { Matrix } from "../src/core/matrix.js";
import { makeRandom, type Random } from "../src/core/random.js";
import { blobs, poolMaker } from "./helpers/workers.js";
import { setParallelExecutor } from "../src/core/parallel.js";

function reference(X: Matrix, k: number, w: Float64Array, rng: Random): Float64Array {
  const { rows: n, cols: d, data } = X;
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let f = 0; f < d; f++) s += (data[i * d + f] - data[j * d + f]) ** 2;
    return s;
  };
  const centers = new Float64Array(k * d);
  const first = rng.choice(w);
  centers.set(data.subarray(first * d, (first + 1) * d), 0);
  let closest = Array.from({ length: n }, (_, i) => dist(i, first));
  let pot = closest.reduce((a, v, i) => a + v * w[i], 0);
  const trials = 2 + Math.floor(Math.log(k));
  for (let c = 1; c < k; c++) {
    const cum: number[] = [];
    let acc = 0;
    for (let i = 0; i < n; i++) cum.push((acc += w[i] * closest[i]));
    const cand: number[] = [];
    for (let t = 0; t < trials; t++) {
      const r = rng.random() * pot;
      let id = cum.findIndex((v) => !(v < r));
      if (id < 0 || id > n - 1) id = n - 1;
      cand.push(id);
    }
    let best = -1;
    let bestPot = Infinity;
    let bestClosest: number[] = [];
    for (const id of cand) {
      const next = closest.map((v, i) => Math.min(v, dist(i, id)));
      const p = next.reduce((a, v, i) => a + v * w[i], 0);
      if (p < bestPot) [best, bestPot, bestClosest] = [id, p, next];
    }
    centers.set(data.subarray(best * d, (best + 1) * d), c * d);
    closest = bestClosest;
    pot = bestPot;
  }
  return centers;
}

const newPool = poolMaker();

describe("k-means++", () => {
  for (const d of [8, 70]) {
    it(`equals the transcription of scikit-learn's greedy k-means++ (d = ${d}, weighted)`, () => {
      const X = blobs(3_000, d, 6, d);
      const w = Float64Array.from({ length: X.rows }, (_, i) => 0.5 + (i % 4) / 2);
      for (const seed of [1, 2, 3]) {
        const ours = kmeansPlusPlus(X, 9, w, makeRandom(seed));
        expect(Array.from(ours)).toEqual(Array.from(reference(X, 9, w, makeRandom(seed))));
      }
    });
  }

  it("gives the same centers with and without workers on big data (chunk sums in order)", async () => {
    const X = blobs(80_000, 8, 8, 4); // n·k·d ≥ 4M: the fit uses the pool
    const options = { nClusters: 8, randomState: 7, maxIter: 1 };
    setParallelExecutor(null);
    const ref = await new KMeans(options).fit(X);
    const pool = newPool(2);
    setParallelExecutor(pool);
    const m = await new KMeans(options).fit(X);
    setParallelExecutor(null);
    expect(pool.runs).toBeGreaterThan(8);
    expect(Array.from(m.clusterCenters.data)).toEqual(Array.from(ref.clusterCenters.data));
    expect(m.inertia).toBe(ref.inertia);
  });
});
