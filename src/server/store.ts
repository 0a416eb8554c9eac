/**
 * The server's store: datasets' metadata, runs, model versions, tokens and the history of
 * every published assignment. `openStore` keeps them in an embedded DuckDB file,
 * DIR/segmenta.duckdb; a PostgreSQL store can implement the same `Store` interface.
 *
 * Files (uploads, run folders) live under DIR and are recorded here by path: paths under DIR
 * are stored relative to it (the folder may move) and returned absolute. The store never
 * deletes files; the caller does.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { InputError } from "../core/errors.js";

export type Scope = "score" | "read" | "admin";
export const SCOPES: readonly Scope[] = ["score", "read", "admin"];

export interface DatasetRecord {
  id: string;
  name: string;
  /** Absolute path under the data folder. */
  file: string;
  format: string;
  bytes: number;
  rows: number;
  createdAt: string;
  /** The inspect JSON. */
  inspect: unknown;
}

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export const RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed", "cancelled"];

export interface RunRecord {
  id: string;
  datasetId: string;
  config: unknown;
  status: RunStatus;
  progress: number | null;
  message: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: unknown | null;
  error: string | null;
  /** The run's folder (absolute). */
  dir: string;
}

export interface ModelVersion {
  name: string;
  version: number;
  active: boolean;
  createdAt: string;
  runId: string | null;
  checksum: string;
  /** The model file JSON. */
  file: unknown;
}

/** One customer's segment, as published. */
export interface AssignmentRow {
  id: string;
  segment: number;
  name: string;
}

export interface TokenRecord {
  id: string;
  name: string;
  scope: Scope;
  createdAt: string;
}

export interface Store {
  close(): Promise<void>;
  addDataset(d: DatasetRecord): Promise<void>;
  getDataset(id: string): Promise<DatasetRecord | null>;
  listDatasets(): Promise<DatasetRecord[]>;
  /** Removes the record (not the file); false when there was none. */
  deleteDataset(id: string): Promise<boolean>;
  addRun(r: RunRecord): Promise<void>;
  /** Changes the given fields of a run (its id excepted); throws when there is no such run. */
  updateRun(id: string, patch: Partial<RunRecord>): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  listRuns(): Promise<RunRecord[]>;
  /** Runs left "queued" or "running" by a server that stopped (for the restart to resume or fail them). */
  unfinishedRuns(): Promise<RunRecord[]>;
  /**
   * Marks a queued run "running" (started now), only if it is still queued: false when it is not
   * (cancelled meanwhile, or taken by another server sharing the store), and then nothing changes.
   */
  claimRun(id: string, startedAt: string): Promise<boolean>;
  /** Counts one more time the server stopped during this run (a crash); returns the count. */
  countCrash(id: string): Promise<number>;
  /**
   * Holds a run for this server while it is queued or running here: false when another live
   * server holds it (servers sharing a PostgreSQL store and a data folder; released when that
   * server's connection ends). The DuckDB store is one process's, so it always holds.
   */
  holdRun(id: string): Promise<boolean>;
  /** Lets go of a run held by holdRun (it has finished, or the server stops). */
  releaseRun(id: string): Promise<void>;
  /** The next version of `name` (1 for a new name), made active (the others of the name inactive), in one transaction. */
  /**
   * The next version of `name`, made the active one; with `assignments` (a published run's
   * customers), they are recorded in the history in the same transaction, dated as the version.
   */
  addModelVersion(name: string, file: unknown, checksum: string, runId: string | null, assignments?: AssignmentRow[]): Promise<ModelVersion>;
  /** A version of a model; version omitted: the active one. */
  getModel(name: string, version?: number): Promise<ModelVersion | null>;
  listModels(): Promise<{ name: string; activeVersion: number; versions: number }[]>;
  /** Every version of a model, oldest first ([] for an unknown name). */
  listVersions(name: string): Promise<ModelVersion[]>;
  /** Stores a token by the SHA-256 hex of its text (never the text itself). */
  addToken(name: string, scope: Scope, hash: string): Promise<TokenRecord>;
  /** The token with this hash, with the stored hash (for a constant-time comparison), or null. */
  findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null>;
  listTokens(): Promise<TokenRecord[]>;
  /** Removes a token (it stops working at once); false when no token has this id. */
  deleteToken(id: string): Promise<boolean>;
  /** Appends published assignments to the history, in one transaction; returns the number of rows. */
  recordAssignments(model: string, version: number, rows: { id: string; segment: number; name: string }[], publishedAt: string): Promise<number>;
}

/** One published assignment, as the history keeps it. */
export interface AssignmentRecord { version: number; id: string; segment: number; name: string; publishedAt: string }

/** A store that can also read back the history of assignments (for exports and tests). */
export interface HistoryStore extends Store {
  /** Every assignment published for a model, oldest first (in the order published). */
  assignmentHistory(model: string): Promise<AssignmentRecord[]>;
}

/** The file of the embedded store inside a data folder. */
export const STORE_FILE = "segmenta.duckdb";
/** Bumped when the tables change; a newer store is refused. */
export const SCHEMA_VERSION = 1;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS datasets (
    id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, file VARCHAR NOT NULL, format VARCHAR NOT NULL,
    bytes BIGINT NOT NULL, rows BIGINT NOT NULL, created_at VARCHAR NOT NULL, inspect VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS runs (
    id VARCHAR PRIMARY KEY, dataset_id VARCHAR NOT NULL, config VARCHAR, status VARCHAR NOT NULL,
    progress DOUBLE, message VARCHAR, created_at VARCHAR NOT NULL, started_at VARCHAR, finished_at VARCHAR,
    summary VARCHAR, error VARCHAR, dir VARCHAR NOT NULL)`,
  // How many times a server stopped during the run (a store of an earlier version lacks the column).
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS crashes INTEGER DEFAULT 0`,
  `CREATE TABLE IF NOT EXISTS models (
    name VARCHAR NOT NULL, version INTEGER NOT NULL, active BOOLEAN NOT NULL, created_at VARCHAR NOT NULL,
    run_id VARCHAR, checksum VARCHAR NOT NULL, file VARCHAR NOT NULL, PRIMARY KEY (name, version))`,
  `CREATE TABLE IF NOT EXISTS tokens (
    id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, scope VARCHAR NOT NULL, hash VARCHAR NOT NULL UNIQUE,
    created_at VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS assignments (
    model VARCHAR NOT NULL, version INTEGER NOT NULL, customer_id VARCHAR NOT NULL, segment INTEGER NOT NULL,
    segment_name VARCHAR NOT NULL, published_at VARCHAR NOT NULL)`,
];

/** Rows of assignments appended between two flushes. */
const ASSIGNMENT_BATCH = 2048;

/** One operation at a time, in the order asked. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(f: () => Promise<T>): Promise<T> {
    const next = this.tail.then(f, f);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A row as a database driver returns it, by column name. Shared by both stores. */
export type Row = Record<string, unknown>;

/** A JSON column's text (null for none). */
export function json(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}
function parseJson(v: unknown): unknown {
  return typeof v === "string" ? JSON.parse(v) : null;
}
function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

// Rows into records, the same for both stores (their tables have the same columns). Paths are
// stored as each store chooses; `fromStored` turns a stored path into an absolute one.
export function datasetFromRow(r: Row, fromStored: (p: string) => string): DatasetRecord {
  return {
    id: String(r.id), name: String(r.name), file: fromStored(String(r.file)), format: String(r.format),
    bytes: Number(r.bytes), rows: Number(r.rows), createdAt: String(r.created_at), inspect: parseJson(r.inspect),
  };
}
export function runFromRow(r: Row, fromStored: (p: string) => string): RunRecord {
  return {
    id: String(r.id), datasetId: String(r.dataset_id), config: parseJson(r.config), status: String(r.status) as RunStatus,
    progress: num(r.progress), message: str(r.message), createdAt: String(r.created_at), startedAt: str(r.started_at),
    finishedAt: str(r.finished_at), summary: parseJson(r.summary), error: str(r.error), dir: fromStored(String(r.dir)),
  };
}
export function modelFromRow(r: Row): ModelVersion {
  return {
    name: String(r.name), version: Number(r.version), active: Boolean(r.active), createdAt: String(r.created_at),
    runId: str(r.run_id), checksum: String(r.checksum), file: parseJson(r.file),
  };
}
export function tokenFromRow(r: Row): TokenRecord {
  return { id: String(r.id), name: String(r.name), scope: String(r.scope) as Scope, createdAt: String(r.created_at) };
}
export function assignmentFromRow(r: Row): AssignmentRecord {
  return { version: Number(r.version), id: String(r.customer_id), segment: Number(r.segment), name: String(r.segment_name), publishedAt: String(r.published_at) };
}

/** The columns a new run is inserted with, in RunRecord's order (both stores; `crashes` takes its default). */
export const RUN_INSERT_COLUMNS = "id, dataset_id, config, status, progress, message, created_at, started_at, finished_at, summary, error, dir";

/** The run's columns, by field: how a patch becomes SQL (both stores). */
export const RUN_COLUMNS: Record<Exclude<keyof RunRecord, "id">, { column: string; json?: boolean }> = {
  datasetId: { column: "dataset_id" },
  config: { column: "config", json: true },
  status: { column: "status" },
  progress: { column: "progress" },
  message: { column: "message" },
  createdAt: { column: "created_at" },
  startedAt: { column: "started_at" },
  finishedAt: { column: "finished_at" },
  summary: { column: "summary", json: true },
  error: { column: "error" },
  dir: { column: "dir" },
};

class DuckStore implements HistoryStore {
  private readonly writes = new Mutex();
  private readonly reads = new Mutex();
  private closed = false;
  /**
   * Every token by hash, read at open and kept up to date by addToken: every request looks its
   * token up, and a query per request would cap the server at a few hundred requests a second.
   * Safe because the DuckDB file is this process's alone (the lock), so no other writer can
   * add or remove a token behind it. A store shared by several servers must not cache this way.
   */
  private readonly tokens = new Map<string, TokenRecord & { hash: string }>();

  constructor(
    private readonly dataDir: string,
    private readonly instance: DuckDBInstance,
    /** Every write goes through this connection, one at a time. */
    private readonly writer: DuckDBConnection,
    /** Reads, on a connection of their own: they see committed data only. */
    private readonly reader: DuckDBConnection,
  ) {}

  /** Reads the tokens into memory (once, at open). */
  async loadTokens(): Promise<void> {
    for (const r of await this.query("SELECT * FROM tokens")) {
      const hash = String(r.hash);
      this.tokens.set(hash, { ...tokenFromRow(r), hash });
    }
  }

  // ---- paths ----
  private toStored(path: string): string {
    const abs = resolve(path);
    const rel = relative(this.dataDir, abs);
    return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel.split(sep).join("/") : abs;
  }
  /** A stored path made absolute (an arrow function: the row mappers receive it). */
  private readonly fromStored = (path: string): string => (isAbsolute(path) ? path : join(this.dataDir, ...path.split("/")));

  // ---- plumbing ----
  private check(): void {
    if (this.closed) throw new Error("the store is closed");
  }
  private write<T>(f: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    this.check();
    return this.writes.run(() => f(this.writer));
  }
  /** Several statements that commit together or not at all. */
  private transaction<T>(f: (con: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.write(async (con) => {
      await con.run("BEGIN TRANSACTION");
      try {
        const out = await f(con);
        await con.run("COMMIT");
        return out;
      } catch (e) {
        await con.run("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }
  /**
   * Reads. Not through cached prepared statements: DuckDB 1.5's node API returned wrong values
   * from a statement prepared while its table was empty and run again after inserts.
   */
  private query(sql: string, values: DuckDBValue[] = []): Promise<Row[]> {
    this.check();
    return this.reads.run(async () => (await this.reader.runAndReadAll(sql, values)).getRowObjectsJS() as Row[]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Wait for what is under way, then checkpoint so that the file alone holds everything.
    await this.writes.run(async () => {
      await this.writer.run("CHECKPOINT").catch(() => undefined);
    });
    await this.reads.run(async () => undefined);
    this.closed = true;
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }

  // ---- datasets ----
  async addDataset(d: DatasetRecord): Promise<void> {
    await this.write((con) =>
      con.run("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        d.id, d.name, this.toStored(d.file), d.format, d.bytes, d.rows, d.createdAt, json(d.inspect),
      ]),
    );
  }
  async getDataset(id: string): Promise<DatasetRecord | null> {
    const rows = await this.query("SELECT * FROM datasets WHERE id = ?", [id]);
    return rows.length ? datasetFromRow(rows[0], this.fromStored) : null;
  }
  async listDatasets(): Promise<DatasetRecord[]> {
    return (await this.query("SELECT * FROM datasets ORDER BY created_at, id")).map((r) => datasetFromRow(r, this.fromStored));
  }
  async deleteDataset(id: string): Promise<boolean> {
    return this.write(async (con) => {
      const r = await con.runAndReadAll("DELETE FROM datasets WHERE id = ? RETURNING id", [id]);
      return r.currentRowCount > 0;
    });
  }

  // ---- runs ----
  async addRun(r: RunRecord): Promise<void> {
    if (!RUN_STATUSES.includes(r.status)) throw new Error(`unknown run status ${String(r.status)}`);
    await this.write((con) =>
      con.run(`INSERT INTO runs (${RUN_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        r.id, r.datasetId, json(r.config), r.status, r.progress, r.message, r.createdAt, r.startedAt,
        r.finishedAt, json(r.summary), r.error, this.toStored(r.dir),
      ]),
    );
  }
  async updateRun(id: string, patch: Partial<RunRecord>): Promise<void> {
    const sets: string[] = [];
    const values: DuckDBValue[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (key === "id" || value === undefined) continue;
      const col = RUN_COLUMNS[key as keyof typeof RUN_COLUMNS];
      if (!col) throw new Error(`updateRun: unknown field ${key}`);
      if (key === "status" && !RUN_STATUSES.includes(value as RunStatus)) throw new Error(`unknown run status ${String(value)}`);
      sets.push(`${col.column} = ?`);
      values.push(col.json ? json(value) : key === "dir" ? this.toStored(String(value)) : (value as DuckDBValue));
    }
    await this.write(async (con) => {
      const sql = sets.length ? `UPDATE runs SET ${sets.join(", ")} WHERE id = ? RETURNING id` : "SELECT id FROM runs WHERE id = ?";
      const r = await con.runAndReadAll(sql, [...values, id]);
      if (r.currentRowCount === 0) throw new Error(`updateRun: no run ${id}`);
    });
  }
  async getRun(id: string): Promise<RunRecord | null> {
    const rows = await this.query("SELECT * FROM runs WHERE id = ?", [id]);
    return rows.length ? runFromRow(rows[0], this.fromStored) : null;
  }
  async listRuns(): Promise<RunRecord[]> {
    return (await this.query("SELECT * FROM runs ORDER BY created_at, id")).map((r) => runFromRow(r, this.fromStored));
  }
  async unfinishedRuns(): Promise<RunRecord[]> {
    return (await this.query("SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at, id")).map((r) => runFromRow(r, this.fromStored));
  }
  async claimRun(id: string, startedAt: string): Promise<boolean> {
    return this.write(async (con) => {
      const r = await con.runAndReadAll(
        "UPDATE runs SET status = 'running', started_at = ?, progress = 0, message = 'starting' WHERE id = ? AND status = 'queued' RETURNING id",
        [startedAt, id],
      );
      return r.currentRowCount > 0;
    });
  }
  async countCrash(id: string): Promise<number> {
    return this.write(async (con) => {
      const r = await con.runAndReadAll("UPDATE runs SET crashes = coalesce(crashes, 0) + 1 WHERE id = ? RETURNING crashes", [id]);
      if (r.currentRowCount === 0) throw new Error(`countCrash: no run ${id}`);
      return Number((r.getRowObjectsJS()[0] as Row).crashes);
    });
  }
  // The DuckDB file is one process's (its lock): no other server can run its runs.
  async holdRun(_id: string): Promise<boolean> {
    this.check();
    return true;
  }
  async releaseRun(_id: string): Promise<void> {}

  // ---- models ----
  async addModelVersion(name: string, file: unknown, checksum: string, runId: string | null, assignments: AssignmentRow[] = []): Promise<ModelVersion> {
    const text = json(file);
    if (text === null) throw new Error("addModelVersion: no model file");
    checkAssignments(assignments);
    const createdAt = new Date().toISOString();
    return this.transaction(async (con) => {
      const r = await con.runAndReadAll("SELECT coalesce(max(version), 0) AS v FROM models WHERE name = ?", [name]);
      const version = Number((r.getRowObjectsJS()[0] as Row).v) + 1;
      await con.run("UPDATE models SET active = false WHERE name = ? AND active", [name]);
      await con.run("INSERT INTO models VALUES (?, ?, true, ?, ?, ?, ?)", [name, version, createdAt, runId, checksum, text]);
      if (assignments.length) await appendAssignments(con, name, version, assignments, createdAt);
      return { name, version, active: true, createdAt, runId, checksum, file: JSON.parse(text) as unknown };
    });
  }
  async getModel(name: string, version?: number): Promise<ModelVersion | null> {
    const rows = version === undefined
      ? await this.query("SELECT * FROM models WHERE name = ? AND active", [name])
      : await this.query("SELECT * FROM models WHERE name = ? AND version = ?", [name, version]);
    return rows.length ? modelFromRow(rows[0]) : null;
  }
  async listModels(): Promise<{ name: string; activeVersion: number; versions: number }[]> {
    const rows = await this.query(
      "SELECT name, max(CASE WHEN active THEN version END) AS active_version, count(*) AS versions FROM models GROUP BY name ORDER BY name",
    );
    return rows.map((r) => ({ name: String(r.name), activeVersion: Number(r.active_version), versions: Number(r.versions) }));
  }
  async listVersions(name: string): Promise<ModelVersion[]> {
    return (await this.query("SELECT * FROM models WHERE name = ? ORDER BY version", [name])).map(modelFromRow);
  }

  // ---- tokens ----
  async addToken(name: string, scope: Scope, hash: string): Promise<TokenRecord> {
    if (!SCOPES.includes(scope)) throw new Error(`unknown scope ${String(scope)}`);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error("addToken: the hash must be SHA-256 hex (64 lowercase hex digits)");
    const rec: TokenRecord = { id: randomUUID(), name, scope, createdAt: new Date().toISOString() };
    await this.write((con) => con.run("INSERT INTO tokens VALUES (?, ?, ?, ?, ?)", [rec.id, rec.name, rec.scope, hash, rec.createdAt]));
    this.tokens.set(hash, { ...rec, hash });
    return rec;
  }
  async findToken(hash: string): Promise<(TokenRecord & { hash: string }) | null> {
    this.check();
    const t = this.tokens.get(hash);
    return t ? { ...t } : null;
  }
  async deleteToken(id: string): Promise<boolean> {
    let hash: string | null = null;
    for (const [h, t] of this.tokens) if (t.id === id) hash = h;
    if (hash === null) return false;
    await this.write((con) => con.run("DELETE FROM tokens WHERE id = ?", [id]));
    this.tokens.delete(hash);
    return true;
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.query("SELECT id, name, scope, created_at FROM tokens ORDER BY created_at, id");
    return rows.map(tokenFromRow);
  }

  // ---- assignments ----
  async recordAssignments(model: string, version: number, rows: AssignmentRow[], publishedAt: string): Promise<number> {
    checkAssignments(rows);
    if (!rows.length) return 0;
    return this.transaction(async (con) => {
      await appendAssignments(con, model, version, rows, publishedAt);
      return rows.length;
    });
  }

  async assignmentHistory(model: string): Promise<AssignmentRecord[]> {
    const rows = await this.query(
      "SELECT version, customer_id, segment, segment_name, published_at FROM assignments WHERE model = ? ORDER BY published_at, version, rowid",
      [model],
    );
    return rows.map(assignmentFromRow);
  }
}

/**
 * Opens (creating when absent) the data folder and its store, DIR/segmenta.duckdb, with its
 * tables. One process at a time: a store open in another process (a running `segmenta serve`)
 * is an InputError that says so.
 */
export async function openStore(dataDir: string): Promise<HistoryStore> {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`--data ${dataDir}: cannot create the data folder (${(e as Error).message.split("\n")[0]}); give a folder you can write to`, { cause: e });
  }
  const file = join(dir, STORE_FILE);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, { threads: "2" });
  } catch (e) {
    const m = (e as Error).message.split("\n")[0];
    if (/lock/i.test(m)) {
      throw new InputError(`--data ${dataDir}: the store ${file} is in use by another process (a running segmenta serve?); stop it first`, { cause: e });
    }
    throw new InputError(`--data ${dataDir}: cannot open the store ${file} (${m})`, { cause: e });
  }
  const writer = await instance.connect();
  const reader = await instance.connect();
  try {
    for (const sql of SCHEMA) await writer.run(sql);
    const r = await writer.runAndReadAll("SELECT value FROM meta WHERE key = 'schema_version'");
    const rows = r.getRowObjectsJS() as Row[];
    if (!rows.length) {
      await writer.run("INSERT INTO meta VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    } else if (Number(rows[0].value) > SCHEMA_VERSION) {
      throw new InputError(`--data ${dataDir}: the store was written by a newer segmenta (schema ${String(rows[0].value)}, this one knows ${SCHEMA_VERSION}); upgrade segmenta`);
    }
  } catch (e) {
    reader.closeSync();
    writer.closeSync();
    instance.closeSync();
    throw e;
  }
  const store = new DuckStore(dir, instance, writer, reader);
  try {
    await store.loadTokens();
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  return store;
}

/** Refuses a segment that is not a whole number before anything is written. */
export function checkAssignments(rows: AssignmentRow[]): void {
  for (const r of rows) {
    if (!Number.isInteger(r.segment)) throw new Error(`recordAssignments: segment ${r.segment} of ${r.id} is not a whole number`);
  }
}

/** Appends assignments inside the connection's open transaction (a failure rolls them back with it). */
async function appendAssignments(con: DuckDBConnection, model: string, version: number, rows: AssignmentRow[], publishedAt: string): Promise<void> {
  const app = await con.createAppender("assignments");
  try {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      // Flushed in batches: memory stays bounded, and the rows are in the transaction (undone
      // together by the rollback should a later row fail).
      if (i > 0 && i % ASSIGNMENT_BATCH === 0) app.flushSync();
      app.appendVarchar(model);
      app.appendInteger(version);
      app.appendVarchar(String(r.id));
      app.appendInteger(r.segment);
      app.appendVarchar(String(r.name));
      app.appendVarchar(publishedAt);
      app.endRow();
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
}
