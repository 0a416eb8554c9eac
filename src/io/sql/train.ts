/**
 * Mini-batch K-Means trained where the data live (segmenta sql --train): a table too big to
 * leave a PostgreSQL database is clustered without ever reading it whole.
 *
 *   1. One aggregate query gives each feature's count, mean and spread: the preprocessing
 *      (mean imputation, then standard scaling with the spread of the imputed column, as
 *      segmenta's pipeline fits them) is fitted in the database. One row comes out.
 *   2. The engine draws the batches: `TABLESAMPLE BERNOULLI(p) REPEATABLE(seed)` (each row
 *      with probability p, seeded, so that a run can be repeated). A first sample of about
 *      three batches is clustered in memory by K-Means (k-means++, 3 starts) for the initial
 *      centres; then each batch moves the centres as scikit-learn's MiniBatchKMeans does (each
 *      centre is the running mean of every row assigned to it so far).
 *   3. The final labelling is the SQL of segmenta sql (src/pipeline/sql/model-sql.ts) run in
 *      the database, grouped by segment: k rows come out, with each segment's size and sum of
 *      squared distances (the inertia).
 * Every row read out of the database is counted. The result is a model file like cluster's
 * (centres numbered from the largest segment down) that predict and segmenta sql use.
 */
import { KMeans } from "../../cluster/kmeans.js";
import { InputError } from "../../core/errors.js";
import { parseConfig } from "../../pipeline/config.js";
import { type ModelFile, MODEL_FORMAT, MODEL_VERSION, modelChecksum, parseModelFile } from "../../pipeline/model.js";
import { DEFAULT_PREPROCESS, type PipelineJSON } from "../../preprocess/pipeline.js";
import { dialect } from "../../pipeline/sql/dialect.js";
import { modelSql } from "../../pipeline/sql/model-sql.js";
import { connectPg, pgColumnTypes, type PgClient } from "./warehouse.js";

export interface WarehouseTrainOptions {
  url: string;
  table: string;
  features: string[];
  k: number;
  /** Rows per batch (expected; Bernoulli sampling draws about this many). Default 4096. */
  batchSize?: number;
  /** Mini-batch steps. Default 50. */
  iterations?: number;
  seed?: number;
  /** The table's id column, recorded in the model. */
  id?: string;
  progress?: (message: string) => void;
}

export interface WarehouseTrainResult {
  file: ModelFile;
  /** Rows in the table. */
  rows: number;
  /** Rows read out of the database: the statistics row, the samples, the k rows of sizes. */
  rowsPulled: number;
  batches: number;
  inertia: number;
  sizes: number[];
}

const NUMBER_TYPES = /^(smallint|integer|bigint|real|double precision|numeric.*|decimal.*)$/;

export async function trainInPostgres(o: WarehouseTrainOptions): Promise<WarehouseTrainResult> {
  const k = o.k;
  const batch = o.batchSize ?? 4096;
  const iterations = o.iterations ?? 50;
  const seed = o.seed ?? 42;
  if (!Number.isInteger(k) || k < 2) throw new InputError(`--k ${k}: give a whole number of segments ≥ 2`);
  if (!Number.isInteger(batch) || batch < 1) throw new InputError(`--batch-size ${batch}: give a whole number of rows ≥ 1`);
  if (!Number.isInteger(iterations) || iterations < 0) throw new InputError(`--iterations ${iterations}: give a whole number ≥ 0`);
  if (!o.features.length) throw new InputError("give the feature columns with --features a,b,c (numeric columns of the table)");
  const dl = dialect("postgres");
  const c = await connectPg(o.url);
  try {
    const types = await pgColumnTypes(c, o.table);
    for (const f of o.features) {
      const t = types.get(f);
      if (t === undefined) throw new InputError(`--features ${f}: ${o.table} has no such column; columns are: ${[...types.keys()].join(", ")}`);
      if (!NUMBER_TYPES.test(t)) throw new InputError(`--features ${f}: the column is ${t}; in-database training takes numeric columns (cast others in a view)`);
    }
    if (o.id !== undefined && !types.has(o.id)) throw new InputError(`--id ${o.id}: ${o.table} has no such column`);
    const d = o.features.length;
    const table = dl.table(o.table);
    const x = (f: string): string => dl.finite(dl.toDouble(dl.ident(f)));
    let pulled = 0;
    // 1. The preprocessing, fitted in the database.
    const stats = (await c.query(`SELECT count(*) AS n, ${o.features.map((f, j) => `count(${x(f)}) AS m${j}, avg(${x(f)}) AS a${j}, stddev_pop(${x(f)}) AS s${j}`).join(", ")} FROM ${table}`)).rows[0] as Record<string, unknown>;
    pulled++;
    const n = Number(stats.n);
    if (n < k) throw new InputError(`${o.table} has ${n} rows, fewer than --k ${k}`);
    const mean = o.features.map((f, j) => {
      if (Number(stats[`m${j}`]) === 0) throw new InputError(`--features ${f}: the column has no values in any of the ${n} rows; leave it out`);
      return Number(stats[`a${j}`]);
    });
    // The spread of the column once its missing values are the mean (as the pipeline scales imputed values).
    const scale = o.features.map((_, j) => {
      const s = Number(stats[`s${j}`]) * Math.sqrt(Number(stats[`m${j}`]) / n);
      return s > 0 ? s : 1;
    });
    const prep = (rows: Record<string, unknown>[]): Float64Array => {
      const out = new Float64Array(rows.length * d);
      rows.forEach((r, i) => {
        for (let j = 0; j < d; j++) {
          const v = r[`x${j}`];
          const raw = v === null || v === undefined ? NaN : Number(v);
          out[i * d + j] = ((Number.isFinite(raw) ? raw : mean[j]) - mean[j]) / scale[j];
        }
      });
      return out;
    };
    // 2. Batches drawn by the engine.
    const sample = async (rows: number, s: number): Promise<Float64Array> => {
      const p = Math.min(100, (100 * rows) / n);
      const r = await c.query(`SELECT ${o.features.map((f, j) => `${x(f)} AS x${j}`).join(", ")} FROM ${table} TABLESAMPLE BERNOULLI(${p}) REPEATABLE(${s})`);
      pulled += r.rows.length;
      return prep(r.rows as Record<string, unknown>[]);
    };
    o.progress?.(`initial centres from a sample of about ${Math.min(n, Math.max(3 * batch, 10 * k))} rows`);
    let init = await sample(Math.max(3 * batch, 10 * k), seed);
    for (let s = 1; init.length / d < k && s < 10; s++) init = await sample(Math.min(n, 10 * k * 2 ** s), seed + s * 7919);
    if (init.length / d < k) throw new InputError(`${o.table}: the samples drew fewer than ${k} rows; lower --k`);
    const start = await new KMeans({ nClusters: k, nInit: 3, randomState: seed }).fit({ data: init, rows: init.length / d, cols: d });
    const C = Float64Array.from(start.clusterCenters.data);
    const counts = new Float64Array(k);
    const sums = new Float64Array(k * d);
    const got = new Float64Array(k);
    for (let it = 0; it < iterations; it++) {
      if (it % 10 === 0) o.progress?.(`mini-batch ${it + 1} of ${iterations}`);
      const X = await sample(batch, seed + 1 + it);
      const m = X.length / d;
      sums.fill(0);
      got.fill(0);
      for (let i = 0; i < m; i++) {
        let best = 0;
        let bestD = Infinity;
        for (let cc = 0; cc < k; cc++) {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const t = X[i * d + j] - C[cc * d + j];
            s += t * t;
          }
          if (s < bestD) {
            bestD = s;
            best = cc;
          }
        }
        got[best]++;
        for (let j = 0; j < d; j++) sums[best * d + j] += X[i * d + j];
      }
      // Each centre: the running mean of the rows assigned to it so far.
      for (let cc = 0; cc < k; cc++) {
        if (got[cc] === 0) continue;
        const total = counts[cc] + got[cc];
        for (let j = 0; j < d; j++) C[cc * d + j] = (C[cc * d + j] * counts[cc] + sums[cc * d + j]) / total;
        counts[cc] = total;
      }
    }
    // 3. Labelling and inertia in the database.
    const pipeline: PipelineJSON = {
      type: "Pipeline", version: 2, options: { ...DEFAULT_PREPROCESS, numericImpute: "mean" },
      numeric: { names: [...o.features], kinds: o.features.map(() => "numeric"), imputer: { type: "SimpleImputer", strategy: "mean", statistics: mean, indicatorFeatures: [] },
        missing: o.features.map((_, j) => n - Number(stats[`m${j}`])) },
      outliers: null, power: null, ordinal: [], scaler: { type: "StandardScaler", center: mean, scale }, categorical: [], selection: [], pca: null,
    };
    const build = (centers: Float64Array, sizes: number[], inertia: number): ModelFile => {
      const file: ModelFile = {
        format: MODEL_FORMAT, version: MODEL_VERSION, createdAt: new Date().toISOString(),
        config: parseConfig({ algorithm: "minibatch-kmeans", k, features: o.features, seed, batchSize: batch, maxIter: Math.max(1, iterations), preprocessing: { numericImpute: "mean" }, ...(o.id ? { id: o.id } : {}) }),
        columns: o.features.map((name) => ({ name, kind: "numeric" })), idColumn: o.id ?? null, pipeline,
        model: { type: "KMeans", version: 1, nClusters: k, nFeatures: d, clusterCenters: Array.from({ length: k }, (_, cc) => Array.from(centers.subarray(cc * d, (cc + 1) * d))), inertia, nIter: iterations },
        training: { source: `${o.table} (PostgreSQL, trained in the database)`, rows: n, k, silhouette: NaN, inertia, sizes },
      };
      file.checksum = modelChecksum(file);
      return JSON.parse(JSON.stringify(file)) as ModelFile;
    };
    const draft = parseModelFile(build(C, new Array<number>(k).fill(0), 0), "the trained model");
    o.progress?.("labelling every row in the database");
    const totals = await groupScores(c, modelSql(draft, { dialect: dl, table: o.table, id: false, distance: true }));
    pulled += totals.length;
    const size = new Array<number>(k).fill(0);
    const within = new Array<number>(k).fill(0);
    for (const r of totals) {
      size[Number(r.segment)] = Number(r.n);
      within[Number(r.segment)] = Number(r.inertia);
    }
    // Centres numbered from the largest segment down, as cluster numbers them.
    const order = Array.from({ length: k }, (_, cc) => cc).sort((a, b) => size[b] - size[a] || a - b);
    const sorted = new Float64Array(k * d);
    order.forEach((from, to) => sorted.set(C.subarray(from * d, (from + 1) * d), to * d));
    const inertia = within.reduce((a, b) => a + b, 0);
    const file = build(sorted, order.map((cc) => size[cc]), inertia);
    parseModelFile(file, "the trained model");
    return { file, rows: n, rowsPulled: pulled, batches: iterations, inertia, sizes: order.map((cc) => size[cc]) };
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function groupScores(c: PgClient, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.query(`SELECT segment, count(*) AS n, sum(squared_distance) AS inertia FROM (${sql}) AS s GROUP BY segment ORDER BY segment`)).rows as Record<string, unknown>[];
}
