/** Child process of bench/silhouette.ts: exact silhouette on 100,000 × 8, reporting time and peak RSS. */
import { installWorkerPool } from "../src/io/pool.js";
import { silhouetteScore } from "../src/metrics/silhouette.js";
import { blobs } from "./kmeans.js";
import { peakRssBytes } from "./peers.js";

installWorkerPool();
const X = blobs(100_000, 8, 8, 4);
const labels = new Int32Array(X.rows).map((_, i) => i % 8);
const t = performance.now();
const s = silhouetteScore(X, labels);
const ms = performance.now() - t;
// The peak covers the main thread and the workers (one process).
console.log(`${(ms / 1000).toFixed(1)} s, score ${s.toFixed(6)}, peak RSS ${(peakRssBytes() / 2 ** 20).toFixed(0)} MB`);
process.exit(0);
