import { afterAll, describe, expect, it } from "vitest";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { WorkerPool } from "../src/io/pool.js";
import { silhouetteSamples, silhouetteScore } from "../src/metrics/silhouette.js";

const pool = new WorkerPool(2);
afterAll(async () => {
  setParallelExecutor(null);
  await pool.close();
});

/** The textbook definition, one row at a time, for comparison. */
function naive(X: number[][], labels: number[]): number[] {
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, t) => s + (v - b[t]) ** 2, 0));
  return X.map((x, i) => {
    const by = new Map<number, number[]>();
    X.forEach((y, j) => {
      if (j !== i) by.set(labels[j], [...(by.get(labels[j]) ?? []), dist(x, y)]);
    });
    const own = by.get(labels[i]);
    if (!own) return 0;
    const a = own.reduce((s, v) => s + v, 0) / own.length;
    let b = Infinity;
    for (const [l, ds] of by) if (l !== labels[i]) b = Math.min(b, ds.reduce((s, v) => s + v, 0) / ds.length);
    return (b - a) / Math.max(a, b);
  });
}

describe("silhouette on worker threads", () => {
  const rng = new Random(5);
  const n = 2600; // above the parallel threshold, and not a multiple of the tile size
  const X = Array.from({ length: n }, (_, i) => [rng.normal(i % 3, 1), rng.normal((i % 5) / 2, 1), rng.normal(0, 1)]);
  const labels = Array.from({ length: n }, (_, i) => (i % 4) - 1); // -1, 0, 1, 2

  it("equals the single-threaded result and the textbook definition", () => {
    setParallelExecutor(null);
    const single = silhouetteSamples(X, labels);
    setParallelExecutor(pool);
    const before = pool.runs;
    const parallel = silhouetteSamples(X, labels);
    expect(pool.runs).toBe(before + 1);
    setParallelExecutor(null);
    for (let i = 0; i < n; i++) expect(Math.abs(parallel[i] - single[i])).toBeLessThan(1e-12);
    const ref = naive(X.slice(0, 300), labels.slice(0, 300));
    const small = silhouetteSamples(X.slice(0, 300), labels.slice(0, 300));
    for (let i = 0; i < 300; i++) expect(Math.abs(small[i] - ref[i])).toBeLessThan(1e-12);
  });

  it("samples rows reproducibly with sampleSize and randomState", () => {
    setParallelExecutor(pool);
    const a = silhouetteScore(X, labels, { sampleSize: 500, randomState: 1 });
    const b = silhouetteScore(X, labels, { sampleSize: 500, randomState: 1 });
    const c = silhouetteScore(X, labels, { sampleSize: 500, randomState: 2 });
    setParallelExecutor(null);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(Math.abs(a - silhouetteScore(X, labels))).toBeLessThan(0.05);
  });
});
