import { constants, createWriteStream } from "node:fs";
import { access, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { InputError } from "../core/errors.js";
import { duck, duckMessage, exec, freshTableName, ident, lit } from "./duck.js";

export type OutputFormat = "csv" | "parquet" | "json";

export function outputFormat(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  if (ext === ".json" || ext === ".ndjson" || ext === ".jsonl") return "json";
  return "csv";
}

const EXTENSIONS = ".csv, .tsv, .txt, .parquet, .json or .ndjson";

/**
 * Checks, before any work is done, that an output file can be written: its folder exists,
 * is writable, and the path is not itself a folder. For "data" outputs the extension must be
 * one that can be written. `flag` names the option in the message.
 */
export async function checkOutputPath(path: string, flag: string, kind: "data" | "text" = "data"): Promise<void> {
  if (kind === "data" && /^\.(xlsx|xlsm|xls|ods)$/i.test(extname(path))) {
    throw new InputError(`${flag} ${path}: cannot write ${extname(path)} files; use a name ending in ${EXTENSIONS}`);
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
    return; // does not exist yet: fine
  }
  if (target.isDirectory()) throw new InputError(`${flag} ${path} is a folder; give a file name`);
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

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/** Writes text to a temporary file beside `path`, then renames it into place. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = tempPath(path);
  try {
    await writeFile(tmp, text, "utf8");
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeError(path, e);
  }
}

/** Writes text produced in chunks (never one big string) atomically. */
export async function writeChunksAtomic(path: string, chunks: Iterable<string>): Promise<void> {
  const tmp = tempPath(path);
  try {
    const out = createWriteStream(tmp, { encoding: "utf8" });
    for (const chunk of chunks) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeError(path, e);
  }
}

export interface OutColumn {
  name: string;
  type: "VARCHAR" | "INTEGER" | "DOUBLE";
  values: ArrayLike<string | number | null>;
}

/** Writes columns as CSV, Parquet or JSON (by the file extension) through DuckDB, atomically. */
export async function writeColumns(path: string, columns: OutColumn[]): Promise<void> {
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
    await copyAtomic(path, table);
  } finally {
    await exec(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** Copies a loaded table (or any SELECT) to a file atomically. */
export async function copyQueryTo(path: string, select: string): Promise<void> {
  await copyAtomic(path, `(${select})`);
}

function copyOptions(path: string): string {
  const fmt = outputFormat(path);
  if (fmt === "parquet") return "FORMAT parquet";
  // .json is one JSON array; .ndjson and .jsonl are one object per line.
  if (fmt === "json") return extname(path).toLowerCase() === ".json" ? "FORMAT json, ARRAY true" : "FORMAT json";
  return extname(path).toLowerCase() === ".tsv" ? "FORMAT csv, HEADER true, DELIMITER '\t'" : "FORMAT csv, HEADER true";
}

/** COPY to a temporary file beside `path`, then rename it into place; nothing is left on failure. */
async function copyAtomic(path: string, source: string): Promise<void> {
  const tmp = tempPath(path);
  try {
    await exec(`COPY ${source} TO ${lit(tmp)} (${copyOptions(path)})`);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw writeError(path, e);
  }
}
