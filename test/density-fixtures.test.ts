/**
 * The density-clustering fixtures (test/fixtures/density.json, written by
 * test/fixtures/make_density_fixtures.py) are well formed and agree with brute force here:
 * DBSCAN's core samples are exactly the points with enough weight within eps and its clusters
 * are the eps-connected components of the core samples; OPTICS's core distances are the
 * k-th nearest distances and each reachability is max(core distance of the predecessor,
 * distance to it); HDBSCAN's merge heights are the weights of a minimum spanning tree of the
 * mutual reachability computed here by Prim, its clusters are at least min_cluster_size.
 * The algorithm tests (src/cluster against these references) live with the algorithms.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

type Metric = "euclidean" | "manhattan" | "cosine" | "minkowski";

interface DbscanRef {
  params: { eps: number; min_samples: number; metric: Metric; sample_weight?: number[] };
  labels: number[];
  core_sample_indices: number[];
  eps_margin: number;
}

interface OpticsRef {
  params: { min_samples: number; max_eps: number | null; metric: Metric; p?: number; cluster_method: "xi" | "dbscan"; xi?: number; eps?: number | null };
  ordering: number[];
  reachability: (number | null)[];
  core_distances: (number | null)[];
  predecessor: number[];
  labels: number[];
  cluster_hierarchy?: [number, number][];
}

interface HdbscanRef {
  params: {
    min_cluster_size: number;
    min_samples: number;
    cluster_selection_method: "eom" | "leaf";
    cluster_selection_epsilon: number;
    allow_single_cluster: boolean;
    alpha: number;
    metric: Metric;
  };
  labels: number[];
  probabilities: number[];
  mst_weights_sorted: number[];
  n_clusters: number;
  dbscan_star?: { cut: number; labels: number[] }[];
  condensed_tree?: { parent: number[]; child: number[]; lambda_val: (number | null)[]; child_size: number[] };
}

interface DensityCase {
  name: string;
  source: string;
  n: number;
  d: number;
  X: number[][];
  dbscan: DbscanRef[];
  optics: OpticsRef[];
  hdbscan: HdbscanRef[];
  core_distances: { min_samples: number; metric: Metric; values: number[] }[];
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/density.json", import.meta.url), "utf8")) as {
  generator: string;
  sklearn: string;
  cases: DensityCase[];
};

/** A case's matrix, flat and row-major, with its row norms (for cosine). */
interface Flat {
  n: number;
  d: number;
  x: Float64Array;
  norms: Float64Array;
}

function flatten(X: number[][]): Flat {
  const n = X.length;
  const d = n ? X[0].length : 0;
  const x = new Float64Array(n * d);
  const norms = new Float64Array(n);
  X.forEach((row, i) => {
    x.set(row, i * d);
    norms[i] = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
  });
  return { n, d, x, norms };
}

/** The distance between rows i and j, as scikit-learn computes it for this metric. */
function dist(f: Flat, i: number, j: number, metric: Metric): number {
  const { d, x } = f;
  const a = i * d;
  const b = j * d;
  let s = 0;
  if (metric === "cosine") {
    if (i === j) return 0;
    for (let k = 0; k < d; k++) s += x[a + k] * x[b + k];
    return Math.min(2, Math.max(0, 1 - s / (f.norms[i] * f.norms[j])));
  }
  if (metric === "manhattan") {
    for (let k = 0; k < d; k++) s += Math.abs(x[a + k] - x[b + k]);
    return s;
  }
  for (let k = 0; k < d; k++) s += (x[a + k] - x[b + k]) ** 2;
  return Math.sqrt(s);
}

function distancesFrom(f: Flat, i: number, metric: Metric, out: Float64Array): void {
  for (let j = 0; j < f.n; j++) out[j] = dist(f, i, j, metric);
}

/** The k-th smallest distance of every row (the row itself counted): a sorted buffer of k. */
function kthDistances(f: Flat, metric: Metric, k: number): Float64Array {
  const out = new Float64Array(f.n);
  const best = new Float64Array(k);
  for (let i = 0; i < f.n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < f.n; j++) {
      const v = dist(f, i, j, metric);
      if (v >= best[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    out[i] = best[k - 1];
  }
  return out;
}

function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Whether two labelings of the same points are the same partition (up to renumbering). */
function samePartition(a: number[], b: number[]): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

function checkLabels(labels: number[], n: number): void {
  expect(labels).toHaveLength(n);
  const ids = new Set(labels);
  for (const l of ids) expect(Number.isInteger(l) && l >= -1).toBe(true);
  const clusters = [...ids].filter((l) => l >= 0).sort((x, y) => x - y);
  expect(clusters).toEqual(clusters.map((_, k) => k)); // 0 .. k-1, no gap
}

describe("density fixtures (density.json) are well formed", () => {
  it("names its generator and scikit-learn, and has the cases the algorithm tests use", () => {
    expect(fixture.generator).toBe("test/fixtures/make_density_fixtures.py");
    expect(fixture.sklearn).toBe("1.2.1");
    expect(fixture.cases.map((c) => c.name)).toEqual([
      "tiny", "blobs2d", "moons", "blobs5d", "duplicates", "mall", "online_retail_rfm", "telco2000",
    ]);
  });

  it("the hand-checked tiny case: DBSCAN counts distance == eps as a neighbour, and the centres are the only cores at eps 0.8", () => {
    const tiny = fixture.cases[0];
    expect(tiny.dbscan[0].labels).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1]);
    expect(tiny.dbscan[0].core_sample_indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(tiny.dbscan[0].eps_margin).toBe(0); // corners are exactly 1 apart
    expect(tiny.dbscan[1].core_sample_indices).toEqual([4, 9]);
    expect(tiny.dbscan[1].labels).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1]);
    expect(samePartition(tiny.hdbscan[0].labels, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1, -1])).toBe(true);
  });

  for (const c of fixture.cases) {
    describe(`${c.name} (${c.n} x ${c.d})`, () => {
      const n = c.n;
      const f = flatten(c.X);
      const kthCache = new Map<string, Float64Array>();
      const kth = (metric: Metric, k: number): Float64Array => {
        const key = `${metric}/${k}`;
        if (!kthCache.has(key)) kthCache.set(key, kthDistances(f, metric, k));
        return kthCache.get(key)!;
      };

      it("has an n x d matrix of finite numbers with 6 decimals at most", () => {
        expect(c.X).toHaveLength(n);
        for (const row of c.X) {
          expect(row).toHaveLength(c.d);
          for (const v of row) {
            expect(Number.isFinite(v)).toBe(true);
            expect(Math.abs(Math.round(v * 1e6) / 1e6 - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v)));
          }
        }
        expect(c.dbscan.length + c.optics.length + c.hdbscan.length).toBeGreaterThan(0);
      });

      for (const [s, ref] of c.dbscan.entries()) {
        const p = ref.params;
        it(`DBSCAN #${s} (eps ${p.eps}, min_samples ${p.min_samples}, ${p.metric}${p.sample_weight ? ", weighted" : ""}): cores and clusters agree with brute force`, () => {
          checkLabels(ref.labels, n);
          const cores = ref.core_sample_indices;
          for (let k = 1; k < cores.length; k++) expect(cores[k]).toBeGreaterThan(cores[k - 1]);
          const w = p.sample_weight ?? new Array<number>(n).fill(1);
          expect(w).toHaveLength(n);
          // eps_margin is the smallest |distance - eps|: recompute it, and trust the counts
          // below only where floating-point rounding cannot move a pair across eps
          const row = new Float64Array(n);
          const isCore = new Uint8Array(n);
          const nearCore: number[][] = Array.from({ length: n }, () => []);
          let margin = Infinity;
          const neighbours: number[][] = [];
          for (let i = 0; i < n; i++) {
            distancesFrom(f, i, p.metric, row);
            let weight = 0;
            const nb: number[] = [];
            for (let j = 0; j < n; j++) {
              if (j > i) margin = Math.min(margin, Math.abs(row[j] - p.eps));
              if (row[j] <= p.eps) {
                weight += w[j];
                nb.push(j);
              }
            }
            neighbours.push(nb);
            if (weight >= p.min_samples) isCore[i] = 1;
          }
          expect(close(margin, ref.eps_margin, 1e-9)).toBe(true);
          // every fixture keeps its pairs away from eps, or exactly on it (tiny)
          expect(ref.eps_margin > 1e-9 || ref.eps_margin === 0).toBe(true);
          expect(cores).toEqual([...isCore.keys()].filter((i) => isCore[i]));
          for (let i = 0; i < n; i++) for (const j of neighbours[i]) if (isCore[j]) nearCore[i].push(j);
          // clusters: the eps-connected components of the core samples ...
          const parent = Int32Array.from({ length: n }, (_, i) => i);
          const find = (x: number): number => {
            while (parent[x] !== x) x = parent[x] = parent[parent[x]];
            return x;
          };
          for (const i of cores) for (const j of nearCore[i]) parent[find(i)] = find(j);
          expect(samePartition(cores.map((i) => ref.labels[i]), cores.map(find))).toBe(true);
          for (const i of cores) expect(ref.labels[i]).toBeGreaterThanOrEqual(0);
          // ... a border point takes the cluster of one of its cores, noise has none
          for (let i = 0; i < n; i++) {
            if (isCore[i]) continue;
            if (ref.labels[i] === -1) expect(nearCore[i]).toEqual([]);
            else expect(nearCore[i].map((j) => ref.labels[j])).toContain(ref.labels[i]);
          }
        });
      }

      for (const [s, ref] of c.optics.entries()) {
        const p = ref.params;
        it(`OPTICS #${s} (min_samples ${p.min_samples}, max_eps ${p.max_eps ?? "inf"}, ${p.cluster_method}): core distances and reachabilities agree with brute force`, () => {
          expect([...ref.ordering].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
          for (const key of ["reachability", "core_distances", "predecessor"] as const) expect(ref[key]).toHaveLength(n);
          checkLabels(ref.labels, n);
          const metric: Metric = p.metric === "minkowski" ? "euclidean" : p.metric;
          const maxEps = p.max_eps ?? Infinity;
          const coreWant = kth(metric, p.min_samples);
          for (let i = 0; i < n; i++) {
            const want = coreWant[i] > maxEps ? null : coreWant[i];
            const got = ref.core_distances[i];
            if (want === null || got === null) expect(got).toBe(want);
            else expect(close(got, want, 1e-12)).toBe(true);
          }
          expect(ref.reachability[ref.ordering[0]]).toBeNull();
          const position = new Int32Array(n);
          ref.ordering.forEach((point, k) => (position[point] = k));
          for (let i = 0; i < n; i++) {
            const pred = ref.predecessor[i];
            const r = ref.reachability[i];
            if (r === null) {
              expect(pred).toBe(-1);
              continue;
            }
            expect(position[pred]).toBeLessThan(position[i]);
            expect(close(r, Math.max(ref.core_distances[pred]!, dist(f, pred, i, metric)), 1e-9)).toBe(true);
            expect(r).toBeLessThanOrEqual(maxEps);
          }
          for (const [a, b] of ref.cluster_hierarchy ?? []) expect(0 <= a && a <= b && b < n).toBe(true);
        });
      }

      it("lists the core distances HDBSCAN used, equal to the k-th nearest distances", () => {
        for (const cd of c.core_distances) {
          const want = kth(cd.metric, cd.min_samples);
          expect(cd.values).toHaveLength(n);
          for (let i = 0; i < n; i++) expect(close(cd.values[i], want[i], cd.metric === "cosine" ? 1e-9 : 1e-12)).toBe(true);
        }
        const used = new Set(c.hdbscan.filter((h) => h.params.metric !== "cosine" || h.params.alpha === 1).map((h) => `${h.params.min_samples}/${h.params.metric}`));
        expect(new Set(c.core_distances.map((cd) => `${cd.min_samples}/${cd.metric}`))).toEqual(used);
      });

      for (const [s, ref] of c.hdbscan.entries()) {
        const p = ref.params;
        it(`HDBSCAN #${s} (min_cluster_size ${p.min_cluster_size}, min_samples ${p.min_samples}, ${p.cluster_selection_method}, eps ${p.cluster_selection_epsilon}, alpha ${p.alpha}, ${p.metric}): labels, probabilities and MST weights`, () => {
          checkLabels(ref.labels, n);
          const sizes = new Map<number, number>();
          for (const l of ref.labels) if (l >= 0) sizes.set(l, (sizes.get(l) ?? 0) + 1);
          expect(sizes.size).toBe(ref.n_clusters);
          for (const size of sizes.values()) expect(size).toBeGreaterThanOrEqual(p.min_cluster_size);
          expect(ref.probabilities).toHaveLength(n);
          ref.probabilities.forEach((pr, i) => {
            expect(pr >= 0 && pr <= 1).toBe(true);
            if (ref.labels[i] === -1) expect(pr).toBe(0);
          });
          // The MST of mutual reachability by Prim over the dense graph, as scikit-learn's
          // paths define it: Prim path (euclidean, manhattan) divides pair distances by alpha,
          // brute path (cosine) divides core distances too.
          const core = Float64Array.from(kth(p.metric, p.min_samples));
          if (p.metric === "cosine") for (let i = 0; i < n; i++) core[i] /= p.alpha;
          const best = new Float64Array(n).fill(Infinity);
          const inTree = new Uint8Array(n);
          const weights: number[] = [];
          let current = 0;
          for (let step = 0; step < n - 1; step++) {
            inTree[current] = 1;
            let next = -1;
            for (let j = 0; j < n; j++) {
              if (inTree[j]) continue;
              const mr = Math.max(core[current], core[j], dist(f, current, j, p.metric) / p.alpha);
              if (mr < best[j]) best[j] = mr;
              if (next < 0 || best[j] < best[next]) next = j;
            }
            weights.push(best[next]);
            current = next;
          }
          weights.sort((a, b) => a - b);
          expect(ref.mst_weights_sorted).toHaveLength(n - 1);
          const tol = p.metric === "cosine" ? 1e-9 : 1e-12;
          for (let k = 0; k < n - 1; k++) {
            if (k > 0) expect(ref.mst_weights_sorted[k]).toBeGreaterThanOrEqual(ref.mst_weights_sorted[k - 1]);
            expect(close(ref.mst_weights_sorted[k], weights[k], tol)).toBe(true);
          }
          if (ref.condensed_tree) {
            // every point leaves the tree once; a cluster's size is the points below it;
            // clusters are children of the root n or of another cluster, born no smaller
            // than min_cluster_size, and lambda grows from parent to child
            const t = ref.condensed_tree;
            const lam = (v: number | null): number => v ?? Infinity;
            const seen = new Uint8Array(n);
            const below = new Map<number, number>();
            const birth = new Map<number, number>([[n, 0]]);
            t.child.forEach((ch, r) => {
              expect(t.parent[r]).toBeGreaterThanOrEqual(n);
              if (ch < n) {
                expect(t.child_size[r]).toBe(1);
                expect(seen[ch]).toBe(0);
                seen[ch] = 1;
              } else {
                expect(ch).toBeGreaterThan(n);
                expect(t.child_size[r]).toBeGreaterThanOrEqual(p.min_cluster_size);
                expect(birth.has(ch)).toBe(false);
                birth.set(ch, lam(t.lambda_val[r]));
              }
            });
            expect(seen.every((v) => v === 1)).toBe(true);
            const parentOf = new Map<number, number>();
            t.child.forEach((ch, r) => {
              if (ch >= n) parentOf.set(ch, t.parent[r]);
              expect(lam(t.lambda_val[r])).toBeGreaterThanOrEqual(birth.get(t.parent[r])!);
            });
            t.child.forEach((ch, r) => {
              if (ch < n) for (let c: number | undefined = t.parent[r]; c !== undefined; c = parentOf.get(c)) below.set(c, (below.get(c) ?? 0) + 1);
            });
            expect(below.get(n)).toBe(n);
            t.child.forEach((ch, r) => {
              if (ch >= n) expect(below.get(ch)).toBe(t.child_size[r]);
            });
          }
          for (const star of ref.dbscan_star ?? []) {
            checkLabels(star.labels, n);
            const count = new Map<number, number>();
            for (const l of star.labels) if (l >= 0) count.set(l, (count.get(l) ?? 0) + 1);
            for (const size of count.values()) expect(size).toBeGreaterThanOrEqual(p.min_cluster_size);
            // a point is in a DBSCAN* cluster only if its core distance is below the cut
            star.labels.forEach((l, i) => {
              if (l >= 0) expect(core[i]).toBeLessThan(star.cut);
            });
          }
        });
      }
    });
  }
});
