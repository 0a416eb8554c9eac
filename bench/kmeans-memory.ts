/**
 * Child process of bench/kmeans.ts: peak memory of fitting 1,000,000 × 8 (k = 16, k-means++,
 * workers), against the size of the data. Prints one line.
 */
import { KMeans } from "../src/cluster/kmeans.js";
import { installWorkerPool } from "../src/io/pool.js";
import { blobs } from "./kmeans.js";
import { peakRssBytes } from "./peers.js";

installWorkerPool();
const X = blobs(1_000_000, 8, 16, 1);
const before = process.memoryUsage().rss;
const t = performance.now();
const m = await new KMeans({ nClusters: 16, randomState: 0, maxIter: 100 }).fit(X);
const ms = performance.now() - t;
const peak = peakRssBytes();
const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
console.log(
  `fit ${(ms / 1000).toFixed(1)} s (${m.nIter} iterations); data ${mb(X.data.byteLength)}; RSS before the fit ${mb(before)} ` +
    `(data included); peak RSS ${mb(peak)}: the fit added ${mb(peak - before)} (target: at most 200 MB beyond the data)`,
);
process.exit(0);
