import type { ColumnKind, Dataset } from "../core/dataset.js";
import { readColumns } from "./extract.js";
import { dropTable, type FileFormat, loadTable } from "./read.js";
import { profileTable, type TableProfile } from "./schema.js";

export interface ReadTableOptions {
  /** Force a column's kind instead of inferring it. */
  types?: Record<string, ColumnKind>;
  /** Columns read as text exactly as written in the file (ids such as "007"); they get the kind "id". */
  ids?: string[];
  /** The worksheet of an .xlsx file (name or 1-based number); default the first. */
  sheet?: string | number;
  /** Force the format instead of guessing it from the extension and the content. */
  format?: FileFormat;
}

/**
 * Reads a data file (CSV/TSV and other delimited text, also .gz; Parquet; JSON/NDJSON; XLSX)
 * into a Dataset, as the CLI does: column kinds inferred (numeric, categorical, boolean,
 * datetime, id), missing and non-finite values as missing. Also returns the profile of each
 * column (statistics and hints, as `segmenta inspect` shows them). Node only.
 *
 * ```ts
 * const { data } = await readTable("customers.csv", { ids: ["customerID"] });
 * const result = await runSegmentation({ k: 4, id: "customerID" }, data);
 * ```
 */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<{ data: Dataset; profile: TableProfile }> {
  const ids = options.ids ?? [];
  const t = await loadTable(path, { sheet: options.sheet, format: options.format, text: ids });
  try {
    const types: Record<string, ColumnKind> = { ...options.types };
    for (const id of ids) types[id] = "id";
    const profile = await profileTable(t, types);
    const data = await readColumns(t, profile, profile.columns.map((c) => c.name));
    return { data, profile };
  } finally {
    await dropTable(t);
  }
}
