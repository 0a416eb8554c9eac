import { join } from "node:path";
import { elbowChart, gapChart, indicesChart } from "../charts/choose-k.js";
import { kDistanceChart } from "../charts/density.js";
import { bicChart } from "../charts/mixture.js";
import { InputError } from "../core/errors.js";
import type { RfmMapping } from "../io/rfm.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, OutputBatch } from "../io/write.js";
import { type ChooseKResult, type KVoter, VOTER_NAMES } from "../metrics/choose-k.js";
import { isDensityAlgorithm, parseConfig, type SegmentationConfigInput } from "../pipeline/config.js";
import { type EpsCandidate, epsCandidates, epsSweep } from "../pipeline/density.js";
import { renderSvg } from "../report/render.js";
import {
  checkKForAlgorithm, type ClusterRun, clusterFile, printPlan, rfmSegmentationInput, SEGMENTATION_OPTIONS, segmentationInput, type SegmentationValues,
} from "./cluster.js";
import { endProgress, fmtNum, type Io, onePositional, parse, parseTypes, parseWholeNumber, pct, progress, table } from "./common.js";
import { describeRfm, givenMappingFlag, RFM_MAPPING_OPTIONS, rfmMapping, type RfmMappingValues, withRfmFile } from "./rfm.js";


/** The charts tune writes, by name. */
export const TUNE_CHARTS = { elbow: "tune-elbow.svg", indices: "tune-indices.svg", gap: "tune-gap.svg" } as const;

/**
 * `--k A..B`: a range of whole numbers with 2 ≤ A ≤ B (one line naming the option otherwise).
 * undefined when the option is absent.
 */
export function parseKRange(v: string | undefined): { min: number; max: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(v);
  if (!m) {
    throw new InputError(`--k ${v}: give the range of k to try as A..B with whole numbers, e.g. --k 2..10`);
  }
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 2) {
    throw new InputError(`--k ${v}: the smallest k must be at least 2 (the indices need two segments; k=1 is compared by the gap statistic anyway)`);
  }
  if (min > max) throw new InputError(`--k ${v}: the smallest k (${min}) is larger than the largest (${max}); write --k ${max}..${min}`);
  return { min, max };
}

type TuneValues = SegmentationValues & RfmMappingValues & Partial<Record<"charts" | "gap-references" | "bootstrap" | "sheet", string>> & { transactions?: boolean };

export async function tuneCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<TuneValues>("tune", args, {
    ...SEGMENTATION_OPTIONS,
    charts: { type: "string" },
    "gap-references": { type: "string" },
    bootstrap: { type: "string" },
    sheet: { type: "string" },
    transactions: { type: "boolean" },
    ...RFM_MAPPING_OPTIONS,
  });
  const file = onePositional("tune", positionals, "data file");
  if (values.algorithm !== undefined && isDensityAlgorithm(values.algorithm)) return tuneDensity(file, values, io);
  if (values.algorithm === "gmm") return tuneMixture(file, values, io);
  const kRange = parseKRange(values.k) ?? { min: 2, max: 10 };
  const search: Partial<SegmentationConfigInput> = {
    k: "auto",
    kRange,
    kChoice: {
      gapReferences: parseWholeNumber("--gap-references", values["gap-references"], 0),
      stabilityResamples: parseWholeNumber("--bootstrap", values.bootstrap, 0),
    },
  };
  const map = logMapping(values);
  const input: SegmentationConfigInput = map ? rfmSegmentationInput(values, map, search) : { ...segmentationInput(values), ...search };
  const config = parseConfig(JSON.parse(JSON.stringify(input)), "cli");
  // Charts are written only where asked (--charts DIR), never unasked into the current folder.
  const dir = values.charts;
  const paths = dir === undefined ? null : {
    elbow: join(dir, TUNE_CHARTS.elbow),
    indices: join(dir, TUNE_CHARTS.indices),
    gap: config.kChoice.gapReferences > 0 ? join(dir, TUNE_CHARTS.gap) : null,
  };
  if (paths) {
    for (const p of [paths.elbow, paths.indices, paths.gap]) if (p) await checkOutputPath(p, "--charts", "text");
    await checkDistinctPaths([{ flag: "input", path: file }], [paths.elbow, paths.indices, paths.gap].filter((p) => p !== null).map((p) => ({ flag: "--charts", path: p })));
  }

  const tuneOn = async (path: string, inputs: NamedPath[]): Promise<ClusterRun> => {
    const run = await clusterFile(path, config, {}, io, { sheet: map ? undefined : values.sheet, inputs });
    const choice = run.result.kChoice;
    if (!choice) throw new Error("tune: the segmentation returned no evaluation of k");
    let charts: TuneCharts = null;
    if (paths) {
      // Render every chart before writing any, so that a failure leaves no chart behind.
      const svgs: [string, string][] = [
        [paths.elbow, await renderSvg(elbowChart(choice))],
        [paths.indices, await renderSvg(indicesChart(choice))],
      ];
      const gapSpec = gapChart(choice);
      if (paths.gap && gapSpec) svgs.push([paths.gap, await renderSvg(gapSpec)]);
      await OutputBatch.write(async (batch) => {
        for (const [p, svg] of svgs) await batch.text(p, svg);
      });
      charts = { elbow: paths.elbow, indices: paths.indices, gap: paths.gap && gapSpec ? paths.gap : null };
    }
    if (values.json) io.out(JSON.stringify(tuneJson(run, choice, charts), null, 2));
    else printTune(run, choice, charts, io);
    return run;
  };
  return tuneOnFileOrLog(file, map, values, io, tuneOn);
}

/** The chart files tune wrote, or null without --charts. */
type TuneCharts = { elbow: string; indices: string; gap: string | null } | null;

export function tuneJson(run: ClusterRun, c: ChooseKResult, charts: TuneCharts) {
  const r = run.result;
  return {
    file: run.data.source,
    rows: run.data.rows,
    idColumn: r.idColumn,
    features: r.features.filter((f) => f.used).map((f) => f.name),
    featureNames: r.featureNames,
    preprocessing: r.plan,
    algorithm: r.config.algorithm,
    seed: r.config.seed,
    nInit: r.config.nInit,
    kRange: { min: c.kMin, max: c.kMax },
    silhouetteSample: c.silhouetteSample,
    evaluations: c.evaluations,
    kOne: c.kOne,
    elbow: { k: c.elbow.knee, reason: c.elbow.reason, difference: c.elbow.difference },
    gap: c.gap,
    stability: c.stability,
    recommendation: c.recommendation,
    alternative: c.alternative,
    /** The segments at the recommended k. */
    segments: r.segments,
    notes: c.notes,
    warnings: r.warnings,
    charts,
  };
}

function printTune(run: ClusterRun, c: ChooseKResult, charts: TuneCharts, io: Io): void {
  const r = run.result;
  io.out(`${run.data.source}: ${run.data.rows} rows (${run.profile.details})`);
  printPlan(run, io);
  const parts = [
    r.config.algorithm === "agglomerative"
      ? `agglomerative clustering (${r.config.linkage} linkage): one tree, cut at each k`
      : `K-Means, seed ${r.config.seed}, ${r.config.nInit} initialisations`,
  ];
  if (c.gap) parts.push(`gap statistic with ${c.gap.references} reference sets`);
  if (c.stability) parts.push(`stability over ${c.stability.resamples} bootstrap resamples`);
  io.out(parts.join("; "));
  io.out("");
  const votesOf = new Map<number, string[]>();
  for (const [voter, k] of Object.entries(c.recommendation.votes) as [KVoter, number | null][]) {
    if (k !== null) votesOf.set(k, [...(votesOf.get(k) ?? []), VOTER_NAMES[voter]]);
  }
  const head = ["k", "inertia", "silhouette", "Davies–Bouldin", "Calinski–Harabasz"];
  if (c.gap) head.push("gap", "s(k)");
  if (c.stability) head.push("stability", "weakest");
  head.push("votes");
  const body: string[][] = [];
  if (c.kOne) {
    body.push(["1", fmtNum(c.kOne.inertia, 6), "—", "—", "—", ...(c.gap ? [fmtNum(c.kOne.gap), fmtNum(c.kOne.gapSe, 2)] : []), ...(c.stability ? ["—", "—"] : []), c.gap?.k === 1 ? "(gap)" : ""]);
  }
  for (const e of c.evaluations) {
    body.push([
      (e.k === c.recommendation.k ? "→ " : "") + String(e.k), fmtNum(e.inertia, 6), fmtNum(e.silhouette), fmtNum(e.daviesBouldin), fmtNum(e.calinskiHarabasz, 5),
      ...(c.gap ? [fmtNum(e.gap), fmtNum(e.gapSe, 2)] : []),
      ...(c.stability ? [fmtNum(e.stability, 3), fmtNum(e.stabilityMin, 3)] : []),
      (votesOf.get(e.k) ?? []).join(", "),
    ]);
  }
  for (const line of table([head, ...body], head.map((_, j) => j < head.length - 1))) io.out(`  ${line}`);
  io.out("");
  io.out(`recommended k: ${c.recommendation.k}`);
  for (const reason of c.recommendation.reasons) io.out(`  - ${reason}`);
  if (c.notes.length) {
    io.out("");
    for (const n of c.notes) io.out(`note: ${n}`);
  }
  io.out("");
  if (charts) io.out(`charts written: ${[charts.elbow, charts.indices, charts.gap].filter((p) => p !== null).join(", ")}`);
  else io.out("charts: add --charts DIR to write the elbow, indices and gap charts as SVG files");
  io.out(`to segment: segmenta cluster ${run.data.source} --k ${c.recommendation.k}, with the same options`);
}

/** The chart tune writes for DBSCAN. */
export const TUNE_DENSITY_CHARTS = { kDistance: "tune-k-distance.svg" } as const;

/**
 * `tune --algorithm dbscan`: the k-distance curve and its knee (the suggested eps, with the
 * reason), then DBSCAN at eps from half to twice the suggestion: segments, outliers, the
 * largest segment's share and the silhouette of each, so that eps is chosen on evidence.
 */
async function tuneDensity(file: string, values: TuneValues & { json?: boolean }, io: Io): Promise<number> {
  checkKForAlgorithm(values);
  if (values.algorithm !== "dbscan") {
    throw new InputError(
      `tune evaluates eps for --algorithm dbscan; ${values.algorithm} finds its segments without eps: run segmenta cluster --algorithm ${values.algorithm}` +
        (values.algorithm === "hdbscan" ? " with --min-cluster-size N (the smallest segment worth having)" : " with --min-samples N"),
    );
  }
  for (const flag of ["gap-references", "bootstrap"] as const) {
    if (values[flag] !== undefined) throw new InputError(`--${flag} belongs to the choice of k; DBSCAN has no k to choose (it finds the segments from the density)`);
  }
  const map = logMapping(values);
  const input: SegmentationConfigInput = map ? rfmSegmentationInput(values, map, {}) : segmentationInput(values);
  const config = parseConfig(JSON.parse(JSON.stringify(input)), "cli");
  const dir = values.charts;
  const chartPath = dir === undefined ? null : join(dir, TUNE_DENSITY_CHARTS.kDistance);
  if (chartPath) {
    await checkOutputPath(chartPath, "--charts", "text");
    await checkDistinctPaths([{ flag: "input", path: file }], [{ flag: "--charts", path: chartPath }]);
  }
  const tuneOn = async (path: string, inputs: NamedPath[]): Promise<void> => {
    const run = await clusterFile(path, config, {}, io, { sheet: map ? undefined : values.sheet, inputs });
    const d = run.result.density!;
    const suggested = d.kDistance!.eps;
    const report = progress(io);
    const candidates = await epsSweep(run.result.matrix, {
      minSamples: d.minSamples, metric: config.metric, eps: epsCandidates(suggested), silhouetteSampleSize: config.silhouetteSampleSize, seed: config.seed,
    }, (done, total) => report(`DBSCAN at ${total} values of eps`, done / total));
    endProgress(io);
    let written: string | null = null;
    if (chartPath) {
      const kd = d.kDistance!;
      const svg = await renderSvg(kDistanceChart({
        distances: kd.distances, positions: kd.positions, rows: kd.rows, knee: { index: kd.index, eps: kd.eps, found: kd.kneeIndex !== null }, minSamples: kd.minSamples,
      }));
      await OutputBatch.write(async (batch) => batch.text(chartPath, svg));
      written = chartPath;
    }
    if (values.json) {
      io.out(JSON.stringify({
        file: run.data.source, rows: run.data.rows, features: run.result.features.filter((f) => f.used).map((f) => f.name), featureNames: run.result.featureNames,
        preprocessing: run.result.plan, algorithm: "dbscan", minSamples: d.minSamples, metric: config.metric,
        suggestedEps: suggested, reason: d.kDistance!.reason, eps: d.eps, candidates, segments: run.result.segments, outliers: run.result.noise,
        warnings: run.result.warnings, charts: written ? { kDistance: written } : null,
      }, null, 2));
      return;
    }
    printDensityTune(run, candidates, suggested, written, io);
  };
  return tuneOnFileOrLog(file, map, values, io, tuneOn);
}

function printDensityTune(run: ClusterRun, candidates: EpsCandidate[], suggested: number, chart: string | null, io: Io): void {
  const r = run.result;
  const d = r.density!;
  io.out(`${run.data.source}: ${run.data.rows} rows (${run.profile.details})`);
  printPlan(run, io);
  io.out(`the k-distance curve: each customer's distance to its ${d.minSamples}th nearest neighbour (itself the first), sorted`);
  io.out(`  suggested eps: ${suggested}: ${d.kDistance!.reason}`);
  io.out("");
  io.out(`DBSCAN with minSamples ${d.minSamples} at eps around the suggestion:`);
  const head = ["eps", "segments", "outliers", "largest segment", "silhouette"];
  const body = candidates.map((c) => [
    (c.eps === d.eps ? "→ " : "") + String(c.eps), String(c.segments), `${c.outliers} (${pct(c.outliers / r.labels.length)})`, pct(c.largestShare), fmtNum(c.silhouette),
  ]);
  for (const line of table([head, ...body], head.map(() => true))) io.out(`  ${line}`);
  io.out("  (silhouette of the customers in segments, outliers left out; a small eps leaves many outliers, a large one merges segments)");
  io.out("");
  io.out(`at eps ${d.eps}: ${r.k} ${r.k === 1 ? "segment" : "segments"} and ${d.noise} outliers`);
  for (const s of [...r.segments, ...(r.noise ? [r.noise] : [])]) io.out(`  ${s.segment}. ${s.name}: ${s.size} customers (${pct(s.share)})`);
  io.out("");
  if (chart) io.out(`chart written: ${chart}`);
  else io.out("charts: add --charts DIR to write the k-distance curve with its knee as an SVG file");
  io.out(`to segment: segmenta cluster ${run.data.source} --algorithm dbscan --eps ${d.eps} --min-samples ${d.minSamples}, with the same options`);
}

/** The chart tune writes for Gaussian mixtures. */
export const TUNE_MIXTURE_CHARTS = { bic: "tune-bic.svg" } as const;

/**
 * `tune --algorithm gmm`: a Gaussian mixture for every k of the range (default 2..9) and
 * every covariance type (or the one of --covariance), the BIC and AIC of each as a table and
 * (with --charts) mclust's chart, and the recommendation with its reason.
 */
async function tuneMixture(file: string, values: TuneValues & { json?: boolean }, io: Io): Promise<number> {
  for (const flag of ["gap-references", "bootstrap"] as const) {
    if (values[flag] !== undefined) throw new InputError(`--${flag} belongs to K-Means's choice of k; Gaussian mixtures are compared by BIC`);
  }
  const kRange = parseKRange(values.k) ?? { min: 2, max: 9 };
  const map = logMapping(values);
  const search: Partial<SegmentationConfigInput> = { k: "auto", kRange };
  const input: SegmentationConfigInput = map ? rfmSegmentationInput(values, map, search) : { ...segmentationInput(values), ...search };
  const config = parseConfig(JSON.parse(JSON.stringify(input)), "cli");
  const chartPath = values.charts === undefined ? null : join(values.charts, TUNE_MIXTURE_CHARTS.bic);
  if (chartPath) {
    await checkOutputPath(chartPath, "--charts", "text");
    await checkDistinctPaths([{ flag: "input", path: file }], [{ flag: "--charts", path: chartPath }]);
  }
  const tuneOn = async (path: string, inputs: NamedPath[]): Promise<void> => {
    const run = await clusterFile(path, config, {}, io, { sheet: map ? undefined : values.sheet, inputs });
    const m = run.result.mixture!;
    const sel = m.selection!;
    let written: string | null = null;
    if (chartPath) {
      const svg = await renderSvg(bicChart(sel));
      await OutputBatch.write(async (batch) => batch.text(chartPath, svg));
      written = chartPath;
    }
    if (values.json) {
      io.out(JSON.stringify({
        file: run.data.source, rows: run.data.rows, features: run.result.features.filter((f) => f.used).map((f) => f.name), featureNames: run.result.featureNames,
        preprocessing: run.result.plan, algorithm: "gmm", seed: config.seed, kRange: { min: sel.kMin, max: sel.kMax }, covarianceTypes: sel.covarianceTypes,
        table: sel.table, recommendation: sel.best, byAic: sel.byAic, segments: run.result.segments,
        betweenSegments: { count: m.between.count, share: m.between.share, pairs: m.between.pairs }, warnings: run.result.warnings, charts: written ? { bic: written } : null,
      }, null, 2));
      return;
    }
    const r = run.result;
    io.out(`${run.data.source}: ${run.data.rows} rows (${run.profile.details})`);
    printPlan(run, io);
    io.out(`Gaussian mixtures, seed ${config.seed}: k = ${sel.kMin}..${sel.kMax} × ${sel.covarianceTypes.join(", ")} covariances`);
    const head = ["k", ...sel.covarianceTypes.flatMap((t) => [`BIC ${t}`])];
    const body: string[][] = [];
    for (let k = sel.kMin; k <= sel.kMax; k++) {
      body.push([(k === sel.best.k ? "→ " : "") + String(k), ...sel.covarianceTypes.map((t) => {
        const cell = sel.table.find((c) => c.k === k && c.covarianceType === t);
        const v = cell?.bic;
        return v === null || v === undefined ? "failed" : fmtNum(v, 7) + (k === sel.best.k && t === sel.best.covarianceType ? " ◀" : "");
      })]);
    }
    for (const line of table([head, ...body], head.map(() => true))) io.out(`  ${line}`);
    io.out("  (BIC: lower is better; mclust draws −BIC, where higher is better)");
    io.out("");
    io.out(`recommended: ${sel.best.k} segments, ${sel.best.covarianceType} covariances`);
    io.out(`  - ${sel.best.reason}`);
    io.out(`  - by AIC: ${sel.byAic.reason}`);
    for (const e of sel.table.filter((c) => c.error)) io.out(`  note: k=${e.k} ${e.covarianceType}: ${e.error}`);
    io.out("");
    for (const s of r.segments) io.out(`  ${s.segment}. ${s.name}: ${s.size} customers (${pct(s.share)})`);
    io.out(`  ${m.between.count} ${m.between.count === 1 ? "customer" : "customers"} (${pct(m.between.share)}) ${m.between.count === 1 ? "sits" : "sit"} between segments (top probability below ${m.between.threshold})`);
    io.out("");
    if (written) io.out(`chart written: ${written}`);
    else io.out("charts: add --charts DIR to write the BIC chart (one line per covariance type) as an SVG file");
    io.out(`to segment: segmenta cluster ${run.data.source} --algorithm gmm --k ${sel.best.k} --covariance ${sel.best.covarianceType}, with the same options`);
  };
  return tuneOnFileOrLog(file, map, values, io, tuneOn);
}

/** The transaction log's mapping with --transactions; without it, a mapping flag is refused. */
function logMapping(values: TuneValues): RfmMapping | undefined {
  if (values.transactions) return rfmMapping(values, "tune --transactions");
  const mappingFlag = givenMappingFlag(values);
  if (mappingFlag) throw new InputError(`--${mappingFlag} maps the columns of a transaction log: add --transactions to tune on the customers' RFM features`);
  return undefined;
}

/** Runs `tuneOn` on the file, or (with a mapping) on the RFM features of the log, described first. */
async function tuneOnFileOrLog(
  file: string, map: RfmMapping | undefined, values: TuneValues & { json?: boolean }, io: Io,
  tuneOn: (path: string, inputs: NamedPath[]) => Promise<unknown>,
): Promise<number> {
  const inputs = [{ flag: "input", path: file }];
  if (!map) {
    await tuneOn(file, inputs);
    return 0;
  }
  return withRfmFile(file, map, parseTypes(values.type), async (path, rfm) => {
    if (!values.json) {
      for (const line of describeRfm(rfm)) io.out(line);
      io.out("");
    }
    await tuneOn(path, inputs);
    return 0;
  }, { sheet: values.sheet });
}
