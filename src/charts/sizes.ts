/**
 * Segment sizes as a Vega-Lite specification: one horizontal bar per segment, in the given
 * order, labelled with its count and its share of all customers.
 */
import type { TopLevelSpec } from "vega-lite";
import { type BaseChartOptions, SCHEMA, formatCount, formatShare, segmentColor } from "./theme.js";

export interface SegmentSizesInput extends BaseChartOptions {
  /** Segment names, in the order the bars are drawn (duplicates get " (2)", ...). */
  segments: readonly string[];
  /** The number of customers of each segment. */
  sizes: readonly number[];
  /** The segments' labels, for their colours (default 0, 1, 2, ...; −1 is noise, grey). */
  labels?: readonly number[];
}

/** Horizontal bars of segment sizes with "count (share)" beside each. */
export function segmentSizesChart(input: SegmentSizesInput): TopLevelSpec {
  const { sizes } = input;
  if (sizes.length !== input.segments.length) throw new RangeError(`sizes has ${sizes.length} values for ${input.segments.length} segments`);
  for (const s of sizes) if (!(Number.isFinite(s) && s >= 0)) throw new RangeError(`segment sizes must be counts ≥ 0, got ${s}`);
  const codes = input.labels ?? sizes.map((_, i) => i);
  if (codes.length !== sizes.length) throw new RangeError(`labels has ${codes.length} values for ${sizes.length} segments`);
  const used = new Set<string>();
  const segments = input.segments.map((base) => {
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
  const description = input.description ?? `Bar chart of the sizes of ${k} segments${noise ? " and noise" : ""}, ${total} customers in all: `
    + rows.map((r) => `${r.segment} ${r.text}`).join(", ") + ".";
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Segment sizes", subtitle: `${formatCount(total)} customers in ${k} segment${k === 1 ? "" : "s"}${noise ? " and noise" : ""}` },
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
