/**
 * Exact silhouette: Segmenta against scikit-learn on the same data and labels, median of
 * `runs`; the sampled score on a large table; and the peak memory of the exact score on
 * 100,000 rows (measured in a child process).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Matrix } from "../src/core/matrix.js";
import { silhouetteScore } from "../src/metrics/silhouette.js";
import { blobs } from "./kmeans.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

function labelsOf(X: Matrix, k: number): Int32Array {
  // A fixed labelling: nearest of k reference rows (cheap and realistic).
  const labels = new Int32Array(X.rows);
  const d = X.cols;
  for (let i = 0; i < X.rows; i++) {
    let best = 0;
    let bd = Infinity;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (X.data[i * d + j] - X.data[c * 997 * d + j]) ** 2;
      if (s < bd) {
        bd = s;
        best = c;
      }
    }
    labels[i] = best;
  }
  return labels;
}

export async function benchSilhouette(quick: boolean, runs = 3): Promise<void> {
  const n = quick ? 5000 : 20_000;
  const X = blobs(n, 8, 8, 2);
  const labels = labelsOf(X, 8);
  console.log(`\nSilhouette, exact, ${n.toLocaleString("en")} × 8, 8 labels (median of ${runs})`);
  let ours = 0;
  const ms = await timeMedian(runs, () => {
    ours = silhouetteScore(X, labels);
  });
  console.log(`  segmenta      ${ms.toFixed(0).padStart(6)} ms  score ${ours.toFixed(12)}`);
  if (hasSklearn()) {
    const L: Matrix = { data: Float64Array.from(labels), rows: n, cols: 1 };
    const r = runPython(
      [
        "from sklearn.metrics import silhouette_score",
        "labels = C.ravel().astype(int)",
        "ts = []",
        `for _ in range(${runs}):`,
        "    t = time.perf_counter(); s = silhouette_score(X, labels); ts.append(time.perf_counter() - t)",
        "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'score': float(s)}))",
      ].join("\n"),
      X, L,
    ) as { ms: number; score: number };
    console.log(`  scikit-learn  ${r.ms.toFixed(0).padStart(6)} ms  score ${r.score.toFixed(12)}  segmenta/scikit-learn ${(ms / r.ms).toFixed(3)}  |Δscore| ${Math.abs(ours - r.score).toExponential(1)}`);
  }
  if (quick) return;
  const big = blobs(1_000_000, 8, 8, 3);
  const bigLabels = labelsOf(big, 8);
  const sampled = await timeMedian(runs, () => silhouetteScore(big, bigLabels, { sampleSize: 10_000, randomState: 0 }));
  console.log(`  sampleSize 10,000 of 1,000,000 rows: ${sampled.toFixed(0)} ms (${(sampled / ms).toFixed(2)} × the exact 20k time)`);
  // Peak memory of the exact score on 100,000 × 8, in a fresh process.
  const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./silhouette-memory.ts", import.meta.url))], { encoding: "utf8" });
  console.log(`  exact on 100,000 × 8: ${child.stdout.trim() || child.stderr.trim()}`);
}
