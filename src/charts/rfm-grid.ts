/**
 * The classic RFM grid as a Vega-Lite specification: recency score across (1–5, 5 = most
 * recent), frequency score up (1–5, 5 = most frequent), the number and share of customers in
 * each of the 25 cells, and the cells coloured and named by the usual RFM segment they belong
 * to (the grid of src/profile/rfm-scores.ts, through its rfmSegment).
 */
import type { TopLevelSpec } from "vega-lite";
import { RFM_SEGMENTS, type RfmSegment, rfmSegment } from "../profile/rfm-scores.js";
import { type BaseChartOptions, SCHEMA, formatCount, formatShare } from "./theme.js";

export interface RfmGridInput extends BaseChartOptions {
  /** The recency score of every customer, 1–5 (5 = most recent); 0 or anything else = missing. */
  recencyScore: ArrayLike<number>;
  /** The frequency score of every customer, 1–5 (5 = most frequent). */
  frequencyScore: ArrayLike<number>;
  /**
   * Display names of the RFM segments, in the order of RFM_SEGMENTS (Champions, Loyal
   * Customers, ...), e.g. translated; RFM_SEGMENTS' names where missing.
   */
  segmentNames?: readonly string[];
}

/** Light colours for the areas, so that the counts on them stay readable; greens are the best customers, reds the ones slipping away. */
const AREA_COLORS: Record<RfmSegment, string> = {
  "Champions": "#74c476",
  "Loyal Customers": "#a1d99b",
  "Potential Loyalists": "#c7e9c0",
  "New Customers": "#9ecae1",
  "Promising": "#c6dbef",
  "Need Attention": "#fdd0a2",
  "About to Sleep": "#fee6ce",
  "At Risk": "#fc9272",
  "Can't Lose Them": "#fb6a4a",
  "Hibernating": "#d9d9d9",
  "Lost": "#bdbdbd",
};

interface GridCell {
  r: number;
  f: number;
  count: number;
  share: number;
  countText: string;
  shareText: string;
  area: string;
  areaCount: number;
  areaShare: number;
  /** The area's name on one cell of the area (the one nearest its centre), else "". */
  name: string;
}

/** The RFM grid: counts per (R, F) cell and the named RFM segments as coloured areas. */
export function rfmGridChart(input: RfmGridInput): TopLevelSpec {
  const { recencyScore: rs, frequencyScore: fs } = input;
  if (rs.length !== fs.length) throw new RangeError(`recencyScore has ${rs.length} values but frequencyScore has ${fs.length}`);
  const n = rs.length;
  const counts = new Float64Array(25);
  let scored = 0;
  for (let i = 0; i < n; i++) {
    const r = rs[i], f = fs[i];
    if (rfmSegment(r, f) === null) continue;
    counts[(f - 1) * 5 + (r - 1)]++;
    scored++;
  }
  const display = (s: RfmSegment): string => {
    const given = input.segmentNames?.[RFM_SEGMENTS.indexOf(s)];
    return typeof given === "string" && given.trim() !== "" ? given : s;
  };
  // Each area's cells, its total, and the cell that carries its name: the cell nearest the
  // area's centre, ties to the higher F, then the higher R.
  const areas = new Map<RfmSegment, { cells: [number, number][]; total: number }>();
  for (let f = 1; f <= 5; f++) {
    for (let r = 1; r <= 5; r++) {
      const s = rfmSegment(r, f)!;
      let a = areas.get(s);
      if (!a) areas.set(s, (a = { cells: [], total: 0 }));
      a.cells.push([r, f]);
      a.total += counts[(f - 1) * 5 + (r - 1)];
    }
  }
  const nameCell = new Map<RfmSegment, string>();
  for (const [s, a] of areas) {
    const cr = a.cells.reduce((t, c) => t + c[0], 0) / a.cells.length;
    const cf = a.cells.reduce((t, c) => t + c[1], 0) / a.cells.length;
    const best = [...a.cells].sort((p, q) => ((p[0] - cr) ** 2 + (p[1] - cf) ** 2) - ((q[0] - cr) ** 2 + (q[1] - cf) ** 2) || q[1] - p[1] || q[0] - p[0])[0];
    nameCell.set(s, `${best[0]},${best[1]}`);
  }
  const rows: GridCell[] = [];
  for (let f = 5; f >= 1; f--) {
    for (let r = 1; r <= 5; r++) {
      const s = rfmSegment(r, f)!;
      const count = counts[(f - 1) * 5 + (r - 1)];
      const share = scored > 0 ? count / scored : 0;
      const a = areas.get(s)!;
      rows.push({
        r, f, count, share, countText: formatCount(count), shareText: formatShare(share),
        area: display(s), areaCount: a.total, areaShare: scored > 0 ? a.total / scored : 0,
        name: nameCell.get(s) === `${r},${f}` ? display(s) : "",
      });
    }
  }
  const order = RFM_SEGMENTS.filter((s) => areas.has(s));
  const missing = n - scored;
  const subtitle = `${formatCount(scored)} customers` + (missing > 0 ? ` (${formatCount(missing)} without scores left out)` : "")
    + "; the number and share of customers in each cell";
  const description = input.description ?? `RFM grid of recency score (1–5, across) by frequency score (1–5, up) for ${scored} customers, with the named RFM segments as areas: `
    + order.map((s) => `${display(s)} ${formatCount(areas.get(s)!.total)} (${formatShare(scored > 0 ? areas.get(s)!.total / scored : 0)})`).join(", ") + ".";
  const cell = 92;
  const scores = [1, 2, 3, 4, 5];
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "RFM grid: recency × frequency", subtitle },
    width: input.width ?? cell * 5,
    height: input.height ?? cell * 5,
    data: { values: rows },
    encoding: {
      x: { field: "r", type: "ordinal", title: "recency score (5 = most recent)", scale: { domain: scores }, axis: { labelAngle: 0 } },
      y: { field: "f", type: "ordinal", title: "frequency score (5 = most frequent)", scale: { domain: [...scores].reverse() } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 2 },
        encoding: {
          color: {
            field: "area", type: "nominal", title: "RFM segment",
            scale: { domain: order.map(display), range: order.map((s) => AREA_COLORS[s]) },
          },
          tooltip: [
            { field: "area", type: "nominal", title: "RFM segment" },
            { field: "r", type: "ordinal", title: "R" },
            { field: "f", type: "ordinal", title: "F" },
            { field: "count", type: "quantitative", title: "customers in the cell", format: "," },
            { field: "areaCount", type: "quantitative", title: "customers in the segment", format: "," },
            { field: "areaShare", type: "quantitative", title: "share of the segment", format: ".1%" },
          ],
        },
      },
      { mark: { type: "text", fontSize: 15, fontWeight: "bold", baseline: "middle", dy: 2 }, encoding: { text: { field: "countText" } } },
      { mark: { type: "text", fontSize: 10, baseline: "middle", dy: 18, color: "#333333" }, encoding: { text: { field: "shareText" } } },
      { mark: { type: "text", fontSize: 9, fontStyle: "italic", baseline: "middle", dy: -26, color: "#333333" }, encoding: { text: { field: "name" } } },
    ],
  };
}
