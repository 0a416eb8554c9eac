/**
 * Test helpers of the warehouse SQL (test/sql-*.test.ts): a Dataset as the warehouse table it
 * stands for (numbers as doubles, flags as booleans, dates as timestamps, text as text),
 * written with literal INSERTs through any engine's `run`, and the real data files read as
 * the pipeline reads them.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dataset } from "../../src/core/dataset.js";
import { readColumns } from "../../src/io/extract.js";
import { dropTable, loadTable } from "../../src/io/read.js";
import { profileTable } from "../../src/io/schema.js";
import type { Dialect } from "../../src/pipeline/sql/dialect.js";

export const DATA_DIR = fileURLToPath(new URL("../../../shared/data/", import.meta.url));
export const TELCO = join(DATA_DIR, "WA_Fn-UseC_-Telco-Customer-Churn.csv");
export const RETAIL = join(DATA_DIR, "online_retail.parquet");

/** Whether the shared data files are there; prints why not. */
export function haveData(...files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) console.warn(`real-data SQL tests skipped: ${missing.join(", ")} not found (the datasets live in ../shared/data beside the project)`);
  return missing.length === 0;
}

/** A file as the pipeline reads it (every column, with the kinds Segmenta infers). */
export async function readDataset(path: string): Promise<Dataset> {
  const t = await loadTable(path);
  try {
    const profile = await profileTable(t, {});
    return await readColumns(t, profile, profile.columns.map((c) => c.name));
  } finally {
    await dropTable(t);
  }
}

function sqlType(d: Dialect, kind: string): string {
  if (kind === "numeric") return d.double;
  if (kind === "boolean") return "BOOLEAN";
  if (kind === "datetime") return "TIMESTAMP";
  return d.name === "postgres" ? "TEXT" : "VARCHAR";
}

/** Creates `table` holding the dataset's rows, through `run` (one statement at a time). */
export async function writeDataset(ds: Dataset, table: string, d: Dialect, run: (sql: string) => Promise<unknown>): Promise<void> {
  await run(`DROP TABLE IF EXISTS ${d.ident(table)}`);
  await run(`CREATE TABLE ${d.ident(table)} (${ds.columns.map((c) => `${d.ident(c.name)} ${sqlType(d, c.kind)}`).join(", ")})`);
  const cell = (c: Dataset["columns"][number], i: number): string => {
    if (c.kind === "categorical" || c.kind === "id") {
      const v = (c.values as (string | null)[])[i];
      return v === null ? "NULL" : d.str(v);
    }
    const x = (c.values as Float64Array)[i];
    if (Number.isNaN(x)) return "NULL";
    if (c.kind === "boolean") return x ? "TRUE" : "FALSE";
    if (c.kind === "datetime") return `CAST(${d.str(new Date(x).toISOString().replace("T", " ").replace("Z", ""))} AS TIMESTAMP)`;
    return d.num(x);
  };
  for (let start = 0; start < ds.rows; start += 500) {
    const rows: string[] = [];
    for (let i = start; i < Math.min(ds.rows, start + 500); i++) rows.push(`(${ds.columns.map((c) => cell(c, i)).join(", ")})`);
    await run(`INSERT INTO ${d.ident(table)} VALUES ${rows.join(", ")}`);
  }
}
