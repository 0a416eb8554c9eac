/**
 * The evidence behind KMeans' `algorithm: "auto"`: Lloyd against the bound-based variant on
 * a grid of sizes (n), features (d) and clusters (k), same data and initial centers, 50
 * iterations (tol 0), best of 2. "auto" uses bounds when k > 2.
 */
import { KMeans } from "../src/cluster/kmeans.js";
import { blobs, spread } from "./kmeans.js";

export async function benchKMeansAuto(quick: boolean): Promise<void> {
  console.log("\nK-Means, Lloyd against bounds (what algorithm: \"auto\" chooses from), 50 iterations, best of 2");
  console.log("  n        d   k   lloyd ms  bounds ms  bounds/lloyd");
  // Compiled code is timed: one untimed fit of each first.
  const warm = blobs(5_000, 8, 4, 2);
  for (const algorithm of ["lloyd", "elkan"] as const) await new KMeans({ nClusters: 4, randomState: 0, algorithm }).fit(warm);
  for (const n of quick ? [2_000, 20_000] : [2_000, 20_000, 200_000]) {
    for (const d of [2, 8, 50]) {
      for (const k of [2, 3, 8, 32]) {
        const X = blobs(n, d, k, 1);
        const C = spread(X, k);
        const best: Record<string, number> = { lloyd: Infinity, elkan: Infinity };
        for (let r = 0; r < 2; r++) {
          for (const algorithm of ["lloyd", "elkan"] as const) {
            const t = performance.now();
            await new KMeans({ nClusters: k, init: C, maxIter: 50, tol: 0, algorithm }).fit(X);
            best[algorithm] = Math.min(best[algorithm], performance.now() - t);
          }
        }
        const ratio = best.elkan / best.lloyd;
        console.log(
          `  ${n.toLocaleString("en").padEnd(8)} ${String(d).padStart(2)} ${String(k).padStart(3)} ${best.lloyd.toFixed(1).padStart(10)} ` +
            `${best.elkan.toFixed(1).padStart(10)}  ${ratio.toFixed(2).padStart(6)}${k > 2 ? "  (auto: bounds)" : "  (auto: lloyd)"}`,
        );
      }
    }
  }
}
