/**
 * Customer features over time: the RFM features (io/rfm.ts) of every customer as of each date
 * of a schedule (every month, quarter, week or N days), from one pass of DuckDB over the log.
 *
 * "As of D" means what `segmenta rfm --as-of D` means: the rows dated before D (00:00 UTC)
 * and no other, classified by the same rules (classifiedRows: no customer, unusable, a value of
 * 0, cancellation, purchase), with the same definitions of every feature. A later row changes
 * no earlier snapshot.
 *
 * How all the snapshots come from one pass:
 *
 * 1. The one pass over the log (the only scan of it): every row classified and grouped by
 *    (customer, day, order), where the order is the invoice (or, without --invoice, the
 *    timestamp) of a purchase and nothing for other rows, so that a customer's cancellations
 *    and zero-value rows of a day collapse into one group. Each group holds its counts, its
 *    exact decimal sums of purchases and cancellations and, with --product, the list of the
 *    distinct products it bought (each product then counts once, from its first order). The result
 *    has about one row per order, whatever the schedule, so the schedule (whose default
 *    bounds are the log's first and last days) is chosen after the pass.
 * 2. Each day maps to a bucket: the index of the first snapshot that sees it (the first date
 *    after it; an ASOF join with the snapshot dates). Rows on or after the last date are in no
 *    bucket and never seen.
 * 3. Per (customer, bucket): what the bucket adds (purchases, spend, cancellations, first and
 *    last purchase day), the orders first bought in it (each order counts once, in the bucket
 *    of its first purchase row, which makes distinct counts additive) and likewise the
 *    products. Cumulative window sums (min and max for the days) over each customer's buckets
 *    give the state as of each snapshot, and each state holds until the customer's next
 *    active bucket (unnest(range(bucket, next bucket))).
 * 4. The features that do not depend on the date (frequency, monetary, average order value,
 *    mean days between purchases, distinct products, return rate) are computed once per
 *    state, from the cumulative sums, exactly as io/rfm.ts computes them; as of snapshot date
 *    D, recency = D − last purchase day and tenure = D − first purchase day.
 *
 * The states sit in one temporary table (one row per customer and bucket with activity, far
 * fewer than customers × snapshots when customers buy now and then); each snapshot is read
 * from it in turn (readSnapshot: the states with b ≤ j < nb), customers numbered densely in
 * the order of their ids (the order of `rfm`'s output).
 */
import type { ColumnKind, Dataset } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import type { SegmentChange } from "../pipeline/changes.js";
import type { SegmentationConfig } from "../pipeline/config.js";
import { type LoadedModelFile, predictWithModel } from "../pipeline/model.js";
import { type RunHooks, runSegmentation, type SegmentationResult } from "../pipeline/run.js";
import { matchSegments, type PreviousSegmentation, segmentCentres } from "../pipeline/stable.js";
import { duck, exec, freshTableName, queryRows } from "./duck.js";
import {
  checkRfmMapping, classifiedRows, columnExprs, dayNumber, dayString, openTransactions, type RfmMapping,
} from "./rfm.js";
import type { LoadedTable } from "./read.js";

/** How often to take a snapshot: every `n` months, weeks or days (a quarter is 3 months). */
export interface TrackEvery {
  unit: "month" | "week" | "day";
  n: number;
  /** As the user wrote it, for messages. */
  text: string;
}

/** `month`, `quarter`, `week`, `N days` (also `Nd`, `N-days`, `day`), `N weeks`, `N months`. */
export function parseEvery(text: string): TrackEvery {
  const t = text.trim().toLowerCase();
  const fixed: Record<string, [TrackEvery["unit"], number]> = {
    month: ["month", 1], monthly: ["month", 1], quarter: ["month", 3], quarterly: ["month", 3], week: ["week", 1], weekly: ["week", 1], day: ["day", 1], daily: ["day", 1],
    year: ["month", 12], yearly: ["month", 12],
  };
  if (fixed[t]) return { unit: fixed[t][0], n: fixed[t][1], text };
  const m = /^(\d+)\s*[- ]?\s*(d|days?|w|weeks?|months?|quarters?)$/.exec(t);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100_000) {
    const n = Number(m[1]);
    const u = m[2];
    if (u.startsWith("d")) return { unit: "day", n, text };
    if (u.startsWith("w")) return { unit: "week", n, text };
    if (u.startsWith("q")) return { unit: "month", n: 3 * n, text };
    return { unit: "month", n, text };
  }
  throw new InputError(`--every ${text}: give month, quarter, week or a number of days (for example --every month, --every "14 days")`);
}

const DAY_MS = 86_400_000;
/** More snapshots than this is a mistake (a daily schedule over decades), refused with the way out. */
export const MAX_SNAPSHOTS = 2_000;

/** The date of day number `day` moved by `months` months, its day of the month clamped to the month's length. */
function addMonths(day: number, months: number): number {
  const d = new Date(day * DAY_MS);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), last)) / DAY_MS;
}

/**
 * The first date of the schedule's calendar after `day` (the first day a snapshot sees it):
 * the first day of the next month (or quarter: January, April, July, October; for longer
 * months steps, the next month whose number is a multiple of the step from January), the
 * next Monday for weeks, `day` + n for days.
 */
export function firstSnapshotAfter(every: TrackEvery, day: number): number {
  if (every.unit === "day") return day + every.n;
  if (every.unit === "week") {
    // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
    return day + (7 - ((day + 3) % 7));
  }
  const d = new Date(day * DAY_MS);
  const step = every.n <= 12 && 12 % every.n === 0 ? every.n : 1;
  let m = d.getUTCMonth() + 1;
  while (m % step !== 0) m++;
  return Date.UTC(d.getUTCFullYear(), m, 1) / DAY_MS;
}

/** The snapshot dates (day numbers) from `from` every `every` up to `to` (both included when on the schedule). */
export function snapshotDays(every: TrackEvery, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const d = every.unit === "month" ? addMonths(from, i * every.n) : from + i * every.n * (every.unit === "week" ? 7 : 1);
    if (d > to) break;
    out.push(d);
    if (out.length > MAX_SNAPSHOTS) {
      throw new InputError(
        `--every ${every.text} from ${dayString(from)} to ${dayString(to)} makes more than ${MAX_SNAPSHOTS} snapshots; take them less often or narrow --from and --to`,
      );
    }
  }
  return out;
}

export interface TrackOptions {
  every: TrackEvery;
  /** The first snapshot date (YYYY-MM-DD); default: the schedule's first date after the log's first day. */
  from?: string;
  /** The last date a snapshot may have (YYYY-MM-DD); default: the day after the last transaction (rfm's default as-of date). */
  to?: string;
}

export interface TrackSnapshot {
  index: number;
  /** The as-of date, YYYY-MM-DD: the snapshot sees the rows dated before it. */
  date: string;
  day: number;
  /** Customers with at least one purchase as of this date. */
  customers: number;
}

/** The features of every snapshot, in a DuckDB table; free it with dropTrackFeatures. */
export interface TrackFeatures {
  file: string;
  /**
   * Temporary table of the customers' cumulated states: ci (the customer's number), b and nb
   * (the state holds for the snapshots b ≤ j < nb), then the sums and days the features are
   * computed from (readSnapshot).
   */
  table: string;
  /** The feature columns, in rfm's order (recency_days, frequency, monetary, …). */
  columns: string[];
  /** The SQL of each feature over the table's row `x` ($DAY: the snapshot's day number). */
  featureSql: Record<string, string>;
  /** Every customer with a purchase before the last snapshot, in the order of their ids (ci = index). */
  ids: string[];
  snapshots: TrackSnapshot[];
  every: TrackEvery;
  fromGiven: boolean;
  toGiven: boolean;
  cancellations: "net" | "exclude";
  rowsIn: number;
  rowsWithoutCustomer: number;
  rowsWithoutDateOrValue: number;
  /** Usable rows with a customer dated on or after the last snapshot date: seen by none. */
  rowsAfterLast: number;
  /** Before the last snapshot date: rows of value 0 (or a price ≤ 0), cancellations, purchases. */
  zeroValueRows: number;
  cancellationRows: number;
  purchaseRows: number;
  /** The log's first and last days with a usable row of a customer. */
  firstDay: string;
  lastDay: string;
}

/** rfm's feature columns (see io/rfm.ts), as track computes them. */
function featureSql(map: RfmMapping): { name: string; sql: string }[] {
  const net = (map.cancellations ?? "net") === "net";
  const monetary = net ? "CAST(x.bought - coalesce(x.cancelled, 0) AS DOUBLE)" : "CAST(x.bought AS DOUBLE)";
  return [
    { name: "recency_days", sql: "$DAY - x.last_day" },
    { name: "frequency", sql: "x.orders" },
    { name: "monetary", sql: `round(${monetary}, 6)` },
    { name: "tenure_days", sql: "$DAY - x.first_day" },
    { name: "avg_order_value", sql: `round(${monetary} / x.orders, 6)` },
    { name: "mean_days_between_purchases", sql: "CASE WHEN x.orders > 1 THEN CAST(x.last_day - x.first_day AS DOUBLE) / (x.orders - 1) END" },
    ...(map.product ? [{ name: "distinct_products", sql: "x.products" }] : []),
    { name: "return_rate", sql: "CAST(coalesce(x.cancelled, 0) AS DOUBLE) / CAST(x.bought AS DOUBLE)" },
  ];
}

/** The feature columns track computes for a mapping (rfm's, in its order). */
export function trackColumns(map: RfmMapping): string[] {
  return featureSql(map).map((f) => f.name);
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/**
 * The features of every snapshot of a loaded log (see the comment at the top). `progress`
 * hears each step.
 */
export async function computeTrackFeatures(
  t: LoadedTable, map: RfmMapping, options: TrackOptions, types: Record<string, ColumnKind> = {}, progress: (m: string) => void = () => {},
): Promise<TrackFeatures> {
  checkRfmMapping(map);
  if (map.asOf !== undefined) throw new InputError("--as-of dates one snapshot; track takes its dates from --every, --from and --to");
  const fromDay = options.from !== undefined ? dayNumber("--from", options.from) : undefined;
  const toDay = options.to !== undefined ? dayNumber("--to", options.to) : undefined;
  if (fromDay !== undefined && toDay !== undefined && fromDay > toDay) {
    throw new InputError(`--from ${options.from} is after --to ${options.to}; give the first snapshot date first`);
  }
  const e = await columnExprs(t, map, types);
  const classified = classifiedRows(t, e, map);
  const key = e.invoice ? "inv" : "ms";
  const g = freshTableName("trackg");
  const tables = [g];
  const table = freshTableName("trackcum");
  const drop = async (): Promise<void> => {
    for (const x of tables) await exec(`DROP TABLE IF EXISTS ${x}`);
  };
  try {
    // 1. The one pass over the log.
    progress(`reading ${t.file}: one pass over the log`);
    const inner =
      `SELECT cust, k, ms, amt, inv, day, CASE WHEN k >= 0 THEN day END AS d, CASE WHEN k = 2 THEN ${key} END AS okey` +
      `${e.product ? ", CASE WHEN k = 2 THEN prod END AS p" : ""} FROM (${classified})`;
    await exec(
      `CREATE TEMP TABLE ${g} AS SELECT cust, d, okey, count(*) AS n, ` +
        `count(*) FILTER (WHERE k = -1) AS invalid, count(*) FILTER (WHERE k = -1 AND ms IS NULL) AS nodate, ` +
        `count(*) FILTER (WHERE k = -1 AND amt IS NULL) AS novalue, count(*) FILTER (WHERE k = -1 AND inv IS NULL) AS noinv, ` +
        `count(*) FILTER (WHERE k = 0) AS zero, count(*) FILTER (WHERE k = 1) AS cancels, count(*) FILTER (WHERE k = 2) AS buys, ` +
        `sum(amt) FILTER (WHERE k = 2) AS bought, sum(abs(amt)) FILTER (WHERE k = 1) AS cancelled` +
        `${e.product ? ", list(DISTINCT p) FILTER (WHERE k = 2) AS prods" : ""} FROM (${inner}) GROUP BY cust, d, okey`,
    );
    const totals = (await queryRows(
      `SELECT sum(n) AS n, coalesce(sum(n) FILTER (WHERE cust IS NULL), 0) AS nocust, sum(invalid) AS invalid, sum(nodate) AS nodate, ` +
        `sum(novalue) AS novalue, sum(noinv) AS noinv, min(d) AS first_day, max(d) AS last_day FROM ${g}`,
    ))[0];
    if (num(totals.n) === 0) throw new InputError(`${t.file}: no data rows were read below the header; check that the file holds the transactions`);
    if (totals.last_day === null || totals.last_day === undefined) {
      throw new InputError(
        `${t.file}: none of its ${num(totals.n).toLocaleString("en-US")} rows has a customer id, a usable date and a value ` +
          `(${num(totals.nocust).toLocaleString("en-US")} have no customer id in --customer ${map.customer}, ${num(totals.invalid).toLocaleString("en-US")} no usable date or value); check the column mapping`,
      );
    }
    const firstDay = Number(totals.first_day);
    const lastDay = Number(totals.last_day);

    // 2. The schedule, and each day's bucket.
    const from = fromDay ?? firstSnapshotAfter(options.every, firstDay);
    const to = toDay ?? lastDay + 1;
    if (from > to) {
      throw new InputError(
        `the first snapshot date ${dayString(from)} is after the last possible one ${dayString(to)} (the log runs from ${dayString(firstDay)} to ${dayString(lastDay)}); ` +
          `give --from and --to, or a shorter --every`,
      );
    }
    const days = snapshotDays(options.every, from, to);
    const m = days.length;
    const snaps = freshTableName("tracksnaps");
    tables.push(snaps);
    await exec(`CREATE TEMP TABLE ${snaps} AS SELECT * FROM (VALUES ${days.map((d, j) => `(${j}, ${d})`).join(", ")}) v(j, day)`);
    const dayb = freshTableName("trackdays");
    tables.push(dayb);
    // Every day from the log's first to the last snapshot's eve, with the first snapshot that sees it.
    await exec(
      `CREATE TEMP TABLE ${dayb} AS SELECT r.d, coalesce(s.j + 1, 0) AS b FROM (SELECT CAST(range AS INTEGER) AS d FROM range(${Math.min(firstDay, days[0])}, ${days[m - 1]})) r ` +
        `ASOF LEFT JOIN ${snaps} s ON r.d >= s.day`,
    );
    const after = (await queryRows(
      `SELECT coalesce(sum(n), 0) AS n FROM ${g} WHERE d >= ${days[m - 1]}`,
    ))[0];
    const counted = (await queryRows(
      `SELECT coalesce(sum(zero), 0) AS zero, coalesce(sum(cancels), 0) AS cancels, coalesce(sum(buys), 0) AS buys FROM ${g} WHERE d < ${days[m - 1]}`,
    ))[0];

    // Customers numbered in the order of their ids (rfm's order): those with a purchase before the last date.
    progress(`features as of ${m} ${m === 1 ? "date" : "dates"}`);
    const custs = freshTableName("trackcust");
    tables.push(custs);
    await exec(
      `CREATE TEMP TABLE ${custs} AS SELECT cust, customer_id, CAST(row_number() OVER (ORDER BY customer_id) - 1 AS INTEGER) AS ci ` +
        `FROM (SELECT cust, ${e.customerText} AS customer_id FROM (SELECT DISTINCT x.cust FROM ${g} x JOIN ${dayb} y ON x.d = y.d WHERE x.buys > 0))`,
    );
    const ids = (await readColumn(`SELECT customer_id FROM ${custs} ORDER BY ci`)).map((v) => String(v));

    // 3. Per (customer, bucket), cumulated per customer; each row holds until the customer's next bucket (nb).
    const features = featureSql(map);
    // Each product a customer bought counts once, in the bucket of its first purchase (from the orders' lists of products).
    const products = e.product
      ? `UNION ALL SELECT cust, b, 0, NULL, NULL, NULL, NULL, 0, count(*) FROM (SELECT cust, p, min(b) AS b FROM ` +
        `(SELECT x.cust, y.b, unnest(x.prods) AS p FROM ${g} x JOIN ${dayb} y ON x.d = y.d WHERE x.cust IS NOT NULL AND x.prods IS NOT NULL) GROUP BY cust, p) GROUP BY cust, b `
      : "";
    await exec(
      `CREATE TEMP TABLE ${table} AS WITH ` +
        `g1 AS (SELECT x.cust, y.b, x.d, x.okey, x.buys, x.bought, x.cancelled FROM ${g} x JOIN ${dayb} y ON x.d = y.d WHERE x.cust IS NOT NULL), ` +
        `orders AS (SELECT cust, min(b) AS b FROM g1 WHERE okey IS NOT NULL GROUP BY cust, okey), ` +
        `deltas AS (` +
        `SELECT cust, b, sum(buys) AS buys, sum(bought) AS bought, sum(cancelled) AS cancelled, min(d) FILTER (WHERE buys > 0) AS first_day, ` +
        `max(d) FILTER (WHERE buys > 0) AS last_day, 0 AS orders, 0 AS products FROM g1 GROUP BY cust, b ` +
        `UNION ALL SELECT cust, b, 0, NULL, NULL, NULL, NULL, count(*), 0 FROM orders GROUP BY cust, b ${products}), ` +
        `cb AS (SELECT cust, b, sum(buys) AS buys, sum(bought) AS bought, sum(cancelled) AS cancelled, min(first_day) AS first_day, ` +
        `max(last_day) AS last_day, sum(orders) AS orders, sum(products) AS products FROM deltas GROUP BY cust, b), ` +
        `cum AS (SELECT cust, b, lead(b) OVER (PARTITION BY cust ORDER BY b) AS nb, sum(buys) OVER w AS buys, sum(bought) OVER w AS bought, ` +
        `sum(cancelled) OVER w AS cancelled, min(first_day) OVER w AS first_day, max(last_day) OVER w AS last_day, ` +
        `sum(orders) OVER w AS orders, sum(products) OVER w AS products FROM cb ` +
        `WINDOW w AS (PARTITION BY cust ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) ` +
        // Only the states with a purchase; the customer's number instead of the key.
        // The features that do not depend on the date are computed here, once per state; recency and tenure per snapshot.
        `SELECT c.ci, CAST(x.b AS INTEGER) AS b, CAST(coalesce(x.nb, ${m}) AS INTEGER) AS nb, x.first_day, x.last_day, ` +
        `${features.filter((f) => !f.sql.includes("$DAY")).map((f) => `${f.sql} AS ${f.name}`).join(", ")} ` +
        `FROM (SELECT * REPLACE (CAST(orders AS BIGINT) AS orders, CAST(products AS BIGINT) AS products) FROM cum WHERE buys > 0) x JOIN ${custs} c ON c.cust = x.cust`,
    );
    await drop();
    // How many customers each snapshot has: the states that hold at its date.
    const sizes = new Map((await queryRows(
      `SELECT j, count(*) AS n FROM (SELECT unnest(range(b, nb)) AS j FROM ${table}) GROUP BY j`,
    )).map((r) => [Number(r.j), num(r.n)]));
    return {
      file: t.file,
      table,
      columns: trackColumns(map),
      featureSql: Object.fromEntries(features.map((f) => [f.name, f.sql.includes("$DAY") ? f.sql : `x.${f.name}`])),
      ids,
      snapshots: days.map((d, j) => ({ index: j, date: dayString(d), day: d, customers: sizes.get(j) ?? 0 })),
      every: options.every,
      fromGiven: fromDay !== undefined,
      toGiven: toDay !== undefined,
      cancellations: map.cancellations ?? "net",
      rowsIn: num(totals.n),
      rowsWithoutCustomer: num(totals.nocust),
      rowsWithoutDateOrValue: num(totals.invalid),
      rowsAfterLast: num(after.n),
      zeroValueRows: num(counted.zero),
      cancellationRows: num(counted.cancels),
      purchaseRows: num(counted.buys),
      firstDay: dayString(firstDay),
      lastDay: dayString(lastDay),
    };
  } catch (err) {
    await drop();
    await exec(`DROP TABLE IF EXISTS ${table}`);
    throw err;
  }
}

async function readColumn(sql: string): Promise<unknown[]> {
  const con = await duck();
  const result = await con.stream(sql);
  const out: unknown[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const v = chunk.getColumnValues(0);
    for (let i = 0; i < chunk.rowCount; i++) out.push(v[i]);
  }
  return out;
}

/**
 * computeTrackFeatures of a file, read in place where possible (as computeRfmFromFile does:
 * when reading in place fails on the data, the file is loaded with loadTable and the job done
 * again).
 */
export async function computeTrackFeaturesFromFile(
  file: string, map: RfmMapping, options: TrackOptions, types: Record<string, ColumnKind> = {},
  extra: { sheet?: string; progress?: (m: string) => void } = {},
): Promise<TrackFeatures> {
  checkRfmMapping(map);
  let src = await openTransactions(file, map, types, { sheet: extra.sheet });
  try {
    try {
      return await computeTrackFeatures(src.table, map, options, types, extra.progress);
    } catch (e) {
      if (!src.scanned || e instanceof InputError) throw e;
      await src.close();
      src = await openTransactions(file, map, types, { sheet: extra.sheet, load: true });
      return await computeTrackFeatures(src.table, map, options, types, extra.progress);
    }
  } finally {
    await src.close();
  }
}

export async function dropTrackFeatures(f: TrackFeatures): Promise<void> {
  await exec(`DROP TABLE IF EXISTS ${f.table}`);
}

/** One snapshot's customers: their numbers (ci, ascending) and features. */
export interface SnapshotFeatures {
  ci: Int32Array;
  columns: Record<string, Float64Array>;
}

/**
 * Reads the features of snapshot `j` (missing values as NaN): all of them, or `columns` (with
 * monetary always, which the changes carry as their value).
 */
export async function readSnapshot(f: TrackFeatures, j: number, columns: readonly string[] = f.columns): Promise<SnapshotFeatures> {
  const names = f.columns.filter((c) => columns.includes(c) || c === "monetary");
  const n = f.snapshots[j].customers;
  const ci = new Int32Array(n);
  const cols = names.map(() => new Float64Array(n));
  const con = await duck();
  const day = String(f.snapshots[j].day);
  const result = await con.stream(
    `SELECT ci, ${names.map((c) => `CAST(${f.featureSql[c].replaceAll("$DAY", day)} AS DOUBLE)`).join(", ")} FROM ${f.table} x ` +
      `WHERE x.b <= ${j} AND x.nb > ${j} ORDER BY ci`,
  );
  let offset = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (offset + rows > n) throw new Error(`snapshot ${j} has more than ${n} rows`);
    // Item by item from the vectors: no array of values per column.
    const v0 = chunk.getColumnVector(0);
    for (let i = 0; i < rows; i++) ci[offset + i] = v0.getItem(i) as number;
    for (let k = 0; k < cols.length; k++) {
      const v = chunk.getColumnVector(k + 1);
      const out = cols[k];
      for (let i = 0; i < rows; i++) {
        const x = v.getItem(i);
        out[offset + i] = x === null ? NaN : (x as number);
      }
    }
    offset += rows;
  }
  if (offset !== n) throw new Error(`snapshot ${j} has ${offset} rows, expected ${n}`);
  return { ci, columns: Object.fromEntries(names.map((c, k) => [c, cols[k]])) };
}

/** A snapshot's features as a Dataset: customer_id (an id) and the feature columns (numeric). */
export function snapshotDataset(f: TrackFeatures, s: SnapshotFeatures, j: number): Dataset {
  const ids = Array.from(s.ci, (c) => f.ids[c]);
  return {
    source: `${f.file} (RFM features as of ${f.snapshots[j].date})`,
    rows: s.ci.length,
    columns: [{ name: "customer_id", kind: "id", values: ids }, ...Object.entries(s.columns).map(([name, values]) => ({ name, kind: "numeric" as const, values }))],
  };
}

/** The most memory trackSegments may use for every customer's segment and value at every date. */
export const MAX_TRACK_BYTES = 2 ** 30;

/** The label of a customer with no purchase yet as of a snapshot (not a customer then). */
export const NOT_YET = -2;

/** The segments of one snapshot's customers. */
export interface SnapshotAssignment {
  /** The segment of each customer of the snapshot (in the order of its rows); −1: an outlier. */
  labels: Int32Array;
  /** The name of each segment by id (−1: the outliers' name, when there are any). */
  names: Map<number, string>;
  /** How the segments were found or numbered (with --refit: the matching rule), or null. */
  note: string | null;
}

/** Segments the customers of snapshot `j` (data: snapshotDataset). */
export type SegmentSnapshot = (data: Dataset, j: number) => Promise<SnapshotAssignment>;

/** Every customer's segment at every snapshot. */
export interface TrackedSegments {
  features: TrackFeatures;
  /** labels[j][ci]: the segment of customer ci as of snapshot j; NOT_YET before the first purchase. */
  labels: Int32Array[];
  /** monetary[j][ci]: the customer's monetary value as of snapshot j (NaN before the first purchase). */
  monetary: Float64Array[];
  /** The names of the segments at each snapshot. */
  names: Map<number, string>[];
  notes: (string | null)[];
}

/**
 * Reads each snapshot's features (`columns` of them, and monetary) and segments them with
 * `segment`, in date order (so that a refit can be matched to the snapshot before it).
 */
export async function trackSegments(
  f: TrackFeatures, segment: SegmentSnapshot, progress: (m: string, fraction?: number) => void = () => {}, columns: readonly string[] = f.columns,
): Promise<TrackedSegments> {
  const C = f.ids.length;
  // Every customer's segment (4 bytes) and value (8 bytes) at every date are kept.
  const bytes = 12 * C * f.snapshots.length;
  if (bytes > MAX_TRACK_BYTES) {
    throw new InputError(
      `${f.snapshots.length} snapshots of ${C.toLocaleString("en-US")} customers would hold ${(bytes / 2 ** 30).toFixed(1)} GB of segments; ` +
        "take the snapshots less often (--every) or over a shorter span (--from, --to)",
    );
  }
  const out: TrackedSegments = { features: f, labels: [], monetary: [], names: [], notes: [] };
  for (const s of f.snapshots) {
    progress(`segments as of ${s.date}: snapshot ${s.index + 1} of ${f.snapshots.length}`, s.index / f.snapshots.length);
    const snap = await readSnapshot(f, s.index, columns);
    const labels = new Int32Array(C).fill(NOT_YET);
    const monetary = new Float64Array(C).fill(NaN);
    let a: SnapshotAssignment = { labels: new Int32Array(0), names: new Map(), note: null };
    if (snap.ci.length > 0) {
      a = await segment(snapshotDataset(f, snap, s.index), s.index);
      if (a.labels.length !== snap.ci.length) throw new Error(`snapshot ${s.date}: ${a.labels.length} labels for ${snap.ci.length} customers`);
      const mon = snap.columns.monetary;
      for (let i = 0; i < snap.ci.length; i++) {
        labels[snap.ci[i]] = a.labels[i];
        monetary[snap.ci[i]] = mon[i];
      }
    }
    out.labels.push(labels);
    out.monetary.push(monetary);
    out.names.push(a.names);
    out.notes.push(a.note);
  }
  return out;
}

/** One segment's size at one snapshot. */
export interface TrackSize {
  date: string;
  segment: number;
  name: string;
  customers: number;
  /** customers / the snapshot's customers (0 when it has none). */
  share: number;
}

/** The size of every segment at every snapshot (segments in id order, the outliers last; named segments with no customer count 0). */
export function trackSizes(t: TrackedSegments): TrackSize[] {
  const out: TrackSize[] = [];
  t.labels.forEach((labels, j) => {
    const counts = new Map<number, number>();
    for (const id of t.names[j].keys()) if (id >= 0) counts.set(id, 0);
    let total = 0;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (l === NOT_YET) continue;
      total++;
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
    const ids = [...counts.keys()].sort((a, b) => (a < 0 ? 1 : b < 0 ? -1 : a - b));
    for (const id of ids) {
      const n = counts.get(id)!;
      out.push({ date: t.features.snapshots[j].date, segment: id, name: segmentName(t, j, id), customers: n, share: total ? n / total : 0 });
    }
  });
  return out;
}

function segmentName(t: TrackedSegments, j: number, id: number): string {
  return t.names[j].get(id) ?? (id < 0 ? "Outliers" : `Segment ${id}`);
}

/** Customers who went from one segment (null: not yet a customer) to another between two snapshots. */
export interface TrackTransition {
  from: number | null;
  fromName: string | null;
  to: number;
  toName: string;
  customers: number;
}

/** The flows between two consecutive snapshots. */
export interface TrackFlow {
  fromDate: string;
  toDate: string;
  /** Customers as of toDate. */
  customers: number;
  /** Customers whose first purchase falls between the two dates. */
  newCustomers: number;
  /** Customers of both dates whose segment changed. */
  moved: number;
  /** Every (from, to) pair with at least one customer, staying ones included, most customers first. */
  transitions: TrackTransition[];
}

/** The flows between each pair of consecutive snapshots. */
export function trackFlows(t: TrackedSegments): TrackFlow[] {
  const out: TrackFlow[] = [];
  for (let j = 1; j < t.labels.length; j++) {
    const a = t.labels[j - 1];
    const b = t.labels[j];
    // A pair's key: (from − NOT_YET) · K + (to − NOT_YET), K above every label's offset.
    let top = 0;
    for (let i = 0; i < b.length; i++) top = Math.max(top, a[i], b[i]);
    const K = top - NOT_YET + 1;
    const counts = new Map<number, number>();
    let customers = 0;
    let fresh = 0;
    let moved = 0;
    for (let i = 0; i < b.length; i++) {
      if (b[i] === NOT_YET) continue;
      customers++;
      if (a[i] === NOT_YET) fresh++;
      else if (a[i] !== b[i]) moved++;
      const key = (a[i] - NOT_YET) * K + (b[i] - NOT_YET);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const transitions: TrackTransition[] = [...counts].map(([key, n]) => {
      const x = Math.floor(key / K) + NOT_YET;
      const y = (key % K) + NOT_YET;
      return {
        from: x === NOT_YET ? null : x, fromName: x === NOT_YET ? null : segmentName(t, j - 1, x), to: y, toName: segmentName(t, j, y), customers: n,
      };
    });
    transitions.sort((p, q) => q.customers - p.customers || (p.from ?? -3) - (q.from ?? -3) || p.to - q.to);
    out.push({ fromDate: t.features.snapshots[j - 1].date, toDate: t.features.snapshots[j].date, customers, newCustomers: fresh, moved, transitions });
  }
  return out;
}

/**
 * The changes of snapshot `j` (j ≥ 1) against snapshot j − 1, in the one format of segment
 * changes (pipeline/changes.ts): one per customer whose segment differs (from null: a
 * customer whose first purchase falls between the two dates), dated `j`'s date, with the
 * customer's monetary value as of that date as the value at stake. Customers never leave a
 * track (a purchase once made stays in the log), so no change has `to` null. In customer order.
 */
export function trackChanges(t: TrackedSegments, j: number): SegmentChange[] {
  const a = t.labels[j - 1];
  const b = t.labels[j];
  const date = t.features.snapshots[j].date;
  const out: SegmentChange[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === NOT_YET || a[i] === b[i]) continue;
    const from = a[i] === NOT_YET ? null : a[i];
    out.push({
      id: t.features.ids[i], date, from, fromName: from === null ? null : segmentName(t, j - 1, from), to: b[i], toName: segmentName(t, j, b[i]),
      value: Number.isFinite(t.monetary[j][i]) ? t.monetary[j][i] : null,
    });
  }
  return out;
}

/** How many changes trackChanges gives over all the snapshots. */
export function countChanges(t: TrackedSegments): number {
  let n = 0;
  for (let j = 1; j < t.labels.length; j++) {
    const a = t.labels[j - 1];
    const b = t.labels[j];
    for (let i = 0; i < b.length; i++) if (b[i] !== NOT_YET && a[i] !== b[i]) n++;
  }
  return n;
}

const pctText = (x: number): string => `${(100 * x).toFixed(1)} %`;
const count = (n: number): string => n.toLocaleString("en-US");

/**
 * The movement in plain words, one line per pair of consecutive snapshots: the new customers,
 * how many moved, and the largest moves by segment name with their share of the segment they
 * left ("312 Champions (18.0 %) became At Risk").
 */
export function describeFlows(flows: TrackFlow[], sizes: TrackSize[], top = 3): string[] {
  const sizeAt = new Map(sizes.map((s) => [`${s.date} ${s.segment}`, s.customers]));
  return flows.map((f) => {
    const moves = f.transitions.filter((x) => x.from !== null && x.from !== x.to).slice(0, top);
    const parts = moves.map((x) => {
      const left = sizeAt.get(`${f.fromDate} ${x.from}`) ?? 0;
      // Two segments of one name (refits can name two alike): their ids tell them apart.
      const same = x.fromName === x.toName;
      const fromText = same ? `${x.fromName} (segment ${x.from})` : x.fromName;
      const toText = same ? `${x.toName} (segment ${x.to})` : x.toName;
      return `${count(x.customers)} ${fromText} (${pctText(left ? x.customers / left : 0)}) became ${toText}`;
    });
    const newTo = f.transitions.filter((x) => x.from === null);
    const newText = f.newCustomers
      ? `${count(f.newCustomers)} new ${f.newCustomers === 1 ? "customer" : "customers"}${newTo.length ? ` (most to ${newTo[0].toName}: ${count(newTo[0].customers)})` : ""}`
      : "no new customers";
    const moved = `${count(f.moved)} of ${count(f.customers - f.newCustomers)} moved (${pctText(f.customers - f.newCustomers ? f.moved / (f.customers - f.newCustomers) : 0)})`;
    return `${f.fromDate} → ${f.toDate}: ${newText}; ${moved}${parts.length ? `: ${parts.join("; ")}` : ""}`;
  });
}

/** Every snapshot scored by one model (predictWithModel), its names the model's. */
export function modelSegmenter(m: LoadedModelFile): SegmentSnapshot {
  const note = "segments of the model, fixed: a customer moves when their behaviour does";
  return async (data) => {
    const p = predictWithModel(m, data);
    const names = new Map<number, string>(p.names.map((n, i) => [i, n]));
    if (p.noiseName !== null) names.set(-1, p.noiseName);
    return { labels: p.labels, names, note };
  };
}

/**
 * Every snapshot fitted again (runSegmentation) and its segments matched to the previous
 * snapshot's by matchSegments (pipeline/stable.ts), given the previous snapshot's segment
 * centres in its own preprocessed space, this snapshot's rows put through that preprocessing,
 * and the previous assignments: the rule there decides (by default shared customers, when at
 * least half of this snapshot's customers were customers at the previous one, else the
 * centres), so that a segment that is still there keeps its id and name; new segments get new
 * ids. Each snapshot's note says the rule and what it matched.
 */
export function refitSegmenter(config: SegmentationConfig, hooks: RunHooks = {}): SegmentSnapshot {
  let previous: { seg: PreviousSegmentation; result: SegmentationResult } | null = null;
  return async (data) => {
    let result: SegmentationResult;
    try {
      result = await runSegmentation(config, data, {
        ...hooks,
        onProgress: (m, x) => hooks.onProgress?.(`${data.source}: ${m}`, x),
        onWarning: (w) => hooks.onWarning?.(`${data.source}: ${w}`),
      });
    } catch (e) {
      if (e instanceof InputError) {
        const where = e.message.startsWith(data.source) ? e.message : `${data.source}: ${e.message}`;
        throw new InputError(`${where}; or start the track later, when there are more customers, with --from`, { cause: e });
      }
      throw e;
    }
    const k = result.k;
    let ids = Array.from({ length: k }, (_, c) => c);
    const names = new Map<number, string>();
    let note: string | null = "the first fit: its segments' ids are their own numbers";
    if (previous) {
      const X = previous.result.pipeline.transform(data);
      const stable = matchSegments(previous.seg, { k, labels: result.labels, ids: result.ids, centres: segmentCentres(X, result.labels, k) });
      ids = stable.ids;
      for (const m of stable.matches) names.set(m.previous, m.name);
      note = `${stable.rule}; ${stable.matches.length} of ${k} segments kept their ids` +
        (stable.new.length ? `, ${stable.new.length} new` : "") + (stable.vanished.length ? `, vanished: ${stable.vanished.map((v) => v.name).join(", ")}` : "");
    }
    for (let c = 0; c < k; c++) if (!names.has(ids[c])) names.set(ids[c], result.segments[c].name);
    if (result.noise) names.set(-1, result.noise.name);
    const labels = Int32Array.from(result.labels, (l) => (l < 0 ? l : ids[l]));
    // The next snapshot is matched to this one: its segments by stable id, its customers' assignments, its centres in its own space.
    const order = [...ids.keys()].sort((a, b) => ids[a] - ids[b]);
    const centres = segmentCentres(result.matrix, result.labels, k);
    const sorted: Matrix = { rows: k, cols: centres.cols, data: new Float64Array(k * centres.cols) };
    order.forEach((c, r) => sorted.data.set(centres.data.subarray(c * centres.cols, (c + 1) * centres.cols), r * centres.cols));
    previous = {
      result,
      seg: {
        source: `the snapshot of ${data.source.replace(/^.*as of /, "").replace(/\)$/, "")}`,
        segments: order.map((c) => ({ id: ids[c], name: names.get(ids[c])! })),
        centres: sorted,
        assignments: new Map(result.ids.map((id, i) => [id, labels[i]])),
      },
    };
    return { labels, names, note };
  };
}
