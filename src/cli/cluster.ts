import { stat } from "node:fs/promises";
import { freemem } from "node:os";
import { basename } from "node:path";
import type { Dataset } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { readColumns } from "../io/extract.js";
import { dropTable, type LoadedTable, loadTable } from "../io/read.js";
import { profileTable, type TableProfile } from "../io/schema.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, type OutColumn, OutputBatch } from "../io/write.js";
import { AVAILABLE_ALGORITHMS, isDensityAlgorithm, parseConfig, type SegmentationConfig, type SegmentationConfigInput } from "../pipeline/config.js";
import type { RfmMapping } from "../io/rfm.js";
import { buildModelFile, type TransactionFeatures } from "../pipeline/model.js";
import { runSegmentation, type SegmentationResult } from "../pipeline/run.js";
import { renderReportHtml } from "../report/html.js";
import { type ChartFormat, resolveFonts, writeCharts } from "../report/render.js";
import { buildSegmentationReport, type ReportMap, type SegmentationReport } from "../report/segmentation.js";
import {
  endProgress, fmtNum, type Io, onePositional, parse, parseK, parseList, parseTypes, parseWholeNumber, pct, progress, table,
} from "./common.js";
import { describeRfm, givenMappingFlag, RFM_MAPPING_OPTIONS, rfmJson, rfmMapping, type RfmMappingValues, withRfmFile } from "./rfm.js";


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
  file: string, config: SegmentationConfig, outputs: ClusterOutputs, io: Io, options: { sheet?: string; inputs?: NamedPath[] } = {},
): Promise<ClusterRun> {
  // Everything that can be checked without the data is checked before reading it.
  if (!(AVAILABLE_ALGORITHMS as readonly string[]).includes(config.algorithm)) {
    throw new InputError(`--algorithm ${config.algorithm} is not available yet; use --algorithm ${AVAILABLE_ALGORITHMS.join(" or ")}`);
  }
  await checkClusterOutputs(outputs, options.inputs ?? [{ flag: "input", path: file }]);
  const report_ = progress(io);
  report_(`reading ${file}`);
  // The id column is read as text, verbatim: "007" stays "007", "A-12" among numbers is kept.
  const t = await loadTable(file, { sheet: options.sheet, text: config.id ? [config.id] : [] });
  try {
    const { data, profile } = await readForClustering(t, config);
    const warnings = columnWarnings(profile, config);
    if (warnings.length) endProgress(io);
    for (const line of warnings) io.err(`warning: ${line}`);
    const result = await runSegmentation(config, data, {
      onProgress: report_,
      onIteration: io.tty
        ? (p) => report_(`K-Means: initialisation ${p.init + 1}/${p.nInit}, iteration ${p.iteration}, inertia ${fmtNum(p.inertia, 6)}`, p.init / p.nInit)
        : undefined,
      onWarning: (m) => {
        endProgress(io);
        io.err(`warning: ${m}`);
      },
      memoryLimit: availableMemory(),
      optionNames: "cli",
    });
    endProgress(io);
    // Everything is prepared, then written together: a failure leaves no output changed.
    const modelText = outputs.model ? JSON.stringify(buildModelFile(result, data, { transactions: transactionFeatures(outputs.transactions) }), null, 1) + "\n" : undefined;
    let report: SegmentationReport | undefined;
    if (outputs.report || outputs.charts) {
      report = await buildSegmentationReport(result, data, { source: outputs.title ?? basename(file), readAs: profile.details, maps: outputs.maps, onProgress: report_ });
    }
    const html = report && outputs.report ? await renderReportHtml(report.document) : undefined;
    endProgress(io);
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
          io.err(`warning: no font for PNG charts on this machine, so --charts writes SVG only (${e.message})`);
        }
        outputs.chartFiles = await writeCharts(outputs.charts, report.charts, formats, { batch });
      }
    });
    return { result, data, profile, outputs };
  } finally {
    endProgress(io);
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

async function readForClustering(t: LoadedTable, config: SegmentationConfig): Promise<{ data: Dataset; profile: TableProfile }> {
  // Named columns are checked before the work of profiling.
  const names = t.columns.map((c) => c.name);
  for (const f of config.features ?? []) {
    if (!names.includes(f)) throw new InputError(`--features: ${t.file} has no column "${f}"; columns are: ${names.join(", ")}`);
  }
  if (config.id && !names.includes(config.id)) {
    throw new InputError(`--id: ${t.file} has no column "${config.id}"; columns are: ${names.join(", ")}`);
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
    { name: "segment", type: "INTEGER", values: result.labels },
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

/** The flags that shape a segmentation, shared by cluster and tune. */
export const SEGMENTATION_OPTIONS = {
  id: { type: "string" },
  features: { type: "string" },
  profile: { type: "string" },
  algorithm: { type: "string" },
  linkage: { type: "string" },
  k: { type: "string" },
  seed: { type: "string" },
  "n-init": { type: "string" },
  "max-iter": { type: "string" },
  "batch-size": { type: "string" },
  type: { type: "string", multiple: true },
  log: { type: "string" },
  prep: { type: "string" },
  impute: { type: "string" },
  "fill-value": { type: "string" },
  "missing-indicator": { type: "boolean" },
  scale: { type: "string" },
  power: { type: "string" },
  "power-method": { type: "string" },
  outliers: { type: "string" },
  "min-frequency": { type: "string" },
  drop: { type: "string" },
  "unknown-categories": { type: "string" },
  ordinal: { type: "string", multiple: true },
  "variance-threshold": { type: "string" },
  "correlation-threshold": { type: "string" },
  pca: { type: "string" },
  whiten: { type: "boolean" },
  dates: { type: "string" },
  eps: { type: "string" },
  "min-samples": { type: "string" },
  "min-cluster-size": { type: "string" },
  "cluster-selection": { type: "string" },
  "cluster-selection-epsilon": { type: "string" },
  "allow-single-cluster": { type: "boolean" },
  metric: { type: "string" },
  "optics-method": { type: "string" },
  covariance: { type: "string" },
  "reg-covar": { type: "string" },
  xi: { type: "string" },
  "max-eps": { type: "string" },
} as const;

export type SegmentationValues = Partial<Record<Exclude<keyof typeof SEGMENTATION_OPTIONS, "type" | "ordinal" | "missing-indicator" | "whiten" | "allow-single-cluster">, string>> & {
  "allow-single-cluster"?: boolean;
  type?: string[];
  ordinal?: string[];
  "missing-indicator"?: boolean;
  whiten?: boolean;
};

/** The configuration those flags give (everything but k). */
export function segmentationInput(values: SegmentationValues): SegmentationConfigInput {
  return {
    features: parseList(values.features),
    profile: parseList(values.profile),
    id: values.id,
    types: parseTypes(values.type),
    algorithm: values.algorithm as SegmentationConfigInput["algorithm"],
    linkage: values.linkage as SegmentationConfigInput["linkage"],
    seed: parseWholeNumber("--seed", values.seed, 0),
    nInit: parseWholeNumber("--n-init", values["n-init"], 1),
    maxIter: parseWholeNumber("--max-iter", values["max-iter"], 1),
    batchSize: parseWholeNumber("--batch-size", values["batch-size"], 1),
    ...densityInput(values),
    preprocessing: preprocessingInput(values),
  };
}

const DENSITY_FLAGS = [
  "eps", "min-samples", "min-cluster-size", "cluster-selection", "cluster-selection-epsilon", "allow-single-cluster", "metric", "optics-method", "xi", "max-eps",
] as const;

/** Which density-based algorithms each density flag applies to. */
const DENSITY_FLAG_USE: Record<(typeof DENSITY_FLAGS)[number], string[]> = {
  eps: ["dbscan", "optics"], "min-samples": ["dbscan", "hdbscan", "optics"], "min-cluster-size": ["hdbscan", "optics"],
  "cluster-selection": ["hdbscan"], "cluster-selection-epsilon": ["hdbscan"], "allow-single-cluster": ["hdbscan"], metric: ["dbscan", "hdbscan", "optics"],
  "optics-method": ["optics"], xi: ["optics"], "max-eps": ["optics"],
};

/** The density-based algorithms' flags as the configuration's fields; a flag that does not apply to the algorithm is refused. */
function densityInput(values: SegmentationValues): Partial<SegmentationConfigInput> {
  const algorithm = values.algorithm ?? "kmeans";
  for (const f of ["covariance", "reg-covar"] as const) {
    if (values[f] !== undefined && algorithm !== "gmm") throw new InputError(`--${f} applies to --algorithm gmm, not ${algorithm}`);
  }
  for (const f of DENSITY_FLAGS) {
    if (values[f] !== undefined && !DENSITY_FLAG_USE[f].includes(algorithm)) {
      throw new InputError(`--${f} applies to --algorithm ${DENSITY_FLAG_USE[f].join(" or ")}, not ${algorithm}`);
    }
  }
  const eps = values.eps === undefined ? undefined : values.eps.trim().toLowerCase() === "auto" ? "auto" as const : parseNumberFlag("--eps", values.eps);
  return {
    eps, minSamples: parseWholeNumber("--min-samples", values["min-samples"], 1), minClusterSize: parseWholeNumber("--min-cluster-size", values["min-cluster-size"], 2),
    clusterSelectionMethod: values["cluster-selection"] as SegmentationConfigInput["clusterSelectionMethod"],
    clusterSelectionEpsilon: parseNumberFlag("--cluster-selection-epsilon", values["cluster-selection-epsilon"]),
    allowSingleCluster: values["allow-single-cluster"],
    metric: values.metric as SegmentationConfigInput["metric"],
    opticsMethod: values["optics-method"] as SegmentationConfigInput["opticsMethod"],
    xi: parseNumberFlag("--xi", values.xi), maxEps: parseNumberFlag("--max-eps", values["max-eps"]),
    covarianceType: values.covariance as SegmentationConfigInput["covarianceType"],
    regCovar: parseNumberFlag("--reg-covar", values["reg-covar"]),
  };
}

/** --k has no meaning for the density-based algorithms: they find the number of segments. */
export function checkKForAlgorithm(values: SegmentationValues): void {
  if (values.k !== undefined && values.algorithm !== undefined && isDensityAlgorithm(values.algorithm)) {
    throw new InputError(
      `--k does not apply to --algorithm ${values.algorithm}: it finds the number of segments from the density of the data; ` +
        (values.algorithm === "hdbscan" ? "use --min-cluster-size (and --min-samples) instead" : values.algorithm === "dbscan" ? "use --eps and --min-samples instead" : "use --min-samples and --xi instead"),
    );
  }
}

/** A number given to a flag, or undefined when the flag is absent. */
function parseNumberFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x)) throw new InputError(`${flag} ${text}: expected a number`);
  return x;
}

/** The preprocessing flags (see `segmenta cluster --help`) as the configuration's preprocessing. */
export function preprocessingInput(values: SegmentationValues): NonNullable<SegmentationConfigInput["preprocessing"]> {
  let outliers: { method: string; action?: string } | undefined;
  if (values.outliers !== undefined) {
    const [method, action] = values.outliers.split(":");
    outliers = { method, ...(action ? { action } : {}) };
  }
  const ordinal: Record<string, string[]> = {};
  for (const spec of values.ordinal ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new InputError(`--ordinal ${spec}: expected COLUMN=low<mid<high (or COLUMN= for sorted order)`);
    const order = spec.slice(eq + 1);
    ordinal[spec.slice(0, eq)] = order ? order.split("<").map((x) => x.trim()) : [];
  }
  const pca = parseNumberFlag("--pca", values.pca);
  if (values.whiten && pca === undefined) throw new InputError("--whiten needs --pca N (components) or --pca 0.9 (share of variance)");
  const input = {
    plan: values.prep,
    numericImpute: values.impute,
    fillValue: parseNumberFlag("--fill-value", values["fill-value"]),
    missingIndicator: values["missing-indicator"],
    scale: values.scale,
    log1p: parseList(values.log) ?? [],
    power: parseList(values.power) ?? [],
    powerMethod: values["power-method"],
    outliers,
    oneHot: values["min-frequency"] !== undefined || values.drop !== undefined || values["unknown-categories"] !== undefined
      ? { minFrequency: parseNumberFlag("--min-frequency", values["min-frequency"]), drop: values.drop, handleUnknown: values["unknown-categories"] }
      : undefined,
    ordinal,
    varianceThreshold: parseNumberFlag("--variance-threshold", values["variance-threshold"]),
    correlationThreshold: parseNumberFlag("--correlation-threshold", values["correlation-threshold"]),
    pca: pca === undefined ? undefined : { nComponents: pca, whiten: values.whiten ?? false },
    dates: values.dates,
    // --as-of: with --transactions the date of the RFM features, else the reference date of --dates days-since.
    asOf: (values as { "as-of"?: string })["as-of"],
  };
  return input as NonNullable<SegmentationConfigInput["preprocessing"]>;
}

/** The flags of cluster that say what to write and how to show it. */
export const OUTPUT_OPTIONS = {
  out: { type: "string" },
  probabilities: { type: "boolean" },
  model: { type: "string" },
  report: { type: "string" },
  charts: { type: "string" },
  map: { type: "string" },
  sheet: { type: "string" },
  "raw-csv": { type: "boolean" },
  wide: { type: "boolean" },
} as const;

export type OutputValues = Partial<Record<"out" | "model" | "report" | "charts" | "map" | "sheet", string>> & { "raw-csv"?: boolean; wide?: boolean; probabilities?: boolean };

export async function clusterCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<SegmentationValues & OutputValues & RfmMappingValues & { transactions?: boolean }>("cluster", args, {
    ...SEGMENTATION_OPTIONS,
    ...OUTPUT_OPTIONS,
    transactions: { type: "boolean" },
    ...RFM_MAPPING_OPTIONS,
  });
  const file = onePositional("cluster", positionals, "data file");
  if (values.transactions) return clusterTransactions(file, values, io);
  const mappingFlag = givenMappingFlag(values);
  if (mappingFlag) throw new InputError(`--${mappingFlag} maps the columns of a transaction log: add --transactions to cluster customers by their RFM features`);
  checkKForAlgorithm(values);
  if (values.probabilities && values.algorithm !== "gmm") throw new InputError("--probabilities gives every segment's probability, which --algorithm gmm has; other algorithms give one segment per customer");
  const input: SegmentationConfigInput = { ...segmentationInput(values), k: parseK(values.k) };
  const config = parseConfig(JSON.parse(JSON.stringify(input)), "cli");
  const run = await clusterFile(file, config, reportOutputs(values), io, { sheet: values.sheet });
  if (values.json) io.out(JSON.stringify(clusterJson(run), null, 2));
  else printCluster(run, io, { wide: values.wide });
  return 0;
}

/** The output flags of cluster: --out, --model, --report, --charts and --map. */
function reportOutputs(values: OutputValues): ClusterOutputs {
  let maps: ReportMap[] | undefined;
  if (values.map !== undefined) {
    maps = (parseList(values.map) ?? []).map((m) => m.toLowerCase().replace("-", "")) as ReportMap[];
    const bad = maps.find((m) => !["pca", "tsne", "umap"].includes(m));
    if (bad !== undefined || !maps.length) throw new InputError(`--map ${values.map}: expected a list of pca, tsne and umap (for example --map pca,tsne)`);
    if (!values.report && !values.charts) throw new InputError("--map chooses the maps of the report: add --report report.html or --charts DIR");
  }
  if (values.probabilities && !values.out) throw new InputError("--probabilities adds a column per segment to the segments file: add --out segments.csv");
  return { out: values.out, model: values.model, report: values.report, charts: values.charts, maps, rawCsv: values["raw-csv"], probabilities: values.probabilities };
}

/** Every column of the RFM table that describes a customer (see io/rfm.ts). */
const RFM_COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "mean_days_between_purchases", "distinct_products", "return_rate"];

/** RFM features used by default for `cluster --transactions`. */
const RFM_FEATURES = ["recency_days", "frequency", "monetary"];

/**
 * The configuration of a segmentation of RFM features computed from a transaction log
 * (`cluster --transactions`, `tune --transactions`): by default the features recency_days,
 * frequency and monetary, each through a signed log1p, the other RFM columns in the profiles.
 */
export function rfmSegmentationInput(
  values: SegmentationValues, map: { product?: string }, rest: Partial<SegmentationConfigInput>,
): SegmentationConfigInput {
  const features = parseList(values.features) ?? RFM_FEATURES;
  // --type applies to the log, so the RFM table's kinds are inferred.
  return {
    ...segmentationInput({ ...values, type: undefined }),
    features,
    // The other RFM columns describe the segments without being clustered on.
    profile: parseList(values.profile) ?? RFM_COLUMNS.filter((c) => !features.includes(c) && (c !== "distinct_products" || map.product !== undefined)),
    id: values.id ?? "customer_id",
    ...rest,
    preprocessing: {
      ...preprocessingInput(values),
      // By default the RFM features are compressed (unless the plan is automatic, which decides itself).
      log1p: parseList(values.log) ?? (values.prep === "auto" ? [] : features.filter((f) => RFM_FEATURES.includes(f))),
    },
  };
}

/**
 * `cluster --transactions`: RFM features of the log into a temporary file, then clusterFile
 * on it. --type applies to the log; --features, --id and --log to the RFM table.
 */
async function clusterTransactions(
  file: string,
  values: RfmMappingValues & SegmentationValues & OutputValues & { json?: boolean },
  io: Io,
): Promise<number> {
  const map = rfmMapping(values, "cluster --transactions");
  checkKForAlgorithm(values);
  const config = parseConfig(JSON.parse(JSON.stringify(rfmSegmentationInput(values, map, { k: parseK(values.k) }))), "cli");
  const outputs = { ...reportOutputs(values), title: `${basename(file)} (RFM features)` };
  const inputs = [{ flag: "input", path: file }];
  await checkClusterOutputs(outputs, inputs);
  return withRfmFile(file, map, parseTypes(values.type), async (path, rfm) => {
    const raw = await clusterFile(path, config, { ...outputs, transactions: map }, io, { inputs });
    const run: ClusterRun = { ...raw, data: { ...raw.data, source: `${file} (RFM features)` } };
    // The features and the profile columns are --transactions' defaults unless given: say so.
    for (const f of run.result.features) {
      if (values.features === undefined && f.reason === "chosen with --features") f.reason = "an RFM feature clustered on by default (--features to choose)";
      if (values.profile === undefined && f.reason.startsWith("described in the profiles")) f.reason = "an RFM column described in the profiles by default, not clustered on";
    }
    if (values.json) {
      io.out(JSON.stringify({ ...clusterJson(run), file, rfm: rfmJson(file, rfm) }, null, 2));
    } else {
      for (const line of describeRfm(rfm)) io.out(line);
      io.out("");
      printCluster(run, io, { wide: values.wide });
    }
    return 0;
  }, { sheet: values.sheet });
}

export function clusterJson(run: ClusterRun) {
  const r = run.result;
  return {
    file: run.data.source,
    rows: run.data.rows,
    idColumn: r.idColumn,
    features: r.features,
    featureNames: r.featureNames,
    preprocessing: r.plan,
    preprocessingPlan: r.planSteps,
    ...(r.outliers ? { outliers: r.outliers.reduce((a, b) => a + b, 0) } : {}),
    algorithm: r.config.algorithm,
    k: r.k,
    seed: r.config.seed,
    segments: r.segments,
    rules: r.rules.segments.map((x) => ({ segment: x.segment, text: x.text, sql: x.sql, precision: x.precision, recall: x.recall, rules: x.rules.map((y) => ({ text: y.text, sql: y.sql, coverage: y.coverage, precision: y.precision, matched: y.matched })) })),
    rulesSql: r.rulesSql,
    rulesTrainingRows: r.rules.trainingRows,
    rulesNotes: r.rules.notes,
    silhouette: r.silhouette,
    silhouetteSample: r.silhouetteSample,
    ...(r.mixture
      ? {
          mixture: {
            covarianceType: r.mixture.covarianceType, converged: r.mixture.converged, nIter: r.mixture.nIter, lowerBound: r.mixture.lowerBound,
            bic: r.mixture.bic, aic: r.mixture.aic, nParameters: r.mixture.nParameters,
            betweenSegments: { threshold: r.mixture.between.threshold, count: r.mixture.between.count, share: r.mixture.between.share, pairs: r.mixture.between.pairs },
            selection: r.mixture.selection,
          },
        }
      : {}),
    ...(r.density
      ? {
          noise: r.noise,
          density: {
            algorithm: r.density.algorithm, outliers: r.density.noise, eps: r.density.eps, epsReason: r.density.epsReason, minSamples: r.density.minSamples,
            minClusterSize: r.density.minClusterSize, metric: r.config.metric, silhouetteWithNoise: r.density.silhouetteWithNoise,
            silhouetteNote: "silhouette leaves the outliers out; silhouetteWithNoise counts them as one more group",
          },
        }
      : {}),
    inertia: r.inertia,
    nIter: r.nIter,
    ...(r.kSearch ? { kSearch: r.kSearch } : {}),
    ...(r.kChoice ? { kRecommendation: r.kChoice.recommendation, kNotes: r.kChoice.notes } : {}),
    warnings: r.warnings,
    outputs: run.outputs,
  };
}

/** The features chosen (and why) and the preprocessing plan, as cluster and tune print them. */
export function printPlan(run: ClusterRun, io: Io): void {
  const r = run.result;
  io.out("features:");
  for (const f of r.features) io.out(`  ${f.used ? "+" : "-"} ${f.name} (${f.kind}): ${f.reason}`);
  io.out("");
  io.out(`preprocessing plan (${r.config.preprocessing.plan}):`);
  for (const step of r.planSteps) io.out(`  - ${step.step}${step.columns.length ? ` [${step.columns.join(", ")}]` : ""}: ${step.reason}`);
  io.out(`fitted steps (${r.featureNames.length} ${r.featureNames.length === 1 ? "feature" : "features"} after encoding):`);
  r.plan.forEach((line, i) => io.out(`  ${i + 1}. ${line}`));
  io.out("");
}

/** Columns of the console's segment table before it is cut to the most distinguishing ones (all with --wide). */
const NARROW_COLUMNS = 8;

/**
 * The numeric features in the order of how much they set the segments apart: the spread of
 * the segment means (weighted by size) over the population's standard deviation.
 */
function distinguishing(run: ClusterRun, names: string[]): string[] {
  const score = new Map<string, number>();
  for (const name of names) {
    const col = run.data.columns.find((c) => c.name === name);
    if (!col || !(col.values instanceof Float64Array)) {
      score.set(name, 0);
      continue;
    }
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (const v of col.values) {
      if (Number.isNaN(v)) continue;
      n++;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
    }
    const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
    let spread = 0;
    for (const seg of run.result.segments) {
      const m = seg.means[name];
      if (Number.isFinite(m) && sd > 0) spread += seg.share * ((m - mean) / sd) ** 2;
    }
    score.set(name, spread);
  }
  return [...names].sort((a, b) => score.get(b)! - score.get(a)! || names.indexOf(a) - names.indexOf(b));
}

/** The console's line on a density-based fit: what found the segments, with which parameters, and how many outliers. */
function densityLine(r: SegmentationResult): string {
  const d = r.density!;
  const noise = `${d.noise} ${d.noise === 1 ? "outlier" : "outliers"} (${pct(d.noise / r.labels.length)}, segment -1)`;
  const segs = `${r.k} ${r.k === 1 ? "segment" : "segments"}`;
  const metric = r.config.metric === "euclidean" ? "" : `, ${r.config.metric} distance`;
  if (d.algorithm === "dbscan") return `DBSCAN: eps ${fmtNum(d.eps!, 4)}, minSamples ${d.minSamples}${metric}: ${segs} and ${noise}\n  ${d.epsReason}`;
  if (d.algorithm === "hdbscan") {
    return `HDBSCAN: minClusterSize ${d.minClusterSize}, minSamples ${d.minSamples}, ${r.config.clusterSelectionMethod} selection${metric}: ${segs} and ${noise}`;
  }
  return `OPTICS: minSamples ${d.minSamples}${metric}, ${d.epsReason}: ${segs} and ${noise}`;
}

/** The console's line on a Gaussian mixture: k and the covariance type (chosen by BIC, or given), the fit, and how certain the assignment is. */
function mixtureLine(r: SegmentationResult): string {
  const m = r.mixture!;
  const lines = [
    `Gaussian mixture: k=${r.k}, ${m.covarianceType} covariances, seed ${r.config.seed}, ${m.nIter} EM iterations${m.converged ? "" : " (not converged)"}, ` +
      `log-likelihood per customer ${fmtNum(m.lowerBound, 5)}, BIC ${fmtNum(m.bic, 7)}, AIC ${fmtNum(m.aic, 7)}`,
  ];
  if (m.selection) {
    const types = m.selection.covarianceTypes;
    const head = ["k", ...types.map((t) => `BIC ${t}`)];
    const body: string[][] = [];
    for (let k = m.selection.kMin; k <= m.selection.kMax; k++) {
      body.push([(k === r.k ? "→ " : "") + String(k), ...types.map((t) => {
        const cell = m.selection!.table.find((c) => c.k === k && c.covarianceType === t);
        return cell?.bic === null || cell?.bic === undefined ? "failed" : fmtNum(cell.bic, 7);
      })]);
    }
    lines.push(`  the choice of k and covariance type by BIC (lower is better) over k = ${m.selection.kMin}..${m.selection.kMax}:`);
    for (const line of table([head, ...body], head.map(() => true))) lines.push(`    ${line}`);
    lines.push(`  - ${m.selection.best.reason}`);
  }
  const b = m.between;
  lines.push(`  ${b.count} ${b.count === 1 ? "customer" : "customers"} (${pct(b.share)}) ${b.count === 1 ? "sits" : "sit"} between segments (the most probable segment has a probability below ${b.threshold})` +
    (b.pairs.length ? `: most between ${b.pairs[0].a} and ${b.pairs[0].b} (${b.pairs[0].count})` : ""));
  return lines.join("\n");
}

export function printCluster(run: ClusterRun, io: Io, options: { wide?: boolean } = {}): void {
  const r = run.result;
  io.out(`${run.data.source}: ${run.data.rows} rows (${run.profile.details})`);
  io.out(`id column: ${r.idColumn ?? "(none: rows are numbered from 1)"}`);
  io.out("");
  printPlan(run, io);
  if (r.kSearch) {
    io.out(`choice of k over ${r.kSearch[0].k}..${r.kSearch[r.kSearch.length - 1].k} (segmenta tune shows the evidence in charts):`);
    const kHead = ["k", "inertia", "silhouette", "Davies–Bouldin", "Calinski–Harabasz", "gap", "stability"];
    const kBody = r.kSearch.map((s) => [String(s.k), fmtNum(s.inertia, 6), fmtNum(s.silhouette), fmtNum(s.daviesBouldin), fmtNum(s.calinskiHarabasz, 5), fmtNum(s.gap), fmtNum(s.stability, 3)]);
    for (const line of table([kHead, ...kBody], kHead.map(() => true))) io.out(`  ${line}`);
    for (const reason of r.kChoice?.recommendation.reasons ?? []) io.out(`  - ${reason}`);
    for (const note of r.kChoice?.notes ?? []) io.out(`  note: ${note}`);
    io.out("");
  }
  io.out(
    r.density ? densityLine(r)
    : r.mixture ? mixtureLine(r)
    : r.config.algorithm === "minibatch-kmeans"
      ? `Mini-batch K-Means: k=${r.k}, seed ${r.config.seed}, batches of ${r.config.batchSize}, ${r.nIter} passes, inertia ${fmtNum(r.inertia, 6)}`
      : r.config.algorithm === "agglomerative"
        ? `Agglomerative clustering: ${r.config.linkage} linkage, the tree cut into k=${r.k} segments, within-segment sum of squares ${fmtNum(r.inertia, 6)}`
        : `K-Means: k=${r.k}, seed ${r.config.seed}, ${r.config.nInit} initialisations, ${r.nIter} iterations, inertia ${fmtNum(r.inertia, 6)}`,
  );
  io.out("");
  const allNumeric = Object.keys(r.segments[0]?.means ?? {});
  const numeric = options.wide || allNumeric.length <= NARROW_COLUMNS ? allNumeric : distinguishing(run, allNumeric).slice(0, NARROW_COLUMNS);
  const categorical = Object.keys(r.segments[0]?.modes ?? {}).slice(0, 3);
  // Date columns are held as epoch milliseconds: their means are shown as days.
  const dates = new Set(run.data.columns.filter((c) => c.kind === "datetime").map((c) => c.name));
  if (numeric.length < allNumeric.length) {
    io.out(`  (the ${numeric.length} features that set the segments apart most, of ${allNumeric.length}; --wide shows them all)`);
  }
  const head = ["segment", "name", "customers", "share", ...numeric.map((n) => `mean ${n}`), ...categorical];
  const groups = r.noise ? [...r.segments, r.noise] : r.segments;
  const body = groups.map((s) => [
    String(s.segment), s.name, String(s.size), pct(s.share),
    ...numeric.map((n) => (dates.has(n) && Number.isFinite(s.means[n]) ? new Date(s.means[n]).toISOString().slice(0, 10) : fmtNum(s.means[n], 4))),
    ...categorical.map((c) => (s.modes[c] ? `${s.modes[c].value} (${pct(s.modes[c].share)})` : "—")),
  ]);
  for (const line of table([head, ...body], head.map((_, j) => j !== 1 && j < 4 + numeric.length))) io.out(`  ${line}`);
  io.out("");
  for (const seg of groups) {
    io.out(`  ${seg.segment}. ${seg.description}`);
    const rule = r.rules.segments.find((x) => x.segment === seg.segment);
    if (rule && rule.rules.length) {
      io.out(`     rule: ${rule.text}  (catches ${pct(rule.recall)} of the segment, precision ${rule.precision === null ? "—" : pct(rule.precision)})`);
    }
  }
  for (const n of r.rules.notes) io.out(`  note: ${n}`);
  if (r.rules.trainingRows < r.rules.n) {
    io.out(`  (rules grown on a random sample of ${r.rules.trainingRows} rows; what they catch and their precision are counted on all ${r.rules.n})`);
  }
  io.out("");
  if (r.density) {
    io.out(`silhouette score of the segments: ${fmtNum(r.silhouette)} (outliers left out${r.silhouetteSample ? `; on a random sample of ${r.silhouetteSample} rows` : ""}); ` +
      `counting the outliers as one more group: ${fmtNum(r.density.silhouetteWithNoise)}`);
  } else {
    io.out(`silhouette score: ${fmtNum(r.silhouette)}${r.silhouetteSample ? ` (on a random sample of ${r.silhouetteSample} rows)` : ""}`);
  }
  if (run.outputs.out) io.out(`segments written to ${run.outputs.out}`);
  if (run.outputs.model) io.out(`model written to ${run.outputs.model}`);
  if (run.outputs.report) io.out(`report written to ${run.outputs.report}`);
  if (run.outputs.chartFiles) io.out(`${run.outputs.chartFiles.length} chart files written to ${run.outputs.charts}`);
}
