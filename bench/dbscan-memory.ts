/**
 * Child process of bench/dbscan.ts (case 2): one DBSCAN fit on the worker pool in a fresh
 * process, its time and peak RSS; then (after the peak is read) the mean neighbourhood size
 * at eps by the radius counts. Prints one JSON line.
 *
 * Arguments: n eps minSamples seed (the blobs of bench/dbscan.ts).
 */
import { DBSCAN } from "../src/cluster/density/dbscan.js";
import { installWorkerPool } from "../src/io/pool.js";
import { NeighborIndex } from "../src/neighbors/index.js";
import { CENTERS, makeBlobs, STD } from "./dbscan.js";
import { peakRssBytes } from "./peers.js";

const [n, eps, minSamples, seed] = process.argv.slice(2, 6).map(Number);
installWorkerPool();
const X = makeBlobs(n, 2, CENTERS, STD, seed);
const before = process.memoryUsage().rss;
const t = performance.now();
const m = await new DBSCAN({ eps, minSamples }).fit(X);
const ms = performance.now() - t;
const peak = peakRssBytes();
const counts = await NeighborIndex.build(X.data, n, 2).radiusCounts(eps);
let s = 0;
for (let i = 0; i < n; i++) s += counts[i];
console.log(
  JSON.stringify({
    ms,
    dataBytes: X.data.byteLength,
    before,
    peak,
    nClusters: m.nClusters,
    nNoise: m.nNoise,
    nCore: m.coreSampleIndices.length,
    meanNeighbourhood: s / n,
  }),
);
process.exit(0);
