/**
 * Stratified subsampling for charts: at large n a chart shows a sample of the customers, and
 * a plain random sample would make a 1% segment almost vanish. Here each segment gets its
 * proportional share of the sample, except that no segment gets fewer than a floor (50 points,
 * or maxPoints / (2k) when that is smaller, and never more than the segment has), so small
 * segments stay visible. Seeded and deterministic.
 */
import { Random } from "../core/random.js";

/**
 * How many of each group to keep so that the counts add up to exactly
 * min(maxPoints, Σ sizes): every group gets at least min(size, floor); the groups above the
 * floor share the rest in proportion to their sizes (largest remainders, ties to the earlier
 * group). Without a floor binding, each count is within 1 of maxPoints·size/n.
 *
 * With more non-empty groups than maxPoints, only the largest maxPoints groups (ties to the
 * earlier group) keep one point each.
 */
export function allocateSample(sizes: readonly number[], maxPoints: number, floor?: number): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 0) throw new RangeError(`maxPoints must be a whole number ≥ 0, got ${maxPoints}`);
  for (const s of sizes) if (!Number.isInteger(s) || s < 0) throw new RangeError(`group sizes must be whole numbers ≥ 0, got ${s}`);
  const n = sizes.reduce((a, b) => a + b, 0);
  if (n <= maxPoints) return [...sizes];
  const groups = sizes.map((_, g) => g).filter((g) => sizes[g] > 0);
  const out = sizes.map(() => 0);
  if (groups.length >= maxPoints) {
    const largest = [...groups].sort((a, b) => sizes[b] - sizes[a] || a - b).slice(0, maxPoints);
    for (const g of largest) out[g] = 1;
    return out;
  }
  // A floor no larger than maxPoints / groups, so that the floors alone never overflow the sample.
  const f = Math.max(1, Math.floor(Math.min(floor ?? Math.min(50, maxPoints / (2 * groups.length)), maxPoints / groups.length)));
  // Fix at the floor every group whose proportional share is below it, and rescale the rest,
  // until no more groups fall below: the share per customer only decreases, so this ends.
  const fixed = new Set<number>();
  let rest = maxPoints;
  let restSize = n;
  for (let changed = true; changed;) {
    changed = false;
    for (const g of groups) {
      if (fixed.has(g)) continue;
      const min = Math.min(sizes[g], f);
      if ((rest * sizes[g]) / restSize < min) {
        fixed.add(g);
        out[g] = min;
        rest -= min;
        restSize -= sizes[g];
        changed = true;
      }
    }
  }
  const free = groups.filter((g) => !fixed.has(g));
  if (free.length === 0) return out;
  const quota = free.map((g) => (rest * sizes[g]) / restSize);
  let given = 0;
  free.forEach((g, j) => {
    out[g] = Math.floor(quota[j]);
    given += out[g];
  });
  const order = free.map((_, j) => j).sort((a, b) => (quota[b] - Math.floor(quota[b])) - (quota[a] - Math.floor(quota[a])) || a - b);
  for (let j = 0; given < rest; j++, given++) out[free[order[j % order.length]]]++;
  return out;
}

export interface StratifiedSampleOptions {
  /** The least each segment keeps (when it has that many): default min(50, maxPoints / (2k)). */
  floor?: number;
}

/**
 * The indices (increasing) of a stratified sample of at most `maxPoints` rows, the strata
 * being the distinct values of `labels` (noise, −1, is a stratum like any other); all rows
 * when there are no more than maxPoints. Within each stratum the rows are drawn uniformly
 * without replacement from a Random seeded with `seed`, strata in increasing label order, so
 * the same labels, maxPoints and seed give the same sample.
 */
export function stratifiedSample(labels: ArrayLike<number>, maxPoints: number, seed = 0, options: StratifiedSampleOptions = {}): Int32Array {
  const n = labels.length;
  if (n <= maxPoints) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    let m = members.get(l);
    if (!m) members.set(l, (m = []));
    m.push(i);
  }
  const keys = [...members.keys()].sort((a, b) => a - b);
  const counts = allocateSample(keys.map((k) => members.get(k)!.length), maxPoints, options.floor);
  const rng = new Random(seed);
  const out: number[] = [];
  keys.forEach((k, g) => {
    const rows = members.get(k)!;
    if (counts[g] >= rows.length) {
      for (const i of rows) out.push(i);
      return;
    }
    for (const j of rng.sampleWithoutReplacement(rows.length, counts[g])) out.push(rows[j]);
  });
  return Int32Array.from(out).sort();
}

/**
 * `m` evenly spaced order statistics of `sorted` (its positions round(j·(s−1)/(m−1)),
 * j = 0..m−1, so the smallest and largest values are always kept): a subsample that keeps the
 * shape of the distribution. All positions when m ≥ its length.
 */
export function quantilePositions(length: number, m: number): number[] {
  if (m >= length) return Array.from({ length }, (_, i) => i);
  if (m <= 0) return [];
  if (m === 1) return [Math.floor((length - 1) / 2)];
  return Array.from({ length: m }, (_, j) => Math.round((j * (length - 1)) / (m - 1)));
}
