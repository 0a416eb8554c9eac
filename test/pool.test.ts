import { afterEach, describe, expect, it } from "vitest";
import { setParallelExecutor } from "../src/core/parallel.js";
import { KERNELS } from "../src/io/kernels.js";
import { WorkerPool } from "../src/io/pool.js";
import { clusterKernels } from "../src/cluster/kernels/index.js";
import { metricsKernels } from "../src/metrics/kernels/index.js";
import { neighborsKernels } from "../src/neighbors/kernels.js";
import { densityKernels } from "../src/cluster/density/kernels.js";
import { hdbscanKernels } from "../src/cluster/density/hdbscan-kernels.js";

describe("worker pool loading kernel modules", () => {
  let pool: WorkerPool | null = null;
  afterEach(async () => {
    setParallelExecutor(null);
    await pool?.close();
    pool = null;
  });

  it("the registry holds every folder's kernels under their own names", () => {
    for (const record of [clusterKernels, metricsKernels, neighborsKernels, densityKernels, hdbscanKernels] as Record<string, unknown>[]) {
      for (const [name, fn] of Object.entries(record)) expect(KERNELS[name]).toBe(fn);
    }
    expect(Object.keys(KERNELS)).toContain("kmeansStep");
    expect(Object.keys(KERNELS)).toContain("silhouette");
    expect(Object.keys(KERNELS)).toContain("hdbscanBoruvka");
  });

  it("workers import the kernel modules and run a registered kernel (async and blocking runs)", async () => {
    pool = new WorkerPool(2);
    // The inertia kernel of K-Means: per-chunk weighted squared distances to the assigned centers.
    const n = 10;
    const d = 2;
    const X = new Float64Array(new SharedArrayBuffer(n * d * 8));
    for (let i = 0; i < n * d; i++) X[i] = i;
    const labels = new Int32Array(new SharedArrayBuffer(n * 4));
    const centers = new Float64Array(new SharedArrayBuffer(2 * d * 8));
    centers.set([0, 0, 10, 10]);
    for (let i = 0; i < n; i++) labels[i] = i < 5 ? 0 : 1;
    const weights = new Float64Array(new SharedArrayBuffer(n * 8)).fill(1);
    const stats = new Float64Array(new SharedArrayBuffer(2 * 3 * 8));
    const empty = new Float64Array(new SharedArrayBuffer(8));
    const S = { X, weights, labels, upper: empty, lower: empty, centers, half: empty, shift: empty, sums: empty, wsum: empty, counts: empty, stats };
    const P = { n, d, k: 2, chunk: 5, mode: 0, accumulate: 0, maxShift: 0, maxShift2: 0, argMaxShift: 0 };
    await pool.run("inertia", S, P, 2);
    // Hand computed: rows 0..4 are (2i, 2i+1) against (0,0); rows 5..9 against (10,10).
    let a = 0;
    let b = 0;
    for (let i = 0; i < 5; i++) a += (2 * i) ** 2 + (2 * i + 1) ** 2;
    for (let i = 5; i < 10; i++) b += (2 * i - 10) ** 2 + (2 * i + 1 - 10) ** 2;
    expect(stats[2]).toBe(a);
    expect(stats[5]).toBe(b);
    stats.fill(0);
    pool.runSync("inertia", S, P, 2);
    expect(stats[2] + stats[5]).toBe(a + b);
    expect(pool.runs).toBe(2);
  });

  it("refuses a kernel nobody registered", async () => {
    pool = new WorkerPool(1);
    await expect(pool.run("noSuchKernel", {}, {}, 1)).rejects.toThrow(/unknown kernel noSuchKernel/);
  });
});
