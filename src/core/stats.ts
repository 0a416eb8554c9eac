/** Order statistics on typed arrays. */

/**
 * numpy's median of the values (the mean of the two middle ones for an even count), by
 * linear-time selection; reorders `a` in place.
 */
export function median(a: Float64Array): number {
  const m = a.length;
  if (m === 0) return NaN;
  const h = m >> 1;
  if (m % 2 === 1) return select(a, h);
  const low = select(a, h - 1);
  // After select, everything right of h − 1 is ≥ a[h − 1]: the upper middle is their minimum.
  let high = Infinity;
  for (let i = h; i < m; i++) if (a[i] < high) high = a[i];
  return (low + high) / 2;
}

/**
 * The k-th smallest value of a (0-based): quickselect with a median-of-three pivot and a
 * three-way partition (fast with many equal values), falling back to a sort if it degrades.
 * On return a[0..k) ≤ a[k] ≤ a(k..].
 */
export function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let budget = 4 * Math.ceil(Math.log2(a.length + 1)) + 16;
  while (hi > lo) {
    if (budget-- <= 0) {
      a.subarray(lo, hi + 1).sort();
      return a[k];
    }
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k];
}
