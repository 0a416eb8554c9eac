/**
 * RFM scores and the usual named RFM segments: pure functions over Float64Arrays (no I/O).
 *
 * Scores. Each of recency, frequency and monetary gets a score 1–5 by quintiles of the
 * customers' ranks: the ranks are cut at numpy's linear-interpolation quantiles of the ranks
 * 1..m at [0, 0.2, 0.4, 0.6, 0.8, 1] into right-closed bins, the lowest bin including its
 * left edge, as pandas `qcut` does. Where no two customers have the same value this is exactly
 * the common pandas idiom
 *
 *     pd.qcut(values.rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
 *
 * and the edge arithmetic below repeats numpy's float operations, so a rank on an edge lands in
 * the same bin as in pandas.
 *
 * Ties. Customers with equal values get equal scores: they share the smallest rank of their
 * group (pandas `rank(method="min")`), for all three measures, and recency is then reversed:
 * r = 6 − (its quintile), which equals pandas' `labels=[5, 4, 3, 2, 1]`. So one-time buyers
 * all score F = 1 however many they are, and the customers whose last purchase was on the most
 * recent day all score R = 5. In pandas:
 *
 *     edges = np.quantile(np.arange(1, m + 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
 *     f = pd.cut(values.rank(method="min"), edges, labels=[1, 2, 3, 4, 5], include_lowest=True)
 *     r = pd.cut(recency.rank(method="min"), edges, labels=[5, 4, 3, 2, 1], include_lowest=True)
 *
 * Quintiles then need not hold n/5 customers each. Missing values (NaN) get no rank and the
 * score 0; with a single value (m = 1) every edge is 1 and the value gets the lowest quintile
 * (pandas refuses).
 *
 * Segments. The common R-versus-F grid (recency score across, frequency score down); the
 * monetary score does not enter it:
 *
 *     F \ R |   1                 2                 3                4                  5
 *     ------+---------------------------------------------------------------------------------------
 *       5   | Can't Lose Them   Can't Lose Them   Loyal Customers  Loyal Customers    Champions
 *       4   | At Risk           At Risk           Loyal Customers  Loyal Customers    Champions
 *       3   | At Risk           At Risk           Need Attention   Potential Loyalists Potential Loyalists
 *       2   | Hibernating       Hibernating       About to Sleep   Potential Loyalists Potential Loyalists
 *       1   | Lost              Hibernating       About to Sleep   Promising          New Customers
 *
 * As rules: Champions R 5, F 4–5; Loyal Customers R 3–4, F 4–5; Potential Loyalists R 4–5,
 * F 2–3; New Customers R 5, F 1; Promising R 4, F 1; Need Attention R 3, F 3; About to Sleep
 * R 3, F 1–2; At Risk R 1–2, F 3–4; Can't Lose Them R 1–2, F 5; Hibernating R 1–2, F 1–2
 * except R 1, F 1, which is Lost.
 */

export const RFM_SEGMENTS = [
  "Champions",
  "Loyal Customers",
  "Potential Loyalists",
  "New Customers",
  "Promising",
  "Need Attention",
  "About to Sleep",
  "At Risk",
  "Can't Lose Them",
  "Hibernating",
  "Lost",
] as const;

export type RfmSegment = (typeof RFM_SEGMENTS)[number];

/** RFM_GRID[f − 1][r − 1] is the segment of recency score r and frequency score f. */
export const RFM_GRID: readonly (readonly RfmSegment[])[] = [
  ["Lost", "Hibernating", "About to Sleep", "Promising", "New Customers"],
  ["Hibernating", "Hibernating", "About to Sleep", "Potential Loyalists", "Potential Loyalists"],
  ["At Risk", "At Risk", "Need Attention", "Potential Loyalists", "Potential Loyalists"],
  ["At Risk", "At Risk", "Loyal Customers", "Loyal Customers", "Champions"],
  ["Can't Lose Them", "Can't Lose Them", "Loyal Customers", "Loyal Customers", "Champions"],
];

/**
 * Ranks 1..m of the non-missing values in increasing order, ties in order of appearance
 * (pandas `rank(method="first")`); NaN where the value is NaN.
 */
export function rankFirst(values: Float64Array): Float64Array {
  const n = values.length;
  const ranks = new Float64Array(n).fill(NaN);
  let m = 0;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) order[m++] = i;
  const present = order.subarray(0, m);
  // Sorted by value, then by position: a stable order that breaks ties by appearance.
  present.sort((a, b) => values[a] - values[b] || a - b);
  for (let k = 0; k < m; k++) ranks[present[k]] = k + 1;
  return ranks;
}

/**
 * Ranks of the non-missing values in increasing order, equal values sharing the smallest rank
 * of their group (pandas `rank(method="min")`); NaN where the value is NaN.
 */
export function rankMin(values: Float64Array): Float64Array {
  const n = values.length;
  const ranks = new Float64Array(n).fill(NaN);
  const order = new Uint32Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(values[i])) order[m++] = i;
  const present = order.subarray(0, m);
  present.sort((a, b) => (values[a] < values[b] ? -1 : values[a] > values[b] ? 1 : 0));
  for (let k = 0; k < m; k++) {
    ranks[present[k]] = k > 0 && values[present[k]] === values[present[k - 1]] ? ranks[present[k - 1]] : k + 1;
  }
  return ranks;
}

/**
 * The q + 1 bin edges pandas `qcut(ranks, q)` uses when the ranks are 1..m: numpy's
 * `quantile([1..m], linspace(0, 1, q + 1))` with linear interpolation, float for float.
 */
export function rankQuantileEdges(m: number, q: number): Float64Array {
  const edges = new Float64Array(q + 1);
  const step = 1 / q;
  for (let j = 0; j <= q; j++) {
    // numpy.linspace: arange(q + 1) * step, the last point set to exactly 1.
    const p = j === q ? 1 : j * step;
    const v = (m - 1) * p; // numpy's virtual index, method "linear"
    if (v >= m - 1) {
      edges[j] = m;
      continue;
    }
    const prev = Math.floor(v);
    const t = v - prev;
    // The sorted ranks are 1..m: the neighbours are a = prev + 1 and b = prev + 2, b − a = 1.
    // numpy._lerp: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5.
    edges[j] = t >= 0.5 ? prev + 2 - (1 - t) : prev + 1 + t;
  }
  return edges;
}

/**
 * The bin 1..q of each rank in 1..m (as from rankFirst or rankMin), cut at the edges of
 * rankQuantileEdges(m, q) (pandas `qcut(ranks, q, labels=[1..q])` when the ranks are 1..m);
 * 0 where the rank is NaN. Writes into `out` (allocated when not given).
 */
export function qcutRanks(ranks: Float64Array, q = 5, out: Uint8Array = new Uint8Array(ranks.length)): Uint8Array {
  if (!Number.isInteger(q) || q < 1 || q > 255) throw new RangeError(`q must be a whole number in [1, 255], got ${q}`);
  if (out.length !== ranks.length) throw new RangeError(`out has ${out.length} slots for ${ranks.length} ranks`);
  let m = 0;
  for (let i = 0; i < ranks.length; i++) if (!Number.isNaN(ranks[i])) m++;
  const edges = rankQuantileEdges(m, q);
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i];
    if (Number.isNaN(r)) {
      out[i] = 0;
      continue;
    }
    // searchsorted(edges, r, side="left"): the number of edges below r; r on the lowest edge is bin 1.
    let bin = 0;
    while (bin <= q && edges[bin] < r) bin++;
    out[i] = r === edges[0] ? 1 : Math.min(bin, q);
  }
  return out;
}

/**
 * Quintile scores 1–5 of values (0 for NaN); `reverse` makes the smallest values score 5.
 * Equal values get equal scores, from the smallest rank of their group (see the comment at the top).
 */
export function quintileScores(values: Float64Array, reverse = false): Uint8Array {
  const s = qcutRanks(rankMin(values), 5);
  if (reverse) for (let i = 0; i < s.length; i++) if (s[i] !== 0) s[i] = 6 - s[i];
  return s;
}

export interface RfmScores {
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
}

/** The three scores of each customer; recency is reversed so that 5 is the most recent. */
export function rfmScores(recency: Float64Array, frequency: Float64Array, monetary: Float64Array): RfmScores {
  const n = recency.length;
  if (frequency.length !== n || monetary.length !== n) {
    throw new RangeError(`recency, frequency and monetary must have one value per customer; got ${n}, ${frequency.length} and ${monetary.length}`);
  }
  return { r: quintileScores(recency, true), f: quintileScores(frequency), m: quintileScores(monetary) };
}

/** The named segment of recency score r and frequency score f (both 1–5); null if either is missing (0). */
export function rfmSegment(r: number, f: number): RfmSegment | null {
  if (!(r >= 1 && r <= 5 && f >= 1 && f <= 5) || !Number.isInteger(r) || !Number.isInteger(f)) return null;
  return RFM_GRID[f - 1][r - 1];
}

/** Segment of every customer as an index into RFM_SEGMENTS (−1 where a score is missing). */
export function rfmSegmentCodes(r: Uint8Array, f: Uint8Array): Int8Array {
  const codes = new Int8Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const s = rfmSegment(r[i], f[i]);
    codes[i] = s === null ? -1 : RFM_SEGMENTS.indexOf(s);
  }
  return codes;
}
