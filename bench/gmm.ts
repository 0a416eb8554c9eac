/**
 * Gaussian mixtures: Segmenta against scikit-learn on the same data (scikit-learn's
 * make_blobs, made once by Python and read here) from the same explicit start (weights 1/k,
 * k rows spread through the data as means, the whole table's precision for every component),
 * tol 0 so that both run exactly maxIter EM iterations. After one untimed run of Segmenta
 * (the JIT's warm-up), `runs` runs of each, alternating, and the median of each; prints the
 * ratio and how far the results are apart (lower bound, means). scikit-learn's time includes
 * the K-Means initialisation it runs (and discards) even when the start is given.
 */
import { GaussianMixture, type CovarianceType, type GaussianMixtureOptions } from "../src/cluster/mixture/gaussian-mixture.js";
import type { Matrix } from "../src/core/matrix.js";
import { getParallelExecutor } from "../src/core/parallel.js";
import { hasSklearn, median, runPython } from "./peers.js";

export interface GMMBenchCase {
  n: number;
  d: number;
  k: number;
  iters: number;
  types: CovarianceType[];
}

/** make_blobs(n, d, centers = k, random_state = 0) from scikit-learn, as a Matrix. */
function makeBlobs(n: number, d: number, k: number): Matrix {
  const seed: Matrix = { data: new Float64Array(1), rows: 1, cols: 1 };
  const r = runPython(
    [
      "from sklearn.datasets import make_blobs",
      `A, _ = make_blobs(n_samples=${n}, n_features=${d}, centers=${k}, random_state=0)`,
      "print(json.dumps(A.ravel().tolist()))",
    ].join("\n"),
    seed,
  ) as number[];
  return { data: Float64Array.from(r), rows: n, cols: d };
}

/** The shared start: weights 1/k, rows spread evenly as means, the whole table's precision (inverse covariance) per type. */
function start(X: Matrix, k: number, t: CovarianceType): { weights: number[]; means: number[][]; precisions: number[] | number[][] | number[][][] } {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j] / n;
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a][b] += ((data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b])) / n;
  // Inverse by Gauss–Jordan (d is small; the matrix is symmetric positive definite).
  const A = cov.map((r, i) => [...r, ...Array.from({ length: d }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < d; c++) {
    const p = A[c][c];
    for (let j = 0; j < 2 * d; j++) A[c][j] /= p;
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = A[r][c];
      for (let j = 0; j < 2 * d; j++) A[r][j] -= f * A[c][j];
    }
  }
  const P = A.map((r) => r.slice(d));
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) P[a][b] = P[b][a] = (P[a][b] + P[b][a]) / 2;
  const means = Array.from({ length: k }, (_, c) => Array.from(data.subarray(Math.floor(((c + 0.5) * n) / k) * d, Math.floor(((c + 0.5) * n) / k) * d + d)));
  const weights = new Array(k).fill(1 / k);
  const varInv = cov.map((r, j) => 1 / r[j]);
  const precisions = t === "full" ? Array.from({ length: k }, () => P) : t === "tied" ? P : t === "diag" ? Array.from({ length: k }, () => varInv) : new Array(k).fill(d / cov.reduce((s, r, j) => s + r[j], 0));
  return { weights, means, precisions };
}

export async function benchGMM(cases: GMMBenchCase[], runs = 3): Promise<void> {
  if (!hasSklearn()) {
    console.log("\nGaussian mixture: scikit-learn absent (apt-get install python3-sklearn); the benchmark needs it for make_blobs and the comparison");
    return;
  }
  for (const { n, d, k, iters, types } of cases) {
    const X = makeBlobs(n, d, k);
    const workers = getParallelExecutor()?.size ?? 0;
    console.log(`\nGaussian mixture, make_blobs ${n.toLocaleString("en")} × ${d}, ${k} centres, k = ${k}, same start, ${iters} iterations (tol 0), median of ${runs}; segmenta on ${workers} worker${workers === 1 ? "" : "s"}`);
    for (const t of types) {
      const s = start(X, k, t);
      const options: GaussianMixtureOptions = {
        nComponents: k, covarianceType: t, tol: 0, maxIter: iters,
        weightsInit: s.weights, meansInit: s.means,
        precisionsInit: (t === "full" ? (s.precisions as number[][][]).map((m) => ({ data: Float64Array.from(m.flat()), rows: d, cols: d })) : t === "spherical" ? Float64Array.from(s.precisions as number[]) : s.precisions) as GaussianMixtureOptions["precisionsInit"],
      };
      let lb = 0;
      let nIter = 0;
      let means: Float64Array = new Float64Array(0);
      const fitOurs = async (): Promise<number> => {
        const t0 = performance.now();
        const m = await new GaussianMixture(options).fit(X, { onWarning: () => {} });
        lb = m.lowerBound;
        nIter = m.nIter;
        means = m.means.data;
        return performance.now() - t0;
      };
      const fitSklearn = () => runPython(
        [
          "import warnings",
          "from sklearn.mixture import GaussianMixture",
          "warnings.simplefilter('ignore')",
          `s = json.loads(${JSON.stringify(JSON.stringify(s))})`,
          "t = time.perf_counter()",
          `g = GaussianMixture(${k}, covariance_type='${t}', tol=0, max_iter=${iters}, weights_init=np.array(s['weights']), means_init=np.array(s['means']), precisions_init=np.array(s['precisions'])).fit(X)`,
          "ms = (time.perf_counter() - t) * 1000",
          "print(json.dumps({'ms': ms, 'lb': float(g.lower_bound_), 'n_iter': int(g.n_iter_), 'means': g.means_.ravel().tolist()}))",
        ].join("\n"),
        X,
      ) as { ms: number; lb: number; n_iter: number; means: number[] };
      // One untimed run of ours (the JIT's warm-up), then the two alternately, so that a
      // change of the machine's load falls on both.
      await fitOurs();
      const oursMs: number[] = [];
      const skMs: number[] = [];
      let r = { ms: 0, lb: 0, n_iter: 0, means: [] as number[] };
      for (let run = 0; run < runs; run++) {
        oursMs.push(await fitOurs());
        r = fitSklearn();
        skMs.push(r.ms);
      }
      const ms = median(oursMs);
      r.ms = median(skMs);
      let dm = 0;
      for (let i = 0; i < means.length; i++) dm = Math.max(dm, Math.abs(means[i] - r.means[i]));
      console.log(
        `  ${t.padEnd(9)} segmenta ${ms.toFixed(0).padStart(6)} ms  scikit-learn ${r.ms.toFixed(0).padStart(6)} ms  ratio ${(ms / r.ms).toFixed(3)}` +
          `  (${nIter}/${r.n_iter} iterations; lower bound ${lb.toFixed(10)} vs ${r.lb.toFixed(10)}, means within ${dm.toExponential(1)})`,
      );
    }
  }
}
