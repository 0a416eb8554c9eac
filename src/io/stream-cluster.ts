/**
 * `cluster` and `predict` on tables bigger than a memory budget. The in-memory path holds a
 * table several times over (DuckDB's copy, the columns read into JavaScript, the preprocessed
 * matrix, the labels, ids and distances); when that estimate is over the budget, the work is
 * streamed from DuckDB instead, chunk by chunk (2,048 rows), and nothing of size n stays in
 * JavaScript:
 *
 * 1. a uniform random sample (a seeded hash of the row number: `ORDER BY hash(rowid, seed)
 *    LIMIT S`, a top-N that keeps only S rows) is profiled and segmented exactly as a small
 *    table would be: the preprocessing is fitted on it, and k is chosen on it when asked;
 * 2. the centers are refined on every row: K-Means by full Lloyd passes (each chunk is
 *    preprocessed with the sample's fitted pipeline, assigned to the nearest center and added
 *    to its cluster's sums), until the centers move less than tol (scikit-learn's tolerance,
 *    relative to the mean variance of the features) or after maxIter passes; mini-batch
 *    K-Means by mini-batch steps over the rows in a seeded random order (the order of a hash
 *    of the row number, in segments of a million rows that DuckDB sorts one at a time), with
 *    scikit-learn's early stopping;
 * 3. a second streamed pass gives every row its segment exactly as `predict` does with the
 *    model written (the same pipeline and centers), appends the labels to a DuckDB table
 *    (which DuckDB spills to disk beyond its memory limit) and adds each row to the
 *    segments' aggregates (sizes, sums of the numeric columns, counts of the categories) and
 *    to a reservoir of rows per segment;
 * 4. the segments' sizes, shares, means and modes come from those aggregates; their names,
 *    descriptions and rules from a stratified sample drawn from the reservoirs (each segment
 *    in proportion to its size, and at least a few hundred rows of every segment), and the
 *    silhouette from that sample;
 * 5. the segments file is written from the DuckDB table (temporary file, then rename), with
 *    the model (the same format as an in-memory run's, so predict reads it).
 *
 * Algorithms that need every row at once (agglomerative, DBSCAN, HDBSCAN, OPTICS, Gaussian
 * mixtures) are refused with the budget and the ways out.
 */
import { rmSync } from "node:fs";
import { freemem, tmpdir } from "node:os";
import { join } from "node:path";
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { assignNearest, MiniBatchConvergence, MiniBatchStepper } from "../cluster/minibatch-kmeans.js";
import { formatBytes, formatCount } from "../core/budget.js";
import type { Column, Dataset } from "../core/dataset.js";
import { AbortError, InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { makeRandom, type Random } from "../core/random.js";
import { silhouetteScore } from "../metrics/silhouette.js";
import type { TransformReport } from "../preprocess/pipeline.js";
import type { SegmentationConfig } from "../pipeline/config.js";
import { buildModelFile, type LoadedModelFile, type ModelFile, modelChecksum, parseModelFile, topOf, type TransactionFeatures } from "../pipeline/model.js";
import { runSegmentation, type SegmentationResult, type SegmentSummary } from "../pipeline/run.js";
import { profileSegments } from "../profile/profiles.js";
import { type RulesResult, segmentRules, sqlIdentifier } from "../profile/rules.js";
import { duck, duckConnection, exec, freshTableName, ident, lit } from "./duck.js";
import type { LoadedTable } from "./read.js";
import { type ColumnProfile, profileTable, type TableProfile } from "./schema.js";
import { OutputBatch } from "./write.js";

// ---------------------------------------------------------------------------------------------
// The budget

const UNITS: Record<string, number> = {
  "": 1, B: 1, K: 1e3, KB: 1e3, M: 1e6, MB: 1e6, G: 1e9, GB: 1e9, T: 1e12, TB: 1e12,
  KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40,
};

/** A size as the user writes it: "2GB", "512MB", "1.5G", "4GiB", or bytes. */
export function parseMemory(value: string | undefined, flag = "--memory"): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    throw new InputError(`${flag} ${value}: expected a size such as 2GB, 512MB or 1.5GB (units KB, MB, GB, TB, or KiB, MiB, GiB)`);
  }
  const bytes = Number(m[1]) * unit;
  if (!(bytes >= 1e6)) throw new InputError(`${flag} ${value}: give at least 1MB`);
  return bytes;
}

/** The default budget: half of the memory the machine has available now (Linux's MemAvailable). */
export function defaultMemoryBudget(): number {
  return 0.5 * freemem();
}

/**
 * Bytes per value of the in-memory path: DuckDB's copy of the table, the column read into
 * JavaScript, the preprocessed matrix and the copies the fit and the outputs make of it
 * (measured: 10,000,000 × 8 numbers took 5.5 GB, about 69 bytes per value).
 */
export const IN_MEMORY_BYTES = { number: 48, text: 96, row: 160 };

/** The memory the in-memory path would take for a table of these rows and column types. */
export function estimateInMemoryBytes(rows: number, columns: { duckType: string }[]): number {
  let perRow = IN_MEMORY_BYTES.row;
  for (const c of columns) perRow += /CHAR|TEXT|STRING|JSON|UUID|ENUM/i.test(c.duckType) ? IN_MEMORY_BYTES.text : IN_MEMORY_BYTES.number;
  return rows * perRow;
}

let spillDir: string | null = null;

/**
 * Keeps DuckDB within a share of the budget (by default a third, the rest being the JavaScript
 * side's): beyond it, DuckDB spills the tables it holds to a temporary folder (created by
 * DuckDB only when it spills), removed when the process exits.
 */
export async function limitDuckMemory(budget: number, share = 1 / 3): Promise<void> {
  const con = await duck();
  if (spillDir === null) {
    const dir = join(tmpdir(), `segmenta-spill-${process.pid}-${Date.now().toString(36)}`);
    spillDir = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    await con.run(`SET temp_directory = ${lit(dir)}`);
  }
  const mb = Math.max(64, Math.floor((budget * share) / 1e6));
  await con.run(`SET memory_limit = '${mb}MB'`);
}

/** The algorithms whose fit streams. */
export const STREAMING_ALGORITHMS = ["kmeans", "minibatch-kmeans"] as const;

// ---------------------------------------------------------------------------------------------
// Reading a table chunk by chunk

/** A column as streamed: its name, kind and the SQL expression giving its typed value (from a profile). */
type StreamColumn = Pick<ColumnProfile, "name" | "kind" | "expr" | "duckType">;

/**
 * Streams the columns of a table (over `profile`'s expressions, as readColumns reads them)
 * chunk by chunk, each chunk as a Dataset of its rows, in the table's order unless `order`
 * is given. onChunk returns false to stop.
 */
async function streamTable(
  con: DuckDBConnection, table: string, columns: StreamColumn[], source: string,
  onChunk: (data: Dataset, start: number) => boolean | void | Promise<boolean | void>,
  options: { where?: string; order?: string; signal?: AbortSignal } = {},
): Promise<number> {
  const sql = `SELECT ${columns.map((c, i) => `${c.expr} AS c${i}`).join(", ")} FROM ${table}${options.where ? ` WHERE ${options.where}` : ""}${options.order ? ` ORDER BY ${options.order}` : ""}`;
  const result = await con.stream(sql);
  let start = 0;
  for (;;) {
    if (options.signal?.aborted) throw new AbortError("the streamed run was aborted");
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const cols: Column[] = columns.map((c, j) => {
      const values = chunk.getColumnValues(j);
      if (c.kind === "categorical" || c.kind === "id") {
        const out = new Array<string | null>(n);
        for (let i = 0; i < n; i++) out[i] = values[i] === null ? null : String(values[i]);
        return { name: c.name, kind: c.kind, values: out, storedAs: c.duckType } as Column;
      }
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = values[i] === null ? NaN : Number(values[i]);
      return { name: c.name, kind: c.kind, values: out, storedAs: c.duckType } as Column;
    });
    const go = await onChunk({ source, rows: n, columns: cols }, start);
    start += n;
    if (go === false) break;
  }
  return start;
}

/** A uniform random sample of a table's rows, in table order, as a table of its own (a top-N by a seeded hash of the row number). */
async function sampleTable(t: LoadedTable, rows: number, seed: number): Promise<LoadedTable> {
  const table = freshTableName("sample");
  await exec(
    `CREATE TABLE ${table} AS SELECT * EXCLUDE (segmenta_r) FROM (SELECT *, rowid AS segmenta_r FROM ${t.table} ` +
      `ORDER BY hash(rowid, ${seed >>> 0}::UBIGINT) LIMIT ${rows}) ORDER BY segmenta_r`,
  );
  return { ...t, table, rows: Math.min(rows, t.rows) };
}

/** Columns of the profile by name, for streaming. */
function streamColumns(profile: TableProfile, names: string[]): StreamColumn[] {
  return names.map((n) => {
    const c = profile.columns.find((x) => x.name === n);
    if (!c) throw new InputError(`${profile.file} has no column "${n}"`);
    return c;
  });
}

// ---------------------------------------------------------------------------------------------
// Scoring a stream with a model (shared by cluster's labelling pass and predict)

interface ScoreChunk {
  data: Dataset;
  X: Matrix;
  labels: Int32Array;
  outliers: Uint8Array | null;
  start: number;
}

/** What a streamed scoring gathered: rows, sizes, the preprocessing's report summed over the chunks, and the table of labels. */
interface ScoredStream {
  rows: number;
  sizes: number[];
  noise: number;
  outliers: number;
  report: TransformReport;
  /** DuckDB table (id, segment, outlier, probability…) in the input's order. */
  table: string;
  probabilityColumns: number;
}

/**
 * Scores every row of a table with a model, chunk by chunk, exactly as predictWithModel does
 * (the pipeline's transform, then the model's most probable or nearest segment), appending
 * (id, segment, outlier flag, probabilities) to a new DuckDB table.
 */
async function scoreStream(
  t: LoadedTable, columns: StreamColumn[], m: LoadedModelFile, idColumn: string | null,
  options: { allProbabilities?: boolean; signal?: AbortSignal; onChunk?: (c: ScoreChunk) => void; onProgress?: (message: string, fraction?: number) => void },
): Promise<ScoredStream> {
  const k = m.model.nClusters;
  const hasProb = m.file.model.type === "GaussianMixture" || m.file.model.type === "HDBSCAN";
  const all = Boolean(options.allProbabilities && m.file.model.type === "GaussianMixture");
  const table = freshTableName("labels");
  const flag = m.model.hasNoise || m.pipeline.options.outliers.action === "drop";
  const cols = [`id ${idColumn ? "VARCHAR" : "BIGINT"}`, "segment INTEGER", ...(flag ? ["outlier INTEGER"] : []), ...(hasProb ? ["probability DOUBLE"] : []),
    ...(all ? Array.from({ length: k }, (_, c) => `p${c} DOUBLE`) : [])];
  await exec(`CREATE TABLE ${table} (${cols.join(", ")})`);
  const sizes = new Array<number>(k).fill(0);
  const report: TransformReport = { imputed: {}, unseen: {} };
  let noise = 0;
  let nOut = 0;
  const appendCon = await duckConnection();
  let app: DuckDBAppender | null = null;
  try {
    app = await appendCon.createAppender(table);
    const a = app;
    const idIndex = idColumn ? columns.findIndex((c) => c.name === idColumn) : -1;
    const readCon = await duckConnection();
    try {
      await streamTable(readCon, t.table, columns, t.file, (data, start) => {
        const r: TransformReport = { imputed: {}, unseen: {} };
        const X = m.pipeline.transform(data, r);
        addReport(report, r);
        const P = m.model.predictProba(X);
        const scored = P ? topOf(P) : m.model.predictWithProbabilities(X);
        const outliers = m.pipeline.outlierMask(data);
        // The id as predict writes it (rowIds): text as it is, a number as its shortest text, missing as "".
        const ids = idIndex >= 0 ? (data.columns[idIndex].values as ArrayLike<string | number | null>) : null;
        for (let i = 0; i < data.rows; i++) {
          const l = scored.labels[i];
          if (l >= 0) sizes[l]++;
          else noise++;
          const o = l < 0 || (outliers?.[i] ?? 0) ? 1 : 0;
          if (outliers?.[i]) nOut++;
          if (ids) {
            const v = ids[i];
            a.appendVarchar(v === null || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v));
          } else a.appendInteger(start + i + 1);
          a.appendInteger(l);
          if (flag) a.appendInteger(m.model.hasNoise ? o : outliers?.[i] ?? 0);
          if (hasProb) {
            const p = scored.probabilities?.[i];
            if (p === undefined || Number.isNaN(p)) a.appendNull();
            else a.appendDouble(p);
          }
          if (all) for (let c = 0; c < k; c++) a.appendDouble(P!.data[i * k + c]);
          a.endRow();
        }
        options.onChunk?.({ data, X, labels: scored.labels, outliers, start });
        options.onProgress?.("labelling every row", (start + data.rows) / Math.max(1, t.rows));
      }, { signal: options.signal });
    } finally {
      readCon.closeSync();
    }
    a.flushSync();
  } catch (e) {
    await exec(`DROP TABLE IF EXISTS ${table}`);
    throw e;
  } finally {
    app?.closeSync();
    appendCon.closeSync();
  }
  const rows = sizes.reduce((s, x) => s + x, 0) + noise;
  return { rows, sizes, noise, outliers: nOut, report, table, probabilityColumns: all ? k : 0 };
}

function addReport(into: TransformReport, r: TransformReport): void {
  for (const [c, n] of Object.entries(r.imputed)) into.imputed[c] = (into.imputed[c] ?? 0) + n;
  for (const [c, u] of Object.entries(r.unseen)) {
    const e = (into.unseen[c] ??= { count: 0, examples: [] });
    e.count += u.count;
    for (const x of u.examples) if (e.examples.length < 5 && !e.examples.includes(x)) e.examples.push(x);
  }
}

/** The SELECT that writes a segments file from a table of labels: the id, the segment, its name, the flags and probabilities. */
function segmentsSelect(
  s: ScoredStream, idName: string, names: string[], noiseName: string, hasOutlier: boolean, hasProb: boolean, ids?: number[] | null,
): string {
  const cases = names.map((n, c) => `WHEN ${c} THEN ${lit(n)}`).join(" ");
  // A model fitted with --previous numbers its segments by their stable ids (its segmentIds).
  const segment = ids ? `CASE ${s.table}.segment ${ids.map((id, c) => `WHEN ${c} THEN ${id}`).join(" ")} ELSE ${s.table}.segment END AS segment` : "segment";
  const parts = [
    `id AS ${ident(idName)}`, segment,
    `CASE ${s.table}.segment ${cases} WHEN -1 THEN ${lit(noiseName)} ELSE 'Segment ' || segment END AS segment_name`,
    ...(hasOutlier ? ["outlier"] : []),
    ...(hasProb ? ["probability"] : []),
    ...Array.from({ length: s.probabilityColumns }, (_, c) => `p${c} AS probability_${c}`),
  ];
  return `SELECT ${parts.join(", ")} FROM ${s.table}`;
}

/** Warnings of a streamed scoring, in predictWithModel's words. */
function scoreWarnings(s: ScoredStream, m: LoadedModelFile, idFound: boolean): string[] {
  const out: string[] = [];
  if (s.outliers) out.push(`${s.outliers} rows are outliers by the training rule (${m.pipeline.options.outliers.method}); they got the segment of their nearest center and are marked in the outlier column`);
  for (const [col, u] of Object.entries(s.report.unseen)) {
    out.push(`column "${col}": ${u.count} rows have categories not seen in training (${u.examples.map((e) => `"${e}"`).join(", ")}); they were scored with no category of that column`);
  }
  for (const [col, n] of Object.entries(s.report.imputed)) out.push(`column "${col}": ${n} missing values imputed with the training value`);
  if (m.file.idColumn && !idFound) out.push(`id column "${m.file.idColumn}" is absent; rows are numbered instead`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// predict

export interface StreamedPredict {
  rows: number;
  sizes: number[];
  noise: number;
  names: string[];
  noiseName: string | null;
  warnings: string[];
  /** What was done, in words ("streamed: …"). */
  streamed: string;
}

/**
 * Scores a loaded table with a model file without reading it into memory: the columns'
 * types from a sample's profile (read as the model's kinds), the rows chunk by chunk, the
 * segments file written from DuckDB (atomically).
 */
export async function predictStreamed(
  t: LoadedTable, m: LoadedModelFile, out: string,
  options: { budget: number; estimate: number; raw?: boolean; probabilities?: boolean; signal?: AbortSignal; file?: string },
): Promise<StreamedPredict> {
  const names = t.columns.map((c) => c.name);
  const missing = m.file.columns.map((c) => c.name).filter((c) => !names.includes(c));
  if (missing.length) {
    throw new InputError(
      `${options.file ?? t.file} lacks ${missing.length === 1 ? "the column" : "the columns"} ${missing.map((c) => `"${c}"`).join(", ")} that the model needs; ` +
        `add ${missing.length === 1 ? "it" : "them"} (values may be empty) or fit a new model on this data`,
    );
  }
  const types = Object.fromEntries(m.file.columns.map((c) => [c.name, c.kind]));
  const idColumn = m.file.idColumn && names.includes(m.file.idColumn) ? m.file.idColumn : null;
  const sample = await sampleTable(t, 10_000, 0);
  let profile: TableProfile;
  try {
    profile = await profileTable(sample, { ...types, ...(idColumn ? { [idColumn]: "id" as const } : {}) });
  } finally {
    await exec(`DROP TABLE IF EXISTS ${sample.table}`);
  }
  const read = [...new Set([...m.file.columns.map((c) => c.name), ...(idColumn ? [idColumn] : [])])];
  const s = await scoreStream(t, streamColumns(profile, read), m, idColumn, { allProbabilities: options.probabilities, signal: options.signal });
  try {
    const k = m.model.nClusters;
    const segNames = Array.from({ length: k }, (_, c) => m.file.segments?.[c]?.name || `Segment ${c}`);
    const noiseName = m.model.hasNoise ? m.file.noise?.name ?? "Outliers" : null;
    const flag = m.model.hasNoise || m.pipeline.options.outliers.action === "drop";
    const hasProb = m.file.model.type === "GaussianMixture" || m.file.model.type === "HDBSCAN";
    await OutputBatch.write((b) => b.query(out, segmentsSelect(s, m.file.idColumn ?? "row", segNames, noiseName ?? "Outliers", flag, hasProb, m.file.segmentIds), { raw: options.raw }));
    return {
      rows: s.rows, sizes: s.sizes, noise: s.noise, names: segNames, noiseName, warnings: scoreWarnings(s, m, idColumn !== null),
      streamed: `${options.file ?? t.file} has ${formatCount(t.rows)} rows × ${t.columns.length} columns, about ${formatBytes(options.estimate)} in memory, over the budget of ` +
        `${formatBytes(options.budget)} (--memory): scored in chunks of 2,048 rows and written from DuckDB`,
    };
  } finally {
    await exec(`DROP TABLE IF EXISTS ${s.table}`);
  }
}

// ---------------------------------------------------------------------------------------------
// cluster

export interface StreamClusterOptions {
  budget: number;
  estimate: number;
  /** Rows of the uniform sample the preprocessing is fitted on (default 200,000, less when the budget is small). */
  sampleRows?: number;
  /** Rows of the stratified sample the names, rules and silhouette come from (default 50,000). */
  describeRows?: number;
  onProgress?: (message: string, fraction?: number) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
  transactions?: TransactionFeatures;
  /** The name of the source in outputs (default: the table's file). */
  source?: string;
}

/** What a streamed fit did, for the console and --json. */
export interface StreamInfo {
  rows: number;
  columns: number;
  memoryBudget: number;
  estimatedInMemory: number;
  /** Rows of the uniform sample the preprocessing (and k, when chosen) was fitted on. */
  sampleRows: number;
  /** "lloyd": K-Means refined by full passes; "minibatch": mini-batch steps over the stream. */
  method: "lloyd" | "minibatch";
  /** Full passes over the rows for the fit (Lloyd), or rows streamed into mini-batches. */
  passes: number;
  rowsStreamed: number;
  converged: boolean;
  /** Rows of the stratified sample the names, rules and silhouette were computed on. */
  describeRows: number;
  /** The whole story in words, as printed after "streamed: ". */
  message: string;
}

export interface StreamedCluster {
  result: SegmentationResult;
  /** The stratified sample's columns (what the report and the console's column ranking read); rows is the whole table's. */
  data: Dataset;
  profile: TableProfile;
  /** The stratified sample as a dataset of its own (rows: its own), for a report. */
  sample: Dataset;
  modelFile: ModelFile;
  streamed: StreamInfo;
  /** Writes the segments file into a batch (call inside OutputBatch.write), then the labels' table is dropped by close(). */
  writeSegments(batch: OutputBatch, path: string, raw?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** Refuses an algorithm that cannot stream, with the budget and the ways out. */
export function checkStreamable(config: SegmentationConfig, t: LoadedTable, budget: number, estimate: number): void {
  if ((STREAMING_ALGORITHMS as readonly string[]).includes(config.algorithm)) return;
  throw new InputError(
    `--algorithm ${config.algorithm} needs every row in memory: ${t.file} has ${formatCount(t.rows)} rows × ${t.columns.length} columns, about ` +
      `${formatBytes(estimate)} in memory, over the budget of ${formatBytes(budget)} (--memory); cluster a sample of the rows ` +
      `(e.g. duckdb -c "COPY (SELECT * FROM '${t.file}' USING SAMPLE 100000 ROWS) TO 'sample.parquet'"), use --algorithm minibatch-kmeans or kmeans, which stream, or raise --memory`,
  );
}

/**
 * Segments a loaded table too big for memory (see the file's comment). The caller writes the
 * outputs (writeSegments, the model file) and calls close().
 */
export async function streamCluster(t: LoadedTable, config: SegmentationConfig, options: StreamClusterOptions): Promise<StreamedCluster> {
  checkStreamable(config, t, options.budget, options.estimate);
  const say = (m: string, f?: number): void => options.onProgress?.(m, f);
  const n = t.rows;
  const perRow = Math.max(1, options.estimate / Math.max(1, n));
  // The sample is clustered in memory: a quarter of the budget at most.
  const sampleRows = Math.max(1000, Math.min(n, options.sampleRows ?? 200_000, Math.floor(options.budget / 4 / perRow)));
  const describeRows = Math.min(n, options.describeRows ?? 50_000);
  const source = options.source ?? t.file;

  // 1. The uniform sample, segmented as a small table.
  say(`sampling ${formatCount(sampleRows)} of ${formatCount(n)} rows`);
  const sampleT = await sampleTable(t, sampleRows, config.seed);
  let sampleData: Dataset;
  let profile: TableProfile;
  try {
    ({ data: sampleData, profile } = await readSample(sampleT, config));
  } finally {
    await exec(`DROP TABLE IF EXISTS ${sampleT.table}`);
  }
  const result0 = await runSegmentation(config, sampleData, {
    // Its warnings count the sample's rows: they say so.
    onProgress: (m, f) => say(`on the sample: ${m}`, f), onWarning: (m) => options.onWarning?.(`on the uniform sample of ${formatCount(sampleRows)} rows: ${m}`),
    signal: options.signal, memoryLimit: options.budget, optionNames: "cli",
  });
  const file0 = JSON.parse(JSON.stringify(buildModelFile(result0, { ...sampleData, source }, { transactions: options.transactions }))) as ModelFile;
  const m0 = parseModelFile(file0, "the sample's model");
  const used = result0.features.filter((f) => f.used).map((f) => f.name);
  const described = [...used, ...config.profile.filter((c) => !used.includes(c))];
  const inputs = file0.columns.map((c) => c.name);
  const idColumn = result0.idColumn;

  // 2. The centers refined on every row.
  const k = result0.k;
  const d = result0.featureNames.length;
  const C = centersOf(file0);
  const meanVar = meanVariance(result0.matrix);
  const tol = config.tol * meanVar;
  const con = await duckConnection();
  let passes = 0;
  let rowsStreamed = 0;
  let converged = false;
  let method: StreamInfo["method"];
  let counts: Float64Array = new Float64Array(k);
  const inputCols = streamColumns(profile, inputs);
  try {
    if (config.algorithm === "kmeans") {
      method = "lloyd";
      const sums = new Float64Array(k * d);
      let labels = new Int32Array(2048);
      let ones = new Float64Array(2048).fill(1);
      const maxPasses = config.maxIter;
      while (passes < maxPasses) {
        sums.fill(0);
        counts.fill(0);
        say(`K-Means: pass ${passes + 1} over every row`);
        await streamTable(con, t.table, inputCols, t.file, (data, start) => {
          const X = m0.pipeline.transform(data);
          const drop = m0.pipeline.outlierMask(data);
          const mRows = data.rows;
          if (labels.length < mRows) {
            labels = new Int32Array(mRows);
            ones = new Float64Array(mRows).fill(1);
          }
          return assignNearest(X.data, mRows, d, C, k, ones, labels).then(() => {
            for (let i = 0; i < mRows; i++) {
              if (drop?.[i]) continue;
              const c = labels[i];
              counts[c]++;
              const so = i * d;
              const to = c * d;
              for (let j = 0; j < d; j++) sums[to + j] += X.data[so + j];
            }
            say(`K-Means: pass ${passes + 1} over every row`, (start + mRows) / n);
          });
        }, { signal: options.signal });
        rowsStreamed += n;
        passes++;
        let shift = 0;
        for (let c = 0; c < k; c++) {
          if (counts[c] === 0) continue; // an empty cluster keeps its center
          for (let j = 0; j < d; j++) {
            const v = sums[c * d + j] / counts[c];
            const δ = v - C[c * d + j];
            shift += δ * δ;
            C[c * d + j] = v;
          }
        }
        if (shift <= tol) {
          converged = true;
          break;
        }
      }
    } else {
      method = "minibatch";
      const start = Float64Array.from({ length: k }, (_, c) => result0.segments[c]?.size ?? 0);
      const r = await miniBatchStream(con, t, inputCols, m0, C, start, k, d, config, tol, n, options.signal, say);
      counts = r.counts;
      rowsStreamed = r.rowsStreamed;
      passes = r.passes;
      converged = r.converged;
    }
  } finally {
    con.closeSync();
  }

  // Segments numbered from the largest, as in memory.
  const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => counts[b] - counts[a] || a - b);
  const Cs = new Float64Array(k * d);
  order.forEach((c, to) => Cs.set(C.subarray(c * d, (c + 1) * d), to * d));

  // 3. Every row labelled by the model as written.
  const file1 = withCenters(file0, Cs, k, d, passes);
  const m1 = parseModelFile(file1, "the streamed model");
  const readNames = [...new Set([...inputs, ...described, ...(idColumn ? [idColumn] : [])])];
  const readCols = streamColumns(profile, readNames);
  const agg = new Aggregates(readCols, described, k);
  const reservoir = new Reservoirs(readCols, k, describeRows, makeRandom(config.seed + 1));
  let inertia = 0;
  say("labelling every row");
  const scored = await scoreStream(t, readCols, m1, idColumn, {
    signal: options.signal, onProgress: say,
    onChunk: ({ data, X, labels, outliers }) => {
      for (let i = 0; i < data.rows; i++) {
        const c = labels[i];
        if (outliers?.[i]) continue;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const δ = X.data[i * d + j] - Cs[c * d + j];
          s += δ * δ;
        }
        inertia += s;
      }
      agg.add(data, labels);
      reservoir.add(data, labels);
    },
  });
  try {
    // 4. Profiles from the aggregates; names, rules and the silhouette from a stratified sample.
    say("describing the segments");
    const strat = reservoir.draw(scored.sizes, describeRows);
    const idCol = idColumn ? strat.columns.find((c) => c.name === idColumn) : undefined;
    const stratIds = idCol ? Array.from(idCol.values as ArrayLike<unknown>, (v) => (v === null || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v))) : null;
    const sample: Dataset = { source, rows: strat.labels.length, columns: strat.columns };
    const profiles = profileSegments(sample, strat.labels, { features: described, clustered: used });
    const rules = segmentRules(sample, strat.labels, { features: used });
    const segments = agg.summaries(scored.sizes, n);
    for (const p of profiles.segments) {
      segments[p.id].name = p.name;
      segments[p.id].description = p.description;
    }
    const Xs = m1.pipeline.transform(sample);
    let silhouette = NaN;
    if (new Set(strat.labels).size >= 2) {
      try {
        silhouette = silhouetteScore(Xs, strat.labels, Xs.rows > config.silhouetteSampleSize ? { sampleSize: config.silhouetteSampleSize, randomState: config.seed } : {});
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }
    const warnings = result0.warnings.map((w) => `on the uniform sample of ${formatCount(sampleRows)} rows: ${w}`);
    for (const [col, m] of Object.entries(scored.report.imputed)) {
      const w = `column "${col}": ${m} missing values imputed (all ${formatCount(n)} rows)`;
      warnings.push(w);
      options.onWarning?.(w);
    }
    const empty = segments.filter((s) => s.size === 0);
    if (empty.length) warnings.push(`segments ${empty.map((s) => s.segment).join(", ")} have no rows after the streamed passes`);
    const info: StreamInfo = {
      rows: n, columns: t.columns.length, memoryBudget: options.budget, estimatedInMemory: options.estimate, sampleRows, method, passes, rowsStreamed, converged,
      describeRows: sample.rows,
      message: `${source} has ${formatCount(n)} rows × ${t.columns.length} columns, about ${formatBytes(options.estimate)} in memory, over the budget of ${formatBytes(options.budget)} (--memory): ` +
        `the preprocessing${config.k === "auto" ? " and k were" : " was"} fitted on a uniform sample of ${formatCount(sampleRows)} rows, then ` +
        (method === "lloyd"
          ? `K-Means refined by ${passes} full ${passes === 1 ? "pass" : "passes"} over every row${converged ? " (converged)" : ` (stopped at --max-iter ${config.maxIter})`}`
          : `mini-batch K-Means continued over ${formatCount(rowsStreamed)} streamed rows in a random order${converged ? " (converged)" : ""}`) +
        `; every row labelled in a second streamed pass; sizes and means from streamed aggregates; names, rules and the silhouette from a stratified sample of ${formatCount(sample.rows)} rows`,
    };
    const modelFile = finishModel(file1, segments, { rows: n, inertia, silhouette, source });
    const rulesStratified: RulesResult = {
      ...rules,
      notes: [...rules.notes, `streamed run: the rules were grown and counted on a stratified sample of ${formatCount(sample.rows)} rows (each segment in proportion to its size)`],
    };
    const result: SegmentationResult = {
      ...result0,
      labels: strat.labels, ids: stratIds ?? Array.from({ length: sample.rows }, (_, i) => String(i + 1)), matrix: Xs, outliers: result0.outliers ? m1.pipeline.outlierMask(sample) : null,
      profiles, rules: rulesStratified, rulesSql: caseSql(rulesStratified), distances: distancesTo(Xs, strat.labels, Cs), segments,
      silhouette, silhouetteSample: Math.min(sample.rows, config.silhouetteSampleSize), inertia, nIter: passes, pipeline: m1.pipeline, model: m1.model, warnings,
    };
    const hasOutlier = m1.pipeline.options.outliers.action === "drop";
    return {
      result, data: { ...sample, rows: n }, profile: { ...profile, rows: n }, sample, modelFile, streamed: info,
      writeSegments: (batch, path, raw) => batch.query(path, segmentsSelect(scored, idColumn ?? "row", segments.map((s) => s.name), "Outliers", hasOutlier, false), { raw }),
      close: () => exec(`DROP TABLE IF EXISTS ${scored.table}`),
    };
  } catch (e) {
    await exec(`DROP TABLE IF EXISTS ${scored.table}`);
    throw e;
  }
}

/** Profiles the sample (with the id column as an id) and reads it, as the in-memory path reads a table. */
async function readSample(t: LoadedTable, config: SegmentationConfig): Promise<{ data: Dataset; profile: TableProfile }> {
  const names = t.columns.map((c) => c.name);
  for (const f of [...(config.features ?? []), ...(config.id ? [config.id] : [])]) {
    if (!names.includes(f)) throw new InputError(`${config.id === f ? "--id" : "--features"}: ${t.file} has no column "${f}"; columns are: ${names.join(", ")}`);
  }
  const profile = await profileTable(t, config.id ? { ...config.types, [config.id]: "id" } : config.types);
  const { readColumns } = await import("./extract.js");
  const strict = config.features ?? profile.columns.filter((c) => c.kind === "numeric" && c.name !== config.id).map((c) => c.name);
  const data = await readColumns(t, profile, names, strict);
  return { data, profile };
}

/** The centers of a K-Means model file, row-major. */
function centersOf(file: ModelFile): Float64Array {
  const rows = (file.model as unknown as { clusterCenters: number[][] }).clusterCenters;
  return Float64Array.from(rows.flat());
}

function meanVariance(X: Matrix): number {
  const { data, rows, cols } = X;
  if (rows < 2 || cols === 0) return 0;
  let total = 0;
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) mean += data[i * cols + j];
    mean /= rows;
    let v = 0;
    for (let i = 0; i < rows; i++) v += (data[i * cols + j] - mean) ** 2;
    total += v / rows;
  }
  return total / cols;
}

/** The model file with new centers (no training labels: they were the sample's). */
function withCenters(file: ModelFile, C: Float64Array, k: number, d: number, nIter: number): ModelFile {
  const model = { ...(file.model as unknown as Record<string, unknown>) };
  model.clusterCenters = Array.from({ length: k }, (_, c) => Array.from(C.subarray(c * d, (c + 1) * d)));
  model.nIter = nIter;
  delete model.labels;
  const out = { ...file, model: model as unknown as ModelFile["model"] };
  delete out.relabel;
  delete out.checksum;
  out.checksum = modelChecksum(out);
  return out;
}

/** The model file with the whole table's training record and the segments' names. */
function finishModel(file: ModelFile, segments: SegmentSummary[], t: { rows: number; inertia: number; silhouette: number; source: string }): ModelFile {
  const model = { ...(file.model as unknown as Record<string, unknown>), inertia: t.inertia };
  const out: ModelFile = {
    ...file,
    createdAt: new Date().toISOString(),
    model: model as unknown as ModelFile["model"],
    training: { ...file.training, source: t.source, rows: t.rows, inertia: t.inertia, silhouette: t.silhouette, sizes: segments.map((s) => s.size) },
    segments: segments.map((s) => ({ segment: s.segment, name: s.name, description: s.description })),
  };
  delete out.checksum;
  out.checksum = modelChecksum(out);
  return out;
}

function distancesTo(X: Matrix, labels: Int32Array, C: Float64Array): Float64Array {
  const d = X.cols;
  const out = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const δ = X.data[i * d + j] - C[labels[i] * d + j];
      s += δ * δ;
    }
    out[i] = s;
  }
  return out;
}

function caseSql(rules: RulesResult): string {
  const whens = rules.segments.filter((s) => s.rules.length).map((s) => `  WHEN ${s.sql} THEN ${s.segment}`);
  return whens.length ? `CASE\n${whens.join("\n")}\n  ELSE NULL\nEND AS ${sqlIdentifier("segment")}` : `NULL AS ${sqlIdentifier("segment")}`;
}

/**
 * Mini-batch K-Means continued from the sample's centers over the rows in a seeded random
 * order: the rows of each of ⌈n / 1,000,000⌉ hash segments sorted by the hash, batch after
 * batch, with scikit-learn's early stopping (tol on the centers' movement, or maxNoImprovement
 * batches without a better smoothed inertia), at most maxIter passes.
 */
async function miniBatchStream(
  con: DuckDBConnection, t: LoadedTable, cols: StreamColumn[], m0: LoadedModelFile, C: Float64Array, counts: Float64Array, k: number, d: number,
  config: SegmentationConfig, tol: number, n: number, signal: AbortSignal | undefined, say: (m: string, f?: number) => void,
): Promise<{ counts: Float64Array; rowsStreamed: number; passes: number; converged: boolean }> {
  const bs = Math.min(config.batchSize, n);
  const rng: Random = makeRandom(config.seed);
  // Each center starts with the weight of its rows in the sample fit, so that the first batches refine it rather than replace it.
  const stepper = new MiniBatchStepper(C, k, d, 0.01, rng, counts, bs);
  const conv = new MiniBatchConvergence(n, bs, tol, 10);
  const batch = new Float64Array(bs * d);
  const bw = new Float64Array(bs).fill(1);
  let fill = 0;
  let steps = 0;
  let rowsStreamed = 0;
  let converged = false;
  let passes = 0;
  const S = Math.max(1, Math.ceil(n / 1_000_000));
  for (let pass = 0; pass < config.maxIter && !converged; pass++) {
    passes++;
    const seed = rng.nextUint32();
    const h = `hash(rowid, ${seed}::UBIGINT)`;
    for (let s = 0; s < S && !converged; s++) {
      say(`mini-batch K-Means: pass ${pass + 1}, part ${s + 1} of ${S}`);
      await streamTable(con, t.table, cols, t.file, (data) => {
        const X = m0.pipeline.transform(data);
        const drop = m0.pipeline.outlierMask(data);
        for (let i = 0; i < data.rows; i++) {
          rowsStreamed++;
          if (drop?.[i]) continue;
          batch.set(X.data.subarray(i * d, (i + 1) * d), fill * d);
          if (++fill < bs) continue;
          fill = 0;
          const reassign = stepper.shouldReassign(bs);
          const inertia = stepper.step(batch, bs, bw, reassign, tol > 0);
          if (conv.converged(steps, inertia, stepper.squaredDiff)) converged = true;
          steps++;
          if (converged) return false;
        }
        return true;
      }, { where: S > 1 ? `${h} % ${S} = ${s}` : undefined, order: h, signal });
    }
  }
  // The counts that order the segments: a labelling of the centers' sizes comes in the next pass; the stepper's are a fair proxy.
  return { counts: Float64Array.from(stepper.counts), rowsStreamed, passes, converged };
}

/** Per-segment sizes, sums of the numeric columns and counts of the categories, added chunk by chunk. */
class Aggregates {
  private readonly sums = new Map<string, { sum: Float64Array; n: Float64Array }>();
  private readonly tallies = new Map<string, Map<string, number>[]>();
  /** Categories counted per column before new ones are no longer added (modes stay exact unless a column has more). */
  static readonly MAX_CATEGORIES = 10_000;
  private readonly capped = new Set<string>();

  constructor(private readonly columns: StreamColumn[], private readonly described: string[], private readonly k: number) {
    for (const name of described) {
      const c = columns.find((x) => x.name === name)!;
      if (c.kind === "categorical" || c.kind === "id") this.tallies.set(name, Array.from({ length: k }, () => new Map()));
      else this.sums.set(name, { sum: new Float64Array(k), n: new Float64Array(k) });
    }
  }

  add(data: Dataset, labels: Int32Array): void {
    for (const col of data.columns) {
      const s = this.sums.get(col.name);
      if (s) {
        const v = col.values as Float64Array;
        for (let i = 0; i < data.rows; i++) {
          const l = labels[i];
          if (l >= 0 && !Number.isNaN(v[i])) {
            s.sum[l] += v[i];
            s.n[l]++;
          }
        }
        continue;
      }
      const t = this.tallies.get(col.name);
      if (!t) continue;
      const v = col.values as (string | null)[];
      for (let i = 0; i < data.rows; i++) {
        const l = labels[i];
        const x = v[i];
        if (l < 0 || x === null) continue;
        const m = t[l];
        const had = m.get(x);
        if (had !== undefined) m.set(x, had + 1);
        else if (m.size < Aggregates.MAX_CATEGORIES) m.set(x, 1);
        else this.capped.add(col.name);
      }
    }
  }

  summaries(sizes: number[], n: number): SegmentSummary[] {
    const out: SegmentSummary[] = sizes.map((size, segment) => ({ segment, name: `Segment ${segment}`, description: "", size, share: size / n, means: {}, modes: {} }));
    for (const name of this.described) {
      const s = this.sums.get(name);
      if (s) {
        for (let c = 0; c < this.k; c++) out[c].means[name] = s.n[c] ? s.sum[c] / s.n[c] : NaN;
        continue;
      }
      this.tallies.get(name)!.forEach((m, c) => {
        let best: [string, number] | null = null;
        for (const e of m) if (!best || e[1] > best[1] || (e[1] === best[1] && e[0] < best[0])) best = e;
        if (best) out[c].modes[name] = { value: best[0], share: best[1] / sizes[c] };
      });
    }
    return out;
  }
}

/**
 * A reservoir of rows per segment (Algorithm R): a uniform sample of each segment's rows,
 * up to `capacity` each, drawn down at the end in proportion to the segments' sizes.
 */
class Reservoirs {
  private readonly seen: number[];
  private readonly rows: unknown[][][];

  constructor(private readonly columns: StreamColumn[], private readonly k: number, private readonly capacity: number, private readonly rng: Random) {
    this.seen = new Array<number>(k).fill(0);
    this.rows = Array.from({ length: k }, () => []);
  }

  add(data: Dataset, labels: Int32Array): void {
    for (let i = 0; i < data.rows; i++) {
      const l = labels[i];
      if (l < 0) continue;
      const seen = ++this.seen[l];
      let slot: number;
      if (seen <= this.capacity) slot = seen - 1;
      else {
        slot = this.rng.int(seen);
        if (slot >= this.capacity) continue;
      }
      this.rows[l][slot] = data.columns.map((c) => c.values[i]);
    }
  }

  /**
   * The stratified sample: from each segment round(total × share) rows, at least
   * min(size, 300), as columns in the streamed columns' kinds, with its labels.
   */
  draw(sizes: number[], total: number): { columns: Column[]; labels: Int32Array } {
    const n = sizes.reduce((a, b) => a + b, 0);
    const take = sizes.map((s, c) => Math.min(this.rows[c].length, Math.max(Math.min(s, 300), Math.round((total * s) / Math.max(1, n)))));
    const m = take.reduce((a, b) => a + b, 0);
    const labels = new Int32Array(m);
    const columns: Column[] = this.columns.map((c) => (c.kind === "categorical" || c.kind === "id"
      ? { name: c.name, kind: c.kind, values: new Array<string | null>(m).fill(null), storedAs: c.duckType }
      : { name: c.name, kind: c.kind, values: new Float64Array(m), storedAs: c.duckType }) as Column);
    let r = 0;
    for (let c = 0; c < this.k; c++) {
      for (let i = 0; i < take[c]; i++, r++) {
        labels[r] = c;
        const row = this.rows[c][i];
        columns.forEach((col, j) => {
          (col.values as unknown[])[r] = row[j];
        });
      }
    }
    return { columns, labels };
  }
}

export type { TableProfile };
