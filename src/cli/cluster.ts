import { basename } from "node:path";
import { InputError } from "../core/errors.js";
import type { NamedPath } from "../io/write.js";
import { isDensityAlgorithm, parseConfig, type SegmentationConfig, type SegmentationConfigInput } from "../pipeline/config.js";
import type { SegmentationResult } from "../pipeline/run.js";
import type { ReportMap } from "../report/segmentation.js";
import { checkClusterOutputs, clusterFile as runJob, type ClusterOutputs, type ClusterRun } from "../server/job.js";
import {
  endProgress, fmtNum, type Io, onePositional, parse, parseK, parseList, parseTypes, parseWholeNumber, pct, progress, table,
} from "./common.js";
import { loadSource, sourceFromFlags, sourceLabel } from "../io/source.js";
import { memoryBudget, STREAM_OPTIONS, type StreamValues } from "./stream.js";
import { describeStable, loadPrevious } from "./compare.js";
import type { PreviousRun } from "../pipeline/stable.js";
import { describeRfm, givenMappingFlag, RFM_MAPPING_OPTIONS, rfmJson, rfmMapping, type RfmMappingValues, withRfmFile } from "./rfm.js";


export { availableMemory, checkClusterOutputs, type ClusterOutputs, type ClusterRun, probabilityColumns, segmentColumns } from "../server/job.js";

/** The job on a file (server/job.ts) with its progress on the terminal's status line and its warnings on stderr. */
export async function clusterFile(
  file: string, config: SegmentationConfig, outputs: ClusterOutputs, io: Io, options: Parameters<typeof runJob>[4] & { inputs?: NamedPath[] } = {},
  previous?: PreviousRun,
): Promise<ClusterRun> {
  const report_ = progress(io);
  try {
    return await runJob(file, config, outputs, {
      onProgress: report_,
      ...(previous ? { previous } : {}),
      onIteration: io.tty
        ? (p) => report_(`K-Means: initialisation ${p.init + 1}/${p.nInit}, iteration ${p.iteration}, inertia ${fmtNum(p.inertia, 6)}`, p.init / p.nInit)
        : undefined,
      onWarning: (m) => {
        endProgress(io);
        io.err(`warning: ${m}`);
      },
    }, options);
  } finally {
    endProgress(io);
  }
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
  previous: { type: "string", multiple: true },
} as const;

export type OutputValues = Partial<Record<"out" | "model" | "report" | "charts" | "map" | "sheet", string>> & { "raw-csv"?: boolean; wide?: boolean; probabilities?: boolean; previous?: string[] };

export async function clusterCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<SegmentationValues & OutputValues & RfmMappingValues & { transactions?: boolean } & StreamValues>("cluster", args, {
    ...SEGMENTATION_OPTIONS,
    ...OUTPUT_OPTIONS,
    transactions: { type: "boolean" },
    ...RFM_MAPPING_OPTIONS,
    ...STREAM_OPTIONS,
  });
  // A database as the source (--source, --query | --table), and the memory budget (--memory).
  const source = sourceFromFlags(values, positionals, "cluster");
  const memory = memoryBudget(values.memory);
  const file = source ? sourceLabel(source) : onePositional("cluster", positionals, "data file");
  if (values.transactions) {
    if (source) throw new InputError("--transactions reads a transaction log file; for a log in a database compute its RFM features with segmenta rfm --source");
    return clusterTransactions(file, values, io, memory);
  }
  const mappingFlag = givenMappingFlag(values);
  if (mappingFlag) throw new InputError(`--${mappingFlag} maps the columns of a transaction log: add --transactions to cluster customers by their RFM features`);
  checkKForAlgorithm(values);
  if (values.probabilities && values.algorithm !== "gmm") throw new InputError("--probabilities gives every segment's probability, which --algorithm gmm has; other algorithms give one segment per customer");
  const input: SegmentationConfigInput = { ...segmentationInput(values), k: parseK(values.k) };
  const config = parseConfig(JSON.parse(JSON.stringify(input)), "cli");
  const previous = await previousRun(values, config.id);
  const run = await clusterFile(file, config, reportOutputs(values), io, {
    sheet: values.sheet, memory, ...(source ? { load: () => loadSource(source, { text: config.id ? [config.id] : [] }), inputs: [] } : {}),
  }, previous);
  if (run.streamed) io.err(`streamed: ${run.streamed.message}`);
  if (values.json) io.out(JSON.stringify(clusterJson(run), null, 2));
  else printCluster(run, io, { wide: values.wide });
  return 0;
}

/** What --previous names (a model file, a segments file, or both), read; none of them may be an output. */
async function previousRun(values: OutputValues, idColumn: string | undefined): Promise<PreviousRun | undefined> {
  if (!values.previous?.length) return undefined;
  const outputs = (["out", "model", "report"] as const).filter((k) => values[k]).map((k) => ({ flag: `--${k}`, path: values[k]! }));
  return loadPrevious(values.previous, outputs, idColumn);
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
  memory?: number,
): Promise<number> {
  const map = rfmMapping(values, "cluster --transactions");
  checkKForAlgorithm(values);
  const config = parseConfig(JSON.parse(JSON.stringify(rfmSegmentationInput(values, map, { k: parseK(values.k) }))), "cli");
  const outputs = { ...reportOutputs(values), title: `${basename(file)} (RFM features)` };
  const inputs = [{ flag: "input", path: file }];
  await checkClusterOutputs(outputs, inputs);
  const previous = await previousRun(values, config.id);
  return withRfmFile(file, map, parseTypes(values.type), async (path, rfm) => {
    const raw = await clusterFile(path, config, { ...outputs, transactions: map }, io, { inputs, memory }, previous);
    if (raw.streamed) io.err(`streamed: ${raw.streamed.message}`);
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
    ...(r.stable ? { stable: stableJson(r) } : {}),
    warnings: r.warnings,
    ...(run.streamed ? { streamed: run.streamed } : {}),
    outputs: run.outputs,
  };
}

/** With --previous: which rule decided, the kept segments (previous = current id), the new ones and the vanished ones. */
function stableJson(r: SegmentationResult) {
  const s = r.stable!;
  return {
    previous: s.previous, matchedBy: s.matchedBy, rule: s.rule, commonShare: s.commonShare, segmentIds: r.segmentIds,
    matches: s.matches.map((m) => ({
      previous: m.previous, current: m.previous, name: m.name, ...(m.distance !== undefined ? { distance: m.distance } : {}), ...(m.jaccard !== undefined ? { jaccard: m.jaccard } : {}),
    })),
    new: s.new.map((x) => ({ id: x.id, name: x.name })),
    vanished: s.vanished,
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
  if (r.stable) {
    for (const line of describeStable(r.stable, r.segments)) io.out(line);
    io.out("");
  }
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
