/**
 * PCA of wide tables: Segmenta's PCA (svdSolver "auto") against scikit-learn's PCA
 * (svd_solver="auto") on the same data in the same run, 2 components (the report's map) and
 * 50 (the reduction before t-SNE / UMAP), on 2,000 × 1,000 and 2,000 × 5,000 tables of
 * three hidden factors plus noise; median of 3 (1 with --quick, which runs 1,000 × 1,000
 * only). Prints times, the ratio and the largest relative difference of the explained
 * variance ratios.
 *
 *     node --import tsx bench/pca-wide.ts [--quick]
 */
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { PCA } from "../src/preprocess/pca.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

/** n × d: three factors of weights 10, 5 and 2 plus unit noise. */
function factorTable(n: number, d: number, seed: number): Matrix {
  const rng = new Random(seed);
  const W = Array.from({ length: 3 }, () => Float64Array.from({ length: d }, () => rng.normal()));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = [10 * rng.normal(), 5 * rng.normal(), 2 * rng.normal()];
    for (let j = 0; j < d; j++) data[i * d + j] = z[0] * W[0][j] + z[1] * W[1][j] + z[2] * W[2][j] + rng.normal();
  }
  return { data, rows: n, cols: d };
}

export async function benchPcaWide(quick: boolean): Promise<void> {
  const sizes: [number, number][] = quick ? [[1_000, 1_000]] : [[2_000, 1_000], [2_000, 5_000]];
  const runs = quick ? 1 : 3;
  for (const [n, d] of sizes) {
    const X = factorTable(n, d, n + d);
    for (const k of [2, 50]) {
      let ratio: Float64Array = new Float64Array(0);
      let solver = "";
      const ms = await timeMedian(runs, async () => {
        const pca = new PCA({ nComponents: k });
        ratio = (await pca.fit(X)).explainedVarianceRatio;
        solver = `${pca.lastFit?.solver}, ${pca.lastFit?.iterations} iterations`;
      });
      console.log(`\nPCA ${n.toLocaleString("en")} × ${d.toLocaleString("en")}, ${k} components (median of ${runs})`);
      console.log(`  segmenta       ${ms.toFixed(0).padStart(7)} ms  (${solver})`);
      if (!hasSklearn()) {
        console.log("  scikit-learn: absent (apt-get install python3-sklearn)");
        continue;
      }
      const r = runPython(
        [
          "from sklearn.decomposition import PCA",
          "ts = []",
          `for _ in range(${runs}):`,
          "    t = time.perf_counter()",
          `    m = PCA(n_components=${k}, random_state=0).fit(X)`,
          "    ts.append(time.perf_counter() - t)",
          "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'ratio': m.explained_variance_ratio_.tolist(), 'solver': m._fit_svd_solver}))",
        ].join("\n"),
        X,
      ) as { ms: number; ratio: number[]; solver: string };
      // The two leading ratios (well separated); the later ones are noise, where any two randomized runs differ.
      let diff = 0;
      for (let c = 0; c < 2; c++) diff = Math.max(diff, Math.abs(ratio[c] - r.ratio[c]) / r.ratio[c]);
      console.log(`  scikit-learn   ${r.ms.toFixed(0).padStart(7)} ms  (${r.solver})  segmenta/scikit-learn ${(ms / r.ms).toFixed(2)}  ` +
        `leading explained variance ratios differ by ${diff.toExponential(1)} (relative)`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchPcaWide(process.argv.includes("--quick"));
}
