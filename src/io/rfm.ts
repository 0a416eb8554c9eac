import { InputError } from "../core/errors.js";
import { exec, freshTableName, ident, lit, queryRows } from "./duck.js";
import type { LoadedTable } from "./read.js";
import type { TableProfile } from "./schema.js";

export interface RfmMapping {
  customer: string;
  date: string;
  amount?: string;
  quantity?: string;
  price?: string;
  invoice?: string;
  /** As-of date (YYYY-MM-DD); default: the day after the last transaction. */
  asOf?: string;
}

export interface RfmSummary {
  table: string;
  customers: number;
  asOf: string;
  rowsIn: number;
  rowsWithoutCustomer: number;
  cancellationRows: number;
  customersWithoutPurchase: number;
}

/**
 * Per-customer recency, frequency and monetary value from a transaction log, computed by
 * DuckDB. Cancellations (invoices starting with "C", or negative amounts) are netted
 * against the customer's spend and not counted as purchases; rows without a customer are
 * dropped and counted.
 */
export async function computeRfm(t: LoadedTable, profile: TableProfile, map: RfmMapping): Promise<RfmSummary> {
  const col = (flag: string, name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const p = profile.columns.find((c) => c.name === name);
    if (!p) throw new InputError(`${flag} ${name}: ${t.file} has no such column; columns are: ${profile.columns.map((c) => c.name).join(", ")}`);
    return name;
  };
  const expr = (name: string): string => profile.columns.find((c) => c.name === name)!.expr;
  const kindOf = (name: string): string => profile.columns.find((c) => c.name === name)!.kind;
  const customer = col("--customer", map.customer)!;
  const date = col("--date", map.date)!;
  const amount = col("--amount", map.amount);
  const quantity = col("--quantity", map.quantity);
  const price = col("--price", map.price);
  const invoice = col("--invoice", map.invoice);
  if (!amount && !(quantity && price)) throw new InputError("rfm: give --amount, or both --quantity and --price");
  if (kindOf(date) !== "datetime") {
    throw new InputError(`--date ${date}: the column holds ${kindOf(date)} values, not dates; pick the date column or force it with --type ${date}=datetime`);
  }
  for (const [flag, c] of [["--amount", amount], ["--quantity", quantity], ["--price", price]] as const) {
    if (c && kindOf(c) !== "numeric") throw new InputError(`${flag} ${c}: the column holds ${kindOf(c)} values, not numbers`);
  }
  const custExpr = kindOf(customer) === "id" || kindOf(customer) === "categorical" ? expr(customer) : `CAST(${ident(customer)} AS VARCHAR)`;
  const amountExpr = amount ? expr(amount) : `(${expr(quantity!)}) * (${expr(price!)})`;
  const invExpr = invoice ? `CAST(${ident(invoice)} AS VARCHAR)` : `CAST(CAST(to_timestamp(${expr(date)} / 1000) AS DATE) AS VARCHAR)`;
  const cancel = invoice ? `(upper(inv) LIKE 'C%' OR amt < 0)` : `(amt < 0)`;
  const base = freshTableName("tx");
  await exec(
    `CREATE TEMP TABLE ${base} AS SELECT ${custExpr} AS cust, ${invExpr} AS inv, to_timestamp(${expr(date)} / 1000) AS ts, ` +
      `${amountExpr} AS amt FROM ${t.table}`,
  );
  const counts = (await queryRows(
    `SELECT count(*) AS n, count(*) FILTER (WHERE cust IS NULL OR trim(cust) = '') AS nocust, ` +
      `count(*) FILTER (WHERE cust IS NOT NULL AND ${cancel}) AS cancels, CAST(CAST(max(ts) AS DATE) + 1 AS VARCHAR) AS asof FROM ${base}`,
  ))[0];
  const asOf = map.asOf ?? String(counts.asof);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new InputError(`--as-of ${asOf}: give a date as YYYY-MM-DD`);
  const out = freshTableName("rfm");
  await exec(
    `CREATE TEMP TABLE ${out} AS SELECT cust AS customer_id, ` +
      `date_diff('day', CAST(max(ts) FILTER (WHERE NOT ${cancel}) AS DATE), DATE ${lit(asOf)}) AS recency_days, ` +
      `count(DISTINCT inv) FILTER (WHERE NOT ${cancel}) AS frequency, ` +
      `round(sum(amt), 6) AS monetary, ` +
      `date_diff('day', CAST(min(ts) FILTER (WHERE NOT ${cancel}) AS DATE), DATE ${lit(asOf)}) AS tenure_days, ` +
      `round(sum(amt) FILTER (WHERE NOT ${cancel}) / nullif(count(DISTINCT inv) FILTER (WHERE NOT ${cancel}), 0), 6) AS avg_order_value ` +
      `FROM ${base} WHERE cust IS NOT NULL AND trim(cust) <> '' GROUP BY cust ORDER BY cust`,
  );
  await exec(`DROP TABLE ${base}`);
  const c2 = (await queryRows(`SELECT count(*) AS n, count(*) FILTER (WHERE frequency = 0) AS nobuy FROM ${out}`))[0];
  await exec(`DELETE FROM ${out} WHERE frequency = 0`);
  return {
    table: out,
    customers: Number(c2.n) - Number(c2.nobuy),
    asOf,
    rowsIn: Number(counts.n),
    rowsWithoutCustomer: Number(counts.nocust),
    cancellationRows: Number(counts.cancels),
    customersWithoutPurchase: Number(c2.nobuy),
  };
}
