import { describe, expect, it } from "vitest";
import { KMeans } from "../src/cluster/kmeans.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { blobs, poolMaker } from "./helpers/workers.js";

const newPool = poolMaker();

describe("K-Means on worker threads", () => {
  // Big enough to be split across workers (n·k·d ≥ 4M, several chunks of 8192 rows).
  const X = blobs(40_000, 8, 16, 3);
  const weights = Float64Array.from({ length: X.rows }, (_, i) => 0.5 + (i % 7) / 7);

  for (const algorithm of ["lloyd", "elkan"] as const) {
    it(`${algorithm}: labels, centers, inertia and iterations identical for 0, 1, 2 and 3 workers`, async () => {
      const options = { nClusters: 16, nInit: 2, randomState: 9, algorithm, tol: 0, maxIter: 60 } as const;
      setParallelExecutor(null);
      const ref = await new KMeans(options).fit(X, { sampleWeight: weights });
      for (const size of [1, 2, 3]) {
        const pool = newPool(size);
        setParallelExecutor(pool);
        const m = await new KMeans(options).fit(X, { sampleWeight: weights });
        expect(pool.runs, "the pool was used").toBeGreaterThan(0);
        expect(Array.from(m.labels)).toEqual(Array.from(ref.labels));
        expect(Array.from(m.clusterCenters.data)).toEqual(Array.from(ref.clusterCenters.data));
        expect(m.inertia).toBe(ref.inertia);
        expect(m.nIter).toBe(ref.nIter);
      }
      setParallelExecutor(null);
    });
  }

  it("lloyd and elkan agree on this data", async () => {
    setParallelExecutor(null);
    const a = await new KMeans({ nClusters: 16, randomState: 4, algorithm: "lloyd" }).fit(X);
    const b = await new KMeans({ nClusters: 16, randomState: 4, algorithm: "elkan" }).fit(X);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.nIter).toBe(a.nIter);
    for (let i = 0; i < a.clusterCenters.data.length; i++) expect(Math.abs(b.clusterCenters.data[i] - a.clusterCenters.data[i])).toBeLessThan(1e-12);
  });

  it("small inputs stay on the calling thread", async () => {
    const pool = newPool(2);
    setParallelExecutor(pool);
    await new KMeans({ nClusters: 3, randomState: 1 }).fit(blobs(500, 2, 3, 1));
    expect(pool.runs).toBe(0);
    setParallelExecutor(null);
  });
});
