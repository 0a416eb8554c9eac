/**
 * In-warehouse mini-batch K-Means (segmenta sql --train, issue #19.5) against the in-memory
 * fit: a generated table of 1,000,000 rows (--quick: 100,000) in a throw-away PostgreSQL
 * server (test/helpers/postgres.ts; or the database of $SEGMENTA_BENCH_PG), four groups in
 * four features. Prints the training time, the rows pulled out of the database, and the
 * inertia against a full K-Means (3 starts) on the same standardised rows pulled into memory
 * (target: within 2 %).
 */
import pg from "pg";
import { KMeans } from "../src/cluster/kmeans.js";
import { datasetFromRecords } from "../src/core/dataset.js";
import { trainInPostgres } from "../src/io/sql/train.js";
import { parseModelFile } from "../src/pipeline/model.js";
import { startPostgres } from "../test/helpers/postgres.js";

export async function benchSql(quick: boolean): Promise<void> {
  const n = quick ? 100_000 : 1_000_000;
  const server = process.env.SEGMENTA_BENCH_PG ? null : await startPostgres();
  if (!server && !process.env.SEGMENTA_BENCH_PG) {
    console.log("sql: skipped (no PostgreSQL server; set SEGMENTA_BENCH_PG=postgres://… to use one)");
    return;
  }
  const url = process.env.SEGMENTA_BENCH_PG ?? (await server!.newDatabase("benchsql"));
  try {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("DROP TABLE IF EXISTS bench_points");
    await c.query("SELECT setseed(0.5)");
    let t = performance.now();
    await c.query(`CREATE TABLE bench_points AS SELECT i AS id,
      (ARRAY[0, 6, 0, 6])[g + 1] + (random() + random() + random() - 1.5) * 2 AS x1,
      (ARRAY[0, 0, 5, 5])[g + 1] + (random() + random() + random() - 1.5) * 2 AS x2,
      (ARRAY[1, 3, 2, 8])[g + 1] * 100 + (random() + random() + random() - 1.5) * 150 AS x3,
      (ARRAY[10, 20, 30, 40])[g + 1] + (random() + random() + random() - 1.5) * 12 AS x4
      FROM (SELECT i, (i::bigint * 7919) % 4 AS g FROM generate_series(1, ${n}) AS i) AS s`);
    console.log(`sql: generated ${n.toLocaleString("en-US")} rows in PostgreSQL in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const r = await trainInPostgres({ url, table: "bench_points", features: ["x1", "x2", "x3", "x4"], k: 4, batchSize: 4096, iterations: 50, seed: 7 });
    const trainS = (performance.now() - t) / 1000;
    console.log(`sql: trained in the database in ${trainS.toFixed(1)} s; rows pulled out ${r.rowsPulled.toLocaleString("en-US")} of ${r.rows.toLocaleString("en-US")} (${((100 * r.rowsPulled) / r.rows).toFixed(1)} %); inertia ${r.inertia.toPrecision(8)}`);
    t = performance.now();
    const rows = (await c.query("SELECT id, x1, x2, x3, x4 FROM bench_points")).rows as Record<string, unknown>[];
    await c.end();
    const m = parseModelFile(r.file);
    const data = datasetFromRecords(rows, { id: "id", x1: "numeric", x2: "numeric", x3: "numeric", x4: "numeric" });
    const X = m.pipeline.transform(data);
    const full = await new KMeans({ nClusters: 4, nInit: 3, randomState: 1 }).fit(X);
    const memS = (performance.now() - t) / 1000;
    const ratio = r.inertia / full.inertia;
    console.log(`sql: in-memory K-Means (whole table pulled, 3 starts) ${memS.toFixed(1)} s, inertia ${full.inertia.toPrecision(8)}`);
    console.log(`sql: in-warehouse / in-memory inertia ${ratio.toFixed(5)} (${((ratio - 1) * 100).toFixed(3)} %; target within 2 %: ${Math.abs(ratio - 1) <= 0.02 ? "met" : "NOT met"}); RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  } finally {
    await server?.stop();
  }
}
