/**
 * Charts of segments (src/charts: map, silhouette plot, profile heatmap and snake plot, sizes,
 * RFM grid), the stratified sampler behind the map, and their rendering to SVG.
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import { segmentMapChart } from "../src/charts/map.js";
import { profileHeatmapChart, snakePlotChart } from "../src/charts/profile.js";
import { rfmGridChart } from "../src/charts/rfm-grid.js";
import { allocateSample, quantilePositions, stratifiedSample } from "../src/charts/sample.js";
import { silhouettePlotChart } from "../src/charts/silhouette-plot.js";
import { segmentSizesChart } from "../src/charts/sizes.js";
import { NOISE_COLOR, SEGMENT_PALETTE, segmentColor, segmentDisplayNames } from "../src/charts/theme.js";
import { Random } from "../src/core/random.js";
import { rfmSegment } from "../src/profile/rfm-scores.js";
import { renderSvg } from "../src/report/render.js";

type Row = Record<string, unknown>;
type Spec = Record<string, unknown>;

/** The data rows of the spec's top level and of each of its layers, in order. */
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

function countBy<T>(xs: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Labels with segments of the given sizes, shuffled with a seed. */
function makeLabels(sizes: Record<number, number>, seed = 1): Int32Array {
  const out: number[] = [];
  for (const [label, size] of Object.entries(sizes)) for (let i = 0; i < size; i++) out.push(Number(label));
  return new Random(seed).shuffle(Int32Array.from(out));
}

const EVIL = "<img src=x onerror=alert(1)>";

/** Compiles and renders the spec; checks that it is plain JSON and that rendering leaves it unchanged. */
async function expectRenders(spec: TopLevelSpec): Promise<string> {
  const json = JSON.stringify(spec);
  expect(JSON.parse(json)).toEqual(spec); // plain JSON
  expect(() => compile(structuredClone(spec))).not.toThrow();
  const svg = await renderSvg(spec);
  expect(svg.trimStart()).toMatch(/^<svg[\s>]/);
  expect(svg.trimEnd()).toMatch(/<\/svg>$/);
  expect(spec).toStrictEqual(JSON.parse(json));
  return svg;
}

describe("stratifiedSample and allocateSample", () => {
  const sizes: Record<number, number> = { 0: 60000, 1: 30000, 2: 9000, 3: 900, 4: 30, [-1]: 70 };
  const labels = makeLabels(sizes);
  const n = labels.length; // 100,000

  it("takes exactly maxPoints distinct rows, increasing, every segment represented", () => {
    const idx = stratifiedSample(labels, 5000, 7);
    expect(idx).toHaveLength(5000);
    for (let j = 1; j < idx.length; j++) expect(idx[j]).toBeGreaterThan(idx[j - 1]);
    expect(idx[0]).toBeGreaterThanOrEqual(0);
    expect(idx[idx.length - 1]).toBeLessThan(n);
    const counts = countBy(Array.from(idx, (i) => labels[i]));
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 3, 4]);
    // The floor is min(50, 5000 / 12) = 50: the 30 customers of segment 4 are all kept, 50 of noise's 70.
    expect(counts.get(4)).toBe(30);
    expect(counts.get(-1)).toBe(50);
    expect(counts.get(3)).toBe(50); // 900 · 5% = 45 < 50
    for (const [label, c] of counts) expect(c).toBeGreaterThanOrEqual(Math.min(sizes[label], 50));
  });

  it("the large segments share the rest in proportion, within 1", () => {
    const counts = countBy(Array.from(stratifiedSample(labels, 5000, 7), (i) => labels[i]));
    const rest = 5000 - 30 - 50 - 50;
    const restSize = 60000 + 30000 + 9000;
    for (const label of [0, 1, 2]) expect(Math.abs(counts.get(label)! - (rest * sizes[label]) / restSize)).toBeLessThanOrEqual(1);
  });

  it("is proportional within 1 when no floor binds", () => {
    const lab = makeLabels({ 0: 5003, 1: 3001, 2: 1996 }, 3);
    const counts = countBy(Array.from(stratifiedSample(lab, 1000, 1), (i) => lab[i]));
    for (const [label, size] of [[0, 5003], [1, 3001], [2, 1996]]) expect(Math.abs(counts.get(label)! - (1000 * size) / 10000)).toBeLessThanOrEqual(1);
    expect(allocateSample([333, 333, 334], 10)).toEqual([3, 3, 4]);
    expect(allocateSample([500, 300, 200], 100)).toEqual([50, 30, 20]);
  });

  it("allocates by hand: floors first, the rest in proportion", () => {
    // Floor min(50, 100 / 6) = 16: the 10 are all kept; 90's share 90·90/990 = 8.2 < 16 → 16; 74 left for 900.
    expect(allocateSample([900, 90, 10], 100)).toEqual([74, 16, 10]);
    expect(allocateSample([900, 90, 10], 100, 5)).toEqual([86, 9, 5]);
    expect(allocateSample([5, 5], 100)).toEqual([5, 5]); // fewer than maxPoints: everything
    expect(allocateSample([10, 0, 3, 7, 1], 2)).toEqual([1, 0, 0, 1, 0]); // more groups than points: the largest
    expect(allocateSample([900, 90, 10], 100, 1000).reduce((a, b) => a + b)).toBe(100); // a huge floor cannot overflow
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const a = stratifiedSample(labels, 2000, 11);
    expect(stratifiedSample(labels, 2000, 11)).toEqual(a);
    expect(stratifiedSample(labels, 2000, 12)).not.toEqual(a);
  });

  it("returns every row when there are no more than maxPoints", () => {
    expect(Array.from(stratifiedSample(Int32Array.from([2, 0, 1]), 3, 0))).toEqual([0, 1, 2]);
  });

  it("quantilePositions keeps evenly spaced order statistics, both ends included", () => {
    expect(quantilePositions(11, 3)).toEqual([0, 5, 10]);
    expect(quantilePositions(101, 5)).toEqual([0, 25, 50, 75, 100]);
    expect(quantilePositions(4, 10)).toEqual([0, 1, 2, 3]);
    expect(quantilePositions(9, 1)).toEqual([4]);
  });
});

describe("theme", () => {
  it("gives a segment the same colour by its label, noise grey, and unique names", () => {
    expect(segmentColor(0)).toBe(SEGMENT_PALETTE[0]);
    expect(segmentColor(SEGMENT_PALETTE.length + 2)).toBe(SEGMENT_PALETTE[2]);
    expect(segmentColor(-1)).toBe(NOISE_COLOR);
    expect(SEGMENT_PALETTE).not.toContain(NOISE_COLOR);
    const names = segmentDisplayNames([-1, 0, 1, 2, 3], ["A", "A", "", undefined as unknown as string]);
    expect([...names.entries()]).toEqual([[-1, "noise"], [0, "A"], [1, "A (2)"], [2, "Segment 2"], [3, "Segment 3"]]);
  });
});

describe("segment map", () => {
  const sizes = { 0: 7000, 1: 2500, 2: 40, [-1]: 460 };
  const labels = makeLabels(sizes, 5);
  const n = labels.length;
  const rng = new Random(2);
  const x = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = labels[i] * 5 + rng.normal();
    x[2 * i + 1] = rng.normal();
  }
  const ids = Array.from({ length: n }, (_, i) => `C${1000 + i}`);

  it("draws a stratified sample coloured by segment, noise grey and beneath, and says so", async () => {
    const spec = segmentMapChart({ x, labels, segmentNames: ["Loyal", "New", EVIL], method: "UMAP", maxPoints: 2000, seed: 3, ids });
    const [rows] = datasets(spec);
    expect(rows).toHaveLength(2000);
    const counts = countBy(rows.map((r) => r.segment as string));
    expect(counts.get(EVIL)).toBe(40); // all of the small segment (floor min(50, 2000 / 8) = 50)
    expect(counts.get("noise")).toBeGreaterThanOrEqual(50);
    // Noise first, so that it is drawn beneath.
    const firstOther = rows.findIndex((r) => r.segment !== "noise");
    expect(rows.slice(firstOther).every((r) => r.segment !== "noise")).toBe(true);
    expect(firstOther).toBe(counts.get("noise"));
    // The same rows as stratifiedSample, with their coordinates and ids.
    const idx = stratifiedSample(labels, 2000, 3);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const i of Array.from(idx).slice(0, 50)) {
      const r = byId.get(ids[i])!;
      expect(r.x as number).toBeCloseTo(x[2 * i], 4);
      expect(r.y as number).toBeCloseTo(x[2 * i + 1], 4);
    }
    const s = spec as unknown as { title: { subtitle: string }; encoding: { color: { scale: { domain: string[]; range: string[] } }; x: { title: string } }; description: string };
    expect(s.title.subtitle).toContain("showing 2,000 of 10,000 customers");
    expect(s.encoding.color.scale.domain).toEqual(["Loyal", "New", EVIL, "noise"]);
    expect(s.encoding.color.scale.range).toEqual([SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], SEGMENT_PALETTE[2], NOISE_COLOR]);
    expect(s.encoding.x.title).toBe("UMAP 1");
    expect(s.description).toContain("2000 of 10000");
    const svg = await expectRenders(spec);
    expect(svg).not.toContain("<img");
    expect(svg).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("shows everyone below maxPoints, takes a Matrix, and labels PCA axes with their variance", () => {
    const small = Int32Array.from([0, 1, 0, 1]);
    const spec = segmentMapChart({
      x: { data: Float64Array.from([1, 2, 9, 3, 4, 9, 5, 6, 9, 7, 8, 9]), rows: 4, cols: 3 }, labels: small, method: "PCA",
      explainedVarianceRatio: [0.5, 0.25],
    }) as unknown as { title: { subtitle: string }; encoding: { x: { title: string } } };
    const [rows] = datasets(spec);
    expect(rows.map((r) => [r.x, r.y, r.segment, r.id])).toEqual([[1, 2, "Segment 0", "1"], [3, 4, "Segment 1", "2"], [5, 6, "Segment 0", "3"], [7, 8, "Segment 1", "4"]]);
    expect(spec.title.subtitle).toBe("4 customers · 2 segments");
    expect(spec.encoding.x.title).toBe("PC1 (50.0% of variance)");
    expect(() => segmentMapChart({ x: new Float64Array(3), labels: small, method: "t-SNE" })).toThrow(/n × 2/);
  });

  it("gives the same specification and the same SVG twice", async () => {
    const a = segmentMapChart({ x, labels, method: "t-SNE", maxPoints: 500, seed: 1 });
    const b = segmentMapChart({ x, labels, method: "t-SNE", maxPoints: 500, seed: 1 });
    expect(b).toEqual(a);
    expect(await renderSvg(b)).toBe(await renderSvg(a));
  });
});

describe("silhouette plot", () => {
  // Three segments with known silhouettes: segment s holds the values (s + 1) / 10 + j / 1000.
  const sizes = [1200, 600, 30];
  const labels: number[] = [];
  const samples: number[] = [];
  sizes.forEach((size, s) => {
    for (let j = 0; j < size; j++) {
      labels.push(s);
      samples.push((s + 1) / 10 + j / 1000);
    }
  });
  const average = samples.reduce((a, b) => a + b, 0) / samples.length;

  it("keeps evenly spaced order statistics per segment, sorted, with the ends", () => {
    const spec = silhouettePlotChart({ samples: Float64Array.from(samples), labels: Int32Array.from(labels), average, maxPoints: 300, segmentNames: ["A", "B", EVIL] });
    const [rows, blocks] = datasets(spec);
    const per = countBy(rows.map((r) => r.segment as string));
    const kept = allocateSample(sizes, 300);
    expect(kept).toEqual([180, 90, 30]);
    // Each block: its kept values plus one point closing the step at the block's end.
    expect([per.get("A"), per.get("B"), per.get(EVIL)]).toEqual([181, 91, 31]);
    const a = rows.filter((r) => r.segment === "A");
    expect(a[0].s).toBeCloseTo(0.1 + 1199 / 1000, 9); // the largest first (top of the block)
    expect(a[a.length - 2].s).toBeCloseTo(0.1, 9); // the smallest kept
    for (let j = 1; j < a.length; j++) expect(a[j].s as number).toBeLessThanOrEqual(a[j - 1].s as number);
    // Blocks as tall as their segments (the small one lifted to 3% of 1830 = 55), 2% gaps (37).
    expect(a[0].y).toBe(0);
    expect(a[a.length - 1].y).toBe(1200);
    const b = rows.filter((r) => r.segment === "B");
    expect(b[0].y).toBe(1237);
    const c = rows.filter((r) => r.segment === EVIL);
    expect(c[c.length - 1].y as number).toBe(1237 + 600 + 37 + 55);
    expect(blocks.map((r) => r.text)).toEqual(["A (0.70)", "B (0.50)", `${EVIL} (0.31)`]);
  });

  it("draws the dashed average rule at the average, where the x scale puts it", async () => {
    const spec = silhouettePlotChart({ samples: Float64Array.from(samples), labels: Int32Array.from(labels), average, maxPoints: 300, segmentNames: ["A", "B", EVIL] });
    const layers = (spec as unknown as { layer: Spec[] }).layer;
    const rule = layers.find((l) => (l.mark as { type: string }).type === "rule")!;
    expect((rule.encoding as { x: { datum: number } }).x.datum).toBe(average);
    expect((rule.mark as { strokeDash: number[] }).strokeDash).toEqual([5, 4]);
    const svg = await expectRenders(spec);
    // The x scale runs from −0.1 to 1 over the 420-pixel plot.
    const m = /class="mark-rule role-mark layer_2_marks"[^>]*>\s*<line transform="translate\(([\d.]+),/.exec(svg);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(((average + 0.1) / 1.1) * 420, 0);
    expect(svg).not.toContain("<img");
  });

  it("puts noise last, in grey, and leaves out non-finite values", () => {
    const spec = silhouettePlotChart({ samples: Float64Array.from([0.5, 0.4, -0.2, NaN, 0.6]), labels: Int32Array.from([0, 0, -1, 1, 1]), average: 0.3 });
    const [rows] = datasets(spec);
    expect(rows.map((r) => r.segment)).toEqual(["Segment 0", "Segment 0", "Segment 0", "Segment 1", "Segment 1", "noise", "noise"]);
    const color = ((spec as unknown as { layer: Spec[] }).layer[0].encoding as { color: { scale: { domain: string[]; range: string[] } } }).color.scale;
    expect(color.domain).toEqual(["Segment 0", "Segment 1", "noise"]);
    expect(color.range[2]).toBe(NOISE_COLOR);
  });
});

describe("profiles", () => {
  const input = {
    segments: ["Champions", EVIL, "Lost"],
    features: ["recency", "frequency", "monetary", "tenure"],
    values: [[-1.2, 1.5, 2.25, 0.1], [0.3, -0.4, 0, NaN], [1.4, -1, -0.9, -0.2]],
    labels: [[9, 14, 3200, 30], [80, 2, 150, 10], [200, 1, 40, 5]],
  };

  it("heatmap: one cell per segment and feature, a diverging scale symmetric about 0, values in the cells", async () => {
    const spec = profileHeatmapChart(input);
    const [rows] = datasets(spec);
    expect(rows).toHaveLength(12);
    expect(rows[0]).toMatchObject({ segment: "Champions", feature: "recency", value: -1.2, mean: 9, text: "−1.20" });
    expect(rows[2].text).toBe("+2.25");
    expect(rows[7]).toMatchObject({ value: null, text: "–" });
    const color = ((spec as unknown as { layer: Spec[] }).layer[0].encoding as { color: { scale: { domain: number[]; domainMid: number } } }).color.scale;
    expect(color.domain).toEqual([-2.25, 2.25]);
    expect(color.domainMid).toBe(0);
    const svg = await expectRenders(spec);
    expect(svg).not.toContain("<img");
    expect(svg).toContain("+2.25");
    expect((svg.match(/aria-roledescription="rect mark"/g) ?? []).length).toBe(12);
    const byLabel = profileHeatmapChart({ ...input, cellText: "label" });
    expect(datasets(byLabel)[0][2].text).toBe("3,200");
  });

  it("snake plot: one line per segment across the features in order, in the segments' colours", async () => {
    const spec = snakePlotChart({ ...input, segmentLabels: [2, 0, 1] });
    const [, rows] = datasets(spec);
    expect(rows).toHaveLength(11); // the NaN left out
    expect(rows.filter((r) => r.segment === "Lost").map((r) => r.feature)).toEqual(input.features);
    const line = (spec as unknown as { layer: Spec[] }).layer[1].encoding as { color: { scale: { domain: string[]; range: string[] } }; x: { scale: { domain: string[] } } };
    expect(line.color.scale.range).toEqual([SEGMENT_PALETTE[2], SEGMENT_PALETTE[0], SEGMENT_PALETTE[1]]);
    expect(line.x.scale.domain).toEqual(input.features);
    const svg = await expectRenders(spec);
    expect(svg).not.toContain("<img");
  });

  it("snake plot on 30 features: the 12 on which some segment differs most, in their order, at most 720 pixels wide", async () => {
    const features = Array.from({ length: 30 }, (_, f) => `feature number ${f}`);
    // Feature f's largest |difference| is (f * 7) % 30 / 10, on segment f % 3.
    const values = [0, 1, 2].map((s) => features.map((_, f) => (f % 3 === s ? (s === 1 ? -1 : 1) * (((f * 7) % 30) / 10) : 0.05)));
    const spec = snakePlotChart({ segments: ["A", "B", "C"], features, values, maxFeatures: 12 });
    const line = (spec as unknown as { layer: Spec[] }).layer[1].encoding as { x: { scale: { domain: string[] } } };
    const top = features.map((_, f) => f).sort((a, b) => ((b * 7) % 30) - ((a * 7) % 30) || a - b).slice(0, 12).sort((a, b) => a - b);
    expect(line.x.scale.domain).toEqual(top.map((f) => features[f]));
    expect(top).toEqual([3, 4, 7, 8, 12, 16, 17, 20, 21, 24, 25, 29]);
    const s = spec as unknown as { width: number; title: { subtitle: string[] }; description: string };
    expect(s.width).toBeLessThanOrEqual(720);
    expect(s.title.subtitle[0]).toBe("the 12 of 30 features on which some segment differs most from the population");
    expect(s.description).toContain("the 12 of 30 on which the segments differ most");
    const [, rows] = datasets(spec);
    expect(rows).toHaveLength(36);
    const svg = await expectRenders(spec);
    // The whole drawing (axis, slanted labels, legend) fits a report page.
    const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
    expect(width).toBeLessThan(1050);
    // Twelve features or fewer: all drawn.
    const few = snakePlotChart({ segments: ["A", "B", "C"], features: features.slice(0, 12), values: values.map((r) => r.slice(0, 12)) });
    expect(((few as unknown as { layer: Spec[] }).layer[1].encoding as { x: { scale: { domain: string[] } } }).x.scale.domain).toEqual(features.slice(0, 12));
    expect(() => snakePlotChart({ ...input, maxFeatures: 0 })).toThrow(/maxFeatures/);
  });

  it("rejects ragged input", () => {
    expect(() => profileHeatmapChart({ ...input, values: [[1, 2], [3, 4], [5, 6]] })).toThrow(/row 0/);
  });
});

describe("segment sizes", () => {
  it("one bar per segment with its count and share, noise grey", async () => {
    const spec = segmentSizesChart({ segments: ["Champions", EVIL, "noise"], sizes: [1500, 450, 50], labels: [0, 1, -1] });
    const [rows] = datasets(spec);
    expect(rows.map((r) => r.text)).toEqual(["1,500 (75.0%)", "450 (22.5%)", "50 (2.5%)"]);
    const s = spec as unknown as { title: { subtitle: string }; layer: Spec[] };
    expect(s.title.subtitle).toBe("2,000 customers in 2 segments and noise");
    const color = (s.layer[0].encoding as { color: { scale: { range: string[] } } }).color.scale.range;
    expect(color).toEqual([SEGMENT_PALETTE[0], SEGMENT_PALETTE[1], NOISE_COLOR]);
    const svg = await expectRenders(spec);
    expect(svg).not.toContain("<img");
    expect(svg).toContain("1,500 (75.0%)");
    expect((svg.match(/aria-roledescription="bar"/g) ?? []).length).toBe(3);
  });
});

describe("RFM grid", () => {
  // A hand-made example: 12 customers, 2 without scores.
  const r = [5, 5, 5, 4, 1, 1, 3, 2, 1, 5, 0, 3];
  const f = [5, 4, 5, 1, 1, 1, 3, 2, 5, 1, 3, 0];

  it("counts the customers of each of the 25 cells, the counts summing to the scored customers", async () => {
    const spec = rfmGridChart({ recencyScore: Int32Array.from(r), frequencyScore: f });
    const [rows] = datasets(spec);
    expect(rows).toHaveLength(25);
    expect(rows.reduce((a, c) => a + (c.count as number), 0)).toBe(10);
    const cell = (rr: number, ff: number) => rows.find((c) => c.r === rr && c.f === ff)!;
    expect(cell(5, 5).count).toBe(2);
    expect(cell(5, 4).count).toBe(1);
    expect(cell(1, 1).count).toBe(2);
    expect(cell(1, 1).shareText).toBe("20.0%");
    expect(cell(2, 3).count).toBe(0);
    // Every cell's area is the RFM segment of its scores, with the area's total.
    for (const c of rows) expect(c.area).toBe(rfmSegment(c.r as number, c.f as number));
    expect(cell(5, 4)).toMatchObject({ area: "Champions", areaCount: 3, areaShare: 0.3 });
    // Each area is named once, on the cell nearest its centre.
    const named = rows.filter((c) => c.name !== "");
    expect(named).toHaveLength(11);
    expect(cell(5, 5).name).toBe("Champions");
    expect(cell(1, 1).name).toBe("Lost");
    expect((spec as unknown as { title: { subtitle: string } }).title.subtitle).toContain("2 without scores left out");
    const svg = await expectRenders(spec);
    expect((svg.match(/aria-roledescription="rect mark"/g) ?? []).length).toBe(25);
  });

  it("takes display names for the RFM segments, escaped in the SVG", async () => {
    const spec = rfmGridChart({ recencyScore: r, frequencyScore: f, segmentNames: [EVIL, "Fidèles"] });
    const [rows] = datasets(spec);
    expect(rows.find((c) => c.r === 5 && c.f === 5)!.area).toBe(EVIL);
    expect(rows.find((c) => c.r === 3 && c.f === 5)!.area).toBe("Fidèles");
    expect(rows.find((c) => c.r === 1 && c.f === 1)!.area).toBe("Lost");
    const svg = await renderSvg(spec);
    expect(svg).not.toContain("<img");
    expect(svg).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("rejects scores of different lengths", () => {
    expect(() => rfmGridChart({ recencyScore: [1, 2], frequencyScore: [1] })).toThrow(/frequencyScore has 1/);
  });
});

describe("descriptions", () => {
  it("every chart has a text alternative, the given one when given", () => {
    const charts = [
      segmentMapChart({ x: new Float64Array(4), labels: [0, 1], method: "PCA" }),
      silhouettePlotChart({ samples: [0.1, 0.2], labels: [0, 1], average: 0.15 }),
      profileHeatmapChart({ segments: ["a"], features: ["x"], values: [[1]] }),
      snakePlotChart({ segments: ["a"], features: ["x"], values: [[1]] }),
      segmentSizesChart({ segments: ["a"], sizes: [3] }),
      rfmGridChart({ recencyScore: [1], frequencyScore: [1] }),
    ] as unknown as { description: string }[];
    for (const c of charts) expect(c.description.length).toBeGreaterThan(20);
    expect((segmentSizesChart({ segments: ["a"], sizes: [3], description: "Sizes." }) as { description?: string }).description).toBe("Sizes.");
  });
});
