/**
 * The report of one segmentation: the data, the preprocessing plan, the choice of k, the
 * segments with their profiles, names and rules, and the maps, as a ReportDocument (see
 * html.ts) and as a set of named charts (for `--charts DIR`). Node only, as src/report.
 *
 * Density-based runs (DBSCAN, HDBSCAN, OPTICS; `result.density`) find the number of segments
 * and set apart the customers who fit none (`result.noise`, label −1). The report treats
 * them as a group of their own: counted in the summary, a row of the segments table and of
 * the profiles (last), an "Outliers" card (segment −1) with their profile and no rules (rules
 * describe the real segments), grey in every map under their name, left out of the silhouette
 * plot, and the silhouette given both ways (noise left out; noise as one more group). A
 * "Density" section shows how the segments came about: DBSCAN's k-distance curve, OPTICS's
 * reachability plot, HDBSCAN's membership probabilities.
 *
 * Gaussian mixtures (`result.mixture`) give every customer a probability of every segment. The
 * report says how k and the covariance type came about (the BIC chart and table when they were
 * chosen), how certain the assignment is (each segment's distribution of its customers' top
 * probability, the customers below 0.6 "between segments" and which two segments they sit
 * between), each segment's mean top probability on its card, and the segments' ellipses on the
 * PCA map where the map's two axes show most of their variance.
 */
import type { TopLevelSpec } from "vega-lite";
import { elbowChart, gapChart, indicesChart } from "../charts/choose-k.js";
import { kDistanceChart, reachabilityChart } from "../charts/density.js";
import { dendrogramChart } from "../charts/dendrogram.js";
import { AgglomerativeModel } from "../cluster/agglomerative.js";
import { GaussianMixtureModel } from "../cluster/mixture/gaussian-mixture.js";
import { assignmentCertaintyChart, betweenSegmentsTable, bicChart, ellipseLayer, type MixtureEllipse, mixtureEllipses, selectionTable, withEllipses } from "../charts/mixture.js";
import { segmentMapChart } from "../charts/map.js";
import { membershipChart } from "../charts/membership.js";
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
import type { MixtureInfo } from "../pipeline/mixture.js";
import type { DensityInfo, SegmentationResult, SegmentSummary } from "../pipeline/run.js";
import { PCA } from "../preprocess/pca.js";
import type { FeatureStats, SegmentCategoricalFeature, SegmentNumericFeature, SegmentProfile } from "../profile/profiles.js";
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
  // Density-based runs: the customers who fit no segment (label −1), a group of their own.
  const density = r.density ?? null;
  const noise = r.noise && r.noise.size > 0 ? r.noise : null;
  const noiseName = noise ? noise.name : undefined;
  // The segments and, last, the outliers: the rows of the tables and charts that list groups.
  const groups: SegmentSummary[] = noise ? [...r.segments, noise] : r.segments;

  // Summary; at most two described columns fit beside the descriptions (all are in each segment's table).
  const shown = r.config.profile.length <= 2 ? r.config.profile : [];
  const who = noise
    ? `${data.rows.toLocaleString("en-US")} customers of ${options.source} in ${r.k} segments and ${noise.size.toLocaleString("en-US")} outliers (${pct(noise.share)}) who fit no segment`
    : `${data.rows.toLocaleString("en-US")} customers of ${options.source} in ${r.k} segments${density ? " (no outliers: every customer fits a segment)" : ""}`;
  const silText = noise && density
    ? `Silhouette score ${fmt(r.silhouette, 3)} over the customers in segments${r.silhouetteSample ? ` (on a sample of ${r.silhouetteSample})` : ""}, ` +
      `${fmt(density.silhouetteWithNoise, 3)} counting the outliers as one more group: ${silhouetteWords(r.silhouette)}.`
    : `Silhouette score ${fmt(r.silhouette, 3)}${r.silhouetteSample ? ` (on a sample of ${r.silhouetteSample})` : ""}: ${silhouetteWords(r.silhouette)}.`;
  const mixture = r.mixture ?? null;
  const betweenText = mixture
    ? ` ${customers(mixture.between.count)} (${pct(mixture.between.share)}) ${mixture.between.count === 1 ? "sits" : "sit"} between segments: the probability of the assigned segment is below ${mixture.between.threshold} (see "How certain is the assignment").`
    : "";
  const summary: ReportBlock[] = [
    {
      type: "text",
      text: `${who}, by ${algorithmText(r)} on ${used.length} features (${r.featureNames.length} after preprocessing). ${silText}${betweenText}`,
    },
    {
      type: "table",
      table: {
        caption: (shown.length ? `The segments, largest first, with ${shown.join(", ")} (described, not clustered on)` : "The segments, largest first")
          + (noise ? "; last, the outliers (segment −1), who fit no segment" : ""),
        head: ["segment", "name", "customers", "share", ...shown, "what sets it apart"],
        rows: groups.map((s) => [s.segment, s.name, s.size, pct(s.share), ...shown.map((c) => profileValue(r, s.segment, c)), s.size ? s.description : EMPTY]),
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

  // Choice of k (density-based runs: how the number of segments came about).
  const kSection: ReportBlock[] = [];
  if (density) {
    kSection.push({ type: "text", text: densityCountText(r, density) });
  } else if (mixture) {
    kSection.push(...mixtureChoiceBlocks(r, mixture, chart));
  } else if (r.kChoice) {
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
  segSection.push(chart("sizes", "Segment sizes", segmentSizesChart({
    segments: groups.map((s) => s.name), sizes: groups.map((s) => s.size), labels: groups.map((s) => s.segment), ...(noise ? { noiseName } : {}),
  }),
  `The number of customers in each of the ${r.k} segments${noise ? ", and of the outliers (grey, last), who fit no segment" : ""}.`,
  { head: ["segment", "customers", "share"], rows: groups.map((s) => [s.name, s.size, pct(s.share)]), numeric: [false, true, true] }));
  const heat = heatmapInput(r);
  if (heat.features.length) {
    const heatTable: ReportTable = {
      caption: "Difference from the population in standard deviations (segment mean in brackets)",
      head: ["segment", ...heat.features],
      rows: heat.segments.map((s, i) => [s, ...heat.values[i].map((v, j) => `${fmt(v, 3)} (${fmt(heat.labels[i][j])})`)]),
    };
    const outliersRow = heat.segmentLabels.includes(-1);
    segSection.push(chart("profile-heatmap", "Profiles", profileHeatmapChart(heat),
      "How far each segment's mean lies from the population's, in standard deviations: blue below, red above."
        + (outliersRow ? " The last row, framed by a grey dashed border, is the outliers, who fit no segment." : ""), heatTable));
    segSection.push(chart("snake-plot", "Snake plot", snakePlotChart({ ...heat, maxFeatures: SNAKE_FEATURES }),
      (heat.features.length > SNAKE_FEATURES
        ? `The same differences as lines, one per segment, across the ${SNAKE_FEATURES} features on which some segment differs most from the population (of ${heat.features.length}; all are in the profiles above and in the table below).`
        : "The same differences as lines, one per segment, across the features.")
        + (outliersRow ? " The grey dashed line is the outliers." : ""), heatTable));
  }
  const certainty = mixture ? segmentCertainty(r.labels, mixture, r.k) : null;
  for (const s of r.segments) {
    const p = r.profiles.segments.find((x) => x.id === s.segment);
    const blocks: ReportBlock[] = [];
    if (s.size === 0) {
      segSection.push({ type: "segment", id: s.segment, name: s.name, summary: `0 customers (${pct(0)}). ${EMPTY}`, blocks: [] });
      continue;
    }
    if (mixture && certainty) blocks.push({ type: "text", text: certaintyCardText(s, mixture, certainty, names, r.segments.indexOf(s)) });
    if (p) blocks.push(...profileTables(p, r.profiles.population.features, "segment"));
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
  // The outliers' card (segment −1, grey): their profile as a segment's, and no rules.
  if (noise) {
    const o = r.profiles.outliers;
    const blocks: ReportBlock[] = o ? profileTables(o, r.profiles.population.features, "outliers") : [];
    blocks.push({
      type: "text",
      text: "No rules for the outliers: the rules describe the real segments. The outliers are the customers who fit none of them" +
        (density ? ` (${densityNoiseWhy(density)})` : "") + "; a customer no segment's rules match is a candidate outlier, not a certain one.",
    });
    blocks.push(...(options.segmentBlocks?.[-1] ?? []));
    // The description already says how many they are ("312 customers (4.1%) fit no segment: …").
    segSection.push({ type: "segment", id: -1, name: noise.name, summary: noise.description || `${noise.size.toLocaleString("en-US")} customers (${pct(noise.share)}) fit no segment.`, blocks });
  }

  if (r.rules.segments.some((x) => x.rules.length)) {
    segSection.push({
      type: "code",
      caption: `Every customer's segment by the rules, as a SQL expression (the first segment whose rules match; rows no rule matches get NULL${noise ? ", as the outliers should" : ""})`,
      text: r.rulesSql,
    });
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
    let mapSpec = segmentMapChart({
      x: Y, labels: sampleLabels, segmentNames: names, method: "PCA", ids: sampleIds, maxPoints, seed: r.config.seed, noiseName,
      explainedVarianceRatio: Array.from(pca.explainedVarianceRatio),
    });
    let mapText = `The customers on the first two principal components of the preprocessed features (${pct(pca.explainedVarianceRatio[0] + pca.explainedVarianceRatio[1])} of the variance${axesFrom}), coloured by segment${noise ? ", the outliers in grey" : ""}${sample.length < X.rows ? `; a stratified sample of ${sample.length} of ${X.rows}` : ""}.`;
    let mapTable: ReportTable | undefined;
    // Gaussian mixtures: the segments' ellipses. The PCA is fitted on the preprocessed matrix the
    // mixture was fitted on (or rows of it): a linear map, so the components project exactly.
    const gm = mixture && r.model.inner instanceof GaussianMixtureModel && r.model.inner.nFeatures === X.cols ? r.model.inner : null;
    if (gm) {
      const e = segmentEllipses(gm, r.model.relabel, pca, r.segments);
      if (e.shown.length) mapSpec = withEllipses(mapSpec, ellipseLayer(e.shown, names));
      mapText += " " + ellipseText(e, names);
      mapTable = {
        caption: "Each segment's ellipse on the map: its center, its semi-axes at one standard deviation, the direction of the longer one, and the share of the segment's variance the two axes show",
        head: ["segment", "center (PC1, PC2)", "semi-axes", "angle (degrees)", "variance shown", "drawn"],
        rows: e.all.map((x) => [
          names[x.component] ?? `Segment ${x.component}`, `${fmt(x.center[0], 3)}, ${fmt(x.center[1], 3)}`, `${fmt(x.semiAxes[0], 3)}, ${fmt(x.semiAxes[1], 3)}`,
          fmt((x.angle * 180) / Math.PI, 3), pct(x.shownVariance), x.shownVariance >= MEANINGFUL_ELLIPSE ? "yes" : "no",
        ]),
        numeric: [false, true, true, true, true, false],
      };
    }
    mapSection.push(chart("map-pca", "Map (PCA)", mapSpec, mapText, mapTable));
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
        x: t.embedding, labels: subLabels, segmentNames: names, method: "t-SNE", ids: subIds, maxPoints: m, noiseName,
      }), `A t-SNE map (perplexity ${perplexity}) of ${who}: neighbours stay neighbours, but distances between groups mean little.${reduced}`));
    }
    if (embeds.includes("umap")) {
      progress(`report: UMAP map of ${sub.length} customers`);
      const nNeighbors = Math.min(15, sub.length - 1);
      const Y = await new UMAP({ randomState: r.config.seed, nNeighbors }).fitTransform(input, {
        onProgress: (p) => progress(`report: UMAP map of ${sub.length} customers`, p.epoch / p.nEpochs),
      });
      mapSection.push(chart("map-umap", "Map (UMAP)", segmentMapChart({
        x: Y, labels: subLabels, segmentNames: names, method: "UMAP", ids: subIds, maxPoints: m, noiseName,
      }), `A UMAP map (${nNeighbors} neighbours) of ${who}: local neighbourhoods are kept; sizes and distances of groups mean little.${reduced}`));
    }
  }
  // The silhouette is over the customers in segments: noise (−1) is in no segment's silhouette.
  const nonEmpty = new Set(labelsArr.filter((l) => l >= 0)).size;
  const inSegments = noise ? labelsArr.length - noise.size : labelsArr.length;
  if (noise && density) {
    mapSection.push({
      type: "text",
      text: `The silhouette is computed over the customers in segments (noise left out): ${fmt(r.silhouette, 3)}; counting the outliers as one more group: ` +
        `${fmt(density.silhouetteWithNoise, 3)}. The outliers are not a segment (they need not be close to each other), so the first is the measure of the segments; ` +
        "the second says how much apart from the segments the outliers lie as a whole.",
    });
  }
  if (nonEmpty >= 2 && nonEmpty < inSegments) {
    progress("report: silhouette plot");
    // All pairwise distances of the sample: at most about SILHOUETTE_WORK operations (fewer customers on wide tables).
    const silMax = Math.max(200, Math.min(maxPoints, 4000, Math.floor(Math.sqrt(SILHOUETTE_WORK / Math.max(1, X.cols)))));
    const silSample = stratifiedSample(r.labels, silMax, r.config.seed);
    const silLabels = Int32Array.from(silSample, (i) => r.labels[i]);
    // Noise rows of the sample are left out of the silhouettes (and of the plot).
    const inSeg = Int32Array.from(silSample).filter((i) => r.labels[i] >= 0);
    const segLabels = Int32Array.from(inSeg, (i) => r.labels[i]);
    const silK = new Set(segLabels).size;
    if (silK >= 2 && silK < segLabels.length) {
      const segSamples = silhouetteSamples(takeRows(X, inSeg), segLabels);
      const samples = new Float64Array(silLabels.length).fill(NaN);
      for (let i = 0, j = 0; i < silLabels.length; i++) if (silLabels[i] >= 0) samples[i] = segSamples[j++];
      let avg = 0;
      for (const v of segSamples) avg += v;
      avg /= segSamples.length;
      const left = silLabels.length - segLabels.length;
      mapSection.push(chart("silhouette", "Silhouette plot", silhouettePlotChart({ samples, labels: silLabels, segmentNames: names, average: avg, noise: "omit", ...(noise ? { noiseName } : {}) }),
        `Each customer's silhouette (from −1, closer to another segment, to 1, well inside its own), sorted within each segment; the dashed line is the average, ${fmt(avg, 3)}` +
          `${silSample.length < X.rows ? `, on a stratified sample of ${inSeg.length} customers${noise ? " in segments" : ""}` : ""}` +
          `${left ? `. The ${left} outliers of the sample are left out: they are in no segment's silhouette` : ""}.`));
    }
  } else {
    mapSection.push({
      type: "text",
      text: nonEmpty < 2
        ? `The silhouette plot is left out: it needs customers in at least two segments, and all ${inSegments.toLocaleString("en-US")}${noise ? " customers in segments" : ""} are in one.`
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

  // Density-based runs: how the segments and the outliers came about.
  const densityBlocks = density ? densitySection(r, density, chart) : [];

  const sections: ReportSection[] = [
    { id: "summary", title: "Summary", blocks: summary },
    { id: "data", title: "Data", blocks: dataSection },
    { id: "preprocessing", title: "Preprocessing", blocks: prepSection },
    { id: "choice-of-k", title: density ? "Number of segments" : "Choice of k", blocks: kSection },
    { id: "segments", title: "Segments", blocks: segSection },
    ...(mixture ? [{ id: "certainty", title: "How certain is the assignment", blocks: certaintySection(r, mixture, names, chart) }] : []),
    ...(densityBlocks.length ? [{ id: "density", title: "Density", blocks: densityBlocks }] : []),
    ...(treeSection.length ? [{ id: "dendrogram", title: "Dendrogram", blocks: treeSection }] : []),
    ...(options.extraSections ?? []),
    ...(rfmSection.length ? [{ id: "rfm", title: "RFM", blocks: rfmSection }] : []),
    { id: "maps", title: "Maps", blocks: mapSection },
  ];
  return {
    document: {
      title: `Segments of ${options.source}`,
      subtitle: `${r.k} segments${noise ? ` and ${noise.size.toLocaleString("en-US")} outliers` : ""} of ${data.rows.toLocaleString("en-US")} customers · Segmenta · seed ${r.config.seed}`,
      sections,
    },
    charts,
  };
}

/** "1 customer", "2 customers", "1,200 customers". */
function customers(n: number): string {
  return `${n.toLocaleString("en-US")} customer${n === 1 ? "" : "s"}`;
}

/** An ellipse is drawn on the PCA map when the map's two axes show at least this share of its segment's variance. */
const MEANINGFUL_ELLIPSE = 0.5;

/** Per segment (segment numbering): its customers' mean and lowest probability of their segment. */
interface SegmentCertainty {
  mean: Float64Array;
  min: Float64Array;
  size: Int32Array;
}

function segmentCertainty(labels: Int32Array, m: MixtureInfo, k: number): SegmentCertainty {
  const mean = new Float64Array(k);
  const min = new Float64Array(k).fill(Infinity);
  const size = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0 || l >= k) continue;
    const v = m.maxProbability[i];
    mean[l] += v;
    size[l]++;
    if (v < min[l]) min[l] = v;
  }
  for (let l = 0; l < k; l++) mean[l] = size[l] > 0 ? mean[l] / size[l] : NaN;
  return { mean, min, size };
}

/** A segment's card: how certain its customers' assignment is, and whom the uncertain ones sit between. */
function certaintyCardText(s: SegmentSummary, m: MixtureInfo, c: SegmentCertainty, names: string[], index: number): string {
  // Labels, probabilities and pairs index r.segments (a segment's number is its stable id with --previous).
  const l = index;
  const between = m.between.perSegment[l] ?? 0;
  const size = c.size[l];
  let text = `Mean probability of this segment over its customers: ${fmt(c.mean[l], 3)} (the lowest ${fmt(c.min[l], 3)}). ` +
    `${between.toLocaleString("en-US")} of its ${size.toLocaleString("en-US")} customers (${pct(size > 0 ? between / size : 0)}) ${between === 1 ? "sits" : "sit"} between segments (probability below ${m.between.threshold})`;
  // The segment it shares most of its uncertain customers with (those assigned to it).
  let other = -1;
  let most = 0;
  for (const p of m.between.pairs) {
    if (p.a !== l && p.b !== l) continue;
    const mine = p.a === l ? p.assignedToA : p.count - p.assignedToA;
    if (mine > most) {
      most = mine;
      other = p.a === l ? p.b : p.a;
    }
  }
  if (other >= 0) text += `, ${most === between ? (between === 1 ? "" : "all ") : `${most.toLocaleString("en-US")} of them `}between it and ${names[other] ?? `Segment ${other}`}`;
  return `${text}.`;
}

/** The choice-of-k section of a mixture: the BIC chart and table when k (and the type) were chosen, else how to see the evidence. */
function mixtureChoiceBlocks(
  r: SegmentationResult, m: MixtureInfo, chart: (id: string, title: string, spec: TopLevelSpec, description: string, table?: ReportTable) => ReportBlock,
): ReportBlock[] {
  const sel = m.selection;
  if (!sel) {
    const type = r.config.covarianceType
      ? `${m.covarianceType} covariances were given (--covariance ${m.covarianceType})`
      : `${m.covarianceType} covariances, the default, were used`;
    return [{
      type: "text",
      text: `k = ${r.k} was given (--k ${r.k}) and ${type}. Run with --k auto (or segmenta tune --algorithm gmm) to see the evidence: ` +
        "the BIC of every number of segments and covariance type (full, tied, diag, spherical), as R's mclust chooses them, lower being better.",
    }];
  }
  const types = sel.covarianceTypes;
  const what = types.length > 1 ? `k and the covariance type were chosen by BIC over k from ${sel.kMin} to ${sel.kMax} and the types ${types.join(", ")}` : `k was chosen by BIC over k from ${sel.kMin} to ${sel.kMax} (${types[0]} covariances given)`;
  const blocks: ReportBlock[] = [
    { type: "text", text: `${what}, as R's mclust does (BIC = −2 · log-likelihood + parameters · log(customers): lower is better): ${sel.best.k} segments with ${sel.best.covarianceType} covariances.` },
    { type: "list", items: [sel.best.reason, `For comparison, by AIC (which penalises parameters less, so it often picks more segments): ${sel.byAic.reason}`] },
  ];
  const t = selectionTable(sel);
  blocks.push(chart("bic", "BIC", bicChart(sel),
    `BIC of Gaussian mixtures with ${sel.kMin} to ${sel.kMax} segments, one line per covariance type (${types.join(", ")}); lower is better; the lowest, circled, is ${sel.best.k} segments with ${sel.best.covarianceType} covariances.`,
    { caption: t.caption, head: t.head, rows: t.rows, numeric: t.numeric }));
  return blocks;
}

/** "How certain is the assignment": each segment's distribution of top probabilities, the customers between segments and between which. */
function certaintySection(
  r: SegmentationResult, m: MixtureInfo, names: string[], chart: (id: string, title: string, spec: TopLevelSpec, description: string, table?: ReportTable) => ReportBlock,
): ReportBlock[] {
  const b = m.between;
  const c = segmentCertainty(r.labels, m, r.k);
  const blocks: ReportBlock[] = [{
    type: "text",
    text: `A Gaussian mixture gives every customer a probability of every segment; each is assigned to its most probable one. ` +
      `${b.count.toLocaleString("en-US")} of ${b.rows.toLocaleString("en-US")} customers (${pct(b.share)}) ${b.count === 1 ? "has" : "have"} a probability of the assigned segment below ${b.threshold}: ${b.count === 1 ? "it sits" : "they sit"} between segments, ` +
      `and a small change in ${b.count === 1 ? "its data could move it" : "their data could move them"}. The others belong clearly to their segment.`,
  }];
  const present = r.segments.filter((_, i) => c.size[i] > 0);
  blocks.push(chart("certainty", "How certain is the assignment",
    assignmentCertaintyChart({ maxProbability: m.maxProbability, labels: r.labels, names, threshold: b.threshold }),
    `For each segment, the distribution of its customers' probability of the segment (as shares of the segment), with the threshold ${b.threshold} dashed: ` +
      `${customers(b.count)} ${b.count === 1 ? "is" : "are"} below it, between segments.`,
    {
      caption: "Each segment's customers by their probability of the segment",
      head: ["segment", "customers", "mean probability", "lowest", `between segments (below ${b.threshold})`, "share of the segment"],
      rows: present.map((s) => {
        const l = r.segments.indexOf(s);
        const n = b.perSegment[l] ?? 0;
        return [s.name, c.size[l], fmt(c.mean[l], 3), fmt(c.min[l], 3), n, pct(n / c.size[l])];
      }),
      numeric: [false, true, true, true, true, true],
    }));
  if (b.count > 0) {
    const t = betweenSegmentsTable(b, names);
    blocks.push({ type: "table", table: { caption: t.caption, head: t.head, rows: t.rows, numeric: t.numeric } });
  } else {
    blocks.push({ type: "text", text: `No customer sits between segments: every probability of the assigned segment is ${b.threshold} or more.` });
  }
  return blocks;
}

/** The segments' ellipses on the PCA map, in segment numbering (empty segments left out); those the map shows well enough to draw. */
function segmentEllipses(
  gm: GaussianMixtureModel, relabel: Int32Array | null, pca: Parameters<typeof mixtureEllipses>[1], segments: SegmentSummary[],
): { all: MixtureEllipse[]; shown: MixtureEllipse[] } {
  const size = new Map(segments.map((s, i) => [i, s.size]));
  const all = mixtureEllipses(gm, pca)
    .map((e) => ({ ...e, component: relabel ? relabel[e.component] : e.component }))
    .filter((e) => (size.get(e.component) ?? 0) > 0)
    .sort((a, b) => a.component - b.component);
  return { all, shown: all.filter((e) => e.shownVariance >= MEANINGFUL_ELLIPSE) };
}

/** What the map's caption says of the ellipses. */
function ellipseText(e: { all: MixtureEllipse[]; shown: MixtureEllipse[] }, names: string[]): string {
  const name = (x: MixtureEllipse): string => names[x.component] ?? `Segment ${x.component}`;
  const hidden = e.all.filter((x) => x.shownVariance < MEANINGFUL_ELLIPSE);
  const why = (xs: MixtureEllipse[]): string => xs.map((x) => `${name(x)} ${pct(x.shownVariance)}`).join(", ");
  const limit = `the map's two axes show less than ${pct(MEANINGFUL_ELLIPSE)} of their variance (${why(hidden)}), so their outline on it would mislead`;
  if (e.shown.length === 0) return `The segments' ellipses are not drawn: ${limit}.`;
  const drawn = "The lines are each segment's Gaussian projected on the map, at one standard deviation (solid) and two (dashed), in the segment's colour";
  if (hidden.length === 0) return `${drawn}; the map's two axes show at least ${pct(MEANINGFUL_ELLIPSE)} of each segment's variance (${why(e.shown)}).`;
  return `${drawn}, for the segments whose variance the map's axes show at least ${pct(MEANINGFUL_ELLIPSE)} of (${why(e.shown)}). Not drawn: ${hidden.map(name).join(", ")}, as ${limit}.`;
}

/** Whether any feature varies across the rows (otherwise every map is one point). */
function hasSpread(X: Matrix): boolean {
  const { data, rows, cols } = X;
  for (let i = 1; i < rows; i++) for (let j = 0; j < cols; j++) if (data[i * cols + j] !== data[j]) return true;
  return false;
}

/** A described column's value in a segment: the share for a yes/no column, the mean for a number, the top category. */
function profileValue(r: SegmentationResult, segment: number, column: string): string {
  const p = segment < 0 ? r.profiles.outliers : r.profiles.segments.find((x) => x.id === segment);
  const f = p?.features.find((x) => x.name === column);
  if (!f) return "—";
  if (f.kind === "boolean") return f.mean === null ? "—" : pct(f.mean);
  if (f.kind === "categorical") {
    const top = [...f.categories].sort((a, b) => b.share - a.share)[0];
    return top ? `${top.value} ${pct(top.share)}` : "—";
  }
  return fmt(f.mean);
}

/** A segment's (or the outliers') profile as tables: numeric features against the population, and the categories that differ most. */
function profileTables(p: SegmentProfile, pop: FeatureStats[], who: "segment" | "outliers"): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  const numeric = p.features.filter((f): f is SegmentNumericFeature => f.kind !== "categorical");
  if (numeric.length) {
    blocks.push({
      type: "table",
      table: {
        caption: `Numeric features: the ${who} against the population`,
        head: ["feature", `${who} mean`, `${who} median`, "population mean", "population median", "difference (sd)"],
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
        head: ["feature", "category", `share in ${who}`, "share in population", "lift"],
        rows: cats.filter((f) => f.topCategory !== null).map((f) => {
          const c = f.categories.find((x) => x.value === f.topCategory)!;
          return [f.name, c.value, pct(c.share), pct(c.populationShare), c.lift === null ? "—" : fmt(c.lift, 3)];
        }),
        numeric: [false, false, true, true, true],
      },
    });
  }
  return blocks;
}

function lastMerges(Z: Matrix, m: number): (number | string)[][] {
  const rows: (number | string)[][] = [];
  for (let i = Math.max(0, Z.rows - m); i < Z.rows; i++) {
    rows.push([i + 1, Z.data[i * 4], Z.data[i * 4 + 1], fmt(Z.data[i * 4 + 2], 6), Z.data[i * 4 + 3]]);
  }
  return rows.reverse();
}

function algorithmText(r: SegmentationResult): string {
  const d = r.density;
  if (d?.algorithm === "dbscan") return `DBSCAN (eps ${fmt(d.eps, 3)} ${epsHow(r, d)}, minSamples ${d.minSamples}${metricText(r)})`;
  if (d?.algorithm === "hdbscan") {
    return `HDBSCAN (minClusterSize ${d.minClusterSize ?? "—"}, minSamples ${d.minSamples}` +
      `${r.config.clusterSelectionMethod === "leaf" ? ", leaf selection" : ""}${r.config.clusterSelectionEpsilon > 0 ? `, clusterSelectionEpsilon ${r.config.clusterSelectionEpsilon}` : ""}${metricText(r)})`;
  }
  if (d?.algorithm === "optics") {
    return `OPTICS (minSamples ${d.minSamples}, ${d.eps !== null ? `the reachability cut at eps ${fmt(d.eps, 3)}` : `xi ${r.config.xi}${d.minClusterSize !== null ? `, minClusterSize ${d.minClusterSize}` : ""}`}${metricText(r)})`;
  }
  if (r.mixture) {
    const m = r.mixture;
    const how = m.selection
      ? m.selection.covarianceTypes.length > 1 ? "k and the covariance type chosen by BIC" : "k chosen by BIC, the covariance type given"
      : r.config.covarianceType ? "k and the covariance type given" : "k given, full covariances by default";
    return `a Gaussian mixture (${m.covarianceType} covariances; ${how})`;
  }
  if (r.config.algorithm === "minibatch-kmeans") return `mini-batch K-Means (batches of ${r.config.batchSize})`;
  if (r.config.algorithm === "agglomerative") return `agglomerative clustering (${r.config.linkage} linkage)`;
  return `K-Means (${r.config.nInit} initialisations, seed ${r.config.seed})`;
}

/** The metric, when not the default euclidean one. */
function metricText(r: SegmentationResult): string {
  return r.config.metric !== "euclidean" ? `, ${r.config.metric} distance` : "";
}

/** How DBSCAN's eps came about, in a few words for the summary. */
function epsHow(r: SegmentationResult, d: DensityInfo): string {
  if (r.config.eps !== "auto") return "given";
  if (d.kDistance && d.kDistance.kneeIndex === null) return "from the k-distance curve, which has no clear knee";
  return "chosen at the knee of the k-distance curve";
}

/** Why the outliers are outliers, by algorithm. */
function densityNoiseWhy(d: DensityInfo): string {
  if (d.algorithm === "dbscan") return `customers with fewer than ${d.minSamples} customers within eps ${fmt(d.eps, 3)} who are not within eps of such a core customer either`;
  if (d.algorithm === "hdbscan") return `customers in no group of at least ${d.minClusterSize ?? "minClusterSize"} that persists in the cluster tree`;
  return d.eps !== null
    ? `customers whose reachability exceeds eps ${fmt(d.eps, 3)} and who are not core customers`
    : "customers in no steep valley of the reachability plot";
}

/** How a density-based run found its number of segments. */
function densityCountText(r: SegmentationResult, d: DensityInfo): string {
  const k = `${r.k} segment${r.k === 1 ? "" : "s"}`;
  const out = r.noise && r.noise.size > 0
    ? ` ${r.noise.size.toLocaleString("en-US")} customers (${pct(r.noise.share)}) fit none and are outliers.`
    : " Every customer fits a segment: there are no outliers.";
  const name = d.algorithm === "dbscan" ? "DBSCAN" : d.algorithm === "hdbscan" ? "HDBSCAN" : "OPTICS";
  let how: string;
  if (d.algorithm === "dbscan") {
    how = `${name} finds the number of segments from the density: ${k} at eps ${fmt(d.eps, 3)} with minSamples ${d.minSamples}. ` +
      `A segment is the customers linked by chains of core customers (at least ${d.minSamples} customers, themselves included, within eps), with the customers within eps of them.` +
      (d.epsReason ? ` How eps was chosen: ${d.epsReason}.` : "");
  } else if (d.algorithm === "hdbscan") {
    how = `${name} finds the number of segments from the density: ${k}, the groups of at least ${d.minClusterSize ?? "minClusterSize"} customers ` +
      (r.config.clusterSelectionMethod === "leaf" ? "at the leaves of the cluster tree (the finest groups)." : "that persist longest as the density threshold rises (excess of mass).") +
      ` Core distances use minSamples ${d.minSamples}.`;
  } else {
    how = `${name} finds the number of segments from the density: ${k}` +
      (d.eps !== null ? ` at the cut of the reachability plot at eps ${fmt(d.eps, 3)}` : `, the valleys of the reachability plot whose sides are steeper than xi ${r.config.xi}`) +
      ` (minSamples ${d.minSamples}).`;
  }
  return `${how}${out} The number of segments is found, not chosen: there is no choice of k to show. See the Density section for the evidence.`;
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][k % 10] ?? "th";
  return `${k}${s}`;
}

function capitalize(s: string): string {
  return s.length ? s[0].toUpperCase() + s.slice(1) : s;
}

/**
 * The Density section: DBSCAN's k-distance curve (the knee and eps) with the cores, borders
 * and outliers counted, OPTICS's reachability plot, HDBSCAN's membership probabilities, each
 * chart with its text alternative and its numbers.
 */
function densitySection(
  r: SegmentationResult, d: DensityInfo, chart: (id: string, title: string, spec: TopLevelSpec, description: string, table?: ReportTable) => ReportBlock,
): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  // The density information is over the rows that were fitted (an outlier rule with action
  // "drop" leaves some out of the fit): their labels, in the same order.
  const labels = fittedLabels(r);
  const names = r.segments.map((s) => s.name);
  if (d.algorithm === "dbscan" && d.kDistance) {
    const kd = d.kDistance;
    const n = kd.distances.length;
    // The eps used: the curve's suggestion (eps auto) or the one given.
    const eps = d.eps ?? kd.eps;
    blocks.push({
      type: "text",
      text: `The k-distance curve: every customer's distance to its ${ordinal(kd.minSamples)} nearest neighbour (the customer itself counted), sorted, over ${kd.rows.toLocaleString("en-US")} customers. ` +
        `Customers left of eps (${fmt(eps, 3)}) have ${kd.minSamples} customers within eps and are cores of segments; where the curve rises steeply, customers lie in sparse places. ${capitalize(kd.reason)}.`,
    });
    let core: number | null = null;
    if (d.core) {
      core = 0;
      for (const c of d.core) core += c;
    }
    // Where eps meets the curve: the knee, else the last core customer (or the share of the curve's sample within eps).
    let index: number | null = eps === kd.eps ? kd.index : null;
    if (index === null && core !== null && core > 0) index = core - 1;
    if (index === null && n > 0) {
      let within = 0;
      for (const v of kd.distances) if (v <= eps) within++;
      index = Math.max(0, Math.round(((within - 1) / Math.max(1, n - 1)) * (kd.rows - 1)));
    }
    const qs = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];
    const curveTable: ReportTable = {
      caption: `The k-distance curve at some of its quantiles (the knee ${kd.kneeIndex === null ? "not found" : "found"}; eps ${fmt(eps, 3)})`,
      head: ["share of customers", `distance to the ${ordinal(kd.minSamples)} neighbour`],
      rows: n ? qs.map((q) => [pct(q), fmt(kd.distances[Math.min(n - 1, Math.round(q * (n - 1)))], 4)]) : [],
      numeric: [true, true],
    };
    const description = `Every customer's distance to its ${ordinal(kd.minSamples)} nearest neighbour, sorted (${kd.rows.toLocaleString("en-US")} customers${n < kd.rows ? `, drawn from ${n} points of the curve` : ""}); ` +
      `the dashed lines mark eps = ${fmt(eps, 3)}${eps !== kd.eps ? ` (given; the knee suggests ${fmt(kd.eps, 3)})` : kd.kneeIndex === null ? " (the curve has no clear knee)" : ", at the knee of the curve"}: customers left of it are cores of segments.`;
    blocks.push(chart("k-distance", "k-distance curve", kDistanceChart({
      distances: kd.distances, positions: kd.positions, rows: kd.rows, minSamples: kd.minSamples,
      knee: index === null ? null : { index, eps, found: eps === kd.eps && kd.kneeIndex !== null },
    }, { description }), description, curveTable));
    if (d.core && core !== null) {
      const noise = d.noise;
      const all = d.core.length;
      blocks.push({
        type: "table",
        table: {
          caption: "The customers by their place in the density",
          head: ["customers", "how many", "share"],
          rows: [
            ["core (at least minSamples within eps)", core, pct(core / all)],
            ["border (within eps of a core)", all - core - noise, pct((all - core - noise) / all)],
            ["outliers (neither)", noise, pct(noise / all)],
          ],
          numeric: [false, true, true],
        },
      });
    }
  }
  if (d.algorithm === "optics" && d.reachability && d.reachability.ordering.length === labels.length) {
    const { ordering, reachability } = d.reachability;
    let finite = 0;
    let max = 0;
    for (const v of reachability) {
      if (Number.isFinite(v)) {
        finite++;
        if (v > max) max = v;
      }
    }
    blocks.push({
      type: "text",
      text: `The reachability plot: the ${ordering.length.toLocaleString("en-US")} customers in OPTICS's processing order, each at its reachability distance (how far it is from the dense region reached before it). ` +
        `Valleys are segments; peaks separate them; the customers on high ground are outliers. ${finite.toLocaleString("en-US")} customers have a finite reachability (largest ${fmt(max, 4)}).`,
    });
    // Each group's reachabilities: how deep its valley is.
    const byLabel = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const v = reachability[i];
      if (!byLabel.has(labels[i])) byLabel.set(labels[i], []);
      if (Number.isFinite(v)) byLabel.get(labels[i])!.push(v);
    }
    const groupIds = [...byLabel.keys()].sort((a, b) => (a < 0 ? 1 : 0) - (b < 0 ? 1 : 0) || a - b);
    const table: ReportTable = {
      caption: "Each segment's reachability distances (finite ones): low in a valley, high for the outliers",
      head: ["segment", "customers", "median reachability", "largest reachability"],
      rows: groupIds.map((l) => {
        const v = byLabel.get(l)!.sort((a, b) => a - b);
        const count = labels.reduce((t, x) => t + (x === l ? 1 : 0), 0);
        const name = l < 0 ? r.noise?.name ?? "outliers" : names[l] ?? `Segment ${l}`;
        return [name, count, v.length ? fmt(v[Math.floor((v.length - 1) / 2)], 4) : "—", v.length ? fmt(v[v.length - 1], 4) : "—"];
      }),
      numeric: [false, true, true, true],
    };
    const description = `Reachability plot of ${ordering.length.toLocaleString("en-US")} customers in OPTICS's processing order, coloured by segment, the outliers in grey: valleys are segments.`;
    // noiseName: the outliers under their name in the legend (read by reachabilityChart once it takes it, as segmentMapChart does).
    const plotInput = { ordering, reachability, labels, names, noiseName: r.noise?.name };
    blocks.push(chart("reachability", "Reachability plot", reachabilityChart(plotInput, { description }), description, table));
  }
  if (d.algorithm === "hdbscan" && d.probabilities && d.probabilities.length === labels.length) {
    const bins = 10;
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < d.probabilities.length; i++) if (labels[i] >= 0) counts[Math.min(bins - 1, Math.floor(d.probabilities[i] * bins))]++;
    blocks.push(chart("membership", "Membership", membershipChart({ probabilities: d.probabilities, labels }),
      "How strongly each customer in a segment belongs to it: 1 in the segment's core, lower towards its edge, where it shades into sparse space. The outliers (membership 0) are left out.",
      {
        head: ["membership probability", "customers in segments"],
        rows: counts.map((c, b) => [`${(b / bins).toFixed(1)}–${((b + 1) / bins).toFixed(1)}`, c]),
        numeric: [false, true],
      }));
  }
  return blocks;
}

/** The labels of the rows that were fitted: every row, or those an outlier rule with action "drop" kept. */
function fittedLabels(r: SegmentationResult): Int32Array {
  if (!r.outliers || !r.outliers.some((o) => o === 1)) return r.labels;
  return r.labels.filter((_, i) => r.outliers![i] === 0);
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
  // Segments without customers have no profile: they are left out (one row per profiled segment); the outliers last.
  const segs = r.segments.filter((s) => s.size > 0).map((s) => r.profiles.segments.find((p) => p.id === s.segment)).filter((p) => p !== undefined);
  if (r.noise && r.profiles.outliers) segs.push(r.profiles.outliers);
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
    segments: segs.map((p) => (p.id < 0 ? r.noise?.name ?? p.name : r.segments.find((s) => s.segment === p.id)?.name ?? `Segment ${p.id}`)),
    segmentLabels: segs.map((p) => p.id),
    features: cols.map((c) => c.name),
    values: segs.map((p) => cols.map((c) => c.get(p)[0])),
    labels: segs.map((p) => cols.map((c) => c.get(p)[1])),
  };
}
