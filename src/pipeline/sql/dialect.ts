/**
 * The SQL dialects Segmenta writes queries for, and every difference between them that its
 * queries meet, in one place: identifier quoting, string and number literals, casts, finite
 * values, dates as epoch milliseconds and day numbers, logarithms and powers, random sampling.
 *
 * Number literals are exact: every double is written with 17 significant digits in a form the
 * engine reads as a double (never as a decimal, which DuckDB, for one, converts to a double
 * with a rounding error), so that the SQL computes with the very numbers of the model file.
 * DuckDB and PostgreSQL are run by the tests; BigQuery, Snowflake and Spark SQL are generated
 * by the same code and checked against golden files, not run here.
 */
import { InputError } from "../../core/errors.js";

export const DIALECTS = ["duckdb", "postgres", "bigquery", "snowflake", "spark"] as const;
export type DialectName = (typeof DIALECTS)[number];

export interface Dialect {
  name: DialectName;
  /** A quoted identifier (a column name). */
  ident(name: string): string;
  /** A table reference: dotted plain names (schema.table) are quoted part by part, anything else as one name. */
  table(name: string): string;
  /** A string literal. */
  str(s: string): string;
  /** A double literal with 17 significant digits, read as a double by the engine. */
  num(x: number): string;
  /** The double type's name. */
  double: string;
  /** A column's value as a double (numbers, or text holding them where the engine can). */
  toDouble(x: string): string;
  /** A value as text. */
  toText(x: string): string;
  /** x (a double) with NaN and ±Infinity turned into NULL. */
  finite(x: string): string;
  /** Epoch milliseconds (a double) of a date or timestamp. */
  epochMs(x: string): string;
  /** Natural logarithm, power. */
  ln(x: string): string;
  pow(x: string, y: string): string;
  /** A uniformly random double in [0, 1). */
  random: string;
  /**
   * Appended to each nested SELECT so that the planner computes its columns once instead of
   * inlining their expressions wherever the outer query uses them (PostgreSQL's OFFSET 0).
   */
  fence: string;
  /** The integer type for day numbers. */
  int: string;
  /** The exact decimal with 9 places that sums values (NULL beyond ±1e29 where the engine would fail). */
  decimal9(x: string): string;
  /** x (a double) rounded to 6 decimals. */
  round6(x: string): string;
  /** x as an ORDER BY key in byte order (not the locale's collation). */
  byteOrder(x: string): string;
  /** A table of literal rows with the given column names, for a FROM clause (with its alias `as`). */
  values(rows: string[][], names: string[], as: string): string;
}

/** (VALUES (…), (…)) AS name(a, b): DuckDB, PostgreSQL, Snowflake, Spark. */
function valuesList(rows: string[][], names: string[], as: string): string {
  return `(VALUES\n  ${rows.map((r) => `(${r.join(", ")})`).join(",\n  ")}\n) AS ${as}(${names.join(", ")})`;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*$/;

function quoted(open: string, close: string): (name: string) => string {
  return (name) => `${open}${name.split(close).join(close + close)}${close}`;
}

function tableOf(ident: (n: string) => string): (name: string) => string {
  return (name) => (PLAIN.test(name) ? name.split(".").map(ident).join(".") : ident(name));
}

/** 17 significant digits as d.dddde±x; negatives in parentheses (so that `a - -1` never reads as a comment). */
function expNumber(x: number): string {
  if (!Number.isFinite(x)) throw new InputError(`the model holds the number ${x}, which SQL cannot write; fit the model again`);
  const t = x.toExponential(16);
  return x < 0 || Object.is(x, -0) ? `(${t})` : t;
}

const sqlString = (s: string): string => `'${s.split("'").join("''")}'`;
/** BigQuery and Spark read a backslash in a string literal as an escape. */
const escapedString = (s: string): string => `'${s.split("\\").join("\\\\").split("'").join("\\'")}'`;

const DUCKDB: Dialect = {
  name: "duckdb",
  ident: quoted('"', '"'),
  table: tableOf(quoted('"', '"')),
  str: sqlString,
  num: expNumber,
  double: "DOUBLE",
  toDouble: (x) => `TRY_CAST(${x} AS DOUBLE)`,
  toText: (x) => `CAST(${x} AS VARCHAR)`,
  finite: (x) => `CASE WHEN isfinite(${x}) THEN ${x} END`,
  epochMs: (x) => `CAST(epoch_ms(CAST(${x} AS TIMESTAMP)) AS DOUBLE)`,
  ln: (x) => `ln(${x})`,
  pow: (x, y) => `pow(${x}, ${y})`,
  random: "random()",
  fence: "",
  int: "INTEGER",
  decimal9: (x) => `TRY_CAST(${x} AS DECIMAL(38, 9))`,
  round6: (x) => `round(${x}, 6)`,
  byteOrder: (x) => x,
  values: valuesList,
};

const POSTGRES: Dialect = {
  name: "postgres",
  ident: quoted('"', '"'),
  table: tableOf(quoted('"', '"')),
  str: sqlString,
  // A typed literal is parsed by float8in (correctly rounded); a bare 1.5e-1 would be numeric.
  num: (x) => `float8 '${expNumber(x).replace(/^\((.*)\)$/, "$1")}'`,
  double: "DOUBLE PRECISION",
  toDouble: (x) => `CAST(${x} AS DOUBLE PRECISION)`,
  toText: (x) => `CAST(${x} AS TEXT)`,
  finite: (x) => `CASE WHEN ${x} IN (float8 'NaN', float8 'Infinity', float8 '-Infinity') THEN NULL ELSE ${x} END`,
  epochMs: (x) => `CAST(extract(epoch FROM CAST(${x} AS TIMESTAMP)) * 1000 AS DOUBLE PRECISION)`,
  ln: (x) => `ln(${x})`,
  pow: (x, y) => `power(${x}, ${y})`,
  random: "random()",
  fence: " OFFSET 0",
  int: "INTEGER",
  decimal9: (x) => `CASE WHEN abs(${x}) < 1e29 THEN CAST(${x} AS NUMERIC(38, 9)) END`,
  // DuckDB's round(x, 6): x · 10⁶ rounded half away from zero (PostgreSQL's round(float8) rounds half to even), divided by 10⁶.
  round6: (x) => {
    const v = `(${x}) * float8 '1e6'`;
    return `(CASE WHEN abs(${v}) >= float8 '4503599627370496' THEN ${v} ELSE sign(${v}) * floor(abs(${v}) + float8 '0.5') END) / float8 '1e6'`;
  },
  byteOrder: (x) => `${x} COLLATE "C"`,
  values: valuesList,
};

const BIGQUERY: Dialect = {
  name: "bigquery",
  ident: quoted("`", "`"),
  table: (name) => `\`${name.split("`").join("\\`")}\``,
  str: escapedString,
  num: expNumber,
  double: "FLOAT64",
  toDouble: (x) => `SAFE_CAST(${x} AS FLOAT64)`,
  toText: (x) => `CAST(${x} AS STRING)`,
  finite: (x) => `IF(IS_NAN(${x}) OR IS_INF(${x}), NULL, ${x})`,
  epochMs: (x) => `CAST(UNIX_MILLIS(CAST(${x} AS TIMESTAMP)) AS FLOAT64)`,
  ln: (x) => `LN(${x})`,
  pow: (x, y) => `POW(${x}, ${y})`,
  random: "RAND()",
  fence: "",
  int: "INT64",
  decimal9: (x) => `SAFE_CAST(${x} AS NUMERIC)`,
  round6: (x) => `ROUND(${x}, 6)`,
  byteOrder: (x) => x,
  // BigQuery has no VALUES table: an array of structs, unnested (the first names the fields).
  values: (rows, names, as) => `UNNEST([\n  ${rows.map((r, i) => `STRUCT(${r.map((v, c) => (i === 0 ? `${v} AS ${names[c]}` : v)).join(", ")})`).join(",\n  ")}\n]) AS ${as}`,
};

const SNOWFLAKE: Dialect = {
  name: "snowflake",
  ident: quoted('"', '"'),
  table: tableOf(quoted('"', '"')),
  str: escapedString,
  num: expNumber,
  double: "DOUBLE",
  toDouble: (x) => `CAST(${x} AS DOUBLE)`,
  toText: (x) => `CAST(${x} AS VARCHAR)`,
  finite: (x) => `CASE WHEN ${x} IN ('NaN'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE) THEN NULL ELSE ${x} END`,
  epochMs: (x) => `CAST(DATE_PART(epoch_millisecond, CAST(${x} AS TIMESTAMP_NTZ)) AS DOUBLE)`,
  ln: (x) => `LN(${x})`,
  pow: (x, y) => `POWER(${x}, ${y})`,
  random: "UNIFORM(0::DOUBLE, 1::DOUBLE, RANDOM())",
  fence: "",
  int: "INTEGER",
  decimal9: (x) => `CASE WHEN ABS(${x}) < 1e29 THEN CAST(${x} AS NUMBER(38, 9)) END`,
  round6: (x) => `ROUND(${x}, 6)`,
  byteOrder: (x) => `COLLATE(${x}, '')`,
  values: valuesList,
};

const SPARK: Dialect = {
  name: "spark",
  ident: quoted("`", "`"),
  table: tableOf(quoted("`", "`")),
  str: escapedString,
  num: expNumber,
  double: "DOUBLE",
  toDouble: (x) => `CAST(${x} AS DOUBLE)`,
  toText: (x) => `CAST(${x} AS STRING)`,
  finite: (x) => `CASE WHEN isnan(${x}) OR abs(${x}) = double('Infinity') THEN NULL ELSE ${x} END`,
  epochMs: (x) => `CAST(unix_millis(CAST(${x} AS TIMESTAMP)) AS DOUBLE)`,
  ln: (x) => `ln(${x})`,
  pow: (x, y) => `pow(${x}, ${y})`,
  random: "rand()",
  fence: "",
  int: "INT",
  decimal9: (x) => `CASE WHEN abs(${x}) < 1e29 THEN CAST(${x} AS DECIMAL(38, 9)) END`,
  round6: (x) => `round(${x}, 6)`,
  byteOrder: (x) => x,
  values: valuesList,
};

const ALL: Record<DialectName, Dialect> = { duckdb: DUCKDB, postgres: POSTGRES, bigquery: BIGQUERY, snowflake: SNOWFLAKE, spark: SPARK };

/** The dialect of a name, or an InputError naming the option and the choices. */
export function dialect(name: string | undefined, flag = "--dialect"): Dialect {
  const d = ALL[(name ?? "") as DialectName];
  if (!d) throw new InputError(`${flag} ${name ?? "(missing)"}: give one of ${DIALECTS.join(", ")}`);
  return d;
}
