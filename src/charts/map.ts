/**
 * The 2-D map of customers (a PCA, t-SNE or UMAP embedding) coloured by segment, as a
 * Vega-Lite specification. At large n it shows a stratified sample (src/charts/sample.ts) so
 * that small segments stay visible, and says so in the subtitle.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Matrix } from "../core/matrix.js";
import { stratifiedSample } from "./sample.js";
import {
  type BaseChartOptions, type NoiseNameOption, SCHEMA, distinctLabels, formatCount, formatShare, round, segmentColorScale, segmentDisplayNames,
} from "./theme.js";

export type MapMethod = "PCA" | "t-SNE" | "UMAP";

export interface SegmentMapInput extends BaseChartOptions, NoiseNameOption {
  /** The embedding: n × 2 (or more; the first two columns are drawn), or a flat row-major n × 2 Float64Array. */
  x: Float64Array | Matrix;
  /** The segment of every customer (−1 is noise). */
  labels: ArrayLike<number>;
  /** segmentNames[i] is the name of label i; "Segment i" when missing. */
  segmentNames?: readonly string[];
  method: MapMethod;
  /** At most this many points are drawn (default 5000); above it, a stratified sample. */
  maxPoints?: number;
  /** The seed of the sample (default 0). */
  seed?: number;
  /** Customer ids for the tooltip; the row number (from 1) when missing. */
  ids?: readonly string[];
  /** For PCA: the share of variance of the two components, shown in the axis titles. */
  explainedVarianceRatio?: readonly number[];
}

function axisTitles(method: MapMethod, evr?: readonly number[]): [string, string] {
  if (method === "PCA") {
    return [0, 1].map((j) => `PC${j + 1}` + (evr && Number.isFinite(evr[j]) ? ` (${formatShare(evr[j])} of variance)` : "")) as [string, string];
  }
  return [`${method} 1`, `${method} 2`];
}

/** Scatter plot of the customers on a 2-D map, one colour per segment, noise (or the outliers, by `noiseName`) in grey, beneath. */
export function segmentMapChart(input: SegmentMapInput): TopLevelSpec {
  const { labels, method } = input;
  const n = labels.length;
  let data: Float64Array;
  let stride: number;
  if (input.x instanceof Float64Array) {
    if (input.x.length !== 2 * n) throw new RangeError(`x has ${input.x.length} values; a flat n × 2 map of ${n} customers needs ${2 * n}`);
    data = input.x;
    stride = 2;
  } else {
    if (input.x.rows !== n || input.x.cols < 2) throw new RangeError(`x is ${input.x.rows} × ${input.x.cols}; a map of ${n} customers needs ${n} × 2`);
    data = input.x.data;
    stride = input.x.cols;
  }
  if (input.ids && input.ids.length !== n) throw new RangeError(`ids has ${input.ids.length} values for ${n} customers`);
  const maxPoints = input.maxPoints ?? 5000;
  const keep = stratifiedSample(labels, maxPoints, input.seed ?? 0);
  const m = keep.length;
  const present = distinctLabels(labels);
  const names = segmentDisplayNames(present, input.segmentNames, input.noiseName);
  const color = segmentColorScale(names);
  const rows: { x: number | null; y: number | null; segment: string; id: string }[] = [];
  // Noise first, so that it is drawn beneath the segments.
  for (const pass of [true, false]) {
    for (const i of keep) {
      if ((labels[i] < 0) !== pass) continue;
      rows.push({
        x: round(data[i * stride]), y: round(data[i * stride + 1]), segment: names.get(labels[i])!,
        id: input.ids ? String(input.ids[i]) : String(i + 1),
      });
    }
  }
  const [xTitle, yTitle] = axisTitles(method, input.explainedVarianceRatio);
  const k = present.filter((l) => l >= 0).length;
  const subtitle = (m < n ? `showing ${formatCount(m)} of ${formatCount(n)} customers (stratified sample: every segment kept)` : `${formatCount(n)} customers`)
    + ` · ${k} segment${k === 1 ? "" : "s"}` + (present[0] < 0 ? (input.noiseName ? " and outliers (grey)" : " and noise") : "");
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  const description = input.description ?? `Scatter plot of ${m < n ? `a stratified sample of ${m} of ${n}` : n} customers on the first two ${method} dimensions, coloured by segment: `
    + present.map((l) => `${names.get(l)} (${formatShare(counts.get(l)! / n)})`).join(", ") + ".";
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? `Customer map (${method})`, subtitle },
    width: input.width ?? 480,
    height: input.height ?? 400,
    data: { values: rows },
    // No ARIA label per point (the chart's description is its text alternative): half the SVG's size.
    mark: { type: "circle", size: m > 3000 ? 10 : m > 1000 ? 16 : 30, opacity: 0.7, aria: false },
    encoding: {
      x: { field: "x", type: "quantitative", title: xTitle, scale: { zero: false, nice: false, padding: 8 }, axis: { grid: false } },
      y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: false, nice: false, padding: 8 }, axis: { grid: false } },
      color: { field: "segment", type: "nominal", title: "segment", scale: color },
      tooltip: [
        { field: "id", type: "nominal", title: input.ids ? "customer" : "row" },
        { field: "segment", type: "nominal", title: "segment" },
      ],
    },
  };
}
