/**
 * The in-memory table the pipeline works on: named, typed columns. Numeric, boolean and
 * datetime columns are Float64Arrays with NaN for missing (booleans as 0/1, datetimes as
 * epoch milliseconds); categorical and id columns are arrays of strings with null for missing.
 */
export type ColumnKind = "numeric" | "categorical" | "boolean" | "datetime" | "id";

export const COLUMN_KINDS: readonly ColumnKind[] = ["numeric", "categorical", "boolean", "datetime", "id"];

/** Where a column read from a file came from: what SQL over the user's own table needs. */
export interface ColumnSource {
  /** The type the file reader gave the column (DuckDB's: VARCHAR for numbers stored as text). */
  storedAs?: string;
  /** The column's header as written in the file, when the reader had to rename it (an empty or repeated header). */
  header?: string;
  /** Values the reader found NaN or infinite and read as missing (a SQL comparison would match them). */
  nonFinite?: number;
}

export interface NumericColumn extends ColumnSource {
  name: string;
  kind: "numeric" | "boolean" | "datetime";
  values: Float64Array;
}

export interface TextColumn extends ColumnSource {
  name: string;
  kind: "categorical" | "id";
  values: (string | null)[];
}

export type Column = NumericColumn | TextColumn;

export interface Dataset {
  /** Where the rows came from (a file name), used in messages. */
  source: string;
  rows: number;
  columns: Column[];
}

export function isNumericKind(kind: ColumnKind): kind is NumericColumn["kind"] {
  return kind === "numeric" || kind === "boolean" || kind === "datetime";
}

export function getColumn(ds: Dataset, name: string): Column | undefined {
  return ds.columns.find((c) => c.name === name);
}

/** Builds a Dataset from plain row objects (for library users and tests). */
export function datasetFromRecords(
  records: Record<string, unknown>[],
  kinds: Record<string, ColumnKind>,
  source = "records",
): Dataset {
  const columns: Column[] = Object.entries(kinds).map(([name, kind]) => {
    if (isNumericKind(kind)) {
      const values = new Float64Array(records.length);
      records.forEach((r, i) => {
        const v = r[name];
        values[i] = v === null || v === undefined || v === "" ? NaN : v instanceof Date ? v.getTime() : typeof v === "boolean" ? Number(v) : Number(v);
      });
      return { name, kind, values };
    }
    return { name, kind, values: records.map((r) => (r[name] === null || r[name] === undefined ? null : String(r[name]))) };
  });
  return { source, rows: records.length, columns };
}
