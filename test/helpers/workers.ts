/** Helpers of the worker-thread suites: seeded blobs in a plain Float64Array, and pools closed after the suite. */
import { afterAll } from "vitest";
import type { Matrix } from "../../src/core/matrix.js";
import { setParallelExecutor } from "../../src/core/parallel.js";
import { Random } from "../../src/core/random.js";
import { WorkerPool } from "../../src/io/pool.js";

/** n rows around `centers` random centers in [-8, 8]^d with normal noise of deviation sd (seeded). */
export function blobs(n: number, d: number, centers: number, seed: number, sd = 2): Matrix {
  const rng = new Random(seed);
  const mu = Array.from({ length: centers }, () => Array.from({ length: d }, () => rng.uniform(-8, 8)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = mu[rng.int(centers)];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal(0, sd);
  }
  return { data, rows: n, cols: d };
}

/**
 * A function making worker pools of a given size; call it at the top of a suite. Every pool
 * it made is closed, and the library's executor reset, after the suite.
 */
export function poolMaker(): (size: number) => WorkerPool {
  const pools: WorkerPool[] = [];
  afterAll(async () => {
    setParallelExecutor(null);
    await Promise.all(pools.map((p) => p.close()));
  });
  return (size) => {
    const pool = new WorkerPool(size);
    pools.push(pool);
    return pool;
  };
}
