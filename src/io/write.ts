import { createWriteStream } from "node:fs";
import { rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { InputError } from "../core/errors.js";
import { duck, exec, freshTableName, ident, lit } from "./duck.js";

export type OutputFormat = "csv" | "parquet" | "json";

export function outputFormat(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  if (ext === ".json" || ext === ".ndjson" || ext === ".jsonl") return "json";
  return "csv";
}

/**
 * Checks, before any work is done, that an output file can be written: its folder exists
 * and it is not itself a folder. `flag` names the option in the message.
 */
export async function checkOutputPath(path: string, flag: string): Promise<void> {
  const dir = dirname(path);
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new InputError(`${flag} ${path}: ${dir} is not a folder; choose another path`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${flag} ${path}: the folder ${dir} does not exist; create it first or choose another path`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw new InputError(`${flag} ${path} is a folder; give a file name`);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
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
    throw e;
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
    throw e;
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
    const fmt = outputFormat(path);
    const tmp = tempPath(path);
    const opts = fmt === "csv" ? "FORMAT csv, HEADER true" : fmt === "parquet" ? "FORMAT parquet" : "FORMAT json";
    try {
      await exec(`COPY ${table} TO ${lit(tmp)} (${opts})`);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  } finally {
    await exec(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** Copies a loaded table (or any SELECT) to a file atomically. */
export async function copyQueryTo(path: string, select: string): Promise<void> {
  const fmt = outputFormat(path);
  const tmp = tempPath(path);
  const opts = fmt === "csv" ? "FORMAT csv, HEADER true" : fmt === "parquet" ? "FORMAT parquet" : "FORMAT json";
  try {
    await exec(`COPY (${select}) TO ${lit(tmp)} (${opts})`);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
