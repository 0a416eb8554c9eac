/**
 * The report of one segmentation: the data, the preprocessing plan, the choice of k, the
 * segments with their profiles, names and rules, and the maps, as a ReportDocument (see
 * html.ts) and as a set of named charts (for `--charts DIR`). Node only, as src/report.
 */
import type { TopLevelSpec } from "vega-lite";
import { elbowChart, gapChart, indicesChart } from "../charts/choose-k.js";
import { dendrogramChart } from "../charts/dendrogram.js";
import { AgglomerativeModel } from "../cluster/agglomerative.js";
import { segmentMapChart } from "../charts/map.js";
import { profileHeatmapChart, snakePlotChart } from "../charts/profile.js";
import { rfmGridChart } from "../charts/rfm-grid.js";
import { stratifiedSample } from "../charts/sample.js";
import { silhouettePlotChart } from "../charts/silhouette-plot.js";
import { segmentSizesChart } from "../charts/sizes.js";
import type { Dataset } from "../core/dataset.js";
import { type Matrix, takeRows } from "../core/matrix.js";
import { TSNE } from "../embed/tsne.js";
import { UMAP } from "../embed/umap.js";
import { silhouetteSamples } from "../metrics/silhouette.js";
import type { SegmentationResult } from "../pipeline/run.js";
import { PCA } from "../preprocess/pca.js";
import type { SegmentCategoricalFeature, SegmentNumericFeature } from "../profile/profiles.js";
import { quintileScores } from "../profile/rfm-scores.js";
import type { ReportBlock, ReportChart, ReportDocument, ReportSection, ReportTable } from "./html.js";

export type ReportMap = "pca" | "tsne" | "umap";

export interface ReportOptions {
  /** Where the data came from, for the title. */
  source: string;
  /** How the file was read (e.g. "Parquet", "delimited text (comma), 21 columns"). */
  readAs?: string;
  /** The 2-D maps to draw (default PCA and t-SNE). */
  maps?: ReportMap[];
  /** Customers drawn in the maps and the silhouette plot at most (a stratified sample above it). */
  maxPoints?: number;
  /** Customers embedded by t-SNE / UMAP at most (a stratified sample above it; default 3000). */
  embedPoints?: number;
  /** The PCA map's axes are found on at most this many values, rows × features (default 20,000,000; a stratified sample of rows above it). */
  pcaFitValues?: number;
  /** Extra blocks for a segment (e.g. its rules), by segment id. */
  segmentBlocks?: Record<number, ReportBlock[]>;
  /** Extra sections, inserted after the segments (e.g. the dendrogram). */
  extraSections?: ReportSection[];
  /** Receives progress messages. */
  /** What is being done and, when known, the share of it done (0..1). */
  onProgress?: (message: string, fraction?: number) => void;
}

export interface SegmentationReport {
  document: ReportDocument;
  /** The charts by file name (without extension), for --charts. */
  charts: Record<string, TopLevelSpec>;
}

const fmt = (x: number | null | undefined, digits = 4): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a >= 1e5) return Math.round(x).toLocaleString("en-US");
  return String(Number(x.toPrecision(digits)));
};
const pct = (x: number): string => `${(100 * x).toFixed(1)}\u00a0%`;
/** The snake plot draws at most this many features (the most distinguishing), so that it fits the page. */
const SNAKE_FEATURES = 12;
/** Above this many features, t-SNE and UMAP run on the first this many principal components. */
const EMBED_FEATURES = 50;
/** The PCA map's axes are found on at most this many values (rows × features; a stratified sample of rows above it). */
const PCA_FIT_VALUES = 20_000_000;
/** The silhouette plot's sample is kept to about this many operations (m² · features). */
const SILHOUETTE_WORK = 2e9;
/** What an empty segment says (K-Means keeps k centers even when the data has fewer distinct points). */
const EMPTY = "No customer fell in this segment: the data has fewer distinct customers than segments, or this center lies where no customer is nearest.";

/** The report of a segmentation of `data` (the rows that were segmented, with their original columns). */
export async function buildSegmentationReport(result: SegmentationResult, data: Dataset, options: ReportOptions): Promise<SegmentationReport> {
  const r = result;
  const progress = options.onProgress ?? (() => undefined);
  const names = r.segments.map((s) => s.name);
  const labelsArr = Array.from(r.labels);
  const charts: Record<string, TopLevelSpec> = {};
  const chart = (id: string, title: string, spec: TopLevelSpec, description: string, table?: ReportTable): ReportBlock => {
    charts[id] = spec;
    const c: ReportChart = { id, title, spec, description, table };
    return { type: "chart", chart: c };
  };
  const maxPoints = options.maxPoints ?? 5000;
  const used = r.features.filter((f) => f.used);

  // Summary; at most two described columns fit beside the descriptions (all are in each segment's table).
  const shown = r.config.profile.length <= 2 ? r.config.profile : [];
  const summary: ReportBlock[] = [
    {
      type: "text",
      text: `${data.rows.toLocaleString("en-US")} customers of ${options.source} in ${r.k} segments, by ${algorithmText(r)} on ${used.length} features ` +
        `(${r.featureNames.length} after preprocessing). Silhouette score ${fmt(r.silhouette, 3)}${r.silhouetteSample ? ` (on a sample of ${r.silhouetteSample})` : ""}: ` +
        `${silhouetteWords(r.silhouette)}.`,
    },
    {
      type: "table",
      table: {
        caption: shown.length ? `The segments, largest first, with ${shown.join(", ")} (described, not clustered on)` : "The segments, largest first",
        head: ["segment", "name", "customers", "share", ...shown, "what sets it apart"],
        rows: r.segments.map((s) => [s.segment, s.name, s.size, pct(s.share), ...shown.map((c) => profileValue(r, s.segment, c)), s.size ? s.description : EMPTY]),
        numeric: [true, false, true, true, ...shown.map(() => true), false],
      },
    },
    { type: "warnings", items: r.warnings },
  ];

  // Data.
  const dataSection: ReportBlock[] = [
    { type: "text", text: `${options.source}: ${data.rows.toLocaleString("en-US")} rows, ${data.columns.length} columns${options.readAs ? ` (${options.readAs})` : ""}. Identifier: ${r.idColumn ?? "none (rows are numbered from 1)"}.` },
    {
      type: "table",
      table: { caption: "Columns and whether each is a feature", head: ["column", "kind", "feature", "why"], rows: r.features.map((f) => [f.name, f.kind, f.used ? "yes" : "no", f.reason]) },
    },
  ];

  // Preprocessing.
  const prepSection: ReportBlock[] = [
    { type: "text", text: `Plan "${r.config.preprocessing.plan}": each step and why it was chosen.` },
    { type: "table", table: { head: ["step", "columns", "why"], rows: r.planSteps.map((s) => [s.step, s.columns.join(", "), s.reason]) } },
    { type: "text", text: `The fitted steps (${r.featureNames.length} features go into the clustering):` },
    { type: "list", items: r.plan },
  ];

  // Choice of k.
  const kSection: ReportBlock[] = [];
  if (r.kChoice) {
    const kc = r.kChoice;
    kSection.push({ type: "text", text: `k = ${kc.recommendation.k} was chosen from ${kc.evaluations[0].k} to ${kc.evaluations[kc.evaluations.length - 1].k}:` });
    kSection.push({ type: "list", items: [...kc.recommendation.reasons, ...kc.notes.map((n) => `note: ${n}`)] });
    const kTable: ReportTable = {
      head: ["k", "inertia", "silhouette", "Davies–Bouldin", "Calinski–Harabasz", "gap", "stability"],
      rows: kc.evaluations.map((e) => [e.k, fmt(e.inertia, 6), fmt(e.silhouette), fmt(e.daviesBouldin), fmt(e.calinskiHarabasz, 5), fmt(e.gap), fmt(e.stability, 3)]),
      numeric: [true, true, true, true, true, true, true],
    };
    kSection.push(chart("elbow", "Elbow", elbowChart(kc), "Inertia (within-segment sum of squares) for each k; the knee marks where more segments stop paying off.", kTable));
    kSection.push(chart("indices", "Indices by k", indicesChart(kc), "Silhouette (higher is better), Davies–Bouldin (lower is better) and Calinski–Harabasz (higher is better) for each k.", kTable));
    const gap = gapChart(kc);
    if (gap) kSection.push(chart("gap", "Gap statistic", gap, "The gap statistic with one standard error; the smallest k whose gap is within one error of the next k's is chosen.", kTable));
  } else {
    kSection.push({ type: "text", text: `k = ${r.k} was given (--k ${r.k}). Run with --k auto (or segmenta tune) to see the evidence for each k: elbow, silhouette, Davies–Bouldin, Calinski–Harabasz, gap statistic and stability.` });
  }

  // Segments: sizes, heatmap, snake plot, one article per segment.
  const segSection: ReportBlock[] = [];
  segSection.push(chart("sizes", "Segment sizes", segmentSizesChart({ segments: names, sizes: r.segments.map((s) => s.size), labels: r.segments.map((s) => s.segment) }),
    `The number of customers in each of the ${r.k} segments.`,
    { head: ["segment", "customers", "share"], rows: r.segments.map((s) => [s.name, s.size, pct(s.share)]), numeric: [false, true, true] }));
  const heat = heatmapInput(r);
  if (heat.features.length) {
    const heatTable: ReportTable = {
      caption: "Difference from the population in standard deviations (segment mean in brackets)",
      head: ["segment", ...heat.features],
      rows: heat.segments.map((s, i) => [s, ...heat.values[i].map((v, j) => `${fmt(v, 3)} (${fmt(heat.labels[i][j])})`)]),
    };
    segSection.push(chart("profile-heatmap", "Profiles", profileHeatmapChart(heat),
      "How far each segment's mean lies from the population's, in standard deviations: blue below, red above.", heatTable));
    segSection.push(chart("snake-plot", "Snake plot", snakePlotChart({ ...heat, maxFeatures: SNAKE_FEATURES }),
      heat.features.length > SNAKE_FEATURES
        ? `The same differences as lines, one per segment, across the ${SNAKE_FEATURES} features on which some segment differs most from the population (of ${heat.features.length}; all are in the profiles above and in the table below).`
        : "The same differences as lines, one per segment, across the features.", heatTable));
  }
  for (const s of r.segments) {
    const p = r.profiles.segments.find((x) => x.id === s.segment);
    const blocks: ReportBlock[] = [];
    if (s.size === 0) {
      segSection.push({ type: "segment", id: s.segment, name: s.name, summary: `0 customers (${pct(0)}). ${EMPTY}`, blocks: [] });
      continue;
    }
    if (p) {
      const numeric = p.features.filter((f): f is SegmentNumericFeature => f.kind !== "categorical");
      const pop = r.profiles.population.features;
      if (numeric.length) {
        blocks.push({
          type: "table",
          table: {
            caption: "Numeric features: the segment against the population",
            head: ["feature", "segment mean", "segment median", "population mean", "population median", "difference (sd)"],
            rows: numeric.map((f) => {
              const q = pop.find((x) => x.name === f.name) as SegmentNumericFeature | undefined;
              return [f.name, fmt(f.mean), fmt(f.median), fmt(q?.mean), fmt(q?.median), fmt(f.standardizedDifference, 3)];
            }),
            numeric: [false, true, true, true, true, true],
          },
        });
      }
      const cats = p.features.filter((f): f is SegmentCategoricalFeature => f.kind === "categorical");
      if (cats.length) {
        blocks.push({
          type: "table",
          table: {
            caption: "Categories that differ most from the population",
            head: ["feature", "category", "share in segment", "share in population", "lift"],
            rows: cats.filter((f) => f.topCategory !== null).map((f) => {
              const c = f.categories.find((x) => x.value === f.topCategory)!;
              return [f.name, c.value, pct(c.share), pct(c.populationShare), c.lift === null ? "—" : fmt(c.lift, 3)];
            }),
            numeric: [false, false, true, true, true],
          },
        });
      }
    }
    const rule = r.rules.segments.find((x) => x.segment === s.segment);
    if (rule) {
      if (rule.rules.length) {
        blocks.push({
          type: "table",
          table: {
            caption: `Rules that pick out this segment from the original columns (a decision tree of depth ${r.rules.maxDepth}` +
              (r.rules.trainingRows < r.rules.n
                ? `, grown on a random sample of ${r.rules.trainingRows.toLocaleString("en")} of the ${r.rules.n.toLocaleString("en")} rows; the counts are over all rows`
                : "") +
              `); together they catch ${pct(rule.recall)} of it with precision ${rule.precision === null ? "—" : pct(rule.precision)}`,
            head: ["rule", "customers matched", "share of the segment caught", "precision"],
            rows: rule.rules.map((x) => [x.text, x.matched, pct(x.coverage), x.precision === null ? "—" : pct(x.precision)]),
            numeric: [false, true, true, true],
          },
        });
        blocks.push({ type: "code", caption: "The same as a SQL WHERE clause", text: `WHERE ${rule.sql}` });
      } else {
        blocks.push({ type: "text", text: "No simple rule of the original columns picks out this segment: it is defined by its distance to the others in the combined features." });
      }
    }
    blocks.push(...(options.segmentBlocks?.[s.segment] ?? []));
    segSection.push({ type: "segment", id: s.segment, name: s.name, summary: `${s.size.toLocaleString("en-US")} customers (${pct(s.share)}). ${s.description}`, blocks });
  }

  if (r.rules.segments.some((x) => x.rules.length)) {
    segSection.push({ type: "code", caption: "Every customer's segment by the rules, as a SQL expression (the first segment whose rules match; rows no rule matches get NULL)", text: r.rulesSql });
  }

  // RFM grid.
  const rfmSection: ReportBlock[] = [];
  const rec = data.columns.find((c) => c.name === "recency_days" && c.kind === "numeric");
  const freq = data.columns.find((c) => c.name === "frequency" && c.kind === "numeric");
  if (rec && freq) {
    const R = quintileScores(rec.values as Float64Array, true);
    const F = quintileScores(freq.values as Float64Array);
    rfmSection.push({ type: "text", text: "Every customer's recency score R (5 = most recent) and frequency score F (5 = most orders), quintiles of the population, and the classic RFM segment areas." });
    rfmSection.push(chart("rfm-grid", "RFM grid", rfmGridChart({ recencyScore: R, frequencyScore: F }), "Customers per recency and frequency score, over the areas of the named RFM segments (Champions top right, Lost bottom left)."));
  }

  // Maps and the silhouette plot, on stratified samples.
  const mapSection: ReportBlock[] = [];
  const X = r.matrix;
  const sample = stratifiedSample(r.labels, maxPoints, r.config.seed);
  const sampleLabels = Int32Array.from(sample, (i) => r.labels[i]);
  const sampleIds = Array.from(sample, (i) => r.ids[i]);
  const wanted = options.maps ?? ["pca", "tsne"];
  const spread = hasSpread(X);
  if (!spread) {
    mapSection.push({ type: "text", text: `The maps are left out: all ${X.rows.toLocaleString("en-US")} customers have the same preprocessed features, so they would all be one point.` });
  } else if (wanted.includes("pca") && X.cols < 2) {
    mapSection.push({ type: "text", text: "The PCA map is left out: it needs two features or more after preprocessing, and there is one." });
  } else if (wanted.includes("pca")) {
    progress(`report: PCA map (${X.rows.toLocaleString("en-US")} × ${X.cols.toLocaleString("en-US")})`);
    // Two components: scikit-learn's "auto" method (randomized on wide tables), whose cost follows the two components asked.
    // On a huge table, the axes come from a stratified sample of pcaFitValues values at most.
    const fitValues = options.pcaFitValues ?? PCA_FIT_VALUES;
    const fitRows = X.rows * X.cols > fitValues ? stratifiedSample(r.labels, Math.max(1000, Math.floor(fitValues / X.cols)), r.config.seed) : null;
    const pca = await new PCA({ nComponents: 2, randomState: r.config.seed }).fit(fitRows && fitRows.length < X.rows ? takeRows(X, fitRows) : X);
    const Y = pca.transform(takeRows(X, sample));
    const axesFrom = fitRows && fitRows.length < X.rows ? `; the axes found on a stratified sample of ${fitRows.length.toLocaleString("en-US")} customers` : "";
    mapSection.push(chart("map-pca", "Map (PCA)", segmentMapChart({
      x: Y, labels: sampleLabels, segmentNames: names, method: "PCA", ids: sampleIds, maxPoints, seed: r.config.seed,
      explainedVarianceRatio: Array.from(pca.explainedVarianceRatio),
    }), `The customers on the first two principal components of the preprocessed features (${pct(pca.explainedVarianceRatio[0] + pca.explainedVarianceRatio[1])} of the variance${axesFrom}), coloured by segment${sample.length < X.rows ? `; a stratified sample of ${sample.length} of ${X.rows}` : ""}.`));
  }
  const embeds = spread ? (["tsne", "umap"] as const).filter((m) => wanted.includes(m)) : [];
  if (embeds.length && X.rows < 10) {
    mapSection.push({ type: "text", text: `The ${embeds.map((m) => (m === "tsne" ? "t-SNE" : "UMAP")).join(" and ")} map${embeds.length > 1 ? "s are" : " is"} left out: ${X.rows} customers are too few for a neighbourhood map (10 at least).` });
  } else if (embeds.length) {
    // t-SNE and UMAP cost grows with rows × features in their neighbour search: a stratified
    // sample of the rows, and above EMBED_FEATURES features, the sample's first principal components.
    const m = options.embedPoints ?? 3000;
    const sub = stratifiedSample(r.labels, m, r.config.seed);
    let input = takeRows(X, sub);
    let reduced = "";
    if (input.cols > EMBED_FEATURES && input.rows > EMBED_FEATURES) {
      progress(`report: reducing ${input.cols.toLocaleString("en-US")} features to ${EMBED_FEATURES} principal components for the neighbourhood maps`);
      const pca = await new PCA({ nComponents: EMBED_FEATURES, iteratedPower: 2, randomState: r.config.seed }).fit(input);
      input = pca.transform(input);
      let share = 0;
      for (const v of pca.explainedVarianceRatio) share += v;
      reduced = ` The ${X.cols.toLocaleString("en-US")} preprocessed features were first reduced to their ${EMBED_FEATURES} principal components (${pct(share)} of the variance), as a neighbourhood map on so many features would take too long.`;
    }
    const who = sub.length < X.rows ? `a stratified sample of ${sub.length} customers` : `all ${sub.length} customers`;
    const subLabels = Int32Array.from(sub, (i) => r.labels[i]);
    const subIds = Array.from(sub, (i) => r.ids[i]);
    if (embeds.includes("tsne")) {
      progress(`report: t-SNE map of ${sub.length} customers`);
      const perplexity = Math.min(30, Math.max(2, Math.floor((sub.length - 1) / 3)));
      const t = await new TSNE({ perplexity, randomState: r.config.seed }).fit(input, {
        onProgress: (p) => progress(`report: t-SNE map of ${sub.length} customers`, p.iteration / 1000),
      });
      mapSection.push(chart("map-tsne", "Map (t-SNE)", segmentMapChart({
        x: t.embedding, labels: subLabels, segmentNames: names, method: "t-SNE", ids: subIds, maxPoints: m,
      }), `A t-SNE map (perplexity ${perplexity}) of ${who}: neighbours stay neighbours, but distances between groups mean little.${reduced}`));
    }
    if (embeds.includes("umap")) {
      progress(`report: UMAP map of ${sub.length} customers`);
      const nNeighbors = Math.min(15, sub.length - 1);
      const Y = await new UMAP({ randomState: r.config.seed, nNeighbors }).fitTransform(input, {
        onProgress: (p) => progress(`report: UMAP map of ${sub.length} customers`, p.epoch / p.nEpochs),
      });
      mapSection.push(chart("map-umap", "Map (UMAP)", segmentMapChart({
        x: Y, labels: subLabels, segmentNames: names, method: "UMAP", ids: subIds, maxPoints: m,
      }), `A UMAP map (${nNeighbors} neighbours) of ${who}: local neighbourhoods are kept; sizes and distances of groups mean little.${reduced}`));
    }
  }
  const nonEmpty = new Set(labelsArr).size;
  if (nonEmpty >= 2 && nonEmpty < X.rows) {
    progress("report: silhouette plot");
    // All pairwise distances of the sample: at most about SILHOUETTE_WORK operations (fewer customers on wide tables).
    const silMax = Math.max(200, Math.min(maxPoints, 4000, Math.floor(Math.sqrt(SILHOUETTE_WORK / Math.max(1, X.cols)))));
    const silSample = stratifiedSample(r.labels, silMax, r.config.seed);
    const silLabels = Int32Array.from(silSample, (i) => r.labels[i]);
    const silK = new Set(silLabels).size;
    if (silK >= 2 && silK < silLabels.length) {
      const samples = silhouetteSamples(takeRows(X, silSample), silLabels);
      let avg = 0;
      for (const v of samples) avg += v;
      avg /= samples.length;
      mapSection.push(chart("silhouette", "Silhouette plot", silhouettePlotChart({ samples, labels: silLabels, segmentNames: names, average: avg }),
        `Each customer's silhouette (from −1, closer to another segment, to 1, well inside its own), sorted within each segment; the dashed line is the average, ${fmt(avg, 3)}` +
          `${silSample.length < X.rows ? `, on a stratified sample of ${silSample.length} customers` : ""}.`));
    }
  } else {
    mapSection.push({
      type: "text",
      text: nonEmpty < 2
        ? `The silhouette plot is left out: it needs customers in at least two segments, and all ${X.rows.toLocaleString("en-US")} are in one.`
        : "The silhouette plot is left out: every customer is a segment of its own, and a silhouette needs a segment of two customers or more.",
    });
  }

  // The dendrogram of agglomerative clustering, truncated to its last merges, with the cut.
  const treeSection: ReportBlock[] = [];
  if (r.model.inner instanceof AgglomerativeModel) {
    const agg = r.model.inner;
    const p = Math.min(agg.nSamples, 40);
    const height = agg.cutHeight(r.k);
    const tree = agg.dendrogram({ p });
    treeSection.push({ type: "text", text: `The tree of merges (${r.config.linkage} linkage) over ${agg.nSamples.toLocaleString("en-US")} customers${p < agg.nSamples ? `, drawn down to its last ${p} clusters (the number under a leaf is its size)` : ""}. Cutting it at the dashed line gives the ${r.k} segments.` });
    treeSection.push(chart("dendrogram", "Dendrogram", dendrogramChart(tree, { cut: height === null ? null : { k: r.k, height } }),
      `The hierarchy of merges, with the merge height on the vertical axis; a cut at height ${fmt(height)} gives ${r.k} segments.`,
      {
        caption: "The last merges (scipy's linkage format: the two clusters merged, the height, the size)",
        head: ["merge", "left", "right", "height", "size"],
        rows: lastMerges(agg.linkageMatrix, 15),
        numeric: [true, true, true, true, true],
      }));
  }

  const sections: ReportSection[] = [
    { id: "summary", title: "Summary", blocks: summary },
    { id: "data", title: "Data", blocks: dataSection },
    { id: "preprocessing", title: "Preprocessing", blocks: prepSection },
    { id: "choice-of-k", title: "Choice of k", blocks: kSection },
    { id: "segments", title: "Segments", blocks: segSection },
    ...(treeSection.length ? [{ id: "dendrogram", title: "Dendrogram", blocks: treeSection }] : []),
    ...(options.extraSections ?? []),
    ...(rfmSection.length ? [{ id: "rfm", title: "RFM", blocks: rfmSection }] : []),
    { id: "maps", title: "Maps", blocks: mapSection },
  ];
  return {
    document: { title: `Segments of ${options.source}`, subtitle: `${r.k} segments of ${data.rows.toLocaleString("en-US")} customers · Segmenta · seed ${r.config.seed}`, sections },
    charts,
  };
}

/** Whether any feature varies across the rows (otherwise every map is one point). */
function hasSpread(X: Matrix): boolean {
  const { data, rows, cols } = X;
  for (let i = 1; i < rows; i++) for (let j = 0; j < cols; j++) if (data[i * cols + j] !== data[j]) return true;
  return false;
}

/** A described column's value in a segment: the share for a yes/no column, the mean for a number, the top category. */
function profileValue(r: SegmentationResult, segment: number, column: string): string {
  const p = r.profiles.segments.find((x) => x.id === segment);
  const f = p?.features.find((x) => x.name === column);
  if (!f) return "—";
  if (f.kind === "boolean") return f.mean === null ? "—" : pct(f.mean);
  if (f.kind === "categorical") {
    const top = [...f.categories].sort((a, b) => b.share - a.share)[0];
    return top ? `${top.value} ${pct(top.share)}` : "—";
  }
  return fmt(f.mean);
}

function lastMerges(Z: Matrix, m: number): (number | string)[][] {
  const rows: (number | string)[][] = [];
  for (let i = Math.max(0, Z.rows - m); i < Z.rows; i++) {
    rows.push([i + 1, Z.data[i * 4], Z.data[i * 4 + 1], fmt(Z.data[i * 4 + 2], 6), Z.data[i * 4 + 3]]);
  }
  return rows.reverse();
}

function algorithmText(r: SegmentationResult): string {
  if (r.config.algorithm === "minibatch-kmeans") return `mini-batch K-Means (batches of ${r.config.batchSize})`;
  if (r.config.algorithm === "agglomerative") return `agglomerative clustering (${r.config.linkage} linkage)`;
  return `K-Means (${r.config.nInit} initialisations, seed ${r.config.seed})`;
}

function silhouetteWords(s: number): string {
  if (!Number.isFinite(s)) return "undefined";
  if (s > 0.7) return "a strong structure";
  if (s > 0.5) return "a reasonable structure";
  if (s > 0.25) return "a weak structure, typical of customer data, where segments shade into each other";
  return "little structure: the segments are a useful partition more than natural groups";
}

/** Heatmap input: numeric features' standardized differences, then each categorical feature's most distinctive categories. */
function heatmapInput(r: SegmentationResult): { segments: string[]; segmentLabels: number[]; features: string[]; values: number[][]; labels: number[][] } {
  // Segments without customers have no profile: they are left out (one row per profiled segment).
  const segs = r.segments.filter((s) => s.size > 0).map((s) => r.profiles.segments.find((p) => p.id === s.segment)).filter((p) => p !== undefined);
  if (!segs.length) return { segments: [], segmentLabels: [], features: [], values: [], labels: [] };
  const columns: { name: string; get: (p: (typeof segs)[number]) => [number, number] }[] = [];
  for (const f of segs[0].features) {
    if (f.kind !== "categorical") {
      columns.push({
        name: f.name,
        get: (p) => {
          const g = p.features.find((x) => x.name === f.name) as SegmentNumericFeature;
          return [g.standardizedDifference ?? 0, g.mean ?? NaN];
        },
      });
    } else {
      // The categories that some segment is most distinguished by.
      const tops = new Set<string>();
      for (const p of segs) {
        const g = p.features.find((x) => x.name === f.name) as SegmentCategoricalFeature;
        if (g.topCategory !== null) tops.add(g.topCategory);
      }
      for (const cat of [...tops].slice(0, 3)) {
        columns.push({
          name: `${f.name}=${cat}`,
          get: (p) => {
            const g = p.features.find((x) => x.name === f.name) as SegmentCategoricalFeature;
            const c = g.categories.find((x) => x.value === cat);
            return [c?.standardizedDifference ?? 0, c?.share ?? 0];
          },
        });
      }
    }
  }
  const cols = columns.slice(0, 30);
  return {
    segments: segs.map((p) => r.segments.find((s) => s.segment === p.id)?.name ?? `Segment ${p.id}`),
    segmentLabels: segs.map((p) => p.id),
    features: cols.map((c) => c.name),
    values: segs.map((p) => cols.map((c) => c.get(p)[0])),
    labels: segs.map((p) => cols.map((c) => c.get(p)[1])),
  };
}
