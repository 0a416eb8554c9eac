/**
 * The fitted preprocessing of a table: per numeric column, imputation then standard scaling;
 * per categorical column, imputation then one-hot encoding. Fitted once, serialised into the
 * model file, and applied identically at predict time.
 */
import { type Column, type Dataset, isNumericKind } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { allocF64, getParallelExecutor, sharedMemoryAvailable } from "../core/parallel.js";

export interface PreprocessOptions {
  numericImpute?: "median" | "mean";
  scale?: "standard" | "none";
  /** Numeric columns to compress with the signed log, sign(x)·ln(1 + |x|), after imputation. */
  log1p?: string[];
}

export interface NumericStep {
  name: string;
  kind: "numeric" | "boolean" | "datetime";
  impute: number;
  /** Signed log1p applied after imputation. */
  log?: boolean;
  mean: number;
  scale: number;
}

export interface CategoricalStep {
  name: string;
  kind: "categorical";
  impute: string;
  categories: string[];
}

export interface PipelineJSON {
  type: "Pipeline";
  version: 1;
  options: Required<PreprocessOptions>;
  numeric: NumericStep[];
  categorical: CategoricalStep[];
}

export interface TransformReport {
  /** Rows whose value was missing and imputed, per column. */
  imputed: Record<string, number>;
  /** Values of categorical columns never seen in training, per column (encoded as all zeros). */
  unseen: Record<string, { count: number; examples: string[] }>;
}

/** Median of the finite values, as numpy (mean of the two middle values). */
function median(values: Float64Array): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort();
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Most frequent value; ties go to the smallest value in sort order (as scikit-learn's SimpleImputer). */
function mostFrequent(values: (string | null)[]): string | null {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && best !== null && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

export class FittedPipeline {
  constructor(
    readonly options: Required<PreprocessOptions>,
    readonly numeric: NumericStep[],
    readonly categorical: CategoricalStep[],
  ) {}

  /** Input columns, in the order they are used. */
  get inputColumns(): string[] {
    return [...this.numeric.map((s) => s.name), ...this.categorical.map((s) => s.name)];
  }

  /** Names of the output features, e.g. `tenure` or `Contract=Two year`. */
  get featureNames(): string[] {
    return [
      ...this.numeric.map((s) => s.name),
      ...this.categorical.flatMap((s) => s.categories.map((c) => `${s.name}=${c}`)),
    ];
  }

  /** Human-readable steps, one line each, for the CLI to print. */
  describe(): string[] {
    const lines: string[] = [];
    const imp = this.options.numericImpute;
    for (const s of this.numeric) {
      const log = s.log ? ", signed log1p" : "";
      const scale = this.options.scale === "standard" ? `, standardise (mean ${fmt(s.mean)}, sd ${fmt(s.scale)})` : "";
      lines.push(`${s.name} (${s.kind}): missing → ${imp} ${fmt(s.impute)}${log}${scale}`);
    }
    for (const s of this.categorical) {
      const cats = s.categories.length > 6 ? `${s.categories.slice(0, 6).join(", ")}, …` : s.categories.join(", ");
      lines.push(`${s.name} (categorical): missing → most frequent "${s.impute}", one-hot into ${s.categories.length} columns (${cats})`);
    }
    return lines;
  }

  /** Applies the fitted steps to a dataset that has (at least) the input columns. */
  transform(ds: Dataset, report?: TransformReport): Matrix {
    const n = ds.rows;
    const names = this.featureNames;
    const d = names.length;
    // In shared memory when workers will cluster it, so that they need no copy of it.
    const out = allocF64(n * d, getParallelExecutor() !== null && sharedMemoryAvailable());
    let j = 0;
    for (const s of this.numeric) {
      const col = requireColumn(ds, s.name);
      if (!isNumericKind(col.kind)) {
        throw new InputError(`${ds.source}: column "${s.name}" was ${s.kind} in training but is ${col.kind} here; make it ${s.kind}`);
      }
      const v = col.values as Float64Array;
      let imputed = 0;
      for (let i = 0; i < n; i++) {
        let x = v[i];
        if (Number.isNaN(x)) {
          x = s.impute;
          imputed++;
        }
        if (s.log) x = signedLog1p(x);
        out[i * d + j] = this.options.scale === "standard" ? (x - s.mean) / s.scale : x;
      }
      if (report && imputed) report.imputed[s.name] = imputed;
      j++;
    }
    for (const s of this.categorical) {
      const col = requireColumn(ds, s.name);
      const v = col.kind === "categorical" || col.kind === "id" ? (col.values as (string | null)[]) : null;
      const index = new Map(s.categories.map((c, t) => [c, t]));
      let imputed = 0;
      const unseen = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        let x = v ? v[i] : numericAsText(col, i);
        if (x === null) {
          x = s.impute;
          imputed++;
        }
        const t = index.get(x);
        if (t === undefined) unseen.set(x, (unseen.get(x) ?? 0) + 1);
        else out[i * d + j + t] = 1;
      }
      if (report && imputed) report.imputed[s.name] = imputed;
      if (report && unseen.size) {
        let count = 0;
        for (const c of unseen.values()) count += c;
        report.unseen[s.name] = { count, examples: [...unseen.keys()].slice(0, 3) };
      }
      j += s.categories.length;
    }
    return { data: out, rows: n, cols: d };
  }

  toJSON(): PipelineJSON {
    return { type: "Pipeline", version: 1, options: this.options, numeric: this.numeric, categorical: this.categorical };
  }

  static fromJSON(j: PipelineJSON): FittedPipeline {
    if (j?.type !== "Pipeline" || !Array.isArray(j.numeric) || !Array.isArray(j.categorical)) {
      throw new InputError("the model file has no valid preprocessing pipeline; fit the model again");
    }
    return new FittedPipeline(j.options, j.numeric, j.categorical);
  }
}

export function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

function numericAsText(col: Column, i: number): string | null {
  const x = (col.values as Float64Array)[i];
  return Number.isNaN(x) ? null : String(x);
}

function requireColumn(ds: Dataset, name: string): Column {
  const col = ds.columns.find((c) => c.name === name);
  if (!col) {
    throw new InputError(
      `${ds.source} has no column "${name}", which the model needs; add it (it may be empty) or fit a model without it`,
    );
  }
  return col;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

/** Fits the preprocessing on the given feature columns of a dataset. */
export function fitPipeline(ds: Dataset, features: string[], options: PreprocessOptions = {}): FittedPipeline {
  const opts: Required<PreprocessOptions> = {
    numericImpute: options.numericImpute ?? "median", scale: options.scale ?? "standard", log1p: options.log1p ?? [],
  };
  for (const name of opts.log1p) {
    const col = requireColumn(ds, name);
    if (!isNumericKind(col.kind)) throw new InputError(`--log ${name}: the column is ${col.kind}, not numeric`);
    if (!features.includes(name)) throw new InputError(`--log ${name}: the column is not one of the features`);
  }
  const numeric: NumericStep[] = [];
  const categorical: CategoricalStep[] = [];
  for (const name of features) {
    const col = requireColumn(ds, name);
    if (isNumericKind(col.kind)) {
      const v = col.values as Float64Array;
      let sum = 0;
      let count = 0;
      for (let i = 0; i < v.length; i++) if (!Number.isNaN(v[i])) {
        sum += v[i];
        count++;
      }
      if (count === 0) {
        throw new InputError(`${ds.source}: column "${name}" has no values in any of its ${ds.rows} rows; leave it out with --features`);
      }
      const impute = opts.numericImpute === "median" ? median(v) : sum / count;
      const log = opts.log1p.includes(name);
      const at = (i: number): number => {
        const x = Number.isNaN(v[i]) ? impute : v[i];
        return log ? signedLog1p(x) : x;
      };
      let mean = 0;
      for (let i = 0; i < v.length; i++) mean += at(i);
      mean /= v.length;
      let ss = 0;
      for (let i = 0; i < v.length; i++) {
        const t = at(i) - mean;
        ss += t * t;
      }
      const sd = Math.sqrt(ss / v.length);
      const scale = sd < 10 * Number.EPSILON * Math.max(1, Math.abs(mean)) ? 1 : sd;
      numeric.push({ name, kind: col.kind, impute, ...(log ? { log } : {}), mean, scale });
    } else {
      const v = col.values as (string | null)[];
      const impute = mostFrequent(v);
      if (impute === null) {
        throw new InputError(`${ds.source}: column "${name}" has no values in any of its ${ds.rows} rows; leave it out with --features`);
      }
      const cats = [...new Set(v.filter((x): x is string => x !== null))].sort();
      categorical.push({ name, kind: "categorical", impute, categories: cats });
    }
  }
  return new FittedPipeline(opts, numeric, categorical);
}
