import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

/** One embedded DuckDB per process, opened on first use. */
let instance: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> | null = null;

export async function duck(): Promise<DuckDBConnection> {
  instance ??= (async () => {
    const inst = await DuckDBInstance.create(":memory:", { threads: "2" });
    const connection = await inst.connect();
    return { instance: inst, connection };
  })();
  return (await instance).connection;
}

/**
 * A new connection to the process's embedded DuckDB: a query on the shared connection ends a
 * result streaming from it, so work beside a stream (appending its output) needs its own.
 */
export async function duckConnection(): Promise<DuckDBConnection> {
  await duck();
  return (await instance!).instance.connect();
}

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes an SQL string literal. */
export function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

let tableCounter = 0;
export function freshTableName(prefix = "t"): string {
  tableCounter += 1;
  return `${prefix}_${process.pid}_${tableCounter}`;
}

/** Runs a query and returns its rows as JSON-friendly objects. */
export async function queryRows(sql: string): Promise<Record<string, unknown>[]> {
  const con = await duck();
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

export async function exec(sql: string): Promise<void> {
  const con = await duck();
  await con.run(sql);
}

/** First line of a DuckDB error message, without its SQL excerpt. */
export function duckMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0].replace(/^(Invalid Input|IO|Conversion|Binder|Parser) Error: /, "");
}
