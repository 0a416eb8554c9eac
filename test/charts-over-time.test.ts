/**
 * The over-time charts (charts/over-time.ts) and the "Over time" report section
 * (report/over-time.ts): the specs' marks, fields and data rows checked against the input,
 * the alluvial layout's band widths and positions by hand, and every chart rendered to SVG
 * through report/render.ts and into the HTML report.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TopLevelSpec } from "vega-lite";
import { migrationHeatmap, psiChart, segmentFlowChart, segmentSizesOverTimeChart } from "../src/charts/over-time.js";
import { segmentColor } from "../src/charts/theme.js";
import { type ColumnKind, datasetFromRecords } from "../src/core/dataset.js";
import { generateCustomers, toCsv } from "../src/io/synthetic.js";
import { compareAssignments } from "../src/pipeline/compare.js";
import { driftReport, trainingDistribution } from "../src/pipeline/drift.js";
import { buildModelFile, type ModelFile, parseModelFile, predictWithModel, previousFromModel } from "../src/pipeline/model.js";
import { parseConfig } from "../src/pipeline/config.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { clusterFile } from "../src/server/job.js";
import { renderReportHtml } from "../src/report/html.js";
import { flowsOfMatrix, migrationText, overTimeFromPrevious, overTimeSection, psiText, sizesText } from "../src/report/over-time.js";
import { renderSvg } from "../src/report/render.js";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const spec = (s: TopLevelSpec): Any => s as unknown as Any;

const NAMES = ["Champions", "Loyal", "At risk", "Hibernating"];
const sizes = ["2011-01-01", "2011-02-01", "2011-03-01"].flatMap((date, t) => NAMES.map((name, segment) => ({ date, segment, name, customers: [30, 50, 25, 40][segment] + t * (segment - 1) })));
// Before (rows) × after (columns), the same four segments.
const COUNTS = [[24, 4, 2, 0], [6, 38, 6, 0], [0, 1, 15, 9], [0, 0, 1, 39]];
const flows = COUNTS.flatMap((row, from) => row.map((customers, to) => ({ from, to, customers })));

describe("segment sizes over time", () => {
  it("one row per date and segment, stacked areas coloured by segment name", () => {
    const s = spec(segmentSizesOverTimeChart({ rows: sizes }));
    expect(s.mark.type).toBe("area");
    expect(s.encoding.x).toMatchObject({ field: "date", type: "temporal" });
    expect(s.encoding.y).toMatchObject({ field: "customers", stack: "zero" });
    expect(s.encoding.color.field).toBe("segment");
    expect(s.encoding.color.scale).toEqual({ domain: NAMES, range: [0, 1, 2, 3].map(segmentColor) });
    expect(s.data.values).toHaveLength(12);
    const feb = s.data.values.filter((r: Any) => r.date === "2011-02-01");
    expect(feb.map((r: Any) => r.customers)).toEqual([29, 50, 26, 42]);
    expect(feb[3].share).toBeCloseTo(42 / 147, 12);
    // One tick per snapshot, as months.
    expect(s.encoding.x.axis.values).toEqual(["2011-01-01", "2011-02-01", "2011-03-01"].map((d) => Date.parse(d)));
    expect(s.encoding.x.axis.format).toBe("%b %Y");
    // A segment missing at a date counts 0 there; lines on request.
    const gap = spec(segmentSizesOverTimeChart({ rows: sizes.filter((r) => !(r.segment === 2 && r.date === "2011-02-01")), stacked: false }));
    expect(gap.mark.type).toBe("line");
    expect(gap.data.values.find((r: Any) => r.date === "2011-02-01" && r.segment === "At risk").customers).toBe(0);
    expect(() => segmentSizesOverTimeChart({ rows: [{ date: "2011-01-01", segment: 0, name: "A", customers: -1 }] })).toThrow(RangeError);
  });
});

describe("the alluvial diagram", () => {
  it("bars as tall as the segments, bands as wide as the flows, placed by hand", () => {
    const s = spec(segmentFlowChart({ flows, names: NAMES, before: "May", after: "June" }));
    const [bandLayer, nodeLayer, headLayer] = s.layer;
    expect(bandLayer.mark.type).toBe("area");
    expect(bandLayer.encoding.detail.field).toBe("band");
    expect(nodeLayer.layer[0].mark.type).toBe("rect");
    expect(nodeLayer.layer.slice(1).map((l: Any) => l.mark.type)).toEqual(["text", "text"]);
    expect(headLayer.data.values.map((v: Any) => v.text)).toEqual(["May", "June"]);
    // 145 customers; gaps of 3 % (4.35). Left bars: 30, 50, 25, 40 from the top.
    const nodes = nodeLayer.data.values as Any[];
    const left = nodes.filter((n) => n.side === "from");
    expect(left.map((n) => n.name)).toEqual(NAMES);
    expect(left.map((n) => [n.y0, n.y1])).toEqual([[0, 30], [34.35, 84.35], [88.7, 113.7], [118.05, 158.05]].map(([a, b]) => [expect.closeTo(a, 9), expect.closeTo(b, 9)]));
    const right = nodes.filter((n) => n.side === "to");
    expect(right.map((n) => n.customers)).toEqual([30, 43, 24, 48]);
    // Each band: 25 points from x = 0 to 1, as wide as its flow all along.
    const bands = bandLayer.data.values as Any[];
    const nonEmpty = flows.filter((f) => f.customers > 0);
    expect(new Set(bands.map((b) => b.band)).size).toBe(nonEmpty.length);
    for (const b of bands) expect(b.y1 - b.y0).toBeCloseTo(b.customers, 4);
    // Loyal → Champions (6): Loyal's first destination, so at Loyal's top at the left, 34.35;
    // at the right below Champions' stayers (24), so at 24.
    const lc = bands.filter((b) => b.from === "Loyal" && b.to === "Champions");
    expect(lc[0]).toMatchObject({ x: 0, customers: 6 });
    expect(lc[0].y0).toBeCloseTo(34.35, 6);
    expect(lc[lc.length - 1].x).toBe(1);
    expect(lc[lc.length - 1].y0).toBeCloseTo(24, 6);
    expect(lc[0].share).toBeCloseTo(6 / 50, 12);
    // Bands take the colour of their segment before.
    expect(bandLayer.encoding.color.scale.range[bandLayer.encoding.color.scale.domain.indexOf("At risk")]).toBe(segmentColor(2));
    expect(s.title.subtitle).toBe("May → June: 29 of 145 customers changed segment");
  });

  it("new and gone customers are grey bands from and to nowhere; outliers keep their name", () => {
    const s = spec(segmentFlowChart({ flows: [{ from: 0, to: 0, customers: 5 }, { from: null, to: 0, customers: 2 }, { from: -1, to: null, customers: 3 }], names: ["Champions"], noiseName: "Outliers: one-off buyers" }));
    const names = s.layer[1].data.values.map((n: Any) => `${n.side}:${n.name}`);
    expect(names).toEqual(["from:Champions", "from:Outliers: one-off buyers", "from:new customers", "to:Champions", "to:gone"]);
    const scale = s.layer[0].encoding.color.scale;
    expect(scale.range[scale.domain.indexOf("new customers")]).toBe("#d9d9d9");
  });
});

describe("the migration heatmap", () => {
  it("one cell per pair with its count and its share of the row as text", () => {
    const s = spec(migrationHeatmap({ counts: COUNTS, beforeLabels: [0, 1, 2, 3], afterLabels: [0, 1, 2, 3], names: NAMES }));
    expect(s.layer.map((l: Any) => l.mark.type)).toEqual(["rect", "text", "text"]);
    expect(s.layer[0].encoding.color.field).toBe("share");
    expect(s.layer[1].encoding.text.field).toBe("count");
    expect(s.layer[2].encoding.text.field).toBe("shareText");
    expect(s.encoding.y.sort).toEqual(NAMES);
    const cells = s.data.values as Any[];
    expect(cells).toHaveLength(16);
    const c = cells.find((x) => x.before === "At risk" && x.after === "Hibernating")!;
    expect(c).toMatchObject({ customers: 9, count: "9", shareText: "(36.0%)" });
    expect(c.share).toBeCloseTo(0.36, 12);
    expect(cells.find((x) => x.before === "Champions" && x.after === "Hibernating")!.shareText).toBe("");
    expect(s.description).toMatch(/116 \(80\.0%\) stayed/);
    expect(() => migrationHeatmap({ counts: [[1, 2]], beforeLabels: [0], afterLabels: [0] })).toThrow(RangeError);
  });
});

describe("PSI bars", () => {
  it("largest first, coloured by reading, with rules at 0.1 and 0.25", () => {
    const s = spec(psiChart({ rows: [{ feature: "monetary", psi: 0.04 }, { feature: "recency_days", psi: 0.31 }, { feature: "frequency", psi: 0.12 }, { feature: "x", psi: NaN }] }));
    const bars = s.layer[0];
    expect(bars.data.values.map((r: Any) => [r.feature, r.reading])).toEqual([["recency_days", "retrain"], ["frequency", "watch"], ["monetary", "stable"]]);
    expect(bars.encoding.y.sort).toEqual(["recency_days", "frequency", "monetary"]);
    expect(bars.layer[0].mark.type).toBe("bar");
    expect(bars.layer[0].encoding.color.scale.domain).toEqual(["stable", "watch", "retrain"]);
    const rules = s.layer[1];
    expect(rules.layer[0].mark.type).toBe("rule");
    expect(rules.data.values.map((r: Any) => r.at)).toEqual([0.1, 0.25]);
    expect(s.title.subtitle).toBe("retrain: recency_days");
  });
});

describe("rendering", () => {
  it("each chart renders to SVG through render.ts", async () => {
    const charts: TopLevelSpec[] = [
      segmentSizesOverTimeChart({ rows: sizes }),
      segmentFlowChart({ flows: [...flows, { from: null, to: 1, customers: 7 }], names: NAMES, before: "May", after: "June" }),
      migrationHeatmap({ counts: COUNTS, beforeLabels: [0, 1, 2, 3], afterLabels: [0, 1, 2, 3], names: NAMES }),
      psiChart({ rows: [{ feature: "recency_days", psi: 0.31 }, { feature: "monetary", psi: 0.04 }] }),
    ];
    for (const [i, c] of charts.entries()) {
      const svg = await renderSvg(c);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain(i < 3 ? ">Champions" : ">recency_days</text>");
    }
    // The alluvial diagram's names and counts are drawn as text.
    const svg = await renderSvg(charts[1]);
    expect(svg).toContain(">Loyal  50</text>");
    expect(svg).toContain(">new customers  7</text>");
  });
});

describe("the Over time section", () => {
  it("from track-like sizes, a comparison of two assignments and a drift report", async () => {
    const before = ["a", "b", "c", "d", "e", "f"].map((id, i) => ({ id, segment: [0, 0, 1, 1, 1, 2][i], name: ["Champions", "Champions", "Loyal", "Loyal", "Loyal", "Lost"][i] }));
    const after = ["a", "b", "c", "d", "e", "g"].map((id, i) => ({ id, segment: [0, 1, 1, 1, 0, 2][i], name: ["Champions", "Loyal", "Loyal", "Loyal", "Champions", "Lost"][i] }));
    const cmp = compareAssignments(before, after);
    const train = datasetFromRecords([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => ({ x })), { x: "numeric" });
    const next = datasetFromRecords([8, 9, 10, 10, 11, 12, 13, 14, 15, 16].map((x) => ({ x })), { x: "numeric" });
    const drift = driftReport({ distribution: trainingDistribution(train, ["x"]), training: { sizes: [] } } as unknown as ModelFile, next)!;
    const migration = { matrix: cmp.matrix, before: "May", after: "June", onlyBefore: cmp.onlyBefore, onlyAfter: cmp.onlyAfter, arrivals: [{ segment: 2, customers: 1 }], departures: [{ segment: 2, customers: 1 }] };
    const { section, charts } = overTimeSection({ sizes, migration, psi: drift });
    expect(section.title).toBe("Over time");
    expect(Object.keys(charts)).toEqual(["over-time-sizes", "over-time-flows", "over-time-migration", "over-time-psi"]);
    expect(section.blocks.map((b) => b.type)).toEqual(["text", "chart", "text", "chart", "chart", "text", "chart"]);
    // Flows: the matrix's cells (stayers too), then the arrivals and departures.
    expect(flowsOfMatrix(migration).map((f) => [f.from, f.to, f.customers])).toEqual([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 2], [null, 2, 1], [2, null, 1]]);
    expect(migrationText(migration)).toBe("Of 5 customers in both May and June, 2 (40.0%) changed segment; the largest moves: 1 Champions → Loyal (50.0% of Champions), 1 Loyal → Champions (33.3% of Loyal). 1 customers are new in June. 1 customers of May are gone.");
    expect(psiText([{ feature: "x", psi: drift.features[0].psi }])).toMatch(/Moved past 0.25: x \(\d+\.\d{3}\); .*fit the model again/);
    // Hibernating 40 of 145 → 44 of 149; Champions 30 of 145 → 28 of 149.
    expect(sizesText(sizes)).toBe("From 2011-01-01 to 2011-03-01 (3 snapshots) the customers went from 145 to 149. Hibernating grew most (27.6% → 29.5% of the customers); Champions shrank most (20.7% → 18.8%).");
    const html = await renderReportHtml({ title: "t", subtitle: "s", sections: [section] });
    expect(html).toContain("Over time");
    expect(html).toContain("Migration matrix, May → June");
    expect(() => overTimeSection({})).toThrow(RangeError);
  });
});

describe("a run with a previous model (cluster --previous)", () => {
  const KINDS: Record<string, ColumnKind> = {
    customer_id: "id", age: "numeric", plan: "categorical", tenure_months: "numeric", monthly_spend: "numeric", support_calls: "numeric", satisfaction: "numeric",
  };
  const table = (seed: number, shift = 0) => {
    const t = generateCustomers({ customers: 800, seed });
    const keep = Object.keys(KINDS).map((c) => t.columns.indexOf(c));
    const columns = Object.keys(KINDS);
    const rows = t.rows.map((r) => keep.map((j, i) => (columns[i] === "age" && typeof r[j] === "number" ? (r[j] as number) + shift : r[j])));
    return { columns, rows };
  };
  const records = (t: { columns: string[]; rows: unknown[][] }) => datasetFromRecords(t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i]]))), KINDS);

  it("the migration is the previous model's segments of these customers against the new ones; the PSI is drift's", async () => {
    const old = records(table(7));
    const prevRun = await runSegmentation({ k: 4, seed: 1, id: "customer_id" }, old);
    const prevModel = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(prevRun, old))), "old.json");
    const data = records(table(8, 15));
    const previous = previousFromModel(prevModel, "old.json");
    const r = await runSegmentation({ k: 4, seed: 2, id: "customer_id" }, data, { previous });
    const notes: string[] = [];
    const out = overTimeFromPrevious(previous, r, data, notes)!;
    expect(notes).toEqual([]);
    expect(Object.keys(out.charts)).toEqual(["over-time-flows", "over-time-migration", "over-time-psi"]);
    // The matrix by hand: previous model's segment id of each row against this run's segment id.
    const p = predictWithModel(prevModel, data);
    const prevIds = prevModel.file.segmentIds ?? [0, 1, 2, 3];
    const newIds = r.segmentIds ?? [0, 1, 2, 3];
    const migration = (out.section.blocks.find((b) => b.type === "chart" && b.chart.id === "over-time-migration") as { chart: { table: { rows: (string | number | null)[][] } } }).chart.table;
    const heat = out.charts["over-time-migration"] as unknown as Any;
    const cells = heat.data.values as Any[];
    let checked = 0;
    for (const a of [0, 1, 2, 3]) {
      for (const b of [0, 1, 2, 3]) {
        let n = 0;
        for (let i = 0; i < data.rows; i++) if (prevIds[p.labels[i]] === a && newIds[r.labels[i]] === b) n++;
        const cell = cells.find((c) => c.before === p.names[prevIds.indexOf(a)] && c.after === r.segments[newIds.indexOf(b)].name);
        if (cell) {
          expect(cell.customers).toBe(n);
          checked++;
        }
      }
    }
    expect(checked).toBe(16);
    expect(migration.rows.reduce((s, row) => s + (row[row.length - 1] as number), 0)).toBe(800);
    // The PSI bars are drift's values: age moved by 15 years.
    const d = driftReport(prevModel, data, { labels: p.labels, names: p.names, noiseName: p.noiseName })!;
    const psiRows = (out.charts["over-time-psi"] as unknown as Any).layer[0].data.values as Any[];
    expect(psiRows.find((x) => x.feature === "age")!.psi).toBeCloseTo(d.features.find((f) => f.feature === "age")!.psi, 3);
    expect(psiRows.find((x) => x.feature === "age")!.reading).toBe("retrain");
  });

  it("clusterFile with a previous run writes the Over time section into the report and its charts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "segmenta-overtime-"));
    try {
      const old = records(table(7));
      const prevRun = await runSegmentation({ k: 3, seed: 1, id: "customer_id" }, old);
      const previous = previousFromModel(parseModelFile(JSON.parse(JSON.stringify(buildModelFile(prevRun, old))), "old.json"), "old.json");
      const file = join(dir, "new.csv");
      writeFileSync(file, [...toCsv(table(9, 15))].join(""));
      const report = join(dir, "report.html");
      const charts = join(dir, "charts");
      mkdirSync(charts);
      await clusterFile(file, parseConfig({ k: 3, seed: 1, id: "customer_id" }), { report, charts }, { previous });
      const html = readFileSync(report, "utf8");
      expect(html).toContain("Over time");
      expect(html).toContain("Compared with the previous run old.json");
      expect(html).toContain("Migration matrix, previous → this run");
      for (const name of ["over-time-flows", "over-time-migration", "over-time-psi"]) expect(readFileSync(join(charts, `${name}.svg`), "utf8")).toMatch(/^<svg/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
