/**
 * Per-customer RFM features from a transaction log, computed by DuckDB in one pass: the rows
 * never come into JavaScript, so memory follows DuckDB's aggregation (one entry per
 * customer), not the size of the log. Typed Parquet and CSV files are read in place; other
 * files are loaded by loadTable.
 *
 * Every row falls into exactly one of these classes, checked in this order, and each class is
 * counted in the summary:
 *
 * 1. no customer id (null or blank): dropped;
 * 2. no usable date, value (amount, or quantity × price) or, with --invoice, invoice: dropped;
 * 3. dated on or after the as-of date: left out (features are as they stood at the start of
 *    that day; the default as-of date is the day after the last row with a customer, so by
 *    default nothing is left out);
 * 4. a price of 0 or less, or a value of 0 ("zero-value" rows): free items and write-offs
 *    such as Online Retail's "Adjust bad debt" are neither purchases nor returns; left out;
 * 5. a cancellation: an invoice that starts with the cancel prefix (default "C", compared
 *    without regard to case; only with --invoice), or a negative amount or quantity. Its
 *    absolute value is "cancelled"; with `net` (the default) it is taken off the customer's
 *    spend, with `exclude` it is ignored. Either way it is never a purchase;
 * 6. otherwise a purchase (its value is > 0).
 *
 * Features of each customer with at least one purchase (days are calendar days, UTC):
 * - recency_days: as-of date − day of the last purchase (≥ 1 by the rule in 3);
 * - frequency: distinct invoices among the purchases (without --invoice: distinct purchase
 *   timestamps, so the lines of one order count once);
 * - monetary: purchases − cancelled (net) or purchases alone (exclude); may be negative when
 *   the log holds returns of purchases made before it starts;
 * - tenure_days: as-of date − day of the first purchase;
 * - avg_order_value: monetary / frequency;
 * - mean_days_between_purchases: (day of last − day of first purchase) / (frequency − 1),
 *   the mean gap between consecutive orders; null when frequency is 1;
 * - distinct_products (only with --product): distinct products among the purchases;
 * - return_rate: cancelled / purchases (0 when nothing was cancelled; it can exceed 1 when
 *   earlier purchases are returned). It is computed in both cancellation modes.
 * Values are summed exactly as decimals with 9 places (so the result does not depend on the
 * order in which DuckDB's threads add rows; values beyond ±1e29 count as unusable), and
 * monetary and avg_order_value are rounded to 6 decimals. Customers without a purchase (only
 * cancellations or zero-value rows) are left out and counted.
 */
import { InputError } from "../core/errors.js";
import type { ColumnKind } from "../core/dataset.js";
import type { CancellationMode, TransactionMapping } from "../pipeline/model.js";
import { RFM_SEGMENTS, rfmScores, rfmSegmentCodes, type RfmSegment } from "../profile/rfm-scores.js";
import { duck, duckMessage, exec, freshTableName, ident, lit, queryRows } from "./duck.js";
import { checkInputFile, detectFormat, dropTable, type LoadedTable, loadTable } from "./read.js";
import { profileTable } from "./schema.js";
import { compressionOption, sniffCsv } from "./sniff.js";

export type { CancellationMode } from "../pipeline/model.js";
export const CANCELLATION_MODES: readonly CancellationMode[] = ["net", "exclude"];

/** A transaction log's columns and options (as a model records them), and the as-of date. */
export interface RfmMapping extends TransactionMapping {
  /** As-of date (YYYY-MM-DD); default: the day after the last transaction. */
  asOf?: string;
}

export interface RfmSummary {
  /** Temporary DuckDB table with one row per customer, ordered by customer_id. */
  table: string;
  /** Its columns, in order. */
  columns: string[];
  customers: number;
  asOf: string;
  asOfGiven: boolean;
  cancellations: CancellationMode;
  /** The prefix that marked cancelled invoices (null without --invoice or with an empty prefix). */
  cancelPrefix: string | null;
  rowsIn: number;
  rowsWithoutCustomer: number;
  rowsWithoutDateOrValue: number;
  rowsAfterAsOf: number;
  zeroValueRows: number;
  cancellationRows: number;
  purchaseRows: number;
  /** Distinct customer ids among the rows in the window (classes 4–6). */
  customersInLog: number;
  /** customersInLog − customers: customers with no purchase, left out. */
  customersWithoutPurchase: number;
  /** Of those, the ones with at least one cancellation. */
  customersWithOnlyCancellations: number;
  purchasedAmount: number;
  cancelledAmount: number;
}

const DAY_MS = 86_400_000;
const NUMERIC_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const DATE_TYPES = /^(DATE|TIMESTAMP.*)$/;

/** Day number (days since 1970-01-01) of a YYYY-MM-DD date, or an InputError naming the flag. */
export function dayNumber(flag: string, value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).getUTCDate() !== Number(m[3]) || new Date(ms).getUTCMonth() !== Number(m[2]) - 1) {
    throw new InputError(`${flag} ${value}: give a date as YYYY-MM-DD, e.g. 2011-12-10`);
  }
  return ms / DAY_MS;
}

/** The YYYY-MM-DD date of a day number (days since 1970-01-01, UTC). */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Checks a mapping without the data: which flags go together, and the as-of date. */
export function checkRfmMapping(map: RfmMapping): void {
  if (!map.customer) throw new InputError("give the customer id column with --customer COLUMN");
  if (!map.date) throw new InputError("give the date column with --date COLUMN");
  if (map.amount && (map.quantity || map.price)) {
    throw new InputError(`give either --amount ${map.amount} or --quantity and --price, not both`);
  }
  if (!map.amount && !(map.quantity && map.price)) {
    const missing = map.quantity ? "--price" : map.price ? "--quantity" : "--amount, or both --quantity and --price";
    throw new InputError(`give ${missing}: the value of each row is its amount, or its quantity times its price`);
  }
  if (map.cancellations !== undefined && !CANCELLATION_MODES.includes(map.cancellations)) {
    throw new InputError(`--cancellations ${map.cancellations}: use net (take cancellations off the spend) or exclude (ignore them)`);
  }
  if (map.cancelPrefix !== undefined && !map.invoice) {
    throw new InputError(
      `--cancel-prefix ${map.cancelPrefix}: cancelled invoices are recognised by their number; give --invoice COLUMN too ` +
        "(without it only negative quantities or amounts count as cancellations)",
    );
  }
  if (map.asOf !== undefined) dayNumber("--as-of", map.asOf);
}

/** A transaction file opened for RFM; `close` frees what it holds. */
export interface TransactionSource {
  table: LoadedTable;
  /** True when the file is read in place (a view), false when loaded by loadTable. */
  scanned: boolean;
  close: () => Promise<void>;
}

/**
 * Opens a transaction log. A Parquet or delimited-text file whose mapped columns are typed
 * (dates as dates, values as numbers) is read in place through a view, so memory does not
 * grow with the file and only the mapped columns are parsed; anything else (other formats,
 * whitespace-separated text, columns that need type inference, `load: true`) is loaded with
 * loadTable. A view's `rows` is not counted (-1) for text files: that would be another pass.
 */
export async function openTransactions(
  file: string,
  map: RfmMapping,
  types: Record<string, ColumnKind> = {},
  options: { load?: boolean; sheet?: string } = {},
): Promise<TransactionSource> {
  await checkInputFile(file);
  const format = await detectFormat(file);
  if (!options.load && (format === "parquet" || format === "csv")) {
    const view = freshTableName("txview");
    let source: string | undefined;
    if (format === "parquet") source = `FROM read_parquet(${lit(file)})`;
    else {
      const d = await sniffCsv(file);
      if (d.delimiter !== "whitespace") {
        // The reader options of loadTable, so that the columns get the same types. DuckDB's
        // sniffer runs once here and spells out what it found (header, types, formats), so
        // that the view does not detect it all again at each use.
        const options = `${lit(file)}, delim=${lit(d.delimiter)}, quote='"', escape='"', skip=0, strict_mode=true, null_padding=false, sample_size=20480` +
          `${d.decimalSeparator ? `, decimal_separator=${lit(d.decimalSeparator)}` : ""}${await compressionOption(file)}`;
        source = `FROM read_csv(${options})`;
        try {
          // Without its sniffed newline: DuckDB spells "\r\n" as the four characters \r\n, which
          // then match no line end and give no rows; with auto_detect=false and no new_line the
          // reader ends lines at \n, \r\n or \r.
          const prompt = String((await queryRows(`SELECT Prompt AS p FROM sniff_csv(${options})`))[0]?.p ?? "")
            .trim()
            .replace(/;$/, "")
            .replace(/,\s*new_line\s*=\s*'(?:[^']|'')*'/, "");
          if (/^FROM read_csv\(.*\)$/s.test(prompt)) source = prompt;
        } catch {
          // sniff_csv cannot spell it out: the view detects at each use.
        }
      }
    }
    if (source !== undefined) {
      try {
        await exec(`CREATE TEMP VIEW ${view} AS SELECT * ${source}`);
      } catch (e) {
        if (format === "csv") source = undefined; // loadTable explains what is wrong with the file
        else {
          const m = duckMessage(e);
          const why = /magic bytes/i.test(m) ? "no Parquet footer at its end: it is cut short or not Parquet at all" : m;
          throw new InputError(`${file} could not be read as Parquet (${why}); check that the file is complete and really Parquet`, { cause: e });
        }
      }
    }
    if (source !== undefined) {
      const drop = async (): Promise<void> => exec(`DROP VIEW IF EXISTS ${view}`);
      try {
        const columns = (await queryRows(`DESCRIBE ${view}`)).map((r) => ({ name: String(r.column_name), duckType: String(r.column_type) }));
        const rows = format === "parquet" ? Number((await queryRows(`SELECT count(*) AS n FROM ${view}`))[0].n) : -1;
        const table: LoadedTable = { file, format, table: view, rows, columns, details: format === "parquet" ? "Parquet" : "delimited text", firstDataLine: 2 };
        const typed = mappedColumns(map).every(([role, name]) => {
          const c = columns.find((x) => x.name === name);
          if (!c) return true; // computeRfm names the missing column
          return types[name] === undefined && directExpr(role, c.duckType, name) !== undefined;
        });
        if (typed && rows !== 0) return { table, scanned: true, close: drop };
      } catch (e) {
        await drop();
        if (format === "parquet") throw e;
      }
      await drop();
    }
  }
  const table = await loadTable(file, { sheet: options.sheet });
  return { table, scanned: false, close: () => dropTable(table) };
}

/**
 * computeRfm of a file: read in place where possible (openTransactions). When reading in
 * place fails on the data (a value that does not fit the type DuckDB guessed from its sample,
 * a malformed row), the file is loaded with loadTable, which retypes such columns or names
 * the row, and the job is done again.
 */
export async function computeRfmFromFile(
  file: string, map: RfmMapping, types: Record<string, ColumnKind> = {}, options: { sheet?: string } = {},
): Promise<RfmSummary> {
  checkRfmMapping(map);
  let src = await openTransactions(file, map, types, options);
  try {
    try {
      return await computeRfm(src.table, map, types);
    } catch (e) {
      if (!src.scanned || e instanceof InputError) throw e;
      await src.close();
      src = await openTransactions(file, map, types, { ...options, load: true });
      return await computeRfm(src.table, map, types);
    }
  } finally {
    await src.close();
  }
}

type Role = "customer" | "date" | "amount" | "quantity" | "price" | "invoice" | "product";
const TEXT_ROLES: readonly Role[] = ["customer", "invoice", "product"];
const NUMBER_ROLES: readonly Role[] = ["amount", "quantity", "price"];

function mappedColumns(map: RfmMapping): [Role, string][] {
  const roles: Role[] = ["customer", "date", "amount", "quantity", "price", "invoice", "product"];
  return roles.filter((r) => map[r] !== undefined && map[r] !== "").map((r) => [r, map[r] as string]);
}

/**
 * The SQL for a column's values in a role, straight from its stored type; undefined when the
 * column must be profiled first (text holding numbers or dates, or other types). Invoices and
 * products are text. A numeric customer id stays a number while rows are grouped (turning
 * millions of rows into text is the slowest part of the job) and becomes text per customer
 * (customerText); a whole DOUBLE id (17850.0) is written without its ".0".
 */
function directExpr(role: Role, duckType: string, name: string): string | undefined {
  const c = ident(name);
  if (role === "customer" && FLOAT_TYPES.test(duckType)) return `CASE WHEN isnan(CAST(${c} AS DOUBLE)) OR isinf(CAST(${c} AS DOUBLE)) THEN NULL ELSE CAST(${c} AS DOUBLE) END`;
  if (role === "customer" && NUMERIC_TYPES.test(duckType)) return c;
  if (TEXT_ROLES.includes(role)) {
    if (duckType === "VARCHAR") return `NULLIF(trim(${c}), '')`;
    if (FLOAT_TYPES.test(duckType)) {
      const d = `CAST(${c} AS DOUBLE)`;
      return `CASE WHEN isnan(${d}) OR isinf(${d}) THEN NULL WHEN ${d} = trunc(${d}) AND abs(${d}) < 1e15 THEN CAST(CAST(${d} AS BIGINT) AS VARCHAR) ELSE CAST(${d} AS VARCHAR) END`;
    }
    return `NULLIF(trim(CAST(${c} AS VARCHAR)), '')`;
  }
  if (NUMBER_ROLES.includes(role)) {
    if (!NUMERIC_TYPES.test(duckType)) return undefined;
    const d = `CAST(${c} AS DOUBLE)`;
    return FLOAT_TYPES.test(duckType) ? `CASE WHEN isnan(${d}) OR isinf(${d}) THEN NULL ELSE ${d} END` : d;
  }
  if (DATE_TYPES.test(duckType)) return `CAST(epoch_ms(CAST(${c} AS TIMESTAMP)) AS DOUBLE)`;
  return undefined;
}

/** The text of a customer key `k` grouped as the column's type (see directExpr). */
function customerText(k: string, duckType: string | undefined): string {
  if (duckType !== undefined && FLOAT_TYPES.test(duckType)) {
    return `CASE WHEN ${k} = trunc(${k}) AND abs(${k}) < 1e15 THEN CAST(CAST(${k} AS BIGINT) AS VARCHAR) ELSE CAST(${k} AS VARCHAR) END`;
  }
  if (duckType !== undefined && NUMERIC_TYPES.test(duckType)) return `CAST(${k} AS VARCHAR)`;
  return k;
}

const FLAG: Record<Role, string> = {
  customer: "--customer", date: "--date", amount: "--amount", quantity: "--quantity", price: "--price", invoice: "--invoice", product: "--product",
};

/** SQL expressions of a log's mapped columns (columnExprs); customerText turns a grouped key `cust` into text. */
export type ColumnExprs = Partial<Record<Role | "customerText", string>>;

/** SQL expressions giving each mapped column's values: text ids, epoch milliseconds, numbers. */
export async function columnExprs(t: LoadedTable, map: RfmMapping, types: Record<string, ColumnKind>): Promise<ColumnExprs> {
  const out: ColumnExprs = {};
  const toProfile: [Role, string][] = [];
  for (const [role, name] of mappedColumns(map)) {
    const c = t.columns.find((x) => x.name === name);
    if (!c) throw new InputError(`${FLAG[role]} ${name}: ${t.file} has no such column; columns are: ${t.columns.map((x) => x.name).join(", ")}`);
    const direct = types[name] === undefined ? directExpr(role, c.duckType, name) : undefined;
    if (direct !== undefined) {
      out[role] = direct;
      if (role === "customer") out.customerText = customerText("cust", c.duckType);
    } else toProfile.push([role, name]);
  }
  out.customerText ??= "cust";
  if (toProfile.length === 0) return out;
  // Only the columns that need it are profiled (inference over a big log is not free).
  const names = new Set(toProfile.map(([, n]) => n));
  const overrides = Object.fromEntries(Object.entries(types).filter(([n]) => names.has(n)));
  const profile = await profileTable({ ...t, columns: t.columns.filter((c) => names.has(c.name)) }, overrides);
  for (const [role, name] of toProfile) {
    const p = profile.columns.find((c) => c.name === name)!;
    if (TEXT_ROLES.includes(role)) {
      out[role] = p.kind === "id" || p.kind === "categorical" ? p.expr : `NULLIF(trim(CAST(${ident(name)} AS VARCHAR)), '')`;
    } else if (role === "date") {
      if (p.kind !== "datetime") {
        throw new InputError(`--date ${name}: the column holds ${p.kind} values, not dates; pick the date column or force it with --type ${name}=datetime`);
      }
      out[role] = p.expr;
    } else {
      if (p.kind !== "numeric") {
        throw new InputError(`${FLAG[role]} ${name}: the column holds ${p.kind} values, not numbers; pick another column or force it with --type ${name}=numeric`);
      }
      out[role] = p.expr;
    }
  }
  return out;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/**
 * The error when no row has a customer, a usable date and a value: every row read is then
 * either without a customer id or without a usable date, value or invoice, and the message
 * says how many of each (the two add up to the rows read; the reasons of the second may overlap).
 */
function noUsableRow(file: string, map: RfmMapping, totals: Record<string, unknown>): InputError {
  const n = num(totals.n);
  if (n === 0) {
    return new InputError(`${file}: no data rows were read below the header; check that the file holds the transactions`);
  }
  const invalid = num(totals.invalid);
  const value = map.amount ? `--amount ${map.amount}` : `--quantity ${map.quantity} × --price ${map.price}`;
  const reasons = [
    `${num(totals.nodate).toLocaleString("en-US")} without a date in --date ${map.date}`,
    `${num(totals.novalue).toLocaleString("en-US")} without a value in ${value}`,
    ...(map.invoice ? [`${num(totals.noinv).toLocaleString("en-US")} without an invoice in --invoice ${map.invoice}`] : []),
  ];
  return new InputError(
    `${file}: none of its ${plural(n, "row", "rows")} has a customer id, a usable date and a value: ` +
      `${plural(num(totals.nocust), "row has", "rows have")} no customer id in --customer ${map.customer}, ` +
      `${plural(invalid, "row has", "rows have")} one but no usable date or value (${reasons.join(", ")}); check the column mapping and the file's values`,
  );
}

/**
 * The SELECT of a log's rows, each classified (the classes in the comment at the top): columns
 * cust, inv, prod, amt (an exact decimal), ms (epoch milliseconds), day (days since 1970-01-01,
 * UTC) and k: -2 no customer, -1 unusable, 3 on or after `asOfDay` (when given), 0 zero-value,
 * 1 cancellation, 2 purchase. Shared by computeRfm and by track (io/track.ts), so that both
 * classify every row the same way.
 */
export function classifiedRows(t: LoadedTable, e: ColumnExprs, map: RfmMapping, asOfDay?: number): string {
  const prefix = map.invoice ? (map.cancelPrefix ?? "C") : "";
  const value = e.amount ?? `(${e.quantity}) * (${e.price})`;
  const cols = [
    `${e.customer} AS cust`,
    `${e.date} AS ms`,
    // Values as exact decimals (to 9 places): sums do not depend on the order DuckDB's threads add them in.
    `TRY_CAST(${value} AS DECIMAL(38, 9)) AS amt`,
    e.price ? `${e.price} AS price` : "NULL::DOUBLE AS price",
    e.invoice ? `${e.invoice} AS inv` : "NULL::VARCHAR AS inv",
    e.product ? `${e.product} AS prod` : "NULL::VARCHAR AS prod",
  ];
  const rows = `(SELECT ${cols.join(", ")} FROM ${t.table})`;
  const valid = `ms IS NOT NULL AND amt IS NOT NULL${e.invoice ? " AND inv IS NOT NULL" : ""}`;
  const cancel = [`amt < 0`, ...(prefix ? [`starts_with(upper(inv), ${lit(prefix.toUpperCase())})`] : [])].join(" OR ");
  return (
    `SELECT cust, inv, prod, amt, ms, CAST(floor(ms / ${DAY_MS}) AS INTEGER) AS day, CASE WHEN cust IS NULL THEN -2 WHEN NOT (${valid}) THEN -1 ` +
    (asOfDay !== undefined ? `WHEN ms >= ${asOfDay * DAY_MS} THEN 3 ` : "") +
    `WHEN price < 0 OR amt = 0 THEN 0 WHEN ${cancel} THEN 1 ELSE 2 END AS k FROM ${rows}`
  );
}

/**
 * Computes the RFM table of a loaded transaction log (see the comment at the top of this
 * file for the rules). The caller drops `summary.table` when done.
 */
export async function computeRfm(t: LoadedTable, map: RfmMapping, types: Record<string, ColumnKind> = {}): Promise<RfmSummary> {
  checkRfmMapping(map);
  const e = await columnExprs(t, map, types);
  const mode = map.cancellations ?? "net";
  const prefix = map.invoice ? (map.cancelPrefix ?? "C") : "";
  const asOfGiven = map.asOf !== undefined;
  const asOfGivenDay = asOfGiven ? dayNumber("--as-of", map.asOf!) : undefined;
  // One pass over the log: every row classified (classifiedRows) and aggregated per customer.
  // Rows without a customer form the NULL group. Without --as-of no row is after it, so the
  // as-of date can be chosen after the pass, from the last day of each customer's usable rows.
  const classified = classifiedRows(t, e, map, asOfGivenDay);
  const agg = freshTableName("rfmagg");
  await exec(
    `CREATE TEMP TABLE ${agg} AS SELECT cust, count(*) AS all_rows, ` +
      `count(*) FILTER (WHERE k = -1) AS invalid_rows, count(*) FILTER (WHERE k = -1 AND ms IS NULL) AS nodate_rows, ` +
      `count(*) FILTER (WHERE k = -1 AND amt IS NULL) AS novalue_rows, count(*) FILTER (WHERE k = -1 AND inv IS NULL) AS noinv_rows, ` +
      `count(*) FILTER (WHERE k = 3) AS after_rows, ` +
      `count(*) FILTER (WHERE k = 0) AS zero_rows, count(*) FILTER (WHERE k = 1) AS cancel_rows, count(*) FILTER (WHERE k = 2) AS buy_rows, ` +
      `max(day) FILTER (WHERE k >= 0) AS last_any_day, ` +
      `min(day) FILTER (WHERE k = 2) AS first_day, max(day) FILTER (WHERE k = 2) AS last_day, ` +
      `count(DISTINCT ${e.invoice ? "inv" : "ms"}) FILTER (WHERE k = 2) AS frequency, ` +
      `sum(amt) FILTER (WHERE k = 2) AS bought, sum(abs(amt)) FILTER (WHERE k = 1) AS cancelled` +
      (e.product ? `, count(DISTINCT prod) FILTER (WHERE k = 2) AS products` : "") +
      ` FROM (${classified}) GROUP BY cust`,
  );
  const out = freshTableName("rfm");
  try {
    const totals = (await queryRows(
      `SELECT sum(all_rows) AS n, coalesce(sum(all_rows) FILTER (WHERE cust IS NULL), 0) AS nocust, sum(invalid_rows) AS invalid, sum(after_rows) AS after, ` +
        `sum(nodate_rows) AS nodate, sum(novalue_rows) AS novalue, sum(noinv_rows) AS noinv, ` +
        `max(last_any_day) AS last_day, ` +
        `count(*) FILTER (WHERE zero_rows + cancel_rows + buy_rows > 0) AS seen, count(*) FILTER (WHERE buy_rows > 0) AS buyers, ` +
        `count(*) FILTER (WHERE buy_rows = 0 AND cancel_rows > 0) AS onlycancel, ` +
        `sum(zero_rows) AS zero, sum(cancel_rows) AS cancels, sum(buy_rows) AS buys, CAST(sum(bought) AS DOUBLE) AS bought, CAST(sum(cancelled) AS DOUBLE) AS cancelled FROM ${agg}`,
    ))[0];
    if (totals.last_day === null || totals.last_day === undefined) throw noUsableRow(t.file, map, totals);
    const asOfDay = asOfGivenDay ?? Number(totals.last_day) + 1;
    const asOf = dayString(asOfDay);
    const customers = num(totals.buyers);
    if (customers === 0) {
      throw new InputError(
        `${t.file}: no customer has a purchase${asOfGiven ? ` before --as-of ${asOf}` : ""}: of its ${plural(num(totals.n), "row", "rows")}, ` +
          `${plural(num(totals.nocust), "has", "have")} no customer id, ${plural(num(totals.invalid), "has", "have")} no usable date or value, ` +
          `${plural(num(totals.after), "is", "are")} on or after the as-of date, ${plural(num(totals.zero), "has", "have")} a price of 0 or less or a value of 0, ` +
          `${plural(num(totals.cancels), "is a cancellation", "are cancellations")}; check the column mapping${asOfGiven ? " and --as-of" : ""}`,
      );
    }
    const monetary = mode === "net" ? `CAST(bought - coalesce(cancelled, 0) AS DOUBLE)` : `CAST(bought AS DOUBLE)`;
    const columns = [
      `${e.customerText} AS customer_id`,
      `${asOfDay} - last_day AS recency_days`,
      `frequency`,
      `round(${monetary}, 6) AS monetary`,
      `${asOfDay} - first_day AS tenure_days`,
      `round(${monetary} / frequency, 6) AS avg_order_value`,
      `CASE WHEN frequency > 1 THEN CAST(last_day - first_day AS DOUBLE) / (frequency - 1) END AS mean_days_between_purchases`,
      ...(e.product ? [`products AS distinct_products`] : []),
      `CAST(coalesce(cancelled, 0) AS DOUBLE) / CAST(bought AS DOUBLE) AS return_rate`,
    ];
    await exec(`CREATE TEMP TABLE ${out} AS SELECT ${columns.join(", ")} FROM ${agg} WHERE cust IS NOT NULL AND buy_rows > 0 ORDER BY customer_id`);
    const names = (await queryRows(`DESCRIBE ${out}`)).map((r) => String(r.column_name));
    return {
      table: out,
      columns: names,
      customers,
      asOf,
      asOfGiven,
      cancellations: mode,
      cancelPrefix: prefix || null,
      rowsIn: num(totals.n),
      rowsWithoutCustomer: num(totals.nocust),
      rowsWithoutDateOrValue: num(totals.invalid),
      rowsAfterAsOf: num(totals.after),
      zeroValueRows: num(totals.zero),
      cancellationRows: num(totals.cancels),
      purchaseRows: num(totals.buys),
      customersInLog: num(totals.seen),
      customersWithoutPurchase: num(totals.seen) - customers,
      customersWithOnlyCancellations: num(totals.onlycancel),
      purchasedAmount: num(totals.bought),
      cancelledAmount: num(totals.cancelled),
    };
  } catch (err) {
    await exec(`DROP TABLE IF EXISTS ${out}`);
    throw err;
  } finally {
    await exec(`DROP TABLE IF EXISTS ${agg}`);
  }
}

/**
 * Adds r_score, f_score, m_score (1–5 quintiles, see profile/rfm-scores.ts) and rfm_segment
 * to an RFM table, in place. Only the three feature columns come into memory (one value per
 * customer). Returns the number of customers in each segment.
 */
export async function addRfmScores(summary: RfmSummary): Promise<Record<RfmSegment, number>> {
  const con = await duck();
  const n = summary.customers;
  const rec = new Float64Array(n);
  const freq = new Float64Array(n);
  const mon = new Float64Array(n);
  const result = await con.stream(`SELECT recency_days, frequency, monetary FROM ${summary.table} ORDER BY customer_id`);
  let offset = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cols = [rec, freq, mon];
    for (let j = 0; j < 3; j++) {
      const v = chunk.getColumnValues(j);
      for (let i = 0; i < chunk.rowCount; i++) cols[j][offset + i] = v[i] === null ? NaN : Number(v[i]);
    }
    offset += chunk.rowCount;
  }
  if (offset !== n) throw new Error(`RFM table has ${offset} rows, expected ${n}`);
  const { r, f, m } = rfmScores(rec, freq, mon);
  const seg = rfmSegmentCodes(r, f);
  const counts = Object.fromEntries(RFM_SEGMENTS.map((s) => [s, 0])) as Record<RfmSegment, number>;
  const scores = freshTableName("rfmscores");
  await exec(`CREATE TABLE ${scores} (i INTEGER, r_score TINYINT, f_score TINYINT, m_score TINYINT, rfm_segment VARCHAR)`);
  try {
    const app = await con.createAppender(scores);
    for (let i = 0; i < n; i++) {
      app.appendInteger(i);
      app.appendTinyInt(r[i]);
      app.appendTinyInt(f[i]);
      app.appendTinyInt(m[i]);
      if (seg[i] < 0) app.appendNull();
      else {
        app.appendVarchar(RFM_SEGMENTS[seg[i]]);
        counts[RFM_SEGMENTS[seg[i]]]++;
      }
      app.endRow();
    }
    app.flushSync();
    app.closeSync();
    const numbered = freshTableName("rfmnum");
    await exec(
      `CREATE TEMP TABLE ${numbered} AS SELECT t.* EXCLUDE (i), s.r_score, s.f_score, s.m_score, s.rfm_segment ` +
        `FROM (SELECT *, CAST(row_number() OVER (ORDER BY customer_id) - 1 AS INTEGER) AS i FROM ${summary.table}) t JOIN ${scores} s USING (i) ORDER BY t.customer_id`,
    );
    await exec(`DROP TABLE ${summary.table}`);
    await exec(`ALTER TABLE ${numbered} RENAME TO ${summary.table}`);
  } finally {
    await exec(`DROP TABLE IF EXISTS ${scores}`);
  }
  summary.columns = [...summary.columns, "r_score", "f_score", "m_score", "rfm_segment"];
  return counts;
}
