/**
 * The silhouette plot as in scikit-learn's example "Selecting the number of clusters with
 * silhouette analysis": each segment's silhouette values, sorted, drawn as horizontal bars
 * stacked in a block as tall as the segment (at least 3% of the plot, so that a tiny segment
 * stays readable), blocks separated by gaps, with a dashed vertical
 * line at the average silhouette. Segment 0 is at the top; within a block the largest value
 * is at the top, as in scikit-learn's figure.
 *
 * The bars of a block are drawn as one filled area (a step curve through the sorted values),
 * so the SVG stays small; at large n each block keeps evenly spaced order statistics of its
 * values (the smallest and the largest always), each standing for the customers up to the
 * next one, so the shape and the block heights stay true.
 *
 * Noise (label −1): by default drawn last, in grey, as one more group (for silhouettes
 * computed with the noise as a group); with `noise: "omit"` left out, as the customers who
 * fit no segment are in no segment's silhouette, and the subtitle and text alternative say
 * how many were left out.
 */
import type { TopLevelSpec } from "vega-lite";
import { allocateSample, quantilePositions } from "./sample.js";
import {
  type BaseChartOptions, MARK, type NoiseNameOption, SCHEMA, distinctLabels, formatCount, round, segmentColorScale, segmentDisplayNames,
} from "./theme.js";

export interface SilhouettePlotInput extends BaseChartOptions, NoiseNameOption {
  /** The silhouette of every customer (as from silhouetteSamples). */
  samples: ArrayLike<number>;
  /** The segment of every customer (−1 is noise, drawn last in grey). */
  labels: ArrayLike<number>;
  segmentNames?: readonly string[];
  /** The average silhouette (the silhouette score), drawn as a dashed vertical line. */
  average: number;
  /** At most this many values are drawn in all (default 2000). */
  maxPoints?: number;
  /**
   * Noise rows (label −1): "group" (default) draws them last in grey as one more group;
   * "omit" leaves them out (their samples are not read) and says so.
   */
  noise?: "group" | "omit";
}

/** One point of a block's outline: the customers from rank `y` on have silhouette `s`. */
interface Row {
  segment: string;
  y: number;
  s: number;
}

/** The silhouette plot; non-finite silhouettes are left out. */
export function silhouettePlotChart(input: SilhouettePlotInput): TopLevelSpec {
  const { samples, labels, average } = input;
  const n = labels.length;
  if (samples.length !== n) throw new RangeError(`samples has ${samples.length} values for ${labels.length} labels`);
  const omit = input.noise === "omit";
  let omitted = 0;
  if (omit) for (let i = 0; i < n; i++) if (labels[i] < 0) omitted++;
  const present = distinctLabels(labels).filter((l) => !omit || l >= 0);
  const names = segmentDisplayNames(present, input.segmentNames, input.noiseName);
  const order = [...present.filter((l) => l >= 0), ...present.filter((l) => l < 0)];
  const values = new Map<number, number[]>(order.map((l) => [l, []]));
  for (let i = 0; i < n; i++) if (!(omit && labels[i] < 0) && Number.isFinite(samples[i])) values.get(labels[i])!.push(samples[i]);
  for (const v of values.values()) v.sort((a, b) => b - a); // decreasing: the largest at the top of the block
  const total = order.reduce((a, l) => a + values.get(l)!.length, 0);
  const kept = allocateSample(order.map((l) => values.get(l)!.length), input.maxPoints ?? 2000);
  const gap = Math.max(2, Math.ceil(total * 0.02));
  // A block is at least 3% of the whole tall, so that a tiny segment's label stays readable.
  const minHeight = Math.ceil(total * 0.03);
  const rows: Row[] = [];
  const blocks: { segment: string; mid: number; text: string }[] = [];
  let lo = Infinity;
  let top = 0;
  order.forEach((l, g) => {
    const v = values.get(l)!;
    const segment = names.get(l)!;
    if (v.length === 0) return;
    const positions = quantilePositions(v.length, kept[g]);
    const height = Math.max(v.length, minHeight);
    const unit = height / v.length;
    for (const p of positions) rows.push({ segment, y: round(top + p * unit)!, s: round(v[p])! });
    // The last value also covers the block's last customers: close the step at the block's end.
    rows.push({ segment, y: top + height, s: round(v[positions[positions.length - 1]])! });
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    blocks.push({ segment, mid: top + height / 2, text: `${segment} (${mean.toFixed(2)})` });
    lo = Math.min(lo, v[v.length - 1]);
    top += height + gap;
  });
  const xMin = Math.min(-0.1, Math.floor((Number.isFinite(lo) ? lo : 0) * 10) / 10);
  const yMax = Math.max(1, top - gap);
  const color = segmentColorScale(names);
  const shown = rows.length - blocks.length;
  const subtitle = `${formatCount(total)} customers` + (shown < total ? ` (the outline of each segment from ${formatCount(shown)} evenly spaced values)` : "")
    + ` · average ${average.toFixed(3)}; each segment's mean in brackets`
    + (omitted ? ` · ${formatCount(omitted)} ${input.noiseName ? "outliers" : "noise customers"} left out (in no segment)` : "");
  const description = input.description ?? `Silhouette plot of ${total} customers in ${blocks.length} groups; average silhouette ${average.toFixed(3)}. `
    + blocks.map((b) => b.text).join(", ") + "."
    + (omitted ? ` The ${omitted} customers who fit no segment (${input.noiseName ? "the outliers" : "noise"}) are left out: they are in no segment's silhouette.` : "");
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Silhouette of each customer, by segment", subtitle },
    width: input.width ?? 420,
    height: input.height ?? Math.min(600, Math.max(240, 60 * blocks.length)),
    layer: [
      {
        data: { values: rows },
        mark: { type: "area", orient: "horizontal", interpolate: "step-after", opacity: 0.85 },
        encoding: {
          y: { field: "y", type: "quantitative", scale: { domain: [0, yMax], reverse: true, nice: false, zero: false }, axis: null },
          x: {
            field: "s", type: "quantitative", title: "silhouette coefficient", scale: { domain: [xMin, 1], nice: false },
            stack: null,
          },
          x2: { datum: 0 },
          color: { field: "segment", type: "nominal", title: "segment", scale: color },
          tooltip: [{ field: "segment", type: "nominal" }, { field: "s", type: "quantitative", title: "silhouette", format: ".3f" }],
        },
      },
      {
        data: { values: blocks },
        mark: { type: "text", align: "right", baseline: "middle", dx: -6, fontSize: 11, limit: 300 },
        encoding: {
          y: { field: "mid", type: "quantitative" },
          x: { datum: xMin, type: "quantitative" },
          text: { field: "text" },
        },
      },
      ...(Number.isFinite(average)
        ? [
          {
            data: { values: [{}] },
            mark: { type: "rule" as const, color: MARK, strokeDash: [5, 4], strokeWidth: 1.5 },
            encoding: { x: { datum: average, type: "quantitative" as const } },
          },
          {
            data: { values: [{}] },
            mark: { type: "text" as const, color: MARK, align: "center" as const, baseline: "bottom" as const, y: -3, fontSize: 11 },
            encoding: { x: { datum: average, type: "quantitative" as const }, text: { value: `average ${average.toFixed(3)}` } },
          },
        ]
        : []),
    ],
  };
}
