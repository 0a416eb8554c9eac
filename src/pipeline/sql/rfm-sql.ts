/**
 * The RFM table of a transaction log as one query in a warehouse's own SQL (segmenta rfm
 * --sql): the conventions of segmenta rfm (src/io/rfm.ts), written for typed columns (the
 * date a DATE or TIMESTAMP, values numbers, invoices and products text; the customer id text,
 * or a number when the caller says so). Every row falls into one class, in this order: no
 * customer (dropped), no usable date, value or invoice (dropped), on or after the as-of date
 * (left out), a price ≤ 0 or a value of 0 (neither purchase nor return), a cancellation (an
 * invoice starting with the prefix, any case, or a negative value), else a purchase; values
 * are summed as exact decimals with 9 places. The as-of date defaults to the day after the
 * last usable row with a customer. Columns: customer_id, recency_days, frequency, monetary,
 * tenure_days, avg_order_value, mean_days_between_purchases, [distinct_products], return_rate,
 * ordered by customer_id (byte order). `rfmTotalsSql` gives the counts of segmenta rfm's summary.
 */
import { InputError } from "../../core/errors.js";
import type { TransactionMapping } from "../model.js";
import type { Dialect } from "./dialect.js";

const DAY_MS = 86_400_000;

export interface RfmSqlOptions {
  dialect: Dialect;
  /** The transaction table (schema.table allowed). */
  table: string;
  /** As-of date, YYYY-MM-DD (default: the day after the last transaction). */
  asOf?: string;
  /** How the customer id is stored: text (default), a whole number, or a double (17850.0 is written 17850). */
  customerType?: "text" | "integer" | "float";
}

function asOfDay(asOf: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(asOf.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(m[3])) throw new InputError(`--as-of ${asOf}: give a date as YYYY-MM-DD, e.g. 2011-12-10`);
  return ms / DAY_MS;
}

/** The CTEs shared by the table and the totals: classified rows (`rfm_rows`), per customer (`rfm_agg`), the as-of day (`rfm_asof`). */
function ctes(map: TransactionMapping, o: RfmSqlOptions): { with: string; product: boolean } {
  const dl = o.dialect;
  if (!map.customer || !map.date) throw new InputError("give the customer id column with --customer COLUMN and the date column with --date COLUMN");
  if (!map.amount && !(map.quantity && map.price)) throw new InputError("give --amount, or both --quantity and --price: the value of each row is its amount, or its quantity times its price");
  const c = (name: string): string => dl.ident(name);
  const number = (name: string): string => dl.finite(dl.toDouble(c(name)));
  const text = (name: string): string => `NULLIF(TRIM(${dl.toText(c(name))}), '')`;
  const type = o.customerType ?? "text";
  const cust = type === "text" ? text(map.customer) : type === "float" ? number(map.customer) : c(map.customer);
  const value = map.amount ? number(map.amount) : `(${number(map.quantity!)}) * (${number(map.price!)})`;
  const prefix = map.invoice ? (map.cancelPrefix ?? "C") : "";
  const given = o.asOf !== undefined ? asOfDay(o.asOf) : undefined;
  const cols = [
    `${cust} AS cust`,
    `${dl.epochMs(c(map.date))} AS ms`,
    `${dl.decimal9(value)} AS amt`,
    `${map.price ? number(map.price) : `CAST(NULL AS ${dl.double})`} AS price`,
    `${map.invoice ? text(map.invoice) : "CAST(NULL AS " + (dl.name === "postgres" ? "TEXT" : dl.name === "bigquery" || dl.name === "spark" ? "STRING" : "VARCHAR") + ")"} AS inv`,
    ...(map.product ? [`${text(map.product)} AS prod`] : []),
  ];
  const valid = `ms IS NOT NULL AND amt IS NOT NULL${map.invoice ? " AND inv IS NOT NULL" : ""}`;
  const cancel = [`amt < 0`, ...(prefix ? [`SUBSTR(UPPER(inv), 1, ${prefix.length}) = ${dl.str(prefix.toUpperCase())}`] : [])].join(" OR ");
  const k = `CASE WHEN cust IS NULL THEN -2 WHEN NOT (${valid}) THEN -1 ` +
    (given !== undefined ? `WHEN ms >= ${given * DAY_MS} THEN 3 ` : "") +
    `WHEN price < 0 OR amt = 0 THEN 0 WHEN ${cancel} THEN 1 ELSE 2 END`;
  const when = (cond: string, x: string): string => `CASE WHEN ${cond} THEN ${x} END`;
  const rows = `rfm_rows AS (\n  SELECT cust, inv, ${map.product ? "prod, " : ""}amt, ms, CAST(floor(ms / ${DAY_MS}) AS ${dl.int}) AS day, ${k} AS k\n  FROM (SELECT ${cols.join(", ")} FROM ${dl.table(o.table)}) AS t\n)`;
  const agg = `rfm_agg AS (\n  SELECT cust, count(*) AS all_rows,\n` +
    `    sum(${when("k = -1", "1")}) AS invalid_rows, sum(${when("k = 3", "1")}) AS after_rows, sum(${when("k = 0", "1")}) AS zero_rows,\n` +
    `    sum(${when("k = 1", "1")}) AS cancel_rows, coalesce(sum(${when("k = 2", "1")}), 0) AS buy_rows,\n` +
    `    max(${when("k >= 0", "day")}) AS last_any_day, min(${when("k = 2", "day")}) AS first_day, max(${when("k = 2", "day")}) AS last_day,\n` +
    `    count(DISTINCT ${when("k = 2", map.invoice ? "inv" : "ms")}) AS frequency,\n` +
    `    sum(${when("k = 2", "amt")}) AS bought, sum(${when("k = 1", "abs(amt)")}) AS cancelled` +
    (map.product ? `,\n    count(DISTINCT ${when("k = 2", "prod")}) AS products` : "") +
    `\n  FROM rfm_rows GROUP BY cust\n)`;
  const asof = `rfm_asof AS (\n  SELECT ${given !== undefined ? `${given} AS asof_day` : "max(last_any_day) + 1 AS asof_day FROM rfm_agg"}\n)`;
  return { with: `WITH ${rows},\n${agg},\n${asof}`, product: !!map.product };
}

/**
 * The summary's counts over rfm_agg and rfm_asof, as [aggregate, name, wrap] (see
 * rfmTotalsSql): `over` is "" for one row of totals, " OVER ()" for totals on every row.
 */
function totalsColumns(dl: Dialect, over: string): string[] {
  const z = (x: string): string => `coalesce(${x}, 0)`;
  const agg = (f: string, x: string): string => `${f}(${x})${over}`;
  return [
    `${agg("sum", "all_rows")} AS n`, `${z(agg("sum", "CASE WHEN cust IS NULL THEN all_rows END"))} AS nocust`, `${z(agg("sum", "invalid_rows"))} AS invalid`,
    `${z(agg("sum", "after_rows"))} AS after`, `${agg("max", "last_any_day")} AS last_day`, `${agg("max", "asof_day")} AS asof_day`,
    `${agg("sum", `CASE WHEN cust IS NOT NULL AND ${z("zero_rows")} + ${z("cancel_rows")} + buy_rows > 0 THEN 1 ELSE 0 END`)} AS seen`,
    `${agg("sum", "CASE WHEN cust IS NOT NULL AND buy_rows > 0 THEN 1 ELSE 0 END")} AS buyers`,
    `${agg("sum", `CASE WHEN cust IS NOT NULL AND buy_rows = 0 AND ${z("cancel_rows")} > 0 THEN 1 ELSE 0 END`)} AS onlycancel`,
    `${z(agg("sum", "CASE WHEN cust IS NOT NULL THEN zero_rows END"))} AS zero`, `${z(agg("sum", "CASE WHEN cust IS NOT NULL THEN cancel_rows END"))} AS cancels`,
    `${z(agg("sum", "CASE WHEN cust IS NOT NULL THEN buy_rows END"))} AS buys`,
    `CAST(${agg("sum", "bought")} AS ${dl.double}) AS bought`, `CAST(${agg("sum", "cancelled")} AS ${dl.double}) AS cancelled`,
  ];
}

/**
 * The RFM table as one query. With `totals`, every row also carries the summary's counts
 * (columns total_n, total_nocust, …, as rfmTotalsSql names them without "total_"), so that one
 * pass over the transactions gives both.
 */
export function rfmSql(map: TransactionMapping, o: RfmSqlOptions, options: { totals?: boolean } = {}): string {
  const dl = o.dialect;
  const { with: w, product } = ctes(map, o);
  const bigint = dl.name === "bigquery" ? "INT64" : "BIGINT";
  const type = o.customerType ?? "text";
  const customerText = type === "float"
    ? `CASE WHEN cust = floor(cust) AND abs(cust) < ${dl.num(1e15)} THEN ${dl.toText(`CAST(cust AS ${bigint})`)} ELSE ${dl.toText("cust")} END`
    : type === "integer" ? dl.toText("cust") : "cust";
  const monetary = (map.cancellations ?? "net") === "net" ? `CAST(bought - coalesce(cancelled, 0) AS ${dl.double})` : `CAST(bought AS ${dl.double})`;
  const columns = [
    `${customerText} AS customer_id`,
    `asof_day - last_day AS recency_days`,
    `frequency`,
    `${dl.round6(monetary)} AS monetary`,
    `asof_day - first_day AS tenure_days`,
    `${dl.round6(`${monetary} / frequency`)} AS avg_order_value`,
    `CASE WHEN frequency > 1 THEN CAST(last_day - first_day AS ${dl.double}) / (frequency - 1) END AS mean_days_between_purchases`,
    ...(product ? ["products AS distinct_products"] : []),
    `CAST(coalesce(cancelled, 0) AS ${dl.double}) / CAST(bought AS ${dl.double}) AS return_rate`,
  ];
  if (!options.totals) {
    return `${w}\nSELECT * FROM (\nSELECT\n  ${columns.join(",\n  ")}\nFROM rfm_agg CROSS JOIN rfm_asof\nWHERE cust IS NOT NULL AND buy_rows > 0\n) AS rfm\nORDER BY ${dl.byteOrder("customer_id")}`;
  }
  const totals = totalsColumns(dl, " OVER ()").map((c) => c.replace(/ AS (\w+)$/, " AS total_$1"));
  return `${w}\nSELECT * FROM (\nSELECT\n  ${[...columns, ...totals, "cust AS rfm_cust", "buy_rows AS rfm_buys"].join(",\n  ")}\nFROM rfm_agg CROSS JOIN rfm_asof\n) AS rfm\n` +
    `WHERE rfm_cust IS NOT NULL AND rfm_buys > 0\nORDER BY ${dl.byteOrder("customer_id")}`;
}

/** One row of counts for segmenta rfm's summary (rows per class, customers, amounts, the as-of day). */
export function rfmTotalsSql(map: TransactionMapping, o: RfmSqlOptions): string {
  const { with: w } = ctes(map, o);
  return `${w}\nSELECT\n  ${totalsColumns(o.dialect, "").join(",\n  ")}\nFROM rfm_agg CROSS JOIN rfm_asof`;
}
