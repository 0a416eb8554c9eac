/**
 * Models as SQL (issue #19.4): the SELECT of `segmenta sql` gives every row the segment
 * predict gives it — on DuckDB and on a real PostgreSQL server, for the Telco table and the
 * Online Retail RFM table (../shared/data; skipped with a message when absent) and the demo
 * table (generated), with every algorithm the query writes (K-Means, mini-batch K-Means,
 * ward and average linkage, Gaussian mixtures of the four covariance types, DBSCAN euclidean
 * and manhattan, OPTICS; the density-based ones on the demo table) and a spread of preprocessing steps (imputation and indicators, the signed
 * log, Yeo-Johnson, outliers clipped, flagged or dropped, every scaler, ordinal codes,
 * one-hot with rare categories grouped and a column dropped, date features, a variance
 * filter, PCA with and without whitening). The tables hold the data as Segmenta read them;
 * on DuckDB the Telco file is also scored as read_csv_auto reads it (TotalCharges as text).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/core/dataset.js";
import { exec, queryRows } from "../src/io/duck.js";
import { generateCustomers, toCsv } from "../src/io/synthetic.js";
import { buildModelFile, type LoadedModelFile, parseModelFile, predictWithModel } from "../src/pipeline/model.js";
import { runSegmentation } from "../src/pipeline/run.js";
import type { SegmentationConfigInput } from "../src/pipeline/config.js";
import { dialect } from "../src/pipeline/sql/dialect.js";
import { modelSql } from "../src/pipeline/sql/model-sql.js";
import { withRfmFile } from "../src/cli/rfm.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { haveData, readDataset, RETAIL, TELCO, writeDataset } from "./helpers/sql-tables.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-sql-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  table: string;
  config: SegmentationConfigInput;
}

const TELCO_FEATURES = ["tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen", "Contract", "InternetService", "PaymentMethod", "Partner", "PaperlessBilling"];
const RFM_FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "return_rate"];
const DEMO_FEATURES = ["age", "tenure_months", "monthly_spend", "support_calls", "satisfaction", "plan", "contract", "region", "uses_app", "signup_date"];

const CASES: Case[] = [
  { name: "telco k-means: indicators, signed log, rare categories grouped, binary dropped", table: "telco", config: {
    algorithm: "kmeans", k: 4, nInit: 2, features: TELCO_FEATURES,
    preprocessing: { missingIndicator: true, log1p: ["TotalCharges"], oneHot: { minFrequency: 0.25, drop: "if_binary" } } } },
  { name: "telco mini-batch k-means: Yeo-Johnson, robust scaling, z-score flag", table: "telco", config: {
    algorithm: "minibatch-kmeans", k: 5, features: TELCO_FEATURES,
    preprocessing: { power: ["tenure", "TotalCharges"], scale: "robust", outliers: { method: "zscore", action: "flag", k: 2 }, oneHot: { drop: "first" } } } },
  { name: "telco gmm full on 3 whitened components", table: "telco", config: {
    algorithm: "gmm", k: 3, covarianceType: "full", features: ["tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen", "Contract"],
    preprocessing: { pca: { nComponents: 3, whiten: true } } } },
  { name: "telco ward, ordinal contract, min-max", table: "telco", config: {
    algorithm: "agglomerative", k: 4, features: ["tenure", "MonthlyCharges", "Contract", "InternetService"],
    preprocessing: { scale: "minmax", ordinal: { Contract: ["Month-to-month", "One year", "Two year"] } } } },
  { name: "rfm k-means: signed log, IQR clip", table: "rfm", config: {
    algorithm: "kmeans", k: 5, nInit: 2, features: RFM_FEATURES,
    preprocessing: { log1p: ["frequency", "monetary"], outliers: { method: "iqr", action: "clip" } } } },
  { name: "rfm gmm diag", table: "rfm", config: { algorithm: "gmm", k: 4, covarianceType: "diag", features: RFM_FEATURES, preprocessing: { log1p: ["frequency", "monetary"] } } },
  { name: "rfm gmm tied, max-abs", table: "rfm", config: { algorithm: "gmm", k: 3, covarianceType: "tied", features: RFM_FEATURES, preprocessing: { scale: "maxabs", log1p: ["monetary"] } } },
  { name: "rfm mini-batch k-means, standard scaling", table: "rfm", config: { algorithm: "minibatch-kmeans", k: 4, features: RFM_FEATURES, preprocessing: { log1p: ["frequency", "monetary"] } } },
  { name: "rfm dbscan on the signed log of frequency and monetary", table: "rfm", config: {
    algorithm: "dbscan", features: ["recency_days", "frequency", "monetary"], preprocessing: { log1p: ["frequency", "monetary"] } } },
  { name: "rfm ward, PCA 2", table: "rfm", config: { algorithm: "agglomerative", k: 4, features: RFM_FEATURES, preprocessing: { log1p: ["frequency", "monetary"], pca: { nComponents: 2 } } } },
  { name: "demo k-means: dates, constant category, MAD drop, variance filter, PCA share", table: "demo", config: {
    algorithm: "kmeans", k: 4, nInit: 2, features: DEMO_FEATURES,
    preprocessing: { dates: "days-since", asOf: "2024-07-01", categoricalImpute: "constant", numericImpute: "mean", outliers: { method: "mad", action: "drop" },
      varianceThreshold: 0.05, pca: { nComponents: 0.9 } } } },
  { name: "demo gmm spherical", table: "demo", config: { algorithm: "gmm", k: 4, covarianceType: "spherical", features: ["age", "tenure_months", "monthly_spend", "support_calls", "plan"] } },
  { name: "demo gmm full, constant imputation", table: "demo", config: {
    algorithm: "gmm", k: 3, covarianceType: "full", features: ["age", "tenure_months", "monthly_spend", "satisfaction", "uses_app"], preprocessing: { numericImpute: "constant", fillValue: -1 } } },
  { name: "demo mini-batch k-means, box-cox", table: "demo", config: {
    algorithm: "minibatch-kmeans", k: 3, features: ["tenure_months", "monthly_spend", "contract", "region"], preprocessing: { power: ["monthly_spend"], powerMethod: "box-cox" } } },
  { name: "demo dbscan (core rows within eps), outliers as -1", table: "demo", config: {
    algorithm: "dbscan", features: ["age", "tenure_months", "monthly_spend", "support_calls"], preprocessing: { numericImpute: "mean" } } },
  { name: "demo dbscan manhattan", table: "demo", config: { algorithm: "dbscan", metric: "manhattan", eps: 1.2, minSamples: 8, features: ["age", "tenure_months", "monthly_spend"] } },
  { name: "demo optics (the first of the nearest rows whose core distance reaches)", table: "demo", config: {
    algorithm: "optics", minSamples: 10, features: ["age", "tenure_months", "monthly_spend", "support_calls"] } },
  { name: "demo agglomerative average linkage (nearest training row)", table: "demo", config: {
    algorithm: "agglomerative", linkage: "average", k: 4, features: ["age", "tenure_months", "monthly_spend", "plan"] } },
  { name: "demo ward", table: "demo", config: { algorithm: "agglomerative", k: 5, features: DEMO_FEATURES, preprocessing: { dates: "days-since", asOf: "2024-07-01" } } },
];

const haveTelco = haveData(TELCO);
const haveRetail = haveData(RETAIL);
const tables: Record<string, { data: Dataset; id: string } | null> = { telco: null, rfm: null, demo: null };
const fitted: { c: Case; m: LoadedModelFile; expected: Map<string, number> }[] = [];

beforeAll(async () => {
  const demo = join(dir, "demo.csv");
  writeFileSync(demo, [...toCsv(generateCustomers({ customers: 1200, seed: 11 }))].join(""));
  tables.demo = { data: await readDataset(demo), id: "customer_id" };
  if (haveTelco) tables.telco = { data: await readDataset(TELCO), id: "customerID" };
  if (haveRetail) {
    const map = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" };
    tables.rfm = { data: await withRfmFile(RETAIL, map, {}, (path) => readDataset(path)), id: "customer_id" };
  }
  for (const c of CASES) {
    const t = tables[c.table];
    if (!t) continue;
    const result = await runSegmentation({ ...c.config, id: t.id, seed: 3 }, t.data);
    const m = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(result, t.data))));
    const p = predictWithModel(m, t.data);
    fitted.push({ c, m, expected: new Map(p.ids.map((id, i) => [id, p.labels[i]])) });
  }
}, 600_000);

/** Rows (id → segment) where the SQL disagrees with predict, and the names the SQL gave. */
function compare(rows: Record<string, unknown>[], f: (typeof fitted)[number]): { wrong: string[]; names: Set<string> } {
  expect(rows.length).toBe(f.expected.size);
  const names = f.m.file.segments!.map((s) => s.name);
  const noise = f.m.file.noise?.name ?? "Outliers";
  const wrong: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const id = String(r.id);
    const want = f.expected.get(id);
    const got = r.segment === null ? null : Number(r.segment);
    if (got !== want || r.segment_name !== (want === -1 ? noise : names[want!])) wrong.push(`${id}: sql ${got} (${String(r.segment_name)}), predict ${want}`);
    seen.add(String(r.segment_name));
  }
  return { wrong, names: seen };
}

describe("segmenta sql on DuckDB", () => {
  const duck = dialect("duckdb");
  it.for<[string, (typeof CASES)[number]]>(CASES.map((c) => [c.name, c]))("%s: the SQL's segments are predict's on every row", { timeout: 300_000 }, async ([_n, c], ctx) => {
    const t = tables[c.table];
    if (!t) return ctx.skip("the data of this case is absent (../shared/data)");
    const f = fitted.find((x) => x.c === c)!;
    const table = `sqlm_${c.table}`;
    await writeDataset(t.data, table, duck, exec);
    const sql = modelSql(f.m, { dialect: duck, table, id: t.id });
    const gmm = f.m.file.model.type === "GaussianMixture";
    const rows = await queryRows(`SELECT CAST(${duck.ident(t.id)} AS VARCHAR) AS id, segment, segment_name${gmm ? ", probability" : ""} FROM (${sql}) AS s`);
    const { wrong, names } = compare(rows, f);
    if (gmm) {
      // The probability of the segment given, as predict gives it (to rounding: exp is the engine's).
      const p = predictWithModel(f.m, t.data);
      const want = new Map(p.ids.map((id, i) => [id, p.probabilities![i]]));
      const off = rows.filter((r) => !(Math.abs(Number(r.probability) - want.get(String(r.id))!) <= 1e-12));
      expect(off.slice(0, 3)).toEqual([]);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(names.size).toBe(f.m.model.nClusters + (f.m.model.hasNoise ? 1 : 0)); // every segment (and the outliers) used, by name
  });

  it.runIf(haveTelco)("scores the Telco file as DuckDB reads it (TotalCharges as text with blanks, SeniorCitizen as 0/1 integers)", async () => {
    const f = fitted.find((x) => x.c.table === "telco")!;
    await exec(`CREATE OR REPLACE TABLE sqlm_telco_raw AS SELECT * FROM read_csv_auto('${TELCO.replace(/'/g, "''")}')`);
    const types = await queryRows(`SELECT column_name, column_type FROM (DESCRIBE sqlm_telco_raw) WHERE column_name IN ('TotalCharges', 'SeniorCitizen') ORDER BY column_name`);
    expect(types.map((r) => String(r.column_type))).toEqual(["BIGINT", "VARCHAR"]);
    const rows = await queryRows(`SELECT id, segment, segment_name FROM (${modelSql(f.m, { dialect: duck, table: "sqlm_telco_raw" })}) AS s(id, segment, segment_name)`);
    expect(compare(rows, f).wrong.slice(0, 5)).toEqual([]);
  });
});

describe("segmenta sql on PostgreSQL", () => {
  let pg: TestPostgres | null = null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let client: any = null;
  beforeAll(async () => {
    pg = await startPostgres();
    if (!pg) return;
    const { default: pgLib } = await import("pg");
    client = new pgLib.Client({ connectionString: await pg.newDatabase("sqlmodel") });
    await client.connect();
  }, 120_000);
  afterAll(async () => {
    await client?.end();
    await pg?.stop();
  });
  const d = dialect("postgres");
  it.for<[string, (typeof CASES)[number]]>(CASES.map((c) => [c.name, c]))("%s: the SQL's segments are predict's on every row", { timeout: 300_000 }, async ([_n, c], ctx) => {
    const t = tables[c.table];
    if (!client) return ctx.skip("no PostgreSQL could be started here");
    if (!t) return ctx.skip("the data of this case is absent (../shared/data)");
    const f = fitted.find((x) => x.c === c)!;
    const table = `sqlm_${c.table}`;
    const { rows: have } = await client.query("SELECT count(*) AS n FROM pg_tables WHERE tablename = $1", [table]);
    if (Number(have[0].n) === 0) await writeDataset(t.data, table, d, (s) => client.query(s));
    const sql = modelSql(f.m, { dialect: d, table, id: t.id });
    const gmm = f.m.file.model.type === "GaussianMixture";
    const { rows } = await client.query(`SELECT CAST(${d.ident(t.id)} AS TEXT) AS id, segment, segment_name${gmm ? ", probability" : ""} FROM (${sql}) AS s`);
    const { wrong, names } = compare(rows, f);
    if (gmm) {
      const p = predictWithModel(f.m, t.data);
      const want = new Map(p.ids.map((id, i) => [id, p.probabilities![i]]));
      expect(rows.filter((r: Record<string, unknown>) => !(Math.abs(Number(r.probability) - want.get(String(r.id))!) <= 1e-12)).slice(0, 3)).toEqual([]);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(names.size).toBe(f.m.model.nClusters + (f.m.model.hasNoise ? 1 : 0));
  });
});
