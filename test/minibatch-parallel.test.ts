import { afterAll, describe, expect, it } from "vitest";
import { MiniBatchKMeans, type MiniBatchKMeansModel } from "../src/cluster/minibatch-kmeans.js";
import { AbortError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { WorkerPool } from "../src/io/pool.js";

/** n rows around `centers` random centers (seeded), in a plain (not shared) Float64Array. */
function blobs(n: number, d: number, centers: number, seed: number): Matrix {
  const rng = new Random(seed);
  const mu = Array.from({ length: centers }, () => Array.from({ length: d }, () => rng.uniform(-8, 8)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = mu[rng.int(centers)];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal(0, 1.5);
  }
  return { data, rows: n, cols: d };
}

function same(a: MiniBatchKMeansModel, b: MiniBatchKMeansModel): void {
  expect(a.nSteps).toBe(b.nSteps);
  expect(Array.from(a.clusterCenters.data)).toEqual(Array.from(b.clusterCenters.data));
  expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
  expect(a.inertia).toBe(b.inertia);
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
}

const pools: WorkerPool[] = [];
afterAll(async () => {
  setParallelExecutor(null);
  await Promise.all(pools.map((p) => p.close()));
});

describe("MiniBatchKMeans on worker threads", () => {
  // 60,000 × 8 = 480,000 values: above the size from which the fit uses workers.
  const X = blobs(60_000, 8, 5, 11);
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
        const pool = new WorkerPool(size);
        pools.push(pool);
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
    const pool = new WorkerPool(2);
    pools.push(pool);
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
    const pool = new WorkerPool(2);
    pools.push(pool);
    setParallelExecutor(pool);
    await new MiniBatchKMeans({ nClusters: 4, maxIter: 2, randomState: 0 }).fit(blobs(5_000, 8, 4, 2));
    expect(pool.runs).toBe(0);
    setParallelExecutor(null);
  });
});
