import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KMeans } from "../src/cluster/kmeans.js";
import { readColumns } from "../src/io/extract.js";
import { dropTable, loadTable } from "../src/io/read.js";
import { profileTable } from "../src/io/schema.js";
import { parseConfig } from "../src/pipeline/config.js";
import { chooseFeatures, chooseIdColumn } from "../src/pipeline/run.js";
import { fitPipeline } from "../src/preprocess/pipeline.js";

const telco = fileURLToPath(new URL("../../shared/data/WA_Fn-UseC_-Telco-Customer-Churn.csv", import.meta.url));
const present = existsSync(telco);
if (!present) console.warn("skipping Telco K-Means tests: ../shared/data is absent");
const fx = JSON.parse(readFileSync(new URL("./fixtures/telco_kmeans.json", import.meta.url), "utf8"));

describe.skipIf(!present)("K-Means on the Telco table against scikit-learn (n_init = 10)", () => {
  it("preprocesses Telco as the reference does and reaches scikit-learn's inertia", async () => {
    const t = await loadTable(telco);
    const profile = await profileTable(t);
    const data = await readColumns(t, profile, profile.columns.map((c) => c.name));
    await dropTable(t);
    const config = parseConfig({});
    const features = chooseFeatures(data, config, chooseIdColumn(data, config)).filter((f) => f.used).map((f) => f.name);
    const X = (await fitPipeline(data, features)).transform(data);
    expect([X.rows, X.cols]).toEqual(fx.shape);
    let sum = 0;
    let sq = 0;
    for (const v of X.data) {
      sum += v;
      sq += v * v;
    }
    expect(Math.abs(sum - fx.total_sum)).toBeLessThan(1e-6);
    expect(Math.abs(sq - fx.column_sums_of_squares) / fx.column_sums_of_squares).toBeLessThan(1e-12);
    for (const c of fx.cases as { k: number; inertia: number }[]) {
      // Seeds are not comparable across implementations, and a best-of-10 can still land in
      // a worse local optimum (scikit-learn does at k=6 for one seed in ten), so compare the
      // median over five seeds: at most 0.1 % above scikit-learn's best of 10.
      const inertias: number[] = [];
      for (let seed = 0; seed < 5; seed++) inertias.push((await new KMeans({ nClusters: c.k, nInit: 10, randomState: seed }).fit(X)).inertia);
      const median = inertias.sort((a, b) => a - b)[2];
      expect(median / c.inertia, `k=${c.k}: median ${median} vs scikit-learn ${c.inertia}`).toBeLessThanOrEqual(1.001);
    }
  });
});
