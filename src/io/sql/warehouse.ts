/**
 * Running Segmenta's SQL in a PostgreSQL database: connecting (an InputError naming the
 * option when the server cannot be reached), the stored type of a table's columns, and reading
 * a query's result in batches through a server-side cursor, never the whole result at once.
 */
import pg from "pg";
import { InputError } from "../../core/errors.js";
import { isPostgresSource, maskUrl } from "../pg-url.js";

export type PgClient = pg.Client;

export { isPostgresSource };

/** A connected client, or an InputError naming `flag` (password hidden). */
export async function connectPg(url: string, flag = "--source"): Promise<pg.Client> {
  const shown = maskUrl(url);
  if (!isPostgresSource(url)) throw new InputError(`${flag} ${shown}: give a PostgreSQL URL, postgres://user:password@host:5432/database`);
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  c.on("error", () => undefined);
  try {
    await c.connect();
  } catch (e) {
    await c.end().catch(() => undefined);
    throw new InputError(`${flag} ${shown}: cannot connect to PostgreSQL (${(e as Error).message.split("\n")[0]}); check the host, port, user, password and database`, { cause: e });
  }
  return c;
}

/** Each column's type (PostgreSQL's name, e.g. "double precision", "text") of a table (name or schema.name), or an InputError naming --table. */
export async function pgColumnTypes(c: pg.Client, table: string): Promise<Map<string, string>> {
  const r = await c.query<{ attname: string; type: string }>(
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    [table.split(".").map((p) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : `"${p.replace(/"/g, '""')}"`)).join(".")],
  );
  if (!r.rows.length) throw new InputError(`--table ${table}: the database has no such table (or it has no columns); give the table's name, or schema.name`);
  return new Map(r.rows.map((x) => [x.attname, x.type]));
}

/**
 * Runs `sql` and hands its rows to `onRows` in batches of `batch` (a cursor in a read-only
 * transaction). Returns the number of rows read.
 */
export async function queryInBatches(c: pg.Client, sql: string, onRows: (rows: Record<string, unknown>[]) => Promise<void> | void, batch = 10_000): Promise<number> {
  let total = 0;
  await c.query("BEGIN READ ONLY");
  try {
    await c.query(`DECLARE segmenta_cursor NO SCROLL CURSOR FOR ${sql}`);
    for (;;) {
      const r = await c.query(`FETCH ${batch} FROM segmenta_cursor`);
      if (!r.rows.length) break;
      total += r.rows.length;
      await onRows(r.rows as Record<string, unknown>[]);
    }
    await c.query("CLOSE segmenta_cursor");
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
  return total;
}

/** The SQL error's message as one line, for an InputError. */
export function pgMessage(e: unknown): string {
  return ((e as Error).message ?? String(e)).split("\n")[0];
}
