/**
 * Hierarchical clustering: Segmenta against scipy's `linkage` (ward, average, complete on
 * 20,000 × 8), Ward on 100,000 × 8 with its peak memory (a child process: scipy would need
 * the n(n−1)/2 distances), and ml-hclust on 2,000 × 8. Same data for every peer, median of
 * `runs`; prints the ratios (Segmenta / peer: below 1 is faster) and the largest difference
 * of the merge heights from scipy's.
 *
 * The child process: `node --import tsx bench/hclust.ts --memory-child N`.
 */
import { spawnSync } from "node:child_process";
import { totalmem } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { agnes } from "ml-hclust";
import { AgglomerativeClustering, type Linkage } from "../src/cluster/agglomerative.js";
import { toArrays, type Matrix } from "../src/core/matrix.js";
import { installWorkerPool } from "../src/io/pool.js";
import { blobs } from "./kmeans.js";
import { hasSklearn, peakRssBytes, runPython, timeMedian } from "./peers.js";

const sec = (ms: number): string => `${(ms / 1000).toFixed(2).padStart(7)} s`;

/** The linkage kernels run on the library's worker pool (io/pool.ts), one worker per core: installs it, says how many. */
function workersNote(): string {
  return `${installWorkerPool().size} workers`;
}

async function fitZ(X: Matrix, linkage: Linkage): Promise<Float64Array> {
  return (await new AgglomerativeClustering({ linkage }).fit(X)).linkageMatrix.data;
}

/** Largest |Δ height| / max(1, height) between our linkage matrix and scipy's. */
function heightDiff(Z: Float64Array, ref: number[]): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(Z[i * 4 + 2] - ref[i]) / Math.max(1, Math.abs(ref[i])));
  return worst;
}

export async function benchHclust(quick: boolean, runs = 3): Promise<void> {
  const note = workersNote();
  const n = quick ? 3000 : 20_000;
  const X = blobs(n, 8, 16, 1);
  console.log(`\nHierarchical clustering ${n.toLocaleString("en")} × 8 against scipy's linkage (median of ${runs}; ${note})`);
  const scipy = hasSklearn();
  for (const [linkage, target] of [["ward", 0.5], ["average", 1], ["complete", 1]] as const) {
    let Z: Float64Array = new Float64Array(0);
    const ms = await timeMedian(runs, async () => {
      Z = await fitZ(X, linkage);
    });
    if (!scipy) {
      console.log(`  ${linkage.padEnd(8)} segmenta ${sec(ms)}   scipy: absent (apt-get install python3-scipy)`);
      continue;
    }
    const r = runPython(
      [
        "from scipy.cluster.hierarchy import linkage",
        "ts = []",
        `for _ in range(${runs}):`,
        "    t = time.perf_counter()",
        `    Z = linkage(X, ${JSON.stringify(linkage)})`,
        "    ts.append(time.perf_counter() - t)",
        "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'h': Z[:, 2].tolist()}))",
      ].join("\n"),
      X,
    ) as { ms: number; h: number[] };
    const ratio = ms / r.ms;
    console.log(
      `  ${linkage.padEnd(8)} segmenta ${sec(ms)}   scipy ${sec(r.ms)}   segmenta/scipy ${ratio.toFixed(3)} (target ≤ ${target}${ratio <= target ? ", met" : ", NOT met"})` +
        `   merge heights within ${heightDiff(Z, r.h).toExponential(1)} of scipy's`,
    );
  }

  // ml-hclust: O(n³) with dense matrices, so a small n.
  const m = quick ? 500 : 2000;
  const Y = blobs(m, 8, 16, 2);
  const rows = toArrays(Y);
  const ours = await timeMedian(runs, () => fitZ(Y, "ward"), 1);
  const ml = await timeMedian(runs, () => agnes(rows, { method: "ward2" }), 1);
  console.log(`\nWard on ${m.toLocaleString("en")} × 8 (median of ${runs}): segmenta ${sec(ours)}   ml-hclust (agnes, ward2) ${sec(ml)}   segmenta/ml-hclust ${(ours / ml).toFixed(4)}`);
  benchHclustMemory(quick ? 20_000 : 100_000);
}

/** Ward on n × 8 in a fresh process: time and peak memory. */
export function benchHclustMemory(n: number): void {
  const file = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, ["--import", "tsx", file, "--memory-child", String(n)], { encoding: "utf8" });
  const pairs = (n * (n - 1)) / 2;
  console.log(
    `\nWard on ${n.toLocaleString("en")} × 8, memory: ${child.stdout.trim() || child.stderr.trim()}\n` +
      `  scipy's linkage needs the condensed distance matrix, n(n−1)/2 = ${pairs.toExponential(2)} doubles = ${((pairs * 8) / 1e9).toFixed(1)} GB, ` +
      `and copies it (about ${((pairs * 16) / 1e9).toFixed(0)} GB in all)` +
      (pairs * 16 > totalmem() ? `: more than this machine's ${(totalmem() / 1e9).toFixed(0)} GB.` : "."),
  );
}

async function memoryChild(n: number): Promise<void> {
  const note = workersNote();
  const X = blobs(n, 8, 16, 1);
  const before = process.memoryUsage().rss;
  const t = performance.now();
  const model = await new AgglomerativeClustering({ linkage: "ward", nClusters: 4 }).fit(X);
  const ms = performance.now() - t;
  const peak = peakRssBytes();
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(
    `fit ${(ms / 1000).toFixed(1)} s on ${note} (top merge at ${model.linkageMatrix.data[(n - 2) * 4 + 2].toPrecision(6)}); ` +
      `data ${mb(X.data.byteLength)}; RSS before the fit ${mb(before)}; peak RSS ${mb(peak)} (target: under 1 GB${peak < 2 ** 30 ? ", met" : ", NOT met"})`,
  );
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf("--memory-child");
  if (i >= 0) await memoryChild(Number(process.argv[i + 1]));
  else {
    await benchHclust(process.argv.includes("--quick"));
    process.exit(0);
  }
}
