import { InputError } from "../core/errors.js";
import { type MatrixLike, toMatrix } from "../core/matrix.js";
import { makeRandom } from "../core/random.js";
import { allocF64, allocI32, getParallelExecutor, isShared, sharedMemoryAvailable, type TypedArray } from "../core/parallel.js";
import { encodeLabels } from "./labels.js";
import { type SilhouetteParams, type SilhouetteShared, silhouetteKernel } from "./kernels/silhouette-kernel.js";

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
  const { rows: n, cols: d } = X;
  if (labels.length !== n) throw new InputError(`labels has ${labels.length} values but X has ${n} rows`);
  const { codes, m, counts } = encodeLabels(labels);
  if (m < 2 || m > n - 1) {
    throw new InputError(`the number of labels is ${m}; silhouette needs 2 <= labels <= n_samples - 1 (${n - 1})`);
  }
  const executor = getParallelExecutor();
  const parallel = executor?.runSync && sharedMemoryAvailable() && n >= PARALLEL_ROWS ? executor : null;
  const slots = parallel ? parallel.size : 1;
  const shared = parallel !== null;
  const S: SilhouetteShared = {
    X: shared && !isShared(X.data) ? allocF64(n * d, true) : X.data,
    codes: allocI32(n, shared),
    acc: allocF64(slots * n * m, shared),
  };
  if (S.X !== X.data) S.X.set(X.data);
  S.codes.set(codes);
  const P: SilhouetteParams = { n, d, m, tile: TILE, slots };
  if (parallel) parallel.runSync!("silhouette", S as unknown as Record<string, TypedArray>, P as unknown as Record<string, number>, slots);
  else silhouetteKernel(S, P, 0, slots);
  const out = new Float64Array(n);
  const sums = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let s = 0; s < slots; s++) {
      const o = s * n * m + i * m;
      for (let c = 0; c < m; c++) sums[c] += S.acc[o + c];
    }
    const own = codes[i];
    if (counts[own] <= 1) {
      out[i] = 0;
      continue;
    }
    const a = sums[own] / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c < m; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
    const mx = Math.max(a, b);
    out[i] = mx > 0 ? (b - a) / mx : 0;
  }
  return out;
}

/** Mean silhouette coefficient, optionally on a random sample of rows. */
export function silhouetteScore(Xin: MatrixLike, labels: ArrayLike<number>, options: SilhouetteOptions = {}): number {
  let X = toMatrix(Xin, "X");
  let lab: ArrayLike<number> = labels;
  if (options.sampleSize != null) {
    const s = options.sampleSize;
    if (!Number.isInteger(s) || s < 2 || s > X.rows) {
      throw new InputError(`sampleSize must be an integer between 2 and the number of rows (${X.rows}), got ${s}`);
    }
    const idx = makeRandom(options.randomState).sampleWithoutReplacement(X.rows, s);
    const d = X.cols;
    const data = new Float64Array(s * d);
    const l = new Int32Array(s);
    for (let r = 0; r < s; r++) {
      data.set(X.data.subarray(idx[r] * d, idx[r] * d + d), r * d);
      l[r] = labels[idx[r]];
    }
    X = { data, rows: s, cols: d };
    lab = l;
  }
  const s = silhouetteSamples(X, lab);
  let total = 0;
  for (let i = 0; i < s.length; i++) total += s[i];
  return total / s.length;
}
