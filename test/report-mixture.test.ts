/**
 * Gaussian mixtures in the report (issue #15.4): the summary says how the segments were found
 * and how many customers sit between segments; the choice of k shows the BIC chart and table
 * (k "auto") or says how to see them; "How certain is the assignment" counts the customers
 * below 0.6 per segment and per pair of segments; each segment's card gives its mean top
 * probability; the PCA map carries the segments' ellipses in the segments' colours when the
 * map shows most of their variance, and says why not otherwise.
 *
 * The expected numbers are counted here from the result's probability matrix (rows × k, in
 * segment numbering), independently of the report's own counting.
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import { segmentColor } from "../src/charts/theme.js";
import { datasetFromRecords } from "../src/core/dataset.js";
import { Random } from "../src/core/random.js";
import { GaussianMixtureModel } from "../src/cluster/mixture/gaussian-mixture.js";
import { runSegmentation, type SegmentationResult } from "../src/pipeline/run.js";
import { PCA } from "../src/preprocess/pca.js";
import { renderReportHtml, type ReportBlock, type ReportChart, type ReportDocument } from "../src/report/html.js";
import { buildSegmentationReport } from "../src/report/segmentation.js";

type Row = Record<string, unknown>;

/** Three groups on spend and visits; the first two overlap, so some customers sit between them. */
function shop(): ReturnType<typeof datasetFromRecords> {
  const rng = new Random(5);
  const centres = [[20, 2], [42, 4], [100, 3]];
  const sd = [[7, 0.8], [7, 0.8], [6, 0.5]];
  const records: { spend: number; visits: number; plan: string }[] = [];
  for (let i = 0; i < 240; i++) {
    const g = i % 3;
    records.push({ spend: centres[g][0] + sd[g][0] * rng.normal(), visits: centres[g][1] + sd[g][1] * rng.normal(), plan: ["basic", "plus", "pro"][g] });
  }
  return datasetFromRecords(records, { spend: "numeric", visits: "numeric", plan: "categorical" }, "shop");
}

/**
 * Three groups apart along a line in (a, b), and four columns of noise: within each group most
 * of the variance lies in the noise, which the PCA map (whose first axis is the line) hardly shows.
 */
function noisy(): ReturnType<typeof datasetFromRecords> {
  const rng = new Random(9);
  const records: Record<string, number>[] = [];
  for (let i = 0; i < 240; i++) {
    const t = 10 * (i % 3);
    records.push({ a: t + 0.3 * rng.normal(), b: t + 0.3 * rng.normal(), n1: rng.normal(), n2: rng.normal(), n3: rng.normal(), n4: rng.normal() });
  }
  return datasetFromRecords(records, { a: "numeric", b: "numeric", n1: "numeric", n2: "numeric", n3: "numeric", n4: "numeric" }, "noisy");
}

function section(doc: ReportDocument, id: string): ReportBlock[] {
  const s = doc.sections.find((x) => x.id === id);
  expect(s, `section ${id}`).toBeDefined();
  return s!.blocks;
}

function texts(blocks: ReportBlock[]): string {
  return blocks.map((b) => (b.type === "text" ? b.text : b.type === "list" ? b.items.join("\n") : "")).join("\n");
}

function charts(blocks: ReportBlock[]): ReportChart[] {
  return blocks.flatMap((b) => (b.type === "chart" ? [b.chart] : []));
}

/** Each row's top probability and its two most probable segments, from the probability matrix. */
function tops(r: SegmentationResult): { top: number[]; first: number[]; second: number[] } {
  const P = r.mixture!.probabilities;
  const top: number[] = [];
  const first: number[] = [];
  const second: number[] = [];
  for (let i = 0; i < P.rows; i++) {
    const row = Array.from(P.data.subarray(i * P.cols, (i + 1) * P.cols));
    const order = row.map((_, c) => c).sort((x, y) => row[y] - row[x] || x - y);
    top.push(row[order[0]]);
    first.push(order[0]);
    second.push(order[1]);
  }
  return { top, first, second };
}

const fmt3 = (x: number): string => String(Number(x.toPrecision(3)));

describe("report of a Gaussian mixture with k given", async () => {
  const ds = shop();
  const r = await runSegmentation({ algorithm: "gmm", k: 3, seed: 3, features: ["spend", "visits"], profile: ["plan"] }, ds);
  const rep = await buildSegmentationReport(r, ds, { source: "shop", maps: ["pca"] });
  const doc = rep.document;
  const names = r.segments.map((s) => s.name);
  const { top, first, second } = tops(r);
  const below = top.filter((p) => p < 0.6).length;

  it("the result is a mixture of 3 segments, with customers between segments to show", () => {
    expect(r.mixture).toBeDefined();
    expect(r.mixture!.selection).toBeNull();
    expect(r.k).toBe(3);
    // The report's count is the hand count, and there is something to count.
    expect(below).toBe(r.mixture!.between.count);
    expect(below).toBeGreaterThan(0);
    // The assigned segment is the most probable one.
    expect(Array.from(r.labels)).toEqual(first);
  });

  it("summary: a Gaussian mixture with full covariances, k given, and the customers between segments", () => {
    const t = texts(section(doc, "summary"));
    expect(t).toContain("240 customers of shop in 3 segments, by a Gaussian mixture (full covariances; k given, full covariances by default)");
    expect(t).toContain(`${below} customer${below === 1 ? "" : "s"} (${(100 * below / 240).toFixed(1)}\u00a0%) ${below === 1 ? "sits" : "sit"} between segments`);
  });

  it("choice of k: says k and the type were given and how to see the evidence; no BIC chart", () => {
    const blocks = section(doc, "choice-of-k");
    const t = texts(blocks);
    expect(t).toContain("k = 3 was given (--k 3)");
    expect(t).toContain("full covariances, the default, were used");
    expect(t).toContain("--k auto");
    expect(t).toContain("segmenta tune --algorithm gmm");
    expect(charts(blocks)).toHaveLength(0);
    expect(rep.charts.bic).toBeUndefined();
  });

  it("certainty: the count below 0.6 overall, per segment and per pair of segments equals the hand count", () => {
    const blocks = section(doc, "certainty");
    expect(doc.sections.find((s) => s.id === "certainty")!.title).toBe("How certain is the assignment");
    expect(texts(blocks)).toContain(`${below} of 240 customers`);
    const [c] = charts(blocks);
    expect(c.id).toBe("certainty");
    expect(rep.charts.certainty).toBe(c.spec);
    const subtitle = (c.spec as unknown as { title: { subtitle: string } }).title.subtitle;
    expect(subtitle).toContain(`${below} of 240 customers`);
    // The chart's table: per segment, customers, mean and lowest top probability, those below 0.6.
    const rows = c.table!.rows;
    expect(rows).toHaveLength(3);
    for (let l = 0; l < 3; l++) {
      const mine = top.filter((_, i) => r.labels[i] === l);
      const mean = mine.reduce((s, v) => s + v, 0) / mine.length;
      const n = mine.filter((v) => v < 0.6).length;
      expect(rows[l]).toEqual([names[l], mine.length, fmt3(mean), fmt3(Math.min(...mine)), n, `${(100 * n / mine.length).toFixed(1)}\u00a0%`]);
    }
    // Who sits between which: the pairs of the two most probable segments of the rows below 0.6.
    const pairs = new Map<string, number>();
    for (let i = 0; i < top.length; i++) {
      if (top[i] >= 0.6) continue;
      const [a, b] = [Math.min(first[i], second[i]), Math.max(first[i], second[i])];
      const key = `${names[a]} and ${names[b]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    const table = blocks.find((b): b is Extract<ReportBlock, { type: "table" }> => b.type === "table")!.table;
    expect(table.head[0]).toBe("between");
    expect(new Map(table.rows.map((row) => [row[0], Number(String(row[1]).replace(/,/g, ""))]))).toEqual(pairs);
  });

  it("each card: the mean top probability and the customers between segments, as counted by hand", () => {
    const cards = section(doc, "segments").filter((b): b is Extract<ReportBlock, { type: "segment" }> => b.type === "segment");
    expect(cards.map((c) => c.id)).toEqual([0, 1, 2]);
    for (const card of cards) {
      const l = card.id;
      const mine = top.filter((_, i) => r.labels[i] === l);
      const mean = mine.reduce((s, v) => s + v, 0) / mine.length;
      const n = mine.filter((v) => v < 0.6).length;
      const text = texts(card.blocks.slice(0, 1));
      expect(text).toContain(`Mean probability of this segment over its customers: ${fmt3(mean)} (the lowest ${fmt3(Math.min(...mine))})`);
      expect(text).toContain(`${n} of its ${mine.length} customers`);
      expect(n).toBe(r.mixture!.between.perSegment[l]);
    }
  });

  it("PCA map: one ellipse per segment in the segment's colour, centred on the segment's customers", () => {
    const map = rep.charts["map-pca"] as unknown as {
      layer: { data?: { values: Row[] }; encoding: { color?: { scale: { domain: string[]; range: string[] } } } }[]; data: { values: Row[] };
    };
    expect(map.layer).toHaveLength(2);
    // The customers' colours: name → colour of the map's scale.
    const scale = map.layer[0].encoding.color!.scale;
    const colorOf = new Map(scale.domain.map((d, i) => [d, scale.range[i]]));
    const outline = map.layer[1].data!.values;
    for (let l = 0; l < 3; l++) {
      const mine = outline.filter((v) => v.segment === names[l]);
      expect(mine.length).toBeGreaterThan(0);
      for (const v of mine) expect(v.stroke).toBe(segmentColor(l));
      expect(colorOf.get(names[l])).toBe(segmentColor(l));
      // The one-sd outline's mean (a closed ellipse, its first point repeated) is its center;
      // the segment's customers on the map lie around it.
      const ring = mine.filter((v) => v.level === 1).slice(0, -1);
      const cx = ring.reduce((s, v) => s + (v.x as number), 0) / ring.length;
      const cy = ring.reduce((s, v) => s + (v.y as number), 0) / ring.length;
      const pts = map.data.values.filter((v) => v.segment === names[l]);
      const mx = pts.reduce((s, v) => s + (v.x as number), 0) / pts.length;
      const my = pts.reduce((s, v) => s + (v.y as number), 0) / pts.length;
      expect(Math.hypot(cx - mx, cy - my)).toBeLessThan(0.25);
    }
    const c = charts(section(doc, "maps")).find((x) => x.id === "map-pca")!;
    expect(c.description).toContain("each segment's Gaussian projected on the map");
    expect(c.table!.rows.map((row) => row[5])).toEqual(["yes", "yes", "yes"]);
    expect(() => compile(structuredClone(rep.charts["map-pca"]))).not.toThrow();
  });

  it("the ellipses' centers are the components' means projected by the map's PCA, component c drawn as segment relabel[c]", async () => {
    const gm = r.model.inner as GaussianMixtureModel;
    expect(gm).toBeInstanceOf(GaussianMixtureModel);
    const pca = await new PCA({ nComponents: 2, randomState: r.config.seed }).fit(r.matrix);
    const centers = pca.transform(gm.means);
    const c = charts(section(doc, "maps")).find((x) => x.id === "map-pca")!;
    for (let comp = 0; comp < 3; comp++) {
      const seg = r.model.relabel ? r.model.relabel[comp] : comp;
      const row = c.table!.rows.find((x) => x[0] === names[seg])!;
      expect(row[1]).toBe(`${fmt3(centers.data[comp * 2])}, ${fmt3(centers.data[comp * 2 + 1])}`);
    }
  });

  it("renders to HTML", async () => {
    const html = await renderReportHtml(doc);
    expect(html).toContain("How certain is the assignment");
    expect(html).toContain('id="fig-certainty"');
    expect(html).toContain('id="fig-map-pca"');
  });
});

describe("report of a Gaussian mixture with k auto", async () => {
  const ds = shop();
  const r = await runSegmentation({ algorithm: "gmm", k: "auto", kRange: { min: 2, max: 4 }, seed: 3, features: ["spend", "visits"] }, ds);
  const rep = await buildSegmentationReport(r, ds, { source: "shop", maps: [] });
  const doc = rep.document;
  const sel = r.mixture!.selection!;

  it("choice of k: the BIC chart with the selection table, the recommendation's reason and AIC's", () => {
    expect(sel).not.toBeNull();
    expect(r.k).toBe(sel.best.k);
    expect(r.mixture!.covarianceType).toBe(sel.best.covarianceType);
    const blocks = section(doc, "choice-of-k");
    const t = texts(blocks);
    expect(t).toContain("k and the covariance type were chosen by BIC over k from 2 to 4 and the types full, tied, diag, spherical");
    expect(t).toContain(sel.best.reason);
    expect(t).toContain(sel.byAic.reason);
    const [c] = charts(blocks);
    expect(c.id).toBe("bic");
    expect(rep.charts.bic).toBe(c.spec);
    expect(c.table!.head).toEqual(["segments", "full", "tied", "diag", "spherical"]);
    expect(c.table!.rows.map((row) => row[0])).toEqual([2, 3, 4]);
    // The chosen cell is marked, with its BIC.
    const row = c.table!.rows.find((x) => x[0] === sel.best.k)!;
    expect(row[1 + ["full", "tied", "diag", "spherical"].indexOf(sel.best.covarianceType)]).toBe(`${sel.best.bic.toFixed(1)} ◀`);
    expect(() => compile(structuredClone(c.spec) as TopLevelSpec)).not.toThrow();
  });

  it("summary: k and the covariance type chosen by BIC", () => {
    expect(texts(section(doc, "summary"))).toContain(`by a Gaussian mixture (${sel.best.covarianceType} covariances; k and the covariance type chosen by BIC)`);
  });

  it("certainty count equals the hand count; no maps asked, so no ellipses", async () => {
    const below = tops(r).top.filter((p) => p < 0.6).length;
    expect(r.mixture!.between.count).toBe(below);
    expect(texts(section(doc, "certainty"))).toContain(`${below} of 240 customers`);
    expect(rep.charts["map-pca"]).toBeUndefined();
    const html = await renderReportHtml(doc);
    expect(html).toContain('id="fig-bic"');
  });
});

describe("ellipses the PCA map cannot show", async () => {
  const ds = noisy();
  const r = await runSegmentation({ algorithm: "gmm", k: 3, seed: 2 }, ds);
  const rep = await buildSegmentationReport(r, ds, { source: "noisy", maps: ["pca"] });

  it("are left out, and the caption says why with each segment's share of variance shown", () => {
    const c = charts(section(rep.document, "maps")).find((x) => x.id === "map-pca")!;
    // The map stays a single-mark chart: no ellipse layer.
    expect((c.spec as unknown as { layer?: unknown }).layer).toBeUndefined();
    expect(c.description).toContain("The segments' ellipses are not drawn: the map's two axes show less than 50.0\u00a0% of their variance");
    const shares = c.table!.rows.map((row) => Number(String(row[4]).replace("\u00a0%", "")) / 100);
    expect(shares).toHaveLength(3);
    for (const s of shares) expect(s).toBeLessThan(0.5);
    expect(c.table!.rows.map((row) => row[5])).toEqual(["no", "no", "no"]);
  });
});
