/**
 * Mini-batch K-Means trained in PostgreSQL (issue #19.5, segmenta sql --train): on a real
 * server, a generated table of 100,000 rows (four groups in three features, some values
 * missing) — smaller than the 1,000,000 rows of the issue, which bench/sql.ts runs — is
 * clustered with batches drawn by TABLESAMPLE: fewer rows come out of the database than it
 * holds (counted and printed), the inertia the database computes is the model's inertia on
 * every row (checked here in memory), it is within 2 % of a full in-memory K-Means on the
 * same standardised rows, and the sizes are predict's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KMeans } from "../src/cluster/kmeans.js";
import { datasetFromRecords } from "../src/core/dataset.js";
import { parseModelFile, predictWithModel } from "../src/pipeline/model.js";
import { lines, runMain } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-sql-train-"));
let pg: TestPostgres | null = null;
let url = "";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let rows: any[] = [];

/** Four groups in three features (sums of uniforms, about normal), one value in 200 missing. */
const POINTS_SQL = (n: number): string[] => [
  "SELECT setseed(0.25)",
  `CREATE TABLE points AS SELECT i AS id, g,
     CASE WHEN random() < 0.005 THEN NULL ELSE (ARRAY[0, 6, 0, 6])[g + 1] + (random() + random() + random() - 1.5) * 2 END AS x1,
     (ARRAY[0, 0, 5, 5])[g + 1] + (random() + random() + random() - 1.5) * 2 AS x2,
     (ARRAY[1, 3, 2, 8])[g + 1] * 100 + (random() + random() + random() - 1.5) * 150 AS x3
   FROM (SELECT i, (i * 7919) % 4 AS g FROM generate_series(1, ${n}) AS i) AS s`,
];

beforeAll(async () => {
  pg = await startPostgres();
  if (!pg) return;
  url = await pg.newDatabase("sqltrain");
  const { default: pgLib } = await import("pg");
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  for (const s of POINTS_SQL(100_000)) await c.query(s);
  rows = (await c.query("SELECT id, x1, x2, x3 FROM points")).rows;
  await c.end();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("segmenta sql --train on PostgreSQL", () => {
  it("trains from engine-drawn batches, pulls a fraction of the rows, and lands within 2 % of the in-memory inertia", async (ctx) => {
    if (!pg) return ctx.skip("no PostgreSQL could be started here");
    const model = join(dir, "m.json");
    const r = await runMain(["sql", "--train", "--source", url, "--table", "points", "--features", "x1,x2,x3", "--id", "id", "--k", "4",
      "--batch-size", "1000", "--iterations", "30", "--seed", "5", "--model", model, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.rows).toBe(100_000);
    expect(doc.rowsPulled).toBeLessThan(50_000);
    expect(doc.rowsPulled).toBeGreaterThan(20_000); // the samples: about 3,000 + 30 × 1,000
    const m = parseModelFile(JSON.parse(readFileSync(model, "utf8")));
    const data = datasetFromRecords(rows.map((x) => ({ id: String(x.id), x1: x.x1, x2: x.x2, x3: x.x3 })), { id: "id", x1: "numeric", x2: "numeric", x3: "numeric" });
    const X = m.pipeline.transform(data);
    // The database's inertia and sizes are the model's on every row.
    const p = predictWithModel(m, data);
    const C = (m.file.model as { clusterCenters: number[][] }).clusterCenters;
    let inertia = 0;
    const sizes = [0, 0, 0, 0];
    for (let i = 0; i < X.rows; i++) {
      sizes[p.labels[i]]++;
      for (let j = 0; j < 3; j++) inertia += (X.data[i * 3 + j] - C[p.labels[i]][j]) ** 2;
    }
    expect(doc.sizes).toEqual(sizes);
    expect(doc.sizes).toEqual([...doc.sizes].sort((a: number, b: number) => b - a));
    expect(Math.abs(doc.inertia - inertia) / inertia).toBeLessThan(1e-9);
    const full = await new KMeans({ nClusters: 4, nInit: 3, randomState: 1 }).fit(X);
    expect(doc.inertia / full.inertia).toBeLessThan(1.02);
    expect(doc.inertia / full.inertia).toBeGreaterThan(0.98);
  }, 300_000);

  it("prints the rows pulled out, and refuses an unknown feature with one line", async (ctx) => {
    if (!pg) return ctx.skip("no PostgreSQL could be started here");
    const r = await runMain(["sql", "--train", "--source", url, "--table", "points", "--features", "x1,x2", "--k", "3", "--batch-size", "500", "--iterations", "5", "--model", join(dir, "m2.json")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rows pulled out of the database: [\d,]+ \(/);
    expect(r.stdout).toContain("Segment 0");
    const bad = await runMain(["sql", "--train", "--source", url, "--table", "points", "--features", "nope", "--k", "3", "--model", join(dir, "m3.json")]);
    expect(bad.status).toBe(2);
    expect(lines(bad.stderr)).toHaveLength(1);
    expect(bad.stderr).toContain("--features nope: points has no such column");
  }, 120_000);
});
