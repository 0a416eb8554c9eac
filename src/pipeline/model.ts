import type { ModelJSON } from "../cluster/load.js";
import { COLUMN_KINDS, type ColumnKind, type Dataset, datasetFromRecords, isNumericKind } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { FittedPipeline, type PipelineJSON, type TransformReport } from "../preprocess/pipeline.js";
import { parseConfig, type SegmentationConfig } from "./config.js";
import { type PredictRule, Segmenter } from "./segmenter.js";
import { checkDistribution, type TrainingDistribution, trainingDistribution } from "./drift.js";
import { rowIds, type SegmentationResult } from "./run.js";
import { type PreviousRun, segmentCentres, type StableIds } from "./stable.js";
import { KMeansModel } from "../cluster/kmeans.js";

export const MODEL_FORMAT = "segmenta-model";
export const MODEL_VERSION = 1;

/** Everything needed to score new customers exactly as the training rows were scored. */
export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: number;
  createdAt: string;
  config: SegmentationConfig;
  /** The kind of each input column as read at training time; predict reads them the same way. */
  columns: { name: string; kind: ColumnKind }[];
  idColumn: string | null;
  pipeline: PipelineJSON;
  /** The fitted clustering (KMeans or AgglomerativeClustering JSON, see loadModel). */
  model: ModelJSON;
  /** relabel[c] is the segment of the model's cluster c (agglomerative clusters numbered by size); absent: the same. */
  relabel?: number[];
  training: {
    source: string;
    rows: number;
    k: number;
    silhouette: number;
    inertia: number;
    sizes: number[];
    /**
     * Agglomerative models only: how often the predict rule (nearest segment mean, or nearest
     * training row) gives a training row the segment the tree gave it, on `rows` of the
     * `trainingRows` rows the tree was fitted on (a sample when the rule compares with every row).
     */
    agreement?: { rule: PredictRule; share: number; rows: number; trainingRows: number };
  };
  /** Each segment's name and description, index = segment number (absent in older files: "Segment N"); `id`: its stable id (see segmentIds). */
  segments?: { segment: number; id?: number; name: string; description: string }[];
  /**
   * Stable segment ids (`cluster --previous`): segmentIds[i] is the id that the segments file
   * and every output give the model's segment i; absent: the id is i.
   */
  segmentIds?: number[];
  /** Each segment's centre (mean of its rows) in the preprocessed space, index = segment number (null for an empty segment): what a later run matches its segments to. */
  centres?: (number[] | null)[];
  /** With --previous: the run this model's ids come from (its checksum) and how its segments were matched. */
  lineage?: Omit<StableIds, "ids">;
  /** Density-based models: the outliers' group (segment −1) as the training run named it, and how many training rows it held. */
  noise?: { name: string; description: string; size: number };
  /**
   * When the model was fitted on features computed from a transaction log (cluster
   * --transactions): how to compute them again, so that predict can score a log.
   */
  transactions?: TransactionFeatures;
  /**
   * The training distribution of every input column (quantile bins, category counts), for
   * drift checks (pipeline/drift.ts); absent in files written before them.
   */
  distribution?: TrainingDistribution;
  /** "sha256:" and the SHA-256 of the canonical JSON of everything else (see modelChecksum); absent in older files. */
  checksum?: string;
}

/**
 * The model file of a segmentation: everything predict needs, each segment's name, for
 * agglomerative models how far the predict rule agrees with the tree on the training rows,
 * and a checksum of the content (checked when the file is read).
 */
export type CancellationMode = "net" | "exclude";

/** The columns of a transaction log and the options that turn it into RFM features (io/rfm.ts). */
export interface TransactionMapping {
  customer: string;
  date: string;
  amount?: string;
  quantity?: string;
  price?: string;
  invoice?: string;
  /** Product column; adds distinct_products. */
  product?: string;
  /** What cancellations do to monetary: taken off (net, the default) or ignored (exclude). */
  cancellations?: CancellationMode;
  /** Invoices starting with this (any case) are cancellations; default "C"; "" for none. */
  cancelPrefix?: string;
}

/**
 * What a model fitted on a transaction log's RFM features records of the log, so that predict
 * can compute the features again (the as-of date is each log's own at each use unless given).
 */
export interface TransactionFeatures extends TransactionMapping {
  kind: "rfm";
}

export function buildModelFile(result: SegmentationResult, data: Dataset, extra: { transactions?: TransactionFeatures } = {}): ModelFile {
  const inputs = new Set(result.pipeline.inputColumns);
  const rule = result.model.predictRule;
  const agreement = rule ? { rule, ...result.model.agreement(result.matrix, result.labels, result.outliers) } : null;
  const file: ModelFile = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdAt: new Date().toISOString(),
    config: result.config,
    columns: data.columns.filter((c) => inputs.has(c.name)).map((c) => ({ name: c.name, kind: c.kind })),
    idColumn: result.idColumn,
    pipeline: result.pipeline.toJSON(),
    model: result.model.toJSON(),
    ...(result.model.relabel ? { relabel: Array.from(result.model.relabel) } : {}),
    training: {
      source: data.source,
      rows: data.rows,
      k: result.k,
      silhouette: result.silhouette,
      inertia: result.inertia,
      sizes: result.segments.map((s) => s.size),
      ...(agreement ? { agreement } : {}),
    },
    segments: result.segments.map((s, i) => ({ segment: i, ...(result.segmentIds ? { id: result.segmentIds[i] } : {}), name: s.name, description: s.description })),
    ...(result.segmentIds ? { segmentIds: [...result.segmentIds] } : {}),
    centres: centreRows(result),
    ...(result.stable ? { lineage: lineageOf(result.stable) } : {}),
    ...(result.noise ? { noise: { name: result.noise.name, description: result.noise.description, size: result.noise.size } } : {}),
    ...(extra.transactions ? { transactions: JSON.parse(JSON.stringify(extra.transactions)) as TransactionFeatures } : {}),
    distribution: trainingDistribution(data, result.pipeline.inputColumns),
  };
  file.checksum = modelChecksum(file);
  return file;
}

export interface LoadedModelFile {
  file: ModelFile;
  pipeline: FittedPipeline;
  model: Segmenter;
}

const DAMAGED = "the file was edited or damaged: fit the model again with segmenta cluster --model";

/**
 * Validates a parsed model file and restores its pipeline and clustering. `where` names the
 * file in messages. Every part that scoring relies on is checked (format and version, the
 * columns, every step's shapes and numbers, the centers against nClusters and the pipeline's
 * feature count, the segment numbering and names), then the checksum when the file has one
 * (files written before checksums load without that check): a problem is an InputError
 * naming the field, so that an edited or damaged file never scores rows wrongly.
 */
export function parseModelFile(json: unknown, where = "model"): LoadedModelFile {
  const f = json as Partial<ModelFile> | null;
  if (!isObject(f) || f.format !== MODEL_FORMAT) {
    throw new InputError(`${where} is not a Segmenta model file (no "format": "${MODEL_FORMAT}"); pass the file written by segmenta cluster --model`);
  }
  if (typeof f.version === "number" && Number.isInteger(f.version) && f.version > MODEL_VERSION) {
    throw new InputError(`${where} has model format version ${f.version}, newer than this Segmenta understands (${MODEL_VERSION}); upgrade Segmenta`);
  }
  const fail = (problem: string): never => {
    throw new InputError(`${where}: ${problem}; ${DAMAGED}`);
  };
  if (typeof f.version !== "number" || !Number.isInteger(f.version) || f.version < 1) fail(`"version" is ${show(f.version)}; expected a whole number from 1 to ${MODEL_VERSION}`);
  if (!Array.isArray(f.columns) || !isObject(f.pipeline) || !isObject(f.model)) {
    fail(`it is incomplete (${["columns", "pipeline", "model"].filter((k) => !(k === "columns" ? Array.isArray(f.columns) : isObject(f[k as keyof ModelFile]))).join(", ")} missing)`);
  }
  const columns = checkColumns(f.columns!, fail);
  if (f.idColumn !== undefined && f.idColumn !== null && typeof f.idColumn !== "string") fail(`"idColumn" is ${show(f.idColumn)}; expected a column name or null`);
  let config: SegmentationConfig;
  try {
    config = parseConfig(f.config);
  } catch (e) {
    return fail(`its "config" is invalid (${(e as Error).message})`);
  }
  checkPipelineJSON(f.pipeline as unknown as Record<string, unknown>, columns, fail);
  let pipeline: FittedPipeline;
  try {
    pipeline = FittedPipeline.fromJSON(f.pipeline!);
  } catch (e) {
    return fail(`its preprocessing cannot be restored (${(e as Error).message})`);
  }
  let model: Segmenter;
  try {
    model = Segmenter.fromJSON(f.model, f.relabel);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return fail(e.message);
  }
  const nFeatures = pipeline.featureNames.length;
  if (model.nFeatures !== nFeatures) {
    fail(`the model has ${plural(model.nFeatures, "feature")} (nFeatures) but the preprocessing makes ${nFeatures}`);
  }
  dryRun(pipeline, columns, nFeatures, fail);
  const k = model.nClusters;
  checkTraining(f.training, k, fail);
  checkSegments(f.segments, k, fail);
  checkStable(f, k, fail);
  if (f.noise !== undefined) {
    const z = (isObject(f.noise) ? f.noise : fail(`"noise" is ${show(f.noise)}; expected { "name", "description", "size" } of the outliers`)) as Record<string, unknown>;
    if (typeof z.name !== "string" || z.name === "") fail(`noise.name is ${show(z.name)}; expected the outliers' name`);
    if (typeof z.description !== "string") fail(`noise.description is ${show(z.description)}; expected a text`);
    if (typeof z.size !== "number" || !Number.isInteger(z.size) || z.size < 0) fail(`noise.size is ${show(z.size)}; expected a whole number of rows`);
  }
  if (f.transactions !== undefined) checkTransactions(f.transactions, fail);
  if (f.distribution !== undefined) checkDistribution(f.distribution, fail);
  if (f.checksum !== undefined) {
    if (typeof f.checksum !== "string" || !/^sha256:[0-9a-f]{64}$/.test(f.checksum)) fail(`"checksum" is ${show(f.checksum)}; expected "sha256:" and 64 hexadecimal digits`);
    if (modelChecksum(f as Record<string, unknown>) !== f.checksum) {
      throw new InputError(
        `${where} was changed after Segmenta wrote it (its content does not match its checksum); restore the file as written, or fit the model again with segmenta cluster --model`,
      );
    }
  }
  return { file: { ...(f as ModelFile), config }, pipeline, model };
}

type Fail = (problem: string) => never;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON value, shortened, for messages. */
function show(v: unknown): string {
  if (v === undefined) return "missing";
  const t = JSON.stringify(v) ?? String(v);
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

function checkColumns(list: unknown[], fail: Fail): Map<string, ColumnKind> {
  const out = new Map<string, ColumnKind>();
  list.forEach((c, i) => {
    const col = c as { name?: unknown; kind?: unknown } | null;
    if (!isObject(col) || typeof col.name !== "string" || !COLUMN_KINDS.includes(col.kind as ColumnKind)) {
      fail(`columns[${i}] is ${show(c)}; expected { "name": a column name, "kind": one of ${COLUMN_KINDS.join(", ")} }`);
    }
    if (out.has(col!.name as string)) fail(`the column "${col!.name as string}" is listed twice in "columns"`);
    out.set(col!.name as string, col!.kind as ColumnKind);
  });
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A list of `length` (null: any) finite numbers, or a message naming `field` (and why that length: `need`). */
function numbers(v: unknown, length: number | null, field: string, fail: Fail, need?: string): number[] {
  if (!Array.isArray(v)) return fail(`${field} is ${show(v)}; expected a list of numbers`);
  if (length !== null && v.length !== length) fail(`${field} has ${plural(v.length, "value")} but ${need ?? `${length} are expected`}`);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) fail(`${field}[${i}] is ${show(x)}; expected a finite number`);
  }
  return v as number[];
}

/** A list of distinct strings, or a message naming `field`. */
function names(v: unknown, field: string, fail: Fail): string[] {
  if (!Array.isArray(v)) return fail(`${field} is ${show(v)}; expected a list of names`);
  const seen = new Set<string>();
  v.forEach((x, i) => {
    if (typeof x !== "string") fail(`${field}[${i}] is ${show(x)}; expected a name`);
    if (seen.has(x as string)) fail(`${field} lists "${x as string}" twice`);
    seen.add(x as string);
  });
  return v as string[];
}

function within(list: string[], allowed: string[], field: string, what: string, fail: Fail): void {
  for (const x of list) if (!allowed.includes(x)) fail(`${field} names "${x}", which is not ${what}`);
}

/**
 * The preprocessing's own numbers and shapes: the numeric columns and their imputed values,
 * outlier bounds, power transforms, ordinal and one-hot categories, the scaler, the feature
 * selections and PCA. (How the steps' widths chain is checked by running the restored
 * pipeline on one row, see dryRun.)
 */
function checkPipelineJSON(p: Record<string, unknown>, columns: Map<string, ColumnKind>, fail: Fail): void {
  if (p.type !== "Pipeline") fail(`"pipeline" is not a Segmenta preprocessing pipeline (type ${show(p.type)})`);
  const inputs: string[] = [];
  if (p.version === 1) {
    const num = Array.isArray(p.numeric) ? (p.numeric as unknown[]) : fail(`pipeline.numeric is ${show(p.numeric)}; expected a list`);
    num.forEach((c, i) => {
      const s = (isObject(c) ? c : fail(`pipeline.numeric[${i}] is ${show(c)}`)) as Record<string, unknown>;
      if (typeof s.name !== "string") fail(`pipeline.numeric[${i}].name is ${show(s.name)}; expected a column name`);
      for (const key of ["impute", "mean", "scale"]) numbers([s[key]], 1, `pipeline.numeric[${i}].${key}`, fail);
      if (s.scale === 0) fail(`pipeline.numeric[${i}].scale is 0; a scale divides the values and cannot be 0`);
      inputs.push(s.name as string);
    });
    const cat = Array.isArray(p.categorical) ? (p.categorical as unknown[]) : fail(`pipeline.categorical is ${show(p.categorical)}; expected a list`);
    cat.forEach((c, i) => {
      const s = (isObject(c) ? c : fail(`pipeline.categorical[${i}] is ${show(c)}`)) as Record<string, unknown>;
      if (typeof s.name !== "string" || typeof s.impute !== "string") fail(`pipeline.categorical[${i}] has no name or imputed value`);
      names(s.categories, `pipeline.categorical[${i}].categories`, fail);
      inputs.push(s.name as string);
    });
  } else if (p.version === 2) {
    const numeric = (isObject(p.numeric) ? p.numeric : fail(`pipeline.numeric is ${show(p.numeric)}`)) as Record<string, unknown>;
    const num = names(numeric.names, "pipeline.numeric.names", fail);
    const kinds = Array.isArray(numeric.kinds) ? (numeric.kinds as unknown[]) : fail(`pipeline.numeric.kinds is ${show(numeric.kinds)}; expected a list`);
    if (kinds.length !== num.length) fail(`pipeline.numeric.kinds has ${kinds.length} entries for ${num.length} numeric columns`);
    kinds.forEach((k, j) => {
      if (!isNumericKind(k as ColumnKind)) fail(`pipeline.numeric.kinds[${j}] is ${show(k)}; expected numeric, boolean or datetime`);
    });
    for (const name of num) inputs.push(name);
    if (numeric.imputer !== null && numeric.imputer !== undefined) {
      const imp = (isObject(numeric.imputer) ? numeric.imputer : fail(`pipeline.numeric.imputer is ${show(numeric.imputer)}`)) as Record<string, unknown>;
      numbers(imp.statistics, num.length, "pipeline.numeric.imputer.statistics", fail, `there are ${plural(num.length, "numeric column")} to impute`);
      const ind = Array.isArray(imp.indicatorFeatures) ? (imp.indicatorFeatures as unknown[]) : fail(`pipeline.numeric.imputer.indicatorFeatures is ${show(imp.indicatorFeatures)}`);
      ind.forEach((j, t) => {
        if (typeof j !== "number" || !Number.isInteger(j) || j < 0 || j >= num.length) fail(`pipeline.numeric.imputer.indicatorFeatures[${t}] is ${show(j)}; expected a numeric column number below ${num.length}`);
      });
    }
    for (const step of ["outliers", "power"] as const) {
      const s = p[step];
      if (s === null || s === undefined) continue;
      const o = (isObject(s) ? s : fail(`pipeline.${step} is ${show(s)}`)) as Record<string, unknown>;
      const cols = names(o.columns, `pipeline.${step}.columns`, fail);
      within(cols, num, `pipeline.${step}.columns`, "a numeric column of the model", fail);
      const m = (isObject(o.model) ? o.model : fail(`pipeline.${step}.model is ${show(o.model)}`)) as Record<string, unknown>;
      const keys = step === "outliers" ? ["lower", "upper"] : ["lambdas", "mean", "scale"];
      for (const key of keys) {
        if (step === "power" && key !== "lambdas" && m[key] === null) continue;
        numbers(m[key], cols.length, `pipeline.${step}.model.${key}`, fail, `the step has ${plural(cols.length, "column")}`);
      }
      if (step === "power" && Array.isArray(m.scale) && (m.scale as number[]).includes(0)) fail("pipeline.power.model.scale holds a 0; a scale divides the values and cannot be 0");
    }
    const opts = (isObject(p.options) ? p.options : fail(`pipeline.options is ${show(p.options)}`)) as Record<string, unknown>;
    if (opts.log1p !== undefined) within(names(opts.log1p, "pipeline.options.log1p", fail), num, "pipeline.options.log1p", "a numeric column of the model", fail);
    const ordinal = Array.isArray(p.ordinal) ? (p.ordinal as unknown[]) : fail(`pipeline.ordinal is ${show(p.ordinal)}; expected a list`);
    ordinal.forEach((c, i) => {
      const s = (isObject(c) ? c : fail(`pipeline.ordinal[${i}] is ${show(c)}`)) as Record<string, unknown>;
      if (typeof s.name !== "string" || typeof s.impute !== "string") fail(`pipeline.ordinal[${i}] has no name or imputed value`);
      names(s.categories, `pipeline.ordinal[${i}].categories`, fail);
      inputs.push(s.name as string);
    });
    if (p.scaler !== null && p.scaler !== undefined) {
      const sc = (isObject(p.scaler) ? p.scaler : fail(`pipeline.scaler is ${show(p.scaler)}`)) as Record<string, unknown>;
      const width = num.length + ordinal.length;
      numbers(sc.center, width, "pipeline.scaler.center", fail, `the scaler needs one per numeric and ordinal column (${width})`);
      const scale = numbers(sc.scale, width, "pipeline.scaler.scale", fail, `the scaler needs one per numeric and ordinal column (${width})`);
      const zero = scale.indexOf(0);
      if (zero >= 0) fail(`pipeline.scaler.scale[${zero}] is 0; a scale divides the values and cannot be 0`);
    }
    const cat = Array.isArray(p.categorical) ? (p.categorical as unknown[]) : fail(`pipeline.categorical is ${show(p.categorical)}; expected a list`);
    cat.forEach((c, i) => {
      const s = (isObject(c) ? c : fail(`pipeline.categorical[${i}] is ${show(c)}`)) as Record<string, unknown>;
      const field = `pipeline.categorical[${i}]`;
      if (typeof s.name !== "string" || typeof s.impute !== "string") fail(`${field} has no name or imputed value`);
      const e = (isObject(s.encoder) ? s.encoder : fail(`${field}.encoder is ${show(s.encoder)}`)) as Record<string, unknown>;
      if (!Array.isArray(e.categories) || e.categories.length !== 1) fail(`${field}.encoder.categories is ${show(e.categories)}; expected the list of the column's categories`);
      const cats = names((e.categories as unknown[])[0], `${field}.encoder.categories`, fail);
      if (cats.length === 0) fail(`${field}.encoder.categories is empty; a one-hot column has at least one category`);
      const inf: unknown = Array.isArray(e.infrequent) ? e.infrequent[0] : e.infrequent === undefined ? null : fail(`${field}.encoder.infrequent is ${show(e.infrequent)}`);
      const nInf = inf === null || inf === undefined ? 0 : names(inf, `${field}.encoder.infrequent`, fail).length;
      if (inf) within(inf as string[], cats, `${field}.encoder.infrequent`, "one of its categories", fail);
      const outputs = cats.length - nInf + (inf ? 1 : 0);
      const dropped: unknown = Array.isArray(e.dropped) ? e.dropped[0] : e.dropped === undefined ? null : fail(`${field}.encoder.dropped is ${show(e.dropped)}`);
      if (dropped !== null && dropped !== undefined && (typeof dropped !== "number" || !Number.isInteger(dropped) || dropped < 0 || dropped >= outputs)) {
        fail(`${field}.encoder.dropped is ${show(dropped)}; expected null or an output column number below ${outputs}`);
      }
      inputs.push(s.name as string);
    });
    const sel = Array.isArray(p.selection) ? (p.selection as unknown[]) : fail(`pipeline.selection is ${show(p.selection)}; expected a list`);
    sel.forEach((x, i) => {
      const s = (isObject(x) ? x : fail(`pipeline.selection[${i}] is ${show(x)}`)) as Record<string, unknown>;
      if (!Array.isArray(s.support) || s.support.some((b) => typeof b !== "boolean")) fail(`pipeline.selection[${i}].support is ${show(s.support)}; expected one true or false per feature`);
    });
    if (p.pca !== null && p.pca !== undefined) {
      const pca = (isObject(p.pca) ? p.pca : fail(`pipeline.pca is ${show(p.pca)}`)) as Record<string, unknown>;
      const d = numbers(pca.mean, null, "pipeline.pca.mean", fail).length;
      const comps = Array.isArray(pca.components) && pca.components.length > 0 ? (pca.components as unknown[]) : fail(`pipeline.pca.components is ${show(pca.components)}; expected a list of components`);
      comps.forEach((c, i) => numbers(c, d, `pipeline.pca.components[${i}]`, fail, `pipeline.pca.mean has ${plural(d, "feature")}`));
      for (const key of ["explainedVariance", "explainedVarianceRatio", "singularValues"]) numbers(pca[key], comps.length, `pipeline.pca.${key}`, fail, `there are ${plural(comps.length, "component")}`);
      if (pca.whiten === true && (pca.explainedVariance as number[]).some((v) => !(v > 0))) fail("pipeline.pca.explainedVariance holds a value ≤ 0, which whitening divides by");
    }
  } else {
    fail(`pipeline.version is ${show(p.version)}; expected 1 or 2`);
  }
  const seen = new Set<string>();
  for (const name of inputs) {
    if (seen.has(name)) fail(`the preprocessing uses the column "${name}" twice`);
    seen.add(name);
    if (!columns.has(name)) fail(`the preprocessing uses the column "${name}", which "columns" does not list`);
  }
}

/**
 * Runs the restored pipeline on one row of missing values: every step checks that its input
 * has the width it was fitted on, so steps that do not fit together (a selection or PCA for
 * another number of features, a scaler of the wrong width) are found here, before any data.
 */
function dryRun(pipeline: FittedPipeline, columns: Map<string, ColumnKind>, nFeatures: number, fail: Fail): void {
  const kinds: Record<string, ColumnKind> = {};
  for (const name of pipeline.inputColumns) kinds[name] = columns.get(name)!;
  let width: number;
  try {
    width = pipeline.transform(datasetFromRecords([{}], kinds, "a check row")).cols;
  } catch (e) {
    return fail(`its preprocessing steps do not fit together (${(e as Error).message})`);
  }
  if (width !== nFeatures) fail(`its preprocessing makes ${width} features but names ${nFeatures}`);
}

function checkTraining(t: unknown, k: number, fail: Fail): void {
  if (t === undefined) return;
  const tr = (isObject(t) ? t : fail(`"training" is ${show(t)}`)) as Record<string, unknown>;
  if (tr.k !== undefined && tr.k !== k) fail(`training.k is ${show(tr.k)} but the model has ${plural(k, "segment")}`);
  if (tr.sizes !== undefined) {
    const sizes = numbers(tr.sizes, k, "training.sizes", fail, `the model has ${plural(k, "segment")}`);
    const bad = sizes.findIndex((s) => !Number.isInteger(s) || s < 0);
    if (bad >= 0) fail(`training.sizes[${bad}] is ${sizes[bad]}; expected a whole number of rows`);
  }
  if (tr.agreement !== undefined) {
    const a = (isObject(tr.agreement) ? tr.agreement : fail(`training.agreement is ${show(tr.agreement)}`)) as Record<string, unknown>;
    if (typeof a.share !== "number" || !(a.share >= 0 && a.share <= 1)) fail(`training.agreement.share is ${show(a.share)}; expected a share from 0 to 1`);
    for (const key of ["rows", "trainingRows"]) {
      const v = a[key];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(`training.agreement.${key} is ${show(v)}; expected a whole number of rows`);
    }
  }
}

function checkSegments(s: unknown, k: number, fail: Fail): void {
  if (s === undefined) return;
  if (!Array.isArray(s) || s.length !== k) fail(`"segments" has ${Array.isArray(s) ? `${s.length} ${s.length === 1 ? "entry" : "entries"}` : show(s)} but the model has ${plural(k, "segment")}`);
  (s as unknown[]).forEach((x, i) => {
    const seg = x as Record<string, unknown>;
    if (!isObject(seg) || seg.segment !== i || typeof seg.name !== "string" || (seg.description !== undefined && typeof seg.description !== "string")) {
      fail(`segments[${i}] is ${show(x)}; expected { "segment": ${i}, "name": a name, "description": a text }`);
    }
  });
}

export interface Prediction {
  ids: string[];
  /** The stable id of each segment number (the model file's segmentIds), or null: the ids are the numbers. Outputs write segmentIds[label]. */
  segmentIds: number[] | null;
  labels: Int32Array;
  /** 1 for rows outside the bounds of the model's "drop" outlier rule (scored all the same); null without such a rule. */
  outliers: Uint8Array | null;
  report: TransformReport;
  warnings: string[];
  /** The name of each segment (index = segment number): from the model file, or "Segment N" for older files. */
  names: string[];
  /** Density-based models: the name of segment −1 (the outliers). */
  noiseName: string | null;
  /** HDBSCAN: how strongly each row belongs to its segment (0 for outliers); Gaussian mixtures: the probability of the assigned segment; null for other models. */
  probabilities: Float64Array | null;
  /** Gaussian mixtures: every row's probability of every segment (rows × k); null for other models. */
  allProbabilities: Matrix | null;
  /**
   * For agglomerative models, how new rows get their segment and how often that agrees with
   * the fitted tree on the training rows (a line to show the user); null for K-Means.
   */
  note: string | null;
}

function checkTransactions(t: unknown, fail: (problem: string) => never): void {
  if (!isObject(t) || (t as { kind?: unknown }).kind !== "rfm") fail(`"transactions" is ${show(t)}; expected the column mapping of a transaction log`);
  const m = t as Record<string, unknown>;
  for (const key of ["customer", "date"]) if (typeof m[key] !== "string" || m[key] === "") fail(`"transactions.${key}" is ${show(m[key])}; expected a column name`);
  for (const key of ["amount", "quantity", "price", "invoice", "product", "cancelPrefix"]) {
    if (m[key] !== undefined && typeof m[key] !== "string") fail(`"transactions.${key}" is ${show(m[key])}; expected a column name`);
  }
  if (m.amount === undefined && (m.quantity === undefined || m.price === undefined)) fail(`"transactions" has neither an amount nor a quantity and a price`);
  if (m.cancellations !== undefined && m.cancellations !== "net" && m.cancellations !== "exclude") fail(`"transactions.cancellations" is ${show(m.cancellations)}; expected "net" or "exclude"`);
}

/** Applies a model file's preprocessing and model to a dataset. */
export function predictWithModel(m: LoadedModelFile, data: Dataset): Prediction {
  const report: TransformReport = { imputed: {}, unseen: {} };
  const X = m.pipeline.transform(data, report);
  // Gaussian mixtures: one E-step gives every probability, the assigned segment and its probability.
  const all = m.model.predictProba(X);
  const scored = all ? topOf(all) : m.model.predictWithProbabilities(X);
  const labels = scored.labels;
  const outliers = m.pipeline.outlierMask(data);
  const warnings: string[] = [];
  const nOut = outliers ? outliers.reduce((a, b) => a + b, 0) : 0;
  if (nOut) warnings.push(`${nOut} rows are outliers by the training rule (${m.pipeline.options.outliers.method}); they got the segment of their nearest center and are marked in the outlier column`);
  for (const [col, u] of Object.entries(report.unseen)) {
    warnings.push(
      `column "${col}": ${u.count} rows have categories not seen in training (${u.examples.map((e) => `"${e}"`).join(", ")}); they were scored with no category of that column`,
    );
  }
  for (const [col, n] of Object.entries(report.imputed)) warnings.push(`column "${col}": ${n} missing values imputed with the training value`);
  const idColumn = m.file.idColumn && data.columns.some((c) => c.name === m.file.idColumn) ? m.file.idColumn : null;
  if (m.file.idColumn && !idColumn) warnings.push(`id column "${m.file.idColumn}" is absent; rows are numbered instead`);
  return { ids: rowIds(data, idColumn), segmentIds: m.file.segmentIds ?? null, labels, outliers, report, warnings, names: segmentNames(m), note: predictNote(m),
    noiseName: m.model.hasNoise ? m.file.noise?.name ?? "Outliers" : null, probabilities: scored.probabilities, allProbabilities: all };
}

/** The centres of a result's segments in its preprocessed space, as the model file records them (null for an empty segment). */
function centreRows(result: SegmentationResult): (number[] | null)[] {
  const C = segmentCentres(result.matrix, result.labels, result.k);
  const rows: (number[] | null)[] = [];
  for (let c = 0; c < C.rows; c++) {
    const row = Array.from(C.data.subarray(c * C.cols, (c + 1) * C.cols));
    rows.push(row.every(Number.isFinite) ? row : null);
  }
  return rows;
}

function lineageOf(s: StableIds): Omit<StableIds, "ids"> {
  const { ids: _ids, ...rest } = s;
  return JSON.parse(JSON.stringify(rest)) as Omit<StableIds, "ids">;
}

/** The segment ids of a loaded model (its segmentIds, or 0…k−1). */
export function modelSegmentIds(m: LoadedModelFile): number[] {
  return m.file.segmentIds ?? Array.from({ length: m.model.nClusters }, (_, i) => i);
}

/**
 * A model file as the previous run of a new segmentation (RunHooks.previous): its segments
 * with their ids and names, its centres (recorded, or for older K-Means files the cluster
 * centres), and its preprocessing to map the new rows into their space. `source` names it.
 */
export function previousFromModel(m: LoadedModelFile, source: string): PreviousRun & { model: LoadedModelFile } {
  const ids = modelSegmentIds(m);
  const names = segmentNames(m);
  const k = m.model.nClusters;
  const d = m.pipeline.featureNames.length;
  let centres: Matrix | null = null;
  if (m.file.centres) {
    checkCentres(m.file, k, d, source);
    const data = new Float64Array(k * d);
    m.file.centres.forEach((row, c) => {
      for (let j = 0; j < d; j++) data[c * d + j] = row ? row[j] : NaN;
    });
    centres = { data, rows: k, cols: d };
  } else if (m.model.inner instanceof KMeansModel) {
    const inner = m.model.inner.clusterCenters;
    const data = new Float64Array(k * d);
    for (let c = 0; c < k; c++) data.set(inner.data.subarray(c * d, (c + 1) * d), (m.model.relabel ? m.model.relabel[c] : c) * d);
    centres = { data, rows: k, cols: d };
  }
  return {
    source, checksum: m.file.checksum ?? null, segments: ids.map((id, i) => ({ id, name: names[i] })), centres, assignments: null,
    transform: (data: Dataset) => m.pipeline.transform(data),
    // The model itself, for the report's Over time section (migration by its prediction, drift from its training data).
    model: m,
  };
}

function checkStable(f: Partial<ModelFile>, k: number, fail: Fail): void {
  if (f.segmentIds !== undefined) {
    const ids = numbers(f.segmentIds, k, "segmentIds", fail, `the model has ${plural(k, "segment")}`);
    const seen = new Set<number>();
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0) fail(`segmentIds[${i}] is ${id}; expected a whole number ≥ 0`);
      if (seen.has(id)) fail(`segmentIds lists ${id} twice`);
      seen.add(id);
      const given = f.segments?.[i]?.id;
      if (given !== undefined && given !== id) fail(`segments[${i}].id is ${show(given)} but segmentIds[${i}] is ${id}`);
    });
  }
}

/** The recorded centres, checked where they are used (matching a later run; scoring does not need them). */
function checkCentres(f: ModelFile, k: number, d: number, where: string): void {
  const fail = (problem: string): never => {
    throw new InputError(`${where}: ${problem}; ${DAMAGED}`);
  };
  if (!Array.isArray(f.centres) || f.centres.length !== k) fail(`"centres" has ${Array.isArray(f.centres) ? f.centres.length : show(f.centres)} rows but the model has ${plural(k, "segment")}`);
  f.centres!.forEach((row, c) => {
    if (row !== null) numbers(row, d, `centres[${c}]`, fail, `the preprocessing makes ${plural(d, "feature")}`);
  });
}

/** The most probable segment of each row (the first on ties) and its probability. */
export function topOf(P: Matrix): { labels: Int32Array; probabilities: Float64Array } {
  const k = P.cols;
  const labels = new Int32Array(P.rows);
  const probabilities = new Float64Array(P.rows);
  for (let i = 0; i < P.rows; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (P.data[i * k + c] > P.data[i * k + best]) best = c;
    labels[i] = best;
    probabilities[i] = P.data[i * k + best];
  }
  return { labels, probabilities };
}

/** Segment names by number: the model file's, or "Segment N" where it has none. */
function segmentNames(m: LoadedModelFile): string[] {
  const k = m.model.nClusters;
  const names = new Array<string>(k);
  const recorded = m.file.segments;
  for (let c = 0; c < k; c++) names[c] = recorded?.[c]?.name || `Segment ${c}`;
  return names;
}

/** For agglomerative models: how new rows get a segment, and how often that agrees with the tree on the training rows. */
function predictNote(m: LoadedModelFile): string | null {
  const rule = m.model.predictRule;
  if (!rule) return null;
  const how = m.model.hasNoise
    ? `${m.model.algorithmName} gives a new customer the segment of the ${rule}${m.model.eps !== null ? ` (${m.model.eps})` : ""}, else marks it an outlier (segment -1)`
    : `agglomerative segments are assigned to new rows by the ${rule}`;
  const a = m.file.training?.agreement;
  if (!a) return `${how}, which can differ from the segments the fitted tree gave the training rows (this model file does not record how often; fit it again to see)`;
  const on = a.rows < a.trainingRows ? `on ${a.rows.toLocaleString("en-US")} of the ${a.trainingRows.toLocaleString("en-US")} training rows` : "on the training rows";
  return `${how}; ${on} this agrees with the ${m.model.hasNoise ? "fit" : "fitted tree"} for ${(100 * a.share).toFixed(1)} %`;
}

/**
 * The checksum of a model file: "sha256:" and the SHA-256 (hex) of the canonical JSON of
 * every field but `checksum` (keys sorted, no spaces, numbers and strings as JSON.stringify
 * writes them), so that it does not depend on indentation or key order and survives a
 * JSON.stringify / JSON.parse round trip. Computed here, in the isomorphic layer, with a
 * small synchronous SHA-256 (Web Crypto's digest is asynchronous).
 */
export function modelChecksum(file: object): string {
  const parts: string[] = [];
  const rest: Record<string, unknown> = { ...(file as Record<string, unknown>) };
  delete rest.checksum;
  canonicalJSON(rest, parts);
  return `sha256:${sha256Hex(new TextEncoder().encode(parts.join("")))}`;
}

/** JSON.stringify's output with every object's keys in sorted order, appended to `out`. */
function canonicalJSON(value: unknown, out: string[]): void {
  let v = value;
  if (typeof v === "object" && v !== null && typeof (v as { toJSON?: unknown }).toJSON === "function") v = (v as { toJSON(): unknown }).toJSON();
  if (v === null) {
    out.push("null");
    return;
  }
  switch (typeof v) {
    case "number":
      out.push(Number.isFinite(v) ? JSON.stringify(v) : "null");
      return;
    case "string":
      out.push(JSON.stringify(v));
      return;
    case "boolean":
      out.push(v ? "true" : "false");
      return;
    case "object":
      break;
    default:
      out.push("null"); // undefined, a function or a symbol in a list (JSON.stringify's rule)
      return;
  }
  if (Array.isArray(v)) {
    // A list of finite numbers (centers, scales): JSON.stringify writes it the same way, faster.
    let plain = true;
    for (let i = 0; i < v.length && plain; i++) plain = typeof v[i] === "number" && Number.isFinite(v[i]);
    if (plain) {
      out.push(JSON.stringify(v));
      return;
    }
    out.push("[");
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(",");
      canonicalJSON(v[i], out);
    }
    out.push("]");
    return;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  out.push("{");
  let first = true;
  for (const key of keys) {
    const x = o[key];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    if (!first) out.push(",");
    first = false;
    out.push(JSON.stringify(key), ":");
    canonicalJSON(x, out);
  }
  out.push("}");
}

const SHA256_K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 (FIPS 180-4) of bytes, as 64 hexadecimal digits. */
export function sha256Hex(bytes: Uint8Array): string {
  const n = bytes.length;
  // The whole blocks are read in place; the last one or two, with the padding and the bit length, from a copy.
  const whole = n - (n % 64);
  const tail = new Uint8Array(n % 64 < 56 ? 64 : 128);
  tail.set(bytes.subarray(whole));
  tail[n % 64] = 0x80;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, Math.floor(n / 0x20000000)); // the bit length's high word: n · 8 / 2^32
  view.setUint32(tail.length - 4, (n * 8) >>> 0);
  const h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Int32Array(64);
  for (let off = 0; off < whole; off += 64) sha256Block(h, w, bytes, off);
  for (let off = 0; off < tail.length; off += 64) sha256Block(h, w, tail, off);
  let hex = "";
  for (let i = 0; i < 8; i++) hex += (h[i] >>> 0).toString(16).padStart(8, "0");
  return hex;
}

/** One 64-byte block of SHA-256 into the state h (w: scratch for the message schedule). */
function sha256Block(h: Int32Array, w: Int32Array, b: Uint8Array, off: number): void {
  for (let t = 0; t < 16; t++) {
    const o = off + 4 * t;
    w[t] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15];
    const y = w[t - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
  }
  let a = h[0];
  let c1 = h[1];
  let c2 = h[2];
  let d = h[3];
  let e = h[4];
  let f = h[5];
  let g = h[6];
  let k = h[7];
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + SHA256_K[t] + w[t]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & c1) ^ (a & c2) ^ (c1 & c2))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c2;
    c2 = c1;
    c1 = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + c1) | 0;
  h[2] = (h[2] + c2) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + k) | 0;
}
