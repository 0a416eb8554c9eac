/**
 * HDBSCAN's membership probabilities as a Vega-Lite histogram: how strongly the customers in
 * segments belong to theirs (1 in a segment's core, lower towards its edge). The outliers
 * (label −1, probability 0) are left out of the bars and counted in the subtitle. The bins are
 * counted here, so the specification stays small at any n.
 */
import type { TopLevelSpec } from "vega-lite";
import { type BaseChartOptions, LINE, SCHEMA, formatCount, formatShare, round } from "./theme.js";

export interface MembershipChartInput extends BaseChartOptions {
  /** Every customer's membership probability, 0..1 (HDBSCAN's `probabilities`). */
  probabilities: ArrayLike<number>;
  /** Every customer's segment (−1: an outlier, left out of the bars). */
  labels: ArrayLike<number>;
  /** Equal-width bins over 0..1 (default 20). */
  bins?: number;
}

/** The histogram of the membership probabilities of the customers in segments. */
export function membershipChart(input: MembershipChartInput): TopLevelSpec {
  const { probabilities, labels } = input;
  const n = labels.length;
  if (probabilities.length !== n) throw new RangeError(`probabilities has ${probabilities.length} values for ${n} labels`);
  const bins = input.bins ?? 20;
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`bins must be a whole number ≥ 1, got ${bins}`);
  const counts = new Float64Array(bins);
  let inSegments = 0;
  let outliers = 0;
  let below = 0;
  let full = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) {
      outliers++;
      continue;
    }
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1)) throw new RangeError(`membership probabilities must be in 0..1; customer ${i + 1} has ${p}`);
    inSegments++;
    counts[Math.min(bins - 1, Math.floor(p * bins))]++;
    if (p < 0.5) below++;
    if (p === 1) full++;
  }
  const rows = Array.from(counts, (count, b) => ({ from: round(b / bins)!, to: round((b + 1) / bins)!, count }));
  const share = (x: number): string => formatShare(inSegments ? x / inSegments : 0);
  const summary = `${formatCount(inSegments)} customers in segments: ${share(full)} with membership 1 (a segment's core), ${share(below)} below 0.5 (at a segment's edge)`;
  const description = input.description ?? `Histogram of the membership probabilities of ${summary}`
    + (outliers ? `; the ${outliers} outliers (membership 0, in no segment) are left out.` : ".");
  return {
    $schema: SCHEMA,
    description,
    title: {
      text: input.title ?? "How strongly customers belong to their segment",
      subtitle: `${summary}` + (outliers ? ` · ${formatCount(outliers)} outliers left out` : ""),
    },
    width: input.width ?? 420,
    height: input.height ?? 220,
    data: { values: rows },
    mark: { type: "bar", color: LINE, binSpacing: 1 },
    encoding: {
      x: { field: "from", type: "quantitative", bin: { binned: true, step: 1 / bins }, title: "membership probability", scale: { domain: [0, 1] } },
      x2: { field: "to" },
      y: { field: "count", type: "quantitative", title: "customers" },
      tooltip: [
        { field: "from", type: "quantitative", title: "from", format: ".2f" },
        { field: "to", type: "quantitative", title: "to", format: ".2f" },
        { field: "count", type: "quantitative", title: "customers", format: "," },
      ],
    },
  };
}
