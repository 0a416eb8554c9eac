/**
 * Rows posted as JSON records, read into a Dataset as the file reader reads a column of each
 * kind (src/io/schema.ts: the `expr` of a profiled column), so that scoring records gives what
 * `segmenta predict` gives for the same values in a file:
 * - text is trimmed, and blank text is missing (NULLIF(trim(v), ''));
 * - numeric: numbers as they are (NaN and ±Infinity missing), text cast as DuckDB's TRY_CAST
 *   to DOUBLE casts it, true/false as 1/0;
 * - boolean: yes/y/true/t or 1 → 1, no/n/false/f or 0 → 0 (any case), anything else missing;
 * - datetime: milliseconds since 1970 UTC of an ISO date or timestamp (as DuckDB casts text to
 *   TIMESTAMP: the time as written, a UTC offset ignored) or of YYYYMMDD; a number is taken as
 *   such milliseconds;
 * - categorical: the trimmed text (numbers and true/false as JSON writes them);
 * - id: the value's text as it is (not trimmed; an empty text is missing, as an empty CSV cell is).
 */
import type { Column, ColumnKind, Dataset } from "../core/dataset.js";

const TRUE_WORDS = new Set(["yes", "y", "true", "t", "1"]);
const FALSE_WORDS = new Set(["no", "n", "false", "f", "0"]);
/** What DuckDB's TRY_CAST(text AS DOUBLE) accepts: a decimal number with an optional exponent, inf, nan (made missing here). */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = (typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v)).trim();
  return s === "" ? null : s;
}

function numeric(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? v : NaN;
  if (typeof v === "boolean") return v ? 1 : 0;
  const s = text(v);
  const plain = s?.replace(/_/g, "");
  if (!plain || !NUMBER.test(plain)) return NaN;
  const x = Number(plain);
  return Number.isFinite(x) ? x : NaN;
}

function boolean(v: unknown): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v === 1 ? 1 : v === 0 ? 0 : NaN;
  const s = text(v)?.toLowerCase();
  if (s === undefined || s === null) return NaN;
  return TRUE_WORDS.has(s) ? 1 : FALSE_WORDS.has(s) ? 0 : NaN;
}

function datetime(v: unknown): number {
  if (typeof v === "number") return Number.isFinite(v) ? v : NaN;
  const s = text(v);
  if (s === null) return NaN;
  if (/^\d{8}$/.test(s)) {
    const y = Number(s.slice(0, 4));
    const m = Number(s.slice(4, 6));
    const d = Number(s.slice(6, 8));
    const t = Date.UTC(y, m - 1, d);
    return new Date(t).getUTCDate() === d && m >= 1 && m <= 12 ? t : NaN;
  }
  const p = ISO.exec(s);
  if (!p) return NaN;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(p[i] ?? 0));
  const ms = p[7] ? Math.round(Number(p[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59) return NaN;
  // A UTC offset is ignored, as DuckDB's cast to TIMESTAMP ignores it.
  const t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  return new Date(t).getUTCDate() === d ? t : NaN;
}

/** A Dataset of JSON records, each column read as a column of `kinds[name]` is read from a file. */
export function datasetFromJsonRecords(records: Record<string, unknown>[], kinds: Record<string, ColumnKind>, source = "rows"): Dataset {
  const n = records.length;
  const columns: Column[] = Object.entries(kinds).map(([name, kind]): Column => {
    if (kind === "categorical" || kind === "id") {
      const values = new Array<string | null>(n);
      for (let i = 0; i < n; i++) {
        const v = records[i][name];
        values[i] = kind === "id" ? (v === null || v === undefined || v === "" ? null : typeof v === "string" ? v : String(v)) : text(v);
      }
      return { name, kind, values };
    }
    const read = kind === "boolean" ? boolean : kind === "datetime" ? datetime : numeric;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = read(records[i][name]);
    return { name, kind, values };
  });
  return { source, rows: n, columns };
}
