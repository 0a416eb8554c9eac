/**
 * Export of segment assignments to a PostgreSQL table (`segmenta export … --to postgres://…
 * --table T`), in ONE transaction:
 *
 * - T (id TEXT PRIMARY KEY, segment INTEGER, segment_name TEXT, model TEXT, valid_from
 *   TIMESTAMPTZ): each customer's current segment, upserted by id. `valid_from` is when the
 *   customer entered that segment: it moves only when the segment (or its name) changes.
 * - T_history (id, segment, segment_name, model, valid_from, valid_to): who was in which segment
 *   when. A row is appended only for a customer whose segment or segment name changed (or who is
 *   new), and the customer's previous open row (valid_to NULL) is closed at the new valid_from.
 *
 * Re-running the same export changes nothing. Customers of T absent from the export are left as
 * they are. Both tables are created when absent; concurrent exports into one table take turns
 * (a lock on T for the transaction). A failure anywhere rolls everything back.
 */
import pg from "pg";
import { InputError } from "../../core/errors.js";
import { isPostgresUrl, redactUrl } from "../pg-store.js";

/** One customer's segment (the shape of source.ts's Assignment). */
export interface PgAssignment {
  id: string;
  segment: number;
  name: string;
}

export interface PgExportOptions {
  /** The model the segments come from ("name@version"), written in the model column; null when unknown. */
  model: string | null;
  /** When the assignments take effect (ISO 8601); default now. */
  validFrom?: string;
}

export interface PgExportResult {
  table: string;
  historyTable: string;
  /** Customers new to T. */
  inserted: number;
  /** Customers of T whose segment or segment name changed. */
  changed: number;
  /** Customers already in T in the same segment (untouched but for the model column). */
  unchanged: number;
  /** Rows appended to the history (inserted + changed). */
  historyRows: number;
}

/** Rows sent per statement while loading the export. */
const BATCH = 5000;
/** PostgreSQL's longest identifier, in bytes. */
const MAX_IDENT = 63;

/**
 * The quoted names of T and T_history from a --table value: `name` or `schema.name`, letters,
 * digits and underscores, folded to lower case as PostgreSQL folds unquoted names (so that
 * `SELECT * FROM Segments` finds the table).
 */
export function tableNames(table: string): { table: string; history: string; schema: string | null; name: string } {
  const t = table.trim();
  const m = /^(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)$/.exec(t);
  if (!m) throw new InputError(`--table ${JSON.stringify(table)}: give a table name of letters, digits and underscores (optionally schema.table), e.g. --table customer_segments`);
  const schema = m[1] ? m[1].toLowerCase() : null;
  const name = m[2].toLowerCase();
  if (name.length + "_history".length > MAX_IDENT || (schema?.length ?? 0) > MAX_IDENT) {
    throw new InputError(`--table ${table}: at most ${MAX_IDENT - "_history".length} characters (PostgreSQL names are at most ${MAX_IDENT}, and ${name}_history must fit)`);
  }
  const q = (s: string) => `"${s}"`;
  const prefix = schema ? `${q(schema)}.` : "";
  return { table: prefix + q(name), history: prefix + q(`${name}_history`), schema, name };
}

function checkAssignments(rows: readonly PgAssignment[]): void {
  const seen = new Set<string>();
  for (const r of rows) {
    const id = String(r.id);
    if (id === "") throw new InputError("an assignment has an empty customer id; every row needs one");
    if (seen.has(id)) throw new InputError(`customer id ${JSON.stringify(id)} appears twice; an export has one row per customer`);
    seen.add(id);
    if (!Number.isInteger(r.segment) || r.segment < -1 || r.segment > 2_147_483_647) {
      throw new InputError(`customer ${JSON.stringify(id)}: segment ${String(r.segment)} is not a segment number (a whole number, −1 for outliers)`);
    }
  }
}

/** The columns T and T_history must have, when they already exist. */
const T_COLUMNS = ["id", "segment", "segment_name", "model", "valid_from"];
const H_COLUMNS = [...T_COLUMNS, "valid_to"];

/**
 * Upserts `assignments` into `table` at the database `url` and appends the changes to
 * `table`_history, in one transaction (see the file's comment). Returns the counts.
 */
export async function exportToPostgres(url: string, table: string, assignments: readonly PgAssignment[], options: PgExportOptions): Promise<PgExportResult> {
  const shown = redactUrl(url);
  if (!isPostgresUrl(url)) throw new InputError(`--to ${shown}: give a PostgreSQL URL, postgres://user:password@host:5432/database`);
  const names = tableNames(table);
  const validFrom = options.validFrom ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(validFrom))) throw new InputError(`valid from ${validFrom}: not a date and time; give ISO 8601, e.g. 2026-12-02T01:00:00Z`);
  checkAssignments(assignments);
  const model = options.model ?? null;

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new InputError(`--to ${shown}: cannot connect to PostgreSQL (${(e as Error).message.split("\n")[0]}); check the host, port, user, password and database`, { cause: e });
  }
  try {
    await client.query("BEGIN");
    try {
      const result = await exportIn(client, names, assignments, model, validFrom);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function exportIn(
  c: pg.Client, names: ReturnType<typeof tableNames>, rows: readonly PgAssignment[], model: string | null, validFrom: string,
): Promise<PgExportResult> {
  const T = names.table;
  const H = names.history;
  // Creating the tables: one exporter of this table at a time (CREATE … IF NOT EXISTS races otherwise).
  await c.query("SELECT pg_advisory_xact_lock(hashtextextended('segmenta.export:' || $1, 0))", [`${names.schema ?? ""}.${names.name}`]);
  await c.query(`CREATE TABLE IF NOT EXISTS ${T} (
    id TEXT PRIMARY KEY, segment INTEGER NOT NULL, segment_name TEXT NOT NULL, model TEXT, valid_from TIMESTAMPTZ NOT NULL)`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${H} (
    id TEXT NOT NULL, segment INTEGER NOT NULL, segment_name TEXT NOT NULL, model TEXT, valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ)`);
  await checkColumns(c, names.schema, names.name, T_COLUMNS);
  await checkColumns(c, names.schema, `${names.name}_history`, H_COLUMNS);
  // Readers go on reading; other writers of T wait for the commit.
  await c.query(`LOCK TABLE ${T}, ${H} IN SHARE ROW EXCLUSIVE MODE`);

  await c.query(`CREATE TEMP TABLE segmenta_incoming (ord INTEGER NOT NULL, id TEXT PRIMARY KEY, segment INTEGER NOT NULL, segment_name TEXT NOT NULL) ON COMMIT DROP`);
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH);
    await c.query(
      `INSERT INTO segmenta_incoming SELECT $1::int + u.ord::int, u.id, u.segment, u.name
       FROM unnest($2::text[], $3::int[], $4::text[]) WITH ORDINALITY AS u(id, segment, name, ord)`,
      [start, batch.map((r) => String(r.id)), batch.map((r) => r.segment), batch.map((r) => String(r.name))],
    );
  }
  // The customers new to T or whose segment changed.
  await c.query(`CREATE TEMP TABLE segmenta_changed ON COMMIT DROP AS
    SELECT i.ord, i.id, i.segment, i.segment_name, (t.id IS NULL) AS is_new
    FROM segmenta_incoming i LEFT JOIN ${T} t ON t.id = i.id
    WHERE t.id IS NULL OR t.segment IS DISTINCT FROM i.segment OR t.segment_name IS DISTINCT FROM i.segment_name`);
  const counts = await c.query<{ inserted: string; changed: string }>(
    "SELECT count(*) FILTER (WHERE is_new) AS inserted, count(*) FILTER (WHERE NOT is_new) AS changed FROM segmenta_changed",
  );
  const inserted = Number(counts.rows[0].inserted);
  const changed = Number(counts.rows[0].changed);
  // Close the open history rows of those who moved, then append their new rows (in the export's order).
  await c.query(`UPDATE ${H} h SET valid_to = $1 FROM segmenta_changed ch WHERE h.id = ch.id AND h.valid_to IS NULL`, [validFrom]);
  await c.query(
    `INSERT INTO ${H} (id, segment, segment_name, model, valid_from, valid_to)
     SELECT id, segment, segment_name, $1, $2, NULL FROM segmenta_changed ORDER BY ord`,
    [model, validFrom],
  );
  await c.query(
    `INSERT INTO ${T} (id, segment, segment_name, model, valid_from)
     SELECT id, segment, segment_name, $1, $2 FROM segmenta_changed ORDER BY ord
     ON CONFLICT (id) DO UPDATE SET segment = EXCLUDED.segment, segment_name = EXCLUDED.segment_name,
       model = EXCLUDED.model, valid_from = EXCLUDED.valid_from`,
    [model, validFrom],
  );
  // The same segment from another model: the model is noted, the customer did not move.
  if (model !== null) {
    await c.query(`UPDATE ${T} t SET model = $1 FROM segmenta_incoming i WHERE t.id = i.id AND t.model IS DISTINCT FROM $1`, [model]);
  }
  const label = names.schema ? `${names.schema}.${names.name}` : names.name;
  return { table: label, historyTable: `${label}_history`, inserted, changed, unchanged: rows.length - inserted - changed, historyRows: inserted + changed };
}

async function checkColumns(c: pg.Client, schema: string | null, name: string, needed: string[]): Promise<void> {
  const r = await c.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2`,
    [schema, name],
  );
  const have = new Set(r.rows.map((x) => x.column_name));
  const missing = needed.filter((n) => !have.has(n));
  if (missing.length) {
    throw new InputError(`--table: the existing table ${name} lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (it needs ${needed.join(", ")}); give another --table, segmenta creates it`);
  }
}
