import { type ColumnKind, COLUMN_KINDS } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { ident, queryRows } from "./duck.js";
import type { LoadedTable } from "./read.js";

/** What `inspect` shows of a column, and how the pipeline reads it. */
export interface ColumnProfile {
  name: string;
  duckType: string;
  kind: ColumnKind;
  /** Why the kind was chosen (for inspect and for the printed plan). */
  reason: string;
  missing: number;
  distinct: number;
  /** Statistics of the finite values; q1 and q3 are the quartiles (linear interpolation, as numpy's percentile). */
  numeric?: { min: number; max: number; mean: number; median: number; std: number; skewness: number | null; q1?: number; q3?: number };
  range?: { min: string; max: string };
  top?: { value: string; count: number }[];
  /** Values of a numeric column that are text; only for text columns that are mostly numbers. */
  textValues?: { count: number; example: string; row: number };
  hints: string[];
  /** Named like an outcome (y, target, Response, Churn, Exited, …) with two or a few values: better described by than clustered on. */
  outcome?: true;
  /** Whole numbers with few values in a column named like a category (Channel, Region): probably labels, not quantities. */
  codedCategory?: true;
  /** Values far outside the rest (a birth year of 1893, an income of 666666) or repeated sentinel codes (999, -1), with their counts. */
  implausible?: { value: number; count: number }[];
  /** SQL expression (over the loaded table) giving the typed value: DOUBLE, or VARCHAR for categorical and id. */
  expr: string;
}

export interface TableProfile {
  file: string;
  format: string;
  details: string;
  rows: number;
  columns: ColumnProfile[];
}

const NUM_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TIME_TYPES = /^(DATE|TIMESTAMP.*|TIME.*)$/;
const TRUE_WORDS = ["yes", "y", "true", "t"];
const FALSE_WORDS = ["no", "n", "false", "f"];
/**
 * The words of a column name, lower-case: "customerID" → customer, id; "InvoiceNo" → invoice,
 * no; "ID_" → id; "user id" → user, id; "IDNumber" → id, number.
 */
export function nameWords(name: string): string[] {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Last words of names that usually hold identifiers or codes: customerID, InvoiceNo, StockCode, ID, uuid, email. */
const ID_WORDS = new Set(["id", "ids", "no", "nr", "num", "number", "code", "key", "uuid", "guid", "email", "sku"]);
/** Of those, the words of codes, which may name a product or a category rather than a row (StockCode, sku). */
const CODE_WORDS = new Set(["code", "sku"]);

export function isIdLikeName(name: string): boolean {
  const w = nameWords(name);
  if (w.length === 0) return false;
  if (ID_WORDS.has(w[w.length - 1])) return true;
  // id_customer, ID_Number
  if (["id", "uuid", "guid"].includes(w[0])) return true;
  return /^(customer|client|user|account|member)$/i.test(name.trim());
}

/** A name like StockCode or sku: an identifier only when its values do not repeat. */
function isCodeName(name: string): boolean {
  const w = nameWords(name);
  return w.length > 0 && CODE_WORDS.has(w[w.length - 1]);
}

/** Values that repeat across rows: fewer distinct values than 90% of the values present. */
function repeats(distinct: number, present: number): boolean {
  return distinct < 0.9 * present;
}

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));

/** Profiles every column of a loaded table and infers its kind; `overrides` force kinds. */
export async function profileTable(t: LoadedTable, overrides: Record<string, ColumnKind> = {}): Promise<TableProfile> {
  for (const [name, kind] of Object.entries(overrides)) {
    if (!t.columns.some((c) => c.name === name)) {
      throw new InputError(`--type ${name}=${kind}: ${t.file} has no column "${name}"; columns are: ${t.columns.map((c) => c.name).join(", ")}`);
    }
    if (!COLUMN_KINDS.includes(kind)) {
      throw new InputError(`--type ${name}=${kind}: unknown kind; use one of ${COLUMN_KINDS.join(", ")}`);
    }
  }
  const columns: ColumnProfile[] = [];
  for (const c of t.columns) columns.push(await profileColumn(t, c.name, c.duckType, overrides[c.name]));
  return { file: t.file, format: t.format, details: t.details, rows: t.rows, columns };
}

async function profileColumn(t: LoadedTable, name: string, duckType: string, forced?: ColumnKind): Promise<ColumnProfile> {
  const c = ident(name);
  const T = t.table;
  const hints: string[] = [];
  if (duckType === "VARCHAR") return profileText(t, name, duckType, forced, hints);
  // UUIDs (read from JSON or Parquet) and enums are text with a type: profile their text form.
  if (duckType === "UUID" || duckType.startsWith("ENUM")) return profileText(t, name, duckType, forced, hints);
  if (duckType === "BOOLEAN") {
    const r = (await queryRows(`SELECT count(*) - count(${c}) AS missing, count(DISTINCT ${c}) AS distinct FROM ${T}`))[0];
    const kind = forced ?? "boolean";
    return finish(t, {
      name, duckType, kind, reason: forced ? "set by --type" : "true/false values", missing: num(r.missing), distinct: num(r.distinct), hints,
      expr: kind === "categorical" || kind === "id" ? `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END` : `CASE WHEN ${c} THEN 1.0 WHEN NOT ${c} THEN 0.0 END`,
    });
  }
  if (TIME_TYPES.test(duckType)) {
    const r = (await queryRows(`SELECT count(*) - count(${c}) AS missing, count(DISTINCT ${c}) AS distinct, CAST(min(${c}) AS VARCHAR) AS lo, CAST(max(${c}) AS VARCHAR) AS hi FROM ${T}`))[0];
    const kind = forced ?? "datetime";
    const expr = duckType.startsWith("TIME") && !duckType.startsWith("TIMESTAMP")
      ? `CAST(epoch(${c}) * 1000 AS DOUBLE)`
      : `CAST(epoch_ms(CAST(${c} AS TIMESTAMP)) AS DOUBLE)`;
    return finish(t, {
      name, duckType, kind, reason: forced ? "set by --type" : `${duckType.toLowerCase()} values`, missing: num(r.missing), distinct: num(r.distinct),
      range: { min: String(r.lo), max: String(r.hi) }, hints,
      expr: kind === "categorical" || kind === "id" ? `CAST(${c} AS VARCHAR)` : expr,
    });
  }
  if (NUM_TYPES.test(duckType)) {
    const d = `CAST(${c} AS DOUBLE)`;
    // NaN, ±Infinity (and numbers beyond the range of a double, which readers turn into
    // ±Infinity) are missing values: every statistic is of the finite values only.
    const x = finiteExpr(d);
    const s = await scaleOf(T, x);
    const r = (await queryRows(
      `SELECT count(*) - count(${c}) AS nulls, count(${c}) - count(${x}) AS nonfinite, ${statsSql(x, s)}, ` +
        `count(${x}) FILTER (WHERE ${x} = round(${x})) AS ints, ` +
        // YYYYMMDD dates are looked for only in a column named like a date (the parse costs
        // more than all the other statistics together).
        (isDateName(name)
          ? `count(${c}) FILTER (WHERE ${x} BETWEEN 19000101 AND 21001231 AND try_strptime(CAST(TRY_CAST(${c} AS BIGINT) AS VARCHAR), '%Y%m%d') IS NOT NULL) AS ymd `
          : "0 AS ymd ") +
        `FROM ${T}`,
    ))[0];
    r.missing = num(r.nulls) + num(r.nonfinite);
    const present = t.rows - num(r.missing);
    const integral = num(r.ints) === present;
    let kind: ColumnKind;
    let reason: string;
    if (forced) {
      kind = forced;
      reason = "set by --type";
    } else if (integral && present > 0 && num(r.ymd) === present && isDateName(name)) {
      kind = "datetime";
      reason = "8-digit numbers that are dates (YYYYMMDD)";
    } else if (integral && isCodeName(name) && repeats(num(r.distinct), present)) {
      kind = "categorical";
      reason = "whole-number codes that repeat across rows (a product or category code, not an identifier)";
    } else if (integral && isIdLikeName(name)) {
      kind = "id";
      reason = "whole numbers in a column named like an identifier";
    } else if (integral && num(r.missing) === 0 && t.rows >= 20 && num(r.distinct) === t.rows && num(r.mx) - num(r.mn) + 1 === t.rows) {
      kind = "id";
      reason = `the consecutive whole numbers ${num(r.mn)}…${num(r.mx)}, one per row (a row number)`;
    } else if (integral && num(r.distinct) === 2 && num(r.mn) === 0 && num(r.mx) === 1) {
      kind = "boolean";
      reason = "only the values 0 and 1";
    } else {
      kind = "numeric";
      reason = `${duckType.toLowerCase()} values`;
    }
    const p: ColumnProfile = {
      name, duckType, kind, reason, missing: num(r.missing), distinct: num(r.distinct), hints,
      numeric: statsFrom(r, s),
      expr: kind === "categorical" || kind === "id" ? numberAsText(c, duckType)
        : kind === "datetime" ? `CAST(epoch_ms(try_strptime(CAST(TRY_CAST(${c} AS BIGINT) AS VARCHAR), '%Y%m%d')) AS DOUBLE)`
        : x,
    };
    nonFiniteHint(hints, num(r.nonfinite));
    return finish(t, p);
  }
  // Lists, structs and other nested values: their text form, as a category.
  const r = (await queryRows(`SELECT count(*) - count(${c}) AS missing, count(DISTINCT CAST(${c} AS VARCHAR)) AS distinct FROM ${T}`))[0];
  return finish(t, {
    name, duckType, kind: forced ?? "categorical", reason: forced ? "set by --type" : `nested ${duckType} values, read as text`, missing: num(r.missing), distinct: num(r.distinct), hints,
    expr: `CAST(${c} AS VARCHAR)`,
  });
}

function isDateName(name: string): boolean {
  return /date|day|time|dt$/i.test(name);
}

async function profileText(t: LoadedTable, name: string, duckType: string, forced: ColumnKind | undefined, hints: string[]): Promise<ColumnProfile> {
  const c = duckType === "VARCHAR" ? ident(name) : `CAST(${ident(name)} AS VARCHAR)`;
  const T = t.table;
  const v = `NULLIF(trim(${c}), '')`;
  const r = (await queryRows(
    `SELECT count(${v}) AS present, count(DISTINCT ${v}) AS distinct, ` +
      `count(${v}) FILTER (WHERE TRY_CAST(${v} AS DOUBLE) IS NOT NULL) AS nums, ` +
      `count(${v}) FILTER (WHERE isnan(TRY_CAST(${v} AS DOUBLE)) OR isinf(TRY_CAST(${v} AS DOUBLE))) AS nonfinite, ` +
      `count(DISTINCT ${v}) FILTER (WHERE TRY_CAST(${v} AS DOUBLE) IS NULL) AS textDistinct, ` +
      `count(${v}) FILTER (WHERE regexp_matches(${v}, '^[+-]?0[0-9]')) AS zeros, ` +
      `count(${v}) FILTER (WHERE regexp_matches(${v}, '^[0-9]{8}$') AND try_strptime(${v}, '%Y%m%d') IS NOT NULL) AS ymd, ` +
      `count(${v}) FILTER (WHERE TRY_CAST(${v} AS TIMESTAMP) IS NOT NULL AND regexp_matches(${v}, '[-/:]')) AS times, ` +
      `count(${v}) FILTER (WHERE lower(${v}) IN ('yes','y','true','t','no','n','false','f')) AS bools, ` +
      `count(${v}) FILTER (WHERE ${v} IN ('0','1')) AS zeroOnes ` +
      `FROM ${T}`,
  ))[0];
  const present = num(r.present);
  const missing = t.rows - present;
  const distinct = num(r.distinct);
  const nums = num(r.nums);
  const blanks = (await queryRows(`SELECT count(*) AS n FROM ${T} WHERE ${c} IS NOT NULL AND trim(${c}) = ''`))[0];
  const blankCount = num(blanks.n);
  let kind: ColumnKind;
  let reason: string;
  let textValues: ColumnProfile["textValues"];
  if (forced) {
    kind = forced;
    reason = "set by --type";
  } else if (duckType === "UUID") {
    kind = "id";
    reason = "UUID values";
  } else if (present === 0) {
    kind = "categorical";
    reason = "no values at all";
  } else if (isCodeName(name) && repeats(distinct, present)) {
    kind = "categorical";
    reason = "codes that repeat across rows (a product or category code, not an identifier)";
  } else if (nums === present && num(r.zeros) > 0) {
    kind = "id";
    reason = "digit strings with leading zeros (an identifier, not a quantity)";
  } else if (nums === present && num(r.ymd) === present && isDateName(name)) {
    kind = "datetime";
    reason = "8-digit numbers that are dates (YYYYMMDD)";
  } else if (nums === present && isIdLikeName(name)) {
    kind = "id";
    reason = "numbers in a column named like an identifier";
  } else if (nums === present && num(r.zeroOnes) === present && distinct === 2) {
    // As for typed 0/1 columns: text files without types (whitespace-separated) give text.
    kind = "boolean";
    reason = "only the values 0 and 1";
  } else if (nums === present) {
    kind = "numeric";
    reason = t.untyped ? "numbers" : "numbers stored as text";
    if (!t.untyped) hints.push(`numbers stored as text${blankCount ? ` (${blankCount} blank values read as missing)` : ""}`);
  } else if (num(r.times) === present) {
    kind = "datetime";
    reason = "date/time text";
  } else if (num(r.bools) === present && distinct <= 2) {
    kind = "boolean";
    reason = "yes/no values";
  } else if (isIdLikeName(name) && distinct > 1) {
    kind = "id";
    reason = "a column named like an identifier";
  } else if (nums >= 0.9 * present && num(r.textDistinct) <= 10) {
    kind = "numeric";
    reason = "mostly numbers, with some text values";
  } else if (distinct === present && present >= 20) {
    kind = "id";
    reason = "a different text value in every row";
  } else {
    kind = "categorical";
    reason = "text values";
  }
  if (kind === "numeric" && nums < present) {
    const bad = (await queryRows(
      `SELECT rowid AS r, ${c} AS v FROM ${T} WHERE ${v} IS NOT NULL AND TRY_CAST(${v} AS DOUBLE) IS NULL ORDER BY rowid LIMIT 1`,
    ))[0];
    textValues = { count: present - nums, example: String(bad.v), row: Number(bad.r) + 1 };
    hints.push(`${present - nums} ${present - nums === 1 ? "value is text, not a number" : "values are text, not numbers"} (first: "${textValues.example}" in data row ${textValues.row}, line ${Number(bad.r) + t.firstDataLine})`);
  }
  if (kind === "numeric") nonFiniteHint(hints, num(r.nonfinite));
  const trueList = TRUE_WORDS.map((w) => `'${w}'`).join(",");
  const falseList = FALSE_WORDS.map((w) => `'${w}'`).join(",");
  const dbl = `TRY_CAST(${v} AS DOUBLE)`;
  const expr =
    kind === "numeric" ? finiteExpr(dbl)
    : kind === "datetime" ? (num(r.ymd) === present ? `CAST(epoch_ms(try_strptime(${v}, '%Y%m%d')) AS DOUBLE)` : `CAST(epoch_ms(TRY_CAST(${v} AS TIMESTAMP)) AS DOUBLE)`)
    : kind === "boolean" ? `CASE WHEN lower(${v}) IN (${trueList}) OR ${v} = '1' THEN 1.0 WHEN lower(${v}) IN (${falseList}) OR ${v} = '0' THEN 0.0 END`
    // An id is the value as stored: no trimming, a blank stays blank (SQL NULL is missing).
    : kind === "id" ? c
    : v;
  return finish(t, { name, duckType, kind, reason, missing, distinct, textValues, hints, expr });
}

/** Adds the statistics and hints that depend on the final kind. */
async function finish(t: LoadedTable, p: ColumnProfile): Promise<ColumnProfile> {
  const T = t.table;
  const n = t.rows;
  // Statistics of the stored numbers mean nothing once a column is read as a category, an id, a flag or a date.
  if (p.kind !== "numeric") delete p.numeric;
  if (p.kind === "numeric" && !p.numeric) {
    const from = `(SELECT ${p.expr} AS x FROM ${T})`;
    const s = await scaleOf(from, "x");
    const r = (await queryRows(`SELECT ${statsSql("x", s)} FROM ${from}`))[0];
    p.numeric = statsFrom(r, s);
    // Distinct numbers, not distinct spellings ("1.0" and "1" are one value; text values are missing).
    p.distinct = num(r.distinct);
  }
  if (p.kind === "numeric") {
    const miss = (await queryRows(`SELECT count(*) - count(x) AS m FROM (SELECT ${p.expr} AS x FROM ${T})`))[0];
    p.missing = num(miss.m);
  }
  if (p.kind === "categorical" || p.kind === "boolean" || p.kind === "id") {
    p.top = (await queryRows(
      `SELECT CAST(x AS VARCHAR) AS v, count(*) AS k FROM (SELECT ${p.kind === "boolean" ? ident(p.name) : p.expr} AS x FROM ${T}) WHERE x IS NOT NULL GROUP BY x ORDER BY k DESC, v LIMIT 5`,
    )).map((r) => ({ value: String(r.v), count: num(r.k) }));
  }
  if (p.kind === "datetime" && !p.range) {
    const r = (await queryRows(`SELECT CAST(make_timestamp(CAST(min(x) * 1000 AS BIGINT)) AS VARCHAR) AS lo, CAST(make_timestamp(CAST(max(x) * 1000 AS BIGINT)) AS VARCHAR) AS hi FROM (SELECT ${p.expr} AS x FROM ${T})`))[0];
    p.range = { min: String(r.lo), max: String(r.hi) };
  }
  // Hints.
  if (p.missing === n) p.hints.push("every value is missing");
  else if (p.missing > 0) p.hints.push(`${p.missing} missing (${pct(p.missing / n)})`);
  if (p.distinct === 1 && p.missing < n) p.hints.push("constant: one value only, useless for segmentation");
  if (p.kind === "id") p.hints.push("id-like: used to name rows, not as a feature");
  let skew = p.numeric?.skewness ?? null;
  if (p.kind === "numeric" && p.numeric) {
    const from = `(SELECT ${p.expr} AS x FROM ${T})`;
    const bad = await implausibleValues(from, p.numeric, n - p.missing);
    if (bad.length) {
      p.implausible = bad;
      const rows = bad.reduce((a, b) => a + b.count, 0);
      const shown = bad.slice(0, 5).map((b) => (b.count > 1 ? `${b.value} ×${b.count}` : String(b.value))).join(", ") + (bad.length > 5 ? ", …" : "");
      p.hints.push(`${rows} ${rows === 1 ? "value looks" : "values look"} implausible (${shown}): check ${rows === 1 ? "it, or blank it" : "them, or blank them"}`);
      // A log does not mend values that are wrong: the skew that matters is the one without them.
      skew = await skewnessWithout(from, bad.map((b) => b.value));
    }
  }
  if (p.kind === "numeric" && skew !== null && Math.abs(skew) > 2) {
    p.hints.push(`heavily skewed (skewness ${skew.toFixed(1)}): consider a log or power transform`);
  }
  if (p.kind === "categorical" && p.distinct > 50) p.hints.push(`high cardinality (${p.distinct} values): left out of default features`);
  if (looksLikeOutcome(p)) {
    p.outcome = true;
    p.hints.push(`looks like an outcome: cluster without it and describe the segments by it with --profile ${p.name}`);
  } else if (p.kind === "numeric" && p.distinct >= 2 && p.distinct <= 20 && isCategoryName(p.name) && (await allWhole(T, p.expr))) {
    p.codedCategory = true;
    p.hints.push(`whole-number codes named like a category: if the numbers are labels, read them as categories with --type ${p.name}=categorical`);
  }
  return p;
}

/** Words that name an outcome (whole words of the name, any case): y, target, Response, Churn, Exited, is_fraud. */
const OUTCOME_WORDS = new Set([
  "target", "label", "response", "responded", "churn", "churned", "exited", "attrition", "attrited", "converted", "conversion",
  "default", "defaulted", "outcome", "fraud", "fraudulent", "survived", "subscribed", "purchased", "clicked",
]);

/** Named like an outcome, and a flag or a few values (a category or a small integer scale). */
function looksLikeOutcome(p: ColumnProfile): boolean {
  if (p.kind === "id" || p.kind === "datetime" || p.distinct < 2 || p.distinct > 10) return false;
  const words = nameWords(p.name);
  // "y" and "class" only as the whole name: x/y coordinates and income classes are not outcomes.
  if (words.length === 1 && (words[0] === "y" || words[0] === "class")) return true;
  return words.some((w) => OUTCOME_WORDS.has(w));
}

/** Words that name a category, whose whole-number values are usually labels (Channel 1/2, Region 1..3). */
const CATEGORY_WORDS = new Set([
  "channel", "region", "segment", "type", "category", "group", "class", "code", "zone", "area", "sector", "tier", "status",
  "grade", "cluster", "department", "dept", "branch", "division", "district", "country", "state", "city", "province", "brand", "kind",
]);

function isCategoryName(name: string): boolean {
  return nameWords(name).some((w) => CATEGORY_WORDS.has(w));
}

async function allWhole(T: string, expr: string): Promise<boolean> {
  const r = (await queryRows(`SELECT count(x) FILTER (WHERE x <> round(x)) AS frac FROM (SELECT ${expr} AS x FROM ${T})`))[0];
  return num(r.frac) === 0;
}

/** A DOUBLE literal that reads back as exactly this number. */
function dbl(v: number): string {
  return `CAST('${v}' AS DOUBLE)`;
}

/**
 * Values of a numeric column that look like errors rather than data, with their counts:
 * - sentinel codes: the column's largest value made of 9s (99, 999, 9999, also negative) or a
 *   smallest value of −1 below values that are otherwise never negative, repeated, and far
 *   from the other values (pdays = 999 for "never contacted");
 * - values far beyond the next one: beyond the 1.5 × IQR fences (on the log scale for the
 *   upper side of a positive, right-skewed column) and more than twice as far from the median
 *   as the next value inward (a birth year of 1893 below 1940…1996, an income of 666666 above
 *   162397), in at most 1% of the rows (a long tail of real values is not flagged).
 */
async function implausibleValues(from: string, s: NonNullable<ColumnProfile["numeric"]>, present: number): Promise<{ value: number; count: number }[]> {
  const out: { value: number; count: number }[] = [];
  if (present < 20 || s.q1 === undefined || s.q3 === undefined || !Number.isFinite(s.q1) || !Number.isFinite(s.q3)) return out;
  // Sentinels.
  const nines = (v: number) => Number.isInteger(v) && /^-?9{2,}$/.test(String(v));
  for (const v of new Set([s.max, s.min])) {
    if (!(nines(v) || (v === -1 && v === s.min))) continue;
    const r = (await queryRows(
      `SELECT count(*) FILTER (WHERE x = ${dbl(v)}) AS k, count(DISTINCT x) FILTER (WHERE x <> ${dbl(v)}) AS rd, min(x) FILTER (WHERE x <> ${dbl(v)}) AS rmn, ` +
        `quantile_cont(x, 0.25) FILTER (WHERE x <> ${dbl(v)}) AS r1, quantile_cont(x, 0.75) FILTER (WHERE x <> ${dbl(v)}) AS r3 FROM ${from} WHERE x IS NOT NULL`,
    ))[0];
    const k = num(r.k);
    if (k < 2 || num(r.rd) < 3) continue;
    const spread = Math.max(num(r.r3) - num(r.r1), 1);
    const far = v === -1 ? num(r.rmn) >= 0 : v > 0 ? v > num(r.r3) + 3 * spread : v < num(r.r1) - 3 * spread;
    if (far) out.push({ value: v, count: k });
  }
  if (out.length) return out;
  // Values far beyond the next one.
  const iqr = s.q3 - s.q1;
  if (!(iqr > 0)) return out;
  const limit = Math.max(3, Math.floor(0.01 * present));
  const logUp = s.min > 0 && s.q1 > 0 && (s.q3 + s.q1 - 2 * s.median) / iqr > 0.2;
  const t = logUp ? Math.log : (v: number) => v;
  const hi = logUp ? Math.exp(Math.log(s.q3) + 1.5 * (Math.log(s.q3) - Math.log(s.q1))) : s.q3 + 1.5 * iqr;
  const lo = s.q1 - 1.5 * iqr;
  for (const side of ["up", "down"] as const) {
    if (side === "up" ? !(s.max > hi) : !(s.min < lo)) continue;
    const beyond = side === "up" ? `x > ${dbl(hi)}` : `x < ${dbl(lo)}`;
    // The outermost distinct values, outside in, and the nearest value inside the fence.
    const vals = (await queryRows(
      `SELECT x AS v, count(*) AS k FROM ${from} WHERE ${beyond} GROUP BY x ORDER BY x ${side === "up" ? "DESC" : "ASC"} LIMIT 50`,
    )).map((r) => ({ value: num(r.v), count: num(r.k) }));
    const inner = num((await queryRows(`SELECT ${side === "up" ? "max" : "min"}(x) AS v FROM ${from} WHERE x IS NOT NULL AND NOT (${beyond})`))[0].v);
    const complete = vals.length < 50;
    const mid = side === "up" ? t(s.median) : s.median;
    const dist = (v: number) => Math.abs((side === "up" ? t(v) : v) - mid);
    // The innermost value that is more than twice as far from the median as its inward neighbour, within the limit.
    let rows = 0;
    let cut = -1;
    for (let i = 0; i < vals.length; i++) {
      rows += vals[i].count;
      if (rows > limit) break;
      const next = i + 1 < vals.length ? vals[i + 1].value : complete ? inner : NaN;
      if (Number.isFinite(next) && dist(vals[i].value) > 2 * dist(next)) cut = i;
    }
    for (let i = 0; i <= cut; i++) out.push(vals[i]);
  }
  return out.sort((a, b) => a.value - b.value);
}

async function skewnessWithout(from: string, values: number[]): Promise<number | null> {
  const keep = `x IS NOT NULL AND x NOT IN (${values.map(dbl).join(", ")})`;
  const k = await scaleOf(`(SELECT x FROM ${from} WHERE ${keep})`, "x");
  const r = (await queryRows(`SELECT skewness(x * pow(2.0, ${-k})) AS skew FROM ${from} WHERE ${keep}`))[0];
  return r.skew === null || !Number.isFinite(num(r.skew)) ? null : num(r.skew);
}

/**
 * A number as text, for ids and categories: whole numbers as their digits ("17850" for
 * 17850.0 or 17850.00, every digit of a BIGINT), other values as DuckDB writes them.
 */
function numberAsText(c: string, duckType: string): string {
  if (!/^(FLOAT|DOUBLE|DECIMAL.*)$/.test(duckType)) return `CAST(${c} AS VARCHAR)`;
  return `CASE WHEN ${c} = round(${c}) THEN COALESCE(CAST(TRY_CAST(${c} AS HUGEINT) AS VARCHAR), CAST(${c} AS VARCHAR)) ELSE CAST(${c} AS VARCHAR) END`;
}

/** The finite value of a DOUBLE expression, NULL for NaN and ±Infinity. */
function finiteExpr(d: string): string {
  return `CASE WHEN isnan(${d}) OR isinf(${d}) THEN NULL ELSE ${d} END`;
}

/**
 * The exponent k of a power of two near the largest |x| (0 for an empty or all-zero column). Sums of squares
 * and cubes of x / scale cannot overflow, and dividing by a power of two is exact, so the
 * statistics of values near ±1.8e308 are those of the values as they are.
 */
async function scaleOf(from: string, x: string): Promise<number> {
  const m = num((await queryRows(`SELECT max(abs(${x})) AS m FROM ${from}`))[0].m);
  return m > 0 && Number.isFinite(m) ? Math.min(1000, Math.max(-1000, Math.floor(Math.log2(m)))) : 0;
}

/** The aggregates of a numeric column's finite values x, the moments on x / 2^k (see scaleOf). */
function statsSql(x: string, k: number): string {
  const y = `(${x} * pow(2.0, ${-k}))`;
  return `count(DISTINCT ${x}) AS distinct, min(${x}) AS mn, max(${x}) AS mx, avg(${y}) AS mean, quantile_cont(${y}, [0.25, 0.5, 0.75]) AS q, stddev_samp(${y}) AS sd, skewness(${y}) AS skew`;
}

function statsFrom(r: Record<string, unknown>, k: number): NonNullable<ColumnProfile["numeric"]> {
  const up = (v: unknown) => num(v) * 2 ** k;
  const skew = r.skew === null || r.skew === undefined || !Number.isFinite(num(r.skew)) ? null : num(r.skew);
  const q = Array.isArray(r.q) ? r.q.map(up) : [NaN, NaN, NaN];
  return { min: num(r.mn), max: num(r.mx), mean: up(r.mean), median: q[1], std: up(r.sd), skewness: skew, q1: q[0], q3: q[2] };
}

function nonFiniteHint(hints: string[], count: number): void {
  if (count > 0) hints.push(`${count} ${count === 1 ? "value is" : "values are"} NaN or infinite: read as missing`);
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
}
