import { describe, expect, it } from "vitest";
import { MiniBatchKMeans, type MiniBatchKMeansModel } from "../src/cluster/minibatch-kmeans.js";
import { AbortError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { blobs, poolMaker } from "./helpers/workers.js";

/** The same fit: steps, centers, counts, inertia and labels equal to the bit. */
function same(a: MiniBatchKMeansModel, b: MiniBatchKMeansModel): void {
  expect(a.nSteps).toBe(b.nSteps);
  expect(Array.from(a.clusterCenters.data)).toEqual(Array.from(b.clusterCenters.data));
  expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
  expect(a.inertia).toBe(b.inertia);
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
}

const newPool = poolMaker();

describe("MiniBatchKMeans on worker threads", () => {
  // 60,000 × 8 = 480,000 values: above the size from which the fit uses workers.
  const X = blobs(60_000, 8, 5, 11, 1.5);
  const weights = Float64Array.from({ length: X.rows }, (_, i) => 0.25 + (i % 5) / 4);
  // Two of the 12 initial centers lie far from every row: they get no weight and are moved to
  // rows of a batch (reassignment), so that path runs on shared data too.
  const init: Matrix = { data: new Float64Array(12 * 8), rows: 12, cols: 8 };
  init.data.set(X.data.subarray(0, 10 * 8));
  init.data.fill(100, 10 * 8);
  const cases = [
    { name: "unweighted", options: { nClusters: 12, init, batchSize: 1000, maxIter: 2, maxNoImprovement: null, randomState: 4 }, sampleWeight: undefined },
    { name: "weighted, tol > 0", options: { nClusters: 12, init, batchSize: 777, maxIter: 2, tol: 1e-9, randomState: 5 }, sampleWeight: weights },
  ];

  for (const c of cases) {
    it(`${c.name}: centers, counts, labels, inertia and steps identical for 0, 1, 2 and 3 workers`, async () => {
      setParallelExecutor(null);
      let reassigned = 0;
      const ref = await new MiniBatchKMeans({ ...c.options, onProgress: (p) => (reassigned += p.reassigned) }).fit(X, { sampleWeight: c.sampleWeight });
      expect(ref.nSteps).toBeGreaterThan(10);
      for (const size of [2, 3, 4]) {
        const pool = newPool(size);
        setParallelExecutor(pool);
        const m = await new MiniBatchKMeans(c.options).fit(X, { sampleWeight: c.sampleWeight });
        // One run of the loop (the workers' share of every step) and one of the final labelling.
        expect(pool.runs, "the pool was used").toBe(2);
        same(m, ref);
        const alone = await new MiniBatchKMeans(c.options).fit(X, { sampleWeight: c.sampleWeight, workers: 0 });
        expect(pool.runs, "workers: 0 keeps the fit on this thread").toBe(2);
        same(alone, ref);
      }
      setParallelExecutor(null);
      // Centers were reassigned in this configuration (else the test would not cover it).
      expect(reassigned).toBeGreaterThan(0);
    });
  }

  it("an abort stops the workers' loop: the fit rejects and the pool serves the next fit", async () => {
    const pool = newPool(2);
    setParallelExecutor(pool);
    const ac = new AbortController();
    const fit = new MiniBatchKMeans({
      nClusters: 5, batchSize: 500, maxNoImprovement: null, randomState: 1, signal: ac.signal,
      onProgress: (p) => {
        if (p.step === 20) ac.abort();
      },
    }).fit(X);
    await expect(fit).rejects.toBeInstanceOf(AbortError);
    const after = await new MiniBatchKMeans({ nClusters: 5, batchSize: 500, maxIter: 1, randomState: 1 }).fit(X);
    setParallelExecutor(null);
    const ref = await new MiniBatchKMeans({ nClusters: 5, batchSize: 500, maxIter: 1, randomState: 1 }).fit(X);
    same(after, ref);
  });

  it("small inputs stay on the calling thread", async () => {
    const pool = newPool(2);
    setParallelExecutor(pool);
    await new MiniBatchKMeans({ nClusters: 4, maxIter: 2, randomState: 0 }).fit(blobs(5_000, 8, 4, 2, 1.5));
    expect(pool.runs).toBe(0);
    setParallelExecutor(null);
  });
});

describe("MiniBatchKMeans beyond 64 features (the kernel's generic loops)", () => {
  const d = 70;
  const X = blobs(3_000, d, 3, 8, 1);
  const nearest = (C: Float64Array, k: number, i: number): { c: number; s: number } => {
    let best = { c: 0, s: Infinity };
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (X.data[i * d + j] - C[c * d + j]) ** 2;
      if (s < best.s) best = { c, s };
    }
    return best;
  };

  it("one partialFit step moves each center to the mean of its rows; labels and inertia are the nearest centers'", () => {
    const k = 3;
    const init = X.data.slice(0, k * d);
    const m = new MiniBatchKMeans({ nClusters: k, init: { data: init, rows: k, cols: d }, reassignmentRatio: 0 }).partialFit(X);
    const sums = new Float64Array(k * d);
    const n = new Float64Array(k);
    for (let i = 0; i < X.rows; i++) {
      const { c } = nearest(init, k, i);
      n[c]++;
      for (let j = 0; j < d; j++) sums[c * d + j] += X.data[i * d + j];
    }
    for (let t = 0; t < k * d; t++) expect(m.clusterCenters.data[t]).toBeCloseTo(sums[t] / n[Math.floor(t / d)], 10);
    expect(Array.from(m.counts)).toEqual(Array.from(n));
    let inertia = 0;
    for (let i = 0; i < X.rows; i++) {
      const r = nearest(m.clusterCenters.data, k, i);
      expect(m.labels[i]).toBe(r.c);
      inertia += r.s;
    }
    expect(m.inertia).toBeCloseTo(inertia, 6);
  });

  it("fit: the final labels and inertia are those of the nearest final centers", async () => {
    const m = await new MiniBatchKMeans({ nClusters: 3, batchSize: 256, randomState: 2 }).fit(X);
    let inertia = 0;
    for (let i = 0; i < X.rows; i++) {
      const r = nearest(m.clusterCenters.data, 3, i);
      expect(m.labels[i]).toBe(r.c);
      inertia += r.s;
    }
    expect(m.inertia / inertia).toBeCloseTo(1, 12);
  });
});
