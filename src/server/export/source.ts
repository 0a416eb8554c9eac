/**
 * What an export reads: "a segments file or a run". A segments file is what `segmenta cluster
 * --out` and `segmenta predict --out` write (CSV, Parquet or JSON): the id column first (named
 * after the customer table's id column, or "row"), then `segment` and `segment_name`. A run is
 * a succeeded run of `segmenta serve`, found in the store of its data folder.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../core/errors.js";
import { ident, queryRows } from "../../io/duck.js";
import { dropTable, type LoadedTable, loadTable } from "../../io/read.js";
import { openStore, STORE_FILE } from "../store.js";
import { openPgStore } from "../pg-store.js";

/** One customer's segment, as published. */
export interface Assignment {
  id: string;
  segment: number;
  name: string;
}

export interface SegmentsSource {
  /** How the source is named in messages: the file's path, or "run ID". */
  label: string;
  /** The name of the id column. */
  idColumn: string;
  /** One per row, in file order. */
  assignments: Assignment[];
  /** The model the segments come from, when known (a run published as a model version: "name@version"). */
  model: string | null;
  /** The text of the extra columns asked for (`columns`), one value per row (null when blank). */
  extra: Record<string, (string | null)[]>;
}

export interface SourceOptions {
  /** The id column (default: the file's first column). */
  id?: string;
  /** Other columns to read as text (an email column), each required in the file. */
  columns?: string[];
}

/** Reads a segments file. */
export async function readSegmentsFile(path: string, options: SourceOptions = {}): Promise<SegmentsSource> {
  return readSegments(path, path, options, null);
}

/**
 * Reads the segments of a succeeded run of `segmenta serve` from its data folder. The store
 * is one process's at a time: a running server on the same folder makes this fail with a
 * message that says so.
 */
export async function readRunSegments(runId: string, dataDir: string, options: SourceOptions = {}, storeUrl?: string): Promise<SegmentsSource> {
  if (storeUrl === undefined && !existsSync(join(dataDir, STORE_FILE))) {
    throw new InputError(`--data ${dataDir}: no store there; give the data folder of the segmenta serve that ran ${runId}`);
  }
  // A PostgreSQL store (shared by servers) records each run's folder as an absolute path.
  const store = storeUrl !== undefined ? await openPgStore(storeUrl) : await openStore(dataDir);
  let file: string;
  let model: string | null = null;
  try {
    const run = await store.getRun(runId);
    if (!run) throw new InputError(`--run ${runId}: no such run in ${storeUrl !== undefined ? "the --store database" : dataDir}; GET /api/v1/runs lists the runs`);
    if (run.status !== "succeeded") throw new InputError(`--run ${runId} is ${run.status}; only a succeeded run has segments to export`);
    file = join(run.dir, "segments.parquet");
    // The model version published from this run, if any (the latest one).
    for (const m of await store.listModels()) {
      for (const v of await store.listVersions(m.name)) {
        if (v.runId === runId) model = `${v.name}@${v.version}`;
      }
    }
  } finally {
    await store.close();
  }
  if (!existsSync(file)) throw new InputError(`--run ${runId}: its segments file ${file} is missing from ${dataDir}`);
  return readSegments(file, `run ${runId}`, options, model);
}

async function readSegments(path: string, label: string, options: SourceOptions, model: string | null): Promise<SegmentsSource> {
  const extraNames = options.columns ?? [];
  let t = await loadTable(path, { text: [...(options.id ? [options.id] : []), ...extraNames] });
  try {
    const idColumn = options.id ?? t.columns[0]?.name;
    if (!idColumn) throw new InputError(`${label} has no columns; pass a segments file written by segmenta cluster --out`);
    if (!options.id && t.columns[0].duckType !== "VARCHAR") {
      // Read the id column again, verbatim ("007" stays "007").
      await dropTable(t);
      t = await loadTable(path, { text: [idColumn, ...extraNames] });
    }
    const names = new Set(t.columns.map((c) => c.name));
    const shown = t.columns.map((c) => c.name).slice(0, 8).join(", ");
    if (!names.has(idColumn)) throw new InputError(`--id ${idColumn}: ${label} has no such column (its columns: ${shown})`);
    for (const c of ["segment", "segment_name"]) {
      if (!names.has(c)) throw new InputError(`${label} has no "${c}" column (its columns: ${shown}); pass a segments file written by segmenta cluster --out or predict --out`);
    }
    for (const c of extraNames) {
      if (!names.has(c)) throw new InputError(`${label} has no column "${c}" (its columns: ${shown}); name one of them, or join a contacts file with --contacts`);
    }
    const rows = await queryRows(
      `SELECT CAST(${ident(idColumn)} AS VARCHAR) AS id, CAST(segment AS VARCHAR) AS segment, CAST(segment_name AS VARCHAR) AS name` +
        extraNames.map((c, i) => `, CAST(${ident(c)} AS VARCHAR) AS x${i}`).join("") +
        ` FROM ${t.table} ORDER BY rowid`,
    );
    return { label, idColumn, model, ...toAssignments(rows, label, idColumn, extraNames, t) };
  } finally {
    await dropTable(t);
  }
}

function toAssignments(rows: Record<string, unknown>[], label: string, idColumn: string, extraNames: string[], t: LoadedTable) {
  const assignments: Assignment[] = new Array(rows.length);
  const extra: Record<string, (string | null)[]> = {};
  for (const c of extraNames) extra[c] = new Array(rows.length);
  const seen = new Map<string, number>();
  const line = (i: number) => (t.format === "csv" ? `line ${t.firstDataLine + i}` : `row ${i + 1}`);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const id = r.id === null || r.id === undefined ? "" : String(r.id).trim();
    if (id === "") throw new InputError(`${label}, ${line(i)}: the ${idColumn} column is empty; every row of a segments file needs its customer's id`);
    const before = seen.get(id);
    if (before !== undefined) {
      throw new InputError(`${label}: id ${JSON.stringify(id)} appears twice (${line(before)} and ${line(i)}); a segments file has one row per customer`);
    }
    seen.set(id, i);
    const s = r.segment === null || r.segment === undefined ? "" : String(r.segment).trim();
    if (!/^-?\d+$/.test(s) || Number(s) < -1) {
      throw new InputError(`${label}, ${line(i)}: segment ${JSON.stringify(s)} is not a segment number (a whole number, −1 for outliers)`);
    }
    const segment = Number(s);
    const rawName = r.name === null || r.name === undefined ? "" : String(r.name).trim();
    const name = rawName !== "" ? rawName : segment < 0 ? "Outliers" : `Segment ${segment}`;
    assignments[i] = { id, segment, name };
    extraNames.forEach((c, j) => {
      const v = r[`x${j}`];
      const text = v === null || v === undefined ? "" : String(v).trim();
      extra[c][i] = text === "" ? null : text;
    });
  }
  return { assignments, extra };
}

/**
 * Reads one column of a contacts file by customer id: id → value (trimmed; blanks left out).
 * Both columns are read verbatim as text. An id that appears twice with different values is
 * refused (which email would be meant?).
 */
export async function readContactColumn(path: string, idColumn: string, column: string): Promise<Map<string, string>> {
  const t = await loadTable(path, { text: [idColumn, column] });
  try {
    const names = new Set(t.columns.map((c) => c.name));
    const shown = t.columns.map((c) => c.name).slice(0, 8).join(", ");
    if (!names.has(idColumn)) throw new InputError(`--contacts ${path} has no id column "${idColumn}" (its columns: ${shown}); name it with --id`);
    if (!names.has(column)) throw new InputError(`--contacts ${path} has no column "${column}" (its columns: ${shown}); name its email column with --email`);
    const rows = await queryRows(`SELECT ${ident(idColumn)} AS id, ${ident(column)} AS v FROM ${t.table} ORDER BY rowid`);
    const map = new Map<string, string>();
    for (const r of rows) {
      const id = r.id === null || r.id === undefined ? "" : String(r.id).trim();
      const v = r.v === null || r.v === undefined ? "" : String(r.v).trim();
      if (id === "" || v === "") continue;
      const before = map.get(id);
      if (before !== undefined && before !== v) {
        throw new InputError(`--contacts ${path}: id ${JSON.stringify(id)} has two ${column} values (${before} and ${v}); keep one row per customer`);
      }
      map.set(id, v);
    }
    return map;
  } finally {
    await dropTable(t);
  }
}
