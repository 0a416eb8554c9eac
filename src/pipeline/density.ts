/**
 * The density-based step of a segmentation (DBSCAN, HDBSCAN, OPTICS): the parameters as the
 * configuration gives them or as chosen from the data (eps at the knee of the k-distance
 * curve, minSamples twice the number of features, minClusterSize 1 % of the rows), the
 * fit, and what the result needs to show how the segments and the outliers came about.
 * Segments come out numbered from the largest; noise stays −1.
 */
import { DBSCAN } from "../cluster/density/dbscan.js";
import { kDistanceCurve, sampleCurve } from "../cluster/density/eps.js";
import { HDBSCAN } from "../cluster/density/hdbscan.js";
import { OPTICS } from "../cluster/density/optics.js";
import { ReachModel } from "../cluster/density/reach-model.js";
import { InputError } from "../core/errors.js";
import type { Matrix } from "../core/matrix.js";
import { silhouetteScore } from "../metrics/silhouette.js";
import type { SegmentationConfig } from "./config.js";
import type { DensityInfo, OptionNames } from "./run.js";
import { Segmenter } from "./segmenter.js";

export interface DensityFit {
  model: Segmenter;
  /** Segment of each row of X (numbered from the largest), −1 for noise. */
  labels: Int32Array;
  info: Omit<DensityInfo, "silhouetteWithNoise">;
}

export interface DensityHooks {
  onProgress?: (message: string, fraction?: number) => void;
  signal?: AbortSignal;
  optionNames?: OptionNames;
}

/** minSamples of DBSCAN and OPTICS when not given: twice the number of features, at least 5 (Sander et al., 1998; Schubert et al., 2017). */
export function defaultMinSamples(features: number): number {
  return Math.max(5, 2 * features);
}

/** minClusterSize of HDBSCAN when not given: 1 % of the rows, at least 5 (a segment smaller than that is rarely worth a campaign). */
export function defaultMinClusterSize(rows: number): number {
  return Math.max(5, Math.ceil(rows / 100));
}

export async function fitDensity(X: Matrix, config: SegmentationConfig, hooks: DensityHooks, warn: (m: string) => void): Promise<DensityFit> {
  const n = X.rows;
  const flag = (field: string, cli: string): string => (hooks.optionNames === "cli" ? cli : field);
  const progress = (what: string) => (done: number, total: number) => hooks.onProgress?.(what, total > 0 ? done / total : undefined);
  if (config.algorithm === "dbscan") {
    const minSamples = config.minSamples ?? defaultMinSamples(X.cols);
    tooFew(n, minSamples, config.minSamples === undefined, flag("minSamples", "--min-samples"), "twice the number of features, at least 5");
    hooks.onProgress?.(`DBSCAN: distance of every customer to its ${ordinal(minSamples)} nearest neighbour`);
    const curve = await kDistanceCurve(X, { minSamples, metric: config.metric, signal: hooks.signal, onProgress: progress("DBSCAN: the k-distance curve") });
    let eps: number;
    let epsReason: string;
    if (config.eps === "auto") {
      eps = curve.knee.eps;
      epsReason = curve.knee.reason;
      if (!(eps > 0)) {
        throw new InputError(
          `DBSCAN: eps cannot be chosen from the data: at least ${pct(curve.knee.coreShare)} of the customers have ${minSamples - 1} exact duplicates, so the k-distance curve is 0 where it should bend; ` +
            `give ${flag("eps", "--eps")} a radius, or raise ${flag("minSamples", "--min-samples")}`,
        );
      }
    } else {
      eps = config.eps;
      let core = 0;
      for (const v of curve.distances) if (v <= eps) core++;
      epsReason = `eps ${eps} was given; ${pct(core / n)} of the customers have ${minSamples} customers (themselves included) within it and are cores of segments (the knee of the k-distance curve suggests ${curve.knee.eps})`;
    }
    const model = await new DBSCAN({ eps, minSamples, metric: config.metric }).fit(X, {
      signal: hooks.signal, onProgress: progress(`DBSCAN (eps ${eps}, minSamples ${minSamples})`),
    });
    const { labels, relabel } = bySize(model.labels);
    const core = new Uint8Array(n);
    for (const i of model.coreSampleIndices) core[i] = 1;
    const sample = sampleCurve(curve.distances, 1000, curve.knee.index);
    return {
      model: new Segmenter(model, relabel),
      labels,
      info: {
        algorithm: "dbscan", noise: model.nNoise, eps, epsReason, minSamples, minClusterSize: null,
        kDistance: {
          distances: sample.distances, positions: sample.positions, kneeIndex: curve.knee.found ? curve.knee.index : null, eps: curve.knee.eps,
          index: curve.knee.index, reason: curve.knee.reason, minSamples, rows: n,
        },
        reachability: null, probabilities: null, core,
      },
    };
  }
  if (config.algorithm === "hdbscan") {
    const minClusterSize = config.minClusterSize ?? defaultMinClusterSize(n);
    // Not scikit-learn's default (minClusterSize): at 1 % of a large table that many neighbours
    // make the density so smooth that the tails of every segment become outliers, and the core
    // distances cost minClusterSize neighbours per row. DBSCAN's default, at most minClusterSize.
    const minSamples = config.minSamples ?? Math.min(minClusterSize, defaultMinSamples(X.cols));
    tooFew(n, minClusterSize, config.minClusterSize === undefined, flag("minClusterSize", "--min-cluster-size"), "1 % of the rows, at least 5");
    tooFew(n, minSamples, config.minSamples === undefined, flag("minSamples", "--min-samples"), "twice the number of features, at least 5, at most the smallest segment");
    const model = await new HDBSCAN({
      minClusterSize, minSamples, metric: config.metric, clusterSelectionMethod: config.clusterSelectionMethod, clusterSelectionEpsilon: config.clusterSelectionEpsilon,
      allowSingleCluster: config.allowSingleCluster,
    }).fit(X, {
      signal: hooks.signal,
      onProgress: (done, total, phase) => hooks.onProgress?.(`HDBSCAN (minClusterSize ${minClusterSize}): ${phase}`, total > 0 ? done / total : undefined),
    });
    const { labels, relabel } = bySize(model.labels);
    let noise = 0;
    for (const l of labels) if (l < 0) noise++;
    return {
      model: new Segmenter(model, relabel),
      labels,
      info: {
        algorithm: "hdbscan", noise, eps: null, epsReason: null, minSamples, minClusterSize,
        kDistance: null, reachability: null, probabilities: Float64Array.from(model.probabilities), core: null,
      },
    };
  }
  if (config.algorithm === "optics") {
    const minSamples = config.minSamples ?? defaultMinSamples(X.cols);
    tooFew(n, minSamples, config.minSamples === undefined, flag("minSamples", "--min-samples"), "twice the number of features, at least 5");
    if (config.opticsMethod === "dbscan" && config.eps === "auto") {
      throw new InputError(`OPTICS with ${flag("opticsMethod", "--optics-method")} dbscan cuts the reachability plot at eps: give ${flag("eps", "--eps")} a radius`);
    }
    const eps = config.opticsMethod === "dbscan" ? (config.eps as number) : null;
    if (config.maxEps === undefined && n > 20_000) {
      warn(
        `OPTICS with no ${flag("maxEps", "--max-eps")} compares every pair of the ${n.toLocaleString("en-US")} customers (time grows with the square of the rows: ` +
          `about ${Math.max(1, Math.round((n / 20_000) ** 2 * 3))} s here); give ${flag("maxEps", "--max-eps")} a radius to bound it, or use hdbscan`,
      );
    }
    const minClusterSize = config.opticsMethod === "xi" ? config.minClusterSize ?? defaultMinClusterSize(n) : null;
    const model = await new OPTICS({
      minSamples, maxEps: config.maxEps ?? Infinity, metric: config.metric, clusterMethod: config.opticsMethod, eps, xi: config.xi, minClusterSize,
    }).fit(X, { signal: hooks.signal, onProgress: progress(`OPTICS (minSamples ${minSamples})`), onWarning: warn });
    const { labels, relabel } = bySize(model.labels);
    const reach = ReachModel.fromFit(X, model.labels, model.coreDistances, minSamples, config.metric);
    let noise = 0;
    for (const l of labels) if (l < 0) noise++;
    return {
      model: new Segmenter(reach, relabel),
      labels,
      info: {
        algorithm: "optics", noise, eps, minSamples, minClusterSize,
        epsReason: eps === null ? `segments read off the reachability plot where it drops and rises steeply (xi = ${config.xi})` : `the reachability plot cut at eps ${eps}`,
        kDistance: null, reachability: { ordering: model.ordering, reachability: model.reachability }, probabilities: null, core: null,
      },
    };
  }
  throw new Error(`fitDensity: ${config.algorithm} is not a density-based algorithm`);
}

/** Refuses a neighbour count above the number of rows, saying whether it was the default. */
function tooFew(n: number, value: number, defaulted: boolean, option: string, rule: string): void {
  if (value <= n) return;
  throw new InputError(
    defaulted
      ? `only ${n} rows: fewer than the default ${option} ${value} (${rule}); give a smaller ${option}, or more rows`
      : `${option} ${value} is more than the ${n} rows; lower it`,
  );
}

/** Segments renumbered from the largest (ties: the lower label first); noise stays −1. */
export function bySize(raw: Int32Array): { labels: Int32Array; relabel: Int32Array } {
  let k = 0;
  for (const l of raw) if (l + 1 > k) k = l + 1;
  const counts = new Array<number>(k).fill(0);
  for (const l of raw) if (l >= 0) counts[l]++;
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const relabel = new Int32Array(k);
  order.forEach((old, nw) => (relabel[old] = nw));
  return { labels: raw.map((l) => (l < 0 ? -1 : relabel[l])), relabel };
}

function ordinal(k: number): string {
  const s = k % 100 >= 11 && k % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][k % 10] ?? "th";
  return `${k}${s}`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`;
}

export interface EpsCandidate {
  eps: number;
  /** Segments found at this eps. */
  segments: number;
  /** Rows labelled noise. */
  outliers: number;
  /** Share of the rows in the largest segment. */
  largestShare: number;
  /** Mean silhouette of the rows in segments (NaN with fewer than two segments). */
  silhouette: number;
}

/**
 * DBSCAN at several eps around a suggestion (the knee of the k-distance curve): how many
 * segments and outliers each gives, how much the largest segment swallows, and how well the
 * segments are separated, so that the choice of eps rests on evidence, not one number.
 */
export async function epsSweep(
  X: Matrix, options: { minSamples: number; metric: SegmentationConfig["metric"]; eps: number[]; silhouetteSampleSize: number; seed: number; signal?: AbortSignal },
  onProgress?: (done: number, total: number) => void,
): Promise<EpsCandidate[]> {
  const out: EpsCandidate[] = [];
  for (let t = 0; t < options.eps.length; t++) {
    onProgress?.(t, options.eps.length);
    const eps = options.eps[t];
    const m = await new DBSCAN({ eps, minSamples: options.minSamples, metric: options.metric }).fit(X, { signal: options.signal });
    const k = m.nClusters;
    const sizes = new Array<number>(k).fill(0);
    for (const l of m.labels) if (l >= 0) sizes[l]++;
    let silhouette = NaN;
    const inSegments = X.rows - m.nNoise;
    if (k >= 2 && inSegments > k) {
      const keep = new Int32Array(inSegments);
      let r = 0;
      for (let i = 0; i < X.rows; i++) if (m.labels[i] >= 0) keep[r++] = i;
      const d = X.cols;
      const sub = new Float64Array(inSegments * d);
      keep.forEach((i, j) => sub.set(X.data.subarray(i * d, i * d + d), j * d));
      const labels = Int32Array.from(keep, (i) => m.labels[i]);
      const Xs = { data: sub, rows: inSegments, cols: d };
      try {
        silhouette = inSegments > options.silhouetteSampleSize
          ? silhouetteScore(Xs, labels, { sampleSize: options.silhouetteSampleSize, randomState: options.seed })
          : silhouetteScore(Xs, labels);
      } catch (e) {
        if (!(e instanceof InputError)) throw e; // a sample within one segment: undefined
      }
    }
    out.push({ eps, segments: k, outliers: m.nNoise, largestShare: k ? Math.max(...sizes) / X.rows : 0, silhouette });
  }
  onProgress?.(options.eps.length, options.eps.length);
  return out;
}

/** The eps tried around a suggestion: from half to twice it, rounded to 3 significant digits. */
export function epsCandidates(suggested: number): number[] {
  const round = (x: number): number => Number(x.toPrecision(3));
  return [...new Set([0.5, 0.7, 0.85, 1, 1.2, 1.5, 2].map((f) => round(f * suggested)))].filter((x) => x > 0);
}
