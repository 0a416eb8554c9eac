import { dropTable, loadTable } from "../io/read.js";
import { columnProfileJson, type ColumnProfile, profileTable } from "../io/schema.js";
import { loadSource, sourceFromFlags, sourceLabel } from "../io/source.js";
import { SOURCE_OPTIONS, type StreamValues } from "./stream.js";
import { fmtNum, type Io, onePositional, parse, parseTypes, table } from "./common.js";


export async function inspectCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<{ type?: string[]; sheet?: string } & StreamValues>("inspect", args, {
    type: { type: "string", multiple: true }, sheet: { type: "string" }, ...SOURCE_OPTIONS,
  });
  // A database as the source (--source, --query | --table), read with a cursor in batches.
  const source = sourceFromFlags(values, positionals, "inspect");
  const file = source ? sourceLabel(source) : onePositional("inspect", positionals, "data file");
  const t = source ? await loadSource(source) : await loadTable(file, { sheet: values.sheet });
  try {
    const p = await profileTable(t, parseTypes(values.type));
    if (values.json) {
      io.out(JSON.stringify({ file: p.file, format: p.format, details: p.details, rows: p.rows, columns: p.columns.map(columnProfileJson) }, null, 2));
      return 0;
    }
    io.out(`${file}: ${p.rows} rows × ${p.columns.length} columns (${p.details})`);
    io.out("");
    const rows = [["column", "kind", "stored as", "missing", "distinct", "summary"]];
    for (const c of p.columns) rows.push([c.name, c.kind, c.duckType, String(c.missing), String(c.distinct), summary(c)]);
    for (const line of table(rows, [false, false, false, true, true, false])) io.out(line);
    const hinted = p.columns.filter((c) => c.hints.length);
    if (hinted.length) {
      io.out("");
      io.out("hints:");
      for (const c of hinted) io.out(`  ${c.name}: ${c.hints.join("; ")}`);
    }
    return 0;
  } finally {
    await dropTable(t);
  }
}

function summary(c: ColumnProfile): string {
  // By kind: a column of numbers read as a category or an id shows its top values, not its mean.
  if (c.kind === "numeric" && c.numeric) {
    const n = c.numeric;
    return `min ${fmtNum(n.min)}  median ${fmtNum(n.median)}  mean ${fmtNum(n.mean)}  max ${fmtNum(n.max)}`;
  }
  if (c.kind === "datetime" && c.range) return `${c.range.min} … ${c.range.max}`;
  if (c.top) return c.top.slice(0, 3).map((t) => `${truncate(t.value)} (${t.count})`).join(", ");
  return "";
}

function truncate(s: string): string {
  return s.length > 24 ? s.slice(0, 23) + "…" : s;
}


