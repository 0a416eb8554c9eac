/**
 * RFM where the data live (issue #19.3): the one query of `segmenta rfm --sql` gives the RFM
 * table of segmenta rfm for every customer of Online Retail (../shared/data; skipped with a
 * message when absent) — its DuckDB dialect run on DuckDB, and `segmenta rfm --source
 * postgres://… --table T`, which runs the PostgreSQL dialect in a real server and reads back
 * only the per-customer rows. Also: what --sql prints, and the errors of the warehouse options.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, queryRows } from "../src/io/duck.js";
import { computeRfmFromFile, type RfmMapping } from "../src/io/rfm.js";
import { dialect } from "../src/pipeline/sql/dialect.js";
import { rfmSql } from "../src/pipeline/sql/rfm-sql.js";
import { lines, runMain } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { haveData, RETAIL } from "./helpers/sql-tables.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-sql-rfm-"));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const have = haveData(RETAIL);

const MAPPINGS: [string, RfmMapping][] = [
  ["quantity × price, invoices (cancellations by prefix), products, net", { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo", product: "StockCode" }],
  ["an amount, no invoice, --as-of 2011-06-01, cancellations excluded", { customer: "CustomerID", date: "InvoiceDate", amount: "Amount", asOf: "2011-06-01", cancellations: "exclude" }],
];

/** segmenta rfm's table (computeRfmFromFile) of the Online Retail file, as rows by customer. */
async function expected(map: RfmMapping): Promise<Map<string, Record<string, unknown>>> {
  const file = map.amount ? join(dir, "retail-amount.parquet") : RETAIL;
  const s = await computeRfmFromFile(file, map);
  try {
    const rows = await queryRows(`SELECT * FROM ${s.table}`);
    return new Map(rows.map((r) => [String(r.customer_id), r]));
  } finally {
    await exec(`DROP TABLE IF EXISTS ${s.table}`);
  }
}

/** Every customer and column equal (numbers compared as doubles; counts may come back as bigint or text). */
function sameTable(got: Record<string, unknown>[], want: Map<string, Record<string, unknown>>): string[] {
  const wrong: string[] = [];
  expect(got.length).toBe(want.size);
  for (const r of got) {
    const w = want.get(String(r.customer_id));
    if (!w) {
      wrong.push(`customer ${String(r.customer_id)} is not in segmenta rfm's table`);
      continue;
    }
    expect(Object.keys(r)).toEqual(Object.keys(w));
    for (const [k, v] of Object.entries(w)) {
      const a = r[k] === null ? null : k === "customer_id" ? String(r[k]) : Number(r[k]);
      const b = v === null ? null : k === "customer_id" ? String(v) : Number(v);
      if (a !== b) wrong.push(`${String(r.customer_id)} ${k}: query ${String(a)}, rfm ${String(b)}`);
    }
  }
  return wrong;
}

beforeAll(async () => {
  if (!have) return;
  await exec(`COPY (SELECT *, Quantity * UnitPrice AS Amount FROM read_parquet('${RETAIL}')) TO '${join(dir, "retail-amount.parquet")}' (FORMAT parquet)`);
  await exec(`CREATE OR REPLACE VIEW sqlrfm_retail AS SELECT * FROM read_parquet('${join(dir, "retail-amount.parquet")}')`);
}, 120_000);

describe.runIf(have)("rfm --sql --dialect duckdb, run on DuckDB", () => {
  it.each(MAPPINGS)("%s: the query's table is segmenta rfm's, customer by customer", async (_n, map) => {
    const sql = rfmSql(map, { dialect: dialect("duckdb"), table: "sqlrfm_retail", asOf: map.asOf, customerType: "float" });
    const got = await queryRows(sql);
    expect(sameTable(got, await expected(map)).slice(0, 5)).toEqual([]);
    // Ordered by customer_id, as segmenta rfm writes it.
    const ids = got.map((r) => String(r.customer_id));
    expect(ids).toEqual([...ids].sort());
  });
});

describe("rfm --sql prints one query per dialect", () => {
  it.each(["duckdb", "postgres", "bigquery", "snowflake", "spark"])("%s", async (d) => {
    const r = await runMain(["rfm", "--sql", "--dialect", d, "--table", "sales.transactions", "--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^WITH rfm_rows AS/);
    expect(r.stdout.trimEnd().endsWith(";")).toBe(true);
    expect(r.stdout.match(/;/g)).toHaveLength(1);
    for (const c of ["customer_id", "recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "mean_days_between_purchases", "return_rate"]) expect(r.stdout).toContain(`AS ${c}`);
  });

  it("refuses an unknown dialect, and a file with --sql, with one line", async () => {
    const bad = await runMain(["rfm", "--sql", "--dialect", "oracle", "--customer", "c", "--date", "d", "--amount", "a"]);
    expect(bad.status).toBe(2);
    expect(lines(bad.stderr)).toEqual(["segmenta rfm: --dialect oracle: give one of duckdb, postgres, bigquery, snowflake, spark"]);
    const file = await runMain(["rfm", "log.csv", "--sql", "--dialect", "duckdb", "--customer", "c", "--date", "d", "--amount", "a"]);
    expect(file.status).toBe(2);
    expect(lines(file.stderr)[0]).toContain("reads no file (log.csv)");
  });
});

describe.runIf(have)("rfm --source postgres://… --table T: computed in PostgreSQL", () => {
  let pg: TestPostgres | null = null;
  let url = "";
  beforeAll(async () => {
    pg = await startPostgres();
    if (!pg) return;
    url = await pg.newDatabase("sqlrfm");
    const csv = join(dir, "retail.csv");
    await exec(`COPY (SELECT InvoiceNo, StockCode, Quantity, InvoiceDate, UnitPrice, CustomerID, Amount FROM sqlrfm_retail) TO '${csv}' (HEADER, DELIMITER ',')`);
    chmodSync(csv, 0o644);
    const { default: pgLib } = await import("pg");
    const c = new pgLib.Client({ connectionString: url });
    await c.connect();
    await c.query(`CREATE TABLE retail ("InvoiceNo" text, "StockCode" text, "Quantity" bigint, "InvoiceDate" timestamp, "UnitPrice" double precision, "CustomerID" double precision, "Amount" double precision)`);
    await c.query(`COPY retail FROM '${csv}' WITH (FORMAT csv, HEADER true)`);
    await c.end();
  }, 180_000);
  afterAll(async () => pg?.stop());

  it.for<[string, RfmMapping]>(MAPPINGS)("%s: equal to segmenta rfm for every customer; only per-customer rows come out", { timeout: 400_000 }, async ([_n, map], ctx) => {
    if (!pg) return ctx.skip("no PostgreSQL could be started here");
    const out = join(dir, `pg-${map.amount ? "amount" : "qp"}.csv`);
    const flags = Object.entries({ customer: map.customer, date: map.date, amount: map.amount, quantity: map.quantity, price: map.price, invoice: map.invoice,
      product: map.product, "as-of": map.asOf, cancellations: map.cancellations }).flatMap(([k, v]) => (v ? [`--${k}`, v] : []));
    const r = await runMain(["rfm", "--source", url, "--table", "retail", ...flags, "--out", out, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const want = await expected(map);
    expect(doc.customers).toBe(want.size);
    expect(doc.rowsPulled).toBe(want.size);
    expect(doc.rowsIn).toBe(541_909);
    const got = await queryRows(`SELECT * FROM read_csv('${out}', types={'customer_id': 'VARCHAR'})`);
    expect(sameTable(got, want).slice(0, 5)).toEqual([]);
    expect(readFileSync(out, "utf8").split("\n")[0]).toBe([...want.values().next().value ? Object.keys(want.values().next().value!) : []].join(","));
  });
});
