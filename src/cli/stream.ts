/**
 * The CLI's side of streaming and databases as sources: the --memory, --source, --query and
 * --table flags (cluster, predict, inspect), and predict's output when it streamed.
 */
import { formatBytes } from "../core/budget.js";
import type { LoadedTable } from "../io/read.js";
import { defaultMemoryBudget, estimateInMemoryBytes, parseMemory, predictStreamed, type StreamedPredict } from "../io/stream-cluster.js";
import type { LoadedModelFile } from "../pipeline/model.js";
import { type Io, pct, table } from "./common.js";

export const STREAM_OPTIONS = {
  memory: { type: "string" },
  source: { type: "string" },
  query: { type: "string" },
  table: { type: "string" },
} as const;

/** The flags --source, --query, --table (a database as the source). */
export const SOURCE_OPTIONS = { source: STREAM_OPTIONS.source, query: STREAM_OPTIONS.query, table: STREAM_OPTIONS.table } as const;

export type StreamValues = { memory?: string; source?: string; query?: string; table?: string };

/** --memory, or half of the memory available now. */
export function memoryBudget(value: string | undefined): number {
  return parseMemory(value) ?? defaultMemoryBudget();
}

/** What --help says of --memory's default on this machine. */
export function memoryDefaultText(): string {
  return `half of the memory available now (${formatBytes(defaultMemoryBudget())} on this machine)`;
}

/** predict's console lines (or --json) after a streamed scoring. */
export function printStreamedPredict(
  p: StreamedPredict, values: { model: string; out: string; json?: boolean }, file: string, io: Io, ids?: number[] | null,
): void {
  for (const w of p.warnings) io.err(`warning: ${w}`);
  io.err(`streamed: ${p.streamed}`);
  const k = p.sizes.length;
  if (values.json) {
    io.out(JSON.stringify({
      file, model: values.model, rows: p.rows, k, sizes: p.sizes, names: p.names, ...(p.noiseName !== null ? { outliers: p.noise, outlierName: p.noiseName } : {}),
      warnings: p.warnings, notes: [], streamed: p.streamed, outputs: { out: values.out },
    }, null, 2));
    return;
  }
  io.out(`${file}: ${p.rows} rows scored with ${values.model} (k=${k})`);
  const rows = [["segment", "name", "customers", "share"], ...p.sizes.flatMap((s, i) => (s > 0 || k <= 50 ? [[String(ids?.[i] ?? i), p.names[i], String(s), pct(s / p.rows)]] : []))];
  if (p.noiseName !== null) rows.push(["-1", p.noiseName, String(p.noise), pct(p.noise / Math.max(1, p.rows))]);
  for (const line of table(rows, [true, false, true, true])) io.out(`  ${line}`);
  io.out(`segments written to ${values.out}`);
}

/**
 * predict on a table over the budget: scored chunk by chunk and written from DuckDB; null when
 * the table fits (the in-memory path then scores it).
 */
export async function predictIfOverBudget(
  t: LoadedTable, file: string, m: LoadedModelFile, values: { model: string; out: string; json?: boolean; "raw-csv"?: boolean; probabilities?: boolean },
  budget: number, io: Io,
): Promise<number | null> {
  const estimate = estimateInMemoryBytes(t.rows, t.columns);
  if (estimate <= budget) return null;
  const p = await predictStreamed(t, m, values.out, { budget, estimate, raw: values["raw-csv"], probabilities: values.probabilities, file });
  printStreamedPredict(p, values, file, io, m.file.segmentIds);
  return 0;
}
