import { join } from "node:path";
import { elbowChart, gapChart, indicesChart } from "../charts/choose-k.js";
import { InputError } from "../core/errors.js";
import { checkOutputPath, writeTextAtomic } from "../io/write.js";
import { type ChooseKResult, type KVoter, VOTER_NAMES } from "../metrics/choose-k.js";
import { parseConfig, type SegmentationConfigInput } from "../pipeline/config.js";
import { renderSvg } from "../report/render.js";
import { type ClusterRun, clusterFile, SEGMENTATION_OPTIONS, segmentationInput, type SegmentationValues } from "./cluster.js";
import { fmtNum, type Io, onePositional, parse, parseWholeNumber, table } from "./common.js";

export const tuneHelp = `usage: segmenta tune <file> [--algorithm kmeans] [--k 2..10] [--seed N] [--charts DIR] [--json]
                     [--id COL] [--features a,b,c] [--type COL=KIND] [--log a,b] [--n-init N]
                     [--max-iter N] [--gap-references B] [--bootstrap B]

Evaluates every k of a range to help choose the number of segments. The file is read and
preprocessed as by segmenta cluster; for each k, K-Means gives the inertia, the silhouette
(on a sample of 10,000 rows above that), Davies–Bouldin and Calinski–Harabasz; then come the
elbow of the inertia curve (Kneedle), the gap statistic (--gap-references uniform reference
sets, default 10; 0 leaves it out) and the stability of each k's segments over bootstrap
resamples (--bootstrap, default 20; 0 leaves it out). The recommended k is the one most
methods point to among the stable ones, with the reasons. Charts are written as SVG into
--charts DIR (default: the current folder): tune-elbow.svg, tune-indices.svg and, with the
gap statistic, tune-gap.svg. segmenta cluster --k auto makes the same choice over 2..8.`;

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

type TuneValues = SegmentationValues & Partial<Record<"charts" | "gap-references" | "bootstrap", string>>;

export async function tuneCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<TuneValues>("tune", args, {
    ...SEGMENTATION_OPTIONS,
    charts: { type: "string" },
    "gap-references": { type: "string" },
    bootstrap: { type: "string" },
  });
  const file = onePositional("tune", positionals, "data file");
  const kRange = parseKRange(values.k) ?? { min: 2, max: 10 };
  const input: SegmentationConfigInput = {
    ...segmentationInput(values),
    k: "auto",
    kRange,
    kChoice: {
      gapReferences: parseWholeNumber("--gap-references", values["gap-references"], 0),
      stabilityResamples: parseWholeNumber("--bootstrap", values.bootstrap, 0),
    },
  };
  const config = parseConfig(JSON.parse(JSON.stringify(input)));
  const dir = values.charts ?? ".";
  const paths = {
    elbow: join(dir, TUNE_CHARTS.elbow),
    indices: join(dir, TUNE_CHARTS.indices),
    gap: config.kChoice.gapReferences > 0 ? join(dir, TUNE_CHARTS.gap) : null,
  };
  for (const p of [paths.elbow, paths.indices, paths.gap]) if (p) await checkOutputPath(p, "--charts", "text");

  const run = await clusterFile(file, config, {}, io);
  const choice = run.result.kChoice;
  if (!choice) throw new Error("tune: the segmentation returned no evaluation of k");
  // Render every chart before writing any, so that a failure leaves no chart behind.
  const svgs: [string, string][] = [
    [paths.elbow, await renderSvg(elbowChart(choice))],
    [paths.indices, await renderSvg(indicesChart(choice))],
  ];
  const gapSpec = gapChart(choice);
  if (paths.gap && gapSpec) svgs.push([paths.gap, await renderSvg(gapSpec)]);
  for (const [p, svg] of svgs) await writeTextAtomic(p, svg);
  const charts = { elbow: paths.elbow, indices: paths.indices, gap: paths.gap && gapSpec ? paths.gap : null };

  if (values.json) io.out(JSON.stringify(tuneJson(run, choice, charts), null, 2));
  else printTune(run, choice, charts, io);
  return 0;
}

export function tuneJson(run: ClusterRun, c: ChooseKResult, charts: { elbow: string; indices: string; gap: string | null }) {
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
    /** The segments at the recommended k. */
    segments: r.segments,
    notes: c.notes,
    warnings: r.warnings,
    charts,
  };
}

function printTune(run: ClusterRun, c: ChooseKResult, charts: { elbow: string; indices: string; gap: string | null }, io: Io): void {
  const r = run.result;
  const used = r.features.filter((f) => f.used).map((f) => f.name);
  io.out(`${run.data.source}: ${run.data.rows} rows (${run.profile.details})`);
  io.out(`features: ${used.join(", ")} (${r.featureNames.length} after encoding and scaling)`);
  const parts = [`K-Means, seed ${r.config.seed}, ${r.config.nInit} initialisations`];
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
  io.out(`charts written: ${[charts.elbow, charts.indices, charts.gap].filter((p) => p !== null).join(", ")}`);
  io.out(`to segment: segmenta cluster ${run.data.source} --k ${c.recommendation.k}, with the same options`);
}
