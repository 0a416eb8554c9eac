/**
 * K-Means: Segmenta against ml-kmeans and scikit-learn on the same data and the same
 * initial centers, a fixed number of Lloyd iterations (tol 0). Prints the ratios.
 */
import { kmeans as mlKmeans } from "ml-kmeans";
import { KMeans } from "../src/cluster/kmeans.js";
import { toArrays, type Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

function blobs(n: number, d: number, centers: number, seed: number): Matrix {
  const rng = new Random(seed);
  const mu = Array.from({ length: centers }, () => Array.from({ length: d }, () => rng.uniform(-10, 10)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = mu[rng.int(centers)];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal(0, 1.5);
  }
  return { data, rows: n, cols: d };
}

function firstRows(X: Matrix, k: number): Matrix {
  return { data: X.data.slice(0, k * X.cols), rows: k, cols: X.cols };
}

export async function benchKMeans(sizes: { n: number; d: number; k: number; iters: number }[], runs = 3): Promise<void> {
  const sk = hasSklearn();
  for (const { n, d, k, iters } of sizes) {
    const X = blobs(n, d, k, 1);
    const C = firstRows(X, k);
    let oursIter = 0;
    const ours = await timeMedian(runs, async () => {
      const m = await new KMeans({ nClusters: k, init: C, nInit: 1, maxIter: iters, tol: 0 }).fit(X);
      oursIter = m.nIter;
    });
    const line = [`kmeans ${n}×${d} k=${k} (${oursIter} iterations): segmenta ${ours.toFixed(0)} ms`];
    if (n <= 200_000) {
      const rows = toArrays(X);
      const init = toArrays(C);
      const ml = await timeMedian(runs, () => mlKmeans(rows, k, { initialization: init, maxIterations: iters, tolerance: 0 }));
      line.push(`ml-kmeans ${ml.toFixed(0)} ms (segmenta/ml-kmeans ${(ours / ml).toFixed(3)})`);
    }
    if (sk) {
      const r = runPython(
        `from sklearn.cluster import KMeans\nts=[]\nfor _ in range(${runs}):\n    t=time.perf_counter(); m=KMeans(${k}, init=C, n_init=1, max_iter=${iters}, tol=0, algorithm="lloyd").fit(X); ts.append(time.perf_counter()-t)\nprint(json.dumps({"ms": sorted(ts)[len(ts)//2]*1000, "n_iter": int(m.n_iter_)}))`,
        X, C,
      ) as { ms: number; n_iter: number };
      line.push(`scikit-learn ${r.ms.toFixed(0)} ms, ${r.n_iter} iterations (segmenta/scikit-learn ${(ours / r.ms).toFixed(3)})`);
    } else line.push("scikit-learn: absent (apt-get install python3-sklearn)");
    console.log(line.join("; "));
  }
}
