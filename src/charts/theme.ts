/**
 * What the charts share: the Vega-Lite schema, the line and mark colours, and the categorical
 * palette of segments. A segment's colour depends only on its label (label i gets
 * SEGMENT_PALETTE[i mod its length]; noise, label −1, is grey), so a segment has the same
 * colour in the map, the silhouette plot, the snake plot and the sizes chart.
 */

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** The colour of single-series lines and bars. */
export const LINE = "#4c78a8";
/** The colour of highlights: chosen k, average rules. */
export const MARK = "#e45756";
/** The colour and default display name of noise points (label −1). */
export const NOISE_COLOR = "#b0b0b0";
export const NOISE_NAME = "noise";
/**
 * What a chart calls noise when it is told the customers who fit no segment are outliers but
 * not their name (`noiseName: true`); a given name (the profile's "Outliers: …") is used as it is.
 */
export const OUTLIERS_NAME = "Outliers";

/**
 * The display name of label −1: NOISE_NAME by default, OUTLIERS_NAME for `true`, the given
 * name for a non-empty string.
 */
export function noiseDisplayName(noiseName?: string | boolean): string {
  if (typeof noiseName === "string" && noiseName.trim() !== "") return noiseName;
  return noiseName === true ? OUTLIERS_NAME : NOISE_NAME;
}

/**
 * Twenty well-separated colours without greys (Tableau 10 without its grey, then the
 * darker and lighter members of Tableau 20 and a few more), so that grey means noise only.
 */
export const SEGMENT_PALETTE: readonly string[] = [
  "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
  "#17becf", "#9ecae9", "#ffbf79", "#88d27a", "#ff9d98", "#bcbd22", "#d6a5c9", "#8c6d31", "#393b79",
  "#637939", "#843c39",
];

/** The colour of segment label `label` (grey for noise, −1). */
export function segmentColor(label: number): string {
  if (label < 0) return NOISE_COLOR;
  return SEGMENT_PALETTE[label % SEGMENT_PALETTE.length];
}

/**
 * The display name of every label in `labels` (the distinct labels, in any order): the
 * given name of label i (`names[i]`), else "Segment i"; noise is `noiseDisplayName(noiseName)`
 * ("noise" by default; the outliers' name when given). Names that come out equal (two segments
 * both named "Champions") get " (2)", " (3)", ... so that each label keeps its own legend entry
 * and colour; noise keeps its name.
 */
export function segmentDisplayNames(labels: readonly number[], names?: readonly (string | null | undefined)[], noiseName?: string | boolean): Map<number, string> {
  const out = new Map<number, string>();
  const used = new Set<string>();
  for (const label of [...labels].sort((a, b) => a - b)) {
    const given = label < 0 ? noiseDisplayName(noiseName) : names?.[label];
    const base = typeof given === "string" && given.trim() !== "" ? given : `Segment ${label}`;
    let name = base;
    for (let j = 2; used.has(name); j++) name = `${base} (${j})`;
    used.add(name);
    out.set(label, name);
  }
  return out;
}

/**
 * The colour scale of segments for a Vega-Lite `color` channel: the display names in label
 * order (noise last) as the domain and their colours as the range.
 */
export function segmentColorScale(names: Map<number, string>): { domain: string[]; range: string[] } {
  const labels = [...names.keys()].sort((a, b) => (a < 0 ? 1 : 0) - (b < 0 ? 1 : 0) || a - b);
  return { domain: labels.map((l) => names.get(l)!), range: labels.map(segmentColor) };
}

/** The distinct values of an integer array, increasing. */
export function distinctLabels(labels: ArrayLike<number>): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < labels.length; i++) seen.add(labels[i]);
  return [...seen].sort((a, b) => a - b);
}

/** `x` rounded to `digits` significant digits, for compact chart data (NaN/±∞ become null). */
export function round(x: number, digits = 6): number | null {
  if (!Number.isFinite(x)) return null;
  return x === 0 ? 0 : Number(x.toPrecision(digits));
}

/** A whole number with thousands separators ("12,345"), the same in every locale. */
export function formatCount(n: number): string {
  const s = String(Math.round(Math.abs(n)));
  return (n < 0 ? "−" : "") + s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A share as a percentage with one decimal ("12.3%"), or "<0.1%" for small non-zero shares. */
export function formatShare(share: number): string {
  if (!Number.isFinite(share)) return "–";
  if (share > 0 && share < 0.0005) return "<0.1%";
  return `${(share * 100).toFixed(1)}%`;
}

/** The options every chart takes. */
export interface BaseChartOptions {
  /** Plot width and height in pixels. */
  width?: number;
  height?: number;
  title?: string;
  /** A text alternative for the chart (Vega-Lite's top-level `description`). */
  description?: string;
}

/** The option of charts that draw noise (label −1). */
export interface NoiseNameOption {
  /**
   * What noise (label −1) is called: "noise" by default; `true` for "Outliers"; a string for
   * the outliers' name (the profile's "Outliers: …"). Always grey.
   */
  noiseName?: string | boolean;
}
