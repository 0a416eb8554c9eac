/**
 * HDBSCAN's trees, after scikit-learn ≥ 1.3 (sklearn/cluster/_hdbscan/_linkage.pyx and
 * _tree.pyx): the single-linkage tree of the mutual-reachability minimum spanning tree, the
 * condensed tree for a minimum cluster size, cluster stabilities, the selection of flat
 * clusters ("eom" or "leaf", cluster_selection_epsilon, allow_single_cluster,
 * max_cluster_size), and the labels and membership probabilities of the points.
 *
 * The functions are pure and linear (or n log n) in the number of points: where
 * scikit-learn walks the tree with repeated searches (descendant lists, row look-ups by
 * child), these compute the same quantities with one pass over ids in topological order
 * (a condensed cluster's id is larger than its parent's).
 *
 * Numbering follows scikit-learn: single-linkage node n + i is made by merge i; in the
 * condensed tree the points keep their row number, the root cluster is n and the clusters
 * are numbered n + 1, n + 2, … in breadth-first order of the single-linkage tree (the left
 * child first); flat labels number the selected clusters in increasing order of their id.
 */

/** A condensed tree: one row per edge (parent cluster → child cluster or point). */
export interface CondensedTree {
  parent: Int32Array;
  child: Int32Array;
  /** 1 / distance at which the child leaves the parent (Infinity at distance 0). */
  lambdaVal: Float64Array;
  /** Number of points in the child (1 for a point). */
  childSize: Int32Array;
}

export type ClusterSelectionMethod = "eom" | "leaf";

export interface SelectionOptions {
  clusterSelectionMethod: ClusterSelectionMethod;
  allowSingleCluster: boolean;
  clusterSelectionEpsilon: number;
  /** null: no limit. */
  maxClusterSize: number | null;
}

export interface Selection {
  labels: Int32Array;
  probabilities: Float64Array;
  /** Condensed-tree ids of the selected clusters, ascending: label k is cluster selected[k]. */
  selected: Int32Array;
  /** Per condensed-tree cluster (index id − n): the largest lambda of its own rows (scikit-learn's max_lambdas). */
  deaths: Float64Array;
}

/**
 * scikit-learn's make_single_linkage after sorting the MST by weight: merges in the order
 * `order` (increasing weight, see sortEdges), left = cluster of edge's first
 * end, right = cluster of its second, cluster n + i made by merge i. Returns the (n−1) × 4
 * rows (left, right, distance, size).
 */
export function singleLinkage(from: Int32Array, to: Int32Array, weight: Float64Array, n: number, order: Int32Array): Float64Array {
  const Z = new Float64Array((n - 1) * 4);
  const parent = new Int32Array(2 * n - 1);
  const size = new Int32Array(2 * n - 1);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  size.fill(1, 0, n);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r];
    while (parent[x] !== r) {
      const next = parent[x];
      parent[x] = r;
      x = next;
    }
    return r;
  };
  for (let i = 0; i < n - 1; i++) {
    const e = order[i];
    const a = find(from[e]);
    const b = find(to[e]);
    const id = n + i;
    Z[i * 4] = a;
    Z[i * 4 + 1] = b;
    Z[i * 4 + 2] = weight[e];
    Z[i * 4 + 3] = size[a] + size[b];
    size[id] = size[a] + size[b];
    parent[a] = id;
    parent[b] = id;
  }
  return Z;
}

/**
 * Edge order by increasing weight as numpy's np.argsort (kind "quicksort", numpy's
 * introsort for float64 without AVX-512 argsort, numpy < 1.25) orders them, tied edges
 * included: scikit-learn sorts its Prim edges this way, and the order of tied merges decides
 * how the condensed tree splits. (Median-of-three quicksort down to 16 elements, then
 * insertion sort; heapsort past 2·log2(n) levels, as numpy's aquicksort_.)
 */
export function sortEdges(weight: Float64Array): Int32Array {
  const num = weight.length;
  const t = new Int32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  const v = weight;
  const SMALL = 16;
  const stack = new Int32Array(256);
  const depthStack = new Int32Array(128);
  let sp = 0;
  let dp = 0;
  let pl = 0;
  let pr = num - 1;
  let cdepth = 2 * (31 - Math.clz32(num));
  const swap = (a: number, b: number): void => {
    const x = t[a];
    t[a] = t[b];
    t[b] = x;
  };
  for (;;) {
    if (cdepth < 0) {
      heapsortRange(v, t, pl, pr - pl + 1);
    } else {
      while (pr - pl > SMALL) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        if (v[t[pr]] < v[t[pm]]) swap(pr, pm);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        const vp = v[t[pm]];
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (v[t[pi]] < vp);
          do --pj;
          while (vp < v[t[pj]]);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        if (pi - pl < pr - pi) {
          stack[sp++] = pi + 1;
          stack[sp++] = pr;
          pr = pi - 1;
        } else {
          stack[sp++] = pl;
          stack[sp++] = pi - 1;
          pl = pi + 1;
        }
        depthStack[dp++] = --cdepth;
      }
      for (let pi = pl + 1; pi <= pr; pi++) {
        const vi = t[pi];
        const x = v[vi];
        let pj = pi;
        while (pj > pl && x < v[t[pj - 1]]) {
          t[pj] = t[pj - 1];
          pj--;
        }
        t[pj] = vi;
      }
    }
    if (sp === 0) break;
    pr = stack[--sp];
    pl = stack[--sp];
    cdepth = depthStack[--dp];
  }
  return t;
}

/** numpy's aheapsort_ on t[start .. start + n) (1-based heap as there). */
function heapsortRange(v: Float64Array, t: Int32Array, start: number, n: number): void {
  const a = (i: number): number => t[start + i - 1];
  const set = (i: number, x: number): void => {
    t[start + i - 1] = x;
  };
  let i: number;
  let j: number;
  let l: number;
  let tmp: number;
  for (l = n >> 1; l > 0; --l) {
    tmp = a(l);
    for (i = l, j = l << 1; j <= n;) {
      if (j < n && v[a(j)] < v[a(j + 1)]) j += 1;
      if (v[tmp] < v[a(j)]) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
  for (; n > 1;) {
    tmp = a(n);
    set(n, a(1));
    n -= 1;
    for (i = 1, j = 2; j <= n;) {
      if (j < n && v[a(j)] < v[a(j + 1)]) j++;
      if (v[tmp] < v[a(j)]) {
        set(i, a(j));
        i = j;
        j += j;
      } else break;
    }
    set(i, tmp);
  }
}

/**
 * scikit-learn's _condense_tree: walks the single-linkage tree from the root breadth-first;
 * a split into two parts of at least minClusterSize points makes two new clusters, a part
 * smaller than that falls out of its parent point by point (every point of the part gets a
 * row at the split's lambda, in breadth-first order of the part).
 */
export function condenseTree(Z: Float64Array, n: number, minClusterSize: number): CondensedTree {
  const root = 2 * (n - 1);
  const nNodes = 2 * n - 1;
  // Breadth-first order of the whole hierarchy.
  const bfs = new Int32Array(nNodes);
  let head = 0;
  let tail = 0;
  bfs[tail++] = root;
  while (head < tail) {
    const node = bfs[head++];
    if (node >= n) {
      const r = (node - n) * 4;
      bfs[tail++] = Z[r];
      bfs[tail++] = Z[r + 1];
    }
  }
  const cap = 2 * n;
  const parent = new Int32Array(cap);
  const child = new Int32Array(cap);
  const lambdaVal = new Float64Array(cap);
  const childSize = new Int32Array(cap);
  let rows = 0;
  const relabel = new Int32Array(nNodes);
  const ignore = new Uint8Array(nNodes);
  const queue = new Int32Array(nNodes);
  relabel[root] = n;
  let nextLabel = n + 1;
  const sizeOf = (x: number): number => (x >= n ? Z[(x - n) * 4 + 3] : 1);
  /** Every point under `sub` falls out of `label` at `lambda`; marks the subtree ignored. */
  const fallOut = (sub: number, label: number, lambda: number): void => {
    let h = 0;
    let t = 0;
    queue[t++] = sub;
    while (h < t) {
      const x = queue[h++];
      ignore[x] = 1;
      if (x < n) {
        parent[rows] = label;
        child[rows] = x;
        lambdaVal[rows] = lambda;
        childSize[rows] = 1;
        rows++;
      } else {
        const r = (x - n) * 4;
        queue[t++] = Z[r];
        queue[t++] = Z[r + 1];
      }
    }
  };
  for (let k = 0; k < nNodes; k++) {
    const node = bfs[k];
    if (ignore[node] || node < n) continue;
    const r = (node - n) * 4;
    const left = Z[r];
    const right = Z[r + 1];
    const distance = Z[r + 2];
    const lambda = distance > 0 ? 1 / distance : Infinity;
    const leftCount = sizeOf(left);
    const rightCount = sizeOf(right);
    const label = relabel[node];
    if (leftCount >= minClusterSize && rightCount >= minClusterSize) {
      relabel[left] = nextLabel++;
      parent[rows] = label;
      child[rows] = relabel[left];
      lambdaVal[rows] = lambda;
      childSize[rows] = leftCount;
      rows++;
      relabel[right] = nextLabel++;
      parent[rows] = label;
      child[rows] = relabel[right];
      lambdaVal[rows] = lambda;
      childSize[rows] = rightCount;
      rows++;
    } else if (leftCount < minClusterSize && rightCount < minClusterSize) {
      fallOut(left, label, lambda);
      fallOut(right, label, lambda);
    } else if (leftCount < minClusterSize) {
      relabel[right] = label;
      fallOut(left, label, lambda);
    } else {
      relabel[left] = label;
      fallOut(right, label, lambda);
    }
  }
  return {
    parent: parent.slice(0, rows), child: child.slice(0, rows), lambdaVal: lambdaVal.slice(0, rows), childSize: childSize.slice(0, rows),
  };
}

/** Number of clusters of a condensed tree over n points (ids n … n + count − 1). */
export function clusterCount(tree: CondensedTree, n: number): number {
  let max = n;
  const p = tree.parent;
  for (let i = 0; i < p.length; i++) if (p[i] > max) max = p[i];
  return max - n + 1;
}

/**
 * scikit-learn's _compute_stability: per cluster (index id − n), the sum over its rows of
 * (lambda − the cluster's birth lambda) × child size, in row order; the root is born at 0.
 */
export function computeStability(tree: CondensedTree, n: number): Float64Array {
  const C = clusterCount(tree, n);
  const birth = new Float64Array(C);
  const { parent, child, lambdaVal, childSize } = tree;
  const rows = parent.length;
  for (let i = 0; i < rows; i++) if (child[i] >= n) birth[child[i] - n] = lambdaVal[i];
  birth[0] = 0;
  const stability = new Float64Array(C);
  for (let i = 0; i < rows; i++) {
    const c = parent[i] - n;
    stability[c] += (lambdaVal[i] - birth[c]) * childSize[i];
  }
  return stability;
}

/** The cluster part of a condensed tree, indexed by id − n. */
interface ClusterTree {
  C: number;
  /** Parent cluster index (−1 for the root). */
  up: Int32Array;
  /** Lambda at which the cluster was born (its row's lambda; 0 for the root). */
  birth: Float64Array;
  /** Size (the root: the sum of its child clusters' sizes, as scikit-learn computes it). */
  size: Float64Array;
  /** First and second child cluster (−1: none), in row order. */
  kid0: Int32Array;
  kid1: Int32Array;
  /** More than two child clusters (only in malformed trees): their lists. */
  extraKids: Map<number, number[]>;
  /** Whether the cluster has a row at all as a child (all but the root). */
  hasRow: Uint8Array;
}

function clusterTree(tree: CondensedTree, n: number): ClusterTree {
  const C = clusterCount(tree, n);
  const up = new Int32Array(C).fill(-1);
  const birth = new Float64Array(C);
  const size = new Float64Array(C);
  const kid0 = new Int32Array(C).fill(-1);
  const kid1 = new Int32Array(C).fill(-1);
  const hasRow = new Uint8Array(C);
  const extraKids = new Map<number, number[]>();
  const { parent, child, lambdaVal, childSize } = tree;
  for (let i = 0; i < parent.length; i++) {
    if (childSize[i] <= 1) continue;
    const c = child[i] - n;
    const p = parent[i] - n;
    up[c] = p;
    birth[c] = lambdaVal[i];
    size[c] = childSize[i];
    hasRow[c] = 1;
    if (kid0[p] < 0) kid0[p] = c;
    else if (kid1[p] < 0) kid1[p] = c;
    else {
      let list = extraKids.get(p);
      if (!list) extraKids.set(p, (list = []));
      list.push(c);
    }
  }
  return { C, up, birth, size, kid0, kid1, extraKids, hasRow };
}

function kidsOf(t: ClusterTree, c: number): number[] {
  const out: number[] = [];
  if (t.kid0[c] >= 0) out.push(t.kid0[c]);
  if (t.kid1[c] >= 0) out.push(t.kid1[c]);
  const extra = t.extraKids.get(c);
  if (extra) out.push(...extra);
  return out;
}

/**
 * scikit-learn's epsilon_search: a selected cluster born below distance epsilon is replaced
 * by its lowest ancestor born above epsilon (traverse_upwards; at the root's child it stays,
 * or becomes the root with allowSingleCluster). Returns the flags of the new selection.
 */
function epsilonSearch(t: ClusterTree, leaves: number[], epsilon: number, allowSingle: boolean): Uint8Array {
  const out = new Uint8Array(t.C);
  const processed = new Uint8Array(t.C);
  const traverseUpwards = (leaf: number): number => {
    for (;;) {
      const parent = t.up[leaf];
      if (parent === 0) return allowSingle ? 0 : leaf;
      const parentEps = 1 / t.birth[parent];
      if (parentEps > epsilon) return parent;
      leaf = parent;
    }
  };
  for (const leaf of leaves) {
    const eps = 1 / t.birth[leaf];
    if (eps < epsilon) {
      if (processed[leaf]) continue;
      const x = traverseUpwards(leaf);
      out[x] = 1;
      // Every cluster below x is processed.
      const stack = kidsOf(t, x);
      while (stack.length) {
        const s = stack.pop() as number;
        processed[s] = 1;
        stack.push(...kidsOf(t, s));
      }
    } else out[leaf] = 1;
  }
  return out;
}

/**
 * scikit-learn's _get_clusters, do_labelling and get_probabilities: the selected clusters,
 * the label of every point (the selected cluster nearest above it in the condensed tree, else
 * noise; points of the root only when the root is the one cluster, allowSingleCluster, with
 * scikit-learn's lambda test) and its probability (lambda / the cluster's largest lambda).
 */
export function selectClusters(tree: CondensedTree, n: number, stabilityIn: Float64Array, o: SelectionOptions): Selection {
  const t = clusterTree(tree, n);
  const C = t.C;
  const stability = Float64Array.from(stabilityIn);
  const { parent, child, lambdaVal } = tree;
  const rows = parent.length;
  const allowSingle = o.allowSingleCluster;
  const epsilon = o.clusterSelectionEpsilon;
  let nClusterRows = 0;
  for (let c = 1; c < C; c++) if (t.hasRow[c]) nClusterRows++;
  if (allowSingle) {
    let s = 0;
    for (const k of kidsOf(t, 0)) s += t.size[k];
    t.size[0] = s;
  }
  const maxSize = o.maxClusterSize ?? n + 1;
  // In scikit-learn's node list: every cluster, the root only with allowSingleCluster.
  const first = allowSingle ? 0 : 1;
  let isCluster: Uint8Array = new Uint8Array(C);
  if (o.clusterSelectionMethod === "eom") {
    // Children before parents (ids descending). A kept cluster clears every cluster below it;
    // so a cluster ends selected when it was kept and no cluster above it was.
    const kept = new Uint8Array(C);
    for (let c = C - 1; c >= first; c--) {
      let sub = 0;
      for (const k of kidsOf(t, c)) sub += stability[k];
      if (sub > stability[c] || t.size[c] > maxSize) stability[c] = sub;
      else kept[c] = 1;
    }
    const keptAbove = new Uint8Array(C);
    for (let c = 0; c < C; c++) {
      const p = t.up[c];
      if (p >= 0) keptAbove[c] = keptAbove[p] | kept[p];
      isCluster[c] = kept[c] & (keptAbove[c] ^ 1);
    }
    if (epsilon !== 0 && nClusterRows > 0) {
      const eom: number[] = [];
      for (let c = 0; c < C; c++) if (isCluster[c]) eom.push(c);
      if (eom.length === 1 && eom[0] === 0) {
        if (!allowSingle) isCluster = new Uint8Array(C);
      } else {
        isCluster = restrict(epsilonSearch(t, eom, epsilon, allowSingle), first);
      }
    }
  } else {
    const leaves: number[] = [];
    if (nClusterRows > 0) for (let c = 1; c < C; c++) if (t.kid0[c] < 0) leaves.push(c);
    if (leaves.length === 0) isCluster = new Uint8Array(C);
    else if (epsilon !== 0) isCluster = restrict(epsilonSearch(t, leaves, epsilon, allowSingle), first);
    else for (const c of leaves) isCluster[c] = 1;
  }
  const selectedList: number[] = [];
  for (let c = 0; c < C; c++) if (isCluster[c]) selectedList.push(c);
  const selected = Int32Array.from(selectedList, (c) => c + n);
  const labelOfCluster = new Int32Array(C);
  // −2: falls to the root.
  const ROOT = -2;
  let next = 0;
  for (let c = 0; c < C; c++) {
    if (c === 0) labelOfCluster[c] = ROOT;
    else if (isCluster[c]) labelOfCluster[c] = next++;
    else labelOfCluster[c] = labelOfCluster[t.up[c]];
  }
  const deaths = new Float64Array(C);
  for (let i = 0; i < rows; i++) {
    const c = parent[i] - n;
    if (lambdaVal[i] > deaths[c]) deaths[c] = lambdaVal[i];
  }
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  const rootSingle = selectedList.length === 1 && allowSingle && isCluster[0] === 1;
  const rootThreshold = epsilon !== 0 ? 1 / epsilon : deaths[0];
  for (let i = 0; i < rows; i++) {
    const x = child[i];
    if (x >= n) continue;
    let label = labelOfCluster[parent[i] - n];
    if (label === ROOT) label = rootSingle && lambdaVal[i] >= rootThreshold ? 0 : -1;
    labels[x] = label;
    if (label < 0) continue;
    const maxLambda = deaths[selected[label] - n];
    const lambda = lambdaVal[i];
    probabilities[x] = maxLambda === 0 || lambda === Infinity ? 1 : Math.min(lambda, maxLambda) / maxLambda;
  }
  return { labels, probabilities, selected, deaths };
}

/** Flags limited to scikit-learn's node list (ids ≥ first). */
function restrict(flags: Uint8Array, first: number): Uint8Array {
  for (let c = 0; c < first; c++) flags[c] = 0;
  return flags;
}

/**
 * What approximate prediction needs of the condensed tree: per point its parent cluster and
 * lambda; per cluster its parent, birth lambda, the label it predicts (its own or that of the
 * selected cluster above it, else −1) and the largest lambda of that selected cluster.
 */
export interface PredictionTree {
  n: number;
  pointParent: Int32Array;
  pointLambda: Float64Array;
  clusterUp: Int32Array;
  clusterBirth: Float64Array;
  clusterLabel: Int32Array;
  clusterMaxLambda: Float64Array;
}

export function predictionTree(tree: CondensedTree, n: number, selected: Int32Array, deaths: Float64Array): PredictionTree {
  const t = clusterTree(tree, n);
  const C = t.C;
  const pointParent = new Int32Array(n);
  const pointLambda = new Float64Array(n);
  for (let i = 0; i < tree.parent.length; i++) {
    const x = tree.child[i];
    if (x < n) {
      pointParent[x] = tree.parent[i] - n;
      pointLambda[x] = tree.lambdaVal[i];
    }
  }
  const clusterLabel = new Int32Array(C).fill(-1);
  const clusterMaxLambda = new Float64Array(C);
  const own = new Int32Array(C).fill(-1);
  // Like the hdbscan library: without any cluster below the root, every new point is noise.
  if (C > 1) for (let k = 0; k < selected.length; k++) own[selected[k] - n] = k;
  for (let c = 0; c < C; c++) {
    if (own[c] >= 0) {
      clusterLabel[c] = own[c];
      clusterMaxLambda[c] = deaths[c];
    } else if (t.up[c] >= 0) {
      clusterLabel[c] = clusterLabel[t.up[c]];
      clusterMaxLambda[c] = clusterMaxLambda[t.up[c]];
    }
  }
  return { n, pointParent, pointLambda, clusterUp: t.up, clusterBirth: t.birth, clusterLabel, clusterMaxLambda };
}

/**
 * The hdbscan library's _find_cluster_and_probability for one new point whose nearest
 * training point in mutual reachability is `neighbor`, reached at lambda `lambda`: the
 * neighbour's cluster, or the ancestor the new point would have left at its lambda.
 */
export function predictOne(p: PredictionTree, neighbor: number, lambda: number, out: { label: number; probability: number }): void {
  let c = p.pointParent[neighbor];
  if (p.pointLambda[neighbor] > lambda) {
    while (c > 0 && p.clusterBirth[c] >= lambda) c = p.clusterUp[c];
  }
  const label = p.clusterLabel[c];
  out.label = label;
  if (label < 0) {
    out.probability = 0;
    return;
  }
  const maxLambda = p.clusterMaxLambda[c];
  out.probability = maxLambda > 0 ? Math.min(maxLambda, lambda) / maxLambda : 1;
}
