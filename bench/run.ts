/** `npm run bench`: every benchmark, peer and Segmenta in the same run, median of 3. */
import { benchKMeans } from "./kmeans.js";

const quick = process.argv.includes("--quick");
await benchKMeans(quick ? [{ n: 20_000, d: 8, k: 16, iters: 20 }] : [
  { n: 100_000, d: 8, k: 16, iters: 50 },
  { n: 1_000_000, d: 8, k: 16, iters: 20 },
]);
