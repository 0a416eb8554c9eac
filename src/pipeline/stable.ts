/**
 * Stable segment ids across runs: the segments of a new run are matched one-to-one to those
 * of a previous run, so that a segment that is still there keeps its id and its name.
 *
 * The rule (documented in the README, reported in every result as `matchedBy` and `rule`),
 * as runSegmentation asks for it (`prefer: "centres"`; with `prefer: "customers"`, the
 * default of matchSegments, shared customers come first when at least half are common):
 * - The segment centres decide whenever both runs' centres are known: both runs' segments
 *   as means of their customers in the previous model's preprocessed space (the new rows
 *   are transformed by the previous model's preprocessing, so its scaling, logs and
 *   encodings apply to both). The cost of a pair is the Euclidean distance of the centres; a
 *   pair is matched when the distance is at most half the distance from the previous centre
 *   to its nearest other previous centre (the new centre is nearer to it than the midpoint
 *   towards any other). A segment is what its customers look like: customers move between
 *   segments over time (that is what compare and track measure), so who is in a segment
 *   cannot say which segment it is when time has passed. On Online Retail, June 2011 against
 *   December 2011 (RFM, k = 4), shared customers matched none of the four segments (Jaccard
 *   0.48, 0.42, 0.28 and 0.06 on the customers in both) while the centres matched all four.
 *   When the previous run's assignments are known too, each match also reports the Jaccard.
 * - Without centres (a previous segments file only), shared customers decide when at least
 *   half (`minCommonShare`) of the new run's customers are in it. The cost of a pair is
 *   1 − Jaccard of the two segments' customers, counted on the common customers only (so
 *   that customers who came or left do not weigh); a pair is matched when its Jaccard is at
 *   least `minJaccard` (0.5: at least half of the customers of the two together are shared).
 * - The assignment that minimises the total cost over one-to-one pairings is exact
 *   (the Hungarian algorithm, O(k³)); pairs above the threshold are then undone.
 * - Matched segments keep the previous id (and name); the others are new and get ids from
 *   the largest previous id + 1 up, in the order of the new run's own numbering (largest
 *   first); previous segments left unmatched are listed as vanished. Outliers (−1) are in no
 *   segment and stay −1.
 *
 * Isomorphic: no Node built-ins.
 */
import { InputError } from "../core/errors.js";
import type { Dataset } from "../core/dataset.js";
import type { Matrix } from "../core/matrix.js";

/** A segment of the previous run. */
export interface PreviousSegment {
  /** Its (stable) id, ≥ 0. */
  id: number;
  name: string;
}

/** What a run is matched against: a previous model, its assignments, or both. */
export interface PreviousSegmentation {
  /** How the previous run is named in messages and outputs (a file's path). */
  source: string;
  /** The previous model's checksum, when it came from a model file. */
  checksum?: string | null;
  segments: PreviousSegment[];
  /** Each previous segment's centre in the previous model's space (rows in the order of `segments`); null when unknown. */
  centres?: Matrix | null;
  /** Customer id → previous segment id (−1: an outlier); null when unknown. */
  assignments?: ReadonlyMap<string, number> | null;
}

/** The new run's segments: labels 0…k−1 (−1 outliers) of its rows, with their customer ids and, for centres, its rows in the previous space. */
export interface CurrentSegmentation {
  k: number;
  labels: ArrayLike<number>;
  /** Customer id of each row. */
  ids?: readonly string[];
  /** Each new segment's centre in the previous model's space (k rows), or null. */
  centres?: Matrix | null;
}

export interface MatchOptions {
  /** Shared customers decide when at least this share of the new run's customers were assigned in the previous run (default 0.5). */
  minCommonShare?: number;
  /** The least Jaccard of a matched pair when customers decide (default 0.5). */
  minJaccard?: number;
  /**
   * Which decides when both could: "centres" (what runSegmentation, and so cluster
   * --previous, asks for: a retrain on later data, whose customers have moved) or
   * "customers", the default (shared customers decide whenever at least minCommonShare of
   * the customers are common, the centres only otherwise; track --refit matches consecutive
   * snapshots so).
   */
  prefer?: "centres" | "customers";
}

export interface SegmentMatch {
  /** The previous segment's id, kept by the new segment. */
  previous: number;
  /** The new run's own segment number. */
  current: number;
  name: string;
  /** Centres: the distance of the two centres. */
  distance?: number;
  /** The Jaccard of the two segments' customers (those in both runs): what decided when customers decide, else reported beside when the assignments are known. */
  jaccard?: number;
}

export interface StableIds {
  matchedBy: "customers" | "centres";
  /** The rule in words, with the numbers that decided. */
  rule: string;
  /** The share of the new run's customers that the previous run assigned (0 when its assignments are unknown). */
  commonShare: number;
  /** ids[c]: the stable id of the new run's segment c. */
  ids: number[];
  matches: SegmentMatch[];
  /** The new run's segments that match none of the previous run's, with their fresh ids. */
  new: { current: number; id: number; name?: string }[];
  /** The previous run's segments that match none of the new run's. */
  vanished: PreviousSegment[];
  /** The previous run as named in `PreviousSegmentation.source`, and its checksum. */
  previous: { source: string; checksum: string | null };
}

const DEFAULTS: Required<MatchOptions> = { minCommonShare: 0.5, minJaccard: 0.5, prefer: "customers" };

/**
 * The minimum-cost one-to-one assignment of the rows of an n × m cost matrix (row-major,
 * finite) to its columns: `assign[i]` is row i's column, −1 for the rows left over when
 * n > m. Exact (the Hungarian algorithm with potentials), O(min(n,m)² · max(n,m)).
 */
export function hungarian(cost: ArrayLike<number>, n: number, m: number): Int32Array {
  if (cost.length !== n * m) throw new InputError(`hungarian: the cost matrix has ${cost.length} values, not ${n} × ${m}`);
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i])) throw new InputError(`hungarian: cost[${i}] is ${cost[i]}; every cost must be a finite number`);
  }
  if (n === 0 || m === 0) return new Int32Array(n).fill(-1);
  // Rows must not outnumber columns: otherwise solve the transposed problem.
  const t = n > m;
  const R = t ? m : n;
  const C = t ? n : m;
  const a = (i: number, j: number): number => (t ? cost[j * m + i] : cost[i * m + j]);
  // 1-based potentials u (rows), v (columns); p[j]: the row matched to column j (0: none).
  const u = new Float64Array(R + 1);
  const v = new Float64Array(C + 1);
  const p = new Int32Array(C + 1);
  const way = new Int32Array(C + 1);
  const minv = new Float64Array(C + 1);
  const used = new Uint8Array(C + 1);
  for (let i = 1; i <= R; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= C; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= C; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assign = new Int32Array(n).fill(-1);
  for (let j = 1; j <= C; j++) {
    if (p[j] === 0) continue;
    if (t) assign[j - 1] = p[j] - 1;
    else assign[p[j] - 1] = j - 1;
  }
  return assign;
}

/** The mean of each segment's rows (k × d; a segment without rows gets NaN). Outliers (−1) are left out. */
export function segmentCentres(X: Matrix, labels: ArrayLike<number>, k: number): Matrix {
  const d = X.cols;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < X.rows; i++) {
    const l = labels[i];
    if (l < 0 || l >= k) continue;
    counts[l]++;
    const o = i * d;
    const s = l * d;
    for (let j = 0; j < d; j++) sums[s + j] += X.data[o + j];
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) sums[c * d + j] = counts[c] ? sums[c * d + j] / counts[c] : NaN;
  return { data: sums, rows: k, cols: d };
}

/**
 * Matches a new run's segments to a previous run's (see the rule at the top of this file)
 * and gives each new segment its stable id. Throws an InputError when neither rule can
 * apply (no common customers and no centres to compare).
 */
export function matchSegments(previous: PreviousSegmentation, current: CurrentSegmentation, options: MatchOptions = {}): StableIds {
  const o = { ...DEFAULTS, ...options };
  const prevSegs = previous.segments;
  const seen = new Set<number>();
  for (const s of prevSegs) {
    if (!Number.isInteger(s.id) || s.id < 0) throw new InputError(`${previous.source}: segment id ${s.id} is not a whole number ≥ 0`);
    if (seen.has(s.id)) throw new InputError(`${previous.source}: segment id ${s.id} appears twice`);
    seen.add(s.id);
  }
  const k = current.k;
  const P = prevSegs.length;
  const commonShare = previous.assignments && current.ids ? shareAssigned(previous.assignments, current.ids) : 0;
  const centresKnown = !!previous.centres && !!current.centres;
  const byCustomers = (o.prefer === "customers" || !centresKnown) && commonShare >= o.minCommonShare;
  let matchedBy: StableIds["matchedBy"];
  let rule: string;
  const score = new Float64Array(P * k); // Jaccard or distance of each (previous, current) pair
  const accept: boolean[] = new Array<boolean>(P * k).fill(false);
  const cost = new Float64Array(P * k);
  if (byCustomers) {
    matchedBy = "customers";
    rule = `shared customers decide (${centresKnown ? "they come first" : `${previous.source} gives no segment centres`}): ${pctText(commonShare)} of this run's customers were assigned in ${previous.source} (at least ${pctText(o.minCommonShare)} needed); ` +
      `a segment keeps a previous id when the Jaccard of their common customers is at least ${o.minJaccard}`;
    jaccardMatrix(previous, current, score);
    for (let x = 0; x < P * k; x++) {
      cost[x] = 1 - score[x];
      accept[x] = score[x] >= o.minJaccard;
    }
  } else if (centresKnown) {
    matchedBy = "centres";
    rule = (o.prefer === "customers" && previous.assignments ? `segment centres decide (only ${pctText(commonShare)} of this run's customers were assigned in ${previous.source}; shared customers decide from ${pctText(o.minCommonShare)}): ` : "segment centres decide: ") +
      "a segment keeps a previous id when its centre, in the previous model's preprocessed space, is within half the distance from that previous centre to its nearest other one" +
      (previous.assignments ? ` (the Jaccard of the customers in both runs, ${pctText(commonShare)} of this run's, is reported beside)` : "");
    const A = previous.centres!;
    const B = current.centres!;
    if (A.rows !== P || B.rows !== k || A.cols !== B.cols) {
      throw new InputError(`matchSegments: centres of ${A.rows} × ${A.cols} and ${B.rows} × ${B.cols} do not fit ${P} previous and ${k} new segments`);
    }
    const reach = new Float64Array(P).fill(Infinity); // half the distance to the nearest other previous centre
    for (let p = 0; p < P; p++) for (let q = 0; q < P; q++) if (q !== p) reach[p] = Math.min(reach[p], dist(A, p, A, q) / 2);
    let worst = 0;
    for (let x = 0; x < P * k; x++) {
      const d = dist(A, Math.floor(x / k), B, x % k);
      score[x] = d;
      if (Number.isFinite(d)) worst = Math.max(worst, d);
    }
    for (let x = 0; x < P * k; x++) {
      const finite = Number.isFinite(score[x]);
      cost[x] = finite ? score[x] : 2 * worst + 1; // an empty segment (NaN centre) pairs last and is never accepted
      accept[x] = finite && score[x] <= reach[Math.floor(x / k)];
    }
  } else {
    throw new InputError(
      previous.assignments
        ? `--previous ${previous.source}: it gives no segment centres and only ${pctText(commonShare)} of this run's customers are in it (shared customers decide from ${pctText(o.minCommonShare)}); pass the previous model file (--previous model.json)`
        : `--previous ${previous.source}: it records neither customers' assignments nor segment centres to match the segments on; pass the previous model file or segments file`,
    );
  }
  // Centres decide, customers known: the Jaccard of each pair is reported beside.
  let jaccard: Float64Array | null = null;
  if (matchedBy === "centres" && previous.assignments && current.ids && commonShare > 0) {
    jaccard = new Float64Array(P * k);
    jaccardMatrix(previous, current, jaccard);
  }
  const assign = hungarian(cost, P, k);
  const ids = new Array<number>(k).fill(-1);
  const matches: SegmentMatch[] = [];
  const vanished: PreviousSegment[] = [];
  for (let p = 0; p < P; p++) {
    const c = assign[p];
    if (c >= 0 && accept[p * k + c]) {
      ids[c] = prevSegs[p].id;
      const m: SegmentMatch = { previous: prevSegs[p].id, current: c, name: prevSegs[p].name };
      if (matchedBy === "customers") m.jaccard = score[p * k + c];
      else {
        m.distance = score[p * k + c];
        if (jaccard) m.jaccard = jaccard[p * k + c];
      }
      matches.push(m);
    } else {
      vanished.push({ ...prevSegs[p] });
    }
  }
  let next = prevSegs.reduce((mx, s) => Math.max(mx, s.id + 1), 0);
  const fresh: StableIds["new"] = [];
  for (let c = 0; c < k; c++) {
    if (ids[c] >= 0) continue;
    ids[c] = next++;
    fresh.push({ current: c, id: ids[c] });
  }
  matches.sort((a, b) => a.current - b.current);
  return { matchedBy, rule, commonShare, ids, matches, new: fresh, vanished, previous: { source: previous.source, checksum: previous.checksum ?? null } };
}

/** The share of the distinct ids of `ids` that `assigned` holds. */
function shareAssigned(assigned: ReadonlyMap<string, number>, ids: readonly string[]): number {
  const distinct = new Set(ids);
  if (distinct.size === 0) return 0;
  let n = 0;
  for (const id of distinct) if (assigned.has(id)) n++;
  return n / distinct.size;
}

/** score[p·k + c]: the Jaccard of previous segment p and new segment c on the customers common to both runs (outliers in no segment). */
function jaccardMatrix(previous: PreviousSegmentation, current: CurrentSegmentation, score: Float64Array): void {
  const k = current.k;
  const P = previous.segments.length;
  const index = new Map(previous.segments.map((s, p) => [s.id, p]));
  const ids = current.ids!;
  const assigned = previous.assignments!;
  const inter = new Float64Array(P * k);
  const prevSize = new Float64Array(P);
  const curSize = new Float64Array(k);
  const done = new Set<string>(); // a resample may hold a customer twice: each counts once
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (done.has(id)) continue;
    const before = assigned.get(id);
    if (before === undefined) continue;
    done.add(id);
    const p = index.get(before) ?? -1;
    const c = current.labels[i];
    if (p >= 0) prevSize[p]++;
    if (c >= 0 && c < k) curSize[c]++;
    if (p >= 0 && c >= 0 && c < k) inter[p * k + c]++;
  }
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < k; c++) {
      const union = prevSize[p] + curSize[c] - inter[p * k + c];
      score[p * k + c] = union > 0 ? inter[p * k + c] / union : 0;
    }
  }
}

function dist(A: Matrix, a: number, B: Matrix, b: number): number {
  let s = 0;
  const d = A.cols;
  for (let j = 0; j < d; j++) {
    const t = A.data[a * d + j] - B.data[b * d + j];
    s += t * t;
  }
  return Math.sqrt(s);
}

function pctText(x: number): string {
  return `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 0)} %`;
}

/**
 * A previous run as a segmentation takes it (RunHooks.previous): its segments, assignments
 * and centres, and the function that maps a dataset's rows into the space of its centres
 * (the previous model's preprocessing).
 */
export interface PreviousRun extends PreviousSegmentation {
  transform?: ((data: Dataset) => Matrix) | null;
}
