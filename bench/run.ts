/**
 * `npm run bench`: every benchmark, peer and Segmenta in the same run, median of 3.
 * `npm run bench -- --quick` runs small sizes only.
 */
import { installWorkerPool } from "../src/io/pool.js";
import { benchKMeans } from "./kmeans.js";

installWorkerPool();
const quick = process.argv.includes("--quick");
await benchKMeans(quick ? [{ n: 20_000, d: 8, k: 16, iters: 100, jsPeers: true }] : [
  { n: 100_000, d: 8, k: 16, iters: 100, jsPeers: true },
  { n: 1_000_000, d: 8, k: 16, iters: 100 },
]);
process.exit(0);
