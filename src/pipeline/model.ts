import type { ModelJSON } from "../cluster/load.js";
import type { ColumnKind, Dataset } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { FittedPipeline, type PipelineJSON, type TransformReport } from "../preprocess/pipeline.js";
import { parseConfig, type SegmentationConfig } from "./config.js";
import { Segmenter } from "./segmenter.js";
import { rowIds, type SegmentationResult } from "./run.js";

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
  training: { source: string; rows: number; k: number; silhouette: number; inertia: number; sizes: number[] };
}

export function buildModelFile(result: SegmentationResult, data: Dataset): ModelFile {
  const inputs = new Set(result.pipeline.inputColumns);
  return {
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
    },
  };
}

export interface LoadedModelFile {
  file: ModelFile;
  pipeline: FittedPipeline;
  model: Segmenter;
}

/** Validates a parsed model file. `where` names it in messages. */
export function parseModelFile(json: unknown, where = "model"): LoadedModelFile {
  const f = json as Partial<ModelFile> | null;
  if (!f || typeof f !== "object" || f.format !== MODEL_FORMAT) {
    throw new InputError(`${where} is not a Segmenta model file (no "format": "${MODEL_FORMAT}"); pass the file written by segmenta cluster --model`);
  }
  if (typeof f.version !== "number" || f.version > MODEL_VERSION) {
    throw new InputError(`${where} has model format version ${f.version}, newer than this Segmenta understands (${MODEL_VERSION}); upgrade Segmenta`);
  }
  if (!Array.isArray(f.columns) || !f.pipeline || !f.model) {
    throw new InputError(`${where} is incomplete (columns, pipeline or model missing); fit the model again`);
  }
  const config = parseConfig(f.config);
  const pipeline = FittedPipeline.fromJSON(f.pipeline);
  const model = Segmenter.fromJSON(f.model, f.relabel);
  if (model.nFeatures !== pipeline.featureNames.length) {
    throw new InputError(`${where} is inconsistent: the model expects ${model.nFeatures} features, the pipeline makes ${pipeline.featureNames.length}; fit the model again`);
  }
  return { file: { ...(f as ModelFile), config }, pipeline, model };
}

export interface Prediction {
  ids: string[];
  labels: Int32Array;
  /** 1 for rows outside the bounds of the model's "drop" outlier rule (scored all the same); null without such a rule. */
  outliers: Uint8Array | null;
  report: TransformReport;
  warnings: string[];
}

/** Applies a model file's preprocessing and model to a dataset. */
export function predictWithModel(m: LoadedModelFile, data: Dataset): Prediction {
  const report: TransformReport = { imputed: {}, unseen: {} };
  const X = m.pipeline.transform(data, report);
  const labels = m.model.predict(X);
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
  return { ids: rowIds(data, idColumn), labels, outliers, report, warnings };
}
