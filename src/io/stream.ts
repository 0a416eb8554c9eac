/**
 * Mini-batch K-Means on the rows of a DuckDB query, streamed chunk by chunk: the data never
 * sits in JavaScript memory, only one chunk (2,048 rows), one batch and the centers do, so
 * tens of millions of rows cluster in a few hundred megabytes.
 *
 * How batches are made random. scikit-learn draws every batch uniformly from the whole
 * data. A stream cannot seek, so each pass over the data reads the rows in a random order
 * instead, and consecutive rows form the batches (sampling without replacement, pass by pass).
 *
 * - "hash" (the default): rows are ordered by a seeded hash of their own values
 *   (`ORDER BY hash(seed, x₁, …, x_d, w)`), a fresh seed each pass. The order is a uniform
 *   random permutation whatever the storage order, and it is reproducible: it depends only on
 *   the rows' values, not on row ids, threads or the order a query returns rows in (equal rows
 *   are interchangeable). A full sort of n rows would need memory for all of them, so a pass
 *   is split into ⌈n / segmentRows⌉ segments by the same hash (`WHERE h % S = s ORDER BY h`):
 *   each segment is a random subset sorted on its own (memory ∝ segmentRows), and their
 *   concatenation is still one random permutation. Early stopping usually ends the fit inside
 *   the first segment of the first pass, so the fit costs about one scan and a sort of
 *   segmentRows rows. A full pass re-runs the query S times: for an expensive query, first
 *   materialise it into a table.
 * - "buffer": one plain scan per pass, rows shuffled within a buffer of bufferRows rows.
 *   Cheaper, but the randomness is only local: use it only when the source is already in
 *   random order. On data stored in any meaningful order (by date, by customer id, by
 *   segment) the first batches would all come from the head of the data, and early stopping
 *   would fit the head.
 *
 * The initial centers come from a uniform random sample (the first rows in a seeded hash
 * order: `ORDER BY hash(seed, …) LIMIT`, a top-N that keeps only those rows in memory).
 */
import type { DuckDBConnection, DuckDBDataChunk } from "@duckdb/node-api";
import {
  assignNearest, chooseInitialCenters, gatherRandomRows, MiniBatchConvergence, type MiniBatchKMeansOptions, MiniBatchKMeansModel,
  MiniBatchStepper, planMiniBatch, validateMiniBatchOptions,
} from "../cluster/minibatch-kmeans.js";
import { AbortError, InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { makeRandom, type Random } from "../core/random.js";
import { duck, duckMessage, ident } from "./duck.js";

export interface QueryFitOptions extends MiniBatchKMeansOptions {
  /** A column of the query holding each row's weight (scikit-learn's sample_weight). */
  weightColumn?: string;
  /** How each pass puts the rows in random order: "hash" (default) or "buffer" (see above). */
  shuffle?: "hash" | "buffer";
  /** With "hash": the most rows sorted by one query (a pass has ⌈n / segmentRows⌉). Default 1,000,000. */
  segmentRows?: number;
  /** With "buffer": rows shuffled together. Default 65,536. */
  bufferRows?: number;
  /**
   * A final pass assigns every row to the final centers, for the exact inertia and cluster
   * sizes (scikit-learn's compute_labels). With false the inertia is estimated from the
   * smoothed batch inertia × n, as scikit-learn does. Default true.
   */
  computeLabels?: boolean;
  /** Receives the labels of the final pass, chunk by chunk (see LabelChunk). */
  onLabels?: (chunk: LabelChunk) => void | Promise<void>;
  /** A column whose values are passed to onLabels with the labels (e.g. the customer id). */
  idColumn?: string;
  onWarning?: (message: string) => void;
  /**
   * The DuckDB connection (default: the process's shared one from io/duck.ts). A query run on
   * the same connection while the fit streams ends the stream: give the fit a connection of
   * its own if other work runs at the same time, and do not query it from onLabels.
   */
  connection?: DuckDBConnection;
}

/** Labels of rows [start, start + labels.length) of the query's output, in its order. */
export interface LabelChunk {
  /** Valid only during the callback (the buffer is reused); copy it to keep it. */
  labels: Int32Array;
  start: number;
  /** Values of idColumn for these rows, when it was given. */
  ids?: unknown[];
}

export interface QueryFitResult {
  /** The fitted model. Its labels are empty (the rows stay in DuckDB); its inertia is that of the whole data. */
  model: MiniBatchKMeansModel;
  nSamples: number;
  inertia: number;
  /** Rows per cluster (empty without the final pass). */
  clusterSizes: number[];
  /** Total weight per cluster (equal to the sizes without weights). */
  clusterWeights: number[];
  /** Rows read for the steps (not counting the initial sample and the final pass). */
  rowsStreamed: number;
  /** Queries run for the steps. */
  queries: number;
}

/**
 * Fits mini-batch K-Means on the numeric `columns` of the rows of `sql` (any DuckDB query,
 * e.g. `SELECT * FROM 'customers.parquet'`), streaming them: at most maxIter passes, each
 * in a fresh random order, in batches of batchSize rows, with scikit-learn's early stopping.
 */
export async function fitMiniBatchFromQuery(sql: string, columns: string[], options: QueryFitOptions = {}): Promise<QueryFitResult> {
  validateMiniBatchOptions(options);
  if (columns.length === 0) throw new InputError("choose at least one numeric column to cluster on");
  const shuffle = options.shuffle ?? "hash";
  if (shuffle !== "hash" && shuffle !== "buffer") throw new InputError(`shuffle must be "hash" or "buffer", got "${shuffle}"`);
  const segmentRows = options.segmentRows ?? 1_000_000;
  const bufferRows = options.bufferRows ?? 65_536;
  for (const [name, v] of [["segmentRows", segmentRows], ["bufferRows", bufferRows]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InputError(`${name} must be a positive integer, got ${v}`);
  }
  const con = options.connection ?? (await duck());
  const src = new QuerySource(con, sql, columns, options.weightColumn);
  const stats = await src.check(options.tol !== undefined && options.tol > 0);
  const n = stats.n;
  const d = columns.length;
  const plan = planMiniBatch(options, n, d, options.onWarning);
  const { k, batchSize: bs } = plan;
  const rng = makeRandom(options.randomState);

  // Initialisation from a uniform random sample: one block of initSize rows per candidate,
  // and one more to choose between them. When the data is that small, all of it.
  const blocks = plan.nInit > 1 ? plan.nInit + 1 : 1;
  const poolRows = Math.min(n, blocks * plan.initSize);
  const pool = await src.readAll(`${src.base()} ORDER BY ${src.hash(rng.nextUint32())} LIMIT ${poolRows}`, poolRows);
  let centers: Float64Array;
  if (plan.initCenters) centers = Float64Array.from(plan.initCenters.data);
  else if (poolRows === n && blocks * plan.initSize > n) {
    // Everything was read: sample with replacement as the in-memory fit does.
    const valid = gatherRandomRows(pool.X, pool.w, plan.initSize, rng);
    const samples = Array.from({ length: plan.nInit }, () => (plan.initSize < n ? gatherRandomRows(pool.X, pool.w, plan.initSize, rng) : pool));
    centers = chooseInitialCenters(plan, samples, valid, rng, k);
  } else {
    const block = (b: number): { X: Matrix; w: Float64Array } => ({
      X: { data: pool.X.data.subarray(b * plan.initSize * d, (b + 1) * plan.initSize * d), rows: plan.initSize, cols: d },
      w: pool.w.subarray(b * plan.initSize, (b + 1) * plan.initSize),
    });
    const samples = Array.from({ length: plan.nInit }, (_, b) => block(b));
    centers = chooseInitialCenters(plan, samples, block(blocks - 1), rng, k);
  }

  const tol = plan.tol > 0 ? plan.tol * stats.meanVariance : 0;
  const stepper = new MiniBatchStepper(centers, k, d, plan.reassignmentRatio, rng, new Float64Array(k), bs);
  const conv = new MiniBatchConvergence(n, bs, tol, plan.maxNoImprovement);
  const budget = Math.floor((plan.maxIter * n) / bs);
  const batch = new Float64Array(bs * d);
  const bw = new Float64Array(bs);
  let fill = 0;
  let steps = 0;
  let stop = budget === 0;
  let rowsStreamed = 0;
  let queries = 0;
  const signal = options.signal;

  /** Adds row i of (X, w) to the batch; runs a step when the batch is full. Returns false to stop. */
  const feed = (X: Float64Array, w: Float64Array, i: number): boolean => {
    const so = i * d;
    const to = fill * d;
    for (let j = 0; j < d; j++) batch[to + j] = X[so + j];
    bw[fill++] = w[i];
    if (fill < bs) return true;
    fill = 0;
    if (signal?.aborted) throw new AbortError("MiniBatchKMeans was aborted");
    const reassign = stepper.shouldReassign(bs);
    const inertia = stepper.step(batch, bs, bw, reassign, tol > 0);
    const converged = conv.converged(steps, inertia, stepper.squaredDiff);
    steps++;
    options.onProgress?.({ step: steps, nSteps: budget, inertia, ewaInertia: conv.ewaInertia, reassigned: stepper.lastReassigned });
    if (converged || steps >= budget) stop = true;
    return !stop;
  };

  for (let pass = 0; pass < plan.maxIter && !stop; pass++) {
    const h = src.hash(rng.nextUint32());
    if (shuffle === "hash") {
      const S = Math.max(1, Math.ceil(n / segmentRows));
      for (let s = 0; s < S && !stop; s++) {
        const q = S === 1
          ? `${src.base()} ORDER BY ${h}`
          : `SELECT * EXCLUDE (segmenta_h) FROM (SELECT *, ${h} AS segmenta_h FROM (${src.base()})) WHERE segmenta_h % ${S} = ${s} ORDER BY segmenta_h`;
        queries++;
        await src.stream(q, (X, w, m) => {
          for (let i = 0; i < m; i++) {
            rowsStreamed++;
            if (!feed(X, w, i)) return false;
          }
          return true;
        });
      }
    } else {
      const buf = new Float64Array(bufferRows * d);
      const bufW = new Float64Array(bufferRows);
      const perm = new Int32Array(bufferRows);
      let held = 0;
      const flush = (): boolean => {
        for (let i = 0; i < held; i++) perm[i] = i;
        shuffleInPlace(perm, held, rng);
        for (let t = 0; t < held; t++) if (!feed(buf, bufW, perm[t])) return false;
        held = 0;
        return true;
      };
      queries++;
      await src.stream(src.base(), (X, w, m) => {
        for (let i = 0; i < m; i++) {
          rowsStreamed++;
          for (let j = 0; j < d; j++) buf[held * d + j] = X[i * d + j];
          bufW[held++] = w[i];
          if (held === bufferRows && !flush()) return false;
        }
        return true;
      });
      if (!stop && held > 0) flush();
    }
  }
  if (signal?.aborted) throw new AbortError("MiniBatchKMeans was aborted");

  const model0 = { clusterCenters: { data: centers, rows: k, cols: d } };
  let inertia: number;
  let clusterSizes: number[] = [];
  let clusterWeights: number[] = [];
  if (options.computeLabels !== false) {
    const r = await labelQueryWith(src, model0, { onLabels: options.onLabels, idColumn: options.idColumn, signal });
    inertia = r.inertia;
    clusterSizes = r.clusterSizes;
    clusterWeights = r.clusterWeights;
    const present = clusterSizes.filter((s) => s > 0).length;
    if (present < k) {
      options.onWarning?.(`only ${present} distinct clusters were found, fewer than nClusters=${k}: the data may have fewer than ${k} distinct points`);
    }
  } else inertia = (conv.ewaInertia ?? NaN) * n;
  const model = new MiniBatchKMeansModel({
    clusterCenters: { data: centers, rows: k, cols: d },
    labels: new Int32Array(0),
    inertia,
    nIter: Math.ceil((steps * bs) / n),
    nSteps: steps,
    counts: stepper.counts,
    nSinceLastReassign: stepper.nSinceLastReassign,
    reassignmentRatio: plan.reassignmentRatio,
    randomState: options.randomState ?? null,
    random: rng,
  });
  return { model, nSamples: n, inertia, clusterSizes, clusterWeights, rowsStreamed, queries };
}

export interface LabelQueryOptions {
  weightColumn?: string;
  idColumn?: string;
  onLabels?: (chunk: LabelChunk) => void | Promise<void>;
  signal?: AbortSignal;
  connection?: DuckDBConnection;
}

/**
 * Assigns every row of `sql` to the nearest center of a fitted model (KMeans or
 * MiniBatchKMeans) in one streamed pass: the (weighted) inertia, the rows and the weight per
 * cluster, and the labels chunk by chunk to onLabels.
 */
export async function labelQuery(
  model: { clusterCenters: Matrix }, sql: string, columns: string[], options: LabelQueryOptions = {},
): Promise<{ nSamples: number; inertia: number; clusterSizes: number[]; clusterWeights: number[] }> {
  if (columns.length !== model.clusterCenters.cols) {
    throw new InputError(`${columns.length} columns were given but the model was fitted with ${model.clusterCenters.cols} features`);
  }
  const con = options.connection ?? (await duck());
  const src = new QuerySource(con, sql, columns, options.weightColumn);
  return labelQueryWith(src, model, options);
}

async function labelQueryWith(
  src: QuerySource, model: { clusterCenters: Matrix }, options: Pick<LabelQueryOptions, "idColumn" | "onLabels" | "signal">,
): Promise<{ nSamples: number; inertia: number; clusterSizes: number[]; clusterWeights: number[] }> {
  const { data: C, rows: k, cols: d } = model.clusterCenters;
  const sizes = new Float64Array(k);
  const weights = new Float64Array(k);
  let labels = new Int32Array(2048);
  let inertia = 0;
  let start = 0;
  const id = options.idColumn;
  const q = id === undefined ? src.base() : src.base(`, ${ident(id)} AS segmenta_id`);
  await src.stream(q, async (X, w, m, chunk) => {
    if (options.signal?.aborted) throw new AbortError("labelling was aborted");
    if (labels.length < m) labels = new Int32Array(m);
    inertia += await assignNearest(X, m, d, C, k, w, labels);
    for (let i = 0; i < m; i++) {
      sizes[labels[i]] += 1;
      weights[labels[i]] += w[i];
    }
    if (options.onLabels) {
      const out: LabelChunk = { labels: labels.subarray(0, m), start };
      if (id !== undefined) {
        const v = chunk.getColumnVector(src.width);
        out.ids = Array.from({ length: m }, (_, i) => v.getItem(i));
      }
      await options.onLabels(out);
    }
    start += m;
    return true;
  });
  return { nSamples: start, inertia, clusterSizes: Array.from(sizes), clusterWeights: Array.from(weights) };
}

/** Fisher–Yates on the first m entries. */
function shuffleInPlace(a: Int32Array, m: number, rng: Random): void {
  for (let i = m - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** The numeric columns (and weight) of a query, read as doubles chunk by chunk. */
class QuerySource {
  readonly d: number;
  /** Columns read per row: d features, then the weight when there is one. */
  readonly width: number;
  private X: Float64Array;
  private w = new Float64Array(2048);
  /** Whether w holds ones (no weight column). */
  private onesReady = false;

  constructor(
    private readonly con: DuckDBConnection, private readonly sql: string, private readonly columns: string[],
    private readonly weightColumn: string | undefined,
  ) {
    this.d = columns.length;
    this.width = this.d + (weightColumn === undefined ? 0 : 1);
    this.X = new Float64Array(2048 * this.d);
    const seen = new Set<string>();
    for (const c of columns) {
      if (seen.has(c)) throw new InputError(`column ${c} is listed twice; list each column once`);
      seen.add(c);
    }
  }

  /** SELECT of the features as c0… (doubles), then w; `extra` adds more select items. */
  base(extra = ""): string {
    const cols = this.columns.map((c, j) => `TRY_CAST(${ident(c)} AS DOUBLE) AS c${j}`);
    if (this.weightColumn !== undefined) cols.push(`TRY_CAST(${ident(this.weightColumn)} AS DOUBLE) AS w`);
    return `SELECT ${cols.join(", ")}${extra} FROM (${this.sql}) AS segmenta_src`;
  }

  /** A seeded hash of a row's values (features and weight). */
  hash(seed: number): string {
    const cols = this.columns.map((_, j) => `c${j}`);
    if (this.weightColumn !== undefined) cols.push("w");
    return `hash(${seed >>> 0}::UBIGINT, ${cols.join(", ")})`;
  }

  /**
   * One scan: the row count, and a check that every value is a finite number (and every
   * weight finite and non-negative), with the mean feature variance when asked.
   */
  async check(variance: boolean): Promise<{ n: number; meanVariance: number }> {
    const items = ["count(*) AS n"];
    this.columns.forEach((_, j) => items.push(`count_if(c${j} IS NULL OR NOT isfinite(c${j})) AS bad${j}`));
    if (variance) this.columns.forEach((_, j) => items.push(`var_pop(c${j}) AS var${j}`));
    if (this.weightColumn !== undefined) items.push("count_if(w IS NULL OR NOT isfinite(w) OR w < 0) AS badw", "sum(w) AS sumw");
    let row: Record<string, unknown>;
    try {
      const reader = await this.con.runAndReadAll(`SELECT ${items.join(", ")} FROM (${this.base()})`);
      row = reader.getRowObjectsJS()[0] as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`the query could not be read for clustering: ${duckMessage(e)}; check the SQL and the column names`, { cause: e });
    }
    const n = Number(row.n);
    this.columns.forEach((c, j) => {
      const bad = Number(row[`bad${j}`]);
      if (bad > 0) {
        throw new InputError(`column ${c} has ${bad} value(s) that are missing, not numbers or infinite; impute or filter them first`);
      }
    });
    if (this.weightColumn !== undefined) {
      if (Number(row.badw) > 0) {
        throw new InputError(`weight column ${this.weightColumn} has ${Number(row.badw)} value(s) that are missing, negative or not finite numbers`);
      }
      if (n > 0 && !(Number(row.sumw) > 0)) throw new InputError(`weight column ${this.weightColumn} sums to 0: give at least one row a positive weight`);
    }
    let meanVariance = 0;
    if (variance) {
      for (let j = 0; j < this.d; j++) meanVariance += Number(row[`var${j}`] ?? 0);
      meanVariance /= this.d;
    }
    return { n, meanVariance };
  }

  /** Reads all the rows of a (small) query into memory. */
  async readAll(sql: string, expected: number): Promise<{ X: Matrix; w: Float64Array }> {
    const d = this.d;
    const X = new Float64Array(expected * d);
    const w = new Float64Array(expected);
    let r = 0;
    await this.stream(sql, (cx, cw, m) => {
      const take = Math.min(m, expected - r);
      X.set(cx.subarray(0, take * d), r * d);
      w.set(cw.subarray(0, take), r);
      r += take;
      return r < expected;
    });
    return { X: { data: X.subarray(0, r * d), rows: r, cols: d }, w: w.subarray(0, r) };
  }

  /**
   * Streams a query whose first columns are the d features (then the weight): each chunk's
   * rows into reusable row-major buffers, handed to onChunk (valid only during the call).
   * onChunk returns false to stop reading.
   */
  async stream(
    sql: string,
    onChunk: (X: Float64Array, w: Float64Array, rows: number, chunk: DuckDBDataChunk) => boolean | Promise<boolean>,
  ): Promise<void> {
    const d = this.d;
    let result;
    try {
      result = await this.con.stream(sql);
    } catch (e) {
      throw new InputError(`the query could not be read for clustering: ${duckMessage(e)}`, { cause: e });
    }
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      const m = chunk.rowCount;
      if (this.w.length < m) {
        this.X = new Float64Array(m * d);
        this.w = new Float64Array(m);
        this.onesReady = false;
      }
      const { X, w } = this;
      for (let j = 0; j < d; j++) {
        const v = chunk.getColumnVector(j);
        for (let i = 0; i < m; i++) {
          const x = v.getItem(i) as number | null;
          if (x === null) throw new InputError(`column ${this.columns[j]} has a missing value; impute or filter it first`);
          X[i * d + j] = x;
        }
      }
      if (this.weightColumn !== undefined) {
        const v = chunk.getColumnVector(d);
        for (let i = 0; i < m; i++) w[i] = (v.getItem(i) as number | null) ?? 0;
      } else if (!this.onesReady) {
        w.fill(1);
        this.onesReady = true;
      }
      if ((await onChunk(X, w, m, chunk)) === false) return;
    }
  }
}
