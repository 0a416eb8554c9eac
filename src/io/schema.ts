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
  /** Values of a numeric column that are NaN or infinite (read as missing); absent when none. */
  nonFinite?: number;
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
  // Every column is profiled at once: their aggregates are computed together (see Aggregates).
  const batch = new Aggregates(t.table);
  const columns = await Promise.all(t.columns.map((c) => profileColumn(t, batch, c.name, c.duckType, overrides[c.name])));
  return { file: t.file, format: t.format, details: t.details, rows: t.rows, columns };
}

/**
 * Aggregates of many columns computed in one query. A column's profile asks for aggregates of
 * an expression over the table (`of`), written over `x` (the expression's value), `r` (the
 * rowid) and named numeric parameters; the requests of all the columns being profiled are
 * collected until every profile waits. Requests for the same aggregates (the same SQL up to
 * the parameters) of expressions of the same type are then run together: the expressions are
 * stacked into one (i, r, x) table in one scan, one request's rows per i, and aggregated
 * GROUP BY i (rows in table order within each i, as when run alone). So a wide table costs a
 * few queries per step of the profile, not a few per column, and each value is that of the
 * request's aggregates run alone.
 */
class Aggregates {
  private pending: Request[] = [];
  private scheduled = false;

  constructor(private readonly table: string) {}

  /** Aggregates `aggs(x, r, p)` (name → SQL; p(name) is a parameter's value) of `expr`: one row, by name. */
  of(expr: string, aggs: AggregatesSql, params: Record<string, number> = {}): Promise<Record<string, unknown>> {
    return new Promise((done, fail) => {
      this.pending.push({ expr, aggs: aggs("x", "r", (k) => ident(`p_${k}`)), params, done, fail });
      if (!this.scheduled) {
        this.scheduled = true;
        // After the profiles that can go on have asked for their next aggregates.
        setImmediate(() => void this.flush());
      }
    });
  }

  /** A column's requests: aggregates of its expression. */
  column(expr: string): ColumnQuery {
    return (aggs, params) => this.of(expr, aggs, params);
  }

  /**
   * The rows of requests of one type and the same parameters, stacked: for each row of the
   * table and each request, the request's index i, the rowid r, the value x and the parameters.
   */
  private rows(part: Request[]): string {
    const list = (items: string[]) => (part.length === 1 ? items[0] : `unnest([${items.join(", ")}])`);
    const params = Object.keys(part[0].params).map((k) => `, ${list(part.map((q) => dbl(q.params[k])))} AS ${ident(`p_${k}`)}`);
    return `SELECT ${list(part.map((_, i) => String(i)))} AS i, rowid AS r, ${list(part.map((q) => q.expr))} AS x${params.join("")} FROM ${this.table}`;
  }

  /** Runs the requests made so far, then (one query at a time) those made meanwhile. */
  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    try {
      const types = (await queryRows(`DESCRIBE SELECT ${all.map((q, i) => `${q.expr} AS x${i}`).join(", ")} FROM ${this.table}`)).map((r) => String(r.column_type));
      const groups = new Map<string, Request[]>();
      all.forEach((q, i) => {
        const key = JSON.stringify([types[i], Object.keys(q.params), q.aggs]);
        const group = groups.get(key);
        if (group) group.push(q);
        else groups.set(key, [q]);
      });
      for (const group of groups.values()) {
        for (let start = 0; start < group.length; start += BATCH_COLUMNS) await this.run(group.slice(start, start + BATCH_COLUMNS));
      }
    } catch {
      // An expression that does not bind: the requests fail alone.
      for (const q of all) await this.alone(q);
    }
    if (this.pending.length) setImmediate(() => void this.flush());
    else this.scheduled = false;
  }

  private async run(part: Request[]): Promise<void> {
    const aggs = Object.entries(part[0].aggs).map(([k, v]) => `${v} AS ${ident(k)}`);
    const keys = ["i", ...Object.keys(part[0].params).map((k) => ident(`p_${k}`))];
    let rows: Record<string, unknown>[];
    try {
      rows = await queryRows(`SELECT i, ${aggs.join(", ")} FROM (${this.rows(part)}) GROUP BY ${keys.join(", ")}`);
    } catch {
      // One request failed: run each alone, so that the failure is that request's.
      for (const q of part) await this.alone(q);
      return;
    }
    const byIndex = new Map(rows.map((r) => [Number(r.i), r]));
    for (let i = 0; i < part.length; i++) {
      const row = byIndex.get(i);
      // A table without rows has no groups: its aggregates are those of no rows.
      if (row) part[i].done(Object.fromEntries(Object.keys(part[i].aggs).map((k) => [k, row[k]])));
      else await this.alone(part[i]);
    }
  }

  private async alone(q: Request): Promise<void> {
    try {
      const aggs = Object.entries(q.aggs).map(([k, v]) => `${v} AS ${ident(k)}`);
      q.done((await queryRows(`SELECT ${aggs.join(", ")} FROM (${this.rows([q])})`))[0]);
    } catch (e) {
      q.fail(e);
    }
  }
}

/** Requests whose aggregates one query computes. */
const BATCH_COLUMNS = 250;

type AggregatesSql = (x: string, r: string, p: (name: string) => string) => Record<string, string>;

interface Request {
  expr: string;
  aggs: Record<string, string>;
  params: Record<string, number>;
  done: (row: Record<string, unknown>) => void;
  fail: (e: unknown) => void;
}

/** Aggregates of one column's expression: `x` names the expression, `r` the rowid, p(name) the parameter `name`. */
type ColumnQuery = (aggs: AggregatesSql, params?: Record<string, number>) => Promise<Record<string, unknown>>;

async function profileColumn(t: LoadedTable, batch: Aggregates, name: string, duckType: string, forced?: ColumnKind): Promise<ColumnProfile> {
  const c = ident(name);
  const q = batch.column(c);
  const hints: string[] = [];
  if (duckType === "VARCHAR") return profileText(t, batch, name, duckType, forced, hints);
  // UUIDs (read from JSON or Parquet) and enums are text with a type: profile their text form.
  if (duckType === "UUID" || duckType.startsWith("ENUM")) return profileText(t, batch, name, duckType, forced, hints);
  if (duckType === "BOOLEAN") {
    const r = await q((x) => ({ missing: `count(*) - count(${x})`, distinct: `count(DISTINCT ${x})` }));
    const kind = forced ?? "boolean";
    return finish(t, batch, {
      name, duckType, kind, reason: forced ? "set by --type" : "true/false values", missing: num(r.missing), distinct: num(r.distinct), hints,
      expr: kind === "categorical" || kind === "id" ? `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END` : `CASE WHEN ${c} THEN 1.0 WHEN NOT ${c} THEN 0.0 END`,
    });
  }
  if (TIME_TYPES.test(duckType)) {
    const r = await q((x) => ({ missing: `count(*) - count(${x})`, distinct: `count(DISTINCT ${x})`, lo: `CAST(min(${x}) AS VARCHAR)`, hi: `CAST(max(${x}) AS VARCHAR)` }));
    const kind = forced ?? "datetime";
    const expr = duckType.startsWith("TIME") && !duckType.startsWith("TIMESTAMP")
      ? `CAST(epoch(${c}) * 1000 AS DOUBLE)`
      : `CAST(epoch_ms(CAST(${c} AS TIMESTAMP)) AS DOUBLE)`;
    return finish(t, batch, {
      name, duckType, kind, reason: forced ? "set by --type" : `${duckType.toLowerCase()} values`, missing: num(r.missing), distinct: num(r.distinct),
      range: { min: String(r.lo), max: String(r.hi) }, hints,
      expr: kind === "categorical" || kind === "id" ? `CAST(${c} AS VARCHAR)` : expr,
    });
  }
  if (NUM_TYPES.test(duckType)) {
    // NaN, ±Infinity (and numbers beyond the range of a double, which readers turn into
    // ±Infinity) are missing values: every statistic is of the finite values only.
    const x = finiteExpr(`CAST(${c} AS DOUBLE)`);
    const fin = (v: string) => finiteExpr(`CAST(${v} AS DOUBLE)`);
    const s = await scaleOf(q, fin);
    const r = await q((v, _, p) => ({
      nulls: `count(*) - count(${v})`, nonfinite: `count(${v}) - count(${fin(v)})`, ...statsSql(fin(v), p),
      ints: `count(${fin(v)}) FILTER (WHERE ${fin(v)} = round(${fin(v)}))`,
      // YYYYMMDD dates are looked for only in a column named like a date (the parse costs
      // more than all the other statistics together).
      ymd: isDateName(name)
        ? `count(${v}) FILTER (WHERE ${fin(v)} BETWEEN 19000101 AND 21001231 AND try_strptime(CAST(TRY_CAST(${v} AS BIGINT) AS VARCHAR), '%Y%m%d') IS NOT NULL)`
        : "0",
    }), { k: s });
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
    if (kind === "numeric" && num(r.nonfinite) > 0) p.nonFinite = num(r.nonfinite);
    return finish(t, batch, p);
  }
  // Lists, structs and other nested values: their text form, as a category.
  const r = await q((x) => ({ missing: `count(*) - count(${x})`, distinct: `count(DISTINCT CAST(${x} AS VARCHAR))` }));
  return finish(t, batch, {
    name, duckType, kind: forced ?? "categorical", reason: forced ? "set by --type" : `nested ${duckType} values, read as text`, missing: num(r.missing), distinct: num(r.distinct), hints,
    expr: `CAST(${c} AS VARCHAR)`,
  });
}

function isDateName(name: string): boolean {
  return /date|day|time|dt$/i.test(name);
}

async function profileText(t: LoadedTable, batch: Aggregates, name: string, duckType: string, forced: ColumnKind | undefined, hints: string[]): Promise<ColumnProfile> {
  const c = duckType === "VARCHAR" ? ident(name) : `CAST(${ident(name)} AS VARCHAR)`;
  const q = batch.column(c);
  const v = `NULLIF(trim(${c}), '')`;
  /** The trimmed value of the text x, NULL when blank. */
  const val = (x: string) => `NULLIF(trim(${x}), '')`;
  const r = await q((x) => {
    const v = val(x);
    return {
      present: `count(${v})`, distinct: `count(DISTINCT ${v})`,
      nums: `count(${v}) FILTER (WHERE TRY_CAST(${v} AS DOUBLE) IS NOT NULL)`,
      nonfinite: `count(${v}) FILTER (WHERE isnan(TRY_CAST(${v} AS DOUBLE)) OR isinf(TRY_CAST(${v} AS DOUBLE)))`,
      textDistinct: `count(DISTINCT ${v}) FILTER (WHERE TRY_CAST(${v} AS DOUBLE) IS NULL)`,
      zeros: `count(${v}) FILTER (WHERE regexp_matches(${v}, '^[+-]?0[0-9]'))`,
      ymd: `count(${v}) FILTER (WHERE regexp_matches(${v}, '^[0-9]{8}$') AND try_strptime(${v}, '%Y%m%d') IS NOT NULL)`,
      times: `count(${v}) FILTER (WHERE TRY_CAST(${v} AS TIMESTAMP) IS NOT NULL AND regexp_matches(${v}, '[-/:]'))`,
      bools: `count(${v}) FILTER (WHERE lower(${v}) IN ('yes','y','true','t','no','n','false','f'))`,
      zeroOnes: `count(${v}) FILTER (WHERE ${v} IN ('0','1'))`,
      blanks: `count(*) FILTER (WHERE ${x} IS NOT NULL AND trim(${x}) = '')`,
    };
  });
  const present = num(r.present);
  const missing = t.rows - present;
  const distinct = num(r.distinct);
  const nums = num(r.nums);
  const blankCount = num(r.blanks);
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
    // The first text value, by rowid.
    const bad = await q((x, row) => {
      const text = `${val(x)} IS NOT NULL AND TRY_CAST(${val(x)} AS DOUBLE) IS NULL`;
      return { r: `min(${row}) FILTER (WHERE ${text})`, v: `arg_min(${x}, ${row}) FILTER (WHERE ${text})` };
    });
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
  const nonFinite = kind === "numeric" && num(r.nonfinite) > 0 ? num(r.nonfinite) : undefined;
  return finish(t, batch, { name, duckType, kind, reason, missing, distinct, textValues, hints, expr, ...(nonFinite ? { nonFinite } : {}) });
}

/** Adds the statistics and hints that depend on the final kind. */
async function finish(t: LoadedTable, batch: Aggregates, p: ColumnProfile): Promise<ColumnProfile> {
  const n = t.rows;
  const q = batch.column(p.expr);
  // Statistics of the stored numbers mean nothing once a column is read as a category, an id, a flag or a date.
  if (p.kind !== "numeric") delete p.numeric;
  if (p.kind === "numeric" && !p.numeric) {
    const s = await scaleOf(q);
    const r = await q((x, _, p) => statsSql(x, p), { k: s });
    p.numeric = statsFrom(r, s);
    // Distinct numbers, not distinct spellings ("1.0" and "1" are one value; text values are missing).
    p.distinct = num(r.distinct);
  }
  if (p.kind === "numeric") p.missing = num((await q((x) => ({ m: `count(*) - count(${x})` }))).m);
  if (p.kind === "categorical" || p.kind === "boolean" || p.kind === "id") {
    // The 5 most frequent values, the most frequent first, then by their text.
    const top = await batch.column(p.kind === "boolean" ? ident(p.name) : p.expr)((x) => ({
      top: `list_sort(list_transform(map_entries(histogram(${x})), e -> {k: -CAST(e.value AS BIGINT), v: CAST(e.key AS VARCHAR)}))[1:5]`,
    }));
    p.top = ((top.top ?? []) as { k: unknown; v: unknown }[]).map((e) => ({ value: String(e.v), count: -num(e.k) }));
  }
  if (p.kind === "datetime" && !p.range) {
    const r = await q((x) => ({ lo: `CAST(make_timestamp(CAST(min(${x}) * 1000 AS BIGINT)) AS VARCHAR)`, hi: `CAST(make_timestamp(CAST(max(${x}) * 1000 AS BIGINT)) AS VARCHAR)` }));
    p.range = { min: String(r.lo), max: String(r.hi) };
  }
  // Hints.
  if (p.missing === n) p.hints.push("every value is missing");
  else if (p.missing > 0) p.hints.push(`${p.missing} missing (${pct(p.missing / n)})`);
  if (p.distinct === 1 && p.missing < n) p.hints.push("constant: one value only, useless for segmentation");
  if (p.kind === "id") p.hints.push("id-like: used to name rows, not as a feature");
  let skew = p.numeric?.skewness ?? null;
  if (p.kind === "numeric" && p.numeric) {
    const bad = await implausibleValues(q, p.numeric, n - p.missing);
    if (bad.length) {
      p.implausible = bad;
      const rows = bad.reduce((a, b) => a + b.count, 0);
      const shown = bad.slice(0, 5).map((b) => (b.count > 1 ? `${b.value} ×${b.count}` : String(b.value))).join(", ") + (bad.length > 5 ? ", …" : "");
      p.hints.push(`${rows} ${rows === 1 ? "value looks" : "values look"} implausible (${shown}): check ${rows === 1 ? "it, or blank it" : "them, or blank them"}`);
      // A log does not mend values that are wrong: the skew that matters is the one without them.
      skew = await skewnessWithout(q, bad.map((b) => b.value));
    }
  }
  if (p.kind === "numeric" && skew !== null && Math.abs(skew) > 2) {
    p.hints.push(`heavily skewed (skewness ${skew.toFixed(1)}): consider a log or power transform`);
  }
  if (p.kind === "categorical" && p.distinct > 50) p.hints.push(`high cardinality (${p.distinct} values): left out of default features`);
  if (looksLikeOutcome(p)) {
    p.outcome = true;
    p.hints.push(`looks like an outcome: cluster without it and describe the segments by it with --profile ${p.name}`);
  } else if (p.kind === "numeric" && p.distinct >= 2 && p.distinct <= 20 && isCategoryName(p.name) && (await allWhole(q))) {
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

async function allWhole(q: ColumnQuery): Promise<boolean> {
  const r = await q((x) => ({ frac: `count(${x}) FILTER (WHERE ${x} <> round(${x}))` }));
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
async function implausibleValues(q: ColumnQuery, s: NonNullable<ColumnProfile["numeric"]>, present: number): Promise<{ value: number; count: number }[]> {
  const out: { value: number; count: number }[] = [];
  if (present < 20 || s.q1 === undefined || s.q3 === undefined || !Number.isFinite(s.q1) || !Number.isFinite(s.q3)) return out;
  // Sentinels.
  const nines = (v: number) => Number.isInteger(v) && /^-?9{2,}$/.test(String(v));
  for (const v of new Set([s.max, s.min])) {
    if (!(nines(v) || (v === -1 && v === s.min))) continue;
    const r = await q((x, _, p) => {
      const rest = `FILTER (WHERE ${x} <> ${p("v")})`;
      return {
        k: `count(*) FILTER (WHERE ${x} = ${p("v")})`, rd: `count(DISTINCT ${x}) ${rest}`, rmn: `min(${x}) ${rest}`,
        r1: `quantile_cont(${x}, 0.25) ${rest}`, r3: `quantile_cont(${x}, 0.75) ${rest}`,
      };
    }, { v });
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
    // The outermost distinct values (at most 50), outside in, and the nearest value inside the fence.
    const r = await q((x, _, p) => {
      const beyond = side === "up" ? `${x} > ${p("fence")}` : `${x} < ${p("fence")}`;
      return {
        vals: `list_sort(list_transform(map_entries(histogram(${x}) FILTER (WHERE ${beyond})), e -> {v: e.key, k: e.value}), '${side === "up" ? "DESC" : "ASC"}')[1:50]`,
        inner: `${side === "up" ? "max" : "min"}(${x}) FILTER (WHERE ${x} IS NOT NULL AND NOT (${beyond}))`,
      };
    }, { fence: side === "up" ? hi : lo });
    const vals = ((r.vals ?? []) as { v: unknown; k: unknown }[]).map((e) => ({ value: num(e.v), count: num(e.k) }));
    const inner = num(r.inner);
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

async function skewnessWithout(q: ColumnQuery, values: number[]): Promise<number | null> {
  const keep = (x: string) => `${x} IS NOT NULL AND ${x} NOT IN (${values.map(dbl).join(", ")})`;
  const k = await scaleOf(q, (x) => x, keep);
  const r = await q((x, _, p) => ({ skew: `skewness(${x} * pow(2.0, -${p("k")})) FILTER (WHERE ${keep(x)})` }), { k });
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
async function scaleOf(q: ColumnQuery, value = (x: string) => x, where?: (x: string) => string): Promise<number> {
  const m = num((await q((x) => ({ m: `max(abs(${value(x)}))${where ? ` FILTER (WHERE ${where(x)})` : ""}` }))).m);
  return m > 0 && Number.isFinite(m) ? Math.min(1000, Math.max(-1000, Math.floor(Math.log2(m)))) : 0;
}

/** The aggregates of a numeric column's finite values x, the moments on x / 2^k (see scaleOf; k is the parameter "k"). */
function statsSql(x: string, p: (name: string) => string): Record<string, string> {
  const y = `(${x} * pow(2.0, -${p("k")}))`;
  return {
    distinct: `count(DISTINCT ${x})`, mn: `min(${x})`, mx: `max(${x})`, mean: `avg(${y})`, q: `quantile_cont(${y}, [0.25, 0.5, 0.75])`,
    sd: `stddev_samp(${y})`, skew: `skewness(${y})`,
  };
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

/** A column's profile as `segmenta inspect --json` prints it (and the server's dataset routes return it). */
export function columnProfileJson(c: ColumnProfile) {
  return {
    name: c.name, kind: c.kind, storedAs: c.duckType, reason: c.reason, missing: c.missing, distinct: c.distinct,
    ...(c.numeric ? { numeric: c.numeric } : {}), ...(c.range ? { range: c.range } : {}), ...(c.top ? { top: c.top } : {}),
    ...(c.textValues ? { textValues: c.textValues } : {}), hints: c.hints,
    ...(c.outcome ? { outcome: true } : {}), ...(c.codedCategory ? { codedCategory: true } : {}), ...(c.implausible ? { implausible: c.implausible } : {}),
  };
}
