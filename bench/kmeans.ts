/**
 * K-Means: Segmenta against ml-kmeans, skmeans and scikit-learn on the same data and the
 * same initial centers, tol 0 (so every run stops at the same iteration: maxIter, or
 * earlier when no label changes). Median of `runs` timings after one untimed run (for
 * Segmenta and the JavaScript peers alike: the JIT's warm-up); prints the ratios.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { kmeans as mlKmeans } from "ml-kmeans";
import skmeans from "skmeans";
import { KMeans } from "../src/cluster/kmeans.js";
import { toArrays, type Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

/** Overlapping Gaussian blobs: K-Means keeps moving for many iterations, like real data. */
export function blobs(n: number, d: number, centers: number, seed: number): Matrix {
  const rng = new Random(seed);
  const mu = Array.from({ length: centers }, () => Array.from({ length: d }, () => rng.uniform(-6, 6)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = mu[rng.int(centers)];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal(0, 2.5);
  }
  return { data, rows: n, cols: d };
}

/** k rows spread evenly through the data: the same initial centers for every peer. */
export function spread(X: Matrix, k: number): Matrix {
  const C = new Float64Array(k * X.cols);
  for (let c = 0; c < k; c++) {
    const i = Math.floor(((c + 0.5) * X.rows) / k);
    C.set(X.data.subarray(i * X.cols, (i + 1) * X.cols), c * X.cols);
  }
  return { data: C, rows: k, cols: X.cols };
}

export interface KMeansBenchCase {
  n: number;
  d: number;
  k: number;
  iters: number;
  jsPeers?: boolean;
}

export async function benchKMeans(cases: KMeansBenchCase[], runs = 3): Promise<void> {
  const sk = hasSklearn();
  for (const { n, d, k, iters, jsPeers } of cases) {
    const X = blobs(n, d, k, 1);
    const C = spread(X, k);
    console.log(`\nK-Means ${n.toLocaleString("en")} × ${d}, k = ${k}, same initial centers, at most ${iters} iterations, tol 0 (median of ${runs})`);
    const ours: Record<string, { ms: number; nIter: number; inertia: number }> = {};
    for (const algorithm of ["lloyd", "elkan"] as const) {
      let nIter = 0;
      let inertia = 0;
      const ms = await timeMedian(runs, async () => {
        const m = await new KMeans({ nClusters: k, init: C, nInit: 1, maxIter: iters, tol: 0, algorithm }).fit(X);
        nIter = m.nIter;
        inertia = m.inertia;
      }, 1);
      ours[algorithm] = { ms, nIter, inertia };
      console.log(`  segmenta ${algorithm.padEnd(6)} ${ms.toFixed(0).padStart(7)} ms  ${nIter} iterations  inertia ${inertia.toPrecision(10)}`);
    }
    if (jsPeers) {
      const rows = toArrays(X);
      // A fresh copy of the initial centers for every run: a peer may update them in place.
      let mlIter = 0;
      const ml = await timeMedian(runs, () => {
        mlIter = mlKmeans(rows, k, { initialization: toArrays(C), maxIterations: iters, tolerance: 0 }).iterations;
      }, 1);
      console.log(`  ml-kmeans       ${ml.toFixed(0).padStart(7)} ms  ${mlIter} iterations  segmenta(elkan)/ml-kmeans ${(ours.elkan.ms / ml).toFixed(3)}  segmenta(lloyd)/ml-kmeans ${(ours.lloyd.ms / ml).toFixed(3)}`);
      let skIter = 0;
      const sk2 = await timeMedian(runs, () => {
        skIter = skmeans(rows, k, toArrays(C), iters).it;
      }, 1);
      console.log(`  skmeans         ${sk2.toFixed(0).padStart(7)} ms  ${skIter} iterations  segmenta(elkan)/skmeans ${(ours.elkan.ms / sk2).toFixed(3)}  segmenta(lloyd)/skmeans ${(ours.lloyd.ms / sk2).toFixed(3)}`);
    }
    if (sk) {
      const r = runPython(
        [
          "from sklearn.cluster import KMeans",
          "from threadpoolctl import threadpool_info",
          "out = {}",
          "for alg in ['lloyd', 'elkan']:",
          "    ts = []",
          `    for _ in range(${runs}):`,
          "        t = time.perf_counter()",
          `        m = KMeans(${k}, init=C, n_init=1, max_iter=${iters}, tol=0, algorithm=alg).fit(X)`,
          "        ts.append(time.perf_counter() - t)",
          "    out[alg] = {'ms': sorted(ts)[len(ts) // 2] * 1000, 'n_iter': int(m.n_iter_), 'inertia': float(m.inertia_)}",
          "print(json.dumps(out))",
        ].join("\n"),
        X, C,
      ) as Record<string, { ms: number; n_iter: number; inertia: number }>;
      for (const alg of ["lloyd", "elkan"] as const) {
        const p = r[alg];
        console.log(
          `  scikit-learn ${alg.padEnd(6)} ${p.ms.toFixed(0).padStart(4)} ms  ${p.n_iter} iterations  inertia ${p.inertia.toPrecision(10)}  ` +
            `segmenta(${alg})/scikit-learn(${alg}) ${(ours[alg].ms / p.ms).toFixed(3)}  segmenta(elkan)/scikit-learn(${alg}) ${(ours.elkan.ms / p.ms).toFixed(3)}`,
        );
      }
    } else console.log("  scikit-learn: absent (apt-get install python3-sklearn)");
  }
}

/** Peak memory of a 1,000,000 × 8 fit, in a fresh process. */
export function benchKMeansMemory(): void {
  const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./kmeans-memory.ts", import.meta.url))], { encoding: "utf8" });
  console.log(`\nK-Means memory, 1,000,000 × 8, k = 16: ${child.stdout.trim() || child.stderr.trim()}`);
}
