/**
 * Charts of the choice of k as Vega-Lite specifications: pure functions of a ChooseKResult
 * returning plain JSON, rendered by report/render.ts (SVG) or by any Vega-Lite viewer.
 */
import type { TopLevelSpec } from "vega-lite";
import type { ChooseKResult, KEvaluation } from "../metrics/choose-k.js";
import { LINE, MARK, SCHEMA } from "./theme.js";

export interface ChartOptions {
  /** Plot width and height in pixels (each panel for the indices chart). */
  width?: number;
  height?: number;
  title?: string;
}

/** The x axis of k: whole numbers only. */
function kAxis(ks: number[]) {
  return { field: "k", type: "quantitative" as const, title: "k (number of segments)", scale: { domain: [Math.min(...ks), Math.max(...ks)], nice: false }, axis: { values: ks, format: "d" } };
}

/**
 * A dashed vertical rule at k with a label at the top of the plot, or at its bottom when
 * `bottomOf` gives the plot height; no label when it is null.
 */
function kRule(k: number, label: string | null, bottomOf?: number) {
  const rule = { mark: { type: "rule" as const, color: MARK, strokeDash: [4, 3] }, encoding: { x: { datum: k, type: "quantitative" as const } } };
  if (label === null) return [rule];
  return [
    rule,
    {
      mark: {
        type: "text" as const, color: MARK, align: "left" as const, dx: 4, fontSize: 11,
        ...(bottomOf === undefined ? { baseline: "top" as const, y: 2 } : { baseline: "bottom" as const, y: bottomOf - 2 }),
      },
      encoding: { x: { datum: k, type: "quantitative" as const }, text: { value: label } },
    },
  ];
}

/**
 * Inertia (within-cluster sum of squares) against k, from k = 1 when the result has it, with
 * the elbow found by Kneedle marked; the subtitle says why there is none when there is none.
 */
export function elbowChart(r: ChooseKResult, options: ChartOptions = {}): TopLevelSpec {
  const rows = [
    ...(r.kOne ? [{ k: 1, inertia: r.kOne.inertia }] : []),
    ...r.evaluations.map((e) => ({ k: e.k, inertia: e.inertia })),
  ];
  const ks = rows.map((d) => d.k);
  const knee = r.elbow.knee;
  const subtitle = knee !== null
    ? `elbow (Kneedle) at k=${knee}; recommended k=${r.recommendation.k}`
    : `no elbow: ${r.elbow.reason ?? "none found"}; recommended k=${r.recommendation.k}`;
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? "Elbow: inertia against k", subtitle },
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values: rows },
    layer: [
      {
        mark: { type: "line", point: { filled: true, size: 50 }, color: LINE },
        encoding: {
          x: kAxis(ks),
          y: { field: "inertia", type: "quantitative", title: "inertia (within-cluster sum of squares)", scale: { zero: false } },
          tooltip: [{ field: "k", type: "quantitative" }, { field: "inertia", type: "quantitative", format: ".4~s" }],
        },
      },
      ...(knee !== null
        ? [
          ...kRule(knee, `elbow k=${knee}`),
          {
            transform: [{ filter: { field: "k", equal: knee } }],
            mark: { type: "point" as const, shape: "circle", size: 160, color: MARK, filled: false, strokeWidth: 2 },
            encoding: { x: { field: "k", type: "quantitative" as const }, y: { field: "inertia", type: "quantitative" as const } },
          },
        ]
        : []),
    ],
  };
}

interface IndexPanel {
  key: keyof KEvaluation;
  title: string;
  better: "higher" | "lower";
  /** A horizontal reference line (the stability threshold). */
  reference?: { value: number; label: string };
}

/**
 * Silhouette, Davies–Bouldin, Calinski–Harabasz and (when computed) bootstrap stability
 * against k, one panel each stacked vertically, with the recommended k marked in every panel
 * and each index's best k drawn as a larger point.
 */
export function indicesChart(r: ChooseKResult, options: ChartOptions = {}): TopLevelSpec {
  const panels: IndexPanel[] = [
    { key: "silhouette", title: "silhouette (higher is better)", better: "higher" },
    { key: "daviesBouldin", title: "Davies–Bouldin (lower is better)", better: "lower" },
    { key: "calinskiHarabasz", title: "Calinski–Harabasz (higher is better)", better: "higher" },
  ];
  if (r.stability) {
    panels.push({
      key: "stability", title: "stability: mean bootstrap Jaccard (higher is better)", better: "higher",
      reference: { value: r.stability.threshold, label: `stable from ${r.stability.threshold}` },
    });
  }
  const ks = r.evaluations.map((e) => e.k);
  const rec = r.recommendation.k;
  const width = options.width ?? 420;
  const height = options.height ?? 130;
  return {
    $schema: SCHEMA,
    title: { text: options.title ?? "Indices against k", offset: 14, subtitle: `recommended k=${rec}` + (r.silhouetteSample ? ` · silhouette on a sample of ${r.silhouetteSample} rows` : "") },
    spacing: 24,
    vconcat: panels.map((p, i) => {
      const values = r.evaluations
        .map((e) => ({ k: e.k, value: e[p.key] as number | null }))
        .filter((d) => d.value !== null && Number.isFinite(d.value));
      let bestK: number | null = null;
      for (const d of values) {
        const best = values.find((v) => v.k === bestK);
        if (!best || (p.better === "higher" ? d.value! > best.value! : d.value! < best.value!)) bestK = d.k;
      }
      return {
        title: { text: p.title, fontSize: 12, anchor: "start" as const, offset: 6 },
        width,
        height,
        data: { values },
        layer: [
          {
            mark: { type: "line" as const, point: { filled: true, size: 40 }, color: LINE },
            encoding: {
              x: kAxis(ks),
              y: { field: "value", type: "quantitative" as const, title: null, scale: { zero: false } },
              tooltip: [{ field: "k", type: "quantitative" as const }, { field: "value", type: "quantitative" as const, format: ".4~g" }],
            },
          },
          ...(bestK !== null
            ? [{
              transform: [{ filter: { field: "k", equal: bestK } }],
              mark: { type: "point" as const, filled: true, size: 110, color: LINE },
              encoding: { x: { field: "k", type: "quantitative" as const }, y: { field: "value", type: "quantitative" as const } },
            }]
            : []),
          ...(p.reference
            ? [{
              mark: { type: "rule" as const, color: "#888", strokeDash: [2, 2] },
              encoding: { y: { datum: p.reference.value, type: "quantitative" as const } },
            }]
            : []),
          ...kRule(rec, i === 0 ? `recommended k=${rec}` : null, height),
        ],
      };
    }),
    resolve: { scale: { y: "independent" } },
  };
}

/**
 * The gap statistic against k (from k = 1 when the result has it) with error bars of ±s_k,
 * and the k chosen by the rule "smallest k with Gap(k) ≥ Gap(k+1) − s(k+1)" marked. Null when
 * the gap statistic was not computed.
 */
export function gapChart(r: ChooseKResult, options: ChartOptions = {}): TopLevelSpec | null {
  if (!r.gap) return null;
  const rows = [
    ...(r.kOne && r.kOne.gap !== null ? [{ k: 1, gap: r.kOne.gap, se: r.kOne.gapSe! }] : []),
    ...r.evaluations.filter((e) => e.gap !== null).map((e) => ({ k: e.k, gap: e.gap!, se: e.gapSe! })),
  ].map((d) => ({ ...d, lo: d.gap - d.se, hi: d.gap + d.se }));
  const ks = rows.map((d) => d.k);
  const g = r.gap.k;
  return {
    $schema: SCHEMA,
    title: {
      text: options.title ?? "Gap statistic against k",
      subtitle: `${r.gap.references} uniform reference sets; ${g === null ? "the rule picks no k in the range" : `the rule picks k=${g}`}; error bars ±s(k)`,
    },
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values: rows },
    layer: [
      {
        mark: { type: "rule", color: LINE },
        encoding: { x: kAxis(ks), y: { field: "lo", type: "quantitative", title: "Gap(k)", scale: { zero: false } }, y2: { field: "hi" } },
      },
      {
        mark: { type: "line", point: { filled: true, size: 50 }, color: LINE },
        encoding: {
          x: { field: "k", type: "quantitative" },
          y: { field: "gap", type: "quantitative" },
          tooltip: [{ field: "k", type: "quantitative" }, { field: "gap", type: "quantitative", format: ".4~g" }, { field: "se", type: "quantitative", title: "s(k)", format: ".3~g" }],
        },
      },
      ...(g !== null ? kRule(g, `gap k=${g}`) : []),
    ],
  };
}
