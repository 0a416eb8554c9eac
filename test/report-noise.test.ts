/**
 * Outliers (label −1: the customers who fit no segment, as DBSCAN, HDBSCAN and OPTICS leave
 * them) in the charts and the report (issue #14.6): grey under their name in every map, the
 * last bar of the sizes chart, a marked last row of the profile heatmap and snake plot, left
 * out of the silhouette plot; in the report a row of the segments table, an "Outliers" card
 * (segment −1) with their profile and no rules, both silhouettes, the number of segments as
 * found, and a Density section.
 *
 * The segmentation results are made by hand from a K-Means run on three blobs and ten
 * scattered customers: the labels are the blobs' (the scattered ones −1), and the profiles,
 * rules, silhouettes and density information are computed for those labels here.
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import { segmentMapChart } from "../src/charts/map.js";
import { membershipChart } from "../src/charts/membership.js";
import { profileHeatmapChart, snakePlotChart } from "../src/charts/profile.js";
import { silhouettePlotChart } from "../src/charts/silhouette-plot.js";
import { segmentSizesChart } from "../src/charts/sizes.js";
import { NOISE_COLOR, SEGMENT_PALETTE, segmentDisplayNames } from "../src/charts/theme.js";
import { datasetFromRecords } from "../src/core/dataset.js";
import { Random } from "../src/core/random.js";
import { silhouetteScore } from "../src/metrics/silhouette.js";
import { type DensityInfo, runSegmentation, type SegmentationResult, type SegmentSummary } from "../src/pipeline/run.js";
import { profileSegments, type SegmentNumericFeature } from "../src/profile/profiles.js";
import { segmentRules } from "../src/profile/rules.js";
import { renderReportHtml, type ReportBlock, type ReportTable } from "../src/report/html.js";
import { renderSvg } from "../src/report/render.js";
import { buildSegmentationReport } from "../src/report/segmentation.js";

type Spec = Record<string, unknown>;
type Row = Record<string, unknown>;

function datasets(spec: unknown): Row[][] {
  const out: Row[][] = [];
  const walk = (s: Spec): void => {
    const data = s.data as { values?: Row[] } | undefined;
    if (data?.values) out.push(data.values);
    for (const sub of (s.layer as Spec[] | undefined) ?? []) walk(sub);
  };
  walk(spec as Spec);
  return out;
}

async function expectRenders(spec: TopLevelSpec): Promise<string> {
  expect(() => compile(structuredClone(spec))).not.toThrow();
  const svg = await renderSvg(spec);
  expect(svg.trimStart()).toMatch(/^<svg[\s>]/);
  return svg;
}

describe("charts with outliers", () => {
  it("segmentDisplayNames: noise is 'noise' by default, 'Outliers' for true, the given name for a string; it keeps it, a segment of the same name is suffixed", () => {
    expect(segmentDisplayNames([-1, 0], ["A"]).get(-1)).toBe("noise");
    expect(segmentDisplayNames([-1, 0], ["A"], true).get(-1)).toBe("Outliers");
    const names = segmentDisplayNames([1, -1, 0], ["Outliers: big spenders", "B"], "Outliers: big spenders");
    expect([...names.entries()]).toEqual([[-1, "Outliers: big spenders"], [0, "Outliers: big spenders (2)"], [1, "B"]]);
  });

  it("map: the outliers under their name, grey, last in the legend, drawn beneath", async () => {
    const labels = Int32Array.from([0, -1, 1, 0, -1, 1]);
    const x = Float64Array.from([0, 0, 5, 5, 1, 0, 9, 9, 0, 1, 6, 5]);
    const spec = segmentMapChart({ x, labels, method: "PCA", segmentNames: ["Loyal", "New"], noiseName: "Outliers: very high spend" });
    const s = spec as unknown as { encoding: { color: { scale: { domain: string[]; range: string[] } } }; title: { subtitle: string } };
    expect(s.encoding.color.scale.domain).toEqual(["Loyal", "New", "Outliers: very high spend"]);
    expect(s.encoding.color.scale.range).toEqual([SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], NOISE_COLOR]);
    expect(datasets(spec)[0].slice(0, 2).map((r) => r.segment)).toEqual(["Outliers: very high spend", "Outliers: very high spend"]);
    expect(s.title.subtitle).toBe("6 customers · 2 segments and outliers (grey)");
    await expectRenders(spec);
  });

  it("sizes: the outliers' bar last and grey, whatever the order given", async () => {
    const spec = segmentSizesChart({ segments: ["Outliers: odd", "A", "B"], sizes: [10, 60, 30], labels: [-1, 0, 1], noiseName: true });
    const [rows] = datasets(spec);
    expect(rows.map((r) => [r.segment, r.text])).toEqual([["A", "60 (60.0%)"], ["B", "30 (30.0%)"], ["Outliers: odd", "10 (10.0%)"]]);
    const s = spec as unknown as { title: { subtitle: string }; layer: Spec[] };
    expect(s.title.subtitle).toBe("100 customers in 2 segments and the outliers");
    expect((s.layer[0].encoding as { color: { scale: { range: string[] } } }).color.scale.range).toEqual([SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], NOISE_COLOR]);
    await expectRenders(spec);
  });

  it("silhouette plot: noise: 'omit' leaves the outliers out and says how many", async () => {
    const samples = Float64Array.from([0.5, 0.4, -0.9, NaN, 0.6, -0.8]);
    const labels = Int32Array.from([0, 0, -1, 1, 1, -1]);
    const spec = silhouettePlotChart({ samples, labels, average: 0.5, noise: "omit", noiseName: "Outliers: odd" });
    const [rows] = datasets(spec);
    expect(rows.map((r) => r.segment)).toEqual(["Segment 0", "Segment 0", "Segment 0", "Segment 1", "Segment 1"]);
    expect(rows.map((r) => r.s)).toEqual([0.5, 0.4, 0.4, 0.6, 0.6]);
    const s = spec as unknown as { title: { subtitle: string }; description: string; layer: Spec[] };
    expect(s.title.subtitle).toContain("2 outliers left out (in no segment)");
    expect(s.description).toContain("The 2 customers who fit no segment (the outliers) are left out: they are in no segment's silhouette.");
    expect((s.layer[0].encoding as { color: { scale: { domain: string[] } } }).color.scale.domain).toEqual(["Segment 0", "Segment 1"]);
    await expectRenders(spec);
  });

  const input = {
    segments: ["Outliers: very high spend", "Champions", "Lost"],
    segmentLabels: [-1, 0, 1],
    features: ["recency", "monetary"],
    values: [[-0.1, 3.5], [-1.2, 1.1], [1.4, -0.9]],
    labels: [[40, 9000], [9, 3200], [200, 40]],
  };

  it("profile heatmap: the outliers' row last, framed grey and dashed, said in the subtitle and text alternative", async () => {
    const spec = profileHeatmapChart(input);
    const [rows] = datasets(spec);
    expect(rows.map((r) => [r.segment, r.value, r.outliers])).toEqual([
      ["Champions", -1.2, false], ["Champions", 1.1, false], ["Lost", 1.4, false], ["Lost", -0.9, false],
      ["Outliers: very high spend", -0.1, true], ["Outliers: very high spend", 3.5, true],
    ]);
    const s = spec as unknown as { title: { subtitle: string[] }; description: string; layer: Spec[]; encoding: { y: { scale: { domain: string[] } } } };
    expect(s.encoding.y.scale.domain).toEqual(["Champions", "Lost", "Outliers: very high spend"]);
    expect(s.title.subtitle[1]).toBe("dashed grey border: Outliers: very high spend, the customers who fit no segment");
    expect(s.description).toContain("The last row (dashed border) is the outliers, who fit no segment: Outliers: very high spend.");
    const frame = s.layer[2];
    expect(frame.transform).toEqual([{ filter: "datum.outliers" }]);
    expect(frame.mark).toMatchObject({ type: "rect", filled: false, stroke: NOISE_COLOR });
    const svg = await expectRenders(spec);
    // Six cells and the two framed ones.
    expect((svg.match(/aria-roledescription="rect mark"/g) ?? []).length).toBe(8);
    // Without an outliers row nothing changes.
    const plain = profileHeatmapChart({ ...input, segments: input.segments.slice(1), segmentLabels: [0, 1], values: input.values.slice(1), labels: input.labels.slice(1) });
    expect(datasets(plain)[0][0]).not.toHaveProperty("outliers");
    expect((plain as unknown as { layer: Spec[] }).layer).toHaveLength(2);
  });

  it("snake plot: the outliers a grey dashed line, last", async () => {
    const spec = snakePlotChart(input);
    const line = (spec as unknown as { layer: Spec[] }).layer[1].encoding as {
      color: { scale: { domain: string[]; range: string[] } }; strokeDash: { field: string; scale: { domain: boolean[]; range: number[][] } };
    };
    expect(line.color.scale.domain).toEqual(["Champions", "Lost", "Outliers: very high spend"]);
    expect(line.color.scale.range).toEqual([SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], NOISE_COLOR]);
    expect(line.strokeDash.field).toBe("outliers");
    expect(line.strokeDash.scale).toEqual({ domain: [false, true], range: [[1, 0], [5, 4]] });
    const svg = await expectRenders(spec);
    expect(svg).toContain('stroke-dasharray="5,4"');
  });

  it("membership histogram: the bins count the customers in segments; the outliers are left out and counted", async () => {
    const probabilities = Float64Array.from([1, 1, 0.95, 0.5, 0.49, 0.12, 0, 0, 1]);
    const labels = Int32Array.from([0, 1, 0, 1, 0, 1, -1, -1, 0]);
    const spec = membershipChart({ probabilities, labels, bins: 4 });
    const [rows] = datasets(spec);
    expect(rows).toEqual([
      { from: 0, to: 0.25, count: 1 }, { from: 0.25, to: 0.5, count: 1 }, { from: 0.5, to: 0.75, count: 1 }, { from: 0.75, to: 1, count: 4 },
    ]);
    const s = spec as unknown as { title: { subtitle: string }; description: string };
    expect(s.title.subtitle).toBe("7 customers in segments: 42.9% with membership 1 (a segment's core), 28.6% below 0.5 (at a segment's edge) · 2 outliers left out");
    expect(s.description).toContain("the 2 outliers (membership 0, in no segment) are left out");
    await expectRenders(spec);
    expect(() => membershipChart({ probabilities: Float64Array.from([1.5]), labels: Int32Array.from([0]) })).toThrow(/0\.\.1/);
  });
});

/** Three blobs of 50 customers on spend and visits, and ten scattered big spenders. */
function shop(): { ds: ReturnType<typeof datasetFromRecords>; truth: Int32Array } {
  const rng = new Random(11);
  const centres = [[20, 2], [60, 6], [120, 3]];
  const records: { spend: number; visits: number; plan: string }[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 150; i++) {
    const g = i % 3;
    records.push({ spend: centres[g][0] + 3 * rng.normal(), visits: centres[g][1] + 0.4 * rng.normal(), plan: ["basic", "plus", "pro"][g] });
    truth.push(g);
  }
  for (let i = 0; i < 10; i++) {
    records.push({ spend: 300 + 40 * i, visits: 1 + (i % 9), plan: i % 2 ? "pro" : "basic" });
    truth.push(-1);
  }
  return { ds: datasetFromRecords(records, { spend: "numeric", visits: "numeric", plan: "categorical" }, "shop"), truth: Int32Array.from(truth) };
}

/** The distance of every row to its m-th nearest row (itself the first), by brute force. */
function kDistances(X: { data: Float64Array; rows: number; cols: number }, m: number): Float64Array {
  const out = new Float64Array(X.rows);
  for (let i = 0; i < X.rows; i++) {
    const d: number[] = [];
    for (let j = 0; j < X.rows; j++) {
      let s = 0;
      for (let c = 0; c < X.cols; c++) s += (X.data[i * X.cols + c] - X.data[j * X.cols + c]) ** 2;
      d.push(Math.sqrt(s));
    }
    d.sort((a, b) => a - b);
    out[i] = d[m - 1];
  }
  return out;
}

/** A density-based result for the shop: the blobs as segments, the scattered customers as noise. */
async function densityResult(algorithm: "dbscan" | "hdbscan"): Promise<SegmentationResult> {
  const { ds, truth } = shop();
  const base = await runSegmentation({ k: 3, seed: 1, features: ["spend", "visits"], profile: ["plan"] }, ds);
  const X = base.matrix;
  const labels = truth;
  const used = ["spend", "visits"];
  const profiles = profileSegments(ds, labels, { features: [...used, "plan"], clustered: used });
  const rules = segmentRules(ds, labels, { features: used });
  const n = ds.rows;
  const summary = (id: number, size: number, name: string, description: string): SegmentSummary => ({ segment: id, name, description, size, share: size / n, means: {}, modes: {} });
  const segments = profiles.segments.map((p) => summary(p.id, p.size, p.name, p.description));
  const o = profiles.outliers!;
  const inSeg = Array.from(labels.keys()).filter((i) => labels[i] >= 0);
  const Xs = { data: new Float64Array(inSeg.length * X.cols), rows: inSeg.length, cols: X.cols };
  inSeg.forEach((i, r) => Xs.data.set(X.data.subarray(i * X.cols, (i + 1) * X.cols), r * X.cols));
  const silhouette = silhouetteScore(Xs, Int32Array.from(inSeg, (i) => labels[i]));
  const silhouetteWithNoise = silhouetteScore(X, labels.map((l) => (l < 0 ? 3 : l)));
  const minSamples = 5;
  const kd = kDistances(X, minSamples);
  const sorted = Float64Array.from(kd).sort();
  const eps = 0.5;
  const core = Uint8Array.from(kd, (v) => (v <= eps ? 1 : 0));
  const probabilities = Float64Array.from(labels, (l, i) => (l < 0 ? 0 : Math.min(1, 0.3 + (i % 8) / 10)));
  const density: DensityInfo = algorithm === "dbscan"
    ? {
      algorithm, noise: o.size, eps, epsReason: "the distance to the 5th nearest neighbour rises steeply after 0.5: eps = 0.5", minSamples, minClusterSize: null,
      kDistance: {
        distances: sorted, positions: Int32Array.from(sorted, (_, i) => i), kneeIndex: 140, eps, index: 140,
        reason: "the distance to the 5th nearest neighbour rises steeply after 0.5", minSamples, rows: n,
      },
      reachability: null, probabilities: null, core, silhouetteWithNoise,
    }
    : {
      algorithm, noise: o.size, eps: null, epsReason: null, minSamples: 8, minClusterSize: 8, kDistance: null, reachability: null, probabilities, core: null, silhouetteWithNoise,
    };
  return {
    ...base, config: { ...base.config, algorithm, eps: "auto" }, labels, profiles, rules, segments, k: 3,
    noise: summary(-1, o.size, o.name, o.description), density, silhouette, silhouetteSample: null, kChoice: undefined, kSearch: undefined,
  };
}

function section(doc: { sections: { id: string; blocks: ReportBlock[] }[] }, id: string): ReportBlock[] {
  return doc.sections.find((s) => s.id === id)?.blocks ?? [];
}

function chartOf(blocks: ReportBlock[], id: string): { spec: TopLevelSpec; description: string; table?: ReportTable } {
  const b = blocks.find((x) => x.type === "chart" && x.chart.id === id);
  if (!b || b.type !== "chart") throw new Error(`no chart ${id}`);
  return b.chart;
}

const fmt3 = (x: number): string => String(Number(x.toPrecision(3)));

describe("the report of a density-based segmentation", async () => {
  const r = await densityResult("dbscan");
  const { ds } = shop();
  const rep = await buildSegmentationReport(r, ds, { source: "shop", maps: ["pca"] });
  const doc = rep.document;
  const outliersName = r.profiles.outliers!.name;

  it("names the outliers from their profile, after what sets them apart", () => {
    expect(outliersName).toBe("Outliers: very high spend");
    expect(r.segments.map((s) => s.name)).not.toContain(outliersName);
  });

  it("summary: the segments and the outliers, the algorithm with eps and minSamples, both silhouettes", () => {
    const [text, table] = section(doc, "summary");
    expect(text.type === "text" && text.text).toMatch(
      /^160 customers of shop in 3 segments and 10 outliers \(6\.3\s%\) who fit no segment, by DBSCAN \(eps 0\.5 chosen at the knee of the k-distance curve, minSamples 5\) on 2 features/,
    );
    expect(text.type === "text" && text.text).toContain(`Silhouette score ${fmt3(r.silhouette)} over the customers in segments, ${fmt3(r.density!.silhouetteWithNoise)} counting the outliers as one more group`);
    expect(r.silhouette).toBeGreaterThan(r.density!.silhouetteWithNoise);
    if (table.type !== "table") throw new Error("no table");
    expect(table.table.rows.map((row) => row[0])).toEqual([0, 1, 2, -1]);
    expect(table.table.rows[3].slice(0, 3)).toEqual([-1, outliersName, 10]);
    expect(table.table.rows[3][5]).toBe(r.profiles.outliers!.description);
    expect(table.table.caption).toContain("last, the outliers (segment −1), who fit no segment");
    expect(doc.subtitle).toMatch(/^3 segments and 10 outliers of 160 customers/);
  });

  it("says how the number of segments came about instead of a choice of k", () => {
    const s = doc.sections.find((x) => x.id === "choice-of-k")!;
    expect(s.title).toBe("Number of segments");
    const [text] = s.blocks;
    expect(text.type === "text" && text.text).toMatch(/^DBSCAN finds the number of segments from the density: 3 segments at eps 0\.5 with minSamples 5\./);
    expect(text.type === "text" && text.text).toContain("10 customers (6.3\u00a0%) fit none and are outliers.");
  });

  it("an Outliers card (segment −1), last, with the outliers' profile and no rules", () => {
    const cards = section(doc, "segments").filter((b) => b.type === "segment");
    expect(cards.map((c) => c.type === "segment" && c.id)).toEqual([0, 1, 2, -1]);
    const card = cards[3];
    if (card.type !== "segment") throw new Error("no card");
    expect(card.name).toBe(outliersName);
    expect(card.summary).toBe(r.profiles.outliers!.description);
    expect(card.summary).toMatch(/^10 customers \(6\.3%\) fit no segment: spend /);
    const numeric = card.blocks.find((b) => b.type === "table" && b.table.caption === "Numeric features: the outliers against the population");
    if (!numeric || numeric.type !== "table") throw new Error("no numeric table");
    // The outliers' mean spend: 300 + 40 · (0 + ... + 9) / 10 = 480; their visits 1..9, 1: mean 4.6.
    expect(numeric.table.head[1]).toBe("outliers mean");
    expect(numeric.table.rows.map((row) => row.slice(0, 2))).toEqual([["spend", "480"], ["visits", "4.6"]]);
    const cats = card.blocks.find((b) => b.type === "table" && b.table.caption === "Categories that differ most from the population");
    expect(cats && cats.type === "table" && cats.table.head[2]).toBe("share in outliers");
    expect(card.blocks.some((b) => b.type === "code")).toBe(false);
    const note = card.blocks.find((b) => b.type === "text");
    expect(note && note.type === "text" && note.text).toMatch(/^No rules for the outliers: the rules describe the real segments\./);
    // The segments' cards keep their rules.
    expect(cards.slice(0, 3).every((c) => c.type === "segment" && c.blocks.some((b) => b.type === "code" || b.type === "text"))).toBe(true);
  });

  it("sizes, heatmap and snake plot: the outliers last, grey, marked", () => {
    const blocks = section(doc, "segments");
    const sizes = chartOf(blocks, "sizes");
    const [bars] = datasets(sizes.spec);
    expect(bars.map((b) => b.segment)).toEqual([...r.segments.map((s) => s.name), outliersName]);
    expect(((sizes.spec as unknown as { layer: Spec[] }).layer[0].encoding as { color: { scale: { range: string[] } } }).color.scale.range[3]).toBe(NOISE_COLOR);
    expect(sizes.table!.rows[3]).toEqual([outliersName, 10, "6.3\u00a0%"]);
    const heat = chartOf(blocks, "profile-heatmap");
    const cells = datasets(heat.spec)[0];
    const spend = cells.find((c) => c.segment === outliersName && c.feature === "spend")!;
    expect(spend.outliers).toBe(true);
    close((r.profiles.outliers!.features[0] as SegmentNumericFeature).standardizedDifference!, spend.value as number, 1e-3);
    expect(heat.description).toContain("The last row, framed by a grey dashed border, is the outliers");
    expect(heat.table!.rows[3][0]).toBe(outliersName);
    const snake = chartOf(blocks, "snake-plot");
    expect(((snake.spec as unknown as { layer: Spec[] }).layer[1].encoding as { color: { scale: { range: string[] } } }).color.scale.range[3]).toBe(NOISE_COLOR);
  });

  it("map: the outliers grey under their name", () => {
    const map = chartOf(section(doc, "maps"), "map-pca");
    const color = (map.spec as unknown as { encoding: { color: { scale: { domain: string[]; range: string[] } } } }).encoding.color.scale;
    const at = color.domain.indexOf(outliersName);
    expect(at).toBe(3);
    expect(color.range[at]).toBe(NOISE_COLOR);
    expect(datasets(map.spec)[0].filter((p) => p.segment === outliersName)).toHaveLength(10);
    expect(map.description).toContain("the outliers in grey");
  });

  it("silhouette: both numbers said, the plot of the customers in segments only", () => {
    const blocks = section(doc, "maps");
    const text = blocks.find((b) => b.type === "text" && b.text.startsWith("The silhouette is computed"));
    expect(text && text.type === "text" && text.text).toContain(
      `The silhouette is computed over the customers in segments (noise left out): ${fmt3(r.silhouette)}; counting the outliers as one more group: ${fmt3(r.density!.silhouetteWithNoise)}.`,
    );
    const plot = chartOf(blocks, "silhouette");
    const rows = datasets(plot.spec)[0];
    expect(rows.some((p) => p.segment === outliersName)).toBe(false);
    expect(plot.description).toContain("The 10 outliers of the sample are left out: they are in no segment's silhouette");
    // Every customer in segments is drawn (160 rows, under maxPoints): the plot's average is the segments' silhouette.
    expect(plot.description).toContain(`the dashed line is the average, ${fmt3(r.silhouette)}`);
  });

  it("a Density section with the k-distance curve's numbers and the cores, borders and outliers counted", () => {
    const blocks = section(doc, "density");
    expect(blocks.length).toBeGreaterThan(0);
    const counts = blocks.find((b) => b.type === "table" && b.table.caption === "The customers by their place in the density");
    if (!counts || counts.type !== "table") throw new Error("no table");
    const core = r.density!.core!.reduce((a, b) => a + b, 0);
    expect(counts.table.rows.map((row) => row[1])).toEqual([core, 160 - core - 10, 10]);
    const curve = chartOf(blocks, "k-distance");
    const d = r.density!.kDistance!.distances;
    expect(curve.table!.rows[0]).toEqual(["0.0\u00a0%", String(Number(d[0].toPrecision(4)))]);
    expect(curve.table!.rows[curve.table!.rows.length - 1]).toEqual(["100.0\u00a0%", String(Number(d[d.length - 1].toPrecision(4)))]);
    // The knee marked where the result puts it (position 140 of 160), at eps.
    const rules = (curve.spec as unknown as { layer: Spec[] }).layer.filter((l) => (l.mark as { type: string }).type === "rule");
    expect(rules.map((l) => (l.encoding as Record<string, { datum: number }>).y?.datum ?? (l.encoding as Record<string, { datum: number }>).x.datum))
      .toEqual([0.5, Number((140 / 159).toPrecision(6))]);
    expect(curve.description).toContain("the dashed lines mark eps = 0.5, at the knee of the curve");
    expect(rep.charts["k-distance"]).toBe(curve.spec);
    const intro = blocks[0];
    expect(intro.type === "text" && intro.text).toContain("every customer's distance to its 5th nearest neighbour (the customer itself counted), sorted, over 160 customers");
  });

  it("renders as HTML with the Outliers card", async () => {
    const html = await renderReportHtml(doc);
    expect(html).toContain('<article class="segment outliers" id="segment--1">');
    expect(html).toContain("Outliers: very high spend");
    // The outliers' card is grey, not a segment's colour.
    expect(html).toMatch(/\.segment\.outliers\{[^}]*border:1px dashed #b0b0b0/);
  });
});

describe("the report of an OPTICS segmentation", async () => {
  const base = await densityResult("dbscan");
  // Processing order: the segments' rows, each segment in a valley, then the outliers on high ground.
  const n = base.labels.length;
  const ordering = Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => (base.labels[a] < 0 ? 1 : 0) - (base.labels[b] < 0 ? 1 : 0) || base.labels[a] - base.labels[b] || a - b));
  const reachability = Float64Array.from(base.labels, (l, i) => (l < 0 ? 2 + i / 100 : 0.1 * (l + 1) + (i % 7) / 100));
  reachability[ordering[0]] = Infinity;
  const r: SegmentationResult = {
    ...base, config: { ...base.config, algorithm: "optics" },
    density: { ...base.density!, algorithm: "optics", eps: null, epsReason: null, minClusterSize: 5, kDistance: null, core: null, reachability: { ordering, reachability } },
  };
  const rep = await buildSegmentationReport(r, shop().ds, { source: "shop", maps: [] });

  it("the reachability plot, with each segment's reachabilities and the outliers' in a table", async () => {
    const plot = chartOf(section(rep.document, "density"), "reachability");
    const medianOf = (l: number): number => {
      const v = Array.from(reachability).filter((x, i) => base.labels[i] === l && Number.isFinite(x)).sort((a, b) => a - b);
      return v[Math.floor((v.length - 1) / 2)];
    };
    expect(plot.table!.rows.map((row) => row[0])).toEqual([...base.segments.map((s) => s.name), base.noise!.name]);
    expect(plot.table!.rows.map((row) => row[1])).toEqual([50, 50, 50, 10]);
    expect(plot.table!.rows.map((row) => row[2])).toEqual([0, 1, 2, -1].map((l) => String(Number(medianOf(l).toPrecision(4)))));
    const color = ((plot.spec as unknown as { layer: Spec[] }).layer[0].encoding as { color: { scale: { range: string[] } } }).color.scale.range;
    expect(color[color.length - 1]).toBe(NOISE_COLOR);
    await expectRenders(plot.spec);
    const [k] = section(rep.document, "choice-of-k");
    expect(k.type === "text" && k.text).toMatch(/^OPTICS finds the number of segments from the density: 3 segments, the valleys of the reachability plot whose sides are steeper than xi 0\.05 \(minSamples 5\)\./);
  });
});

describe("the report of an HDBSCAN segmentation", async () => {
  const r = await densityResult("hdbscan");
  const { ds } = shop();
  const rep = await buildSegmentationReport(r, ds, { source: "shop", maps: [] });

  it("summary and number of segments name HDBSCAN's parameters", () => {
    const [text] = section(rep.document, "summary");
    expect(text.type === "text" && text.text).toContain("by HDBSCAN (minClusterSize 8, minSamples 8) on 2 features");
    const [k] = section(rep.document, "choice-of-k");
    expect(k.type === "text" && k.text).toMatch(/^HDBSCAN finds the number of segments from the density: 3 segments, the groups of at least 8 customers that persist longest/);
  });

  it("the Density section: the membership probabilities of the customers in segments", async () => {
    const chart = chartOf(section(rep.document, "density"), "membership");
    const probs = r.density!.probabilities!;
    const expected = new Array<number>(10).fill(0);
    for (let i = 0; i < probs.length; i++) if (r.labels[i] >= 0) expected[Math.min(9, Math.floor(probs[i] * 10))]++;
    expect(chart.table!.rows.map((row) => row[1])).toEqual(expected);
    expect(expected.reduce((a, b) => a + b, 0)).toBe(150);
    const [bins] = datasets(chart.spec);
    expect(bins.reduce((a, b) => a + (b.count as number), 0)).toBe(150);
    expect(rep.charts.membership).toBe(chart.spec);
    await expectRenders(chart.spec);
  });
});

function close(a: number, b: number, tol: number): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
}
