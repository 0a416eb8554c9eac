import { join } from "node:path";
import { elbowChart, gapChart, indicesChart } from "../charts/choose-k.js";
import { InputError } from "../core/errors.js";
import type { RfmMapping } from "../io/rfm.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, OutputBatch } from "../io/write.js";
import { type ChooseKResult, type KVoter, VOTER_NAMES } from "../metrics/choose-k.js";
import { parseConfig, type SegmentationConfigInput } from "../pipeline/config.js";
import { renderSvg } from "../report/render.js";
import {
  type ClusterRun, clusterFile, printPlan, rfmSegmentationInput, SEGMENTATION_OPTIONS, segmentationInput, type SegmentationValues,
} from "./cluster.js";
import { fmtNum, type Io, onePositional, parse, parseTypes, parseWholeNumber, table } from "./common.js";
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
  const kRange = parseKRange(values.k) ?? { min: 2, max: 10 };
  const search: Partial<SegmentationConfigInput> = {
    k: "auto",
    kRange,
    kChoice: {
      gapReferences: parseWholeNumber("--gap-references", values["gap-references"], 0),
      stabilityResamples: parseWholeNumber("--bootstrap", values.bootstrap, 0),
    },
  };
  let map: RfmMapping | undefined;
  if (values.transactions) {
    map = rfmMapping(values, "tune --transactions");
  } else {
    const mappingFlag = givenMappingFlag(values);
    if (mappingFlag) throw new InputError(`--${mappingFlag} maps the columns of a transaction log: add --transactions to tune on the customers' RFM features`);
  }
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
  if (map) {
    return withRfmFile(file, map, parseTypes(values.type), async (path, rfm) => {
      if (!values.json) {
        for (const line of describeRfm(rfm)) io.out(line);
        io.out("");
      }
      await tuneOn(path, [{ flag: "input", path: file }]);
      return 0;
    }, { sheet: values.sheet });
  }
  await tuneOn(file, [{ flag: "input", path: file }]);
  return 0;
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
