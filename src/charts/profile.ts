/**
 * Segment profiles as Vega-Lite specifications: a heatmap of each segment's difference from
 * the population per feature (in standard units, a diverging colour scale centred at 0), and
 * the snake plot of the same numbers (one line per segment across the features).
 *
 * An outliers row (the customers who fit no segment, profiled as a group: segmentLabels −1)
 * may be added: it is drawn last, framed by a grey dashed border in the heatmap and as a grey
 * dashed line in the snake plot, and the subtitle says what it is.
 */
import type { TopLevelSpec } from "vega-lite";
import { type BaseChartOptions, NOISE_COLOR, SCHEMA, round, segmentColor } from "./theme.js";

export interface ProfileChartInput extends BaseChartOptions {
  /** Segment names, one per row of `values` (duplicates get " (2)", ...). */
  segments: readonly string[];
  /** Feature names, one per column of `values`. */
  features: readonly string[];
  /** values[s][f]: segment s's difference from the population on feature f, in standard units. */
  values: readonly (readonly number[])[];
  /** labels[s][f]: the raw value behind it (the segment's mean), shown in the tooltip. */
  labels?: readonly (readonly number[])[];
  /**
   * The segments' labels, for their colours in the snake plot (default 0, 1, 2, ...). A row
   * labelled −1 is the outliers' (the customers who fit no segment): drawn last, grey and dashed.
   */
  segmentLabels?: readonly number[];
  /** What the heatmap cells show: the difference (default) or the raw value from `labels`. */
  cellText?: "difference" | "label";
}

interface Cell {
  segment: string;
  feature: string;
  value: number | null;
  text: string;
  mean: number | null;
  /** Only when the input has an outliers row: whether this cell is in it. */
  outliers?: boolean;
}

/** Names made unique by suffixes " (2)", " (3)", ... in order of appearance. */
function unique(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((base) => {
    let name = base;
    for (let j = 2; used.has(name); j++) name = `${base} (${j})`;
    used.add(name);
    return name;
  });
}

/** "+1.23" / "−0.40" / "0.00"; "–" when missing. */
function signed(v: number | null): string {
  if (v === null) return "–";
  const s = Math.abs(v).toFixed(2);
  return s === "0.00" ? s : (v > 0 ? "+" : "−") + s;
}

/** A raw value with about four significant digits and thousands separators. */
function plain(v: number | null): string {
  if (v === null) return "–";
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
  const s = a.toFixed(digits);
  const [whole, frac] = s.split(".");
  return (v < 0 ? "−" : "") + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (frac ? "." + frac : "");
}

/**
 * The input with its outliers rows (segmentLabels −1) moved last, the others in their order;
 * the input itself when it has none.
 */
function outliersLast(input: ProfileChartInput): { input: ProfileChartInput; outliers: number } {
  const codes = input.segmentLabels;
  if (!codes || codes.length !== input.segments.length) return { input, outliers: 0 };
  const outliers = codes.filter((l) => l < 0).length;
  if (!outliers) return { input, outliers: 0 };
  const order = codes.map((_, i) => i).sort((a, b) => (codes[a] < 0 ? 1 : 0) - (codes[b] < 0 ? 1 : 0) || a - b);
  return {
    input: {
      ...input,
      segments: order.map((i) => input.segments[i]),
      values: order.map((i) => input.values[i]),
      labels: input.labels && input.labels.length === input.segments.length ? order.map((i) => input.labels![i]) : input.labels,
      segmentLabels: order.map((i) => codes[i]),
    },
    outliers,
  };
}

function cells(input: ProfileChartInput): { segments: string[]; features: string[]; rows: Cell[]; maxAbs: number; outliers: string[] } {
  const { values, labels } = input;
  if (values.length !== input.segments.length) throw new RangeError(`values has ${values.length} rows for ${input.segments.length} segments`);
  if (labels && labels.length !== input.segments.length) throw new RangeError(`labels has ${labels.length} rows for ${input.segments.length} segments`);
  const segments = unique(input.segments);
  const features = unique(input.features);
  const codes = input.segmentLabels?.length === segments.length ? input.segmentLabels : null;
  const marked = codes !== null && codes.some((l) => l < 0);
  const rows: Cell[] = [];
  let maxAbs = 0;
  segments.forEach((segment, s) => {
    if (values[s].length !== features.length) throw new RangeError(`values row ${s} has ${values[s].length} values for ${features.length} features`);
    features.forEach((feature, f) => {
      const value = round(values[s][f], 4);
      const mean = labels ? round(labels[s][f], 6) : null;
      if (value !== null) maxAbs = Math.max(maxAbs, Math.abs(value));
      const cell: Cell = { segment, feature, value, mean, text: input.cellText === "label" && labels ? plain(mean) : signed(value) };
      if (marked) cell.outliers = codes[s] < 0;
      rows.push(cell);
    });
  });
  return { segments, features, rows, maxAbs, outliers: marked ? segments.filter((_, s) => codes[s] < 0) : [] };
}

/** The subtitle's note on the outliers row, when there is one. */
function outliersNote(outliers: string[], how: string): string[] {
  return outliers.length ? [`${how}: ${outliers.join(", ")}, the customers who fit no segment`] : [];
}

function tooltip(withMean: boolean) {
  return [
    { field: "segment", type: "nominal" as const },
    { field: "feature", type: "nominal" as const },
    { field: "value", type: "quantitative" as const, title: "difference (standard units)", format: "+.2f" },
    ...(withMean ? [{ field: "mean", type: "quantitative" as const, title: "segment mean", format: ",.4~g" }] : []),
  ];
}

/**
 * Heatmap of segments (rows) × features (columns), each cell coloured by the segment's
 * difference from the population (blue below, red above, white at 0; the scale symmetric
 * about 0) and annotated with it (or with the raw value when `cellText` is "label").
 */
export function profileHeatmapChart(given: ProfileChartInput): TopLevelSpec {
  const { input } = outliersLast(given);
  const { segments, features, rows, maxAbs, outliers } = cells(input);
  const m = maxAbs > 0 ? maxAbs : 1;
  // Cells of 24 to 64 pixels: up to 30 features (the report's most) the chart, with its labels and legend, fits a report page.
  const cell = Math.max(24, Math.min(64, Math.floor(640 / Math.max(1, features.length))));
  const description = input.description ?? `Heatmap of ${segments.length} segments by ${features.length} features: each cell is the segment's difference from the population in standard units. `
    + segments.map((seg) => {
      const own = rows.filter((r) => r.segment === seg && r.value !== null).sort((a, b) => Math.abs(b.value!) - Math.abs(a.value!)).slice(0, 3);
      return `${seg}: ` + (own.length ? own.map((r) => `${r.feature} ${signed(r.value)}`).join(", ") : "no values");
    }).join("; ") + "." + (outliers.length ? ` The last row (dashed border) is the outliers, who fit no segment: ${outliers.join(", ")}.` : "");
  const subtitle = ["difference from the population in standard units (0 = population average)", ...outliersNote(outliers, "dashed grey border")];
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Segment profiles", subtitle: subtitle.length > 1 ? subtitle : subtitle[0] },
    width: input.width ?? cell * features.length,
    height: input.height ?? 34 * segments.length,
    data: { values: rows },
    encoding: {
      x: { field: "feature", type: "nominal", title: "feature", scale: { domain: features }, axis: { labelAngle: features.length > 6 ? -40 : 0, labelLimit: 140 } },
      y: { field: "segment", type: "nominal", title: "segment", scale: { domain: segments }, axis: { labelLimit: 200 } },
    },
    layer: [
      {
        // Missing values stay as grey cells rather than disappearing.
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 1, invalid: "show" },
        encoding: {
          color: {
            condition: { test: "!isValid(datum.value) || !isFinite(datum.value)", value: "#e8e8e8" },
            field: "value", type: "quantitative", title: "difference (sd)",
            scale: { scheme: "redblue", reverse: true, domain: [-m, m], domainMid: 0 },
            legend: { format: "+.1f" },
          },
          tooltip: tooltip(input.labels !== undefined),
        },
      },
      {
        mark: { type: "text", fontSize: cell < 28 ? 8.5 : 10, baseline: "middle" },
        encoding: {
          text: { field: "text" },
          color: { condition: { test: `datum.value !== null && abs(datum.value) > ${0.6 * m}`, value: "#ffffff" }, value: "#222222" },
          tooltip: tooltip(input.labels !== undefined),
        },
      },
      // The outliers' row: a grey dashed frame around each of its cells.
      ...(outliers.length
        ? [{
          transform: [{ filter: "datum.outliers" }],
          mark: { type: "rect" as const, filled: false, stroke: NOISE_COLOR, strokeWidth: 2.5, strokeDash: [4, 3] },
        }]
        : []),
    ],
  };
}

/** The snake plot's default width at most, in pixels: with its axis and legend it fits a report page. */
export const SNAKE_MAX_WIDTH = 720;

export interface SnakePlotInput extends ProfileChartInput {
  /**
   * At most this many features are drawn (default 12): above it, those on which some segment
   * differs most from the population (largest |difference|), kept in their given order, and
   * the subtitle says how many of how many are shown.
   */
  maxFeatures?: number;
}

/**
 * The features a snake plot keeps: all when there are at most `max`; otherwise the `max`
 * with the largest difference of any segment from the population (ties to the earlier
 * feature), in their given order.
 */
export function snakeFeatures(values: readonly (readonly number[])[], nFeatures: number, max: number): number[] {
  const all = Array.from({ length: nFeatures }, (_, f) => f);
  if (nFeatures <= max) return all;
  const spread = all.map((f) => {
    let m = 0;
    for (const row of values) if (Number.isFinite(row[f])) m = Math.max(m, Math.abs(row[f]));
    return m;
  });
  const keep = [...all].sort((a, b) => spread[b] - spread[a] || a - b).slice(0, Math.max(1, max));
  return keep.sort((a, b) => a - b);
}

/**
 * The snake plot: one line per segment across the features (in the given order) at its
 * difference from the population, with the population (0) as a grey rule. It fits a report
 * page: at most `maxFeatures` features (the most distinguishing ones), at most
 * SNAKE_MAX_WIDTH pixels wide, with slanted labels.
 */
export function snakePlotChart(given: SnakePlotInput): TopLevelSpec {
  const input: SnakePlotInput = { ...given, ...outliersLast(given).input };
  const max = input.maxFeatures ?? 12;
  if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxFeatures must be a whole number ≥ 1, got ${max}`);
  // Checks the shapes (and makes the names unique) before the selection.
  cells(input);
  const keep = snakeFeatures(input.values, input.features.length, max);
  const limited = keep.length < input.features.length;
  const picked: ProfileChartInput = limited
    ? {
      ...input,
      features: keep.map((f) => input.features[f]),
      values: input.values.map((row) => keep.map((f) => row[f])),
      labels: input.labels?.map((row) => keep.map((f) => row[f])),
    }
    : input;
  const { segments, features, rows, outliers } = cells(picked);
  const codes = input.segmentLabels ?? segments.map((_, i) => i);
  if (codes.length !== segments.length) throw new RangeError(`segmentLabels has ${codes.length} values for ${segments.length} segments`);
  const total = input.features.length;
  const description = input.description ?? `Snake plot: the difference from the population (standard units) of ${segments.length} segments across ${features.length} features`
    + (limited ? `, the ${features.length} of ${total} on which the segments differ most` : "") + ` (${features.join(", ")}).`
    + (outliers.length ? ` The grey dashed line is the outliers, who fit no segment: ${outliers.join(", ")}.` : "");
  const lines = limited
    ? [`the ${features.length} of ${total} features on which some segment differs most from the population`, "difference in standard units (0 = population average)"]
    : ["difference from the population in standard units (0 = population average)"];
  lines.push(...outliersNote(outliers, "grey dashed line"));
  const subtitle = lines.length > 1 ? lines : lines[0];
  const slant = features.length > 5 || features.some((f) => f.length > 12);
  return {
    $schema: SCHEMA,
    description,
    title: { text: input.title ?? "Snake plot of segment profiles", subtitle },
    width: input.width ?? Math.min(SNAKE_MAX_WIDTH, Math.max(320, 60 * features.length)),
    height: input.height ?? 280,
    layer: [
      {
        data: { values: [{}] },
        mark: { type: "rule", color: "#888888", strokeDash: [2, 2] },
        encoding: { y: { datum: 0, type: "quantitative" } },
      },
      {
        data: { values: rows.filter((r) => r.value !== null) },
        mark: { type: "line", point: { filled: true, size: 40 }, strokeWidth: 2 },
        encoding: {
          x: { field: "feature", type: "nominal", title: "feature", scale: { domain: features }, axis: { labelAngle: slant ? -40 : 0, labelLimit: 130 } },
          y: { field: "value", type: "quantitative", title: "difference from the population (sd)" },
          color: { field: "segment", type: "nominal", title: "segment", scale: { domain: segments, range: codes.map(segmentColor) }, legend: { labelLimit: 160 } },
          ...(outliers.length
            ? { strokeDash: { field: "outliers", type: "nominal" as const, scale: { domain: [false, true], range: [[1, 0], [5, 4]] }, legend: null } }
            : {}),
          tooltip: tooltip(input.labels !== undefined),
        },
      },
    ],
  };
}
