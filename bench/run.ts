/**
 * `npm run bench`: every benchmark, peer and Segmenta in the same run, median of 3.
 * `npm run bench -- --quick` runs small sizes only; `-- kmeans`, `-- kmeans-auto`, `-- silhouette`, `-- minibatch`, `-- rfm`, `-- track`, `-- hclust`, `-- tsne`, `-- report`, `-- pca-wide`, `-- startup`, `-- tune`, `-- neighbors`, `-- dbscan`, `-- hdbscan`, `-- optics`, `-- gmm`, `-- serve`, `-- stream`, `-- sql` or `-- dashboard` runs one
 * (several names run several).
 */
import { installWorkerPool } from "../src/io/pool.js";
import { benchDashboard } from "./dashboard.js";
import { benchDBSCAN } from "./dbscan.js";
import { benchGMM } from "./gmm.js";
import { benchServe } from "./serve.js";
import { benchHclust } from "./hclust.js";
import { benchHDBSCAN } from "./hdbscan.js";
import { benchKMeans, benchKMeansMemory } from "./kmeans.js";
import { benchKMeansAuto } from "./kmeans-auto.js";
import { benchMiniBatch } from "./minibatch.js";
import { benchNeighbors } from "./neighbors.js";
import { benchOPTICS } from "./optics.js";
import { benchPcaWide } from "./pca-wide.js";
import { benchReport } from "./report.js";
import { benchRfm } from "./rfm.js";
import { benchSilhouette } from "./silhouette.js";
import { benchSql } from "./sql.js";
import { benchStream } from "./stream.js";
import { benchStartup } from "./startup.js";
import { benchTrack } from "./track.js";
import { benchTune } from "./tune.js";
import { benchTsne } from "./tsne.js";

installWorkerPool();
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => !a.startsWith("--"));
const want = (name: string): boolean => only.length === 0 || only.includes(name);
if (want("kmeans")) {
  await benchKMeans(quick ? [{ n: 20_000, d: 8, k: 16, iters: 100, jsPeers: true }] : [
    { n: 100_000, d: 8, k: 16, iters: 100, jsPeers: true },
    { n: 1_000_000, d: 8, k: 16, iters: 100 },
  ]);
  if (!quick) benchKMeansMemory();
}
if (want("kmeans-auto")) await benchKMeansAuto(quick);
if (want("silhouette")) await benchSilhouette(quick);
if (want("minibatch")) await benchMiniBatch(quick);
if (want("rfm")) await benchRfm(quick ? { largeRows: 1_000_000 } : { hugeRows: 100_000_000 });
if (want("track")) await benchTrack(quick ? { rows: 1_000_000 } : {});
if (want("hclust")) await benchHclust(quick);
if (want("tsne")) await benchTsne(quick);
if (want("report")) await benchReport(quick);
if (want("pca-wide")) await benchPcaWide(quick);
if (want("startup")) await benchStartup();
if (want("tune")) await benchTune(quick);
if (want("neighbors")) await benchNeighbors(quick);
if (want("dbscan")) await benchDBSCAN(quick);
if (want("hdbscan")) await benchHDBSCAN(quick);
if (want("optics")) await benchOPTICS(quick);
if (want("gmm")) {
  await benchGMM(quick ? [{ n: 20_000, d: 8, k: 8, iters: 30, types: ["full", "diag", "spherical"] }] : [
    { n: 100_000, d: 8, k: 8, iters: 100, types: ["full", "diag", "spherical"] },
  ]);
}
if (want("serve")) await benchServe(quick);
if (want("sql")) await benchSql(quick);
if (want("dashboard")) await benchDashboard(quick);
if (want("stream")) await benchStream(quick);
process.exit(0);
