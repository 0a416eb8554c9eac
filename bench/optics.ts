/**
 * OPTICS benchmarks (issue #14), same data in the same run; ratios are Segmenta / peer
 * (below 1: Segmenta is faster).
 * - make_blobs-like 5,000 × 2 (the blobs of bench/dbscan.ts), minSamples 10, maxEps ∞, Xi
 *   0.05: Segmenta (worker pool) against scikit-learn's OPTICS, median of 3, and how far the
 *   results are apart (ordering, reachability to 1e-9, labels).
 * - density-clustering's OPTICS on 2,000 rows at eps 1, minPts 10, against Segmenta with
 *   maxEps 1: time only. Its core distance is not OPTICS's: it tries whole numbers 0, 1, …
 *   below eps as radii, and 0 stands for eps (`epsilon || this.epsilon`), so with eps ≤ 1
 *   every core distance is 0 and a reachability is the plain distance.
 *
 * Run: `npm run bench -- optics` (`-- --quick`: 1,000 and 500 rows).
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { OPTICS, type OPTICSModel } from "../src/cluster/density/optics.js";
import { adjustedRandScore } from "../src/metrics/external.js";
import { CENTERS, makeBlobs, SEED, STD } from "./dbscan.js";
import { hasSklearn, median, runPython, timeMedian } from "./peers.js";

const ms0 = (ms: number): string => `${ms.toFixed(0).padStart(6)} ms`;

interface SklearnOptics {
  version: string;
  ms: number;
  ordering: number[];
  reachability: (number | null)[];
  labels: number[];
}

type DensityClusteringOPTICS = new () => { run(data: number[][], eps: number, minPts: number): number[][] };

export async function benchOPTICS(quick = false, runs = 3): Promise<void> {
  const n = quick ? 1_000 : 5_000;
  const minSamples = 10;
  const X = makeBlobs(n, 2, CENTERS, STD, SEED);
  console.log(`\nOPTICS make_blobs ${n.toLocaleString("en")} × 2, minSamples ${minSamples}, maxEps ∞, xi 0.05 (median of ${runs})`);
  let model: OPTICSModel = await new OPTICS({ minSamples }).fit(X);
  const ours = await timeMedian(runs, async () => {
    model = await new OPTICS({ minSamples }).fit(X);
  }, 1);
  console.log(`  segmenta      ${ms0(ours)}  ${model.nClusters} clusters, ${model.nNoise} noise`);
  if (hasSklearn()) {
    const sk = runPython(
      [
        "import sklearn",
        "from sklearn.cluster import OPTICS",
        "ts = []",
        `for _ in range(${runs}):`,
        "    t = time.perf_counter()",
        `    m = OPTICS(min_samples=${minSamples}).fit(X)`,
        "    ts.append(time.perf_counter() - t)",
        "R = [None if not np.isfinite(v) else float(v) for v in m.reachability_]",
        "print(json.dumps({'version': sklearn.__version__, 'ms': sorted(ts)[len(ts) // 2] * 1000, 'ordering': m.ordering_.tolist(), 'reachability': R, 'labels': m.labels_.tolist()}))",
      ].join("\n"),
      X,
    ) as SklearnOptics;
    let orderSame = 0;
    for (let i = 0; i < n; i++) if (model.ordering[i] === sk.ordering[i]) orderSame++;
    let maxDiff = 0;
    let infDiff = 0;
    for (let i = 0; i < n; i++) {
      const theirs = sk.reachability[i];
      const mine = model.reachability[i];
      if (theirs === null || mine === Infinity) {
        if ((theirs === null) !== (mine === Infinity)) infDiff++;
      } else maxDiff = Math.max(maxDiff, Math.abs(mine - theirs));
    }
    const skLabels = Int32Array.from(sk.labels);
    console.log(
      `  scikit-learn ${sk.version} ${ms0(sk.ms)}  segmenta/scikit-learn ${(ours / sk.ms).toFixed(3)}; ` +
        `ordering ${orderSame === n ? "identical" : `${n - orderSame} positions differ`}, reachability max |difference| ${maxDiff.toExponential(2)}` +
        `${infDiff ? ` (${infDiff} infinite on one side only)` : ""} (${maxDiff <= 1e-9 && infDiff === 0 ? "within" : "NOT within"} 1e-9), ` +
        `labels ARI ${adjustedRandScore(skLabels, model.labels).toFixed(6)}`,
    );
  } else console.log("  scikit-learn: absent (apt-get install python3-sklearn)");

  // density-clustering's OPTICS: time only (see the file's comment).
  const m = quick ? 500 : 2_000;
  const eps = 1;
  const S = makeBlobs(m, 2, CENTERS, STD, SEED);
  const rows = Array.from({ length: m }, (_, i) => [S.data[2 * i], S.data[2 * i + 1]]);
  const require = createRequire(import.meta.url);
  const DC = (require("density-clustering") as { OPTICS: DensityClusteringOPTICS }).OPTICS;
  const oursSmall = await timeMedian(runs, () => new OPTICS({ minSamples, maxEps: eps }).fit(S), 1);
  const times: number[] = [];
  let clusters = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    clusters = new DC().run(rows, eps, minSamples).length;
    times.push(performance.now() - t0);
  }
  const peer = median(times);
  console.log(
    `  ${m.toLocaleString("en")} × 2, eps (maxEps) ${eps}: segmenta ${ms0(oursSmall)}  density-clustering OPTICS ${ms0(peer)} (${clusters} groups; its core distances are 0, not OPTICS's)  ` +
      `segmenta/density-clustering ${(oursSmall / peer).toFixed(3)}`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { installWorkerPool } = await import("../src/io/pool.js");
  installWorkerPool();
  await benchOPTICS(process.argv.includes("--quick"));
  process.exit(0);
}
