import { AgglomerativeClustering, AgglomerativeModel } from "../cluster/agglomerative.js";
import { KMeans, KMeansModel } from "../cluster/kmeans.js";
import { MiniBatchKMeans } from "../cluster/minibatch-kmeans.js";
import { type Column, type Dataset } from "../core/dataset.js";
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, rowsWhere } from "../core/matrix.js";
import { calinskiHarabaszScore } from "../metrics/calinski-harabasz.js";
import {
  chooseK, type ChooseKResult, type KEvaluation, kneedle, recommendBeyondTwo, recommendK, totalSumOfSquares, twoSegmentsNote,
} from "../metrics/choose-k.js";
import { daviesBouldinScore } from "../metrics/davies-bouldin.js";
import { silhouetteScore, silhouetteScores } from "../metrics/silhouette.js";
import { FittedPipeline, fitPipeline, type TransformReport } from "../preprocess/pipeline.js";
import { planPreprocessing, type PlanStep } from "../preprocess/plan.js";
import { profileSegments, type ProfileResult } from "../profile/profiles.js";
import { type RulesResult, sqlIdentifier, segmentRules } from "../profile/rules.js";
import { Segmenter } from "./segmenter.js";
import { AVAILABLE_ALGORITHMS, isDensityAlgorithm, parseConfig, type SegmentationConfig, type SegmentationConfigInput } from "./config.js";
import { fitDensity } from "./density.js";
import { fitMixture, type MixtureInfo } from "./mixture.js";
import { betweenSegments } from "../cluster/mixture/uncertainty.js";
import { matchSegments, type PreviousRun, segmentCentres, type StableIds } from "./stable.js";

export interface FeatureChoice {
  name: string;
  kind: string;
  used: boolean;
  reason: string;
}

export interface SegmentSummary {
  segment: number;
  /** A short name in plain words (RFM vocabulary when RFM features are present); see profileSegments. */
  name: string;
  /** One sentence on what sets the segment apart, with the population's values for comparison. */
  description: string;
  size: number;
  share: number;
  /** Mean of each numeric feature in original units (missing values skipped). */
  means: Record<string, number>;
  /** Most common value of each categorical feature, with its share in the segment. */
  modes: Record<string, { value: string; share: number }>;
}

export interface SegmentationResult {
  config: SegmentationConfig;
  /** Why each column was used or left out. */
  features: FeatureChoice[];
  /** The fitted preprocessing, one line per step. */
  plan: string[];
  /** Why each preprocessing step was chosen (with preprocessing.plan "auto", the steps picked from the data). */
  planSteps: PlanStep[];
  /** 1 for rows that an outlier rule with action "drop" left out of the fit (they still have a segment); null without such a rule. */
  outliers: Uint8Array | null;
  featureNames: string[];
  idColumn: string | null;
  ids: string[];
  labels: Int32Array;
  /** The preprocessed features of every row (rows × featureNames), as clustered. */
  matrix: Matrix;
  /** Each segment against the population on the features, in their original units, with names (src/profile). */
  profiles: ProfileResult;
  /**
   * Rules that describe each segment in the original columns (a surrogate decision tree of
   * depth ≤ 3 per segment), with coverage, precision and SQL, so that a CRM can select a
   * segment without the model.
   */
  rules: RulesResult;
  /** A SQL expression that gives every row its segment by the rules (CASE … END), for a CRM. */
  rulesSql: string;
  /** Squared distance of each row to its segment's center, in the preprocessed space. */
  distances: Float64Array;
  segments: SegmentSummary[];
  /**
   * Density-based runs (dbscan, hdbscan, optics): the customers who fit no segment, as a
   * group of their own (segment −1 in `labels`, named "Outliers: …"), with their profile in
   * `profiles.outliers`; null when no row is noise or the algorithm has no noise.
   */
  noise: SegmentSummary | null;
  /** Density-based runs: how the segments and the outliers came about. */
  density?: DensityInfo;
  /** Gaussian mixtures: every customer's probability of every segment, how certain the assignment is, and (k "auto") the BIC of every k × covariance type. */
  mixture?: MixtureInfo;
  /** Number of segments (noise not counted). */
  k: number;
  /** Mean silhouette of the segments' rows (for density-based runs, noise rows left out: see density.silhouetteWithNoise). */
  silhouette: number;
  silhouetteSample: number | null;
  inertia: number;
  nIter: number;
  /** When k was "auto": the indices of each k tried (gap and stability are null when left out). */
  kSearch?: KSearchRow[];
  /** When k was "auto": the whole evaluation, with the recommendation and its reasons (see chooseK). */
  kChoice?: ChooseKResult;
  pipeline: FittedPipeline;
  /** The fitted clustering (K-Means or agglomerative), scoring new rows by segment. */
  model: Segmenter;
  /**
   * With a previous run (RunHooks.previous): how the segments were matched to it. Segments
   * are then numbered in the order of their stable ids: `segmentIds[i]` is the id of the
   * segment at index i of `segments` (the number in `segments[i].segment`, in the profiles,
   * the rules and every output); `labels` stay indices 0…k−1 into `segments` (−1 outliers).
   * Without a previous run both are absent and ids are the indices.
   */
  stable?: StableIds;
  segmentIds?: number[];
  warnings: string[];
}

export interface DensityInfo {
  algorithm: "dbscan" | "hdbscan" | "optics";
  /** Rows labelled −1 (noise): customers who fit no segment. */
  noise: number;
  /** DBSCAN (and OPTICS with clusterMethod "dbscan"): the radius, in preprocessed (scaled) units. */
  eps: number | null;
  /** Why eps has its value: given, or chosen at the knee of the k-distance curve (with the reason). */
  epsReason: string | null;
  /** Neighbours (the customer itself counted) a core customer needs within eps (DBSCAN, OPTICS), or for its core distance (HDBSCAN). */
  minSamples: number;
  /** HDBSCAN: the smallest group that counts as a segment. */
  minClusterSize: number | null;
  /** DBSCAN: the sorted distance of every row to its minSamples-th neighbour (a sample of at most ~1,000 points of the curve), and its knee. */
  kDistance: {
    distances: Float64Array;
    /** The position of each of `distances` in the whole sorted curve of `rows` values. */
    positions: Int32Array;
    /** The knee's position in the whole curve (null: no knee; eps then comes from a quantile). */
    kneeIndex: number | null;
    /** The eps the curve suggests (at the knee, or the fallback quantile). */
    eps: number;
    /** The position in the whole curve of the suggested eps. */
    index: number;
    reason: string;
    minSamples: number;
    rows: number;
  } | null;
  /** OPTICS: the reachability plot (rows in processing order). */
  reachability: { ordering: Int32Array; reachability: Float64Array } | null;
  /** HDBSCAN: how strongly each row belongs to its segment (0 for noise, 1 in a segment's core). */
  probabilities: Float64Array | null;
  /** DBSCAN: rows that are core customers (1) — the rest of a segment are its border. */
  core: Uint8Array | null;
  /** The silhouette with the noise rows counted as one more group (NaN when undefined); `silhouette` leaves them out. */
  silhouetteWithNoise: number;
}

export interface KSearchRow {
  k: number;
  silhouette: number;
  inertia: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  gap: number | null;
  gapSe: number | null;
  stability: number | null;
  stabilityMin: number | null;
}

export interface RunHooks {
  onWarning?: (message: string) => void;
  /** What is being done, and when known the share of it that is done (0..1). */
  onProgress?: (message: string, fraction?: number) => void;
  /**
   * During the final K-Means fit, at most four times a second: which initialisation, the
   * iteration and the inertia. Each report costs one extra pass over the data, so pass it only
   * to show it.
   */
  onIteration?: (p: { init: number; nInit: number; iteration: number; inertia: number }) => void;
  signal?: AbortSignal;
  /**
   * The memory, in bytes, that the run may use (the CLI passes what the machine has
   * available). Work estimated to need more is refused before it starts, with the way out.
   */
  memoryLimit?: number;
  /** How messages name options: the configuration's fields (`k`), or the CLI's flags (`--k`). */
  optionNames?: OptionNames;
  /**
   * A previous run to keep segment ids and names from (see pipeline/stable.ts): its segments,
   * its customers' assignments and/or its centres with the preprocessing that maps this
   * run's rows into their space.
   */
  previous?: PreviousRun;
}

export type OptionNames = "library" | "cli";

/** An option as messages name it. */
function optionName(field: "features" | "id" | "profile" | "k", names: OptionNames): string {
  return names === "cli" ? `--${field}` : field;
}

/** Picks the feature columns: the configured ones, or every usable column except ids. */
export function chooseFeatures(ds: Dataset, config: SegmentationConfig, idColumn: string | null, names: OptionNames = "library"): FeatureChoice[] {
  const byName = new Map(ds.columns.map((c) => [c.name, c]));
  if (config.features) {
    for (const f of config.features) {
      if (!byName.has(f)) {
        throw new InputError(
          `${optionName("features", names)}: ${ds.source} has no column "${f}"; columns are: ${ds.columns.map((c) => c.name).join(", ")}`,
        );
      }
    }
    return ds.columns.map((c) => {
      const used = config.features!.includes(c.name);
      const reason = used ? "chosen with --features"
        : c.name === idColumn ? "the id column"
        : config.profile.includes(c.name) ? "described in the profiles, not clustered on (--profile)" : "not in --features";
      return { name: c.name, kind: c.kind, used, reason };
    });
  }
  return ds.columns.map((c) => {
    const why = defaultExclusion(c, ds.rows, config, idColumn);
    return { name: c.name, kind: c.kind, used: why === null, reason: why ?? `${c.kind} feature` };
  });
}

function defaultExclusion(c: Column, rows: number, config: SegmentationConfig, idColumn: string | null): string | null {
  if (c.name === idColumn) return "the id column";
  if (config.profile.includes(c.name)) return "described in the profiles, not clustered on (--profile)";
  if (c.kind === "id") return "an identifier";
  if (c.kind === "datetime") {
    const prep = config.preprocessing;
    if (prep.dates === "days-since" || (prep.plan === "auto" && prep.dates !== "drop")) return null;
    return prep.dates === "drop"
      ? "a date, left out (dates: drop)"
      : "a date: use it as the time elapsed since (--dates days-since, or --prep auto), or derive recency from a transaction log (segmenta rfm)";
  }
  const distinct = new Set<unknown>();
  let present = 0;
  for (let i = 0; i < rows; i++) {
    const v = c.values[i];
    if (v === null || (typeof v === "number" && Number.isNaN(v))) continue;
    present++;
    if (distinct.size < 2 || c.kind === "categorical") distinct.add(v);
  }
  if (present === 0) return "no values at all (every row is missing)";
  if (distinct.size === 1) return "constant: a single value";
  if (c.kind === "categorical" && distinct.size > config.preprocessing.maxCategories) {
    return `${distinct.size} categories, more than ${config.preprocessing.maxCategories}`;
  }
  return null;
}

/** Chooses the id column: the configured one, or the first id-like column with a value in every row. */
export function chooseIdColumn(ds: Dataset, config: SegmentationConfig, names: OptionNames = "library"): string | null {
  if (config.id) {
    if (!ds.columns.some((c) => c.name === config.id)) {
      throw new InputError(`${optionName("id", names)}: ${ds.source} has no column "${config.id}"; columns are: ${ds.columns.map((c) => c.name).join(", ")}`);
    }
    return config.id;
  }
  const ids = ds.columns.filter((c) => c.kind === "id");
  return ids.find((c) => (c.values as (string | null)[]).every((v) => v !== null))?.name ?? ids[0]?.name ?? null;
}

export function rowIds(ds: Dataset, idColumn: string | null): string[] {
  if (idColumn === null) return Array.from({ length: ds.rows }, (_, i) => String(i + 1));
  const col = ds.columns.find((c) => c.name === idColumn)!;
  if (col.kind === "categorical" || col.kind === "id") return (col.values as (string | null)[]).map((v) => v ?? "");
  return Array.from(col.values as Float64Array, (v) => (Number.isNaN(v) ? "" : String(v)));
}

/**
 * The whole job on an in-memory dataset: features, preprocessing, clustering, evaluation.
 * The CLI, the API and the dashboard all call this.
 */
export async function runSegmentation(configInput: SegmentationConfigInput | SegmentationConfig, data: Dataset, hooks: RunHooks = {}): Promise<SegmentationResult> {
  const config = parseConfig(configInput);
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    hooks.onWarning?.(m);
  };
  if (!(AVAILABLE_ALGORITHMS as readonly string[]).includes(config.algorithm)) {
    throw new InputError(
      `algorithm "${config.algorithm}" is not available yet in this version; use one of ${AVAILABLE_ALGORITHMS.map((a) => `"${a}"`).join(", ")}`,
    );
  }
  if (data.rows === 0) throw new InputError(`${data.source} has no rows`);
  const names = hooks.optionNames ?? "library";
  const idColumn = chooseIdColumn(data, config, names);
  if (idColumn !== null) {
    const ids = data.columns.find((c) => c.name === idColumn)!.values as ArrayLike<unknown>;
    const distinct = new Set(Array.from(ids)).size;
    if (distinct < data.rows * 0.9) {
      warn(
        `the id column "${idColumn}" repeats (${distinct} distinct values in ${data.rows} rows): rows are not one per customer; ` +
          `for a transaction log use segmenta rfm, or cluster --transactions`,
      );
    }
  }
  for (const c of config.profile) {
    if (!data.columns.some((x) => x.name === c)) {
      throw new InputError(`${optionName("profile", names)}: ${data.source} has no column "${c}"; columns are: ${data.columns.map((x) => x.name).join(", ")}`);
    }
  }
  const features = chooseFeatures(data, config, idColumn, names);
  const used = features.filter((f) => f.used).map((f) => f.name);
  for (const f of features) if (!f.used && f.reason.startsWith("no values")) warn(`column "${f.name}" has no values at all and was left out`);
  if (used.length === 0) {
    throw new InputError(`${data.source}: no usable feature columns (all are ids, dates or constant); choose some with ${optionName("features", names)}`);
  }
  const planned = planPreprocessing(data, used, config.preprocessing);
  const pipeline = await fitPipeline(data, used, planned.options);
  const report: TransformReport = { imputed: {}, unseen: {} };
  const Xall = pipeline.transform(data, report);
  for (const [col, n] of Object.entries(report.imputed)) warn(`column "${col}": ${n} missing values imputed`);
  const outliers = pipeline.outlierMask(data);
  const nOutliers = outliers ? outliers.reduce((a, b) => a + b, 0) : 0;
  if (nOutliers) {
    warn(`${nOutliers} outlier rows (${pipeline.options.outliers.method}) were left out of the fit; they get the segment of their nearest center and are marked as outliers`);
  }
  const X = nOutliers ? rowsWhere(Xall, outliers!.map((o) => 1 - o)) : Xall;

  const usable = countUsableRows(data, used);
  const density = isDensityAlgorithm(config.algorithm);
  const kMin = density ? 2 : config.k === "auto" ? config.kRange.min : config.k;
  if (density && usable < 3) {
    throw new InputError(`${data.source}: only ${usable} usable rows (rows with at least one feature value); segmenting needs at least 3`);
  }
  if (usable <= kMin || usable < 3) {
    throw new InputError(
      `${data.source}: only ${usable} usable rows (rows with at least one feature value) for ${config.k === "auto" ? `at least ${kMin}` : `${optionName("k", names)} ${names === "cli" ? "" : "= "}${config.k}`} segments; ` +
        `segmenting needs more rows than segments: lower ${optionName("k", names)} or supply more rows`,
    );
  }
  const distinctRows = countDistinctRows(X);
  let k: number;
  let kSearch: SegmentationResult["kSearch"];
  let kChoice: ChooseKResult | undefined;
  let tree: AgglomerativeModel | undefined;
  const sweepFits = new Map<number, KMeansModel>();
  const fitTree = async (nClusters: number): Promise<AgglomerativeModel> =>
    new AgglomerativeClustering({ nClusters, linkage: config.linkage }).fit(X, {
      signal: hooks.signal, onWarning: warn, memoryLimit: hooks.memoryLimit,
      onProgress: (p) => hooks.onProgress?.(
        p.phase === "distances"
          ? `agglomerative clustering (${config.linkage}): pairwise distances`
          : `agglomerative clustering (${config.linkage}): ${p.merges} of ${p.total} merges`,
        p.phase === "distances" ? p.fraction : p.total > 0 ? p.merges / p.total : undefined,
      ),
    });
  const mixtureRange = config.algorithm === "gmm" && config.k === "auto" ? { min: config.kRange.min, max: Math.min(config.kRange.max, distinctRows - 1) } : null;
  if (mixtureRange && mixtureRange.max < mixtureRange.min) {
    throw new InputError(`${data.source}: only ${distinctRows} distinct rows after preprocessing, too few to try k from ${mixtureRange.min}; lower the smallest k`);
  }
  if (density || config.algorithm === "gmm") {
    k = density ? 0 : config.k === "auto" ? 0 : config.k;
  } else if (config.k === "auto" && config.algorithm === "agglomerative") {
    const { min, max } = config.kRange;
    const kMax = Math.min(max, distinctRows - 1);
    if (kMax < min) throw new InputError(`${data.source}: only ${distinctRows} distinct rows after preprocessing, too few to try k from ${min}; lower the smallest k`);
    tree = await fitTree(min);
    kChoice = chooseKFromTree(X, tree, min, kMax, config, (m, f) => hooks.onProgress?.(`choosing k: ${m}`, f));
    kSearch = kChoice.evaluations.map((e) => ({
      k: e.k, silhouette: e.silhouette, inertia: e.inertia, daviesBouldin: e.daviesBouldin, calinskiHarabasz: e.calinskiHarabasz,
      gap: null, gapSe: null, stability: null, stabilityMin: null,
    }));
    k = kChoice.recommendation.k;
  } else if (config.k === "auto") {
    // The sweep's K-Means fit of the chosen k is the final model (the same options and seed).
    const { min, max } = config.kRange;
    const kMax = Math.min(max, distinctRows - 1);
    if (kMax < 2) throw new InputError(`${data.source}: fewer than 3 distinct rows; there is nothing to segment`);
    if (kMax < min) {
      throw new InputError(`${data.source}: only ${distinctRows} distinct rows after preprocessing, too few to try k from ${min}; lower the smallest k`);
    }
    if (kMax < max) warn(`only ${distinctRows} distinct rows after preprocessing: k is tried up to ${kMax} instead of ${max}`);
    kChoice = await chooseK(X, {
      onFit: (fk, m) => {
        if (config.algorithm === "kmeans") sweepFits.set(fk, m);
      },
      kMin: min, kMax, nInit: config.nInit, maxIter: config.maxIter, tol: config.tol, randomState: config.seed,
      silhouetteSampleSize: config.silhouetteSampleSize, ...config.kChoice, resampleNInit: Math.min(config.kChoice.resampleNInit, config.nInit),
      // The share done goes as a fraction, not also in the words.
      onProgress: (p) => hooks.onProgress?.(`choosing k: ${p.message.replace(/ \(\d+%\)$/, "")}`, p.total > 0 ? p.done / p.total : undefined),
      signal: hooks.signal,
    });
    kSearch = kChoice.evaluations.map((e) => ({
      k: e.k, silhouette: e.silhouette, inertia: e.inertia, daviesBouldin: e.daviesBouldin, calinskiHarabasz: e.calinskiHarabasz,
      gap: e.gap, gapSe: e.gapSe, stability: e.stability, stabilityMin: e.stabilityMin,
    }));
    k = kChoice.recommendation.k;
  } else {
    k = config.k;
  }
  if (distinctRows < k) {
    warn(`only ${distinctRows} distinct rows after preprocessing, fewer than k=${k}: some segments will be empty or duplicates`);
  }
  if (!density) hooks.onProgress?.(`clustering ${X.rows} rows × ${X.cols} features into ${k} segments`);
  let model: Segmenter;
  let fitLabels: Int32Array;
  let inertia: number;
  let nIter: number;
  let C: Matrix;
  let densityInfo: Omit<DensityInfo, "silhouetteWithNoise"> | undefined;
  let mixtureInfo: MixtureInfo | undefined;
  if (config.algorithm === "gmm") {
    const fit = await fitMixture(X, config, mixtureRange, { ...hooks, optionNames: names }, warn);
    mixtureInfo = fit.info;
    model = fit.model;
    fitLabels = fit.labels;
    k = fit.k;
    C = segmentMeans(X, fitLabels, k);
    inertia = withinSS(X, fitLabels, C);
    nIter = fit.info.nIter;
  } else if (density) {
    const fit = await fitDensity(X, config, hooks, warn);
    densityInfo = fit.info;
    model = fit.model;
    fitLabels = fit.labels;
    for (const l of fitLabels) if (l + 1 > k) k = l + 1;
    if (k === 0) throw new InputError(noSegmentMessage(config, fit.info, X.rows, names));
    if (k === 1) warn(`${config.algorithm.toUpperCase()} found one segment and ${fit.info.noise} outliers: ${densityAdvice(config, names, "more")}`);
    C = segmentMeans(X, fitLabels, k);
    inertia = withinSS(X, fitLabels, C);
    nIter = 0;
  } else if (config.algorithm === "agglomerative") {
    // With k "auto" the tree is fitted once: the chosen k is one of its cuts.
    const agg = tree ? tree.withClusters(X, k, warn) : await fitTree(k);
    const relabel = sizeOrder(agg.labels, agg.nClusters);
    model = new Segmenter(agg, relabel);
    fitLabels = agg.labels.map((l) => relabel[l]);
    C = segmentMeans(X, fitLabels, agg.nClusters);
    inertia = withinSS(X, fitLabels, C);
    nIter = 0;
  } else {
    const km = orderBySize(sweepFits.get(k) ?? await fitKMeans(X, k, config, hooks.signal, warn, hooks.onIteration));
    model = new Segmenter(km);
    fitLabels = km.labels;
    C = km.clusterCenters;
    inertia = km.inertia;
    nIter = km.nIter;
  }
  let labels = nOutliers ? model.predict(Xall) : fitLabels;
  let stable: StableIds | undefined;
  let segmentIds: number[] | undefined;
  const givenNames: Record<number, string> = {};
  if (hooks.previous) {
    // Matched to the previous run, then renumbered in the order of the stable ids.
    hooks.onProgress?.(`matching the segments to ${hooks.previous.source}`);
    stable = matchToPrevious(hooks.previous, data, labels, k, rowIds(data, idColumn), warn);
    const order = Array.from({ length: k }, (_, c) => c).sort((a, b) => stable!.ids[a] - stable!.ids[b]);
    const pos = new Int32Array(k);
    order.forEach((c, i) => (pos[c] = i));
    segmentIds = order.map((c) => stable!.ids[c]);
    for (const m of stable.matches) givenNames[pos[m.current]] = m.name;
    if (order.some((c, i) => c !== i)) {
      const renumber = (l: Int32Array): Int32Array => l.map((x) => (x < 0 ? x : pos[x]));
      const same = labels === fitLabels;
      labels = renumber(labels);
      fitLabels = same ? labels : renumber(fitLabels);
      const inner = model.relabel;
      model = new Segmenter(model.inner, Int32Array.from({ length: model.nClusters }, (_, c) => pos[inner ? inner[c] : c]));
      const Cp = new Float64Array(C.data.length);
      for (let c = 0; c < C.rows; c++) Cp.set(C.data.subarray(c * C.cols, (c + 1) * C.cols), pos[c] * C.cols);
      C = { data: Cp, rows: C.rows, cols: C.cols };
      if (mixtureInfo) {
        const P = mixtureInfo.probabilities;
        const Pp = new Float64Array(P.data.length);
        for (let i = 0; i < P.rows; i++) for (let c = 0; c < P.cols; c++) Pp[i * P.cols + pos[c]] = P.data[i * P.cols + c];
        const probabilities = { data: Pp, rows: P.rows, cols: P.cols };
        mixtureInfo = { ...mixtureInfo, probabilities, between: betweenSegments(probabilities) };
      }
    }
  }
  if (mixtureInfo && nOutliers) {
    // The rows an outlier rule left out of the fit are scored too: probabilities for every row.
    const P = model.predictProba(Xall)!;
    const top = new Float64Array(Xall.rows);
    for (let i = 0; i < Xall.rows; i++) top[i] = P.data[i * P.cols + labels[i]];
    mixtureInfo = { ...mixtureInfo, probabilities: P, maxProbability: top, between: betweenSegments(P) };
  }
  const distances = new Float64Array(Xall.rows);
  for (let i = 0; i < Xall.rows; i++) {
    if (labels[i] < 0) {
      distances[i] = NaN; // noise: in no segment
      continue;
    }
    let s = 0;
    for (let j = 0; j < Xall.cols; j++) {
      const t = Xall.data[i * Xall.cols + j] - C.data[labels[i] * Xall.cols + j];
      s += t * t;
    }
    distances[i] = s;
  }
  const described = [...used, ...config.profile.filter((c) => !used.includes(c))];
  const profiles = profileSegments(data, labels, { features: described, clustered: used, ...(stable ? { segmentNames: givenNames } : {}) });
  hooks.onProgress?.("describing the segments by rules");
  const rules = segmentRules(data, labels, { features: used });
  const segments = summarise(data, described, labels, k);
  for (const p of profiles.segments) {
    segments[p.id].name = p.name;
    segments[p.id].description = p.description;
  }
  if (stable && segmentIds) {
    const ids = segmentIds;
    // A new segment is not a vanished one come back: it does not take a vanished segment's name.
    const gone = new Set(stable.vanished.map((v) => v.name));
    for (const n of stable.new) {
      const i = ids.indexOf(n.id);
      const s = segments[i];
      if (gone.has(s.name)) {
        const fresh = `${s.name} (new)`;
        if (s.description.startsWith(s.name)) s.description = fresh + s.description.slice(s.name.length);
        const p = profiles.segments.find((x) => x.id === i);
        if (p) {
          p.name = fresh;
          p.description = s.description;
        }
        s.name = fresh;
      }
      n.name = s.name;
    }
    // The segments, their profiles and rules carry the stable ids (labels stay indices into segments).
    segments.forEach((s, i) => (s.segment = ids[i]));
    for (const p of profiles.segments) if (p.id >= 0) p.id = ids[p.id];
    for (const r of rules.segments) if (r.segment >= 0) r.segment = ids[r.segment];
  }
  const noise = density ? noiseSummary(data, described, labels, profiles) : null;
  // Segments of a handful of rows in a large table are nearly always outliers that K-Means
  // gave centers of their own: say so, with the way out.
  const tiny = density ? [] : segments.filter((s) => s.size > 0 && s.share < 0.005 && data.rows >= 1000);
  if (tiny.length) {
    warn(
      `${tiny.length === 1 ? "segment" : "segments"} ${tiny.map((s) => `${s.segment} (${s.size} rows)`).join(", ")} ` +
        `${tiny.length === 1 ? "holds" : "hold"} under 0.5 % of the rows: probably outliers; compress skewed columns with --log, or leave those columns out`,
    );
  }
  hooks.onProgress?.("computing the silhouette score");
  let sil: { value: number; sample: number | null };
  let silhouetteWithNoise = NaN;
  if (density) {
    // Noise is in no segment: the silhouette of the segments leaves it out; counted as one more group, it is shown beside.
    const keep = fitLabels.map((l) => (l >= 0 ? 1 : 0));
    const Xs = rowsWhere(X, Uint8Array.from(keep));
    const Ls = fitLabels.filter((l) => l >= 0);
    const inSegments = new Set(Ls).size;
    sil = inSegments >= 2 && inSegments < Xs.rows ? silhouette(Xs, Ls, config, warn) : { value: NaN, sample: null };
    const groups = fitLabels.map((l) => (l < 0 ? k : l));
    const nGroups = new Set(groups).size;
    if (nGroups >= 2 && nGroups < X.rows && groups.some((l) => l === k)) silhouetteWithNoise = silhouette(X, groups, config, () => {}).value;
  } else {
    const distinctLabels = new Set(fitLabels).size;
    sil = distinctLabels >= 2 && distinctLabels < X.rows ? silhouette(X, fitLabels, config, warn) : { value: NaN, sample: null };
  }
  return {
    config, features, plan: pipeline.describe(), planSteps: planned.steps, outliers, featureNames: pipeline.featureNames, idColumn, ids: rowIds(data, idColumn),
    labels, matrix: Xall, profiles, rules, rulesSql: caseSql(rules), distances, segments, noise, ...(densityInfo ? { density: { ...densityInfo, silhouetteWithNoise } } : {}), ...(mixtureInfo ? { mixture: mixtureInfo } : {}), k, silhouette: sil.value, silhouetteSample: sil.sample, inertia, nIter,
    kSearch, kChoice, pipeline, model, ...(stable ? { stable, segmentIds } : {}), warnings,
  };
}

/**
 * The choice of k for agglomerative clustering: one tree, cut at each k of the range; for each
 * cut the within-segment sum of squares (for the elbow), the silhouette (sampled as for
 * K-Means), Davies–Bouldin and Calinski–Harabasz, and the recommendation by the same vote as
 * chooseK's. The gap statistic and bootstrap stability need the clustering refitted on
 * reference sets and resamples (a tree each), and are left out.
 */
export function chooseKFromTree(
  X: Matrix, tree: AgglomerativeModel, kMin: number, kMax: number, config: SegmentationConfig,
  onProgress?: (message: string, fraction: number) => void,
): ChooseKResult {
  const evaluations: KEvaluation[] = [];
  const cuts: Int32Array[] = [];
  const sampled = X.rows > config.silhouetteSampleSize;
  for (let k = kMin; k <= kMax; k++) {
    onProgress?.(`k=${k}: the tree cut into ${k} segments`, (k - kMin) / (kMax - kMin + 2));
    const labels = tree.cut(k);
    let nc = 0;
    for (const l of labels) if (l + 1 > nc) nc = l + 1;
    const sizes = new Array<number>(nc).fill(0);
    for (const l of labels) sizes[l]++;
    const two = nc >= 2 && nc < X.rows;
    cuts.push(labels);
    evaluations.push({
      k, inertia: withinSS(X, labels, segmentMeans(X, labels, nc)), nIter: 0, sizes, silhouette: NaN,
      daviesBouldin: two ? daviesBouldinScore(X, labels) : NaN,
      calinskiHarabasz: two ? calinskiHarabaszScore(X, labels) : NaN,
      logW: null, logWReference: null, gap: null, gapSe: null, stability: null, stabilityMin: null, clusterStability: null, stable: null,
    });
  }
  // The silhouette of every cut in one pass over the pairs of (sampled) rows, as chooseK does.
  onProgress?.(`silhouette of k=${kMin}..${kMax}`, (kMax - kMin + 1) / (kMax - kMin + 2));
  const scored = evaluations.flatMap((e, i) => (e.sizes.length >= 2 && e.sizes.length < X.rows ? [i] : []));
  const silhouettes = silhouetteScores(X, scored.map((i) => cuts[i]), sampled ? { sampleSize: config.silhouetteSampleSize, randomState: config.seed } : {});
  scored.forEach((i, j) => (evaluations[i].silhouette = silhouettes[j]));
  const totalSS = totalSumOfSquares(X);
  const ks = [1, ...evaluations.map((e) => e.k)];
  const elbow = kneedle(ks, [totalSS, ...evaluations.map((e) => e.inertia)], { curve: "convex", direction: "decreasing" });
  const recommendation = recommendK(evaluations, { elbow: elbow.knee, elbowReason: elbow.reason });
  const notes = [
    `agglomerative clustering (${config.linkage} linkage): one tree, cut at each k; the gap statistic and bootstrap stability need the tree refitted on reference sets and resamples, and are left out`,
  ];
  let alternative: ChooseKResult["alternative"] = null;
  if (recommendation.k === 2) {
    const alt = recommendBeyondTwo(evaluations, { elbow: elbow.knee });
    if (alt) {
      alternative = { k: alt.k, reasons: alt.reasons };
      notes.push(twoSegmentsNote(evaluations, alt));
    }
  }
  return {
    rows: X.rows, cols: X.cols, kMin, kMax, seed: config.seed, evaluations, kOne: { inertia: totalSS, logW: Math.log(totalSS), gap: null, gapSe: null },
    silhouetteSample: sampled ? config.silhouetteSampleSize : null, elbow, gap: null, stability: null, recommendation, alternative, notes,
  };
}

/** Size, share, and a first profile of each segment in the units of the original data. */
function summarise(ds: Dataset, used: string[], labels: Int32Array, k: number): SegmentSummary[] {
  // Noise rows (−1) are in no segment: they are summarised apart (noiseSummary).
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) counts[labels[i]]++;
  const out: SegmentSummary[] = counts.map((size, segment) => ({ segment, name: `Segment ${segment}`, description: "", size, share: size / labels.length, means: {}, modes: {} }));
  for (const name of used) {
    const col = ds.columns.find((c) => c.name === name)!;
    if (col.kind === "categorical" || col.kind === "id") {
      const tallies = Array.from({ length: k }, () => new Map<string, number>());
      col.values.forEach((v, i) => {
        if (v !== null && labels[i] >= 0) tallies[labels[i]].set(v, (tallies[labels[i]].get(v) ?? 0) + 1);
      });
      tallies.forEach((t, seg) => {
        let best: [string, number] | null = null;
        for (const e of t) if (!best || e[1] > best[1] || (e[1] === best[1] && e[0] < best[0])) best = e;
        if (best) out[seg].modes[name] = { value: best[0], share: best[1] / counts[seg] };
      });
    } else {
      const sum = new Float64Array(k);
      const n = new Float64Array(k);
      const v = col.values as Float64Array;
      for (let i = 0; i < v.length; i++) {
        if (!Number.isNaN(v[i]) && labels[i] >= 0) {
          sum[labels[i]] += v[i];
          n[labels[i]]++;
        }
      }
      for (let seg = 0; seg < k; seg++) out[seg].means[name] = n[seg] ? sum[seg] / n[seg] : NaN;
    }
  }
  return out;
}

async function fitKMeans(
  X: Matrix, k: number, config: SegmentationConfig, signal?: AbortSignal, warn?: (m: string) => void,
  onIteration?: RunHooks["onIteration"],
): Promise<KMeansModel> {
  if (signal?.aborted) throw new AbortError();
  if (config.algorithm === "minibatch-kmeans") {
    // Mini-batches: one pass over the data is n / batchSize steps; the fitted centers then
    // serve exactly as K-Means centers do (nearest center), so the result is a KMeansModel.
    const m = await new MiniBatchKMeans({
      nClusters: k, batchSize: config.batchSize, randomState: config.seed, signal,
      maxIter: config.maxIter === 300 ? 100 : config.maxIter,
      onProgress: onIteration ? (p) => onIteration({ init: 0, nInit: 1, iteration: p.step, inertia: p.inertia }) : undefined,
    }).fit(X, { onWarning: warn });
    return new KMeansModel(m.clusterCenters, m.labels, m.inertia, m.nIter);
  }
  return new KMeans({
    nClusters: k, nInit: config.nInit, maxIter: config.maxIter, tol: config.tol, randomState: config.seed, signal,
    // At most four reports a second: each costs a pass over the data for the inertia.
    onProgress: onIteration ? (p) => onIteration({ ...p, nInit: config.nInit }) : undefined, progressInterval: 250,
  })
    .fit(X, { onWarning: warn });
}

function silhouette(X: Matrix, labels: Int32Array, config: SegmentationConfig, warn: (m: string) => void): { value: number; sample: number | null } {
  if (X.rows > config.silhouetteSampleSize) {
    const sample = config.silhouetteSampleSize;
    try {
      return { value: silhouetteScore(X, labels, { sampleSize: sample, randomState: config.seed }), sample };
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // The random sample fell within one segment: the others are too small to be drawn.
      warn(`the silhouette is undefined on a random sample of ${sample} rows, which all fell in one segment: the other segments are tiny`);
      return { value: NaN, sample };
    }
  }
  return { value: silhouetteScore(X, labels), sample: null };
}

/** relabel[c]: the segment number of cluster c when segments are numbered from the largest (ties: the lower cluster first). */
function sizeOrder(labels: Int32Array, k: number): Int32Array {
  const counts = new Array<number>(k).fill(0);
  for (const l of labels) counts[l]++;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const relabel = new Int32Array(k);
  order.forEach((old, nw) => (relabel[old] = nw));
  return relabel;
}

function segmentMeans(X: Matrix, labels: Int32Array, k: number): Matrix {
  const d = X.cols;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < X.rows; i++) {
    if (labels[i] < 0) continue; // noise
    counts[labels[i]]++;
    for (let j = 0; j < d; j++) sums[labels[i] * d + j] += X.data[i * d + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) sums[c * d + j] /= counts[c] || 1;
  return { data: sums, rows: k, cols: d };
}

function withinSS(X: Matrix, labels: Int32Array, C: Matrix): number {
  let s = 0;
  for (let i = 0; i < X.rows; i++) {
    if (labels[i] < 0) continue; // noise
    for (let j = 0; j < X.cols; j++) s += (X.data[i * X.cols + j] - C.data[labels[i] * X.cols + j]) ** 2;
  }
  return s;
}

/** Renumbers segments so that 0 is the largest (ties: the lower original label first). */
function orderBySize(m: KMeansModel): KMeansModel {
  const k = m.clusterCenters.rows;
  const d = m.clusterCenters.cols;
  const counts = new Array<number>(k).fill(0);
  for (const l of m.labels) counts[l]++;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const newOf = new Int32Array(k);
  order.forEach((old, nw) => (newOf[old] = nw));
  const centers = new Float64Array(k * d);
  order.forEach((old, nw) => centers.set(m.clusterCenters.data.subarray(old * d, old * d + d), nw * d));
  const labels = m.labels.map((l) => newOf[l]);
  return new KMeansModel({ data: centers, rows: k, cols: d }, labels, m.inertia, m.nIter);
}

/** CASE WHEN <rules of segment 0> THEN 0 WHEN … ELSE NULL END: the first segment whose rules match. */
function caseSql(rules: RulesResult): string {
  const whens = rules.segments.filter((s) => s.rules.length).map((s) => `  WHEN ${s.sql} THEN ${s.segment}`);
  return whens.length ? `CASE\n${whens.join("\n")}\n  ELSE NULL\nEND AS ${sqlIdentifier("segment")}` : `NULL AS ${sqlIdentifier("segment")}`;
}

function countUsableRows(ds: Dataset, used: string[]): number {
  const cols = used.map((n) => ds.columns.find((c) => c.name === n)!);
  let usable = 0;
  for (let i = 0; i < ds.rows; i++) {
    if (cols.some((c) => { const v = c.values[i]; return v !== null && !(typeof v === "number" && Number.isNaN(v)); })) usable++;
  }
  return usable;
}

function countDistinctRows(X: Matrix): number {
  const seen = new Set<string>();
  for (let i = 0; i < X.rows; i++) {
    seen.add(Array.prototype.join.call(X.data.subarray(i * X.cols, (i + 1) * X.cols), ","));
    if (seen.size > 1000) return X.rows; // plenty: no need to hash every row
  }
  return seen.size;
}

/** The outliers (noise, −1) as a group: size, share, means and modes like a segment's, with the name and description of their profile. */
function noiseSummary(ds: Dataset, used: string[], labels: Int32Array, profiles: ProfileResult): SegmentSummary | null {
  let size = 0;
  for (const l of labels) if (l < 0) size++;
  if (size === 0) return null;
  const group = labels.map((l) => (l < 0 ? 0 : 1));
  const [s] = summarise(ds, used, group, 2);
  const p = profiles.outliers;
  return {
    ...s, segment: -1,
    name: p?.name ?? "Outliers",
    description: p?.description ?? `${size} customers (${(100 * size / labels.length).toFixed(1)} %) fit no segment: they lie where customers are too sparse to form one`,
  };
}

/** How to get more (or fewer) segments out of a density-based algorithm, in the caller's option names. */
function densityAdvice(config: SegmentationConfig, names: OptionNames, want: "more" | "any"): string {
  const f = (field: string, cli: string): string => (names === "cli" ? cli : field);
  if (config.algorithm === "dbscan") {
    return want === "any"
      ? `raise ${f("eps", "--eps")} or lower ${f("minSamples", "--min-samples")}`
      : `lower ${f("eps", "--eps")} to split it, or raise ${f("minSamples", "--min-samples")}`;
  }
  if (config.algorithm === "hdbscan") {
    return `lower ${f("minClusterSize", "--min-cluster-size")} (or ${f("minSamples", "--min-samples")}), or try ${f("clusterSelectionMethod", "--cluster-selection")} leaf` +
      (want === "any" && !config.allowSingleCluster ? `; if nothing splits the customers, ${f("allowSingleCluster", "--allow-single-cluster")} keeps them as one segment with its outliers` : "");
  }
  return `lower ${f("minSamples", "--min-samples")} or ${f("xi", "--xi")}`;
}

function noSegmentMessage(config: SegmentationConfig, info: Omit<DensityInfo, "silhouetteWithNoise">, rows: number, names: OptionNames): string {
  const what = config.algorithm === "dbscan"
    ? `at eps ${info.eps} with minSamples ${info.minSamples}`
    : config.algorithm === "hdbscan" ? `with minClusterSize ${info.minClusterSize} and minSamples ${info.minSamples}` : `with minSamples ${info.minSamples}`;
  return `${config.algorithm.toUpperCase()} found no segment ${what}: all ${rows} customers are outliers; ${densityAdvice(config, names, "any")}`;
}

/**
 * Matches a run's segments (labels 0…k−1 of its rows) to a previous run's: on shared
 * customers, or on centres, with this run's rows mapped into the previous model's space by
 * its preprocessing (see pipeline/stable.ts).
 */
function matchToPrevious(previous: PreviousRun, data: Dataset, labels: Int32Array, k: number, ids: string[], warn: (m: string) => void): StableIds {
  let centres: Matrix | null = null;
  if (previous.centres && previous.transform) {
    try {
      centres = segmentCentres(previous.transform(data), labels, k);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      warn(`the preprocessing of ${previous.source} cannot be applied to this data (${e.message}), so segment centres cannot be compared`);
    }
  }
  // A retrain on later data: its customers have moved, so the centres come first (see stable.ts).
  return matchSegments(previous, { k, labels, ids, centres }, { prefer: "centres" });
}
