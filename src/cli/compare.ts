/**
 * `segmenta compare <before> <after>`: two segments files of the same customers compared (the
 * migration matrix, the flows, ARI and NMI, the movers file), and `loadPrevious`, which reads
 * what `cluster --previous` is given (a model file, a segments file, or both).
 */
import { readFile } from "node:fs/promises";
import { InputError } from "../core/errors.js";
import { ident, queryRows } from "../io/duck.js";
import { checkInputFile, dropTable, loadTable } from "../io/read.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, type OutColumn, writeColumns } from "../io/write.js";
import { CHANGE_COLUMNS, type SegmentChange } from "../pipeline/changes.js";
import { type Comparison, compareAssignments } from "../pipeline/compare.js";
import { parseModelFile, previousFromModel } from "../pipeline/model.js";
import type { PreviousRun, StableIds } from "../pipeline/stable.js";
import { readSegmentsFile, type SegmentsSource } from "../server/export/source.js";
import { fmtNum, type Io, parse, pct, table } from "./common.js";

type CompareValues = { id?: string; movers?: string; value?: string; values?: string; date?: string; "raw-csv"?: boolean; json?: boolean };

/** The column read as the value at stake when --value is not given and a file has it (RFM's monetary). */
const DEFAULT_VALUE = "monetary";

export async function compareCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<CompareValues>("compare", args, {
    id: { type: "string" },
    movers: { type: "string" },
    value: { type: "string" },
    values: { type: "string" },
    date: { type: "string" },
    "raw-csv": { type: "boolean" },
  });
  if (positionals.length !== 2) {
    throw new InputError(`give two segments files, before and after, e.g. segmenta compare jan_segments.csv feb_segments.csv (got ${positionals.length})`);
  }
  const [beforePath, afterPath] = positionals;
  if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) throw new InputError(`--date ${values.date}: expected a date as YYYY-MM-DD`);
  if (values.values !== undefined && values.value === undefined) {
    throw new InputError(`--values ${values.values}: name the column of it that holds the value at stake with --value COL (monetary, for instance)`);
  }
  const inputs: NamedPath[] = [{ flag: "before", path: beforePath }, { flag: "after", path: afterPath }, ...(values.values !== undefined ? [{ flag: "--values", path: values.values }] : [])];
  if (values.movers) {
    await checkOutputPath(values.movers, "--movers", "data");
    await checkDistinctPaths(inputs, [{ flag: "--movers", path: values.movers }]);
  }
  for (const i of inputs) await checkInputFile(i.path);
  const wanted = values.value ?? DEFAULT_VALUE;
  // With --values the value is read from that table only; else from the segments files when they have the column.
  const fromFiles = values.values === undefined;
  const before = fromFiles ? await readWithValue(beforePath, values.id, wanted) : await readSegmentsFile(beforePath, { id: values.id });
  const after = fromFiles ? await readWithValue(afterPath, values.id, wanted) : await readSegmentsFile(afterPath, { id: values.id });
  // The value at stake: what the customer was worth before (else after, for a new customer).
  let value: Map<string, number> | undefined = fromFiles ? undefined : await readValues(values.values!, values.id ?? before.idColumn, wanted, values.id !== undefined);
  for (const side of fromFiles ? [before, after] : []) {
    const col = side.extra[wanted];
    if (!col) continue;
    value ??= new Map();
    side.assignments.forEach((a, i) => {
      const v = col[i] === null ? NaN : Number(col[i]);
      if (Number.isFinite(v) && !value!.has(a.id)) value!.set(a.id, v);
    });
  }
  if (fromFiles && values.value !== undefined && !value) {
    throw new InputError(
      `--value ${values.value}: neither ${beforePath} nor ${afterPath} has such a column; name a column of one of them (monetary, for instance), ` +
        "or give the table that has it with --values FILE (the rfm.csv of segmenta rfm, say)",
    );
  }
  const c = compareAssignments(before.assignments, after.assignments, { labels: { before: beforePath, after: afterPath }, value, date: values.date ?? null });
  if (values.movers) await writeColumns(values.movers, changeColumns(c.changes), { raw: values["raw-csv"] });
  for (const w of c.warnings) io.err(`warning: ${w}`);
  if (values.json) {
    io.out(JSON.stringify({
      before: { file: beforePath, idColumn: before.idColumn, ...c.before },
      after: { file: afterPath, idColumn: after.idColumn, ...c.after },
      common: c.common, onlyBefore: c.onlyBefore, onlyAfter: c.onlyAfter, stayed: c.stayed, moved: c.moved,
      matrix: c.matrix, flows: c.flows, adjustedRand: c.adjustedRand, nmi: c.nmi, value: value ? wanted : null, valueFile: values.values ?? null, summary: c.summary, warnings: c.warnings,
      movers: values.movers ? { file: values.movers, rows: c.changes.length, columns: CHANGE_COLUMNS } : null,
    }, null, 2));
  } else {
    for (const line of describeComparison(c, beforePath, afterPath, value ? wanted : null)) io.out(line);
    if (values.movers) io.out(`movers written to ${values.movers} (${c.changes.length} ${c.changes.length === 1 ? "row" : "rows"}: ${CHANGE_COLUMNS.join(", ")})`);
  }
  return 0;
}

/** A segments file with the value column when it has one (required when --value names it for this file only... or either). */
async function readWithValue(path: string, id: string | undefined, valueColumn: string): Promise<SegmentsSource> {
  try {
    return await readSegmentsFile(path, { id, columns: [valueColumn] });
  } catch (e) {
    if (!(e instanceof InputError) || !e.message.includes(`has no column "${valueColumn}"`)) throw e;
    return readSegmentsFile(path, { id });
  }
}

/**
 * The value at stake per customer from a table of its own (--values FILE: the rfm.csv of
 * segmenta rfm, a CRM export): its `idColumn` (the segments files' id column unless --id
 * names it) and `column`, as numbers. An id twice, or a column with no number, is refused.
 */
async function readValues(path: string, idColumn: string, column: string, idGiven: boolean): Promise<Map<string, number>> {
  const t = await loadTable(path, { text: [idColumn] });
  try {
    const names = t.columns.map((c) => c.name);
    const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? ", …" : "");
    if (!names.includes(idColumn)) {
      throw new InputError(
        `--values ${path} has no column "${idColumn}"${idGiven ? " (--id)" : " (the id column of the segments files)"} (its columns: ${shown}); ` +
          "give the customers' ids in that column, or name the id column of all three files with --id",
      );
    }
    if (!names.includes(column)) throw new InputError(`--value ${column}: --values ${path} has no such column (its columns: ${shown})`);
    const rows = await queryRows(
      `SELECT CAST(${ident(idColumn)} AS VARCHAR) AS id, TRY_CAST(${ident(column)} AS DOUBLE) AS v FROM ${t.table} ORDER BY rowid`,
    );
    const value = new Map<string, number>();
    const seen = new Set<string>();
    let numbers = 0;
    for (const [i, r] of rows.entries()) {
      if (r.id === null) continue;
      const id = String(r.id);
      if (seen.has(id)) throw new InputError(`--values ${path}: id ${JSON.stringify(id)} appears twice (row ${i + 1}); one value per customer`);
      seen.add(id);
      const v = r.v === null ? NaN : Number(r.v);
      if (Number.isFinite(v)) {
        value.set(id, v);
        numbers++;
      }
    }
    if (numbers === 0) throw new InputError(`--value ${column}: --values ${path} has no number in that column; name a numeric column (monetary, for instance)`);
    return value;
  } finally {
    await dropTable(t);
  }
}

/** The columns of a changes file (CHANGE_COLUMNS) for writeColumns. */
export function changeColumns(changes: readonly SegmentChange[]): OutColumn[] {
  return [
    { name: CHANGE_COLUMNS[0], type: "VARCHAR", values: changes.map((c) => c.id) },
    { name: CHANGE_COLUMNS[1], type: "VARCHAR", values: changes.map((c) => c.date) },
    { name: CHANGE_COLUMNS[2], type: "INTEGER", values: changes.map((c) => c.from) },
    { name: CHANGE_COLUMNS[3], type: "VARCHAR", values: changes.map((c) => c.fromName) },
    { name: CHANGE_COLUMNS[4], type: "INTEGER", values: changes.map((c) => c.to) },
    { name: CHANGE_COLUMNS[5], type: "VARCHAR", values: changes.map((c) => c.toName) },
    { name: CHANGE_COLUMNS[6], type: "DOUBLE", values: changes.map((c) => c.value ?? null) },
  ];
}

const n = (x: number): string => x.toLocaleString("en-US");

/** The human output of compare: the two sides, the matrix (counts and shares by row) with names, the largest flows, ARI/NMI and the summary. */
export function describeComparison(c: Comparison, beforePath: string, afterPath: string, valueColumn: string | null): string[] {
  const out: string[] = [];
  const segs = (k: number) => `${k} ${k === 1 ? "segment" : "segments"}`;
  out.push(`before: ${beforePath} (${n(c.before.customers)} customers, ${segs(c.before.segments.length)})`);
  out.push(`after:  ${afterPath} (${n(c.after.customers)} customers, ${segs(c.after.segments.length)})`);
  out.push(`customers in both: ${n(c.common)}; only before (gone): ${n(c.onlyBefore)}; only after (new): ${n(c.onlyAfter)}`);
  out.push("");
  const m = c.matrix;
  const label = (s: number, name: string) => `${s} ${name}`;
  const head = ["before \\ after", ...m.cols.map((s, j) => label(s, m.colNames[j])), "total"];
  const align = head.map((_, j) => j > 0);
  out.push("migration matrix (customers in both; rows: before, columns: after):");
  const totals = m.counts.map((r) => r.reduce((a, b) => a + b, 0));
  for (const line of table([head, ...m.rows.map((s, i) => [label(s, m.rowNames[i]), ...m.counts[i].map(n), n(totals[i])])], align)) out.push(`  ${line}`);
  out.push("");
  out.push("where each segment's customers went (shares by row):");
  for (const line of table([head.slice(0, -1), ...m.rows.map((s, i) => [label(s, m.rowNames[i]), ...m.shares[i].map((x) => (x ? pct(x) : "·"))])], align)) out.push(`  ${line}`);
  out.push("");
  if (c.flows.length) {
    const shown = c.flows.slice(0, 10);
    out.push(`largest flows${c.flows.length > shown.length ? ` (${shown.length} of ${c.flows.length})` : ""}:`);
    const fh = ["from", "to", "customers", "share of from", ...(valueColumn ? [`${valueColumn} at stake`] : [])];
    const rows = shown.map((f) => [label(f.from, f.fromName), label(f.to, f.toName), n(f.count), pct(f.share), ...(valueColumn ? [f.value === null || f.value === undefined ? "—" : fmtNum(f.value, 6)] : [])]);
    for (const line of table([fh, ...rows], [false, false, true, true, true])) out.push(`  ${line}`);
  } else {
    out.push("no customer in both changed segment");
  }
  out.push("");
  out.push(`adjusted Rand index ${fmtNum(c.adjustedRand)}, normalised mutual information ${fmtNum(c.nmi)} (on the ${n(c.common)} customers in both; 1 is the same segmentation)`);
  out.push("");
  out.push(c.summary);
  return out;
}

/**
 * What `cluster --previous` names, read: a model file (segments, ids, names, centres and its
 * preprocessing) and/or a segments file (each customer's previous segment). With both, the
 * model gives the segments and the file the assignments. `outputs` are checked not to be any
 * of them.
 */
export async function loadPrevious(paths: string[], outputs: NamedPath[], idColumn?: string): Promise<PreviousRun> {
  if (paths.length > 2) throw new InputError(`--previous is given ${paths.length} times; give the previous model file, its segments file, or both`);
  await checkDistinctPaths(paths.map((path) => ({ flag: "--previous", path })), outputs);
  let fromModel: PreviousRun | undefined;
  let fromSegments: PreviousRun | undefined;
  for (const path of paths) {
    await checkInputFile(path);
    const json = await modelJson(path);
    if (json !== undefined) {
      if (fromModel) throw new InputError(`--previous: two model files (${fromModel.source} and ${path}); give one model and, if you wish, its segments file`);
      fromModel = previousFromModel(parseModelFile(json, `--previous ${path}`), path);
    } else {
      if (fromSegments) throw new InputError(`--previous: two segments files (${fromSegments.source} and ${path}); give one, and the model file if you wish`);
      const s = await readSegmentsFile(path, idColumn !== undefined ? { id: idColumn } : {});
      const names = new Map<number, string>();
      const assignments = new Map<string, number>();
      for (const a of s.assignments) {
        assignments.set(a.id, a.segment);
        if (a.segment >= 0 && !names.has(a.segment)) names.set(a.segment, a.name);
      }
      fromSegments = {
        source: path, segments: [...names].sort((a, b) => a[0] - b[0]).map(([id, name]) => ({ id, name })), assignments, centres: null, transform: null,
      };
    }
  }
  if (fromModel && fromSegments) {
    const ids = new Set(fromModel.segments.map((s) => s.id));
    const stray = fromSegments.segments.find((s) => !ids.has(s.id));
    if (stray) {
      throw new InputError(`--previous ${fromSegments.source} has segment ${stray.id} (${stray.name}), which ${fromModel.source} does not: give the segments file written with that model`);
    }
    return { ...fromModel, source: `${fromModel.source} and ${fromSegments.source}`, assignments: fromSegments.assignments };
  }
  return (fromModel ?? fromSegments)!;
}

/** The parsed JSON of a Segmenta model file, or undefined when the file is not one (a segments file). */
async function modelJson(path: string): Promise<unknown> {
  if (!/\.json$/i.test(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined; // NDJSON segments, or not JSON at all: read as a segments file
  }
  return typeof json === "object" && json !== null && !Array.isArray(json) && (json as { format?: unknown }).format === "segmenta-model" ? json : undefined;
}

/** The lines cluster prints about stable ids: what decided, the kept, new and vanished segments. */
export function describeStable(s: StableIds, segments: { segment: number; name: string; size: number }[]): string[] {
  const out = [`segment ids from ${s.previous.source}: matched by ${s.matchedBy === "customers" ? "shared customers" : "segment centres"}`, `  ${s.rule}`];
  const rows = segments.map((seg) => {
    const m = s.matches.find((x) => x.previous === seg.segment);
    const how = !m ? "new"
      : m.distance !== undefined
        ? `kept (centre distance ${fmtNum(m.distance, 3)}${m.jaccard !== undefined ? `; Jaccard of its customers ${fmtNum(m.jaccard, 3)}` : ""})`
        : `kept (Jaccard ${fmtNum(m.jaccard!, 3)})`;
    return [String(seg.segment), seg.name, n(seg.size), how];
  });
  for (const line of table([["id", "name", "customers", "match"], ...rows], [true, false, true, false])) out.push(`  ${line}`);
  for (const v of s.vanished) out.push(`  vanished: ${v.id} ${v.name} (no segment of this run matches it)`);
  return out;
}
