/**
 * The server's store in PostgreSQL (`segmenta serve --store postgres://…`): the same `Store` as
 * the embedded DuckDB one (src/server/store.ts), the same tables (named `segmenta_*`, so that
 * the store can share a database with other tables), for teams that run several servers on one
 * database.
 *
 * Shared by several processes, it keeps nothing in memory: every token is looked up by its hash
 * on each request (and compared again in constant time by tokens.ts), and a model's next version
 * is taken under a transaction-scoped advisory lock on the model's name, so that servers
 * publishing the same name at once get distinct versions and leave exactly one active.
 *
 * JSON is stored as TEXT (returned exactly as written, key order included) and times as the ISO
 * text the callers give, as the DuckDB store does. Paths are stored absolute (unlike the
 * DuckDB store, which stores them relative to its folder): servers sharing the database each have
 * their own data folder, and a run's folder tells which server it belongs to.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import pg from "pg";
import { InputError } from "../core/errors.js";
import { isPostgresSource, maskUrl } from "../io/pg-url.js";
import {
  type AssignmentRecord, type AssignmentRow, assignmentFromRow, checkAssignments, datasetFromRow, type DatasetRecord, json, modelFromRow, type Row, RUN_INSERT_COLUMNS, runFromRow, tokenFromRow, type HistoryStore, type ModelVersion, RUN_COLUMNS, RUN_STATUSES, type RunRecord, type RunStatus,
  SCHEMA_VERSION, type Scope, SCOPES, type TokenRecord,
} from "./store.js";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS segmenta_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS segmenta_datasets (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL, format TEXT NOT NULL,
    bytes BIGINT NOT NULL, rows BIGINT NOT NULL, created_at TEXT NOT NULL, inspect TEXT)`,
  `CREATE TABLE IF NOT EXISTS segmenta_runs (
    id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, config TEXT, status TEXT NOT NULL,
    progress DOUBLE PRECISION, message TEXT, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
    summary TEXT, error TEXT, dir TEXT NOT NULL)`,
  `ALTER TABLE segmenta_runs ADD COLUMN IF NOT EXISTS crashes INTEGER DEFAULT 0`,
  `CREATE TABLE IF NOT EXISTS segmenta_models (
    name TEXT NOT NULL, version INTEGER NOT NULL, active BOOLEAN NOT NULL, created_at TEXT NOT NULL,
    run_id TEXT, checksum TEXT NOT NULL, file TEXT NOT NULL, PRIMARY KEY (name, version))`,
  // At most one active version per name, whatever the servers do.
  `CREATE UNIQUE INDEX IF NOT EXISTS segmenta_models_one_active ON segmenta_models (name) WHERE active`,
  `CREATE TABLE IF NOT EXISTS segmenta_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS segmenta_assignments (
    seq BIGSERIAL PRIMARY KEY, model TEXT NOT NULL, version INTEGER NOT NULL, customer_id TEXT NOT NULL,
    segment INTEGER NOT NULL, segment_name TEXT NOT NULL, published_at TEXT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS segmenta_assignments_model ON segmenta_assignments (model, seq)`,
];

/** Key of the advisory lock held while the schema is created (several servers may start at once). */
const SCHEMA_LOCK = 0x5e67_3e7a;
/** Rows of assignments per INSERT. */
const ASSIGNMENT_BATCH = 2048;


/** The URL with its password hidden, for messages. */
export const redactUrl = maskUrl;


class PgStore implements HistoryStore {
  private closed = false;

  constructor(private readonly pool: pg.Pool) {}

  // ---- paths ----
  private toStored(path: string): string {
    return resolve(path);
  }
  /** Paths are stored absolute here (servers sharing the database each have their own folder). */
  private readonly fromStored = (path: string): string => path;

  // ---- plumbing ----
  private check(): void {
    if (this.closed) throw new Error("the store is closed");
  }
  private async query(sql: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    this.check();
    return this.pool.query<Row>(sql, values);
  }
  /** Several statements that commit together or not at all, on one connection. */
  private async transaction<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    this.check();
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query("BEGIN");
      try {
        const out = await f(c);
        await c.query("COMMIT");
        return out;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw e;
      }
    } finally {
      c.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The runs' locks end with their connection.
    if (this.lockSession) (await this.lockSession.catch(() => null))?.release(true);
    this.held.clear();
    await this.pool.end();
  }

  // ---- datasets ----
  async addDataset(d: DatasetRecord): Promise<void> {
    await this.query("INSERT INTO segmenta_datasets VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [
      d.id, d.name, this.toStored(d.file), d.format, d.bytes, d.rows, d.createdAt, json(d.inspect),
    ]);
  }
  async getDataset(id: string): Promise<DatasetRecord | null> {
    const { rows } = await this.query("SELECT * FROM segmenta_datasets WHERE id = $1", [id]);
    return rows.length ? datasetFromRow(rows[0], this.fromStored) : null;
  }
  async listDatasets(): Promise<DatasetRecord[]> {
    return (await this.query("SELECT * FROM segmenta_datasets ORDER BY created_at, id")).rows.map((r) => datasetFromRow(r, this.fromStored));
  }
  async deleteDataset(id: string): Promise<boolean> {
    const r = await this.query("DELETE FROM segmenta_datasets WHERE id = $1", [id]);
    return (r.rowCount ?? 0) > 0;
  }

  // ---- runs ----
  async addRun(r: RunRecord): Promise<void> {
    if (!RUN_STATUSES.includes(r.status)) throw new Error(`unknown run status ${String(r.status)}`);
    await this.query(`INSERT INTO segmenta_runs (${RUN_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
      r.id, r.datasetId, json(r.config), r.status, r.progress, r.message, r.createdAt, r.startedAt,
      r.finishedAt, json(r.summary), r.error, this.toStored(r.dir),
    ]);
  }
  async updateRun(id: string, patch: Partial<RunRecord>): Promise<void> {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (key === "id" || value === undefined) continue;
      const col = RUN_COLUMNS[key as keyof typeof RUN_COLUMNS];
      if (!col) throw new Error(`updateRun: unknown field ${key}`);
      if (key === "status" && !RUN_STATUSES.includes(value as RunStatus)) throw new Error(`unknown run status ${String(value)}`);
      values.push(col.json ? json(value) : key === "dir" ? this.toStored(String(value)) : value);
      sets.push(`${col.column} = $${values.length}`);
    }
    values.push(id);
    const where = `WHERE id = $${values.length}`;
    const sql = sets.length ? `UPDATE segmenta_runs SET ${sets.join(", ")} ${where}` : `SELECT id FROM segmenta_runs ${where}`;
    const r = await this.query(sql, values);
    if ((r.rowCount ?? 0) === 0) throw new Error(`updateRun: no run ${id}`);
  }
  async getRun(id: string): Promise<RunRecord | null> {
    const { rows } = await this.query("SELECT * FROM segmenta_runs WHERE id = $1", [id]);
    return rows.length ? runFromRow(rows[0], this.fromStored) : null;
  }
  async listRuns(): Promise<RunRecord[]> {
    return (await this.query("SELECT * FROM segmenta_runs ORDER BY created_at, id")).rows.map((r) => runFromRow(r, this.fromStored));
  }
  async unfinishedRuns(): Promise<RunRecord[]> {
    const { rows } = await this.query("SELECT * FROM segmenta_runs WHERE status IN ('queued', 'running') ORDER BY created_at, id");
    return rows.map((r) => runFromRow(r, this.fromStored));
  }
  async claimRun(id: string, startedAt: string): Promise<boolean> {
    const r = await this.query(
      "UPDATE segmenta_runs SET status = 'running', started_at = $1, progress = 0, message = 'starting' WHERE id = $2 AND status = 'queued'",
      [startedAt, id],
    );
    return (r.rowCount ?? 0) > 0;
  }
  async countCrash(id: string): Promise<number> {
    const r = await this.query("UPDATE segmenta_runs SET crashes = coalesce(crashes, 0) + 1 WHERE id = $1 RETURNING crashes", [id]);
    if (!r.rows.length) throw new Error(`countCrash: no run ${id}`);
    return Number(r.rows[0].crashes);
  }

  // ---- runs held by this server ----
  // A session-level advisory lock per run, on one connection of this store's own: held while the
  // run is queued or running here, released when it finishes, or by PostgreSQL when this
  // server's connection ends (a crash). Another server starting on the same data folder skips
  // the runs it cannot hold.
  private lockSession: Promise<pg.PoolClient> | null = null;
  private readonly held = new Set<string>();
  private session(): Promise<pg.PoolClient> {
    this.check();
    this.lockSession ??= this.pool.connect();
    return this.lockSession;
  }
  async holdRun(id: string): Promise<boolean> {
    if (this.held.has(id)) return true;
    const c = await this.session();
    const r = await c.query<Row>("SELECT pg_try_advisory_lock(hashtextextended('segmenta.run:' || $1, 0)) AS ok", [id]);
    const ok = r.rows[0].ok === true;
    if (ok) this.held.add(id);
    return ok;
  }
  async releaseRun(id: string): Promise<void> {
    if (!this.held.delete(id) || this.closed) return;
    const c = await this.session();
    await c.query("SELECT pg_advisory_unlock(hashtextextended('segmenta.run:' || $1, 0))", [id]);
  }

  // ---- models ----
  async addModelVersion(name: string, file: unknown, checksum: string, runId: string | null, assignments: AssignmentRow[] = []): Promise<ModelVersion> {
    const text = json(file);
    if (text === null) throw new Error("addModelVersion: no model file");
    checkAssignments(assignments);
    const createdAt = new Date().toISOString();
    return this.transaction(async (c) => {
      // One publisher of a name at a time, across every server on this database; released at commit.
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended('segmenta.models:' || $1, 0))", [name]);
      const r = await c.query<Row>("SELECT coalesce(max(version), 0) AS v FROM segmenta_models WHERE name = $1", [name]);
      const version = Number(r.rows[0].v) + 1;
      await c.query("UPDATE segmenta_models SET active = false WHERE name = $1 AND active", [name]);
      await c.query("INSERT INTO segmenta_models VALUES ($1, $2, true, $3, $4, $5, $6)", [name, version, createdAt, runId, checksum, text]);
      if (assignments.length) await insertAssignments(c, name, version, assignments, createdAt);
      return { name, version, active: true, createdAt, runId, checksum, file: JSON.parse(text) as unknown };
    });
  }
  async getModel(name: string, version?: number): Promise<ModelVersion | null> {
    const { rows } = version === undefined
      ? await this.query("SELECT * FROM segmenta_models WHERE name = $1 AND active", [name])
      : await this.query("SELECT * FROM segmenta_models WHERE name = $1 AND version = $2", [name, version]);
    return rows.length ? modelFromRow(rows[0]) : null;
  }
  async listModels(): Promise<{ name: string; activeVersion: number; versions: number }[]> {
    const { rows } = await this.query(
      "SELECT name, max(CASE WHEN active THEN version END) AS active_version, count(*) AS versions FROM segmenta_models GROUP BY name ORDER BY name",
    );
    return rows.map((r) => ({ name: String(r.name), activeVersion: Number(r.active_version), versions: Number(r.versions) }));
  }
  async listVersions(name: string): Promise<ModelVersion[]> {
    return (await this.query("SELECT * FROM segmenta_models WHERE name = $1 ORDER BY version", [name])).rows.map(modelFromRow);
  }

  // ---- tokens ----
  async addToken(name: string, scope: Scope, hash: string): Promise<TokenRecord> {
    if (!SCOPES.includes(scope)) throw new Error(`unknown scope ${String(scope)}`);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error("addToken: the hash must be SHA-256 hex (64 lowercase hex digits)");
    const rec: TokenRecord = { id: randomUUID(), name, scope, createdAt: new Date().toISOString() };
    await this.query("INSERT INTO segmenta_tokens VALUES ($1, $2, $3, $4, $5)", [rec.id, rec.name, rec.scope, hash, rec.createdAt]);
    return rec;
  }
  /** Looked up in the database every time: another server may have added or revoked it. */
  async findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return null;
    const { rows } = await this.query("SELECT id, name, scope, hash, created_at FROM segmenta_tokens WHERE hash = $1", [hash]);
    if (!rows.length) return null;
    const r = rows[0];
    return { ...tokenFromRow(r), hash: String(r.hash) };
  }
  async deleteToken(id: string): Promise<boolean> {
    const r = await this.query("DELETE FROM segmenta_tokens WHERE id = $1", [id]);
    return (r.rowCount ?? 0) > 0;
  }
  async listTokens(): Promise<TokenRecord[]> {
    const { rows } = await this.query("SELECT id, name, scope, created_at FROM segmenta_tokens ORDER BY created_at, id");
    return rows.map(tokenFromRow);
  }

  // ---- assignments ----
  async recordAssignments(model: string, version: number, rows: AssignmentRow[], publishedAt: string): Promise<number> {
    checkAssignments(rows);
    if (!rows.length) return 0;
    return this.transaction(async (c) => {
      await insertAssignments(c, model, version, rows, publishedAt);
      return rows.length;
    });
  }

  async assignmentHistory(model: string): Promise<AssignmentRecord[]> {
    const { rows } = await this.query(
      "SELECT version, customer_id, segment, segment_name, published_at FROM segmenta_assignments WHERE model = $1 ORDER BY published_at, version, seq",
      [model],
    );
    return rows.map(assignmentFromRow);
  }
}

/** Whether a --store value names a PostgreSQL database. */
export const isPostgresUrl = isPostgresSource;

/**
 * Opens the store in the PostgreSQL database at `url` (postgres://user:password@host:port/db),
 * creating its tables when absent. Any number of servers may open the same database. A database
 * that cannot be reached is an InputError naming --store (password hidden).
 */
export async function openPgStore(url: string, options: { poolSize?: number } = {}): Promise<HistoryStore> {
  const shown = redactUrl(url);
  if (!isPostgresUrl(url)) throw new InputError(`--store ${shown}: give a PostgreSQL URL, postgres://user:password@host:5432/database`);
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
  // An idle connection dropped by the server must not bring the process down; the next query reconnects.
  pool.on("error", () => undefined);
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new InputError(`--store ${shown}: cannot connect to PostgreSQL (${(e as Error).message.split("\n")[0]}); check the host, port, user, password and database`, { cause: e });
  }
  try {
    await c.query("BEGIN");
    await c.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    for (const sql of SCHEMA) await c.query(sql);
    const r = await c.query<Row>("SELECT value FROM segmenta_meta WHERE key = 'schema_version'");
    if (!r.rows.length) {
      await c.query("INSERT INTO segmenta_meta VALUES ('schema_version', $1)", [String(SCHEMA_VERSION)]);
    } else if (Number(r.rows[0].value) > SCHEMA_VERSION) {
      throw new InputError(`--store ${shown}: the store was written by a newer segmenta (schema ${String(r.rows[0].value)}, this one knows ${SCHEMA_VERSION}); upgrade segmenta`);
    }
    await c.query("COMMIT");
    c.release();
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    c.release(true);
    await pool.end().catch(() => undefined);
    if (e instanceof InputError) throw e;
    throw new InputError(`--store ${shown}: cannot create the store's tables (${(e as Error).message.split("\n")[0]}); the user needs CREATE rights on the database`, { cause: e });
  }
  return new PgStore(pool);
}

/** Inserts assignments inside the client's open transaction, in batches, in the order given. */
async function insertAssignments(c: pg.PoolClient, model: string, version: number, rows: AssignmentRow[], publishedAt: string): Promise<void> {
  for (let start = 0; start < rows.length; start += ASSIGNMENT_BATCH) {
    const batch = rows.slice(start, start + ASSIGNMENT_BATCH);
    // unnest … WITH ORDINALITY keeps the rows in the order given (seq follows it).
    await c.query(
      `INSERT INTO segmenta_assignments (model, version, customer_id, segment, segment_name, published_at)
       SELECT $1, $2, u.id, u.segment, u.name, $3
       FROM unnest($4::text[], $5::int[], $6::text[]) WITH ORDINALITY AS u(id, segment, name, ord) ORDER BY u.ord`,
      [model, version, publishedAt, batch.map((r) => String(r.id)), batch.map((r) => r.segment), batch.map((r) => String(r.name))],
    );
  }
}
