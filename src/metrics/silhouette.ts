import { InputError } from "../core/errors.js";
import { type Matrix, type MatrixLike, takeRows, toMatrix } from "../core/matrix.js";
import { makeRandom } from "../core/random.js";
import { allocF64, allocI32, getParallelExecutor, isShared, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import { encodeLabels } from "./labels.js";
import { type SilhouetteParams, type SilhouetteShared, silhouetteKernel, silhouetteTiles } from "./kernels/silhouette-kernel.js";

export interface SilhouetteOptions {
  /** Score a random subset of this many rows (scikit-learn's sample_size). */
  sampleSize?: number | null;
  randomState?: number | null;
}

/** Rows per tile side of the pair loop: two tiles of 8-feature rows stay in L1/L2 cache. */
const TILE = 256;
/** From this many rows, the pair loop is split across the worker pool when one is installed. */
const PARALLEL_ROWS = 2000;

/**
 * Silhouette coefficient of every row, as scikit-learn's `silhouette_samples` with the
 * Euclidean metric: s = (b − a) / max(a, b), and 0 for rows alone in their cluster. Labels
 * are any integers; −1 is a label like any other, as in scikit-learn.
 *
 * Exact, in O(n²·d) time and O(n·m) memory (m labels): each pair of rows is visited once,
 * in cache-sized tiles, with one square root; with a worker pool installed (the Node entry
 * and the CLI install one) the tiles are split across the workers.
 */
export function silhouetteSamples(Xin: MatrixLike, labels: ArrayLike<number>): Float64Array {
  const X = toMatrix(Xin, "X");
  return silhouetteOfMany(X, [labels])[0];
}

export interface SilhouetteManyOptions extends SilhouetteOptions {
  /**
   * Called as the pairs are worked through, with the share done (0 to 1), about every 1/64 of
   * the pairs (the work is then cut into 64 runs instead of one).
   */
  onProgress?: (fraction: number) => void;
}

/**
 * The silhouette of every row for several labellings of the same rows, in one pass over the
 * pairs of rows: each distance is computed once and added to each labelling's sums. The
 * result for each labelling is silhouetteSamples(X, labelings[l]) (up to the order of
 * floating-point additions). The cost is that of one silhouette plus a few additions per
 * labelling and pair, where separate calls would compute every distance again.
 */
export function silhouetteSamplesOfMany(Xin: MatrixLike, labelings: ArrayLike<number>[], options: Pick<SilhouetteManyOptions, "onProgress"> = {}): Float64Array[] {
  return silhouetteOfMany(toMatrix(Xin, "X"), labelings, options.onProgress);
}

/**
 * The mean silhouette of each labelling of the rows of X, in one pass over the pairs (see
 * silhouetteSamplesOfMany). With sampleSize, every labelling is scored on the same random
 * rows, the ones silhouetteScore(X, labels, { sampleSize, randomState }) draws: the result
 * for each labelling equals that call's.
 */
export function silhouetteScores(Xin: MatrixLike, labelings: ArrayLike<number>[], options: SilhouetteManyOptions = {}): number[] {
  let X = toMatrix(Xin, "X");
  let labs = labelings;
  for (const [l, labels] of labelings.entries()) {
    if (labels.length !== X.rows) throw new InputError(`labelling ${l} has ${labels.length} values but X has ${X.rows} rows`);
  }
  if (options.sampleSize != null) {
    const idx = sampleRows(X.rows, options.sampleSize, options.randomState);
    X = takeRows(X, idx);
    labs = labelings.map((labels) => Int32Array.from(idx, (i) => labels[i]));
  }
  return silhouetteOfMany(X, labs, options.onProgress).map(mean);
}

/** Mean silhouette coefficient, optionally on a random sample of rows. */
export function silhouetteScore(Xin: MatrixLike, labels: ArrayLike<number>, options: SilhouetteOptions = {}): number {
  let X = toMatrix(Xin, "X");
  let lab: ArrayLike<number> = labels;
  if (options.sampleSize != null) {
    if (labels.length !== X.rows) throw new InputError(`labels has ${labels.length} values but X has ${X.rows} rows`);
    const idx = sampleRows(X.rows, options.sampleSize, options.randomState);
    X = takeRows(X, idx);
    lab = Int32Array.from(idx, (i) => labels[i]);
  }
  return mean(silhouetteSamples(X, lab));
}

function mean(s: Float64Array): number {
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  return total / s.length;
}

/** The rows scikit-learn's sample_size picks here: a seeded sample without replacement. */
function sampleRows(n: number, s: number, randomState: number | null | undefined): Int32Array {
  if (!Number.isInteger(s) || s < 2 || s > n) {
    throw new InputError(`sampleSize must be an integer between 2 and the number of rows (${n}), got ${s}`);
  }
  return makeRandom(randomState).sampleWithoutReplacement(n, s);
}

/** Progress runs: the tiles are cut into this many runs when progress is asked for. */
const PROGRESS_RUNS = 64;

function silhouetteOfMany(X: Matrix, labelings: ArrayLike<number>[], onProgress?: (fraction: number) => void): Float64Array[] {
  const { rows: n, cols: d } = X;
  const L = labelings.length;
  if (L === 0) return [];
  const encoded = labelings.map((labels, l) => {
    if (labels.length !== n) throw new InputError(`labels${L > 1 ? ` of labelling ${l}` : ""} has ${labels.length} values but X has ${n} rows`);
    const e = encodeLabels(labels);
    if (e.m < 2 || e.m > n - 1) {
      throw new InputError(`the number of labels${L > 1 ? ` of labelling ${l}` : ""} is ${e.m}; silhouette needs 2 <= labels <= n_samples - 1 (${n - 1})`);
    }
    return e;
  });
  const offsets = new Int32Array(L + 1);
  for (let l = 0; l < L; l++) offsets[l + 1] = offsets[l] + encoded[l].m;
  const m = offsets[L];
  const executor = getParallelExecutor();
  const parallel = executor?.runSync && sharedMemoryAvailable() && n >= PARALLEL_ROWS ? executor : null;
  const slots = parallel ? parallel.size : 1;
  const shared = parallel !== null;
  const S: SilhouetteShared = {
    X: shared && !isShared(X.data) ? allocF64(n * d, true) : X.data,
    codes: allocI32(L * n, shared),
    acc: allocF64(slots * n * m, shared),
  };
  if (S.X !== X.data) S.X.set(X.data);
  for (let l = 0; l < L; l++) {
    const { codes } = encoded[l];
    const o = offsets[l];
    for (let i = 0; i < n; i++) S.codes[l * n + i] = codes[i] + o;
  }
  const tiles = silhouetteTiles(n, TILE);
  const runs = onProgress ? Math.min(PROGRESS_RUNS, tiles) : 1;
  for (let r = 0; r < runs; r++) {
    const P: SilhouetteParams = {
      n, d, m, tile: TILE, slots, labelings: L, t0: Math.floor((r * tiles) / runs), t1: Math.floor(((r + 1) * tiles) / runs),
    };
    if (parallel) parallel.runSync!("silhouette", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, slots);
    else silhouetteKernel(S, P, 0, slots);
    onProgress?.((r + 1) / runs);
  }
  const outs: Float64Array[] = [];
  const sums = new Float64Array(m);
  for (let l = 0; l < L; l++) {
    const { codes, m: ml, counts } = encoded[l];
    const o = offsets[l];
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sums.fill(0, 0, ml);
      for (let s = 0; s < slots; s++) {
        const base = s * n * m + i * m + o;
        for (let c = 0; c < ml; c++) sums[c] += S.acc[base + c];
      }
      const own = codes[i];
      if (counts[own] <= 1) {
        out[i] = 0;
        continue;
      }
      const a = sums[own] / (counts[own] - 1);
      let b = Infinity;
      for (let c = 0; c < ml; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
      const mx = Math.max(a, b);
      out[i] = mx > 0 ? (b - a) / mx : 0;
    }
    outs.push(out);
  }
  return outs;
}
