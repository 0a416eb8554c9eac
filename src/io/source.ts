/**
 * Databases as sources: the rows of a query (or a table) of a PostgreSQL database, read with
 * a server-side cursor in batches (DECLARE … CURSOR, then FETCH n until it is empty) inside a
 * READ ONLY transaction, each batch appended to a DuckDB table. The result is never held
 * whole in JavaScript: one batch at a time, and DuckDB spills its table to disk beyond its
 * memory limit. The table is then a LoadedTable like a file's, so every command that reads a
 * file reads a database the same way.
 *
 * Values arrive as PostgreSQL's text (no type parsing in the client) and are cast by DuckDB to
 * the column's type: integers to BIGINT, floating point and numeric to DOUBLE, booleans, dates
 * and timestamps to their DuckDB types, everything else kept as text.
 */
import type { DuckDBAppender } from "@duckdb/node-api";
import { InputError } from "../core/errors.js";
import { duckConnection, exec, freshTableName, ident, queryRows } from "./duck.js";
import { isPostgresSource, maskUrl } from "./pg-url.js";
import type { LoadedTable } from "./read.js";

/** Where the rows come from: a database URL and a query or a table. */
export interface SourceSpec {
  url: string;
  query?: string;
  table?: string;
}

export interface SourceOptions {
  /** Rows per FETCH (default 10,000). */
  batchSize?: number;
  /** Columns kept as text whatever their type (an id column), as ReadOptions.text. */
  text?: string[];
  /** Called after each FETCH with the rows it returned (0 for the last, empty one). */
  onBatch?: (rows: number, batch: number) => void;
  /** Progress in words. */
  onProgress?: (message: string) => void;
}

export { isPostgresSource, maskUrl };

/** How the source is named in messages and outputs: the masked URL and the table or "query". */
export function sourceLabel(spec: SourceSpec): string {
  return `${maskUrl(spec.url)} (${spec.table !== undefined ? `table ${spec.table}` : "query"})`;
}

/**
 * The source of the CLI's --source, --query and --table flags, or null without --source;
 * each flag's misuse is an InputError naming it.
 */
export function sourceFromFlags(values: { source?: string; query?: string; table?: string }, positionals: string[], command: string): SourceSpec | null {
  if (values.source === undefined) {
    if (values.query !== undefined || values.table !== undefined) {
      throw new InputError(`--${values.query !== undefined ? "query" : "table"} reads from a database: add --source postgres://user@host:5432/database`);
    }
    return null;
  }
  if (!isPostgresSource(values.source)) {
    throw new InputError(`--source ${maskUrl(values.source)}: give a PostgreSQL URL, postgres://user:password@host:5432/database (a file is given without --source)`);
  }
  if (positionals.length) throw new InputError(`segmenta ${command}: give either a data file or --source, not both (got ${positionals.join(" ")})`);
  if ((values.query === undefined) === (values.table === undefined)) {
    throw new InputError(`--source needs what to read: --query "SELECT …" or --table NAME (one of them)`);
  }
  if (values.query !== undefined && !values.query.trim()) throw new InputError("--query is empty; give a SELECT");
  if (values.table !== undefined && !values.table.trim()) throw new InputError("--table is empty; give a table name (schema.table or table)");
  return { url: values.source, query: values.query, table: values.table };
}

/** `SELECT * FROM` a table name as given (schema.table, each part quoted). */
function tableQuery(table: string): string {
  return `SELECT * FROM ${table.split(".").map((p) => `"${p.replace(/"/g, '""')}"`).join(".")}`;
}

/** PostgreSQL type OIDs → the DuckDB type the text values are cast to. */
const PG_TYPES: Record<number, string> = {
  16: "BOOLEAN", // bool
  20: "BIGINT", // int8
  21: "BIGINT", // int2
  23: "BIGINT", // int4
  700: "DOUBLE", // float4
  701: "DOUBLE", // float8
  1700: "DOUBLE", // numeric
  1082: "DATE", // date
  1114: "TIMESTAMP", // timestamp
  1184: "TIMESTAMPTZ", // timestamptz
};

/**
 * Reads the rows of a query or a table of a PostgreSQL database into a DuckDB table, FETCH
 * by FETCH (see the file's comment). Statements other than reads fail (the transaction is
 * READ ONLY); the password never appears in a message.
 */
export async function loadSource(spec: SourceSpec, options: SourceOptions = {}): Promise<LoadedTable> {
  const label = sourceLabel(spec);
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batchSize must be a positive integer, got ${batchSize}`);
  const query = spec.query !== undefined ? spec.query.trim().replace(/;\s*$/, "") : tableQuery(spec.table!);
  const { default: pg } = await import("pg");
  // Every value as PostgreSQL's text: DuckDB casts it.
  const client = new pg.Client({ connectionString: spec.url, connectionTimeoutMillis: 10_000, types: { getTypeParser: () => (v: string) => v } });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new InputError(`--source ${maskUrl(spec.url)}: cannot connect (${pgMessage(e, spec.url)}); check the host, port, database, user and password`, { cause: e });
  }
  const staging = freshTableName("pg");
  let created = false;
  let columns: { name: string; type: string }[] = [];
  let rows = 0;
  const con = await duckConnection();
  let app: DuckDBAppender | null = null;
  try {
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      await client.query(`DECLARE segmenta_cursor NO SCROLL CURSOR FOR ${query}`);
    } catch (e) {
      throw new InputError(`--source ${label}: ${spec.query !== undefined ? "--query" : "--table"} failed: ${pgMessage(e, spec.url)}${
        /read-only transaction/i.test(pgMessage(e, spec.url)) ? " (only reading statements are run: give a SELECT)" : ""}`, { cause: e });
    }
    for (let batch = 0; ; batch++) {
      let res;
      try {
        res = await client.query({ text: `FETCH ${batchSize} FROM segmenta_cursor`, rowMode: "array" });
      } catch (e) {
        throw new InputError(`--source ${label}: reading the rows failed: ${pgMessage(e, spec.url)}`, { cause: e });
      }
      options.onBatch?.(res.rows.length, batch);
      if (!created) {
        columns = uniqueNames(res.fields.map((f) => f.name)).map((name, j) => ({ name, type: PG_TYPES[res.fields[j].dataTypeID] ?? "VARCHAR" }));
        if (!columns.length) throw new InputError(`--source ${label}: the query returns no columns`);
        await exec(`CREATE TABLE ${staging} (${columns.map((c) => `${ident(c.name)} VARCHAR`).join(", ")})`);
        created = true;
        app = await con.createAppender(staging);
      }
      const a = app!;
      for (const row of res.rows as (string | null)[][]) {
        for (const v of row) {
          if (v === null) a.appendNull();
          else a.appendVarchar(v);
        }
        a.endRow();
      }
      rows += res.rows.length;
      if (res.rows.length) options.onProgress?.(`read ${rows.toLocaleString("en-US")} rows from ${label}`);
      if (res.rows.length < batchSize) break;
    }
    app?.flushSync();
    app?.closeSync();
    app = null;
    await client.query("CLOSE segmenta_cursor").catch(() => undefined);
    await client.query("COMMIT").catch(() => undefined);
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    if (app) app.closeSync();
    if (created) await exec(`DROP TABLE IF EXISTS ${staging}`);
    throw e;
  } finally {
    con.closeSync();
    await client.end().catch(() => undefined);
  }
  if (rows === 0) {
    await exec(`DROP TABLE IF EXISTS ${staging}`);
    throw new InputError(`--source ${label} returned no rows (columns ${columns.map((c) => c.name).slice(0, 5).join(", ")}); check the query or the table`);
  }
  // The text values cast to their types, in the order they arrived.
  const text = options.text ?? [];
  const table = freshTableName("src");
  const select = columns.map((c) => (c.type === "VARCHAR" || text.includes(c.name) ? ident(c.name) : `CAST(${ident(c.name)} AS ${c.type}) AS ${ident(c.name)}`));
  try {
    await exec(`CREATE TABLE ${table} AS SELECT ${select.join(", ")} FROM ${staging} ORDER BY rowid`);
  } finally {
    await exec(`DROP TABLE IF EXISTS ${staging}`);
  }
  const described = await queryRows(`DESCRIBE ${table}`);
  return {
    file: label, format: "csv", table, rows,
    columns: described.map((r) => ({ name: String(r.column_name), duckType: String(r.column_type) })),
    details: `PostgreSQL ${spec.query !== undefined ? "query" : `table ${spec.table}`}, read with a cursor in batches of ${batchSize.toLocaleString("en-US")} rows`,
    firstDataLine: 1,
  };
}

/** A PostgreSQL error's message, without the URL's password. */
function pgMessage(e: unknown, url: string): string {
  let m = e instanceof Error ? e.message : String(e);
  try {
    const pw = new URL(url).password;
    if (pw) m = m.split(pw).join("***");
    const decoded = decodeURIComponent(pw);
    if (decoded) m = m.split(decoded).join("***");
  } catch {
    // not a URL: nothing to hide
  }
  return m.split("\n")[0] || "unknown error";
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    const base = raw || `column${i}`;
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  });
}
