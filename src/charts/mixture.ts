/**
 * Charts of Gaussian mixtures as Vega-Lite specifications (pure functions returning plain
 * JSON): BIC (or AIC) against the number of segments, one line per covariance type as R's
 * mclust draws it; how certain each segment's assignments are (the distribution of the top
 * probability, with the customers "between segments" below 0.6 counted); and the segments'
 * ellipses on the PCA map (the component's mean and covariance projected on the map's two
 * axes), as a layer to put over segmentMapChart's scatter plot.
 */
import type { TopLevelSpec } from "vega-lite";
import type { Matrix } from "../core/matrix.js";
import type { CovarianceType } from "../cluster/mixture/gaussian-mixture.js";
import type { Criterion, MixtureCandidate, MixtureChoice } from "../cluster/mixture/select.js";
import {
  type BaseChartOptions, distinctLabels, formatCount, formatShare, MARK, round, SCHEMA, segmentColor, segmentColorScale, segmentDisplayNames,
} from "./theme.js";

/** What the BIC chart needs of a MixtureSelection. */
export interface MixtureSelectionLike {
  table: readonly MixtureCandidate[];
  best: MixtureChoice;
  byAic: MixtureChoice;
}

/** One colour and point shape per covariance type, the same in every chart. */
export const COVARIANCE_COLORS: Record<CovarianceType, string> = {
  full: "#4c78a8", tied: "#f58518", diag: "#54a24b", spherical: "#b279a2",
};
const COVARIANCE_SHAPES: Record<CovarianceType, string> = {
  full: "circle", tied: "square", diag: "triangle-up", spherical: "diamond",
};

export interface SelectionChartOptions extends BaseChartOptions {
  /** Which criterion to draw (default "bic"). */
  criterion?: Criterion;
}

/**
 * BIC (or AIC) against the number of segments, one line per covariance type (mclust's
 * picture), the recommended (k, type) circled and labelled. Lower is better: scikit-learn's
 * sign, which the subtitle states (mclust plots −BIC, where higher is better). Failed fits
 * (singular covariances) are left out, as mclust leaves them out, and counted in the subtitle.
 */
export function bicChart(selection: MixtureSelectionLike, options: SelectionChartOptions = {}): TopLevelSpec {
  const criterion = options.criterion ?? "bic";
  const name = criterion.toUpperCase();
  const choice = criterion === "bic" ? selection.best : selection.byAic;
  const types = [...new Set(selection.table.map((c) => c.covarianceType))];
  const values = selection.table
    .filter((c) => c[criterion] !== null && Number.isFinite(c[criterion]))
    .map((c) => ({ k: c.k, covariance: c.covarianceType, value: round(c[criterion]!, 10), parameters: c.nParameters, converged: c.converged }));
  const failed = selection.table.filter((c) => c.error).length;
  const ks = [...new Set(selection.table.map((c) => c.k))].sort((a, b) => a - b);
  const best = { k: choice.k, value: round(choice.value, 10) };
  const label = `best: ${choice.k} ${choice.covarianceType}`;
  const subtitle = [
    `lower is better (scikit-learn's sign; mclust plots −${name}, where higher is better)`,
    `${label} (${name} ${round(choice.value, 6)})`
      + (choice.runnerUp ? `, ${round(choice.runnerUp.difference, 3)} below the next best: ${choice.runnerUp.evidence} evidence` : ""),
    ...(failed > 0 ? [`${failed} fit${failed === 1 ? "" : "s"} failed (singular covariance) and ${failed === 1 ? "is" : "are"} not drawn`] : []),
  ];
  const color = { domain: types, range: types.map((t) => COVARIANCE_COLORS[t]) };
  const shape = { domain: types, range: types.map((t) => COVARIANCE_SHAPES[t]) };
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? `${name} against the number of segments, per covariance type`, subtitle },
    description: options.description
      ?? `${name} of Gaussian mixtures with ${ks[0]} to ${ks[ks.length - 1]} segments for the covariance types ${types.join(", ")}; lower is better; the lowest is ${choice.k} segments with ${choice.covarianceType} covariances.`,
    width: options.width ?? 440,
    height: options.height ?? 280,
    data: { values },
    layer: [
      {
        mark: { type: "line", point: { filled: true, size: 45 } },
        encoding: {
          x: {
            field: "k", type: "quantitative", title: "number of segments (components)",
            scale: { domain: [ks[0], ks[ks.length - 1]], nice: false }, axis: { values: ks, format: "d" },
          },
          y: { field: "value", type: "quantitative", title: `${name} (lower is better)`, scale: { zero: false } },
          color: { field: "covariance", type: "nominal", title: "covariance", scale: color, sort: types },
          shape: { field: "covariance", type: "nominal", title: "covariance", scale: shape, sort: types },
          tooltip: [
            { field: "k", type: "quantitative", title: "segments" },
            { field: "covariance", type: "nominal" },
            { field: "value", type: "quantitative", title: name, format: ",.1f" },
            { field: "parameters", type: "quantitative" },
            { field: "converged", type: "nominal" },
          ],
        },
      },
      {
        data: { values: [best] },
        mark: { type: "point", shape: "circle", size: 260, color: MARK, filled: false, strokeWidth: 2 },
        encoding: { x: { field: "k", type: "quantitative" }, y: { field: "value", type: "quantitative" } },
      },
      {
        data: { values: [best] },
        mark: { type: "text", color: MARK, align: "left", baseline: "middle", dx: 13, fontSize: 11 },
        encoding: { x: { field: "k", type: "quantitative" }, y: { field: "value", type: "quantitative" }, text: { value: label } },
      },
    ],
  } as TopLevelSpec;
}

/** AIC against the number of segments: bicChart with criterion "aic". */
export function aicChart(selection: MixtureSelectionLike, options: BaseChartOptions = {}): TopLevelSpec {
  return bicChart(selection, { ...options, criterion: "aic" });
}

export interface AssignmentCertaintyInput {
  /** Each customer's top probability (of its assigned segment). */
  maxProbability: ArrayLike<number>;
  /** Each customer's segment. */
  labels: ArrayLike<number>;
  /** names[i] is the name of segment i ("Segment i" when missing). */
  names?: readonly (string | null | undefined)[];
  /** Below it a customer is "between segments" (default 0.6). */
  threshold?: number;
}

/** Width of the histogram's bins of probability. */
const BIN = 0.05;

/**
 * How certain the assignment is: per segment (one row of panels each), the histogram of its
 * customers' top probability as the share of the segment's customers, the threshold (0.6)
 * drawn, and in each panel's header the customers below it ("between segments"). The x axis
 * starts at the lowest possible top probability's bin (1/k for k segments).
 */
export function assignmentCertaintyChart(input: AssignmentCertaintyInput, options: BaseChartOptions = {}): TopLevelSpec {
  const { maxProbability: p, labels } = input;
  const n = labels.length;
  if (p.length !== n) throw new RangeError(`maxProbability has ${p.length} values for ${n} labels`);
  const threshold = input.threshold ?? 0.6;
  const present = distinctLabels(labels);
  const names = segmentDisplayNames(present, input.names);
  const nBins = Math.round(1 / BIN);
  const counts = new Map<number, Int32Array>();
  const sizes = new Map<number, number>();
  const below = new Map<number, number>();
  for (const l of present) {
    counts.set(l, new Int32Array(nBins));
    sizes.set(l, 0);
    below.set(l, 0);
  }
  let belowAll = 0;
  let lowest = 1;
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    const v = p[i];
    const b = Math.min(nBins - 1, Math.max(0, Math.floor(v / BIN)));
    counts.get(l)![b]++;
    sizes.set(l, sizes.get(l)! + 1);
    if (v < threshold) {
      below.set(l, below.get(l)! + 1);
      belowAll++;
    }
    if (v < lowest) lowest = v;
  }
  const k = Math.max(present.length, 1);
  const xMin = Math.min(Math.floor(Math.min(1 / k, lowest) / BIN) * BIN, Math.floor(threshold / BIN) * BIN);
  const panel = (l: number): string => {
    const size = sizes.get(l)!;
    const b = below.get(l)!;
    return `${names.get(l)} · ${formatCount(size)} customers · ${formatCount(b)} between segments (${formatShare(size > 0 ? b / size : 0)})`;
  };
  const panels = present.map(panel);
  const values: { panel: string; segment: string; from: number; to: number; count: number; share: number | null }[] = [];
  for (const l of present) {
    const c = counts.get(l)!;
    const size = sizes.get(l)!;
    for (let b = 0; b < nBins; b++) {
      if (c[b] === 0) continue;
      values.push({ panel: panel(l), segment: names.get(l)!, from: round(b * BIN, 6)!, to: round((b + 1) * BIN, 6)!, count: c[b], share: round(c[b] / size, 6) });
    }
  }
  const colorScale = segmentColorScale(names);
  const subtitle = `${formatCount(belowAll)} of ${formatCount(n)} customers (${formatShare(n > 0 ? belowAll / n : 0)}) have a top probability below ${threshold}: between segments`;
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? "How certain the assignment is: each customer's probability of its segment", subtitle },
    description: options.description
      ?? `Histograms of the probability of the assigned segment, one per segment; ${belowAll} of ${n} customers are below ${threshold}.`,
    data: { values },
    facet: {
      row: {
        field: "panel", type: "nominal", sort: panels, title: null,
        header: { labelAngle: 0, labelAlign: "left", labelAnchor: "start", labelOrient: "top", labelFontSize: 11 },
      },
    },
    spacing: 8,
    spec: {
      width: options.width ?? 420,
      height: options.height ?? 60,
      layer: [
        {
          mark: { type: "bar", binSpacing: 1 },
          encoding: {
            x: {
              field: "from", type: "quantitative", bin: { binned: true, step: BIN }, title: "probability of the assigned segment",
              scale: { domain: [round(xMin, 6), 1], nice: false }, axis: { format: ".0%" },
            },
            x2: { field: "to" },
            y: { field: "share", type: "quantitative", title: "share", axis: { format: ".0%", tickCount: 2 } },
            color: { field: "segment", type: "nominal", scale: colorScale, legend: null },
            tooltip: [
              { field: "segment", type: "nominal" },
              { field: "from", type: "quantitative", title: "from", format: ".0%" },
              { field: "to", type: "quantitative", title: "to", format: ".0%" },
              { field: "count", type: "quantitative", title: "customers", format: "," },
              { field: "share", type: "quantitative", title: "share of the segment", format: ".1%" },
            ],
          },
        },
        {
          mark: { type: "rule", color: MARK, strokeDash: [4, 3] },
          encoding: { x: { datum: threshold, type: "quantitative" } },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  } as TopLevelSpec;
}

/** The covariance of a fitted mixture as GaussianMixtureModel holds it, by covariance type. */
export type MixtureCovariances = Matrix[] | Matrix | Float64Array;

/** What the ellipses need of a fitted mixture. */
export interface MixtureLike {
  means: Matrix;
  covariances: MixtureCovariances;
  covarianceType: CovarianceType;
}

/** What the ellipses need of the map's PCA (a PCAModel fits). */
export interface ProjectionLike {
  /** At least 2 × d; the first two rows are the map's axes. */
  components: Matrix;
  mean: Float64Array;
  whiten?: boolean;
  /** Needed with whiten. */
  explainedVariance?: Float64Array;
}

export interface MixtureEllipse {
  component: number;
  /** The component's mean on the map. */
  center: [number, number];
  /** Its 2 × 2 covariance on the map, W Σ Wᵀ, row-major. */
  covariance: [number, number, number, number];
  /** Semi-axes at one standard deviation (square roots of the eigenvalues), the longer first. */
  semiAxes: [number, number];
  /** Direction of the longer axis, radians from the map's x axis, in (−π/2, π/2]. */
  angle: number;
  /** Share of the component's variance (trace) that the map shows (without whitening). */
  shownVariance: number;
  /** The outline at each level (standard deviations), as closed polylines. */
  outlines: { level: number; points: [number, number][] }[];
}

/** The d × d covariance of component c, whatever the type's storage. */
export function componentCovariance(model: MixtureLike, c: number): Float64Array {
  const d = model.means.cols;
  const out = new Float64Array(d * d);
  const cov = model.covariances;
  switch (model.covarianceType) {
    case "full": out.set((cov as Matrix[])[c].data); break;
    case "tied": out.set((cov as Matrix).data); break;
    case "diag": for (let j = 0; j < d; j++) out[j * d + j] = (cov as Matrix).data[c * d + j]; break;
    case "spherical": for (let j = 0; j < d; j++) out[j * d + j] = (cov as Float64Array)[c]; break;
  }
  return out;
}

/**
 * The components' ellipses on a PCA map: each mean projected as the map projects a row
 * (W (μ − m)), each covariance as Σ₂ = W Σ Wᵀ (W the map's two axes, scaled by
 * 1/√(explained variance) when the PCA whitens), outlined at `levels` standard deviations
 * (default 1 and 2) with `points` points (default 72) each.
 */
export function mixtureEllipses(model: MixtureLike, pca: ProjectionLike, options: { levels?: readonly number[]; points?: number } = {}): MixtureEllipse[] {
  const d = model.means.cols;
  const k = model.means.rows;
  const W = pca.components;
  if (W.rows < 2 || W.cols !== d) throw new RangeError(`the PCA's components are ${W.rows} × ${W.cols}; the map needs 2 × ${d} at least`);
  if (pca.mean.length !== d) throw new RangeError(`the PCA's mean has ${pca.mean.length} values for ${d} features`);
  const levels = options.levels ?? [1, 2];
  const nPoints = options.points ?? 72;
  const scale = [1, 1];
  if (pca.whiten) {
    if (!pca.explainedVariance) throw new RangeError("a whitening PCA needs its explainedVariance to project the ellipses");
    scale[0] = 1 / Math.sqrt(pca.explainedVariance[0]);
    scale[1] = 1 / Math.sqrt(pca.explainedVariance[1]);
  }
  const out: MixtureEllipse[] = [];
  const tmp = new Float64Array(2 * d);
  for (let c = 0; c < k; c++) {
    const S = componentCovariance(model, c);
    const center: [number, number] = [0, 0];
    for (let a = 0; a < 2; a++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += W.data[a * d + j] * (model.means.data[c * d + j] - pca.mean[j]);
      center[a] = s * scale[a];
    }
    // tmp = W Σ (2 × d), then Σ₂ = tmp Wᵀ.
    for (let a = 0; a < 2; a++) {
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let l = 0; l < d; l++) s += W.data[a * d + l] * S[l * d + j];
        tmp[a * d + j] = s;
      }
    }
    const s2 = [0, 0, 0, 0];
    let shown = 0;
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += tmp[a * d + j] * W.data[b * d + j];
        if (a === b) shown += s;
        s2[a * 2 + b] = s * scale[a] * scale[b];
      }
    }
    s2[1] = s2[2] = 0.5 * (s2[1] + s2[2]);
    const [p, q, r] = [s2[0], s2[1], s2[3]];
    // Eigenvalues of [[p, q], [q, r]] and the direction of the larger one.
    const mid = 0.5 * (p + r);
    const rad = Math.hypot(0.5 * (p - r), q);
    const l1 = Math.max(mid + rad, 0);
    const l2 = Math.max(mid - rad, 0);
    let angle = 0.5 * Math.atan2(2 * q, p - r);
    if (angle <= -Math.PI / 2) angle += Math.PI;
    let trace = 0;
    for (let j = 0; j < d; j++) trace += S[j * d + j];
    const a1 = Math.sqrt(l1);
    const a2 = Math.sqrt(l2);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const outlines = levels.map((level) => {
      const points: [number, number][] = [];
      for (let t = 0; t <= nPoints; t++) {
        const th = (2 * Math.PI * (t % nPoints)) / nPoints;
        const u = level * a1 * Math.cos(th);
        const v = level * a2 * Math.sin(th);
        points.push([center[0] + u * cos - v * sin, center[1] + u * sin + v * cos]);
      }
      return { level, points };
    });
    out.push({
      component: c, center, covariance: [s2[0], s2[1], s2[2], s2[3]], semiAxes: [a1, a2], angle,
      shownVariance: trace > 0 ? Math.min(1, shown / trace) : 0,
      outlines,
    });
  }
  return out;
}

/**
 * The ellipses as a Vega-Lite layer for the map: one closed line per component and level
 * (solid at 1 standard deviation, dashed beyond), in the segment's colour (theme.ts's
 * segmentColor of the component's label) through the `stroke` channel, so that it does not
 * disturb the map's colour scale and legend. `names` are the segments' names for the tooltip.
 */
export function ellipseLayer(ellipses: readonly MixtureEllipse[], names?: readonly (string | null | undefined)[]): Record<string, unknown>[] {
  const display = segmentDisplayNames(ellipses.map((e) => e.component), names);
  const values: { key: string; segment: string; level: number; order: number; x: number | null; y: number | null; stroke: string }[] = [];
  for (const e of ellipses) {
    for (const o of e.outlines) {
      o.points.forEach(([x, y], order) => {
        values.push({
          key: `${e.component}:${o.level}`, segment: display.get(e.component)!, level: o.level, order,
          x: round(x, 6), y: round(y, 6), stroke: segmentColor(e.component),
        });
      });
    }
  }
  return [{
    data: { values },
    mark: { type: "line", strokeWidth: 1.6, aria: false, clip: false },
    encoding: {
      x: { field: "x", type: "quantitative" },
      y: { field: "y", type: "quantitative" },
      detail: { field: "key", type: "nominal" },
      order: { field: "order", type: "quantitative" },
      stroke: { field: "stroke", type: "nominal", scale: null, legend: null },
      strokeDash: { condition: { test: "datum.level <= 1", value: [1, 0] }, value: [5, 3] },
      tooltip: [{ field: "segment", type: "nominal" }, { field: "level", type: "quantitative", title: "standard deviations" }],
    },
  }];
}

/**
 * A segment map (segmentMapChart's output: a single-mark spec) with the ellipse layers drawn
 * over the customers; the map's data, scales and legend are kept.
 */
export function withEllipses(map: TopLevelSpec, layers: readonly Record<string, unknown>[]): TopLevelSpec {
  const { mark, encoding, ...rest } = map as unknown as Record<string, unknown>;
  if (mark === undefined) throw new RangeError("withEllipses takes a single-mark map (segmentMapChart's output)");
  return { ...rest, layer: [{ mark, encoding }, ...layers] } as unknown as TopLevelSpec;
}

/** A table as the report draws it (report/html.ts's ReportTable has this shape). */
export interface MixtureTable {
  caption?: string;
  head: string[];
  rows: (string | number | null)[][];
  numeric?: boolean[];
}

/**
 * The selection as mclust prints it: one row per k, one column per covariance type, the BIC
 * (or AIC) rounded to one decimal, "failed" where the fit failed, the chosen cell marked "◀".
 */
export function selectionTable(selection: MixtureSelectionLike, criterion: Criterion = "bic"): MixtureTable {
  const types = [...new Set(selection.table.map((c) => c.covarianceType))];
  const ks = [...new Set(selection.table.map((c) => c.k))].sort((a, b) => a - b);
  const choice = criterion === "bic" ? selection.best : selection.byAic;
  const name = criterion.toUpperCase();
  const rows = ks.map((k) => [
    k,
    ...types.map((t) => {
      const c = selection.table.find((x) => x.k === k && x.covarianceType === t);
      if (!c) return null;
      const v = c[criterion];
      if (v === null || !Number.isFinite(v)) return "failed";
      return v.toFixed(1) + (k === choice.k && t === choice.covarianceType ? " ◀" : "");
    }),
  ]);
  return {
    caption: `${name} of every fit (lower is better); ◀ marks the lowest`,
    head: ["segments", ...types],
    rows,
    numeric: [true, ...types.map(() => true)],
  };
}

/** What the between-segments table needs (src/cluster/mixture/uncertainty.ts's BetweenSegments). */
export interface BetweenSegmentsLike {
  threshold: number;
  rows: number;
  count: number;
  pairs: readonly { a: number; b: number; count: number; assignedToA: number }[];
}

/**
 * The customers between segments as a table: per pair of segments (most customers first), how
 * many sit between them, their share of all customers, and how many were assigned to each side.
 */
export function betweenSegmentsTable(between: BetweenSegmentsLike, names?: readonly (string | null | undefined)[], maxRows = 20): MixtureTable {
  const labels = [...new Set(between.pairs.flatMap((p) => [p.a, p.b]))];
  const display = segmentDisplayNames(labels, names);
  const shown = between.pairs.slice(0, maxRows);
  const rows: (string | number | null)[][] = shown.map((p) => [
    `${display.get(p.a)} and ${display.get(p.b)}`,
    formatCount(p.count),
    formatShare(between.rows > 0 ? p.count / between.rows : 0),
    `${formatCount(p.assignedToA)} / ${formatCount(p.count - p.assignedToA)}`,
  ]);
  const rest = between.pairs.slice(maxRows);
  if (rest.length > 0) {
    const c = rest.reduce((s, p) => s + p.count, 0);
    rows.push([`${rest.length} other pair${rest.length === 1 ? "" : "s"}`, formatCount(c), formatShare(between.rows > 0 ? c / between.rows : 0), null]);
  }
  return {
    caption: `${formatCount(between.count)} of ${formatCount(between.rows)} customers (${formatShare(between.rows > 0 ? between.count / between.rows : 0)}) `
      + `have a top probability below ${between.threshold}; the two segments each sits between`,
    head: ["between", "customers", "share of all", "assigned to the first / the second"],
    rows,
    numeric: [false, true, true, true],
  };
}
