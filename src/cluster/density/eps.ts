/**
 * Choosing DBSCAN's eps: the k-distance curve (each row's distance to its minSamples-th
 * nearest row, the row itself counted as the first, sorted ascending) and its knee.
 *
 * A row's k-distance is at most eps exactly when it has minSamples rows within eps, i.e.
 * when it is a core row of DBSCAN(eps, minSamples). Rows inside segments have small
 * k-distances that grow slowly; rows in sparse places have large ones. The sorted curve
 * is flat, then rises steeply: eps is read at the knee (Kneedle, from metrics/choose-k.ts,
 * on the convex increasing curve), so that the rows before the knee are core rows and the
 * steep tail is left to be border rows or noise.
 */
import { InputError } from "../../core/errors.js";
import { type MatrixLike, toMatrix } from "../../core/matrix.js";
import { kneedle } from "../../metrics/choose-k.js";
import { type NeighborAlgorithm, NeighborIndex, type NeighborMetric } from "../../neighbors/index.js";

export interface KDistanceOptions {
  /** The k of the curve: DBSCAN's minSamples (the row itself counts). Default 5. */
  minSamples?: number;
  metric?: NeighborMetric;
  algorithm?: NeighborAlgorithm;
  /**
   * The share of rows whose k-distance is taken as eps when the curve has no knee.
   * Default 0.9 (90 % of the rows are then core rows).
   */
  fallbackQuantile?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface KDistanceKnee {
  /** Position of the chosen point in the sorted curve (the knee's, or the fallback quantile's). */
  index: number;
  /** The suggested eps: the distance there, rounded up to 3 significant digits. */
  eps: number;
  /** Whether a knee was found (false: the fallback quantile was used). */
  found: boolean;
  /** Share of the rows whose k-distance is ≤ eps (the core rows of DBSCAN with this eps). */
  coreShare: number;
  /** Why eps has this value, in words for the user. */
  reason: string;
}

export interface KDistanceCurve {
  /** Each row's distance to its minSamples-th nearest row (itself the first), sorted ascending. */
  distances: Float64Array;
  knee: KDistanceKnee;
  minSamples: number;
}

/** Points of the curve at most given to Kneedle (evenly spaced positions, both ends kept). */
const KNEE_POINTS = 10_000;

/** The k-distance curve of X and its knee; see the file's comment. */
export async function kDistanceCurve(Xin: MatrixLike, options: KDistanceOptions = {}): Promise<KDistanceCurve> {
  const X = toMatrix(Xin, "X");
  const { rows: n, cols: d } = X;
  const k = options.minSamples ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new InputError(`minSamples must be a whole number ≥ 1, got ${String(k)}`);
  if (n < 1) throw new InputError("X has no rows");
  if (d < 1) throw new InputError("X has no columns: choose at least one feature");
  if (k > n) throw new InputError(`minSamples (${k}) is more than the ${n} rows: lower minSamples`);
  const q = options.fallbackQuantile ?? 0.9;
  if (!(q > 0 && q <= 1)) throw new InputError(`fallbackQuantile must be in (0, 1], got ${String(q)}`);
  const index = NeighborIndex.build(X.data, n, d, { metric: options.metric ?? "euclidean", algorithm: options.algorithm ?? "auto", expectedK: k });
  const knn = await index.kNearestAll(k, { signal: options.signal, onProgress: options.onProgress });
  const distances = new Float64Array(n);
  for (let i = 0; i < n; i++) distances[i] = knn.distances[i * k + k - 1];
  distances.sort();
  return { distances, knee: findKnee(distances, k, q), minSamples: k };
}

/** The suggested eps and its reason (the knee of the k-distance curve). */
export async function suggestEps(X: MatrixLike, options: KDistanceOptions = {}): Promise<{ eps: number; reason: string; curve: KDistanceCurve }> {
  const curve = await kDistanceCurve(X, options);
  return { eps: curve.knee.eps, reason: curve.knee.reason, curve };
}

/** The knee of a sorted k-distance curve (or the fallback quantile), with eps and the reason. */
export function findKnee(distances: Float64Array, minSamples: number, fallbackQuantile = 0.9): KDistanceKnee {
  const n = distances.length;
  if (n === 0) throw new InputError("the k-distance curve is empty");
  const kth = ordinal(minSamples);
  const what = minSamples === 1
    ? "the distance of each customer to itself"
    : `the distance to the ${kth} nearest neighbour (the customer itself counted as the first)`;
  // Kneedle on at most KNEE_POINTS evenly spaced positions of the curve.
  const m = Math.min(n, KNEE_POINTS);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let t = 0; t < m; t++) {
    const pos = m === 1 ? 0 : Math.round((t * (n - 1)) / (m - 1));
    if (xs.length > 0 && pos === xs[xs.length - 1]) continue;
    xs.push(pos);
    ys.push(distances[pos]);
  }
  const res = kneedle(xs, ys, { curve: "convex", direction: "increasing" });
  let index: number;
  let found: boolean;
  let why: string;
  if (res.knee !== null && distances[res.knee] > 0) {
    index = res.knee;
    found = true;
    why = "";
  } else {
    index = Math.min(n - 1, Math.max(0, Math.ceil(fallbackQuantile * n) - 1));
    found = false;
    why = res.knee !== null
      ? "its knee lies at distance 0 (duplicate rows)"
      : (res.reason ?? "no knee");
  }
  let base = distances[index];
  if (!(base > 0)) {
    // Duplicates: the first positive distance of the curve, else any small positive eps.
    let firstPositive = 0;
    for (let i = index; i < n; i++) {
      if (distances[i] > 0) {
        firstPositive = distances[i];
        break;
      }
    }
    base = firstPositive > 0 ? firstPositive : 1e-9;
  }
  const eps = ceilSignificant(base, 3);
  let core = 0;
  while (core < n && distances[core] <= eps) core++;
  const coreShare = core / n;
  const share = formatPercent(coreShare);
  const reason = found
    ? `${what} rises steeply after ${formatNumber(eps)} (the knee of the sorted curve; ${share} of customers have ${minSamples} within it and are core): eps = ${formatNumber(eps)}`
    : `${what} has no clear knee (${why}); eps = ${formatNumber(eps)}, the ${formatPercent(fallbackQuantile)} quantile of those distances (${share} of customers have ${minSamples} within it and are core)`;
  return { index, eps, found, coreShare, reason };
}

/** Positions and values of at most `maxPoints` points of a sorted curve (evenly spaced, the ends and `keep` included), for charts. */
export function sampleCurve(distances: Float64Array, maxPoints = 1000, keep: number | null = null): { positions: Int32Array; distances: Float64Array } {
  const n = distances.length;
  const set = new Set<number>();
  const m = Math.max(2, Math.min(n, maxPoints));
  for (let t = 0; t < m; t++) set.add(Math.min(n - 1, Math.round((t * (n - 1)) / (m - 1))));
  if (keep !== null && keep >= 0 && keep < n) set.add(keep);
  const positions = Int32Array.from([...set].filter((p) => p >= 0 && p < n).sort((a, b) => a - b));
  return { positions, distances: Float64Array.from(positions, (p) => distances[p]) };
}

/** x rounded up to `digits` significant digits (so that every row at distance ≤ x stays within it). */
export function ceilSignificant(x: number, digits: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  const e = Math.floor(Math.log10(x)) - digits + 1;
  const scale = 10 ** -e;
  let v = Math.ceil(x * scale - 1e-9) / scale;
  v = Number(v.toPrecision(digits));
  return v < x ? Number((v + 10 ** e).toPrecision(digits)) : v;
}

function formatNumber(x: number): string {
  return String(Number(x.toPrecision(3)));
}

function formatPercent(share: number): string {
  const p = share * 100;
  return `${p >= 99.95 || p < 0.05 ? p.toFixed(0) : p.toFixed(1).replace(/\.0$/, "")} %`;
}

function ordinal(k: number): string {
  const mod100 = k % 100;
  const suffix = mod100 >= 11 && mod100 <= 13 ? "th" : k % 10 === 1 ? "st" : k % 10 === 2 ? "nd" : k % 10 === 3 ? "rd" : "th";
  return `${k}${suffix}`;
}
