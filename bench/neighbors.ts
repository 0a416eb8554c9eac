/**
 * Neighbour search (issue #14), Segmenta against scikit-learn on the same data in the same run,
 * median of `runs`:
 * - all 50 nearest neighbours of 200,000 × 2 blobs (5 centres, deviation 1):
 *   NearestNeighbors(n_neighbors=50).fit(X).kneighbors(X) (KD-tree, one thread);
 * - radius counts of 100,000 × 2 blobs (5 centres, deviation 0.8) at eps 0.2, DBSCAN's first
 *   pass: KDTree(X, leaf_size=30).query_radius(X, 0.2, count_only=True);
 * - every radius neighbourhood of the same rows (DBSCAN's second pass queries them one at a
 *   time): ours one row at a time, unsorted, against query_radius(X, 0.2) on all rows.
 * Segmenta is timed on the worker pool (when run.ts installed one) and on the calling thread alone.
 *
 * Run: `npm run bench -- neighbors` (or `npx tsx bench/neighbors.ts` alone).
 */
import { fileURLToPath } from "node:url";
import { getParallelExecutor, setParallelExecutor } from "../src/core/parallel.js";
import type { Matrix } from "../src/core/matrix.js";
import { NeighborIndex } from "../src/neighbors/index.js";
import { densityBlobs } from "./hdbscan.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

function fmt(ms: number): string {
  return `${ms.toFixed(0).padStart(6)} ms`;
}

async function timeBoth(runs: number, fn: () => Promise<unknown> | unknown): Promise<{ pool: number | null; single: number }> {
  const pool = getParallelExecutor();
  const onPool = pool ? await timeMedian(runs, fn, 1) : null;
  setParallelExecutor(null);
  try {
    return { pool: onPool, single: await timeMedian(runs, fn, pool ? 0 : 1) };
  } finally {
    setParallelExecutor(pool);
  }
}

function line(t: { pool: number | null; single: number }, sk: number | null): void {
  const ratio = (ms: number): string => (sk ? `  segmenta/scikit-learn ${(ms / sk).toFixed(2)}` : "");
  if (t.pool !== null) console.log(`  segmenta, ${getParallelExecutor()!.size} workers  ${fmt(t.pool)}${ratio(t.pool)}`);
  console.log(`  segmenta, 1 thread   ${fmt(t.single)}${ratio(t.single)}`);
}

export async function benchNeighbors(quick: boolean, runs = 3): Promise<void> {
  const sk = hasSklearn();
  // k nearest.
  {
    const n = quick ? 50_000 : 200_000;
    const k = 50;
    const X = densityBlobs(n, 2, 5, 14, 1);
    console.log(`\nNeighbours: all ${k} nearest of ${n.toLocaleString("en")} × 2 blobs (median of ${runs}, index built each run)`);
    let ours: { distances: Float64Array } | null = null;
    const t = await timeBoth(runs, async () => {
      ours = await NeighborIndex.build(X.data, n, 2).kNearestAll(k);
    });
    let skMs: number | null = null;
    if (sk) {
      const r = runPython([
        "from sklearn.neighbors import NearestNeighbors",
        "ts = []",
        `for _ in range(${runs}):`,
        `    t = time.perf_counter(); d, i = NearestNeighbors(n_neighbors=${k}).fit(X).kneighbors(X); ts.append(time.perf_counter() - t)`,
        "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'sum': float(d.sum())}))",
      ].join("\n"), X) as { ms: number; sum: number };
      skMs = r.ms;
      let sum = 0;
      for (const v of ours!.distances) sum += v;
      console.log(`  scikit-learn         ${fmt(r.ms)}  (sum of distances: ours ${sum.toFixed(6)}, scikit-learn ${r.sum.toFixed(6)})`);
    }
    line(t, skMs);
  }
  // Radius counts and neighbourhoods.
  {
    const n = quick ? 30_000 : 100_000;
    const eps = 0.2;
    const X: Matrix = densityBlobs(n, 2, 5, 15, 0.8);
    console.log(`\nNeighbours: radius counts of ${n.toLocaleString("en")} × 2 blobs (deviation 0.8), eps ${eps} (median of ${runs}, index built each run)`);
    let total = 0;
    const t = await timeBoth(runs, async () => {
      const c = await NeighborIndex.build(X.data, n, 2, { leafSize: 30 }).radiusCounts(eps);
      total = 0;
      for (const v of c) total += v;
    });
    let skCount: number | null = null;
    let skAll: number | null = null;
    if (sk) {
      const r = runPython([
        "from sklearn.neighbors import KDTree",
        "ts = []; ta = []",
        `for _ in range(${runs}):`,
        `    t = time.perf_counter(); c = KDTree(X, leaf_size=30).query_radius(X, ${eps}, count_only=True); ts.append(time.perf_counter() - t)`,
        `    t = time.perf_counter(); a = KDTree(X, leaf_size=30).query_radius(X, ${eps}); ta.append(time.perf_counter() - t)`,
        "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'all': sorted(ta)[len(ta) // 2] * 1000, 'total': int(c.sum())}))",
      ].join("\n"), X) as { ms: number; all: number; total: number };
      skCount = r.ms;
      skAll = r.all;
      console.log(`  scikit-learn         ${fmt(r.ms)}  (neighbours in all: ours ${total}, scikit-learn ${r.total}; mean ${(total / n).toFixed(0)} a row)`);
    }
    line(t, skCount);
    console.log(`  every neighbourhood, one row at a time (DBSCAN's second pass), unsorted:`);
    const buf = { data: new Int32Array(1024) };
    const one = await timeMedian(runs, () => {
      const index = NeighborIndex.build(X.data, n, 2, { leafSize: 30 });
      for (let i = 0; i < n; i++) index.radius(i, eps, buf, false);
    }, 1);
    if (skAll !== null) console.log(`  scikit-learn         ${fmt(skAll)}  (query_radius of all rows at once)`);
    console.log(`  segmenta, 1 thread   ${fmt(one)}${skAll ? `  segmenta/scikit-learn ${(one / skAll).toFixed(2)}` : ""}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { installWorkerPool } = await import("../src/io/pool.js");
  installWorkerPool();
  await benchNeighbors(process.argv.includes("--quick"));
  process.exit(0);
}
