/**
 * Mini-batch K-Means: Segmenta against scikit-learn's MiniBatchKMeans on the same data
 * (same batchSize, nInit 1, k-means++, seeds 0, 1, 2; median time), with the inertia of both
 * against full K-Means (best of 3 starts); then 10,000,000 × 8 rows streamed from a Parquet file through DuckDB,
 * in a child process whose peak RSS is measured.
 *
 * Run as a script with `--stream-child <parquet> <k>` it is that child.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KMeans } from "../src/cluster/kmeans.js";
import { MiniBatchKMeans } from "../src/cluster/minibatch-kmeans.js";
import { type Matrix, matrixData } from "../src/core/matrix.js";
import { getParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { duck } from "../src/io/duck.js";
import { fitMiniBatchFromQuery, labelQuery } from "../src/io/stream.js";
import { blobs } from "./kmeans.js";
import { hasSklearn, median, peakRssBytes, runPython } from "./peers.js";

const BATCH = 1024;
const SEEDS = [0, 1, 2];

export async function benchMiniBatch(quick: boolean): Promise<void> {
  await inMemory(quick ? 100_000 : 1_000_000, 8, 8);
  await streamed(quick ? 1_000_000 : 10_000_000, 8, 8);
}

async function inMemory(n: number, d: number, k: number): Promise<void> {
  const X = blobs(n, d, k, 1);
  console.log(`\nMiniBatchKMeans ${n.toLocaleString("en")} × ${d}, k = ${k}, batchSize ${BATCH}, nInit 1, k-means++, seeds ${SEEDS.join(", ")} (median)`);
  // The reference: full K-Means, best of 3 k-means++ starts (one start can land in a poor local minimum).
  const full = await new KMeans({ nClusters: k, nInit: 3, randomState: 0 }).fit(X);
  console.log(`  segmenta KMeans (full, nInit 3: the reference)  inertia ${full.inertia.toPrecision(8)}`);
  // Two kinds of input: a plain Float64Array (the fit copies it into shared memory for the
  // workers, and that copy is timed), and a matrix already in shared memory, as toMatrix and
  // the preprocessing pipeline return big matrices (used in place).
  const sharedX: Matrix = { data: matrixData(n * d), rows: n, cols: d };
  sharedX.data.set(X.data);
  const fitAll = async (input: Matrix): Promise<{ ms: number; inertia: number; steps: number }[]> => {
    const out: { ms: number; inertia: number; steps: number }[] = [];
    for (const seed of SEEDS) {
      const t = performance.now();
      const m = await new MiniBatchKMeans({ nClusters: k, batchSize: BATCH, nInit: 1, randomState: seed }).fit(input);
      out.push({ ms: performance.now() - t, inertia: m.inertia, steps: m.nSteps });
    }
    return out;
  };
  // One untimed fit first, as for the other JavaScript timings (compiled code is timed).
  await new MiniBatchKMeans({ nClusters: k, batchSize: BATCH, nInit: 1, randomState: 99, maxIter: 1 }).fit(X);
  const ours = await fitAll(X);
  const oursShared = await fitAll(sharedX);
  const oursMs = median(ours.map((r) => r.ms));
  const sharedMs = median(oursShared.map((r) => r.ms));
  const oursRatio = median(ours.map((r) => r.inertia / full.inertia));
  const workers = getParallelExecutor()?.size ?? 0;
  console.log(`  segmenta: the calling thread + ${Math.max(0, workers - 1)} worker${workers === 2 ? "" : "s"}`);
  console.log(
    `  segmenta     ${oursMs.toFixed(0).padStart(6)} ms  steps ${ours.map((r) => r.steps).join("/")}  inertia / full KMeans ` +
      `${ours.map((r) => r.inertia / full.inertia).map((v) => v.toFixed(4)).join("/")} (median ${oursRatio.toFixed(4)})  [plain Float64Array: copied to shared memory]`,
  );
  console.log(
    `  segmenta     ${sharedMs.toFixed(0).padStart(6)} ms  (the same fits on a matrix already in shared memory: ${oursShared.map((r) => r.ms.toFixed(0)).join("/")} ms)`,
  );
  if (!hasSklearn()) {
    console.log("  scikit-learn: absent (apt-get install python3-sklearn)");
    return;
  }
  const py = runPython(
    [
      "from sklearn.cluster import MiniBatchKMeans, KMeans",
      "runs = []",
      `for seed in ${JSON.stringify(SEEDS)}:`,
      "    t = time.perf_counter()",
      `    m = MiniBatchKMeans(${k}, batch_size=${BATCH}, n_init=1, random_state=seed).fit(X)`,
      "    runs.append({'ms': (time.perf_counter() - t) * 1000, 'inertia': float(m.inertia_), 'steps': int(m.n_steps_)})",
      `full = KMeans(${k}, n_init=3, random_state=0).fit(X)`,
      "print(json.dumps({'runs': runs, 'full': float(full.inertia_)}))",
    ].join("\n"),
    X,
  ) as { runs: { ms: number; inertia: number; steps: number }[]; full: number };
  const skMs = median(py.runs.map((r) => r.ms));
  const skRatio = median(py.runs.map((r) => r.inertia / full.inertia));
  console.log(
    `  scikit-learn ${skMs.toFixed(0).padStart(6)} ms  steps ${py.runs.map((r) => r.steps).join("/")}  inertia / full KMeans ` +
      `${py.runs.map((r) => r.inertia / full.inertia).map((v) => v.toFixed(4)).join("/")} (median ${skRatio.toFixed(4)})`,
  );
  // Seeds stop after different numbers of steps: the time per step (the final labelling of all rows included) compares the work done.
  const perStep = (rs: { ms: number; steps: number }[]): number => median(rs.map((r) => (r.ms * 1000) / r.steps));
  console.log(
    `  segmenta/scikit-learn time ${(oursMs / skMs).toFixed(3)} (plain input), ${(sharedMs / skMs).toFixed(3)} (shared input); per step (final labelling included) ${perStep(ours).toFixed(0)} µs vs ` +
      `${perStep(py.runs).toFixed(0)} µs, ratio ${(perStep(ours) / perStep(py.runs)).toFixed(3)}  (scikit-learn's own full KMeans inertia / ours ${(py.full / full.inertia).toFixed(4)})`,
  );
  const within = (r: number): string => (r <= 1.02 ? "within 2 %" : "NOT within 2 %");
  console.log(`  median inertia vs full KMeans: segmenta ${within(oursRatio)}, scikit-learn ${within(skRatio)}`);
}

/** 10M × 8 around k centers, written by DuckDB to a Parquet file; then the streamed fit in a child process. */
async function streamed(n: number, d: number, k: number): Promise<void> {
  const file = join(tmpdir(), `segmenta-minibatch-${n}x${d}-${process.pid}.parquet`);
  const rng = new Random(7);
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.uniform(-6, 6)));
  const con = await duck();
  let t = performance.now();
  // Normal-ish noise: a sum of three uniforms, centred, × 2 (sd ≈ 1).
  const cols = Array.from({ length: d }, (_, j) => `[${centers.map((c) => c[j]).join(", ")}][c + 1] + (random() + random() + random() - 1.5) * 2 AS x${j}`);
  await con.run(`COPY (SELECT ${cols.join(", ")} FROM (SELECT floor(random() * ${k})::INTEGER AS c FROM range(${n}))) TO '${file}' (FORMAT parquet)`);
  const mb = statSync(file).size / 2 ** 20;
  console.log(`\nMiniBatchKMeans streamed from Parquet: ${n.toLocaleString("en")} × ${d} (${((n * d * 8) / 2 ** 20).toFixed(0)} MB as doubles; file ${mb.toFixed(0)} MB, written in ${((performance.now() - t) / 1000).toFixed(1)} s), k = ${k}, batchSize ${BATCH}`);
  try {
    t = performance.now();
    const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--stream-child", file, String(k)], {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`stream child failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout.trim().split("\n").pop()!) as {
      ms: number; inertia: number; nSteps: number; nIter: number; rowsStreamed: number; queries: number; maxRssMB: number; sizes: number[];
    };
    // Reference: the inertia at the centers the data was drawn from.
    const truth = await labelQuery({ clusterCenters: { data: Float64Array.from(centers.flat()), rows: k, cols: d } }, `SELECT * FROM read_parquet('${file}')`,
      Array.from({ length: d }, (_, j) => `x${j}`));
    console.log(
      `  segmenta (stream, shuffle "hash")  ${(r.ms / 1000).toFixed(1)} s  ${r.nSteps} steps (${r.nIter} pass${r.nIter === 1 ? "" : "es"}), ` +
        `${r.rowsStreamed.toLocaleString("en")} rows streamed for the steps in ${r.queries} quer${r.queries === 1 ? "y" : "ies"} + 1 labelling pass`,
    );
    console.log(
      `  peak RSS ${r.maxRssMB.toFixed(0)} MB (target: under 1,536 MB)  ${r.maxRssMB < 1536 ? "OK" : "OVER"};  inertia / inertia at the true centers ${(r.inertia / truth.inertia).toFixed(4)}`,
    );
  } finally {
    rmSync(file, { force: true });
  }
}

async function streamChild(file: string, k: number): Promise<void> {
  const d = 8;
  const t = performance.now();
  const r = await fitMiniBatchFromQuery(`SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`, Array.from({ length: d }, (_, j) => `x${j}`), {
    nClusters: k, batchSize: BATCH, randomState: 0,
  });
  const ms = performance.now() - t;
  console.log(JSON.stringify({
    ms, inertia: r.inertia, nSteps: r.model.nSteps, nIter: r.model.nIter, rowsStreamed: r.rowsStreamed, queries: r.queries,
    maxRssMB: peakRssBytes() / 2 ** 20, sizes: r.clusterSizes,
  }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--stream-child") {
  await streamChild(process.argv[3], Number(process.argv[4]));
  process.exit(0);
}
