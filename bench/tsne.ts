/**
 * t-SNE: Segmenta against scikit-learn's TSNE (Barnes–Hut) on the same 10,000 × 10 data in
 * the same run (perplexity 30, 1,000 iterations, init "pca", angle 0.5, learning rate
 * "auto"), median of 3; and against tsne-js (exact t-SNE, far slower) on 1,000 × 10, one
 * run each. Prints times, ratios and the KL divergences.
 */
import { createRequire } from "node:module";
import { toArrays, type Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { TSNE } from "../src/embed/tsne.js";
import { hasSklearn, runPython, timeMedian } from "./peers.js";

/** Gaussian blobs (std 1.5 around 10 centers in [−10, 10]^d) with 5% uniform noise rows, in random order. */
export function noisyBlobs(n: number, d: number, seed: number): Matrix {
  const rng = new Random(seed);
  const centers = Array.from({ length: 10 }, () => Array.from({ length: d }, () => rng.uniform(-10, 10)));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    if (rng.random() < 0.05) for (let j = 0; j < d; j++) data[i * d + j] = rng.uniform(-14, 14);
    else {
      const c = centers[rng.int(centers.length)];
      for (let j = 0; j < d; j++) data[i * d + j] = c[j] + rng.normal(0, 1.5);
    }
  }
  return { data, rows: n, cols: d };
}

interface TsneJs {
  init(o: { data: number[][]; type: "dense" }): void;
  run(): [number, number];
}
type TsneJsCtor = new (o: Record<string, unknown>) => TsneJs;

async function ours(X: Matrix, runs: number): Promise<{ ms: number; kl: number; nIter: number }> {
  let kl = NaN;
  let nIter = 0;
  const ms = await timeMedian(runs, async () => {
    const m = await new TSNE({ perplexity: 30, maxIter: 1000, init: "pca", angle: 0.5, randomState: 0 }).fit(X);
    kl = m.klDivergence;
    nIter = m.nIter;
  });
  return { ms, kl, nIter };
}

export async function benchTsne(quick: boolean): Promise<void> {
  const n = quick ? 2_000 : 10_000;
  const runs = quick ? 1 : 3;
  const X = noisyBlobs(n, 10, 1);
  console.log(`\nt-SNE ${n.toLocaleString("en")} × 10 (10 blobs + 5% noise), Barnes–Hut, perplexity 30, 1,000 iterations, init pca, angle 0.5 (median of ${runs})`);
  const s = await ours(X, runs);
  console.log(`  segmenta       ${s.ms.toFixed(0).padStart(7)} ms  KL ${s.kl.toFixed(4)}  n_iter ${s.nIter}`);
  if (hasSklearn()) {
    const r = runPython(
      [
        "from sklearn.manifold import TSNE",
        "ts = []",
        `for _ in range(${runs}):`,
        "    t = time.perf_counter()",
        "    m = TSNE(n_components=2, perplexity=30.0, n_iter=1000, init='pca', method='barnes_hut', angle=0.5, learning_rate='auto', random_state=0).fit(X)",
        "    ts.append(time.perf_counter() - t)",
        "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'kl': float(m.kl_divergence_), 'n_iter': int(m.n_iter_)}))",
      ].join("\n"),
      X,
    ) as { ms: number; kl: number; n_iter: number };
    console.log(
      `  scikit-learn   ${r.ms.toFixed(0).padStart(7)} ms  KL ${r.kl.toFixed(4)}  n_iter ${r.n_iter}  segmenta/scikit-learn ${(s.ms / r.ms).toFixed(3)}  ` +
        `KL segmenta/scikit-learn ${(s.kl / r.kl).toFixed(3)}`,
    );
  } else console.log("  scikit-learn: absent (apt-get install python3-sklearn)");

  // tsne-js computes exact t-SNE (O(n²) per iteration): a smaller size, one run each.
  const m = quick ? 300 : 1_000;
  const Xs = noisyBlobs(m, 10, 2);
  const lr = Math.max(m / 12 / 4, 50);
  console.log(`\nt-SNE ${m.toLocaleString("en")} × 10 against tsne-js (exact t-SNE; perplexity 30, early exaggeration 12, learning rate ${lr}, 1,000 iterations; one run)`);
  const sb = await ours(Xs, 1);
  let exKl = NaN;
  const exMs = await timeMedian(1, async () => {
    exKl = (await new TSNE({ method: "exact", perplexity: 30, maxIter: 1000, randomState: 0 }).fit(Xs)).klDivergence;
  });
  const require = createRequire(import.meta.url);
  const mod = require("tsne-js") as TsneJsCtor | { default: TsneJsCtor };
  const TsneJsClass = "default" in mod ? mod.default : mod;
  let jsErr = NaN;
  const rows = toArrays(Xs);
  const js = await timeMedian(1, () => {
    const model = new TsneJsClass({ dim: 2, perplexity: 30, earlyExaggeration: 12, learningRate: lr, nIter: 1000, metric: "euclidean" });
    model.init({ data: rows, type: "dense" });
    jsErr = model.run()[0];
  });
  console.log(`  segmenta (Barnes–Hut) ${sb.ms.toFixed(0).padStart(7)} ms  KL ${sb.kl.toFixed(4)}  segmenta/tsne-js ${(sb.ms / js).toFixed(4)}`);
  console.log(`  segmenta (exact)      ${exMs.toFixed(0).padStart(7)} ms  KL ${exKl.toFixed(4)}  segmenta/tsne-js ${(exMs / js).toFixed(4)}`);
  console.log(`  tsne-js (exact)       ${js.toFixed(0).padStart(7)} ms  error ${jsErr.toFixed(4)} (its own KL)`);
}
