/**
 * The choice of k as `segmenta tune` runs it by default (k = 2..10, nInit 10, silhouette on a
 * sample of 10,000 rows, gap statistic with 10 reference sets, stability over 20 bootstrap
 * resamples with 3 initialisations each, seed 42), against scikit-learn computing the same
 * indices on the same data in the same run: KMeans(n_init=10) for each k in 2..10,
 * silhouette_score(sample_size=10000), davies_bouldin_score and calinski_harabasz_score on all
 * rows. scikit-learn has no gap statistic nor stability; the ratio is what a user waits with
 * Segmenta (all of it) against what the indices alone take in scikit-learn.
 *
 * The data: 40,000 × 60 (the size of the bank-marketing table of issue 13), six Gaussian
 * blobs whose centres differ in the first 12 columns only, 48 columns of pure noise, and 5% of
 * the rows uniform noise. One run each (a run takes tens of seconds); the time of each phase
 * of chooseK is printed too.
 *
 * On its own: `node --import tsx bench/tune.ts [--quick]` (`benchTune` is what bench/run.ts calls).
 */
import { pathToFileURL } from "node:url";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { chooseK, type ChooseKProgress } from "../src/metrics/choose-k.js";
import { hasSklearn, runPython } from "./peers.js";

/** n × d: `centers` Gaussian blobs (sd 1) apart in the first `signal` columns, noise elsewhere, and a share of uniform rows. */
export function weakBlobs(n: number, d: number, centers: number, seed: number, signal = 12, noiseShare = 0.05): Matrix {
  const rng = new Random(seed);
  const mu = Array.from({ length: centers }, () => Array.from({ length: d }, (_, j) => (j < signal ? rng.uniform(-2, 2) : 0)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    if (rng.random() < noiseShare) {
      for (let j = 0; j < d; j++) data[i * d + j] = rng.uniform(-4, 4);
      continue;
    }
    const c = mu[rng.int(centers)];
    for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal();
  }
  return { data, rows: n, cols: d };
}

/** The defaults of `segmenta tune` (src/pipeline/config.ts, src/cli/tune.ts). */
export const TUNE_DEFAULTS = {
  kMin: 2, kMax: 10, nInit: 10, maxIter: 300, tol: 1e-4, randomState: 42, silhouetteSampleSize: 10_000,
  gapReferences: 10, stabilityResamples: 20, stabilityThreshold: 0.75, resampleNInit: 3,
} as const;

export async function benchTune(quick: boolean): Promise<void> {
  const n = quick ? 10_000 : 40_000;
  const d = 60;
  const X = weakBlobs(n, d, 6, 13);
  console.log(`\nChoice of k (segmenta tune's defaults, k = 2..10) on ${n.toLocaleString("en")} × ${d}, 6 weak blobs + noise, one run each`);
  const phases = new Map<string, number>();
  let last = performance.now();
  let lastPhase = "fits on the data";
  let updates = 0;
  let longestGap = 0;
  const t0 = performance.now();
  const r = await chooseK(X, {
    ...TUNE_DEFAULTS,
    onProgress: (p: ChooseKProgress) => {
      const now = performance.now();
      phases.set(lastPhase, (phases.get(lastPhase) ?? 0) + now - last);
      longestGap = Math.max(longestGap, now - last);
      last = now;
      lastPhase = p.phase !== "sweep" ? p.phase : /silhouette/.test(p.message) ? "silhouette" : /refined/.test(p.message) ? "refits on the sample" : "fits on the data";
      updates++;
    },
  });
  const ms = performance.now() - t0;
  const byPhase = [...phases].map(([p, t]) => `${p} ${(t / 1000).toFixed(1)} s`).join(", ");
  console.log(`  segmenta      ${(ms / 1000).toFixed(1).padStart(6)} s  recommends k=${r.recommendation.k}  (${byPhase}; ${updates} progress updates, longest silence ${(longestGap / 1000).toFixed(1)} s)`);
  console.log(`                silhouette ${r.evaluations.map((e) => `${e.k}:${e.silhouette.toFixed(3)}`).join(" ")}`);
  if (!hasSklearn()) {
    console.log("  scikit-learn  not available (/usr/bin/python3 with sklearn)");
    return;
  }
  const py = runPython(
    [
      "from sklearn.cluster import KMeans",
      "from sklearn.metrics import silhouette_score, davies_bouldin_score, calinski_harabasz_score",
      "t = time.perf_counter()",
      "sil = {}",
      `for k in range(${TUNE_DEFAULTS.kMin}, ${TUNE_DEFAULTS.kMax + 1}):`,
      `    m = KMeans(n_clusters=k, n_init=${TUNE_DEFAULTS.nInit}, random_state=${TUNE_DEFAULTS.randomState}).fit(X)`,
      `    sil[k] = float(silhouette_score(X, m.labels_, sample_size=${TUNE_DEFAULTS.silhouetteSampleSize}, random_state=${TUNE_DEFAULTS.randomState}))`,
      "    davies_bouldin_score(X, m.labels_); calinski_harabasz_score(X, m.labels_)",
      "print(json.dumps({'ms': (time.perf_counter() - t) * 1000, 'sil': sil}))",
    ].join("\n"),
    X,
  ) as { ms: number; sil: Record<string, number> };
  console.log(`  scikit-learn  ${(py.ms / 1000).toFixed(1).padStart(6)} s  (KMeans n_init=10, silhouette_score sample_size=10000, Davies–Bouldin, Calinski–Harabasz; no gap, no stability)`);
  console.log(`                silhouette ${Object.entries(py.sil).map(([k, s]) => `${k}:${s.toFixed(3)}`).join(" ")}`);
  console.log(`  segmenta/scikit-learn ${(ms / py.ms).toFixed(2)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { installWorkerPool } = await import("../src/io/pool.js");
  installWorkerPool();
  await benchTune(process.argv.includes("--quick"));
  process.exit(0);
}
