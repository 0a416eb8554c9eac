/**
 * The whole job with its HTML report for 100,000 customers: reading the CSV, preprocessing,
 * K-Means (nInit 10), silhouette (sampled), profiles, rules, PCA and t-SNE maps (t-SNE on a
 * stratified sample of 3,000), the silhouette plot, and the report written. Target: 60 s.
 * No peer does this; the time is reported against the target.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Io } from "../src/cli/common.js";
import { clusterFile } from "../src/cli/cluster.js";
import { generateCustomers, toCsv } from "../src/io/synthetic.js";
import { writeChunksAtomic } from "../src/io/write.js";
import { parseConfig } from "../src/pipeline/config.js";

const quiet: Io = { out: () => undefined, err: () => undefined, tty: false };

export async function benchReport(quick: boolean): Promise<void> {
  const n = quick ? 20_000 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), "segmenta-bench-report-"));
  try {
    const csv = join(dir, "customers.csv");
    await writeChunksAtomic(csv, toCsv(generateCustomers({ customers: n, seed: 5 })));
    const report = join(dir, "report.html");
    console.log(`\nThe whole job with the HTML report, ${n.toLocaleString("en")} customers (mixed types: 12 columns)`);
    const times: number[] = [];
    for (let run = 0; run < (quick ? 1 : 3); run++) {
      const t = performance.now();
      await clusterFile(csv, parseConfig({ k: 5, seed: run }), { report, out: join(dir, "segments.csv") }, quiet);
      times.push((performance.now() - t) / 1000);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1];
    console.log(
      `  read + segment + profile + rules + maps + report: median ${median.toFixed(1)} s (runs ${times.map((x) => x.toFixed(1)).join(", ")} s), ` +
        `report ${(statSync(report).size / 1e6).toFixed(1)} MB; target 60 s: ${median <= 60 ? "met" : "NOT met"} (${(median / 60).toFixed(2)} of it)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
