/**
 * The dendrogram as a Vega-Lite specification: a pure function of the drawing data of a
 * hierarchy (`model.dendrogram({ p })`, scipy's layout: leaves at x = 5, 15, 25, ..., one
 * U-shaped link per merge), with the cut that gives the chosen number of segments drawn as
 * a dashed horizontal line. Rendered by report/render.ts (SVG) or any Vega-Lite viewer.
 */
import type { TopLevelSpec } from "vega-lite";
import type { DendrogramData } from "../cluster/agglomerative.js";

export interface DendrogramChartOptions {
  /** Plot width and height in pixels. */
  width?: number;
  height?: number;
  title?: string;
  /**
   * The cut to draw: k segments at `height` (e.g. `{ k, height: model.cutHeight(k) }`).
   * Links above it are grey, the segments below it coloured.
   */
  cut?: { k: number; height: number } | null;
  /** Leaf labels under the axis; default: when there are at most 60 leaves. */
  leafLabels?: boolean;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const LINK = "#4c78a8";
const ABOVE = "#9a9a9a";
const MARK = "#e45756";

/** One segment of a link: x, y to x2, y2, and the height of the link it belongs to. */
interface Segment {
  x: number;
  y: number;
  x2: number;
  y2: number;
  top: number;
}

/**
 * The dendrogram: each merge drawn as a U (two vertical rules from the merged clusters up
 * to the merge height, joined by a horizontal rule), leaves along the bottom ("(n)" for a
 * truncated cluster of n rows), and the cut line with its label when `cut` is given.
 */
export function dendrogramChart(data: DendrogramData, options: DendrogramChartOptions = {}): TopLevelSpec {
  const segments: Segment[] = [];
  let maxH = 0;
  data.icoord.forEach((xs, i) => {
    const ys = data.dcoord[i];
    const top = ys[1];
    if (top > maxH) maxH = top;
    segments.push({ x: xs[0], y: ys[0], x2: xs[1], y2: ys[1], top });
    segments.push({ x: xs[1], y: ys[1], x2: xs[2], y2: ys[2], top });
    segments.push({ x: xs[2], y: ys[2], x2: xs[3], y2: ys[3], top });
  });
  const nLeaves = data.leaves.length;
  const cut = options.cut ?? null;
  const showLabels = options.leafLabels ?? nLeaves <= 60;
  const truncated = data.leafCounts.some((c) => c > 1);
  const xScale = { domain: [0, 10 * nLeaves], nice: false, zero: false };
  const yTop = Math.max(maxH, cut ? cut.height : 0) * 1.05 || 1;
  const yScale = { domain: [0, yTop], nice: false };
  const subtitle = [
    `${data.nSamples.toLocaleString("en")} rows`,
    truncated ? `last ${nLeaves - 1} merges shown; (n) is a cluster of n rows` : null,
    cut ? `cut at height ${formatHeight(cut.height)} gives ${cut.k} segments` : null,
  ].filter((s) => s !== null).join(" · ");
  const linkColor = cut
    ? { condition: { test: `datum.top > ${cut.height}`, value: ABOVE }, value: LINK }
    : { value: LINK };
  const layers: unknown[] = [
    {
      data: { values: segments },
      mark: { type: "rule", strokeWidth: 1.2 },
      encoding: {
        x: { field: "x", type: "quantitative", scale: xScale, axis: null },
        x2: { field: "x2" },
        y: { field: "y", type: "quantitative", scale: yScale, title: "merge height (linkage distance)" },
        y2: { field: "y2" },
        color: linkColor,
        tooltip: [{ field: "top", type: "quantitative", title: "merge height", format: ".4~g" }],
      },
    },
  ];
  if (showLabels && nLeaves > 0) {
    layers.push({
      data: { values: data.ivl.map((label, i) => ({ x: 5 + 10 * i, label, count: data.leafCounts[i] })) },
      mark: {
        type: "text", baseline: "middle", align: nLeaves > 20 ? "right" : "center", angle: nLeaves > 20 ? 270 : 0,
        dy: nLeaves > 20 ? 0 : 10, dx: nLeaves > 20 ? -4 : 0, fontSize: 10, color: "#333",
      },
      encoding: {
        x: { field: "x", type: "quantitative", scale: xScale, axis: null },
        y: { datum: 0, type: "quantitative", scale: yScale },
        text: { field: "label" },
        tooltip: [{ field: "label", title: "leaf" }, { field: "count", title: "rows" }],
      },
    });
  }
  if (cut) {
    layers.push(
      {
        data: { values: [{}] },
        mark: { type: "rule", color: MARK, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { datum: cut.height, type: "quantitative", scale: yScale } },
      },
      {
        data: { values: [{}] },
        mark: { type: "text", color: MARK, align: "right", baseline: "bottom", dy: -3, fontSize: 11 },
        encoding: {
          x: { datum: 10 * nLeaves, type: "quantitative", scale: xScale, axis: null },
          y: { datum: cut.height, type: "quantitative", scale: yScale },
          text: { value: `k = ${cut.k} (height ${formatHeight(cut.height)})` },
        },
      },
    );
  }
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? "Dendrogram", subtitle },
    width: options.width ?? 560,
    height: options.height ?? 300,
    layer: layers,
  } as TopLevelSpec;
}

function formatHeight(h: number): string {
  return Number(h.toPrecision(4)).toString();
}
