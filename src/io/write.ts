import { constants, createWriteStream } from "node:fs";
import { access, lstat, readdir, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { InputError } from "../core/errors.js";
import { duck, duckMessage, exec, freshTableName, ident, lit, queryRows } from "./duck.js";

export type OutputFormat = "csv" | "parquet" | "json";

/** The extension that decides an output's format: the last one, or the one before ".gz". */
function formatExtension(path: string): string {
  const ext = extname(path).toLowerCase();
  return ext === ".gz" ? extname(path.slice(0, -ext.length)).toLowerCase() : ext;
}

/** Whether an output is to be gzip-compressed (its name ends in .gz). */
export function isGzipPath(path: string): boolean {
  return extname(path).toLowerCase() === ".gz";
}

export function outputFormat(path: string): OutputFormat {
  const ext = formatExtension(path);
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  if (ext === ".json" || ext === ".ndjson" || ext === ".jsonl") return "json";
  return "csv";
}

/** The extensions of the data files written (a .gz after a text one compresses it). */
const WRITTEN = new Set([".csv", ".tsv", ".txt", ".parquet", ".pq", ".json", ".ndjson", ".jsonl"]);
const EXTENSIONS = ".csv, .tsv, .txt, .parquet, .json or .ndjson (add .gz to compress text formats)";

/**
 * Checks, before any work is done, that an output file can be written: its folder exists,
 * is writable, and the path is not itself a folder. For "data" outputs the extension must be
 * one that can be written. `flag` names the option in the message. Stale temporary files of
 * earlier runs that were killed (see tempPath) are removed from the folder on the way.
 */
export async function checkOutputPath(path: string, flag: string, kind: "data" | "text" = "data"): Promise<void> {
  if (kind === "data" && /^\.(xlsx|xlsm|xls|ods)$/i.test(formatExtension(path))) {
    throw new InputError(`${flag} ${path}: cannot write ${formatExtension(path)} files; use a name ending in ${EXTENSIONS}`);
  }
  // An extension that names no format written (.xyz, .dat): refused rather than written as CSV under a misleading name. No extension is CSV.
  const ext = formatExtension(path);
  if (kind === "data" && ext !== "" && !WRITTEN.has(ext)) {
    throw new InputError(`${flag} ${path}: cannot write ${ext} files; use a name ending in ${EXTENSIONS}`);
  }
  if (kind === "data" && isGzipPath(path) && outputFormat(path) === "parquet") {
    throw new InputError(`${flag} ${path}: Parquet files are compressed inside already; drop the .gz (write ${path.slice(0, -3)})`);
  }
  const dir = dirname(path);
  let s;
  try {
    s = await stat(dir);
  } catch {
    throw new InputError(`${flag} ${path}: the folder ${dir} does not exist; create it first or choose another path`);
  }
  if (!s.isDirectory()) throw new InputError(`${flag} ${path}: ${dir} is not a folder; choose another path`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new InputError(`${flag} ${path}: the folder ${dir} is not writable; choose another folder`);
  }
  let target;
  try {
    target = await stat(path);
  } catch {
    target = undefined; // does not exist yet: fine
  }
  if (target?.isDirectory()) throw new InputError(`${flag} ${path} is a folder; give a file name`);
  await removeStaleTemporaries(dir);
}

/** A file named on the command line: the option that names it ("input" for the data file) and the path. */
export interface NamedPath {
  flag: string;
  path: string;
}

/** The identity of a path: device and inode when it exists (symlinks and hard links agree), else its real folder and name. */
async function identity(path: string): Promise<string> {
  try {
    const s = await stat(path); // follows symlinks
    return `inode:${s.dev}:${s.ino}`;
  } catch {
    let dir = resolve(dirname(path));
    try {
      dir = await realpath(dir);
    } catch {
      // a missing folder is reported by checkOutputPath
    }
    return `path:${join(dir, basename(path))}`;
  }
}

/**
 * Refuses, before any work, an output that is one of the inputs (the same file by any path:
 * `in.csv`, `./in.csv`, a symlink or a hard link to it) or that is another output: going on
 * would overwrite the customer table, or write one output over another.
 */
export async function checkDistinctPaths(inputs: NamedPath[], outputs: NamedPath[]): Promise<void> {
  const seen = new Map<string, NamedPath & { input: boolean }>();
  for (const p of inputs) {
    const id = await identity(p.path);
    if (!seen.has(id)) seen.set(id, { ...p, input: true });
  }
  for (const o of outputs) {
    const id = await identity(o.path);
    const before = seen.get(id);
    if (before?.input) {
      const what = before.flag === "input" ? `the input file ${before.path}` : `the ${before.flag} file ${before.path}`;
      throw new InputError(
        `${o.flag} ${o.path} is ${what}${o.path === before.path ? "" : " (the same file)"}: writing it would destroy that input; give ${o.flag} another file name`,
      );
    }
    if (before) {
      throw new InputError(
        `${before.flag} and ${o.flag} both name ${o.path}${o.path === before.path ? "" : ` (the same file as ${before.path})`}; give them different file names`,
      );
    }
    seen.set(id, { ...o, input: false });
  }
}

/**
 * A failure to write `path` (a file-system error from Node or an IO error from DuckDB) as a
 * one-line message that names the file; any other error is returned unchanged.
 */
function writeError(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return new InputError(`${path} could not be written (${code}); check that the folder is writable and has free space`, { cause: e });
  }
  if (/^IO Error/.test(message)) {
    return new InputError(`${path} could not be written (${duckMessage(e)}); check that the folder is writable and has free space`, { cause: e });
  }
  return e;
}

/** Temporary files are named `.<name>.<pid>.<ms>.segmenta.tmp` beside the output (before 0.2: without `.segmenta`). */
const TEMP_NAME = /^\.(.+)\.(\d+)\.(\d{10,})(\.segmenta)?\.tmp$/;

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.segmenta.tmp`);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, but another user's
  }
}

/**
 * Removes the temporary files that a killed run of segmenta left in `dir`: files named as
 * tempPath names them, by a process that is no longer running. Returns the names removed.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processAlive(Number(m[2]))) continue;
    try {
      if (!(await lstat(join(dir, name))).isFile()) continue;
      await rm(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // removed meanwhile
    }
  }
  return removed;
}

export interface OutColumn {
  name: string;
  type: "VARCHAR" | "INTEGER" | "DOUBLE";
  values: ArrayLike<string | number | null>;
}

export interface CsvOptions {
  /**
   * Write text cells exactly as they are. By default a text cell that a spreadsheet would
   * evaluate as a formula (starting with =, +, -, @, a tab or a carriage return, and not a
   * number) is written with a leading apostrophe, as OWASP advises against CSV injection.
   */
  raw?: boolean;
}

/**
 * The outputs of one run, written together: each is written in full to a temporary file
 * beside its final path, and only when every one has been written are they renamed into
 * place, one after the other. A failure before that changes no output and leaves no
 * temporary file. What remains possible: a kill during the renames (microseconds) leaves
 * some outputs new and some old; a kill while writing leaves a temporary file, which the
 * next run writing into that folder removes (removeStaleTemporaries).
 */
export class OutputBatch {
  private readonly staged: { path: string; tmp: string }[] = [];

  private stage(path: string): string {
    const tmp = tempPath(path);
    this.staged.push({ path, tmp });
    return tmp;
  }

  /** Text, gzip-compressed when the name ends in .gz. */
  async text(path: string, text: string): Promise<void> {
    const tmp = this.stage(path);
    try {
      if (isGzipPath(path)) await writeFile(tmp, gzipSync(Buffer.from(text, "utf8")));
      else await writeFile(tmp, text, "utf8");
    } catch (e) {
      throw writeError(path, e);
    }
  }

  /** Bytes as they are (a PNG). */
  async bytes(path: string, bytes: Uint8Array): Promise<void> {
    const tmp = this.stage(path);
    try {
      await writeFile(tmp, bytes);
    } catch (e) {
      throw writeError(path, e);
    }
  }

  /** Text produced in chunks (never one big string). */
  async chunks(path: string, chunks: Iterable<string>): Promise<void> {
    const tmp = this.stage(path);
    try {
      const file = createWriteStream(tmp);
      const gz = isGzipPath(path) ? createGzip() : null;
      if (gz) gz.pipe(file);
      const out = gz ?? file;
      const done = new Promise<void>((res, rej) => {
        file.once("finish", () => res());
        file.once("error", rej);
        gz?.once("error", rej);
      });
      for (const chunk of chunks) {
        if (!out.write(chunk, "utf8")) await new Promise<void>((r) => out.once("drain", () => r()));
      }
      out.end();
      await done;
    } catch (e) {
      throw writeError(path, e);
    }
  }

  /** Columns as CSV, Parquet or JSON (by the file extension; .gz compresses text) through DuckDB. */
  async columns(path: string, columns: OutColumn[], options: CsvOptions = {}): Promise<void> {
    const con = await duck();
    const table = freshTableName("out");
    await exec(`CREATE TABLE ${table} (${columns.map((c) => `${ident(c.name)} ${c.type}`).join(", ")})`);
    try {
      const app = await con.createAppender(table);
      const n = columns[0]?.values.length ?? 0;
      for (let i = 0; i < n; i++) {
        for (const c of columns) {
          const v = c.values[i];
          if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) app.appendNull();
          else if (c.type === "VARCHAR") app.appendVarchar(String(v));
          else if (c.type === "INTEGER") app.appendInteger(Number(v));
          else app.appendDouble(Number(v));
        }
        app.endRow();
      }
      app.flushSync();
      app.closeSync();
      await this.query(path, `SELECT * FROM ${table}`, options);
    } finally {
      await exec(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  /** The rows of a SELECT, written as by `columns`. */
  async query(path: string, select: string, options: CsvOptions = {}): Promise<void> {
    const tmp = this.stage(path);
    try {
      const source = outputFormat(path) === "csv" && !options.raw ? await neutralisedSelect(select) : select;
      await exec(`COPY (${source}) TO ${lit(tmp)} (${copyOptions(path)})`);
    } catch (e) {
      throw writeError(path, e);
    }
  }

  /**
   * Renames every staged file into place, in the order they were written. A target that no
   * rename can replace (a folder standing where a file goes) fails the batch before any rename.
   */
  async commit(): Promise<void> {
    for (const { path } of this.staged) {
      let target;
      try {
        target = await lstat(path);
      } catch {
        continue; // not there yet
      }
      if (target.isDirectory()) {
        await this.discard();
        throw new InputError(`${path} is a folder, so the file cannot be written there; remove or rename that folder`);
      }
    }
    for (let i = 0; i < this.staged.length; i++) {
      const { path, tmp } = this.staged[i];
      try {
        await rename(tmp, path);
      } catch (e) {
        await this.discard(i);
        throw writeError(path, e);
      }
    }
    this.staged.length = 0;
  }

  /** Removes the temporary files not yet renamed into place (after a failure). */
  async discard(from = 0): Promise<void> {
    for (const { tmp } of this.staged.slice(from)) await rm(tmp, { force: true });
    this.staged.length = 0;
  }

  /** Runs `write` on a new batch and commits it; on any failure nothing is renamed and the temporaries are removed. */
  static async write(write: (batch: OutputBatch) => Promise<void>): Promise<void> {
    const batch = new OutputBatch();
    try {
      await write(batch);
      await batch.commit();
    } finally {
      await batch.discard();
    }
  }
}

/** Writes text to a temporary file beside `path`, then renames it into place. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await OutputBatch.write((b) => b.text(path, text));
}

/** Writes bytes to a temporary file beside `path`, then renames it into place. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await OutputBatch.write((b) => b.bytes(path, bytes));
}

/** Writes text produced in chunks (never one big string) atomically. */
export async function writeChunksAtomic(path: string, chunks: Iterable<string>): Promise<void> {
  await OutputBatch.write((b) => b.chunks(path, chunks));
}

/** Writes columns as CSV, Parquet or JSON (by the file extension) through DuckDB, atomically. */
export async function writeColumns(path: string, columns: OutColumn[], options: CsvOptions = {}): Promise<void> {
  await OutputBatch.write((b) => b.columns(path, columns, options));
}

/** Copies a loaded table (or any SELECT) to a file atomically. */
export async function copyQueryTo(path: string, select: string, options: CsvOptions = {}): Promise<void> {
  await OutputBatch.write((b) => b.query(path, select, options));
}

/** The pattern of a cell a spreadsheet would evaluate: a leading =, +, -, @, tab or carriage return. */
const FORMULA_START = "^[=+\\-@\\t\\r]";

/**
 * The SELECT with the formula-like cells of its text columns prefixed by an apostrophe:
 * cells that start as FORMULA_START says and are not numbers (OWASP's rule).
 */
async function neutralisedSelect(select: string): Promise<string> {
  const cols = await queryRows(`DESCRIBE (${select})`);
  if (!cols.some((c) => String(c.column_type) === "VARCHAR")) return select;
  const parts = cols.map((c) => {
    const name = ident(String(c.column_name));
    if (String(c.column_type) !== "VARCHAR") return name;
    return `CASE WHEN regexp_matches(${name}, ${lit(FORMULA_START)}) AND TRY_CAST(${name} AS DOUBLE) IS NULL THEN ${lit("'")} || ${name} ELSE ${name} END AS ${name}`;
  });
  return `SELECT ${parts.join(", ")} FROM (${select})`;
}

function copyOptions(path: string): string {
  const fmt = outputFormat(path);
  const gz = isGzipPath(path) ? ", COMPRESSION gzip" : "";
  if (fmt === "parquet") return "FORMAT parquet";
  // .json is one JSON array; .ndjson and .jsonl are one object per line.
  if (fmt === "json") return (formatExtension(path) === ".json" ? "FORMAT json, ARRAY true" : "FORMAT json") + gz;
  return (formatExtension(path) === ".tsv" ? "FORMAT csv, HEADER true, DELIMITER '\t'" : "FORMAT csv, HEADER true") + gz;
}
