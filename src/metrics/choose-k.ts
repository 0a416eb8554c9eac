/**
 * The choice of k: a sweep of K-Means over a range of k with the internal indices, the elbow
 * of the inertia curve (Kneedle), the gap statistic, bootstrap stability, and a recommended k
 * with the reasons for it. Isomorphic: pure over a Matrix, the options and a seed.
 */
import { KMeans, type KMeansModel } from "../cluster/kmeans.js";
import { getParallelExecutor, sharedMemoryAvailable } from "../core/parallel.js";
import { AbortError, InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, takeRows, toMatrix } from "../core/matrix.js";
import { makeRandom, type Random } from "../core/random.js";
import { calinskiHarabaszScore } from "./calinski-harabasz.js";
import { daviesBouldinScore } from "./davies-bouldin.js";
import { silhouetteScores } from "./silhouette.js";
import { meanAndCovariance, symmetricEigen } from "../core/linalg.js";

// ---------------------------------------------------------------------------------------
// Kneedle

export interface KneedleOptions {
  /** Shape of the curve: inertia against k is "convex" and "decreasing" (the defaults). */
  curve?: "convex" | "concave";
  direction?: "decreasing" | "increasing";
  /**
   * Kneedle's sensitivity S: the peak of the difference curve must stand at least S times the
   * mean spacing of the normalised x values above 0 to count as a knee. Default 1.
   */
  sensitivity?: number;
}

export interface KneeResult {
  /** The x value of the knee, or null when the curve has none. */
  knee: number | null;
  /** Its index in x, or −1. */
  index: number;
  /** x and y normalised to [0, 1]. */
  xNormalized: number[];
  yNormalized: number[];
  /** The difference curve; the knee is at its maximum. */
  difference: number[];
  /** The height the maximum of the difference curve had to reach. */
  threshold: number;
  /** Why there is no knee, when there is none. */
  reason: string | null;
}

/**
 * The knee (or elbow) of a curve by the Kneedle method (Satopää, Albrecht, Irwin & Raghavan,
 * 2011). x and y are normalised to [0, 1]; the curve is turned into an increasing concave one
 * by flipping y (decreasing convex, as inertia against k), x (decreasing concave) or both
 * (increasing convex); the difference curve is then the flipped y minus the flipped x, i.e.
 * how far the curve stands from the straight line joining its two ends, and the knee is where
 * that distance is largest.
 *
 * No knee: when x has fewer than 3 points, when y is constant, or when the largest value of
 * the difference curve is below the threshold S × (mean spacing of the normalised x values),
 * i.e. the curve never bends away from its chord by more than about one step of x (a nearly
 * straight line, or a curve bent the other way). The result then has `knee: null` and a
 * `reason`. This is the offline form of Kneedle: the whole curve is known, so the knee is the
 * global maximum of the difference curve rather than the first local maximum that is
 * followed by a drop below the threshold. x must be strictly increasing.
 */
export function kneedle(x: ArrayLike<number>, y: ArrayLike<number>, options: KneedleOptions = {}): KneeResult {
  const n = x.length;
  if (y.length !== n) throw new InputError(`kneedle: x has ${n} values but y has ${y.length}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) throw new InputError(`kneedle: point ${i} is not finite (${x[i]}, ${y[i]})`);
    if (i > 0 && !(x[i] > x[i - 1])) throw new InputError("kneedle: x must be strictly increasing");
  }
  const curve = options.curve ?? "convex";
  const direction = options.direction ?? "decreasing";
  const S = options.sensitivity ?? 1;
  const none = (reason: string, xn: number[] = [], yn: number[] = [], diff: number[] = [], threshold = NaN): KneeResult =>
    ({ knee: null, index: -1, xNormalized: xn, yNormalized: yn, difference: diff, threshold, reason });
  if (n < 3) return none(`a knee needs at least 3 points, got ${n}`);
  const xMin = x[0];
  const xMax = x[n - 1];
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    yMin = Math.min(yMin, y[i]);
    yMax = Math.max(yMax, y[i]);
  }
  const xn = Array.from({ length: n }, (_, i) => (x[i] - xMin) / (xMax - xMin));
  if (yMax === yMin) return none("the curve is flat", xn, xn.map(() => 0), xn.map(() => 0));
  const yn = Array.from({ length: n }, (_, i) => (y[i] - yMin) / (yMax - yMin));
  // The four shapes, each turned into an increasing concave curve:
  //   concave increasing: as is;       convex decreasing: flip y;
  //   concave decreasing: flip x;      convex increasing: flip x and y.
  const fy = curve === "convex";
  const fx = (curve === "concave" && direction === "decreasing") || (curve === "convex" && direction === "increasing");
  const difference = xn.map((xi, i) => (fy ? 1 - yn[i] : yn[i]) - (fx ? 1 - xi : xi));
  let best = 0;
  for (let i = 1; i < n; i++) if (difference[i] > difference[best]) best = i;
  const threshold = S / (n - 1);
  if (!(difference[best] >= threshold)) {
    return none(
      `the curve stays within ${difference[best].toFixed(3)} of the straight line joining its ends (a knee needs ${threshold.toFixed(3)})`,
      xn, yn, difference, threshold,
    );
  }
  return { knee: x[best], index: best, xNormalized: xn, yNormalized: yn, difference, threshold, reason: null };
}

// ---------------------------------------------------------------------------------------
// Linear algebra for the gap statistic's reference box

export { symmetricEigen };

/** X centred and rotated onto the eigenvectors of its covariance matrix (its principal components, unordered). */
export function principalRotation(X: Matrix): Matrix {
  const { rows: n, cols: d, data } = X;
  const { mean, cov } = meanAndCovariance(data, n, d);
  const row = new Float64Array(d);
  const { vectors: V } = symmetricEigen(cov, d);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j] - mean[j];
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += row[j] * V[j * d + c];
      out[i * d + c] = s;
    }
  }
  return { data: out, rows: n, cols: d };
}

/** Total sum of squares about the column means: the within-cluster sum of squares of one cluster. */
export function totalSumOfSquares(X: Matrix): number {
  const { rows: n, cols: d, data } = X;
  let total = 0;
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + j];
    m /= n;
    for (let i = 0; i < n; i++) {
      const t = data[i * d + j] - m;
      total += t * t;
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------
// The sweep

export interface ChooseKProgress {
  /**
   * "sweep": the fits on the data, their silhouette and the refits on the sample for the gap
   * statistic and stability; "gap": fits on the uniform reference sets; "stability": fits on
   * bootstrap resamples.
   */
  phase: "sweep" | "gap" | "stability";
  k: number;
  /** Reference set or resample number (1-based), for "gap" and "stability". */
  round?: number;
  /**
   * Work done so far and in all, in comparable units (about one row-to-center distance per
   * unit: a K-Means fit weighs rows × k × initialisations × an expected number of iterations,
   * the silhouette its pairs of rows). done/total is the share of the whole choice done, for
   * a progress bar and an estimate of the time left; total is fixed for the run and done never
   * goes down. Reports come after every fit, every 1/64 of the silhouette and, within each fit
   * on the data, as it runs (at most every `progressInterval` ms): there the share grows with
   * the fit's iterations or, when it runs on the worker pool, with its time against the time
   * the fits before it took per unit.
   */
  done: number;
  total: number;
  /** What is being done, with the share done, e.g. "k=4: K-Means on the data (12%)". */
  message: string;
}

export interface ChooseKOptions {
  /** The range of k; defaults 2 and 10. kMin ≥ 2. */
  kMin?: number;
  kMax?: number;
  /** K-Means options of every fit (as KMeans). Defaults: nInit 10, maxIter 300, tol 1e-4. */
  nInit?: number;
  maxIter?: number;
  tol?: number;
  /**
   * Seed of every random choice. The fits on the data use it as their randomState (so the fit
   * for a k is the one `new KMeans({ nClusters: k, randomState, nInit })` gives); the reference
   * sets, resamples and their fits draw from a Random seeded with it. undefined: a fresh seed.
   */
  randomState?: number | null;
  /**
   * Above this many rows the silhouette is computed on a random sample of this size (default
   * 10,000): the rows silhouetteScore(X, labels, { sampleSize, randomState }) draws, the same
   * for every k (as scikit-learn's silhouette_score with sample_size and the same random_state).
   */
  silhouetteSampleSize?: number;
  /** B of the gap statistic: uniform reference sets (default 10); 0 leaves the gap statistic out. */
  gapReferences?: number;
  /** Bootstrap resamples for stability (default 20); 0 leaves stability out. */
  stabilityResamples?: number;
  /** Mean clusterwise Jaccard from which a clustering counts as stable (default 0.75, after Hennig). */
  stabilityThreshold?: number;
  /**
   * Above this many rows, the gap statistic and stability work on a random sample of this size
   * (default 5,000: hundreds of rows a cluster up to k = 10; they take 30 K-Means fits of the
   * sample per k, where the indices take one fit of all rows).
   */
  maxRows?: number;
  /** Initialisations of the fits on bootstrap resamples (default: 3, or nInit when smaller). */
  resampleNInit?: number;
  /** Initialisations of the fits on the gap statistic's reference sets (default: resampleNInit). */
  gapNInit?: number;
  /** Kneedle's sensitivity (default 1). */
  sensitivity?: number;
  onProgress?: (p: ChooseKProgress) => void;
  /**
   * Given each fit on the data of the sweep (k and the fitted model): the fit for a k is the
   * one `new KMeans({ nClusters: k, randomState, nInit, maxIter, tol })` gives, so a caller can
   * keep the chosen k's instead of fitting it again.
   */
  onFit?: (k: number, model: KMeansModel) => void;
  /** Least time between two progress reports, in ms (default 100; 0 reports every step). */
  progressInterval?: number;
  signal?: AbortSignal;
}

export interface KEvaluation {
  k: number;
  inertia: number;
  nIter: number;
  /** Rows in each cluster of the fit on the data. */
  sizes: number[];
  /** Mean silhouette (on a sample above silhouetteSampleSize rows); NaN with fewer than 2 distinct clusters. */
  silhouette: number;
  daviesBouldin: number;
  calinskiHarabasz: number;
  /** log W_k of the data (W_k = within-cluster sum of squares), of the mean reference, Gap(k) and s_k. */
  logW: number | null;
  logWReference: number | null;
  gap: number | null;
  gapSe: number | null;
  /** Mean over clusters of the clusterwise bootstrap Jaccard, its minimum, and each cluster's value. */
  stability: number | null;
  stabilityMin: number | null;
  clusterStability: number[] | null;
  /** Mean ≥ threshold and no cluster below 0.5 ("dissolved"); null when stability was not computed. */
  stable: boolean | null;
}

export type KVoter = "silhouette" | "daviesBouldin" | "calinskiHarabasz" | "elbow" | "gap";

export const VOTER_NAMES: Record<KVoter, string> = {
  silhouette: "silhouette",
  daviesBouldin: "Davies–Bouldin",
  calinskiHarabasz: "Calinski–Harabasz",
  elbow: "elbow",
  gap: "gap statistic",
};

export interface KRecommendation {
  k: number;
  /** Plain-language reasons, the decisive one first. */
  reasons: string[];
  /** The k each method points to (null: no opinion in the range). */
  votes: Record<KVoter, number | null>;
  /** Votes per k, most first. */
  tally: { k: number; votes: number; by: KVoter[] }[];
}

export interface KAlternative {
  k: number;
  /** Plain-language reasons, the decisive one first (as the recommendation's). */
  reasons: string[];
}

export interface ChooseKResult {
  rows: number;
  cols: number;
  kMin: number;
  kMax: number;
  seed: number | null;
  evaluations: KEvaluation[];
  /**
   * k = 1 (no segmentation), when the range starts at 2: the total sum of squares, which
   * begins the elbow curve, and Gap(1) with s_1, which the gap rule needs.
   */
  kOne: { inertia: number; logW: number; gap: number | null; gapSe: number | null } | null;
  /** Rows the silhouette was computed on when sampled, else null. */
  silhouetteSample: number | null;
  /** Kneedle on inertia against k (from k = 1 when kOne is there). */
  elbow: KneeResult;
  /** The gap statistic's k (may be 1), or null when the rule is met nowhere or gap is off. */
  gap: { k: number | null; references: number; sample: number | null; reason: string } | null;
  stability: { resamples: number; threshold: number; sample: number | null } | null;
  recommendation: KRecommendation;
  /**
   * When the recommendation is k = 2 and the range goes beyond it: the best k ≥ 3 by the same
   * voting (see `recommendBeyondTwo`), with its reasons, for an analyst who needs more than
   * two segments; `notes` then says how strong the 2-split is. null otherwise.
   */
  alternative: KAlternative | null;
  /** What was sampled, skipped or noticed. */
  notes: string[];
}

/**
 * Evaluates K-Means for every k in [kMin, kMax] and recommends one.
 *
 * For each k: a K-Means fit on the data (inertia), the silhouette, Davies–Bouldin and
 * Calinski–Harabasz, each equal to scikit-learn's (KMeans with the same nInit, silhouette_score,
 * davies_bouldin_score, calinski_harabasz_score). What is sampled above some size, and why:
 *
 * - the silhouette, above `silhouetteSampleSize` rows (10,000): it is computed on that many
 *   rows drawn with the seed, the same rows for every k, as scikit-learn's
 *   silhouette_score(sample_size=…, random_state=…) does for one k; the distances between
 *   those rows are computed once for all k (the sums of every k's clusters are taken in the
 *   same pass). Davies–Bouldin, Calinski–Harabasz and the inertia use every row.
 * - the gap statistic and stability, above `maxRows` rows (5,000): they work on one seeded
 *   sample of that many rows. The data's W_k and clusters on that sample come from the fit on
 *   all rows, refined on the sample (K-Means started from its centers), not from new fits.
 *   The reference sets have as many rows as the sample; they and the bootstrap resamples are
 *   fitted with `resampleNInit` (3) initialisations, a resample on its distinct rows weighted
 *   by how often they were drawn (the same K-Means as on the drawn rows, in about 63% of the
 *   work).
 *
 * `notes` says what was sampled.
 *
 * Elbow: Kneedle (see `kneedle`) on inertia against k, starting at k = 1 (the total sum of
 * squares) when kMin is 2 so that an elbow at k = 2 can be found.
 *
 * Gap statistic (Tibshirani, Walther & Hastie, 2001): B reference sets of n rows drawn
 * uniformly in the box spanned by the data's principal components (the data centred and
 * rotated onto the eigenvectors of its covariance, found by Jacobi; since K-Means does not
 * care about rotations, the reference sets are clustered in that rotated frame). W_k is the
 * within-cluster sum of squares (K-Means' inertia); Gap(k) = mean_b log W*_kb − log W_k;
 * sd_k is the standard deviation of log W*_kb over b (with 1/B, as in the paper) and
 * s_k = sd_k·√(1 + 1/B). The gap's k is the smallest k with Gap(k) ≥ Gap(k+1) − s_{k+1};
 * k = 1 means no evidence of clusters; null means the rule is met nowhere below kMax.
 *
 * Stability (Hennig, 2007, clusterwise Jaccard by the bootstrap): B resamples of the rows with
 * replacement are clustered again with the same k. For each original cluster C and resample,
 * over the distinct rows drawn, the Jaccard similarity |C ∩ D| / |C ∪ D| with the most similar
 * resample cluster D; a cluster's stability is its mean over the resamples that drew some of
 * it. Per k: the mean over clusters and the weakest cluster.
 *
 * The recommendation: see `recommendK`. When it is k = 2 (silhouette and Calinski–Harabasz
 * tend to prefer 2 on data without clear groups), `alternative` is the best k ≥ 3 by the same
 * voting (see `recommendBeyondTwo`) and a note says whether the 2-split is clear or weak
 * (silhouette 0.5 or less, after Kaufman & Rousseeuw) and what speaks for the alternative.
 */
export async function chooseK(Xin: MatrixLike, options: ChooseKOptions = {}): Promise<ChooseKResult> {
  const X = toMatrix(Xin, "X");
  const { rows: n, cols: d } = X;
  const kMin = options.kMin ?? 2;
  const kMax = options.kMax ?? 10;
  const nInit = options.nInit ?? 10;
  const B = options.gapReferences ?? 10;
  const R = options.stabilityResamples ?? 20;
  const threshold = options.stabilityThreshold ?? 0.75;
  const silSample = options.silhouetteSampleSize ?? 10000;
  const maxRows = options.maxRows ?? 5000;
  const resampleNInit = options.resampleNInit ?? Math.min(3, nInit);
  const gapNInit = options.gapNInit ?? resampleNInit;
  const interval = options.progressInterval ?? 100;
  checkInt("kMin", kMin, 2);
  checkInt("kMax", kMax, kMin);
  checkInt("nInit", nInit, 1);
  checkInt("gapReferences", B, 0);
  checkInt("stabilityResamples", R, 0);
  checkInt("silhouetteSampleSize", silSample, 2);
  checkInt("maxRows", maxRows, 10);
  checkInt("resampleNInit", resampleNInit, 1);
  checkInt("gapNInit", gapNInit, 1);
  if (!(interval >= 0)) throw new InputError(`progressInterval must be a number of milliseconds ≥ 0, got ${interval}`);
  if (!(threshold >= 0 && threshold <= 1)) throw new InputError(`stabilityThreshold must be between 0 and 1, got ${threshold}`);
  if (d === 0) throw new InputError("X has no columns: choose at least one feature");
  if (n <= kMax) throw new InputError(`X has ${n} rows; choosing k up to ${kMax} needs more rows than that: lower kMax or supply more rows`);

  const seed = options.randomState ?? null;
  const rng = makeRandom(seed);
  const mainSeed = seed ?? rng.nextUint32();
  const notes: string[] = [];
  const ks = Array.from({ length: kMax - kMin + 1 }, (_, i) => kMin + i);
  const withOne = kMin === 2;
  const sampled = n > maxRows;
  const refit = sampled && (B > 0 || R > 0);
  const nE = sampled ? maxRows : n;
  const silhouetteSample = n > silSample ? silSample : null;
  const nS = silhouetteSample ?? n;

  // The plan of the work, in units of about one row-to-center distance: a fit weighs
  // rows × k × initialisations × an expected number of iterations; the silhouette, its pairs of
  // rows (plus the additions into each k's sums); Davies–Bouldin and Calinski–Harabasz a few
  // passes over the rows. A bootstrap resample is fitted on its distinct rows, about 63% of them.
  const fitWork = (rows: number, k: number, inits: number, iterations: number): number => rows * k * inits * iterations;
  const distinctShare = 1 - Math.pow(1 - 1 / nE, nE);
  const silWork = ((nS * (nS - 1)) / 2) * (1 + (2 * ks.length) / d);
  let total = silWork;
  for (const k of ks) {
    total += fitWork(n, k, nInit, ITERATIONS) + 4 * n;
    if (refit) total += fitWork(nE, k, 1, REFIT_ITERATIONS);
    total += B * fitWork(nE, k, gapNInit, REFERENCE_ITERATIONS) + R * fitWork(nE * distinctShare, k, resampleNInit, ITERATIONS);
  }
  let done = 0;
  let lastReport = -Infinity;
  const report = (phase: ChooseKProgress["phase"], k: number, what: string, round?: number, force = false): void => {
    if (!options.onProgress) return;
    const now = Date.now();
    if (!force && now - lastReport < interval) return;
    lastReport = now;
    const at = Math.min(done, total);
    options.onProgress({ phase, k, round, done: at, total, message: `${what} (${at >= total ? 100 : Math.floor((100 * at) / total)}%)` });
  };
  interface FitTask {
    phase: ChooseKProgress["phase"];
    what: string;
    round?: number;
    /** The units of work this fit was planned as. */
    work: number;
    /** Report progress while it runs (the fits on the data: the long ones). */
    track?: boolean;
    init?: Matrix;
    sampleWeight?: Float64Array;
    onWarning?: (m: string) => void;
  }
  // Milliseconds per unit of fit work, learned from the fits done so far (a guess before the first).
  let fitTime = 0;
  let fitUnits = 0;
  const msPerUnit = (): number => (fitUnits > 0 ? fitTime / fitUnits : d * 2e-6);
  const onPool = getParallelExecutor() !== null && sharedMemoryAvailable();
  const fit = async (M: Matrix, k: number, randomState: number, inits: number, task: FitTask) => {
    if (options.signal?.aborted) throw new AbortError("the choice of k was aborted");
    const start = done;
    const t0 = Date.now();
    // Within a long fit, its share fills up as 1 − e^(−x), never running past it: on the worker
    // pool, where the fit waits for the workers, a timer reports x = time / expected time (no
    // cost to the fit); on the calling thread, the fit's own iterations are counted (x =
    // iteration / expected iterations, one extra pass over the rows each).
    let timer: ReturnType<typeof setInterval> | null = null;
    let onIteration: ((p: { init: number; iteration: number }) => void) | undefined;
    if (task.track && options.onProgress) {
      // KMeans splits a fit across the workers from 16,384 rows and 4,000,000 row × center ×
      // feature products (src/cluster/kmeans.ts); below that it runs here, where no timer can fire.
      if (onPool && M.rows >= 16384 && M.rows * k * d >= 4e6) {
        const expected = task.work * msPerUnit();
        timer = setInterval(() => {
          done = start + task.work * (1 - Math.exp(-(Date.now() - t0) / expected));
          report(task.phase, k, task.what, task.round);
        }, Math.max(interval, 50));
      } else {
        const perInit = task.work / inits;
        onIteration = (p) => {
          done = start + perInit * (p.init + 1 - Math.exp(-p.iteration / ITERATIONS));
          report(task.phase, k, task.what, task.round);
        };
      }
    }
    let m: KMeansModel;
    try {
      m = await new KMeans({
        nClusters: k, nInit: task.init ? 1 : inits, init: task.init, maxIter: options.maxIter, tol: options.tol, randomState,
        signal: options.signal, onProgress: onIteration,
      }).fit(M, { onWarning: task.onWarning, sampleWeight: task.sampleWeight });
    } finally {
      if (timer !== null) clearInterval(timer);
    }
    fitTime += Date.now() - t0;
    fitUnits += task.work;
    done = start + task.work;
    report(task.phase, k, task.what, task.round);
    return m;
  };

  // 1. The sweep on the data.
  if (silhouetteSample) notes.push(`silhouette computed on a random sample of ${silSample} of the ${n} rows (seed ${mainSeed}), the same rows for every k`);
  report("sweep", kMin, `k=${kMin}: K-Means on the data`, undefined, true);
  const evaluations: KEvaluation[] = [];
  const labelsOf = new Map<number, Int32Array>();
  const centersOf = new Map<number, Matrix>();
  for (const k of ks) {
    const m = await fit(X, k, mainSeed, nInit, {
      phase: "sweep", what: `k=${k}: K-Means on the data`, work: fitWork(n, k, nInit, ITERATIONS), track: true,
      onWarning: (w) => {
        const msg = `k=${k}: ${w}`;
        if (!notes.includes(msg)) notes.push(msg);
      },
    });
    labelsOf.set(k, m.labels);
    centersOf.set(k, m.clusterCenters);
    options.onFit?.(k, m);
    const sizes = new Array<number>(k).fill(0);
    for (const l of m.labels) sizes[l]++;
    const distinct = sizes.filter((s) => s > 0).length;
    const ok = distinct >= 2 && distinct <= n - 1;
    evaluations.push({
      k, inertia: m.inertia, nIter: m.nIter, sizes,
      silhouette: NaN,
      daviesBouldin: ok ? daviesBouldinScore(X, m.labels) : NaN,
      calinskiHarabasz: ok ? calinskiHarabaszScore(X, m.labels) : NaN,
      logW: null, logWReference: null, gap: null, gapSe: null,
      stability: null, stabilityMin: null, clusterStability: null, stable: null,
    });
    done += 4 * n;
  }
  // The silhouette of every k in one pass over the pairs of (sampled) rows.
  const scored = evaluations.filter((e) => {
    const distinct = e.sizes.filter((s) => s > 0).length;
    return distinct >= 2 && distinct <= n - 1;
  });
  const silStart = done;
  const silWhat = `silhouette of k=${kMin}..${kMax} on ${silhouetteSample ? `a sample of ${nS}` : `all ${nS}`} rows`;
  if (scored.length) {
    const sil = silhouetteScores(X, scored.map((e) => labelsOf.get(e.k)!), {
      ...(silhouetteSample ? { sampleSize: silSample, randomState: mainSeed } : {}),
      onProgress: options.onProgress
        ? (f) => {
          done = silStart + f * silWork;
          report("sweep", kMax, silWhat);
        }
        : undefined,
    });
    scored.forEach((e, i) => (e.silhouette = sil[i]));
  }
  done = silStart + silWork;
  const totalSS = totalSumOfSquares(X);

  // The rows the gap statistic and stability work on, and their clusterings: the fit on all
  // rows, refined on the sample.
  let E = X;
  const labelsE = new Map(labelsOf);
  const inertiaE = new Map(evaluations.map((e) => [e.k, e.inertia]));
  let evalSample: number | null = null;
  if (refit) {
    const idx = rng.sampleWithoutReplacement(n, maxRows);
    E = takeRows(X, idx);
    evalSample = maxRows;
    notes.push(`the gap statistic and stability computed on a random sample of ${maxRows} of the ${n} rows, with each k's clusters from the fit on all rows (refined on the sample)`);
    for (const k of ks) {
      const m = await fit(E, k, mainSeed, 1, {
        phase: "sweep", what: `k=${k}: the fit on all rows, refined on the sample for gap and stability`,
        work: fitWork(nE, k, 1, REFIT_ITERATIONS), init: centersOf.get(k),
      });
      labelsE.set(k, m.labels);
      inertiaE.set(k, m.inertia);
    }
  }

  // 2. The gap statistic.
  let kOne: ChooseKResult["kOne"] = withOne ? { inertia: totalSS, logW: Math.log(totalSS), gap: null, gapSe: null } : null;
  let gapInfo: ChooseKResult["gap"] = null;
  if (B > 0) {
    const P = principalRotation(E);
    const lo = new Float64Array(d).fill(Infinity);
    const hi = new Float64Array(d).fill(-Infinity);
    for (let i = 0; i < P.rows; i++) {
      for (let j = 0; j < d; j++) {
        const v = P.data[i * d + j];
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
      }
    }
    const gapKs = withOne ? [1, ...ks] : ks;
    const refLog = gapKs.map(() => new Float64Array(B));
    for (let b = 0; b < B; b++) {
      const Z = uniformBox(lo, hi, E.rows, rng);
      for (let t = 0; t < gapKs.length; t++) {
        const k = gapKs[t];
        if (k === 1) {
          refLog[t][b] = safeLog(totalSumOfSquares(Z));
          continue;
        }
        const m = await fit(Z, k, rng.nextUint32(), gapNInit, {
          phase: "gap", what: `k=${k}: gap reference set ${b + 1}/${B}`, round: b + 1, work: fitWork(nE, k, gapNInit, REFERENCE_ITERATIONS),
        });
        refLog[t][b] = safeLog(m.inertia);
      }
    }
    const gaps: { k: number; gap: number; se: number }[] = [];
    gapKs.forEach((k, t) => {
      const mean = refLog[t].reduce((a, v) => a + v, 0) / B;
      const sd = Math.sqrt(refLog[t].reduce((a, v) => a + (v - mean) * (v - mean), 0) / B);
      const se = sd * Math.sqrt(1 + 1 / B);
      const logW = safeLog(k === 1 ? totalSumOfSquares(E) : inertiaE.get(k)!);
      gaps.push({ k, gap: mean - logW, se });
      if (k === 1) kOne = { inertia: totalSS, logW: Math.log(totalSS), gap: mean - logW, gapSe: se };
      else Object.assign(evaluations[k - kMin], { logW, logWReference: mean, gap: mean - logW, gapSe: se });
    });
    let gapK: number | null = null;
    for (let t = 0; t + 1 < gaps.length; t++) {
      if (gaps[t].gap >= gaps[t + 1].gap - gaps[t + 1].se) {
        gapK = gaps[t].k;
        break;
      }
    }
    const reason = gapK === null
      ? `Gap(k) < Gap(k+1) − s(k+1) for every k below ${kMax}: the gap keeps growing, so the rule picks no k in the range`
      : gapK === 1
        ? "Gap(1) ≥ Gap(2) − s(2): the data look no more clustered than uniform noise in their principal-component box"
        : `k=${gapK} is the smallest k with Gap(k) ≥ Gap(k+1) − s(k+1)`;
    gapInfo = { k: gapK, references: B, sample: evalSample, reason };
  }

  // 3. Stability by the bootstrap. Each resample is fitted on its distinct rows, weighted by
  // how often they were drawn (the same K-Means as on the drawn rows with their repeats).
  let stabilityInfo: ChooseKResult["stability"] = null;
  if (R > 0) {
    const sums = new Map(ks.map((k) => [k, new Float64Array(k)]));
    const seen = new Map(ks.map((k) => [k, new Float64Array(k)]));
    const idx = new Int32Array(nE);
    const count = new Float64Array(nE);
    const drawn = new Uint8Array(nE);
    for (let r = 0; r < R; r++) {
      count.fill(0);
      for (let i = 0; i < nE; i++) {
        idx[i] = rng.int(nE);
        count[idx[i]]++;
      }
      let distinct = 0;
      for (let i = 0; i < nE; i++) {
        drawn[i] = count[i] > 0 ? 1 : 0;
        distinct += drawn[i];
      }
      const rows = new Int32Array(distinct);
      const weights = new Float64Array(distinct);
      for (let i = 0, p = 0; i < nE; i++) {
        if (!drawn[i]) continue;
        rows[p] = i;
        weights[p++] = count[i];
      }
      const XD = takeRows(E, rows);
      let XB: Matrix | null = null;
      for (const k of ks) {
        const task: FitTask = {
          phase: "stability", what: `k=${k}: bootstrap resample ${r + 1}/${R}`, round: r + 1,
          work: fitWork(nE * distinctShare, k, resampleNInit, ITERATIONS),
        };
        let jac: Float64Array;
        if (distinct >= k) {
          const m = await fit(XD, k, rng.nextUint32(), resampleNInit, { ...task, sampleWeight: weights });
          jac = clusterwiseJaccard(labelsE.get(k)!, k, rows, drawn, m.labels, k);
        } else {
          // Fewer distinct rows than clusters (tiny tables): the drawn rows with their repeats.
          XB ??= takeRows(E, idx);
          const m = await fit(XB, k, rng.nextUint32(), resampleNInit, task);
          jac = clusterwiseJaccard(labelsE.get(k)!, k, idx, drawn, m.labels, k);
        }
        const s = sums.get(k)!;
        const c = seen.get(k)!;
        for (let a = 0; a < k; a++) {
          if (!Number.isNaN(jac[a])) {
            s[a] += jac[a];
            c[a]++;
          }
        }
      }
    }
    for (const k of ks) {
      const s = sums.get(k)!;
      const c = seen.get(k)!;
      const per = Array.from(s, (v, a) => (c[a] > 0 ? v / c[a] : 0));
      const ev = evaluations[k - kMin];
      ev.clusterStability = per;
      ev.stability = per.reduce((x, y) => x + y, 0) / k;
      ev.stabilityMin = Math.min(...per);
      ev.stable = ev.stability >= threshold && ev.stabilityMin >= 0.5;
    }
    stabilityInfo = { resamples: R, threshold, sample: evalSample };
  }

  const elbowKs = withOne ? [1, ...ks] : ks;
  const elbowY = withOne ? [totalSS, ...evaluations.map((e) => e.inertia)] : evaluations.map((e) => e.inertia);
  const elbow = kneedle(elbowKs, elbowY, { curve: "convex", direction: "decreasing", sensitivity: options.sensitivity });
  const recommendation = recommendK(evaluations, {
    elbow: elbow.knee,
    elbowReason: elbow.reason,
    gap: gapInfo ? gapInfo.k : undefined,
    stabilityThreshold: threshold,
  });
  let alternative: KAlternative | null = null;
  if (recommendation.k === 2) {
    const alt = recommendBeyondTwo(evaluations, { elbow: elbow.knee, gap: gapInfo ? gapInfo.k : undefined, stabilityThreshold: threshold });
    if (alt) {
      alternative = { k: alt.k, reasons: alt.reasons };
      notes.push(twoSegmentsNote(evaluations, alt));
    }
  }
  done = total;
  report(R > 0 ? "stability" : B > 0 ? "gap" : "sweep", kMax, `k=${recommendation.k} recommended`, undefined, true);
  return {
    rows: n, cols: d, kMin, kMax, seed, evaluations, kOne, silhouetteSample, elbow, gap: gapInfo, stability: stabilityInfo,
    recommendation, alternative, notes,
  };
}

/** Expected Lloyd iterations of a fit on the data or a resample, of a refinement from given centers, of a fit on uniform data. */
const ITERATIONS = 20;
const REFIT_ITERATIONS = 5;
const REFERENCE_ITERATIONS = 50;

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new InputError(`${name} must be a whole number ≥ ${min}, got ${v}`);
}

function safeLog(w: number): number {
  return Math.log(Math.max(w, Number.MIN_VALUE));
}

function uniformBox(lo: Float64Array, hi: Float64Array, n: number, rng: Random): Matrix {
  const d = lo.length;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = lo[j] + (hi[j] - lo[j]) * rng.random();
  return { data: out, rows: n, cols: d };
}

/**
 * For each original cluster a (labels `orig` over the rows, ka clusters), the largest Jaccard
 * similarity with a cluster of the resample, over the distinct rows the resample drew: `idx`
 * gives the row of each resample position, `drawn` marks the drawn rows, `boot` the resample's
 * labels (kb clusters). NaN for a cluster the resample did not draw at all.
 */
export function clusterwiseJaccard(
  orig: Int32Array, ka: number, idx: Int32Array, drawn: Uint8Array, boot: Int32Array, kb: number,
): Float64Array {
  const bootOf = new Int32Array(orig.length).fill(-1);
  for (let p = 0; p < idx.length; p++) if (bootOf[idx[p]] < 0) bootOf[idx[p]] = boot[p];
  const joint = new Float64Array(ka * kb);
  const na = new Float64Array(ka);
  const nb = new Float64Array(kb);
  for (let i = 0; i < orig.length; i++) {
    if (!drawn[i]) continue;
    const a = orig[i];
    const b = bootOf[i];
    joint[a * kb + b]++;
    na[a]++;
    nb[b]++;
  }
  const out = new Float64Array(ka);
  for (let a = 0; a < ka; a++) {
    if (na[a] === 0) {
      out[a] = NaN;
      continue;
    }
    let best = 0;
    for (let b = 0; b < kb; b++) {
      const j = joint[a * kb + b];
      if (j > 0) best = Math.max(best, j / (na[a] + nb[b] - j));
    }
    out[a] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The recommendation

export interface RecommendOptions {
  /** The elbow's k (null: no elbow). */
  elbow?: number | null;
  elbowReason?: string | null;
  /** The gap statistic's k (1: no clusters; null: rule met nowhere; undefined: not computed). */
  gap?: number | null;
  stabilityThreshold?: number;
  /**
   * The elbow and the gap were read from these k on (as `recommendBeyondTwo` does): the
   * reasons say so. Default: the whole curve.
   */
  elbowFrom?: number;
  gapFrom?: number;
}

/**
 * The silhouette bands of Kaufman & Rousseeuw (1990): above 0.5 a reasonable to strong
 * structure, 0.26–0.5 weak (possibly artificial), 0.25 and below no substantial structure.
 */
export const WEAK_SILHOUETTE = 0.5;
export const NO_STRUCTURE_SILHOUETTE = 0.25;

/**
 * The best k ≥ 3 by the same voting as `recommendK`, for when the recommendation is 2: the
 * indices vote among k ≥ 3; the elbow keeps its vote when it is at 3 or more, else it is
 * read again by Kneedle on the inertia curve from k = 2 on (so k = 2 plays the part k = 1
 * plays in the full curve); the gap statistic keeps its vote when it is 3 or more, else its
 * rule is read from k = 3 on (the smallest k ≥ 3 with Gap(k) ≥ Gap(k+1) − s(k+1)); the stable
 * k are preferred as in `recommendK`. null when no k ≥ 3 was evaluated.
 */
export function recommendBeyondTwo(evaluations: KEvaluation[], options: RecommendOptions = {}): KRecommendation | null {
  const sorted = [...evaluations].sort((a, b) => a.k - b.k);
  const rest = sorted.filter((e) => e.k >= 3);
  if (rest.length === 0) return null;
  let elbow = options.elbow ?? null;
  let elbowReason = options.elbowReason ?? null;
  let elbowFrom: number | undefined;
  if (elbow === null || elbow < 3) {
    const curve = sorted.filter((e) => e.k >= 2);
    const knee = curve.length >= 3
      ? kneedle(curve.map((e) => e.k), curve.map((e) => e.inertia), { curve: "convex", direction: "decreasing" })
      : null;
    elbow = knee ? knee.knee : null;
    elbowReason = knee ? knee.reason : "too few k beyond 2";
    elbowFrom = curve[0]?.k;
  }
  let gap = options.gap;
  let gapFrom: number | undefined;
  if (gap != null && gap < 3) {
    gapFrom = 3;
    gap = null;
    for (let t = 0; t + 1 < rest.length; t++) {
      const a = rest[t];
      const b = rest[t + 1];
      if (a.gap === null || b.gap === null || b.gapSe === null || b.k !== a.k + 1) continue;
      if (a.gap >= b.gap - b.gapSe) {
        gap = a.k;
        break;
      }
    }
  }
  return recommendK(rest, { elbow, elbowReason, gap, stabilityThreshold: options.stabilityThreshold, elbowFrom, gapFrom });
}

/** The note that goes with a recommendation of 2: how strong the split is, and the best k ≥ 3. */
/** The note on a recommendation of 2: how strong that split is, and the best k ≥ 3 with its evidence. */
export function twoSegmentsNote(evaluations: KEvaluation[], alt: KRecommendation): string {
  const two = evaluations.find((e) => e.k === 2)!;
  const s = two.silhouette;
  const strength = !Number.isFinite(s)
    ? ""
    : s <= NO_STRUCTURE_SILHOUETTE
      ? `: the structure is weak (silhouette ${fmt(s, 2)}; ${NO_STRUCTURE_SILHOUETTE} or less means no substantial structure)`
      : s <= WEAK_SILHOUETTE
        ? `: the structure is weak (silhouette ${fmt(s, 2)})`
        : `, a clear split (silhouette ${fmt(s, 2)})`;
  const ks = evaluations.filter((e) => e.k >= 3).map((e) => e.k);
  const range = ks.length > 1 ? `${Math.min(...ks)}..${Math.max(...ks)}` : String(ks[0]);
  const e = evaluations.find((x) => x.k === alt.k)!;
  const votes = alt.tally.find((t) => t.k === alt.k);
  const evidence: string[] = [
    votes ? `${votes.votes} of 5 methods ${votes.votes === 1 ? "points" : "point"} to it (${votes.by.map((v) => VOTER_NAMES[v]).join(", ")})` : "no method points to a k above 2; it has the highest silhouette there",
  ];
  if (Number.isFinite(e.silhouette)) evidence.push(`silhouette ${fmt(e.silhouette, 2)}`);
  if (e.stable !== null) evidence.push(`${e.stable ? "stable" : "not stable"} (mean bootstrap Jaccard ${fmt(e.stability!, 2)}, weakest segment ${fmt(e.stabilityMin!, 2)})`);
  return `the evidence points to 2 segments${strength}. If you need more segments, k = ${alt.k} is the best of ${range}: ${evidence.join("; ")}`;
}

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? String(Number(x.toPrecision(digits))) : String(x));

/**
 * The recommended k, by votes filtered by stability.
 *
 * 1. Five methods vote for one k each: the largest silhouette, the smallest Davies–Bouldin,
 *    the largest Calinski–Harabasz, the elbow of the inertia curve (Kneedle), and the gap
 *    statistic's rule. A method with no opinion in the range (no elbow; a gap of k = 1 or no
 *    k meeting the rule; an index that is NaN everywhere) does not vote.
 * 2. When stability was computed, a k is stable when its mean clusterwise bootstrap Jaccard is
 *    at least the threshold (0.75, Hennig's "stable") and no cluster is below 0.5 ("dissolved").
 *    The candidates are the stable k that got a vote; if none did, every k that got a vote
 *    (and the reasons say that none of them is stable).
 * 3. Among the candidates, the most votes wins; ties go to the more stable k (mean Jaccard),
 *    then the higher silhouette, then the smaller k.
 * 4. With no vote at all, the k with the highest silhouette, or else kMin.
 *
 * The reasons name the winner's votes, its stability, the other methods' choices when they
 * disagree, any better-voted k passed over for instability, and a gap statistic of k = 1.
 */
export function recommendK(evaluations: KEvaluation[], options: RecommendOptions = {}): KRecommendation {
  if (evaluations.length === 0) throw new InputError("recommendK: no k was evaluated");
  const threshold = options.stabilityThreshold ?? 0.75;
  const byK = new Map(evaluations.map((e) => [e.k, e]));
  const argBest = (key: "silhouette" | "daviesBouldin" | "calinskiHarabasz", sign: 1 | -1): number | null => {
    let best: KEvaluation | null = null;
    for (const e of evaluations) {
      if (!Number.isFinite(e[key])) continue;
      if (best === null || sign * e[key] > sign * best[key]) best = e;
    }
    return best ? best.k : null;
  };
  const inRange = (k: number | null | undefined): number | null => (k != null && byK.has(k) ? k : null);
  const votes: Record<KVoter, number | null> = {
    silhouette: argBest("silhouette", 1),
    daviesBouldin: argBest("daviesBouldin", -1),
    calinskiHarabasz: argBest("calinskiHarabasz", 1),
    elbow: inRange(options.elbow),
    gap: inRange(options.gap),
  };
  const tallyMap = new Map<number, KVoter[]>();
  for (const [voter, k] of Object.entries(votes) as [KVoter, number | null][]) {
    if (k === null) continue;
    tallyMap.set(k, [...(tallyMap.get(k) ?? []), voter]);
  }
  const stabilityKnown = evaluations.some((e) => e.stable !== null);
  const stabilityOf = (k: number): number => byK.get(k)?.stability ?? -1;
  const silOf = (k: number): number => {
    const s = byK.get(k)?.silhouette ?? NaN;
    return Number.isFinite(s) ? s : -Infinity;
  };
  const order = (a: { k: number; votes: number }, b: { k: number; votes: number }): number =>
    b.votes - a.votes || stabilityOf(b.k) - stabilityOf(a.k) || silOf(b.k) - silOf(a.k) || a.k - b.k;
  const tally = [...tallyMap.entries()].map(([k, by]) => ({ k, votes: by.length, by })).sort(order);

  const reasons: string[] = [];
  const stabilityText = (e: KEvaluation): string =>
    `mean bootstrap Jaccard ${fmt(e.stability!, 2)}, weakest segment ${fmt(e.stabilityMin!, 2)}`;
  let k: number;
  if (tally.length === 0) {
    const s = argBest("silhouette", 1);
    k = s ?? evaluations[0].k;
    reasons.push(s !== null ? `no method gave a clear answer; k=${k} has the highest silhouette` : `no method gave an answer; k=${k}, the smallest in the range`);
  } else {
    const stable = stabilityKnown ? tally.filter((t) => byK.get(t.k)!.stable) : tally;
    const pool = stable.length ? stable : tally;
    const win = pool[0];
    k = win.k;
    const names = win.by.map((v) => VOTER_NAMES[v]).join(", ");
    reasons.push(`k=${k}: ${win.votes} of 5 methods ${win.votes === 1 ? "points" : "point"} to it (${names})${stabilityKnown && stable.length && pool !== tally && tally[0].k !== k ? ", the most among stable k" : ""}`);
    const ties = pool.filter((t) => t !== win && t.votes === win.votes);
    if (ties.length) {
      reasons.push(`tie with ${ties.map((t) => `k=${t.k}`).join(", ")} (${win.votes} votes each), broken by ${stabilityKnown ? "stability, then silhouette" : "silhouette"}, then the smaller k`);
    }
  }
  const e = byK.get(k)!;
  // What each method says.
  if (votes.silhouette !== null) reasons.push(`silhouette is highest at k=${votes.silhouette} (${fmt(byK.get(votes.silhouette)!.silhouette)}${votes.silhouette === k ? "" : `; ${fmt(e.silhouette)} at k=${k}`})`);
  if (votes.daviesBouldin !== null) reasons.push(`Davies–Bouldin is lowest at k=${votes.daviesBouldin} (${fmt(byK.get(votes.daviesBouldin)!.daviesBouldin)}${votes.daviesBouldin === k ? "" : `; ${fmt(e.daviesBouldin)} at k=${k}`})`);
  if (votes.calinskiHarabasz !== null) reasons.push(`Calinski–Harabasz is highest at k=${votes.calinskiHarabasz} (${fmt(byK.get(votes.calinskiHarabasz)!.calinskiHarabasz, 4)}${votes.calinskiHarabasz === k ? "" : `; ${fmt(e.calinskiHarabasz, 4)} at k=${k}`})`);
  const curveFrom = options.elbowFrom !== undefined ? ` from k=${options.elbowFrom} on` : "";
  if (votes.elbow !== null) reasons.push(`the elbow of the inertia curve${curveFrom} (Kneedle) is at k=${votes.elbow}`);
  else if (options.elbow === 1) reasons.push("the elbow of the inertia curve is at k=1, outside the range");
  else if (options.elbow !== undefined) reasons.push(`no elbow in the inertia curve${curveFrom}${options.elbowReason ? `: ${options.elbowReason}` : ""}`);
  if (options.gap !== undefined) {
    const gapFrom = options.gapFrom !== undefined ? ` ≥ ${options.gapFrom}` : "";
    if (votes.gap !== null) reasons.push(`the gap statistic picks k=${votes.gap} (smallest k${gapFrom} with Gap(k) ≥ Gap(k+1) − s(k+1))`);
    else if (options.gap === null && options.gapFrom !== undefined) {
      reasons.push(`no k from ${options.gapFrom} on meets the gap statistic's rule Gap(k) ≥ Gap(k+1) − s(k+1)`);
    }
    else if (options.gap === 1) {
      reasons.push("the gap statistic prefers k=1 (Gap(1) ≥ Gap(2) − s(2)): by its test the data are no more clustered than uniform noise in the box of their principal components, so it does not vote; judge the segments by their stability and their use");
    } else if (options.gap === null) {
      reasons.push("the gap statistic rises across the whole range, so its rule picks no k (the data may hold more groups than the range, or structure at every scale, as one-hot encoded features tend to)");
    } else reasons.push(`the gap statistic picks k=${options.gap}, outside the range`);
  }
  // Stability of the winner, and better-voted k passed over.
  if (e.stable !== null) {
    reasons.push(`k=${k} is ${e.stable ? "stable" : "not stable"}: ${stabilityText(e)} (stable means mean ≥ ${threshold} and no segment below 0.5)`);
    for (const t of tally) {
      if (t.k === k || t.votes < (tallyMap.get(k)?.length ?? 0)) continue;
      const o = byK.get(t.k)!;
      if (!o.stable) reasons.push(`k=${t.k} had ${t.votes} vote${t.votes === 1 ? "" : "s"} (${t.by.map((v) => VOTER_NAMES[v]).join(", ")}) but is not stable: ${stabilityText(o)}`);
    }
    if (tally.length && !tally.some((t) => byK.get(t.k)!.stable)) {
      reasons.push("none of the k the methods point to is stable: the segments may shift with the sample; treat the choice as tentative");
    }
  }
  const others = tally.filter((t) => t.k !== k);
  if (others.length) {
    reasons.push(`the methods disagree: ${tally.map((t) => `k=${t.k} (${t.by.map((v) => VOTER_NAMES[v]).join(", ")})`).join("; ")}`);
  } else if (tally.length) {
    reasons.push("every method that gave an answer agrees");
  }
  return { k, reasons, votes, tally };
}
