/**
 * A CART classification tree (Gini impurity) that grows the same tree as scikit-learn's
 * `DecisionTreeClassifier(criterion="gini", splitter="best", max_depth, min_samples_leaf)`
 * on unweighted data, written for the segment rules (surrogate trees of depth ≤ 3).
 *
 * How a node is split, as in scikit-learn:
 * - A node is a leaf when its depth has reached `maxDepth`, when it holds fewer than
 *   max(2, 2 · minSamplesLeaf) samples, when its impurity is ≤ machine epsilon (pure), or
 *   when no feature admits a split that leaves at least `minSamplesLeaf` samples on each side.
 * - For each feature, the node's samples are taken in increasing order of that feature. A
 *   feature whose largest value is ≤ its smallest + 1e-7 is constant and skipped. Candidate
 *   split positions lie between consecutive sorted values v[p−1], v[p] that differ by more
 *   than 1e-7 (scikit-learn's FEATURE_THRESHOLD); positions that leave fewer than
 *   `minSamplesLeaf` samples on a side are skipped.
 * - A split is scored by scikit-learn's "proxy" improvement −n_R·gini_R − n_L·gini_L, with
 *   gini = 1 − Σ_c count_c² / n², computed in the same order of floating-point operations;
 *   the best is the first strictly larger score. Its threshold is the midpoint
 *   v[p−1]/2 + v[p]/2 (v[p−1] when the midpoint rounds to v[p]); samples with value ≤ the
 *   threshold go left.
 * - A split is made even when it does not lower the impurity (scikit-learn's default
 *   min_impurity_decrease = 0 accepts it).
 * - Nodes are numbered depth first, left child before right (scikit-learn's order).
 *
 * Differences, documented:
 * - Ties between features. scikit-learn visits the features in a random order (drawn from
 *   random_state) and keeps the first best, so on an exact tie between two features the
 *   winner depends on the seed. Here features are visited in index order: on an exact tie the
 *   lower feature index wins (deterministic). Within a feature both keep the lowest split
 *   position among equal scores.
 * - Precision. scikit-learn converts X to float32 before fitting; this tree works on the
 *   float64 values as given. On data that float32 represents exactly the two agree to the bit.
 * - Missing values are not allowed (impute first); there are no sample weights.
 *
 * Cost: each feature is argsorted once for the whole tree (O(n log n · d)); a node then takes
 * its samples in sorted order by one filtering pass over the presorted order (O(n · d) per
 * node, reading the sorted values sequentially), or, when it is small (m log m < n / 4), by
 * sorting its own samples (O(m log m · d)). The presorted features can be computed once and
 * shared by several trees on the same X (`presortFeatures`), as the segment rules do.
 */

/** scikit-learn's FEATURE_THRESHOLD: values closer than this are treated as equal. */
export const FEATURE_THRESHOLD = 1e-7;
const EPSILON = 2.220446049250313e-16; // numpy.finfo(float64).eps

export interface TreeOptions {
  /** Maximum depth (the root has depth 0); default: unlimited. */
  maxDepth?: number;
  /** Minimum number of samples in each leaf; default 1. */
  minSamplesLeaf?: number;
  /** Number of classes; default: max(y) + 1. */
  nClasses?: number;
  /** `presortFeatures(X, n, d)`, computed once to share between trees on the same X. */
  presorted?: Presorted;
}

export interface TreeNode {
  /** Split feature (column of X); −1 at a leaf. */
  feature: number;
  /** Samples with X[feature] ≤ threshold go left; NaN at a leaf. */
  threshold: number;
  /** Gini impurity of the node. */
  impurity: number;
  nNodeSamples: number;
  /** Count of samples of each class in the node (scikit-learn 1.2's `tree_.value[i][0]`). */
  value: number[];
  /** Child node ids; −1 at a leaf. */
  left: number;
  right: number;
  depth: number;
}

export interface DecisionTree {
  nFeatures: number;
  nClasses: number;
  /** Nodes in depth-first order; node 0 is the root. */
  nodes: TreeNode[];
}

/** Every feature of X in increasing order, shareable between trees fitted on the same X. */
export interface Presorted {
  /** columns[f][i] = X[i · d + f]. */
  columns: Float64Array[];
  /** order[f]: the rows by increasing value of feature f (ties by row index). */
  order: Uint32Array[];
  /** values[f][t] = columns[f][order[f][t]]. */
  values: Float64Array[];
}

/**
 * The columns of the row-major n × d matrix X, each argsorted: a native sort of the values,
 * then each row placed at the first position of its value plus the number of earlier rows
 * with that value (so ties keep row order).
 */
export function presortFeatures(X: Float64Array, n: number, d: number): Presorted {
  if (X.length !== n * d) throw new RangeError(`X has ${X.length} values, expected n × d = ${n} × ${d}`);
  const columns: Float64Array[] = [];
  const order: Uint32Array[] = [];
  const values: Float64Array[] = [];
  const next = new Uint32Array(n);
  for (let f = 0; f < d; f++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = X[i * d + f];
    const sorted = Float64Array.from(col).sort();
    const idx = new Uint32Array(n);
    next.fill(0);
    for (let i = 0; i < n; i++) {
      const v = col[i];
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      idx[lo + next[lo]++] = i;
    }
    const vals = new Float64Array(n);
    for (let t = 0; t < n; t++) vals[t] = col[idx[t]];
    columns.push(col);
    order.push(idx);
    values.push(vals);
  }
  return { columns, order, values };
}

/** Grows a Gini classification tree on the row-major n × d matrix X with classes y (0..nClasses−1). */
export function fitDecisionTree(X: Float64Array, n: number, d: number, y: Int32Array | Uint8Array, options: TreeOptions = {}): DecisionTree {
  if (X.length !== n * d) throw new RangeError(`X has ${X.length} values, expected n × d = ${n} × ${d}`);
  if (y.length !== n) throw new RangeError(`y has ${y.length} labels for ${n} rows`);
  if (n === 0) throw new RangeError("cannot fit a tree on 0 rows");
  for (let i = 0; i < X.length; i++) if (Number.isNaN(X[i])) throw new RangeError(`X has a missing value (row ${Math.floor(i / d)}, column ${i % d}): impute first`);
  const maxDepth = options.maxDepth ?? Infinity;
  const minLeaf = options.minSamplesLeaf ?? 1;
  if (!(maxDepth >= 0)) throw new RangeError(`maxDepth must be ≥ 0, got ${maxDepth}`);
  if (!Number.isInteger(minLeaf) || minLeaf < 1) throw new RangeError(`minSamplesLeaf must be a whole number ≥ 1, got ${minLeaf}`);
  let maxY = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(y[i]) || y[i] < 0) throw new RangeError(`y must hold classes 0, 1, ...; row ${i} has ${y[i]}`);
    if (y[i] > maxY) maxY = y[i];
  }
  const C = options.nClasses ?? maxY + 1;
  if (maxY >= C) throw new RangeError(`y has class ${maxY} but nClasses is ${C}`);
  const presorted = options.presorted ?? presortFeatures(X, n, d);
  if (presorted.order.length !== d || presorted.order.some((p) => p.length !== n)) throw new RangeError("presorted does not match X");
  const { columns, order: sortedOrder, values: sortedValues } = presorted;
  const yy = Int32Array.from(y);
  const minSplit = Math.max(2, 2 * minLeaf);

  const samples = new Uint32Array(n);
  for (let i = 0; i < n; i++) samples[i] = i;
  const scratch = new Uint32Array(n);
  const stamp = new Int32Array(n).fill(-1);
  const Xf = new Float64Array(n);
  const yf = new Int32Array(n);
  const order = new Uint32Array(n);
  const left = new Float64Array(C);
  const nodes: TreeNode[] = [];

  const countsOf = (start: number, end: number): number[] => {
    const c = new Array<number>(C).fill(0);
    for (let k = start; k < end; k++) c[yy[samples[k]]]++;
    return c;
  };
  const gini = (counts: ArrayLike<number>, m: number): number => {
    let sq = 0;
    for (let c = 0; c < C; c++) sq += counts[c] * counts[c];
    return 1 - sq / (m * m);
  };

  // Fills Xf/yf with the node's samples in increasing order of feature f: a filtering pass
  // over the presorted order for large nodes, a sort of the node's own samples for small ones.
  const gather = (f: number, start: number, end: number, nodeId: number): void => {
    const m = end - start;
    if (m * Math.log2(m + 1) * 4 >= n) {
      const ord = sortedOrder[f];
      const vals = sortedValues[f];
      let k = 0;
      for (let t = 0; t < n; t++) {
        const i = ord[t];
        if (stamp[i] === nodeId) {
          Xf[k] = vals[t];
          yf[k++] = yy[i];
        }
      }
      return;
    }
    const col = columns[f];
    const o = order.subarray(0, m);
    for (let k = 0; k < m; k++) o[k] = samples[start + k];
    o.sort((a, b) => col[a] - col[b] || a - b);
    for (let k = 0; k < m; k++) {
      Xf[k] = col[o[k]];
      yf[k] = yy[o[k]];
    }
  };

  const build = (start: number, end: number, depth: number, counts: number[]): number => {
    const m = end - start;
    const id = nodes.length;
    const impurity = gini(counts, m);
    const node: TreeNode = { feature: -1, threshold: NaN, impurity, nNodeSamples: m, value: counts, left: -1, right: -1, depth };
    nodes.push(node);
    if (depth >= maxDepth || m < minSplit || impurity <= EPSILON) return id;
    for (let k = start; k < end; k++) stamp[samples[k]] = id;

    let bestProxy = -Infinity;
    let bestFeature = -1;
    let bestThreshold = NaN;
    for (let f = 0; f < d; f++) {
      gather(f, start, end, id);
      if (Xf[m - 1] <= Xf[0] + FEATURE_THRESHOLD) continue; // constant in this node
      left.fill(0);
      let moved = 0;
      let p = 0;
      while (p < m) {
        while (p + 1 < m && Xf[p + 1] <= Xf[p] + FEATURE_THRESHOLD) p++;
        p++;
        if (p >= m) break;
        if (p < minLeaf || m - p < minLeaf) continue;
        for (; moved < p; moved++) left[yf[moved]]++;
        const nL = p;
        const nR = m - p;
        let sqL = 0;
        let sqR = 0;
        for (let c = 0; c < C; c++) {
          const l = left[c];
          const r = counts[c] - l;
          sqL += l * l;
          sqR += r * r;
        }
        const giniL = 1 - sqL / (nL * nL);
        const giniR = 1 - sqR / (nR * nR);
        const proxy = -nR * giniR - nL * giniL;
        if (proxy > bestProxy) {
          bestProxy = proxy;
          bestFeature = f;
          let t = Xf[p - 1] / 2 + Xf[p] / 2;
          if (t === Xf[p] || !Number.isFinite(t)) t = Xf[p - 1];
          bestThreshold = t;
        }
      }
    }
    if (bestFeature < 0) return id;

    // Partition samples[start, end) stably: value ≤ threshold first.
    const bestCol = columns[bestFeature];
    let a = start;
    let b = 0;
    for (let k = start; k < end; k++) {
      const i = samples[k];
      if (bestCol[i] <= bestThreshold) samples[a++] = i;
      else scratch[b++] = i;
    }
    for (let k = 0; k < b; k++) samples[a + k] = scratch[k];
    node.feature = bestFeature;
    node.threshold = bestThreshold;
    const leftCounts = countsOf(start, a);
    const rightCounts = counts.map((c, j) => c - leftCounts[j]);
    node.left = build(start, a, depth + 1, leftCounts);
    node.right = build(a, end, depth + 1, rightCounts);
    return id;
  };

  build(0, n, 0, countsOf(0, n));
  return { nFeatures: d, nClasses: C, nodes };
}

/** The leaf (node id) each row of the row-major n × d matrix X falls into. */
export function applyTree(tree: DecisionTree, X: Float64Array, n: number, d: number): Int32Array {
  if (d !== tree.nFeatures) throw new RangeError(`X has ${d} columns, the tree ${tree.nFeatures}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (;;) {
      const node = tree.nodes[k];
      if (node.feature < 0) break;
      k = X[i * d + node.feature] <= node.threshold ? node.left : node.right;
    }
    out[i] = k;
  }
  return out;
}

/** The majority class of a node (the lowest class on a tie, as numpy's argmax). */
export function nodeClass(node: TreeNode): number {
  let best = 0;
  for (let c = 1; c < node.value.length; c++) if (node.value[c] > node.value[best]) best = c;
  return best;
}

/** The predicted class of each row: the majority class of its leaf. */
export function predictTree(tree: DecisionTree, X: Float64Array, n: number, d: number): Int32Array {
  const leaves = applyTree(tree, X, n, d);
  const cls = tree.nodes.map(nodeClass);
  return leaves.map((k) => cls[k]);
}
