/**
 * Charts of density-based segmentation as Vega-Lite specifications (pure functions returning
 * plain JSON): the k-distance curve that eps is chosen from, and OPTICS' reachability plot.
 */
import type { TopLevelSpec } from "vega-lite";
import { type BaseChartOptions, distinctLabels, formatCount, LINE, MARK, round, SCHEMA, segmentColorScale, segmentDisplayNames } from "./theme.js";

export interface KDistanceChartInput {
  /**
   * The sorted k-distances: the whole curve, or a sample of it in order. A sample's x
   * positions are `positions` when given, else taken as evenly spaced over `rows` rows.
   */
  distances: ArrayLike<number>;
  /** Position (0 … rows − 1) of each value of `distances` in the whole sorted curve. */
  positions?: ArrayLike<number> | null;
  /** Rows of the whole curve; default distances.length. */
  rows?: number;
  /** The chosen point: its position in the whole curve and eps; null when there is none to mark. */
  knee: { index: number; eps: number; found?: boolean } | null;
  minSamples: number;
}

/** Points drawn at most; a longer curve is sampled evenly (the knee kept). */
const MAX_POINTS = 1000;

/**
 * The sorted k-distance curve (distance of each customer to its minSamples-th nearest
 * neighbour, itself the first) against the share of customers, with the chosen eps marked by
 * a horizontal rule at eps and a vertical one at the knee, labelled "eps = …".
 */
export function kDistanceChart(input: KDistanceChartInput, options: BaseChartOptions = {}): TopLevelSpec {
  const m = input.distances.length;
  const rows = input.rows ?? m;
  const at = (t: number): number => {
    if (input.positions) return input.positions[t];
    return m <= 1 ? 0 : Math.round((t * (rows - 1)) / (m - 1));
  };
  const share = (pos: number): number => (rows <= 1 ? 0 : pos / (rows - 1));
  // Keep at most MAX_POINTS points, evenly spaced, always the ends.
  const picks: number[] = [];
  const step = m > MAX_POINTS ? (m - 1) / (MAX_POINTS - 1) : 1;
  for (let t = 0; t < Math.min(m, MAX_POINTS); t++) {
    const idx = Math.round(t * step);
    if (picks.length === 0 || picks[picks.length - 1] !== idx) picks.push(idx);
  }
  const values = picks.map((t) => ({ share: round(share(at(t)), 6), distance: round(input.distances[t], 6), rank: at(t) + 1 }));
  const knee = input.knee;
  const kth = ordinal(input.minSamples);
  const subtitle = knee
    ? `${knee.found === false ? "no clear knee: eps from a high quantile" : "eps at the knee of the curve"}: eps = ${round(knee.eps, 4)}; customers left of it are cores`
    : "no eps marked";
  const layer: unknown[] = [
    {
      mark: { type: "line", color: LINE, interpolate: "step-after" },
      encoding: {
        x: { field: "share", type: "quantitative", title: `customers, sorted by that distance (${formatCount(rows)})`, axis: { format: ".0%" }, scale: { domain: [0, 1], nice: false } },
        y: { field: "distance", type: "quantitative", title: `distance to the ${kth} nearest neighbour` },
        tooltip: [
          { field: "rank", type: "quantitative", title: "customer (sorted)", format: "," },
          { field: "distance", type: "quantitative", format: ".4~g" },
        ],
      },
    },
  ];
  if (knee) {
    const x = round(share(knee.index), 6);
    layer.push(
      { mark: { type: "rule", color: MARK, strokeDash: [4, 3] }, encoding: { y: { datum: round(knee.eps, 6), type: "quantitative" } } },
      { mark: { type: "rule", color: MARK, strokeDash: [4, 3] }, encoding: { x: { datum: x, type: "quantitative" } } },
      {
        mark: { type: "text", color: MARK, align: "right", baseline: "bottom", dx: -4, dy: -4, fontSize: 11 },
        encoding: {
          x: { datum: x, type: "quantitative" },
          y: { datum: round(knee.eps, 6), type: "quantitative" },
          text: { value: `eps = ${round(knee.eps, 4)}` },
        },
      },
      {
        mark: { type: "point", shape: "circle", size: 120, color: MARK, filled: false, strokeWidth: 2 },
        encoding: { x: { datum: x, type: "quantitative" }, y: { datum: round(knee.eps, 6), type: "quantitative" } },
      },
    );
  }
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? `Distance to the ${kth} nearest neighbour, sorted (k-distance curve)`, subtitle },
    ...(options.description ? { description: options.description } : {}),
    width: options.width ?? 480,
    height: options.height ?? 260,
    data: { values },
    layer,
  } as TopLevelSpec;
}

export interface ReachabilityChartInput {
  /** Row numbers in OPTICS' processing order. */
  ordering: ArrayLike<number>;
  /** Reachability of each row (by row number; Infinity where nothing reached it). */
  reachability: ArrayLike<number>;
  /** Segment of each row (by row number), −1 for noise. */
  labels: ArrayLike<number>;
  /** Display names of the segments by label. */
  names?: readonly (string | null | undefined)[];
  /** What noise (−1) is called: "noise" by default, "Outliers" for true, or the outliers' name (see theme.ts). */
  noiseName?: string | boolean;
}

/** Bars drawn at most; longer plots are drawn in groups of consecutive rows (each the group's highest bar). */
const MAX_BARS = 2000;

/**
 * OPTICS' reachability plot: one bar per customer in processing order, as high as its
 * reachability distance, coloured by segment (noise grey). Valleys are segments. Infinite
 * reachabilities (the first row of each separate region) are drawn at the top, capped at
 * 1.1 × the largest finite value, hatched by a lighter opacity, and the subtitle says so.
 * Plots of more than 2,000 rows are drawn in groups of consecutive rows, each at its highest
 * reachability and in the colour of its most common segment.
 */
export function reachabilityChart(input: ReachabilityChartInput, options: BaseChartOptions = {}): TopLevelSpec {
  const n = input.ordering.length;
  let maxFinite = 0;
  let nInf = 0;
  for (let t = 0; t < n; t++) {
    const r = input.reachability[input.ordering[t]];
    if (Number.isFinite(r)) maxFinite = Math.max(maxFinite, r);
    else nInf++;
  }
  const cap = maxFinite > 0 ? maxFinite * 1.1 : 1;
  const labelsInPlot: number[] = [];
  for (let t = 0; t < n; t++) labelsInPlot.push(input.labels[input.ordering[t]]);
  const names = segmentDisplayNames(distinctLabels(labelsInPlot), input.names, input.noiseName);
  const group = Math.max(1, Math.ceil(n / MAX_BARS));
  const values: { position: number; end: number; reachability: number | null; capped: boolean; segment: string }[] = [];
  for (let start = 0; start < n; start += group) {
    const end = Math.min(n, start + group);
    let high = -Infinity;
    const counts = new Map<number, number>();
    for (let t = start; t < end; t++) {
      const r = input.reachability[input.ordering[t]];
      if (r > high) high = r;
      const l = labelsInPlot[t];
      counts.set(l, (counts.get(l) ?? 0) + 1);
    }
    let label = labelsInPlot[start];
    let best = 0;
    for (const [l, c] of [...counts.entries()].sort((a, b) => a[0] - b[0])) {
      if (c > best) {
        best = c;
        label = l;
      }
    }
    const capped = !Number.isFinite(high);
    values.push({ position: start, end, reachability: round(capped ? cap : high, 6), capped, segment: names.get(label)! });
  }
  const scale = segmentColorScale(names);
  const notes = [
    `${formatCount(n)} customers in OPTICS order; valleys are segments`,
    ...(nInf > 0 ? [`${formatCount(nInf)} ${nInf === 1 ? "reachability is" : "reachabilities are"} infinite (nothing reached ${nInf === 1 ? "that customer" : "those customers"} first), drawn faded at the top under ∞`] : []),
    ...(group > 1 ? [`each bar the highest of ${group} consecutive customers`] : []),
  ];
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? "Reachability plot (OPTICS)", subtitle: notes },
    ...(options.description ? { description: options.description } : {}),
    width: options.width ?? 560,
    height: options.height ?? 260,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "position", type: "quantitative", title: "customers in processing order", axis: { format: ",d" }, scale: { domain: [0, Math.max(1, n)], nice: false } },
          x2: { field: "end" },
          y: { field: "reachability", type: "quantitative", title: "reachability distance", scale: { domain: [0, round(cap, 6)], nice: false } },
          y2: { datum: 0 },
          color: { field: "segment", type: "nominal", title: "segment", scale: { domain: scale.domain, range: scale.range } },
          opacity: { condition: { test: "datum.capped", value: 0.45 }, value: 1 },
          tooltip: [
            { field: "position", type: "quantitative", title: "position", format: "," },
            { field: "reachability", type: "quantitative", format: ".4~g" },
            { field: "segment", type: "nominal" },
            { field: "capped", type: "nominal", title: "infinite (capped)" },
          ],
        },
      },
      {
        transform: [{ filter: "datum.capped" }],
        mark: { type: "text", text: "∞", baseline: "bottom", dy: -1, fontSize: 12, color: "#666" },
        encoding: {
          x: { field: "position", type: "quantitative" },
          y: { field: "reachability", type: "quantitative" },
        },
      },
    ],
  } as TopLevelSpec;
}

function ordinal(k: number): string {
  const mod100 = k % 100;
  const suffix = mod100 >= 11 && mod100 <= 13 ? "th" : k % 10 === 1 ? "st" : k % 10 === 2 ? "nd" : k % 10 === 3 ? "rd" : "th";
  return `${k}${suffix}`;
}
