/**
 * Segment sizes as a Vega-Lite specification: one horizontal bar per segment, in the given
 * order (noise, label −1, last and grey), labelled with its count and its share of all customers.
 */
import type { TopLevelSpec } from "vega-lite";
import { type BaseChartOptions, type NoiseNameOption, SCHEMA, formatCount, formatShare, segmentColor } from "./theme.js";

export interface SegmentSizesInput extends BaseChartOptions {
  /** Segment names, in the order the bars are drawn (duplicates get " (2)", ...). */
  segments: readonly string[];
  /** The number of customers of each segment. */
  sizes: readonly number[];
  /** The segments' labels, for their colours (default 0, 1, 2, ...; −1 is noise, grey, drawn last). */
  labels?: readonly number[];
  /** Set when the noise bar is the outliers' (its name is in `segments`): the titles say "the outliers" instead of "noise". */
  noiseName?: NoiseNameOption["noiseName"];
}

/** Horizontal bars of segment sizes with "count (share)" beside each; noise last, grey. */
export function segmentSizesChart(input: SegmentSizesInput): TopLevelSpec {
  if (input.sizes.length !== input.segments.length) throw new RangeError(`sizes has ${input.sizes.length} values for ${input.segments.length} segments`);
  for (const s of input.sizes) if (!(Number.isFinite(s) && s >= 0)) throw new RangeError(`segment sizes must be counts ≥ 0, got ${s}`);
  const given = input.labels ?? input.sizes.map((_, i) => i);
  if (given.length !== input.sizes.length) throw new RangeError(`labels has ${given.length} values for ${input.sizes.length} segments`);
  // Noise last, the segments in their given order.
  const order = given.map((_, i) => i).sort((a, b) => (given[a] < 0 ? 1 : 0) - (given[b] < 0 ? 1 : 0) || a - b);
  const codes = order.map((i) => given[i]);
  const sizes = order.map((i) => input.sizes[i]);
  const used = new Set<string>();
  const segments = order.map((i) => input.segments[i]).map((base) => {
    let name = base;
    for (let j = 2; used.has(name); j++) name = `${base} (${j})`;
    used.add(name);
    return name;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const rows = segments.map((segment, i) => {
    const share = total > 0 ? sizes[i] / total : 0;
    return { segment, size: sizes[i], share, text: `${formatCount(sizes[i])} (${formatShare(share)})` };
  });
  const max = Math.max(1, ...sizes);
  const k = codes.filter((l) => l >= 0).length;
  const noise = codes.some((l) => l < 0);
  const noiseWords = noise ? (input.noiseName ? " and the outliers" : " and noise") : "";
  const description = input.description ?? `Bar chart of the sizes of ${k} segments${noiseWords}, ${total} customers in all: `
    + rows.map((r) => `${r.segment} ${r.text}`).join(", ") + ".";
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Segment sizes", subtitle: `${formatCount(total)} customers in ${k} segment${k === 1 ? "" : "s"}${noiseWords}` },
    width: input.width ?? 380,
    height: input.height ?? Math.max(60, 28 * segments.length),
    data: { values: rows },
    encoding: {
      y: { field: "segment", type: "nominal", title: null, scale: { domain: segments }, axis: { labelLimit: 220 } },
      // Room on the right for the labels.
      x: { field: "size", type: "quantitative", title: "customers", scale: { domain: [0, max * 1.3], nice: false }, axis: { format: "~s" } },
    },
    layer: [
      {
        mark: { type: "bar", height: { band: 0.75 } },
        encoding: {
          color: { field: "segment", type: "nominal", scale: { domain: segments, range: codes.map(segmentColor) }, legend: null },
          tooltip: [
            { field: "segment", type: "nominal" },
            { field: "size", type: "quantitative", title: "customers", format: "," },
            { field: "share", type: "quantitative", format: ".1%" },
          ],
        },
      },
      {
        mark: { type: "text", align: "left", baseline: "middle", dx: 4, fontSize: 11 },
        encoding: { text: { field: "text" } },
      },
    ],
  };
}
