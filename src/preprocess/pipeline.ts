/**
 * The fitted preprocessing of a table, built from the configuration's `preprocessing` and
 * made of the library's steps, in this order:
 *
 *   date columns         → time elapsed until a reference date (days; years for birth dates and
 *                          birth years), with preprocessing.dates "days-since"; then as numeric
 *   numeric columns      impute (SimpleImputer, optional missing indicators)
 *                        → outliers (OutlierHandler: clip, flag, or drop from the fit)
 *                        → signed log1p / power transform (PowerTransformer, λ by maximum likelihood)
 *   ordinal columns      impute (most frequent) → codes in the configured order
 *   numeric + ordinal    → scaling (standard, min-max, robust, max-abs or none)
 *   categorical columns  impute (most frequent or "missing") → one-hot (OneHotEncoder:
 *                        unknown categories ignored or rejected, rare ones grouped, drop first / if binary)
 *   all features         → variance filter → correlation filter → PCA
 *
 * Fitted once (on the rows that are not dropped as outliers), serialised into the model file,
 * and applied identically at predict time; rows a "drop" outlier rule catches are still
 * transformed, and `outlierMask` marks them.
 */
import { type Column, type Dataset, isNumericKind } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { type Matrix, matrixData, rowsWhere } from "../core/matrix.js";
import { allocF64, getParallelExecutor, sharedMemoryAvailable } from "../core/parallel.js";
import { OneHotEncoder, OneHotEncoderModel, type OneHotEncoderJSON } from "./encode.js";
import { CorrelationFilter, FeatureSelectionModel, VarianceThreshold, type FeatureSelectionJSON } from "./filters.js";
import { SimpleImputer, SimpleImputerModel, type SimpleImputerJSON } from "./impute.js";
import { OutlierHandler, OutlierModel, type OutlierAction, type OutlierJSON, type OutlierMethod } from "./outliers.js";
import { PCA, PCAModel, type PCAJSON } from "./pca.js";
import { PowerTransformer, PowerTransformerModel, type PowerMethod, type PowerTransformerJSON } from "./power.js";
import { StandardScaler, StandardScalerModel } from "./scaler.js";
import { AffineScalerModel, MaxAbsScaler, MinMaxScaler, RobustScaler } from "./scalers.js";

export type ScaleMethod = "standard" | "minmax" | "robust" | "maxabs" | "none";

export interface OutlierRule {
  method: OutlierMethod | "none";
  action?: OutlierAction;
  /** The rule's multiplier (IQR 1.5, z-score 3, MAD 3.5 by default). */
  k?: number;
  /** Numeric columns it looks at (default: every numeric, non-boolean feature). */
  columns?: string[];
}

export interface OneHotOptions {
  /** "ignore": an unseen category is encoded as no category of its column (and reported); "error": rejected. */
  handleUnknown?: "ignore" | "error";
  /** Categories rarer than this (a count, or a share of rows below 1) are grouped into `col=infrequent`; 0 or null: never. */
  minFrequency?: number | null;
  /** Drop the first output column of every categorical feature, or only of those with two columns (after grouping rare ones), as scikit-learn. */
  drop?: "first" | "if_binary" | null;
}

export interface PreprocessOptions {
  numericImpute?: "median" | "mean" | "most_frequent" | "constant";
  /** The value of numericImpute "constant". */
  fillValue?: number;
  categoricalImpute?: "most_frequent" | "constant";
  /** A 0/1 column `name_missing` for each numeric column that has missing values at fit. */
  missingIndicator?: boolean;
  scale?: ScaleMethod;
  /** Numeric columns compressed with the signed log, sign(x)·ln(1 + |x|), after imputation. */
  log1p?: string[];
  /** Numeric columns given a power transform (λ fitted by maximum likelihood). */
  power?: string[];
  powerMethod?: PowerMethod;
  outliers?: OutlierRule;
  oneHot?: OneHotOptions;
  /** Categorical columns encoded as ordered codes 0, 1, 2…: the categories in order (empty: sorted order). */
  ordinal?: Record<string, string[]>;
  /** Drop output features whose variance is not above this (null: keep all). */
  varianceThreshold?: number | null;
  /** Of two output features with |correlation| above this, drop the later (null: keep all). */
  correlationThreshold?: number | null;
  /** Project onto principal components: a number of components, or a share of variance in (0, 1). */
  pca?: { nComponents: number; whiten?: boolean } | null;
  /**
   * Date features. "days-since": each datetime feature becomes the days from it to `asOf`
   * (tenure, recency), in years for birth dates, and a numeric feature named as a birth year
   * becomes an age in years; the model keeps `asOf` so that predict measures from the same
   * day. "drop" or null: dates are used as they are (the feature choice leaves them out).
   */
  dates?: "drop" | "days-since" | null;
  /** The reference date of "days-since": YYYY-MM-DD (or epoch milliseconds); null: the start (UTC) of the day of the fit. */
  asOf?: string | number | null;
}

export type ResolvedPreprocessOptions = Required<PreprocessOptions>;

export const DEFAULT_PREPROCESS: ResolvedPreprocessOptions = {
  numericImpute: "median", fillValue: 0, categoricalImpute: "most_frequent", missingIndicator: false, scale: "standard",
  log1p: [], power: [], powerMethod: "yeo-johnson", outliers: { method: "none" }, oneHot: { handleUnknown: "ignore", minFrequency: null, drop: null },
  ordinal: {}, varianceThreshold: null, correlationThreshold: null, pca: null, dates: null, asOf: null,
};

const DAY_MS = 86_400_000;
const YEAR_MS = 365.2425 * DAY_MS;
/** Names of birth dates and birth years (DOB, date_of_birth, Year_Birth, birth_year, YOB…). */
const BIRTH = /birth|born|(^|[^a-z])dob([^a-z]|$)/i;
const BIRTH_YEAR = /((birth|born).*(year|yr))|((year|yr).*(birth|born))|(^|[^a-z])yob([^a-z]|$)/i;

/** A feature turned into elapsed time: a date in days (or years, for a birth date), or a birth year in years. */
export interface DateFeature {
  name: string;
  from: "date" | "year";
  unit: "days" | "years";
}

/** The reference date of "days-since" as epoch milliseconds (default: the start, UTC, of today). */
export function resolveAsOf(asOf: string | number | null | undefined, now = Date.now()): number {
  if (asOf === null || asOf === undefined || asOf === "") return Math.floor(now / DAY_MS) * DAY_MS;
  const ms = typeof asOf === "number" ? asOf : /^\d{4}-\d{2}-\d{2}$/.test(asOf.trim()) ? Date.parse(`${asOf.trim()}T00:00:00Z`) : Date.parse(asOf);
  if (!Number.isFinite(ms)) throw new InputError(`asOf "${asOf}" is not a date; write the reference date as YYYY-MM-DD`);
  return ms;
}

/** YYYY-MM-DD of an epoch-ms date (with the time when it is not midnight UTC). */
export function isoDay(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}

/**
 * The features that "days-since" turns into elapsed time: every datetime column (in years
 * when named as a birth date), and numeric columns named as a birth year whose values are
 * whole years between 1800 and the reference date's year.
 */
export function dateFeatures(ds: Dataset, features: string[], asOf: number): DateFeature[] {
  const out: DateFeature[] = [];
  const year = new Date(asOf).getUTCFullYear();
  for (const name of features) {
    const c = ds.columns.find((x) => x.name === name);
    if (!c) continue;
    if (c.kind === "datetime") out.push({ name, from: "date", unit: BIRTH.test(name) || BIRTH_YEAR.test(name) ? "years" : "days" });
    else if (c.kind === "numeric" && BIRTH_YEAR.test(name)) {
      let present = 0;
      let plausible = 0;
      for (const x of c.values as Float64Array) if (!Number.isNaN(x)) {
        present++;
        if (Number.isInteger(x) && x >= 1800 && x <= year) plausible++;
      }
      if (present > 0 && plausible === present) out.push({ name, from: "year", unit: "years" });
    }
  }
  return out;
}

/** Elapsed time from `x` (epoch ms, or a year) to `asOf`, in the feature's unit. */
export function elapsed(x: number, f: DateFeature, asOf: number): number {
  if (f.from === "year") return new Date(asOf).getUTCFullYear() - x;
  return (asOf - x) / (f.unit === "years" ? YEAR_MS : DAY_MS);
}

/** The "days-since" step: the reference date and the columns it converts. */
interface DatesStep {
  asOf: number;
  columns: DateFeature[];
}

interface CategoricalJSON {
  name: string;
  impute: string;
  encoder: OneHotEncoderJSON;
  /** Rows missing at fit (absent in older model files). */
  missing?: number;
}

interface OrdinalJSON {
  name: string;
  impute: string;
  categories: string[];
  /** Rows missing at fit (absent in older model files). */
  missing?: number;
}

export interface PipelineJSON {
  type: "Pipeline";
  version: 2;
  options: ResolvedPreprocessOptions;
  /** `missing`: rows missing per column at fit (absent in older model files). */
  numeric: { names: string[]; kinds: Column["kind"][]; imputer: SimpleImputerJSON | null; missing?: number[] };
  outliers: { columns: string[]; model: OutlierJSON } | null;
  power: { columns: string[]; model: PowerTransformerJSON } | null;
  ordinal: OrdinalJSON[];
  scaler: { type: string; center: number[]; scale: number[] } | null;
  categorical: CategoricalJSON[];
  selection: FeatureSelectionJSON[];
  pca: PCAJSON | null;
  /** Date features turned into elapsed time until `asOf` (ISO date); absent in older model files. */
  dates?: { asOf: string; columns: DateFeature[] } | null;
}

/** The model files of Segmenta 0.1 (impute, signed log, standard scaling, one-hot). */
interface PipelineJSONv1 {
  type: "Pipeline";
  version: 1;
  options: { numericImpute: "median" | "mean"; scale: "standard" | "none"; log1p: string[] };
  numeric: { name: string; kind: "numeric" | "boolean" | "datetime"; impute: number; log?: boolean; mean: number; scale: number }[];
  categorical: { name: string; impute: string; categories: string[] }[];
}

export interface TransformReport {
  /** Rows whose value was missing and imputed, per column. */
  imputed: Record<string, number>;
  /** Values of categorical columns never seen in training, per column (encoded as no category). */
  unseen: Record<string, { count: number; examples: string[] }>;
}

interface Steps {
  options: ResolvedPreprocessOptions;
  dates: DatesStep | null;
  numericNames: string[];
  numericKinds: Column["kind"][];
  /** Rows missing per numeric column at fit (null: not recorded, an older model file). */
  numericMissing: number[] | null;
  imputer: SimpleImputerModel | null;
  outliers: { columns: string[]; model: OutlierModel } | null;
  power: { columns: string[]; model: PowerTransformerModel } | null;
  ordinal: OrdinalJSON[];
  scaler: StandardScalerModel | AffineScalerModel | null;
  categorical: { name: string; impute: string; encoder: OneHotEncoderModel; missing?: number }[];
  selection: FeatureSelectionModel[];
  pca: PCAModel | null;
}

export class FittedPipeline {
  constructor(private readonly s: Steps) {}

  get options(): ResolvedPreprocessOptions {
    return this.s.options;
  }

  /** Input columns, in the order they are used. */
  get inputColumns(): string[] {
    return [...this.s.numericNames, ...this.s.ordinal.map((o) => o.name), ...this.s.categorical.map((c) => c.name)];
  }

  /** Names of the features before selection and PCA, e.g. `tenure`, `TotalCharges_missing`, `Contract=Two year`. */
  private get encodedNames(): string[] {
    const s = this.s;
    return [
      ...s.numericNames, ...s.ordinal.map((o) => o.name),
      ...(s.imputer ? s.imputer.indicatorFeatures.map((j) => `${s.numericNames[j]}_missing`) : []),
      ...(s.outliers?.model.action === "flag" ? ["outlier"] : []),
      ...s.categorical.flatMap((c) => c.encoder.getFeatureNamesOut([c.name])),
    ];
  }

  /** Names of the output features, e.g. `tenure` or `Contract=Two year` (`pca0`, `pca1`… after PCA, as scikit-learn). */
  get featureNames(): string[] {
    let names = this.encodedNames;
    for (const f of this.s.selection) names = f.getFeatureNamesOut(names);
    return this.s.pca ? this.s.pca.getFeatureNamesOut() : names;
  }

  /** The fitted PCA, when the pipeline ends with one. */
  get pca(): PCAModel | null {
    return this.s.pca;
  }

  /** Human-readable fitted steps, one line each, for the CLI to print. */
  describe(): string[] {
    const s = this.s;
    const o = s.options;
    const lines: string[] = [];
    const stats = s.imputer?.statistics ?? [];
    const powerCols = s.power?.columns ?? [];
    const scaler = s.scaler;
    // Columns with nothing missing at fit are summed up in one line rather than given an imputation each.
    const complete: string[] = [];
    const missingText = (name: string, m: number | undefined, fill: string): string | null => {
      if (m === undefined) return `missing → ${fill}`;
      if (m === 0) {
        complete.push(name);
        return null;
      }
      return `${count(m, "missing value")} → ${fill}`;
    };
    s.numericNames.forEach((name, j) => {
      const parts: string[] = [];
      const date = s.dates?.columns.find((d) => d.name === name);
      if (date) {
        const day = isoDay(s.dates!.asOf);
        const year = new Date(s.dates!.asOf).getUTCFullYear();
        parts.push(date.from === "year" ? `age in years in ${year} (${year} − birth year)` : `${date.unit === "years" ? "age in years" : "days since"}, as of ${day}`);
      }
      const unit = date ? ` ${date.unit}` : "";
      const miss = missingText(name, s.numericMissing?.[j], `${o.numericImpute} ${fmt(stats[j] ?? NaN)}${unit}`);
      if (miss) parts.push(miss);
      if (s.imputer?.indicatorFeatures.includes(j)) parts.push(`indicator ${name}_missing`);
      const oj = s.outliers ? s.outliers.columns.indexOf(name) : -1;
      if (s.outliers && oj >= 0) {
        const m = s.outliers.model;
        parts.push(`${m.action} outside [${fmt(m.lower[oj])}, ${fmt(m.upper[oj])}] (${m.method})`);
      }
      if (o.log1p.includes(name)) parts.push("signed log1p");
      const pj = powerCols.indexOf(name);
      if (pj >= 0) parts.push(`${s.power!.model.method} λ ${fmt(s.power!.model.lambdas[pj])}`);
      if (scaler) parts.push(scaleText(scaler, j));
      lines.push(`${name} (${s.numericKinds[j]}): ${parts.length ? parts.join(", ") : "as is"}`);
    });
    s.ordinal.forEach((c, t) => {
      const scale = scaler ? `, ${scaleText(scaler, s.numericNames.length + t)}` : "";
      const miss = missingText(c.name, c.missing, `most frequent "${c.impute}"`);
      lines.push(`${c.name} (ordinal): ${miss ? `${miss}, ` : ""}codes ${c.categories.map((x, i) => `${x}=${i}`).join(", ")}${scale}`);
    });
    for (const c of s.categorical) {
      const out = c.encoder.getFeatureNamesOut([c.name]).map((n) => n.slice(c.name.length + 1));
      const cats = out.length > 6 ? `${out.slice(0, 6).join(", ")}, …` : out.join(", ");
      const inf = c.encoder.infrequent[0];
      const grouped = inf ? `; ${count(inf.length, "rare category", "rare categories")} grouped as infrequent: ${listed(inf)}` : "";
      const gone = c.encoder.droppedOutput(0);
      let dropped = "";
      if (gone !== null) {
        dropped = out.length === 1
          ? `; ${c.name}=${gone} dropped (drop ${c.encoder.options.drop}): with two values, ${c.name}=${out[0]} alone says it all`
          : `; ${c.name}=${gone} dropped (drop first): its rows are those with 0 in every other ${c.name} column`;
      }
      const miss = missingText(c.name, c.missing, o.categoricalImpute === "constant" ? `"missing" as a category` : `most frequent "${c.impute}"`);
      lines.push(`${c.name} (categorical): ${miss ? `${miss}, ` : ""}one-hot into ${count(out.length, "column")} (${cats})${grouped}${dropped}`);
    }
    if (complete.length > 0) {
      const all = s.numericNames.length + s.ordinal.length + s.categorical.length;
      const num = o.numericImpute === "constant" ? `the constant ${fmt(o.fillValue)}` : o.numericImpute === "most_frequent" ? "the most frequent value" : `the ${o.numericImpute}`;
      const cat = o.categoricalImpute === "constant" && !s.ordinal.length ? 'the category "missing"' : "the most frequent category";
      const fill = s.categorical.length + s.ordinal.length ? (s.numericNames.length ? `${num} or ${cat}` : cat) : num;
      const which = complete.length === all ? (all === 1 ? "in its one column" : `in any of the ${all} columns`) : `in ${complete.length} of the ${all} columns${complete.length <= 8 ? ` (${complete.join(", ")})` : ""}`;
      lines.push(`no value was missing ${which} when fitted; a value missing in rows scored later becomes ${fill} fitted here`);
    }
    let names = this.encodedNames;
    for (const f of s.selection) {
      const kept = f.getFeatureNamesOut(names);
      const gone = names.filter((n) => !kept.includes(n));
      const what = f.type === "VarianceThreshold" ? `variance ≤ ${o.varianceThreshold}` : `|correlation| > ${o.correlationThreshold} with an earlier feature`;
      const why = new Map(f.dropped.map((d) => [d.column, d]));
      const named = gone.map((n) => {
        const d = why.get(names.indexOf(n));
        if (!d) return n;
        return d.partner === null ? `${n} (variance ${fmt(d.value)})` : `${n} (r = ${d.value.toFixed(3)} with ${names[d.partner]})`;
      });
      lines.push(gone.length ? `dropped (${what}): ${named.join(", ")}` : `no feature with ${what}`);
      names = kept;
    }
    if (s.pca) {
      const r = s.pca.explainedVarianceRatio;
      const total = r.reduce((a, b) => a + b, 0);
      lines.push(
        `PCA: ${count(r.length, "component")} of ${count(names.length, "feature")} keep ${(100 * total).toFixed(1)} % of the variance` +
          ` (${Array.from(r, (x) => `${(100 * x).toFixed(1)} %`).join(", ")})${s.pca.whiten ? ", whitened" : ""}`,
      );
    }
    return lines;
  }

  /**
   * Rows that a "drop" outlier rule leaves out of the fit (1), or null when there is no such
   * rule. At predict time these rows still get a segment and are marked as outliers.
   */
  outlierMask(ds: Dataset): Uint8Array | null {
    const o = this.s.outliers;
    if (!o || o.model.action !== "drop") return null;
    const N = this.imputed(ds);
    return o.model.outlierMask(columnsOf(N, this.s.numericNames, o.columns));
  }

  /** The imputed numeric block (n × numeric columns, indicators not included). */
  private imputed(ds: Dataset): Matrix {
    return imputeNumeric(numericBlock(ds, this.s.numericNames, this.s.numericKinds, this.s.dates), this.s.imputer).values;
  }

  /** The "days-since" step: the reference date (epoch ms) and the columns turned into elapsed time, or null. */
  get dates(): { asOf: number; columns: DateFeature[] } | null {
    return this.s.dates ? { asOf: this.s.dates.asOf, columns: this.s.dates.columns.map((c) => ({ ...c })) } : null;
  }

  /** Applies the fitted steps to a dataset that has (at least) the input columns. */
  transform(ds: Dataset, report?: TransformReport): Matrix {
    const s = this.s;
    const n = ds.rows;
    const raw = numericBlock(ds, s.numericNames, s.numericKinds, s.dates);
    if (report) {
      s.numericNames.forEach((name, j) => {
        let m = 0;
        for (let i = 0; i < n; i++) if (Number.isNaN(raw.data[i * raw.cols + j])) m++;
        if (m) report.imputed[name] = m;
      });
    }
    const p = s.numericNames.length;
    const { values, indicators } = imputeNumeric(raw, s.imputer);
    let flag: Float64Array | null = null;
    if (s.outliers) {
      const idx = s.outliers.columns.map((c) => s.numericNames.indexOf(c));
      const sub = columnsOf(values, null, idx);
      if (s.outliers.model.action === "clip") setColumns(values, idx, s.outliers.model.transform(sub));
      else if (s.outliers.model.action === "flag") flag = Float64Array.from(s.outliers.model.outlierMask(sub));
    }
    for (const name of s.options.log1p) {
      const j = s.numericNames.indexOf(name);
      for (let i = 0; i < n; i++) values.data[i * p + j] = signedLog1p(values.data[i * p + j]);
    }
    if (s.power) {
      const idx = s.power.columns.map((c) => s.numericNames.indexOf(c));
      setColumns(values, idx, s.power.model.transform(columnsOf(values, null, idx)));
    }
    // Ordinal codes join the numeric values before scaling.
    let scaled = appendColumns(values, s.ordinal.map((c) => ordinalCodes(ds, c)));
    if (s.scaler) scaled = s.scaler.transform(scaled);
    const blocks: Matrix[] = [scaled];
    if (indicators) blocks.push(indicators);
    if (flag) blocks.push({ data: flag, rows: n, cols: 1 });
    for (const c of s.categorical) blocks.push(c.encoder.transform(categoryRows(ds, c, report, s.options.oneHot.handleUnknown ?? "ignore")));
    let X = hstack(blocks, n);
    for (const f of s.selection) X = f.transform(X);
    if (s.pca) X = s.pca.transform(X);
    // In shared memory when workers will cluster it, so that they need no copy of it.
    if (getParallelExecutor() !== null && sharedMemoryAvailable()) {
      const out = allocF64(X.data.length, true);
      out.set(X.data);
      X = { data: out, rows: X.rows, cols: X.cols };
    }
    return X;
  }

  toJSON(): PipelineJSON {
    const s = this.s;
    return {
      type: "Pipeline", version: 2, options: s.options,
      numeric: {
        names: s.numericNames, kinds: s.numericKinds, imputer: s.imputer ? s.imputer.toJSON() : null,
        ...(s.numericMissing ? { missing: s.numericMissing } : {}),
      },
      outliers: s.outliers ? { columns: s.outliers.columns, model: s.outliers.model.toJSON() } : null,
      power: s.power ? { columns: s.power.columns, model: s.power.model.toJSON() } : null,
      ordinal: s.ordinal,
      scaler: s.scaler ? scalerJSON(s.scaler) : null,
      categorical: s.categorical.map((c) => ({ name: c.name, impute: c.impute, encoder: c.encoder.toJSON(), ...(c.missing !== undefined ? { missing: c.missing } : {}) })),
      selection: s.selection.map((f) => f.toJSON()),
      pca: s.pca ? s.pca.toJSON() : null,
      ...(s.dates ? { dates: { asOf: new Date(s.dates.asOf).toISOString(), columns: s.dates.columns } } : {}),
    };
  }

  static fromJSON(j: PipelineJSON | PipelineJSONv1): FittedPipeline {
    if (j?.type !== "Pipeline" || (j.version !== 1 && j.version !== 2)) {
      throw new InputError("the model file has no valid preprocessing pipeline; fit the model again");
    }
    if (j.version === 1) return fromV1(j);
    try {
      const sc = j.scaler;
      let dates: DatesStep | null = null;
      if (j.dates) {
        const asOf = Date.parse(j.dates.asOf);
        if (!Number.isFinite(asOf) || !Array.isArray(j.dates.columns)) throw new InputError(`its reference date "${j.dates.asOf}" is not a date`);
        for (const c of j.dates.columns) {
          if (!j.numeric.names.includes(c.name) || !["date", "year"].includes(c.from) || !["days", "years"].includes(c.unit)) {
            throw new InputError(`its date feature ${JSON.stringify(c)} is not one of the numeric features`);
          }
        }
        dates = { asOf, columns: j.dates.columns.map((c) => ({ name: c.name, from: c.from, unit: c.unit })) };
      }
      return new FittedPipeline({
        options: { ...DEFAULT_PREPROCESS, ...j.options },
        dates,
        numericNames: j.numeric.names, numericKinds: j.numeric.kinds,
        numericMissing: Array.isArray(j.numeric.missing) ? j.numeric.missing : null,
        imputer: j.numeric.imputer ? SimpleImputerModel.fromJSON(j.numeric.imputer) : null,
        outliers: j.outliers ? { columns: j.outliers.columns, model: OutlierModel.fromJSON(j.outliers.model) } : null,
        power: j.power ? { columns: j.power.columns, model: PowerTransformerModel.fromJSON(j.power.model) } : null,
        ordinal: j.ordinal,
        scaler: !sc ? null : sc.type === "StandardScaler"
          ? new StandardScalerModel(Float64Array.from(sc.center), Float64Array.from(sc.scale))
          : AffineScalerModel.fromJSON(sc),
        categorical: j.categorical.map((c) => ({ name: c.name, impute: c.impute, encoder: OneHotEncoderModel.fromJSON(c.encoder), missing: c.missing })),
        selection: j.selection.map((f) => FeatureSelectionModel.fromJSON(f)),
        pca: j.pca ? PCAModel.fromJSON(j.pca) : null,
      });
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`the model file's preprocessing is damaged (${e.message}); fit the model again`);
      throw new InputError("the model file's preprocessing is damaged; fit the model again");
    }
  }
}

function fromV1(j: PipelineJSONv1): FittedPipeline {
  const standard = j.options.scale === "standard";
  return new FittedPipeline({
    options: { ...DEFAULT_PREPROCESS, numericImpute: j.options.numericImpute, scale: j.options.scale, log1p: j.options.log1p },
    dates: null,
    numericNames: j.numeric.map((s) => s.name), numericKinds: j.numeric.map((s) => s.kind), numericMissing: null,
    imputer: new SimpleImputerModel(j.options.numericImpute, j.numeric.map((s) => s.impute), []),
    outliers: null, power: null, ordinal: [],
    scaler: standard ? new StandardScalerModel(Float64Array.from(j.numeric, (s) => s.mean), Float64Array.from(j.numeric, (s) => s.scale)) : null,
    categorical: j.categorical.map((c) => ({
      name: c.name, impute: c.impute, encoder: new OneHotEncoderModel({ handleUnknown: "ignore" }, [c.categories], [null], [null]),
    })),
    selection: [], pca: null,
  });
}

function scalerJSON(m: StandardScalerModel | AffineScalerModel): { type: string; center: number[]; scale: number[] } {
  if (m instanceof StandardScalerModel) return { type: "StandardScaler", center: Array.from(m.mean), scale: Array.from(m.scale) };
  return m.toJSON();
}

function scaleText(m: StandardScalerModel | AffineScalerModel, j: number): string {
  if (m instanceof StandardScalerModel) return `standardise (mean ${fmt(m.mean[j])}, sd ${fmt(m.scale[j])})`;
  const what = { MinMaxScaler: "min-max", RobustScaler: "robust (median, IQR)", MaxAbsScaler: "max-abs" }[m.type];
  return `${what} scale (x − ${fmt(m.center[j])}) / ${fmt(m.scale[j])}`;
}

export function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
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

/** The imputed numeric values (the columns of `raw`) and, apart, the missing-value indicators (null: none). */
function imputeNumeric(raw: Matrix, imputer: SimpleImputerModel | null): { values: Matrix; indicators: Matrix | null } {
  const full = imputer ? imputer.transform(raw) : raw;
  const p = raw.cols;
  if (full.cols === p) return { values: full, indicators: null };
  return {
    values: columnsOf(full, null, Array.from({ length: p }, (_, j) => j)),
    indicators: columnsOf(full, null, Array.from({ length: full.cols - p }, (_, j) => p + j)),
  };
}

/** The numeric columns as an n × p matrix, NaN for missing; date features as elapsed time until the reference date. */
function numericBlock(ds: Dataset, names: string[], kinds: Column["kind"][], dates: DatesStep | null): Matrix {
  const n = ds.rows;
  const p = names.length;
  const data = new Float64Array(n * p);
  names.forEach((name, j) => {
    const col = requireColumn(ds, name);
    if (!isNumericKind(col.kind)) {
      throw new InputError(`${ds.source}: column "${name}" was ${kinds[j]} in training but is ${col.kind} here; make it ${kinds[j]}`);
    }
    const v = col.values as Float64Array;
    const date = dates?.columns.find((d) => d.name === name);
    if (date) {
      if (date.from === "date" && col.kind !== "datetime") {
        throw new InputError(`${ds.source}: column "${name}" holds dates in training but ${col.kind} values here; read it as a date (--type ${name}=datetime)`);
      }
      for (let i = 0; i < n; i++) data[i * p + j] = elapsed(v[i], date, dates!.asOf);
    } else for (let i = 0; i < n; i++) data[i * p + j] = v[i];
  });
  return { data, rows: n, cols: p };
}

/** Text values of a column (numbers written as text when the column was read as numeric). */
function textValues(ds: Dataset, name: string): (string | null)[] {
  const col = requireColumn(ds, name);
  if (col.kind === "categorical" || col.kind === "id") return col.values as (string | null)[];
  return Array.from(col.values as Float64Array, (x) => (Number.isNaN(x) ? null : String(x)));
}

function categoryRows(
  ds: Dataset, c: { name: string; impute: string; encoder: OneHotEncoderModel }, report: TransformReport | undefined, handle: "ignore" | "error",
): string[][] {
  const known = new Set(c.encoder.categories[0]);
  const unseen = new Map<string, number>();
  let imputed = 0;
  const rows = textValues(ds, c.name).map((v) => {
    if (v === null) {
      imputed++;
      return [c.impute];
    }
    if (!known.has(v)) unseen.set(v, (unseen.get(v) ?? 0) + 1);
    return [v];
  });
  if (unseen.size && handle === "error") {
    const [v] = unseen.keys();
    throw new InputError(
      `${ds.source}: column "${c.name}" has the category "${v}", unseen in training; fix the value, or fit with unseen categories ignored (oneHot.handleUnknown "ignore")`,
    );
  }
  if (report && imputed) report.imputed[c.name] = imputed;
  if (report && unseen.size) {
    let count = 0;
    for (const x of unseen.values()) count += x;
    report.unseen[c.name] = { count, examples: [...unseen.keys()].slice(0, 3) };
  }
  return rows;
}

function ordinalCodes(ds: Dataset, c: OrdinalJSON): Float64Array {
  const index = new Map(c.categories.map((x, t) => [x, t]));
  return Float64Array.from(textValues(ds, c.name), (v) => {
    const t = index.get(v ?? c.impute);
    if (t === undefined) {
      throw new InputError(`${ds.source}: column "${c.name}" has the value "${v}", which is not one of its ordered categories (${c.categories.join(", ")}); add it to the order or fix the value`);
    }
    return t;
  });
}

/** The given columns (by index, or by name within `names`) of a matrix, as a new matrix. */
function columnsOf(X: Matrix, names: string[] | null, cols: (number | string)[]): Matrix {
  const idx = cols.map((c) => (typeof c === "number" ? c : names!.indexOf(c)));
  const m = idx.length;
  const out = new Float64Array(X.rows * m);
  for (let i = 0; i < X.rows; i++) for (let t = 0; t < m; t++) out[i * m + t] = X.data[i * X.cols + idx[t]];
  return { data: out, rows: X.rows, cols: m };
}

function setColumns(X: Matrix, idx: number[], Y: Matrix): void {
  for (let i = 0; i < X.rows; i++) for (let t = 0; t < idx.length; t++) X.data[i * X.cols + idx[t]] = Y.data[i * Y.cols + t];
}

function appendColumns(X: Matrix, cols: Float64Array[]): Matrix {
  if (!cols.length) return X;
  return hstack([X, ...cols.map((c) => ({ data: c, rows: X.rows, cols: 1 }))], X.rows);
}

/** The rows the steps are fitted on: all, or those not dropped as outliers. */
function fitRows(X: Matrix, keep: Uint8Array | null): Matrix {
  return keep ? rowsWhere(X, keep) : X;
}

function hstack(blocks: Matrix[], n: number): Matrix {
  const d = blocks.reduce((a, b) => a + b.cols, 0);
  if (blocks.length === 1) return blocks[0];
  const out = matrixData(n * d);
  let off = 0;
  for (const b of blocks) {
    for (let i = 0; i < n; i++) for (let j = 0; j < b.cols; j++) out[i * d + off + j] = b.data[i * b.cols + j];
    off += b.cols;
  }
  return { data: out, rows: n, cols: d };
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

/** A count with its noun: "1 row", "3 rows". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Up to `max` values, comma-separated, then how many there are in all. */
function listed(xs: string[], max = 20): string {
  return xs.length > max ? `${xs.slice(0, max).join(", ")}, … (${xs.length} in all)` : xs.join(", ");
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

export function resolvePreprocess(options: PreprocessOptions = {}): ResolvedPreprocessOptions {
  const o = { ...DEFAULT_PREPROCESS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined && k in o) (o as Record<string, unknown>)[k] = v;
  return o;
}

/** Fits the preprocessing on the given feature columns of a dataset. */
export async function fitPipeline(ds: Dataset, features: string[], options: PreprocessOptions = {}): Promise<FittedPipeline> {
  const o = resolvePreprocess(options);
  const cols = features.map((name) => requireColumn(ds, name));
  const numeric = cols.filter((c) => isNumericKind(c.kind));
  const numericNames = numeric.map((c) => c.name);
  const text = cols.filter((c) => !isNumericKind(c.kind));
  for (const name of Object.keys(o.ordinal)) {
    if (!features.includes(name)) throw new InputError(`ordinal ${name}: the column is not one of the features`);
  }
  const check = (flag: string, names: string[]): void => {
    for (const name of names) {
      const col = requireColumn(ds, name);
      if (!isNumericKind(col.kind)) throw new InputError(`${flag} ${name}: the column is ${col.kind}, not numeric`);
      if (!features.includes(name)) throw new InputError(`${flag} ${name}: the column is not one of the features`);
    }
  };
  check("--log", o.log1p);
  check("--power", o.power);
  const both = o.log1p.filter((c) => o.power.includes(c));
  if (both.length) throw new InputError(`--log and --power both name "${both[0]}"; give each column one transform`);
  for (const c of [...numeric, ...text]) {
    const empty = isNumericKind(c.kind) ? (c.values as Float64Array).every(Number.isNaN) : (c.values as (string | null)[]).every((v) => v === null);
    if (empty) throw new InputError(`${ds.source}: column "${c.name}" has no values in any of its ${count(ds.rows, "row")}; leave it out with --features`);
  }

  // Dates: elapsed time until the reference date, recorded so that predict measures from the same day.
  let dates: DatesStep | null = null;
  if (o.dates === "days-since") {
    const asOf = resolveAsOf(o.asOf);
    const columns = dateFeatures(ds, numericNames, asOf);
    if (columns.length) dates = { asOf, columns };
    o.asOf = isoDay(asOf);
  }

  // Numeric block: impute (with optional indicators) on all rows.
  const raw = numericBlock(ds, numericNames, numeric.map((c) => c.kind), dates);
  const numericMissing = numericNames.map((_, j) => {
    let m = 0;
    for (let i = 0; i < raw.rows; i++) if (Number.isNaN(raw.data[i * raw.cols + j])) m++;
    return m;
  });
  const imputer = numericNames.length
    ? await new SimpleImputer({ strategy: o.numericImpute, fillValue: o.fillValue, addIndicator: o.missingIndicator }).fit(raw)
    : null;
  const p = numericNames.length;
  const { values } = imputeNumeric(raw, imputer);

  // Outliers: bounds on the imputed values; "drop" leaves the rows out of every later fit.
  let outliers: Steps["outliers"] = null;
  let keep: Uint8Array | null = null;
  if (o.outliers.method !== "none") {
    const columns = o.outliers.columns ?? numeric.filter((c) => c.kind === "numeric").map((c) => c.name);
    check("--outliers", columns);
    if (columns.length) {
      const model = await new OutlierHandler({ method: o.outliers.method, action: o.outliers.action ?? "clip", k: o.outliers.k }).fit(columnsOf(values, numericNames, columns));
      outliers = { columns, model };
      if (model.action === "drop") {
        const mask = model.outlierMask(columnsOf(values, numericNames, columns));
        keep = Uint8Array.from(mask, (m) => 1 - m);
        const kept = keep.reduce((a, b) => a + b, 0);
        if (kept < 3) throw new InputError(`the outlier rule (${o.outliers.method}) drops all but ${count(kept, "row")}; raise its k or choose clip`);
      } else if (model.action === "clip") {
        const idx = columns.map((c) => numericNames.indexOf(c));
        setColumns(values, idx, model.transform(columnsOf(values, null, idx)));
      }
    }
  }
  for (const name of o.log1p) {
    const j = numericNames.indexOf(name);
    for (let i = 0; i < ds.rows; i++) values.data[i * p + j] = signedLog1p(values.data[i * p + j]);
  }
  let power: Steps["power"] = null;
  if (o.power.length) {
    const idx = o.power.map((c) => numericNames.indexOf(c));
    const model = await new PowerTransformer({ method: o.powerMethod, standardize: false }).fit(fitRows(columnsOf(values, null, idx), keep));
    power = { columns: o.power, model };
    setColumns(values, idx, model.transform(columnsOf(values, null, idx)));
  }

  // Ordinal columns: codes in the configured order, then scaled with the numeric ones.
  const ordinal: OrdinalJSON[] = [];
  for (const c of text.filter((t) => t.name in o.ordinal)) {
    const v = textValues(ds, c.name);
    const impute = mostFrequent(v)!;
    const seen = [...new Set(v.filter((x): x is string => x !== null))].sort();
    const given = o.ordinal[c.name];
    const categories = given.length ? given : seen;
    const missing = seen.filter((x) => !categories.includes(x));
    if (missing.length) {
      throw new InputError(`ordinal ${c.name}: the value "${missing[0]}" is not in the given order (${categories.join(" < ")}); add it`);
    }
    ordinal.push({ name: c.name, impute, categories, missing: v.filter((x) => x === null).length });
  }
  const scaledIn = appendColumns(values, ordinal.map((c) => ordinalCodes(ds, c)));
  let scaler: Steps["scaler"] = null;
  if (o.scale !== "none" && scaledIn.cols > 0) {
    const rows = fitRows(scaledIn, keep);
    scaler = o.scale === "standard" ? await new StandardScaler().fit(rows)
      : o.scale === "minmax" ? await new MinMaxScaler().fit(rows)
      : o.scale === "robust" ? await new RobustScaler().fit(rows) : await new MaxAbsScaler().fit(rows);
  }

  // Categorical columns: impute, one-hot per column (rare categories grouped unless the first is dropped).
  const categorical: Steps["categorical"] = [];
  const oh = o.oneHot;
  for (const c of text.filter((t) => !(t.name in o.ordinal))) {
    const v = textValues(ds, c.name);
    const impute = o.categoricalImpute === "constant" ? "missing" : mostFrequent(v)!;
    const rows: string[][] = [];
    for (let i = 0; i < v.length; i++) if (!keep || keep[i]) rows.push([v[i] ?? impute]);
    const minFrequency = oh.minFrequency ? oh.minFrequency : null;
    const drop = oh.drop ?? null;
    const encoder = await new OneHotEncoder({
      handleUnknown: (oh.handleUnknown ?? "ignore") === "error" ? "error" : minFrequency ? "infrequent_if_exist" : "ignore", minFrequency, drop,
    }).fit(rows);
    categorical.push({ name: c.name, impute, encoder, missing: v.filter((x) => x === null).length });
  }

  const partial = new FittedPipeline({
    options: o, dates, numericNames, numericKinds: numeric.map((c) => c.kind), numericMissing, imputer, outliers, power, ordinal, scaler, categorical, selection: [], pca: null,
  });
  if (o.varianceThreshold === null && o.correlationThreshold === null && o.pca === null) return partial;
  // Selection and PCA are fitted on the encoded features of the kept rows.
  let X = fitRows(partial.transform(ds), keep);
  const selection: FeatureSelectionModel[] = [];
  if (o.varianceThreshold !== null) {
    const f = await new VarianceThreshold({ threshold: o.varianceThreshold }).fit(X);
    selection.push(f);
    X = f.transform(X);
  }
  if (o.correlationThreshold !== null) {
    const f = await new CorrelationFilter({ threshold: o.correlationThreshold }).fit(X);
    selection.push(f);
    X = f.transform(X);
  }
  let pca: PCAModel | null = null;
  if (o.pca) {
    if (Number.isInteger(o.pca.nComponents) && o.pca.nComponents > X.cols) {
      throw new InputError(`--pca ${o.pca.nComponents}: there ${X.cols === 1 ? "is" : "are"} only ${count(X.cols, "feature")} to project; ask for at most ${count(X.cols, "component")} or a share of variance such as 0.9`);
    }
    pca = await new PCA({ nComponents: o.pca.nComponents, whiten: o.pca.whiten ?? false }).fit(X);
  }
  return new FittedPipeline({
    options: o, dates, numericNames, numericKinds: numeric.map((c) => c.kind), numericMissing, imputer, outliers, power, ordinal, scaler, categorical, selection, pca,
  });
}
