/**
 * Checks the time constants of estimateAgglomerative (src/core/budget.ts): fits each linkage
 * on uniform random data on the calling thread (workers: 0) and prints the CPU time
 * (process.cpuUsage, so that other load on the machine counts little) beside the estimate,
 * and their ratio. A ratio far from 1 on a machine means the constants (or the `slowdown`
 * option) should change.
 *
 *   node --import tsx bench/agglomerative-estimate.ts [--quick]
 */
import { AgglomerativeClustering, type Linkage, linkageTuning } from "../src/cluster/agglomerative.js";
import { estimateAgglomerative } from "../src/core/budget.js";
import { Random } from "../src/core/random.js";

function uniform(n: number, d: number): { data: Float64Array; rows: number; cols: number } {
  const r = new Random(1);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = r.random() * 10;
  return { data, rows: n, cols: d };
}

async function measure(linkage: Linkage, n: number, d: number, condensed: boolean): Promise<void> {
  const saved = linkageTuning.maxSquare;
  if (condensed) linkageTuning.maxSquare = 0;
  try {
    const X = uniform(n, d);
    const c0 = process.cpuUsage();
    await new AgglomerativeClustering({ linkage, nClusters: 3 }).fit(X, { workers: 0, warnAfterSeconds: Infinity });
    const cu = process.cpuUsage(c0);
    const cpu = (cu.user + cu.system) / 1e6;
    const e = estimateAgglomerative(n, d, linkage, { maxSquareEntries: linkageTuning.maxSquare });
    const name = `${linkage}${condensed ? " (condensed)" : ""}`.padEnd(22);
    console.log(`${name} n=${String(n).padStart(6)} d=${String(d).padStart(3)}  cpu ${cpu.toFixed(2).padStart(6)} s  estimate ${e.seconds.toFixed(2).padStart(6)} s  ratio ${(cpu / e.seconds).toFixed(2)}`);
  } finally {
    linkageTuning.maxSquare = saved;
  }
}

const quick = process.argv.includes("--quick");
const sizes = quick ? [2000, 4000] : [4000, 8000, 12_000];
for (const n of sizes) {
  for (const d of [4, 32]) {
    for (const linkage of ["ward", "centroid", "single", "average"] as Linkage[]) await measure(linkage, n, d, false);
    await measure("average", n, d, true);
  }
}
