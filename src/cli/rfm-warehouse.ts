/**
 * segmenta rfm in the warehouse: `--sql --dialect D [--table T]` prints the one query that
 * computes the RFM table in that engine (src/pipeline/sql/rfm-sql.ts); `--source postgres://…
 * --table T` runs it in PostgreSQL and reads back only the per-customer rows (in batches,
 * through a cursor), then scores and writes them as segmenta rfm does.
 */
import { InputError } from "../core/errors.js";
import { duck, exec, freshTableName } from "../io/duck.js";
import { addRfmScores, type RfmSummary } from "../io/rfm.js";
import { connectPg, isPostgresSource, pgColumnTypes, pgMessage, queryInBatches } from "../io/sql/warehouse.js";
import { checkOutputPath, copyQueryTo, writeTextAtomic } from "../io/write.js";
import { dialect } from "../pipeline/sql/dialect.js";
import { rfmSql, rfmTotalsSql, type RfmSqlOptions } from "../pipeline/sql/rfm-sql.js";
import { endProgress, type Io, parse, parseTypes, progress } from "./common.js";
import { printRfmSummary, RFM_MAPPING_OPTIONS, type RfmFileResult, rfmJson, rfmMapping, type RfmMappingValues } from "./rfm.js";

/** Whether `segmenta rfm` was asked for the warehouse: --sql, or --source (PostgreSQL with --table; anything else is refused here, in one line). */
export function wantsWarehouseRfm(args: string[]): boolean {
  return args.includes("--sql") || args.some((a) => a === "--source" || a.startsWith("--source="));
}

type Values = RfmMappingValues & { sql?: boolean; dialect?: string; table?: string; source?: string; query?: string; out?: string; type?: string[]; scores?: boolean; "raw-csv"?: boolean; json?: boolean };

const NUMBER_TYPES = /^(smallint|integer|bigint|real|double precision|numeric.*|decimal.*)$/;
const WHOLE_TYPES = /^(smallint|integer|bigint)$/;
const DATE_TYPES = /^(date|timestamp.*)$/;

export async function rfmWarehouseCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<Values>("rfm", args, {
    ...RFM_MAPPING_OPTIONS,
    sql: { type: "boolean" },
    dialect: { type: "string" },
    table: { type: "string" },
    source: { type: "string" },
    query: { type: "string" },
    out: { type: "string" },
    type: { type: "string", multiple: true },
    scores: { type: "boolean" },
    "raw-csv": { type: "boolean" },
  });
  if (positionals.length) {
    throw new InputError(`segmenta rfm ${values.sql ? "--sql" : "--source"} reads no file (${positionals[0]}): the transactions are the warehouse table named by --table`);
  }
  if (values.source !== undefined && (!values.table || !isPostgresSource(values.source) || values.query !== undefined)) {
    throw new InputError(
      "rfm --source runs the RFM query in PostgreSQL over a table: give --source postgres://… --table T" +
        (values.query !== undefined ? "; --query is not taken by rfm: make the SELECT a view (CREATE VIEW v AS SELECT …) and give --table v" : ""),
    );
  }
  if (values.query !== undefined) throw new InputError("--query is taken with --source postgres://…; rfm --sql prints a query over --table T");
  const map = rfmMapping(values, "rfm");
  if (values.sql) {
    if (values.source) throw new InputError("give either --sql (print the query) or --source postgres://… (run it there), not both");
    const d = dialect(values.dialect);
    const types = parseTypes(values.type);
    const table = values.table ?? "transactions";
    const sql = `${rfmSql(map, { dialect: d, table, asOf: map.asOf, customerType: types[map.customer] === "numeric" ? "float" : "text" })};\n`;
    if (values.out) {
      await checkOutputPath(values.out, "--out", "text");
      await writeTextAtomic(values.out, sql);
    }
    if (values.json) io.out(JSON.stringify({ dialect: d.name, table, ...(values.out ? { outputs: { out: values.out } } : { sql }) }, null, 2));
    else if (values.out) io.out(`the ${d.name} query computing the RFM table of ${table} written to ${values.out}`);
    else io.out(sql.trimEnd());
    return 0;
  }
  if (values.dialect && values.dialect !== "postgres") throw new InputError(`--dialect ${values.dialect}: --source postgres://… runs the query in PostgreSQL; leave --dialect out`);
  if (!values.out) throw new InputError("segmenta rfm: give the output file with --out rfm.csv");
  await checkOutputPath(values.out, "--out");
  const table = values.table!;
  progress(io)(`computing RFM features of ${table} in PostgreSQL`);
  let s: RfmFileResult;
  let pulled: number;
  try {
    ({ s, pulled } = await rfmInPostgres(values.source!, table, map));
    try {
      if (values.scores) s.segments = await addRfmScores(s);
      await copyQueryTo(values.out, `SELECT * FROM ${s.table} ORDER BY customer_id`, { raw: values["raw-csv"] });
    } finally {
      await exec(`DROP TABLE IF EXISTS ${s.table}`);
    }
  } finally {
    endProgress(io);
  }
  const where = `${table} (PostgreSQL)`;
  if (values.json) {
    io.out(JSON.stringify({ ...rfmJson(where, s, { out: values.out }), rowsPulled: pulled }, null, 2));
    return 0;
  }
  printRfmSummary(s, io);
  io.out(`computed in PostgreSQL: ${pulled.toLocaleString("en-US")} rows pulled out of the database (one per customer, with the counts above); the transactions stayed there`);
  io.out(`RFM table (${s.columns.join(", ")}) written to ${values.out}`);
  return 0;
}

/**
 * Runs the RFM query in the PostgreSQL database at `url` over `table`, and loads the
 * per-customer rows into a DuckDB temporary table (the summary's `table`). `pulled` counts
 * the rows read from the database.
 */
export async function rfmInPostgres(url: string, table: string, map: ReturnType<typeof rfmMapping>): Promise<{ s: RfmSummary; pulled: number }> {
  const c = await connectPg(url);
  try {
    const types = await pgColumnTypes(c, table);
    const cols = [...types.keys()];
    const need: [string, string | undefined, RegExp | null][] = [
      ["--customer", map.customer, null], ["--date", map.date, DATE_TYPES], ["--amount", map.amount, NUMBER_TYPES], ["--quantity", map.quantity, NUMBER_TYPES],
      ["--price", map.price, NUMBER_TYPES], ["--invoice", map.invoice, null], ["--product", map.product, null],
    ];
    for (const [flag, name, re] of need) {
      if (!name) continue;
      const t = types.get(name);
      if (t === undefined) throw new InputError(`${flag} ${name}: ${table} has no such column; columns are: ${cols.join(", ")}`);
      if (re && !re.test(t)) {
        throw new InputError(`${flag} ${name}: the column is ${t} in PostgreSQL; the query needs ${re === DATE_TYPES ? "a date or timestamp" : "a number"} column (cast it in a view)`);
      }
    }
    const ct = types.get(map.customer)!;
    const o: RfmSqlOptions = { dialect: dialect("postgres"), table, asOf: map.asOf, customerType: WHOLE_TYPES.test(ct) ? "integer" : NUMBER_TYPES.test(ct) ? "float" : "text" };
    const out = freshTableName("rfm");
    const names = ["customer_id", "recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "mean_days_between_purchases", ...(map.product ? ["distinct_products"] : []), "return_rate"];
    const sqlTypes: Record<string, string> = { customer_id: "VARCHAR", recency_days: "INTEGER", frequency: "BIGINT", tenure_days: "INTEGER", distinct_products: "BIGINT" };
    await exec(`CREATE TEMP TABLE ${out} (${names.map((n) => `${n} ${sqlTypes[n] ?? "DOUBLE"}`).join(", ")})`);
    const con = await duck();
    const app = await con.createAppender(out);
    // One pass over the transactions: every customer's row carries the summary's counts.
    let totals: Record<string, unknown> | null = null;
    let pulled = 0;
    try {
      pulled = await queryInBatches(c, rfmSql(map, o, { totals: true }), (rows) => {
        for (const r of rows) {
          totals ??= r;
          for (const n of names) {
            const v = r[n];
            if (v === null || v === undefined) app.appendNull();
            else if (n === "customer_id") app.appendVarchar(String(v));
            else if (sqlTypes[n] === "INTEGER") app.appendInteger(Number(v));
            else if (sqlTypes[n] === "BIGINT") app.appendBigInt(BigInt(v as string | number));
            else app.appendDouble(Number(v));
          }
          app.endRow();
        }
      });
      app.flushSync();
    } catch (e) {
      await exec(`DROP TABLE IF EXISTS ${out}`);
      if (!(e instanceof Error && "severity" in e)) throw e;
      throw new InputError(`${table}: PostgreSQL could not compute the RFM features (${pgMessage(e)}); check the column mapping`, { cause: e });
    } finally {
      app.closeSync();
    }
    if (totals === null) {
      // No customer with a purchase: the counts say why.
      await exec(`DROP TABLE IF EXISTS ${out}`);
      const t = (await c.query(rfmTotalsSql(map, o))).rows[0] as Record<string, unknown>;
      pulled++;
      if (t.last_day === null) throw new InputError(`${table}: none of its ${Number(t.n ?? 0)} rows has a customer id, a usable date and a value; check the column mapping`);
      throw new InputError(`${table}: no customer has a purchase${map.asOf ? ` before --as-of ${map.asOf}` : ""} (of ${Number(t.n)} rows, ${Number(t.cancels)} are cancellations, ${Number(t.zero)} have a value of 0 or less); check the column mapping${map.asOf ? " and --as-of" : ""}`);
    }
    const tot: Record<string, unknown> = totals;
    const num = (k: string): number => (tot[`total_${k}`] === null || tot[`total_${k}`] === undefined ? 0 : Number(tot[`total_${k}`]));
    const asOfDay = num("asof_day");
    const s: RfmSummary = {
      table: out, columns: names, customers: num("buyers"), asOf: new Date(asOfDay * 86_400_000).toISOString().slice(0, 10), asOfGiven: map.asOf !== undefined,
      cancellations: map.cancellations ?? "net", cancelPrefix: map.invoice ? (map.cancelPrefix ?? "C") || null : null,
      rowsIn: num("n"), rowsWithoutCustomer: num("nocust"), rowsWithoutDateOrValue: num("invalid"), rowsAfterAsOf: num("after"), zeroValueRows: num("zero"),
      cancellationRows: num("cancels"), purchaseRows: num("buys"), customersInLog: num("seen"), customersWithoutPurchase: num("seen") - num("buyers"),
      customersWithOnlyCancellations: num("onlycancel"), purchasedAmount: num("bought"), cancelledAmount: num("cancelled"),
    };
    return { s, pulled };
  } finally {
    await c.end().catch(() => undefined);
  }
}
