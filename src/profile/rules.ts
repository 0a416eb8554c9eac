/**
 * Rules that describe each segment: a shallow one-vs-rest surrogate tree per segment (CART,
 * tree.ts), turned into readable conditions with their coverage and precision, and exported
 * as SQL `WHERE` clauses so that a CRM can select the segment without the model.
 *
 * Training. For segment s, a Gini tree (default depth ≤ 3, min_samples_leaf
 * max(5, ⌈1 % of n⌉)) learns "in s" against every other row (other segments and noise).
 * Features: numeric, boolean and datetime columns as they are, with missing values imputed
 * by the column's median (0 when the column has no value); categorical columns one-hot as
 * binary features "column = value" for their `maxCategories` most frequent values (a missing
 * or rarer value is 0 in all of them). Medians and most frequent values are those of the
 * rows the trees are grown on (all rows up to maxTrainingRows, else the sample).
 *
 * Rules. Every leaf whose majority is the segment (more segment rows than others; a tie goes
 * to the rest, as scikit-learn's predict) becomes one rule: the conjunction of the tests on
 * its path, merged per feature — numeric bounds into one interval (`30.5 < frequency ≤ 60`),
 * one-hot tests into `Contract = 'Month-to-month'` or `Contract NOT IN ('One year', 'Two
 * year')`, booleans into `flag = TRUE/FALSE`. The segment's rule set is the OR of its rules.
 *
 * Missing values in rules. A condition on a feature never holds for a row where that feature
 * is missing — SQL's comparison semantics (NULL compares to unknown, and WHERE keeps only
 * true), applied identically when the rules are counted here. So the rules can select fewer
 * rows than the tree (which saw the imputed median), never rows the SQL would not.
 *
 * Counts. For each rule and for the rule set, on the data given: `matched` rows selected,
 * `truePositives` of them in the segment, coverage = recall = truePositives / segment size,
 * precision = truePositives / matched (null when nothing is selected).
 *
 * SQL. Identifiers are double-quoted with " doubled; strings single-quoted with ' doubled;
 * numbers are written as their shortest round-trip decimal when it has at most 15
 * significant digits (read exactly as a DECIMAL, and converted exactly to a DOUBLE), else in
 * exponent form (`2.0000000000000004e+0`, an approximate-numeric literal read as the same
 * DOUBLE); datetimes (epoch milliseconds in the Dataset) as `TIMESTAMP 'YYYY-MM-DD
 * HH:MM:SS.ffffff'` in UTC; booleans compared to TRUE / FALSE. `sqlExpressions` can replace a
 * column's identifier by any SQL expression giving the same values.
 *
 * SQL over the user's own table. A column read from a file carries the type the reader gave it
 * (`storedAs`, DuckDB's) and, when the reader had to rename it, its header in the file. The
 * SQL then reads each column as the reader did, so that it runs on the table as it is:
 * - numeric: numbers stored as numbers by name; stored as text (blanks made the reader choose
 *   VARCHAR) as `TRY_CAST(NULLIF(trim("c"), '') AS DOUBLE)`; a BOOLEAN as a DOUBLE.
 * - boolean: a BOOLEAN compared to TRUE / FALSE; 0/1 numbers as `"c" <> 0` / `"c" = 0`; text
 *   as its lower-cased, trimmed words (`lower(trim("c")) IN ('yes', 'y', 'true', 't', '1')`,
 *   the reader's words).
 * - categorical (and id): text trimmed as the reader trims it (`trim("c") = 'x'`, and
 *   `NULLIF(trim("c"), '') NOT IN (…)`, a blank being missing); categories read from numbers
 *   compared to the numbers (`"Region" = 3`); any other stored type through its text form.
 * - datetime: DATE and TIMESTAMP as they are (WITH TIME ZONE cast to TIMESTAMP, as the reader
 *   did); a TIME as the time of 1970-01-01; text parsed as a timestamp or as YYYYMMDD; YYYYMMDD
 *   numbers through `try_strptime`.
 * Text in DuckDB's JSON type (a JSON key whose values mix kinds) is read as its unquoted string.
 * A column without `storedAs` (a Dataset made in memory) keeps the plain form above. A renamed
 * column is named by its header when that header is usable; an empty header, or one that
 * repeats, is not: the rules then name the column as the reader did ("column4", "b_1"), say so
 * in their text and in a SQL comment, and `notes` explains it in plain words.
 */
import { type Column, type Dataset, getColumn } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { makeRandom } from "../core/random.js";
import { median } from "../core/stats.js";
import { type DecisionTree, fitDecisionTree, presortFeatures } from "./tree.js";

export interface RuleOptions {
  /** Columns the rules may use (original values): numeric, boolean, datetime, categorical. */
  features: string[];
  /** Depth of each surrogate tree (default 3). */
  maxDepth?: number;
  /**
   * Minimum rows in a leaf. Default, per segment: max(5, min(⌈0.01 · n⌉, ⌈size / 4⌉)) — 1 % of
   * the rows, lowered for small segments so that a leaf can still hold a majority of them.
   */
  minSamplesLeaf?: number;
  /** One-hot features per categorical column: its most frequent values (default 20). */
  maxCategories?: number;
  /** Segments to describe (default: every segment id ≥ 0 present in the labels). */
  segments?: number[];
  /** SQL expression to use for a column instead of its quoted name. */
  sqlExpressions?: Record<string, string>;
  /**
   * Rows the trees are grown on at most (default 50,000): above it, a random sample with
   * every segment in its share (seeded, so the same data gives the same rules). Coverage and
   * precision are always counted on all rows.
   */
  maxTrainingRows?: number;
}

export type Condition =
  | { feature: string; kind: "numeric" | "datetime"; /** value > lower */ lower: number | null; /** value ≤ upper */ upper: number | null }
  | { feature: string; kind: "boolean"; value: boolean }
  | { feature: string; kind: "categorical"; equals: string | null; notIn: string[] };

export interface Rule {
  conditions: Condition[];
  /** Readable form: `recency_days ≤ 30.5 AND frequency > 7.5`. */
  text: string;
  /** SQL boolean expression (the body of a WHERE clause). */
  sql: string;
  matched: number;
  truePositives: number;
  /** truePositives / segment size: the share of the segment the rule catches (recall). */
  coverage: number;
  precision: number | null;
}

export interface SegmentRules {
  segment: number;
  size: number;
  /** By decreasing truePositives (then precision). */
  rules: Rule[];
  /** The rules joined by OR ("(no rule)" when none). */
  text: string;
  /** WHERE clause body selecting the segment: the rules' SQL joined by OR; FALSE when none. */
  sql: string;
  matched: number;
  truePositives: number;
  precision: number | null;
  recall: number;
  /** The surrogate tree's own accuracy on the rows it was grown on (imputed values; the sample when there is one). */
  treeAccuracy: number;
  minSamplesLeaf: number;
  treeLeaves: number;
}

export interface RulesResult {
  n: number;
  /** Rows the trees were grown on: n, or a sample of maxTrainingRows (see RuleOptions). */
  trainingRows: number;
  maxDepth: number;
  /** The binary features the trees saw ("col" or "col = value"). */
  treeFeatures: string[];
  segments: SegmentRules[];
  /**
   * Remarks in plain words about the rules' SQL, one per column that needs one: a column the
   * reader renamed (an empty or repeated header), which the SQL names as the reader did.
   */
  notes: string[];
}

interface TreeFeature {
  column: string;
  kind: "numeric" | "boolean" | "datetime" | "categorical";
  /** For one-hot features: the category. */
  category?: string;
}

/** Rules for the segments of `labels` (one per row; −1 = noise, never a segment). */
export function segmentRules(data: Dataset, labels: Int32Array, options: RuleOptions): RulesResult {
  const n = data.rows;
  if (labels.length !== n) throw new InputError(`${data.source}: ${labels.length} labels for ${n} rows`);
  if (!options.features.length) throw new InputError("segmentRules: choose at least one feature");
  const maxDepth = options.maxDepth ?? 3;
  if (options.minSamplesLeaf !== undefined && !(Number.isInteger(options.minSamplesLeaf) && options.minSamplesLeaf >= 1)) {
    throw new InputError(`minSamplesLeaf must be a whole number ≥ 1, got ${options.minSamplesLeaf}`);
  }
  const maxCategories = options.maxCategories ?? 20;

  // The training matrix.
  const maxRows = options.maxTrainingRows ?? 50_000;
  if (!(Number.isInteger(maxRows) && maxRows >= 1)) throw new InputError(`maxTrainingRows must be a whole number ≥ 1, got ${maxRows}`);
  // The rows the trees are grown on (all, or a sample with each segment in its share); the
  // features below are built for those rows only.
  const rows = n > maxRows ? stratifiedSample(labels, maxRows) : null;
  const nt = rows ? rows.length : n;
  const feats: TreeFeature[] = [];
  const cols: Float64Array[] = [];
  for (const name of options.features) {
    const c = getColumn(data, name);
    if (!c) throw new InputError(`${data.source} has no column "${name}" for the rules; columns are: ${data.columns.map((x) => x.name).join(", ")}`);
    if (c.kind === "categorical" || c.kind === "id") {
      const values = c.values;
      const counts = new Map<string, number>();
      for (let t = 0; t < nt; t++) {
        const v = values[rows ? rows[t] : t];
        if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, maxCategories);
      for (const [cat] of top) {
        const x = new Float64Array(nt);
        for (let t = 0; t < nt; t++) x[t] = values[rows ? rows[t] : t] === cat ? 1 : 0;
        feats.push({ column: name, kind: "categorical", category: cat });
        cols.push(x);
      }
    } else {
      const values = c.values as Float64Array;
      const x = new Float64Array(nt);
      let m = 0;
      for (let t = 0; t < nt; t++) {
        const v = values[rows ? rows[t] : t];
        if (!Number.isNaN(v)) x[m++] = v;
      }
      const fillValue = m ? median(x.subarray(0, m)) : 0;
      for (let t = 0; t < nt; t++) {
        const v = values[rows ? rows[t] : t];
        x[t] = Number.isNaN(v) ? fillValue : v;
      }
      feats.push({ column: name, kind: c.kind });
      cols.push(x);
    }
  }
  const d = feats.length;
  const names = sqlNames(data);
  const X = new Float64Array(nt * d);
  for (let j = 0; j < d; j++) for (let t = 0; t < nt; t++) X[t * d + j] = cols[j][t];
  const presorted = nt > 0 && d > 0 ? presortFeatures(X, nt, d) : undefined;

  const ids = options.segments ?? [...new Set(labels)].filter((l) => l >= 0).sort((a, b) => a - b);
  const segments: SegmentRules[] = ids.map((s) => {
    let size = 0;
    for (let i = 0; i < n; i++) if (labels[i] === s) size++;
    const y = new Uint8Array(nt);
    let sizeT = 0;
    for (let t = 0; t < nt; t++) if (labels[rows ? rows[t] : t] === s) {
      y[t] = 1;
      sizeT++;
    }
    const minLeaf = options.minSamplesLeaf ?? Math.max(5, Math.min(Math.ceil(0.01 * nt), Math.ceil(sizeT / 4)));
    if (size === 0 || sizeT === 0 || d === 0) return emptyRules(s, size, nt, sizeT, minLeaf);
    const tree = fitDecisionTree(X, nt, d, y, { maxDepth, minSamplesLeaf: minLeaf, nClasses: 2, presorted });
    // Thresholds are made readable between the training rows' neighbouring values (rounder
    // numbers than between neighbours among millions of rows); each rule is counted on all
    // rows once, its selection added to the segment's union on the way.
    const union = new Uint8Array(n);
    const rules = treeRules(tree, feats, cols).map((conditions) => finishRule(data, conditions, labels, s, size, union, options.sqlExpressions, names));
    rules.sort((a, b) => b.truePositives - a.truePositives || (b.precision ?? 0) - (a.precision ?? 0));
    let matched = 0;
    let tp = 0;
    for (let i = 0; i < n; i++) if (union[i]) {
      matched++;
      if (labels[i] === s) tp++;
    }
    let correct = 0;
    for (const node of tree.nodes) if (node.feature < 0) correct += Math.max(node.value[0], node.value[1]);
    return {
      segment: s, size, rules,
      text: rules.length ? rules.map((r) => (rules.length > 1 && r.conditions.length > 1 ? `(${r.text})` : r.text)).join(" OR ") : "(no rule)",
      sql: rulesToSql(rules), matched, truePositives: tp, precision: matched ? tp / matched : null, recall: tp / size,
      treeAccuracy: correct / nt, minSamplesLeaf: minLeaf, treeLeaves: tree.nodes.filter((nd) => nd.feature < 0).length,
    };
  });
  const inRules = new Set(segments.flatMap((sg) => sg.rules.flatMap((r) => r.conditions.map((c) => c.feature))));
  const notes = options.features.filter((f) => inRules.has(f) && !options.sqlExpressions?.[f]).flatMap((f) => {
    const note = names.get(f)?.note;
    return note ? [note] : [];
  });
  return {
    n, trainingRows: nt, maxDepth,
    treeFeatures: feats.map((f) => (f.category === undefined ? f.column : `${f.column} = ${f.category}`)),
    segments, notes,
  };
}

/**
 * About `m` row indices (ascending), drawn without replacement with every label (segments
 * and noise) in its share of the rows: round(size × m / n) of each, at least one. Seeded.
 */
function stratifiedSample(labels: Int32Array, m: number): Int32Array {
  const n = labels.length;
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    let g = groups.get(labels[i]);
    if (!g) groups.set(labels[i], (g = []));
    g.push(i);
  }
  const rng = makeRandom(0);
  const picked: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(key)!;
    const take = Math.min(g.length, Math.max(1, Math.round((g.length * m) / n)));
    // The first `take` places of a partial Fisher–Yates shuffle.
    for (let t = 0; t < take; t++) {
      const r = t + rng.int(g.length - t);
      const v = g[r];
      g[r] = g[t];
      g[t] = v;
      picked.push(v);
    }
  }
  return Int32Array.from(picked).sort();
}

/** No rule: the "tree" is one leaf saying "not in the segment" (right for the trainN − trainSize others). */
function emptyRules(segment: number, size: number, trainN: number, trainSize: number, minSamplesLeaf: number): SegmentRules {
  return {
    segment, size, rules: [], text: "(no rule)", sql: "FALSE", matched: 0, truePositives: 0, precision: null, recall: 0,
    treeAccuracy: trainN ? (trainN - trainSize) / trainN : 0, minSamplesLeaf, treeLeaves: 1,
  };
}

/**
 * The merged conditions of the rules of a tree, in depth-first order: one per maximal subtree
 * whose leaves all predict class 1 (two sibling leaves that both predict the segment make one
 * rule on their parent, not two that differ by one test).
 */
function treeRules(tree: DecisionTree, feats: TreeFeature[], cols: Float64Array[]): Condition[][] {
  const all1 = new Map<number, boolean>();
  const allPositive = (k: number): boolean => {
    let v = all1.get(k);
    if (v === undefined) {
      const node = tree.nodes[k];
      v = node.feature < 0 ? node.value[1] > node.value[0] : allPositive(node.left) && allPositive(node.right);
      all1.set(k, v);
    }
    return v;
  };
  const out: Condition[][] = [];
  const path: { f: number; le: boolean; t: number }[] = [];
  const walk = (k: number): void => {
    const node = tree.nodes[k];
    if (allPositive(k)) {
      out.push(mergePath(path, feats));
      return;
    }
    if (node.feature < 0) return;
    const t = feats[node.feature].kind === "datetime" ? readableTime(cols[node.feature], node.threshold) : readableThreshold(cols[node.feature], node.threshold);
    path.push({ f: node.feature, le: true, t });
    walk(node.left);
    path[path.length - 1].le = false;
    walk(node.right);
    path.pop();
  };
  walk(0);
  return out;
}

/** For datetimes (epoch ms): the threshold rounded to a whole day, hour, minute, second or ms that splits `values` as it does. */
export function readableTime(values: Float64Array, threshold: number): number {
  const { lo, hi } = neighbours(values, threshold);
  for (const unit of [86_400_000, 3_600_000, 60_000, 1000, 1]) {
    const t = Math.round(threshold / unit) * unit;
    if (t > lo && t < hi) return t;
  }
  return threshold;
}

function neighbours(values: Float64Array, threshold: number): { lo: number; hi: number } {
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x <= threshold) {
      if (x > lo) lo = x;
    } else if (x < hi) hi = x;
  }
  return { lo, hi };
}

/**
 * The shortest decimal (fewest significant digits, rounded from the tree's threshold) that
 * splits `values` exactly as `threshold` does: strictly between the largest value ≤ threshold
 * and the smallest value above it. Rules show this one: 42.53 rather than 42.525000000000006.
 */
export function readableThreshold(values: Float64Array, threshold: number): number {
  const { lo, hi } = neighbours(values, threshold);
  for (let p = 1; p <= 17; p++) {
    const t = Number(threshold.toPrecision(p));
    if (t > lo && t < hi) return t;
  }
  return threshold;
}

function mergePath(path: { f: number; le: boolean; t: number }[], feats: TreeFeature[]): Condition[] {
  const byColumn = new Map<string, Condition>();
  for (const { f, le, t } of path) {
    const tf = feats[f];
    let c = byColumn.get(tf.column);
    if (tf.kind === "categorical") {
      if (!c) byColumn.set(tf.column, (c = { feature: tf.column, kind: "categorical", equals: null, notIn: [] }));
      if (c.kind !== "categorical") continue;
      if (le) c.notIn.push(tf.category!); // indicator ≤ 0.5: not this value
      else c.equals = tf.category!;
    } else if (tf.kind === "boolean" && t > 0 && t < 1) {
      byColumn.set(tf.column, { feature: tf.column, kind: "boolean", value: !le });
    } else {
      if (!c) byColumn.set(tf.column, (c = { feature: tf.column, kind: tf.kind === "datetime" ? "datetime" : "numeric", lower: null, upper: null }));
      if (c.kind !== "numeric" && c.kind !== "datetime") continue;
      if (le) c.upper = c.upper === null ? t : Math.min(c.upper, t);
      else c.lower = c.lower === null ? t : Math.max(c.lower, t);
    }
  }
  for (const c of byColumn.values()) if (c.kind === "categorical" && c.equals !== null) c.notIn = [];
  return [...byColumn.values()];
}

/** A rule with its counts on all rows; the rows it selects are also marked in `union`. */
function finishRule(
  data: Dataset, conditions: Condition[], labels: Int32Array, s: number, size: number, union: Uint8Array, exprs: Record<string, string> | undefined,
  names: Map<string, SqlName>,
): Rule {
  const sel = evaluateRules(data, [conditions]);
  let matched = 0;
  let tp = 0;
  for (let i = 0; i < sel.length; i++) if (sel[i]) {
    union[i] = 1;
    matched++;
    if (labels[i] === s) tp++;
  }
  return {
    conditions, text: conditionsText(conditions, names), sql: conditionsSql(conditions, exprs, data, names), matched, truePositives: tp,
    coverage: size ? tp / size : 0, precision: matched ? tp / matched : null,
  };
}

/**
 * Which rows satisfy any of the rules (each a conjunction of conditions), with SQL's
 * semantics for missing values: a condition on a missing value does not hold. 1 = selected.
 */
export function evaluateRules(data: Dataset, rules: Condition[][]): Uint8Array {
  const n = data.rows;
  const out = new Uint8Array(n);
  for (const conditions of rules) {
    const ok = new Uint8Array(n).fill(1);
    for (const c of conditions) {
      const col = getColumn(data, c.feature);
      if (!col) throw new InputError(`${data.source} has no column "${c.feature}"`);
      if (c.kind === "categorical") {
        if (col.kind !== "categorical" && col.kind !== "id") throw new InputError(`column "${c.feature}" is not categorical`);
        const notIn = new Set(c.notIn);
        for (let i = 0; i < n; i++) {
          const v = col.values[i];
          if (v === null || (c.equals !== null ? v !== c.equals : notIn.has(v))) ok[i] = 0;
        }
      } else {
        if (col.kind === "categorical" || col.kind === "id") throw new InputError(`column "${c.feature}" is not numeric`);
        const v = col.values as Float64Array;
        for (let i = 0; i < n; i++) {
          const x = v[i];
          let holds: boolean;
          if (Number.isNaN(x)) holds = false;
          else if (c.kind === "boolean") holds = c.value ? x !== 0 : x === 0;
          else holds = (c.lower === null || x > c.lower) && (c.upper === null || x <= c.upper);
          if (!holds) ok[i] = 0;
        }
      }
    }
    for (let i = 0; i < n; i++) out[i] |= ok[i];
  }
  return out;
}

/** A quoted SQL identifier: `"name"`, with " doubled. */
export function sqlIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A quoted SQL string literal: `'value'`, with ' doubled. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL numeric literal that reads back as exactly this double (see the module notes). */
export function sqlNumber(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`no SQL literal for ${x}`);
  const s = String(x);
  const m = /^-?(\d+)(?:\.(\d+))?$/.exec(s);
  if (m) {
    const digits = (m[1] + (m[2] ?? "")).replace(/^0+/, "");
    if (digits.length <= 15) return s;
  }
  return x.toExponential();
}

/** A TIMESTAMP literal (UTC) of epoch milliseconds, to the microsecond. */
export function sqlTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  const iso = new Date(whole).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(micros).padStart(3, "0")}'`;
}

/** DuckDB's numeric types (the reader's list). */
const NUMERIC_STORAGE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|REAL|DOUBLE|DECIMAL.*)$/;
const INTEGER_STORAGE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
/** The words the reader takes for true and false in a text column (with '1' and '0'). */
const TRUE_TEXT = ["yes", "y", "true", "t", "1"];
const FALSE_TEXT = ["no", "n", "false", "f", "0"];

/** How the rules name a column the reader renamed: in SQL, in their text, and why. */
export interface SqlName {
  /** The quoted identifier the SQL uses. */
  sql: string;
  /** The name the rules' text uses. */
  label: string;
  /** A SQL comment saying which column of the file this is (null when the header is used). */
  comment: string | null;
  /** The remark for RulesResult.notes. */
  note: string;
}

function ordinal(k: number): string {
  const tens = k % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : k % 10 === 1 ? "st" : k % 10 === 2 ? "nd" : k % 10 === 3 ? "rd" : "th";
  return `${k}${suffix}`;
}

/** A SQL block comment of this text (a comment's opening or closing inside it broken up). */
function sqlComment(text: string): string {
  return `/* ${text.replace(/\*\//g, "* /").replace(/\/\*/g, "/ *")} */`;
}

/**
 * How the rules write each column the reader renamed (those with a `header`): by that header
 * when it is usable — not blank, and no other column has it as name or header — else by the
 * reader's name, marked as renamed.
 */
export function sqlNames(data: Dataset): Map<string, SqlName> {
  const out = new Map<string, SqlName>();
  for (const col of data.columns) {
    const header = col.header;
    // A header padded with spaces is the reader's name trimmed, as DuckDB and most loaders take it.
    if (header === undefined || header.trim() === col.name) continue;
    const others = data.columns.filter((o) => o !== col);
    const exact = others.some((o) => o.name === header || o.header === header);
    // DuckDB's column names ignore case: "yn" and "YN" are the same name to it.
    const folded = others.some((o) => o.name.toLowerCase() === header.toLowerCase() || o.header?.toLowerCase() === header.toLowerCase());
    const escaped = header.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const dup = new RegExp(`^${escaped}_(\\d+)$`).exec(col.name);
    if (header.trim() !== "" && !dup && !folded) {
      out.set(col.name, {
        sql: sqlIdentifier(header), label: header, comment: null,
        note: `Column "${col.name}" is headed "${header}" in the file: the rules and their SQL name it "${header}".`,
      });
      continue;
    }
    let which: string;
    let fix: string;
    if (header.trim() === "") {
      const m = /^column(\d+)$/.exec(col.name);
      which = m ? `the file's ${ordinal(Number(m[1]) + 1)} column, whose header is empty` : "a column of the file whose header is empty";
      fix = "give that column a header in the file";
    } else {
      const where = dup ? `the ${ordinal(Number(dup[1]) + 1)} column` : "a column";
      which = `${where} headed "${header}" in the file${folded && !exact ? " (headers compared ignoring case)" : ""}`;
      fix = "give the columns different headers in the file";
    }
    out.set(col.name, {
      sql: sqlIdentifier(col.name), label: `${col.name} (${which})`,
      comment: sqlComment(`"${col.name}" is ${which}, renamed on reading`),
      note: `"${col.name}" is ${which}: it was renamed on reading, and the rules and their SQL name it "${col.name}", as DuckDB does when it reads the file; ${fix}, or name the column "${col.name}" in your table.`,
    });
  }
  return out;
}

/** Text the reader read as text: VARCHAR, or DuckDB's JSON type (a JSON key whose values mix kinds). */
function isText(st: string | undefined): boolean {
  return st === "VARCHAR" || st === "JSON";
}

/** A column's text as the reader took it: a JSON value's string unquoted, other types cast. */
function textOf(id: string, st: string | undefined): string {
  return st === "VARCHAR" ? id : st === "JSON" ? `json_extract_string(${id}, '$')` : `CAST(${id} AS VARCHAR)`;
}

/**
 * The SQL expression, over the user's own table, that gives a column's value as the reader
 * read it (see the module notes), with the literal writers that go with it. `id` is the
 * quoted column; `storedAs` undefined means a Dataset made in memory: the column as it is.
 */
function storedValue(id: string, kind: Condition["kind"], storedAs: string | undefined): string {
  const st = storedAs?.trim().toUpperCase();
  if (st === undefined) return id;
  const text = `NULLIF(trim(${textOf(id, st)}), '')`;
  if (kind === "numeric") {
    if (isText(st)) return `TRY_CAST(${text} AS DOUBLE)`;
    if (st === "BOOLEAN") return `CAST(${id} AS DOUBLE)`;
    // Dates and times read as numbers (by --type): epoch milliseconds, as the reader gives them.
    if (st.startsWith("TIME") && !st.startsWith("TIMESTAMP")) return `(epoch(${id}) * 1000)`;
    if (st === "DATE" || st.startsWith("TIMESTAMP")) return `epoch_ms(CAST(${id} AS TIMESTAMP))`;
    return id;
  }
  if (kind === "datetime") {
    if (isText(st)) return `COALESCE(TRY_CAST(${text} AS TIMESTAMP), try_strptime(${text}, '%Y%m%d'))`;
    if (INTEGER_STORAGE.test(st)) return `try_strptime(CAST(${id} AS VARCHAR), '%Y%m%d')`;
    if (NUMERIC_STORAGE.test(st)) return `try_strptime(CAST(TRY_CAST(${id} AS BIGINT) AS VARCHAR), '%Y%m%d')`;
    if (st.startsWith("TIMESTAMP WITH TIME ZONE") || st === "TIMESTAMPTZ") return `CAST(${id} AS TIMESTAMP)`;
    if (st.startsWith("TIME") && !st.startsWith("TIMESTAMP")) return `(DATE '1970-01-01' + ${id})`;
    return id;
  }
  return id;
}

function categoricalSql(c: Condition & { kind: "categorical" }, id: string, storedAs: string | undefined): string {
  const st = storedAs?.trim().toUpperCase();
  const values = c.equals !== null ? [c.equals] : c.notIn;
  let expr = id;
  let lit = sqlString;
  if (isText(st)) {
    // The reader trims text and takes a blank for missing; an equality needs only the trim.
    expr = c.equals !== null ? `trim(${textOf(id, st)})` : `NULLIF(trim(${textOf(id, st)}), '')`;
  } else if (st !== undefined && NUMERIC_STORAGE.test(st) && values.every((v) => /^-?\d+$/.test(v) || (Number.isFinite(Number(v)) && /\d/.test(v)))) {
    // Categories read from numbers: compared to the numbers.
    lit = (v: string): string => (/^-?\d+$/.test(v) ? v : sqlNumber(Number(v)));
  } else if (st !== undefined) {
    expr = `CAST(${id} AS VARCHAR)`;
  }
  if (c.equals !== null) return `${expr} = ${lit(c.equals)}`;
  if (c.notIn.length === 1) return `${expr} <> ${lit(c.notIn[0])}`;
  return `${expr} NOT IN (${c.notIn.map(lit).join(", ")})`;
}

function booleanSql(c: Condition & { kind: "boolean" }, id: string, storedAs: string | undefined): string {
  const st = storedAs?.trim().toUpperCase();
  if (isText(st)) return `lower(trim(${textOf(id, st)})) IN (${(c.value ? TRUE_TEXT : FALSE_TEXT).map(sqlString).join(", ")})`;
  if (st !== undefined && NUMERIC_STORAGE.test(st)) return `${id} ${c.value ? "<>" : "="} 0`;
  return `${id} = ${c.value ? "TRUE" : "FALSE"}`;
}

function conditionSql(c: Condition, exprs?: Record<string, string>, data?: Dataset, names?: Map<string, SqlName>): string {
  const given = exprs?.[c.feature];
  const col: Column | undefined = given === undefined && data ? getColumn(data, c.feature) : undefined;
  const id = given ?? names?.get(c.feature)?.sql ?? sqlIdentifier(c.feature);
  const storedAs = col?.storedAs;
  if (c.kind === "categorical") return categoricalSql(c, id, storedAs);
  if (c.kind === "boolean") return booleanSql(c, id, storedAs);
  const stored = storedValue(id, c.kind, storedAs);
  // NaN and infinities were read as missing; in SQL, NaN and +inf are above every number.
  const value = c.kind === "numeric" && col?.nonFinite ? `(CASE WHEN isfinite(${stored}) THEN ${stored} END)` : stored;
  const lit = c.kind === "datetime" ? sqlTimestamp : sqlNumber;
  const parts: string[] = [];
  if (c.lower !== null) parts.push(`${value} > ${lit(c.lower)}`);
  if (c.upper !== null) parts.push(`${value} <= ${lit(c.upper)}`);
  return parts.join(" AND ");
}

/**
 * The SQL of one rule: its conditions joined by AND (TRUE when it has none). Given the Dataset
 * the rule was made on, columns are read as stored in the user's table and renamed columns
 * are named and marked as the module notes say; `exprs` replaces a column by an expression.
 */
export function conditionsSql(conditions: Condition[], exprs?: Record<string, string>, data?: Dataset, names?: Map<string, SqlName>): string {
  const nm = names ?? (data ? sqlNames(data) : undefined);
  const parts = conditions.map((c) => conditionSql(c, exprs, data, nm)).filter((p) => p.length > 0);
  if (!parts.length) return "TRUE";
  const comments = [...new Set(conditions.flatMap((c) => {
    const comment = exprs?.[c.feature] === undefined ? nm?.get(c.feature)?.comment : null;
    return comment ? [comment] : [];
  }))];
  return [parts.join(" AND "), ...comments].join(" ");
}

/** The WHERE clause body of a rule set: each rule in parentheses, joined by OR; FALSE when empty. */
export function rulesToSql(rules: { sql: string }[]): string {
  if (!rules.length) return "FALSE";
  if (rules.length === 1) return rules[0].sql;
  return rules.map((r) => `(${r.sql})`).join(" OR ");
}

function textNumber(x: number): string {
  return String(Number(x.toPrecision(8)));
}

function textValue(c: Condition & { kind: "numeric" | "datetime" }, x: number): string {
  if (c.kind === "datetime") {
    const iso = new Date(x).toISOString();
    return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
  }
  return textNumber(x);
}

/**
 * Readable form of one condition: `frequency > 7.5`, `30.5 < recency_days ≤ 60`,
 * `Contract = 'Month-to-month'`; `label` names the column instead of its name.
 */
export function conditionText(c: Condition, label: string = c.feature): string {
  const q = (v: string): string => `'${v}'`;
  if (c.kind === "categorical") {
    if (c.equals !== null) return `${label} = ${q(c.equals)}`;
    if (c.notIn.length === 1) return `${label} ≠ ${q(c.notIn[0])}`;
    return `${label} not in (${c.notIn.map(q).join(", ")})`;
  }
  if (c.kind === "boolean") return `${label} is ${c.value ? "true" : "false"}`;
  if (c.lower !== null && c.upper !== null) return `${textValue(c, c.lower)} < ${label} ≤ ${textValue(c, c.upper)}`;
  if (c.lower !== null) return `${label} > ${textValue(c, c.lower)}`;
  if (c.upper !== null) return `${label} ≤ ${textValue(c, c.upper)}`;
  return `${label} any`;
}

/**
 * Readable form of a rule: its conditions joined by AND ("all customers" when it has none);
 * `names` (see sqlNames) names renamed columns by their header, or marks them as renamed.
 */
export function conditionsText(conditions: Condition[], names?: Map<string, SqlName>): string {
  return conditions.length ? conditions.map((c) => conditionText(c, names?.get(c.feature)?.label)).join(" AND ") : "all customers";
}
