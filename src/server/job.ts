/**
 * The whole job on one file, as `segmenta cluster` does it and as a server's run does it:
 * read and profile the table, run the segmentation, and write every output together (the
 * segments file, the model, the report, the charts). Progress and warnings go to hooks, so a
 * terminal (the CLI) and a child process (the server's runs) show them in their own way.
 */
import { stat } from "node:fs/promises";
import { freemem } from "node:os";
import { basename } from "node:path";
import type { Dataset } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { readColumns } from "../io/extract.js";
import { dropTable, type LoadedTable, loadTable } from "../io/read.js";
import type { RfmMapping } from "../io/rfm.js";
import { profileTable, type TableProfile } from "../io/schema.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, type OutColumn, OutputBatch } from "../io/write.js";
import { AVAILABLE_ALGORITHMS, type SegmentationConfig } from "../pipeline/config.js";
import { buildModelFile, type TransactionFeatures } from "../pipeline/model.js";
import { overTimeFromPrevious } from "../report/over-time.js";
import { type OptionNames, type RunHooks, runSegmentation, type SegmentationResult } from "../pipeline/run.js";
import type { PreviousRun } from "../pipeline/stable.js";
import { renderReportHtml } from "../report/html.js";
import type { StreamInfo } from "../io/stream-cluster.js";
import { clusterStreamedJob, limitDuckMemory, overBudget } from "./stream-job.js";
import { type ChartFormat, resolveFonts, writeCharts } from "../report/render.js";
import { buildSegmentationReport, type ReportMap, type SegmentationReport } from "../report/segmentation.js";

/** Where a job's progress and warnings go. */
export interface JobHooks {
  /** What is being done, and the share of it done (0..1) when known. */
  onProgress?: (message: string, fraction?: number) => void;
  /** A warning in the user's terms (without a "warning:" prefix). */
  onWarning?: (message: string) => void;
  /** K-Means's iterations (see RunHooks.onIteration); pass it only to show it. */
  onIteration?: RunHooks["onIteration"];
  signal?: AbortSignal;
  /** A previous run whose segment ids and names the new segments keep where they match (cluster --previous; see pipeline/stable.ts). */
  previous?: PreviousRun;
}

export interface ClusterOutputs {
  out?: string;
  /** Gaussian mixtures: a probability column per segment in the segments file (probability_0, probability_1, …). */
  probabilities?: boolean;
  /** Write the segments CSV's text cells as they are (no apostrophe before formula-like cells). */
  rawCsv?: boolean;
  model?: string;
  /** The HTML report. */
  report?: string;
  /** A folder for the report's charts as SVG and PNG files. */
  charts?: string;
  /** The maps the report draws (default PCA and t-SNE). */
  maps?: ReportMap[];
  /** The name of the data in the report (default: the file's name). */
  title?: string;
  /** The transaction log's mapping when the table is its RFM features: recorded in the model for predict. */
  transactions?: RfmMapping;
  /** Set by clusterFile: the chart files written into `charts`. */
  chartFiles?: string[];
}

async function checkFolder(path: string, flag: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new InputError(`${flag} ${path}: the folder does not exist; create it first (mkdir ${path}) or choose another`);
  }
  if (!s.isDirectory()) throw new InputError(`${flag} ${path} is a file, not a folder; give a folder for the chart files`);
}

export interface ClusterRun {
  result: SegmentationResult;
  data: Dataset;
  profile: TableProfile;
  outputs: ClusterOutputs;
  /** Set when the table was over the memory budget and the run streamed it (io/stream-cluster.ts). */
  streamed?: StreamInfo;
}

/**
 * Checks the output paths of a run before any work: each can be written, none is an input
 * (`inputs`: the data file, or the transaction log) and no two are the same file.
 */
export async function checkClusterOutputs(outputs: ClusterOutputs, inputs: NamedPath[]): Promise<void> {
  if (outputs.out) await checkOutputPath(outputs.out, "--out", "data");
  if (outputs.model) await checkOutputPath(outputs.model, "--model", "text");
  if (outputs.report) await checkOutputPath(outputs.report, "--report", "text");
  if (outputs.charts) await checkFolder(outputs.charts, "--charts");
  const named = (["out", "model", "report"] as const).filter((k) => outputs[k]).map((k) => ({ flag: `--${k}`, path: outputs[k]! }));
  await checkDistinctPaths(inputs, named);
}

/** Loads a file, runs the segmentation and writes the outputs. Shared by `cluster` and `demo`. */
export async function clusterFile(
  file: string, config: SegmentationConfig, outputs: ClusterOutputs, hooks: JobHooks,
  options: { sheet?: string; inputs?: NamedPath[]; memory?: number; load?: () => Promise<LoadedTable>; optionNames?: OptionNames } = {},
): Promise<ClusterRun> {
  // Messages name the CLI's flags (--k), or for a server's run the configuration's fields (k), as runSegmentation does.
  const names = options.optionNames ?? "cli";
  const flag = (field: string, cli: string) => (names === "cli" ? cli : field);
  // Everything that can be checked without the data is checked before reading it.
  if (!(AVAILABLE_ALGORITHMS as readonly string[]).includes(config.algorithm)) {
    throw new InputError(`${flag("algorithm", "--algorithm")} ${config.algorithm} is not available yet; use ${flag("algorithm", "--algorithm")} ${AVAILABLE_ALGORITHMS.join(" or ")}`);
  }
  await checkClusterOutputs(outputs, options.inputs ?? [{ flag: "input", path: file }]);
  const say = (message: string, fraction?: number): void => hooks.onProgress?.(message, fraction);
  const warn = (message: string): void => hooks.onWarning?.(message);
  say(`reading ${file}`);
  // The id column is read as text, verbatim: "007" stays "007", "A-12" among numbers is kept.
  // With a memory budget (--memory), DuckDB spills beyond a share of it, and a table over it is streamed.
  if (options.memory !== undefined) await limitDuckMemory(options.memory);
  const t = options.load ? await options.load() : await loadTable(file, { sheet: options.sheet, text: config.id ? [config.id] : [] });
  try {
    const budget = overBudget(t, options.memory);
    if (budget.over) {
      if (hooks.previous) {
        throw new InputError(
          `--previous: ${file} is over the memory budget (--memory) and would be streamed, which does not match segments to a previous run yet; raise --memory, or cluster without --previous and compare the segments files (segmenta compare)`,
        );
      }
      return await clusterStreamedJob(t, file, config, outputs, hooks, options.memory!, budget.estimate, transactionFeatures(outputs.transactions));
    }
    const { data, profile } = await readForClustering(t, config, flag);
    for (const line of columnWarnings(profile, config)) warn(line);
    const result = await runSegmentation(config, data, {
      onProgress: say, onIteration: hooks.onIteration, onWarning: warn, signal: hooks.signal, memoryLimit: availableMemory(), optionNames: names,
      ...(hooks.previous ? { previous: hooks.previous } : {}),
    });
    // Everything is prepared, then written together: a failure leaves no output changed.
    const modelText = outputs.model ? JSON.stringify(buildModelFile(result, data, { transactions: transactionFeatures(outputs.transactions) }), null, 1) + "\n" : undefined;
    let report: SegmentationReport | undefined;
    if (outputs.report || outputs.charts) {
      // With a previous run: the Over time section (migration from its segments, drift from its training data).
      const notes: string[] = [];
      const overTime = hooks.previous ? overTimeFromPrevious(hooks.previous, result, data, notes) : null;
      for (const n of notes) warn(n);
      report = await buildSegmentationReport(result, data, {
        source: outputs.title ?? basename(file), readAs: profile.details, maps: outputs.maps, onProgress: say, ...(overTime ? { extraSections: [overTime.section] } : {}),
      });
      if (overTime) report.charts = { ...report.charts, ...overTime.charts };
    }
    const html = report && outputs.report ? await renderReportHtml(report.document) : undefined;
    await OutputBatch.write(async (batch) => {
      if (outputs.out) await batch.columns(outputs.out, segmentColumns(result, { probabilities: outputs.probabilities }), { raw: outputs.rawCsv });
      if (outputs.model && modelText !== undefined) await batch.text(outputs.model, modelText);
      if (outputs.report && html !== undefined) await batch.text(outputs.report, html);
      if (outputs.charts && report) {
        let formats: ChartFormat[] = ["svg", "png"];
        try {
          resolveFonts();
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          formats = ["svg"];
          warn(`no font for PNG charts on this machine, so --charts writes SVG only (${e.message})`);
        }
        outputs.chartFiles = await writeCharts(outputs.charts, report.charts, formats, { batch });
      }
    });
    return { result, data, profile, outputs };
  } finally {
    await dropTable(t);
  }
}

/** What a model records of a transaction log's mapping: all but the as-of date, which is each log's own. */
function transactionFeatures(map: RfmMapping | undefined): TransactionFeatures | undefined {
  if (!map) return undefined;
  const { asOf: _asOf, ...rest } = map;
  return { kind: "rfm", ...rest };
}

/**
 * The memory a run may use for its biggest arrays: most of what the machine has available
 * (os.freemem is Linux's MemAvailable, caches it can give back included), leaving room for
 * the rest of the run.
 */
export function availableMemory(): number {
  return 0.8 * freemem();
}

/** Warnings about columns that are clustered on by default but probably should not be. */
function columnWarnings(profile: TableProfile, config: SegmentationConfig): string[] {
  if (config.features) return [];
  const out: string[] = [];
  for (const c of profile.columns) {
    if (config.profile.includes(c.name) || c.name === config.id) continue;
    if (c.outcome) {
      out.push(`column "${c.name}" looks like an outcome (what happened to the customer), yet it is clustered on; to describe the segments by it without clustering on it, add --profile ${c.name}`);
    } else if (c.codedCategory && c.kind === "numeric") {
      out.push(`column "${c.name}" holds a few whole-number codes and is named like a category; if the numbers are labels, read it as one with --type ${c.name}=categorical`);
    }
  }
  return out;
}

async function readForClustering(
  t: LoadedTable, config: SegmentationConfig, flag: (field: string, cli: string) => string = (_f, cli) => cli,
): Promise<{ data: Dataset; profile: TableProfile }> {
  // Named columns are checked before the work of profiling.
  const names = t.columns.map((c) => c.name);
  for (const f of config.features ?? []) {
    if (!names.includes(f)) throw new InputError(`${flag("features", "--features")}: ${t.file} has no column "${f}"; columns are: ${names.join(", ")}`);
  }
  if (config.id && !names.includes(config.id)) {
    throw new InputError(`${flag("id", "--id")}: ${t.file} has no column "${config.id}"; columns are: ${names.join(", ")}`);
  }
  // The id column is an id, whatever its values look like.
  const profile = await profileTable(t, config.id ? { ...config.types, [config.id]: "id" } : config.types);
  // Text in a numeric column is an error only where the column would be a feature.
  const strict = config.features ?? profile.columns.filter((c) => c.kind === "numeric" && c.name !== config.id).map((c) => c.name);
  const data = await readColumns(t, profile, names, strict);
  return { data, profile };
}

/** The columns of a segments file: the id, the segment number and its name, and the outlier flag. */
export function segmentColumns(result: SegmentationResult, options: { probabilities?: boolean } = {}): OutColumn[] {
  const names = result.segments.map((s) => s.name);
  const ids = result.segmentIds;
  const noiseName = result.noise?.name ?? "Outliers";
  // The outlier flag: noise of a density-based algorithm (segment −1), or a row outside an outlier rule's bounds.
  const density = result.density !== undefined;
  let outlier: Uint8Array | null = result.outliers;
  if (density) {
    outlier = Uint8Array.from(result.labels, (l, i) => (l < 0 || (result.outliers?.[i] ?? 0) ? 1 : 0));
  }
  const prob = result.density?.probabilities ?? result.mixture?.maxProbability;
  const all = options.probabilities && result.mixture ? probabilityColumns(result.mixture.probabilities) : [];
  return [
    { name: result.idColumn ?? "row", type: result.idColumn ? "VARCHAR" : "INTEGER", values: result.ids },
    // With stable ids (--previous) a segment's number is its id; labels index result.segments.
    { name: "segment", type: "INTEGER", values: ids ? Int32Array.from(result.labels, (l) => (l < 0 ? l : ids[l])) : result.labels },
    { name: "segment_name", type: "VARCHAR", values: Array.from(result.labels, (l) => (l < 0 ? noiseName : names[l] ?? `Segment ${l}`)) },
    ...(outlier ? [{ name: "outlier", type: "INTEGER" as const, values: outlier }] : []),
    ...(prob ? [{ name: "probability", type: "DOUBLE" as const, values: prob }] : []),
    ...all,
  ];
}

/** One column per segment, probability_<segment>: every row's probability of that segment. */
export function probabilityColumns(P: { data: Float64Array; rows: number; cols: number }): OutColumn[] {
  return Array.from({ length: P.cols }, (_, c) => ({
    name: `probability_${c}`, type: "DOUBLE" as const, values: Float64Array.from({ length: P.rows }, (_, i) => P.data[i * P.cols + c]),
  }));
}

