import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { KERNELS } from "../src/io/kernels.js";
import { autoAlgorithm, buildKDTree, minDistToNode, NeighborIndex, type NeighborAlgorithm, type NeighborMetric, treeLevels } from "../src/neighbors/index.js";
import { treeKnn } from "../src/neighbors/search.js";
import { poolMaker } from "./helpers/workers.js";

/** Seeded data; with `grid`, values are rounded to multiples of it (many duplicates and tied distances). */
function randomData(n: number, d: number, seed: number, grid = 0): Float64Array {
  const rng = new Random(seed);
  const X = new Float64Array(n * d);
  for (let i = 0; i < X.length; i++) {
    const v = rng.normal(0, 1);
    X[i] = grid > 0 ? Math.round(v / grid) * grid : v;
  }
  return X;
}

/** Plain reference distances, written independently of the library's loops. */
function refDistance(X: Float64Array, d: number, i: number, j: number, metric: NeighborMetric): number {
  if (i === j) return 0;
  if (metric === "manhattan") {
    let s = 0;
    for (let c = 0; c < d; c++) s += Math.abs(X[i * d + c] - X[j * d + c]);
    return s;
  }
  if (metric === "euclidean") {
    let s = 0;
    for (let c = 0; c < d; c++) s += (X[i * d + c] - X[j * d + c]) ** 2;
    return Math.sqrt(s);
  }
  // scikit-learn's cosine_distances: rows scaled to unit length (zero rows stay zero), 1 − u·v clipped to [0, 2].
  let ni = 0;
  let nj = 0;
  for (let c = 0; c < d; c++) {
    ni += X[i * d + c] ** 2;
    nj += X[j * d + c] ** 2;
  }
  ni = Math.sqrt(ni) || 1;
  nj = Math.sqrt(nj) || 1;
  let dot = 0;
  for (let c = 0; c < d; c++) dot += (X[i * d + c] / ni) * (X[j * d + c] / nj);
  return Math.min(2, Math.max(0, 1 - dot));
}

/** Within eps, compared as the index documents: euclidean as squared distance <= eps². */
function within(dist: number, eps: number, metric: NeighborMetric): boolean {
  return metric === "euclidean" ? dist * dist <= eps * eps : dist <= eps;
}

function refKnn(X: Float64Array, n: number, d: number, k: number, metric: NeighborMetric): { distances: Float64Array; indices: Int32Array } {
  const distances = new Float64Array(n * k);
  const indices = new Int32Array(n * k);
  for (let i = 0; i < n; i++) {
    const all = Array.from({ length: n }, (_, j) => ({ j, dist: refDistance(X, d, i, j, metric) }));
    all.sort((a, b) => a.dist - b.dist || (a.j === i ? -1 : b.j === i ? 1 : a.j - b.j));
    for (let c = 0; c < k; c++) {
      distances[i * k + c] = all[c].dist;
      indices[i * k + c] = all[c].j;
    }
  }
  return { distances, indices };
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let t = 0; t < a.length; t++) worst = Math.max(worst, Math.abs(a[t] - b[t]));
  expect(worst).toBeLessThanOrEqual(tol);
}

const METRICS: NeighborMetric[] = ["euclidean", "manhattan", "cosine"];

describe("KD-tree structure", () => {
  it("follows scikit-learn's layout: levels, node ranges split at the median of the widest dimension, boxes holding their points", () => {
    const n = 1000;
    const d = 3;
    const X = randomData(n, d, 1, 0.25);
    const tree = buildKDTree(X, n, d, { leafSize: 20 });
    expect(tree.nLevels).toBe(1 + Math.floor(Math.log2((n - 1) / 20)));
    expect(tree.nLevels).toBe(treeLevels(n, 20));
    expect(tree.nNodes).toBe(2 ** tree.nLevels - 1);
    expect(Array.from(tree.index).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    for (let node = 0; node < tree.nNodes; node++) {
      const s = tree.nodeStart[node];
      const e = tree.nodeEnd[node];
      for (let t = s; t < e; t++) {
        for (let j = 0; j < d; j++) {
          const v = X[tree.index[t] * d + j];
          expect(v).toBeGreaterThanOrEqual(tree.nodeLower[node * d + j]);
          expect(v).toBeLessThanOrEqual(tree.nodeUpper[node * d + j]);
          expect(tree.ordered[t * d + j]).toBe(v);
        }
      }
      if (tree.nodeIsLeaf[node]) {
        expect(node).toBeGreaterThanOrEqual(2 ** (tree.nLevels - 1) - 1);
        expect(e - s).toBeLessThanOrEqual(2 * 20);
        continue;
      }
      const a = 2 * node + 1;
      expect(tree.nodeStart[a]).toBe(s);
      expect(tree.nodeEnd[a]).toBe(s + Math.floor((e - s) / 2));
      expect(tree.nodeStart[a + 1]).toBe(tree.nodeEnd[a]);
      expect(tree.nodeEnd[a + 1]).toBe(e);
      // Some dimension separates the children: every left value <= every right value.
      let widest = 0;
      for (let j = 1; j < d; j++) {
        if (tree.nodeUpper[node * d + j] - tree.nodeLower[node * d + j] > tree.nodeUpper[node * d + widest] - tree.nodeLower[node * d + widest]) widest = j;
      }
      expect(tree.nodeUpper[a * d + widest]).toBeLessThanOrEqual(tree.nodeLower[(a + 1) * d + widest]);
    }
  });

  it("one row and all-equal rows make valid trees", () => {
    const one = buildKDTree(new Float64Array([3, 4]), 1, 2);
    expect(one.nLevels).toBe(1);
    expect(one.nodeIsLeaf[0]).toBe(1);
    const same = new Float64Array(500 * 2).fill(7);
    const t = buildKDTree(same, 500, 2, { leafSize: 10 });
    expect(t.nodeEnd[t.nNodes - 1]).toBe(500);
  });

  it("minDistToNode is 0 inside a box and never more than the distance to any of the node's points", () => {
    const n = 400;
    const d = 2;
    const X = randomData(n, d, 2);
    for (const metric of ["euclidean", "manhattan"] as const) {
      const tree = buildKDTree(X, n, d, { leafSize: 10, metric });
      const q = new Float64Array([0.3, -0.2, 5, 5]);
      for (let node = 0; node < tree.nNodes; node++) {
        for (const o of [0, 2]) {
          let best = Infinity;
          for (let t = tree.nodeStart[node]; t < tree.nodeEnd[node]; t++) {
            const i = tree.index[t];
            const dx = Math.abs(X[i * 2] - q[o]);
            const dy = Math.abs(X[i * 2 + 1] - q[o + 1]);
            best = Math.min(best, metric === "euclidean" ? Math.hypot(dx, dy) : dx + dy);
          }
          const m = minDistToNode(tree, node, q, o);
          expect(m).toBeLessThanOrEqual(best + 1e-12);
          const inside = q[o] >= tree.nodeLower[node * 2] && q[o] <= tree.nodeUpper[node * 2] && q[o + 1] >= tree.nodeLower[node * 2 + 1] && q[o + 1] <= tree.nodeUpper[node * 2 + 1];
          if (inside) expect(m).toBe(0);
        }
      }
      // The root's box spans 0 in y (normal data), so the distance from (10, 0) is the gap in x.
      expect(minDistToNode(tree, 0, new Float64Array([10, 0]), 0)).toBeCloseTo(10 - tree.nodeUpper[0], 12);
    }
  });
});

describe("the choice of algorithm follows scikit-learn's auto", () => {
  it("brute for d > 15, k >= floor(n / 2) or cosine; else the KD-tree", () => {
    expect(autoAlgorithm(1000, 15, "euclidean")).toBe("kd_tree");
    expect(autoAlgorithm(1000, 16, "euclidean")).toBe("brute");
    expect(autoAlgorithm(1000, 2, "manhattan")).toBe("kd_tree");
    expect(autoAlgorithm(1000, 2, "cosine")).toBe("brute");
    expect(autoAlgorithm(11, 2, "euclidean")).toBe("brute"); // default k = 5 >= floor(11 / 2)
    expect(autoAlgorithm(12, 2, "euclidean")).toBe("kd_tree");
    expect(autoAlgorithm(100, 2, "euclidean", 50)).toBe("brute");
    expect(autoAlgorithm(100, 2, "euclidean", 49)).toBe("kd_tree");
    const X = randomData(200, 20, 3);
    expect(NeighborIndex.build(X, 200, 20).algorithm).toBe("brute");
    expect(NeighborIndex.build(X, 200, 20).tree).toBeNull();
    expect(NeighborIndex.build(X, 200, 2).algorithm).toBe("kd_tree");
    expect(NeighborIndex.build(X, 200, 2, { expectedK: 100 }).algorithm).toBe("brute");
    expect(NeighborIndex.build(X, 200, 2, { metric: "cosine" }).algorithm).toBe("brute");
    expect(NeighborIndex.build(X, 200, 2, { metric: "cosine", algorithm: "kd_tree" }).algorithm).toBe("kd_tree");
    // A zero row: cosine on the tree falls back to brute force.
    const Z = X.slice(0, 400);
    Z[6] = 0;
    Z[7] = 0;
    expect(NeighborIndex.build(Z, 200, 2, { metric: "cosine", algorithm: "kd_tree" }).algorithm).toBe("brute");
  });

  it("bad options are the user's mistakes, named", () => {
    const X = randomData(10, 2, 4);
    expect(() => NeighborIndex.build(X, 10, 2, { metric: "chebyshev" as NeighborMetric })).toThrow(/metric must be one of/);
    expect(() => NeighborIndex.build(X, 10, 2, { algorithm: "ball_tree" as NeighborAlgorithm })).toThrow(/algorithm must be one of/);
    expect(() => NeighborIndex.build(X, 10, 2, { leafSize: 0 })).toThrow(/leafSize/);
    const bad = X.slice();
    bad[7] = NaN;
    expect(() => NeighborIndex.build(bad, 10, 2)).toThrow(/NaN at row 3, column 1/);
    const index = NeighborIndex.build(X, 10, 2);
    expect(() => index.kNearest(bad, 10, 3)).toThrow(/query rows have NaN at row 3, column 1/);
    expect(() => index.radiusOfPoint(bad, 6, 1, { data: new Int32Array(4) })).toThrow(/point has NaN in column 1/);
    expect(() => index.kNearest(X, 10, 11)).toThrow(/k must be an integer from 1 to the number of rows \(10\)/);
    expect(() => index.radius(0, -1, { data: new Int32Array(4) })).toThrow(/eps must be a finite number >= 0/);
  });
});

describe("k nearest and radius queries equal brute force", () => {
  const shapes: [number, number][] = [[300, 1], [400, 2], [300, 3], [250, 8], [200, 20]];
  for (const [n, d] of shapes) {
    for (const metric of METRICS) {
      for (const algorithm of ["kd_tree", "brute"] as const) {
        if (d === 20 && algorithm === "kd_tree" && metric === "cosine") continue;
        for (const grid of [0, 0.5]) {
          // The tree's cosine distances differ from 1 − u·v by rounding: ties on the grid may fall either way there.
          if (metric === "cosine" && algorithm === "kd_tree" && grid > 0) continue;
          it(`n ${n}, d ${d}, ${metric}, ${algorithm}${grid ? ", duplicates and ties" : ""}`, async () => {
            const X = randomData(n, d, 10 * n + d, grid);
            const index = NeighborIndex.build(X, n, d, { metric, algorithm, leafSize: 8 });
            expect(index.algorithm).toBe(algorithm);
            // Brute-force euclidean distances come from (‖x‖² + ‖y‖²) − 2·x·y, as scikit-learn's: near 0, the
            // square root of a rounding error of the squares (1e-16 × ‖x‖²) is about 1e-8 × ‖x‖.
            const tol = metric === "euclidean" && algorithm === "brute" ? 1e-7 : 1e-12;
            const k = 7;
            const got = await index.kNearestAll(k);
            const ref = refKnn(X, n, d, k, metric);
            expectClose(got.distances, ref.distances, tol);
            expect(Array.from(got.indices)).toEqual(Array.from(ref.indices));
            // Outside points: the first rows, shifted a little (no own row).
            const m = 20;
            const Q = X.slice(0, m * d).map((v, t) => v + (t % 3) * 0.01);
            const out = index.kNearest(Q, m, k);
            for (let i = 0; i < m; i++) {
              const all = Array.from({ length: n }, (_, j) => {
                const Y = new Float64Array((n + 1) * d);
                Y.set(X);
                Y.set(Q.subarray(i * d, i * d + d), n * d);
                return { j, dist: refDistance(Y, d, n, j, metric) };
              });
              all.sort((a, b) => a.dist - b.dist || a.j - b.j);
              expectClose(out.distances.subarray(i * k, i * k + k), all.slice(0, k).map((e) => e.dist), tol);
            }
            // Radius queries and counts at an eps around the distance to the 5th neighbour.
            const sorted = Array.from(ref.distances.filter((_, t) => t % k === 5)).sort((a, b) => a - b);
            // Just above a distance of the data, so that rounding at the boundary plays no part here (the boundary has its own test).
            // (+1e-9 also when that distance is 0: an outside point's cosine distance to its own direction is 1 − u·u, about 1e-16.)
            const eps = sorted[Math.floor(n / 2)] * (1 + 1e-9) + 1e-9;
            const counts = await index.radiusCounts(eps);
            const weights = Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 4));
            const wcounts = await index.radiusCounts(eps, { sampleWeight: weights });
            const buf = { data: new Int32Array(2) };
            // Batches of rows (every third row, backwards), sorted or in the tree's order, with the counts given or not.
            const rows = Int32Array.from({ length: Math.ceil(n / 3) }, (_, q) => n - 1 - 3 * q);
            const batch = await index.radiusBatch(rows, eps);
            const unsorted = await index.radiusBatch(rows, eps, { sorted: false, counts });
            expect(Array.from(unsorted.offsets)).toEqual(Array.from(batch.offsets));
            for (let q = 0; q < rows.length; q++) {
              const c = index.radius(rows[q], eps, buf);
              const [a, b] = [batch.offsets[q], batch.offsets[q + 1]];
              expect(Array.from(batch.indices.subarray(a, b))).toEqual(Array.from(buf.data.subarray(0, c)));
              expect(Array.from(unsorted.indices.subarray(a, b)).sort((x, y) => x - y)).toEqual(Array.from(buf.data.subarray(0, c)));
            }
            for (let i = 0; i < n; i++) {
              const want: number[] = [];
              let wsum = 0;
              for (let j = 0; j < n; j++) {
                if (within(refDistance(X, d, i, j, metric), eps, metric)) {
                  want.push(j);
                  wsum += weights[j];
                }
              }
              const c = index.radius(i, eps, buf);
              expect(Array.from(buf.data.subarray(0, c))).toEqual(want);
              const u = index.radius(i, eps, buf, false);
              expect(Array.from(buf.data.subarray(0, u)).sort((a, b) => a - b)).toEqual(want);
              expect(counts[i]).toBe(want.length);
              expect(Math.abs(wcounts[i] - wsum)).toBeLessThan(1e-9);
              // As an outside point, row i is not "itself": a zero row is at cosine distance 1 from every row.
              const zero = X.subarray(i * d, i * d + d).every((v) => v === 0);
              if (i < 10 && !(metric === "cosine" && zero)) {
                const p = index.radiusOfPoint(X, i * d, eps, buf);
                expect(Array.from(buf.data.subarray(0, p))).toEqual(want);
                for (const j of want.slice(0, 3)) expect(Math.abs(index.distance(i, j) - refDistance(X, d, i, j, metric))).toBeLessThan(1e-12);
              }
            }
          });
        }
      }
    }
  }

  it("cosine with zero rows: distance 1 from every other row and 0 from itself, as scikit-learn", async () => {
    const n = 50;
    const X = randomData(n, 3, 7);
    X.fill(0, 0, 3);
    X.fill(0, 9, 12);
    const index = NeighborIndex.build(X, n, 3, { metric: "cosine" });
    expect(index.distance(0, 3)).toBe(1);
    expect(index.distance(0, 5)).toBe(1);
    expect(index.distance(0, 0)).toBe(0);
    const { distances, indices } = await index.kNearestAll(3);
    expect(Array.from(indices.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(Array.from(distances.subarray(0, 3))).toEqual([0, 1, 1]);
    const buf = { data: new Int32Array(1) };
    expect(index.radius(0, 0.99, buf)).toBe(1);
    expect(index.radius(0, 1, buf)).toBe(n);
  });
});

describe("the k-nearest search's starting bound", () => {
  it("a bound holding fewer than k rows is dropped: the result equals the unbounded search", () => {
    const n = 500;
    const d = 2;
    const X = randomData(n, d, 21);
    const tree = buildKDTree(X, n, d, { leafSize: 10 });
    const k = 12;
    const stackN = new Int32Array(2 * tree.nLevels + 4);
    const stackR = new Float64Array(2 * tree.nLevels + 4);
    for (const t of [0, 17, 250, 499]) {
      const i = tree.index[t];
      const aD = new Float64Array(k);
      const aI = new Int32Array(k);
      const kth = treeKnn(tree, d, tree.ordered, t * d, k, i, false, aD, aI, 0, stackN, stackR);
      for (const bound of [0, kth * 0.5, kth, kth * 4]) {
        const bD = new Float64Array(k);
        const bI = new Int32Array(k);
        expect(treeKnn(tree, d, tree.ordered, t * d, k, i, false, bD, bI, 0, stackN, stackR, bound)).toBe(kth);
        expect(Array.from(bI)).toEqual(Array.from(aI));
        expect(Array.from(bD)).toEqual(Array.from(aD));
      }
      expect(aI[0]).toBe(i);
    }
  });
});

describe("the radius boundary: a distance equal to eps counts", () => {
  it("on integer data, for euclidean (squared distance <= eps², as scikit-learn's KD-tree) and manhattan", async () => {
    // A 5 × 5 grid of integer points: distances 1, √2, 2, … occur exactly.
    const pts: number[] = [];
    for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) pts.push(x, y);
    const X = Float64Array.from(pts);
    for (const algorithm of ["kd_tree", "brute"] as const) {
      const e = NeighborIndex.build(X, 25, 2, { algorithm, leafSize: 2 });
      // The centre (2, 2) is row 12: itself and 4 neighbours at distance 1; 8 more at √2... counted only at eps >= √2.
      expect(Array.from(await e.radiusCounts(1)).slice(12, 13)).toEqual([5]);
      expect(Array.from(await e.radiusCounts(2)).slice(12, 13)).toEqual([13]);
      const buf = { data: new Int32Array(1) };
      const c1 = e.radius(0, 1, buf); // replaces buf.data: read it after the call
      expect(Array.from(buf.data.subarray(0, c1))).toEqual([0, 1, 5]);
      const m = NeighborIndex.build(X, 25, 2, { algorithm, metric: "manhattan", leafSize: 2 });
      expect(Array.from(await m.radiusCounts(2)).slice(12, 13)).toEqual([13]);
      const c2 = m.radius(0, 2, buf);
      expect(Array.from(buf.data.subarray(0, c2))).toEqual([0, 1, 2, 5, 6, 10]);
    }
  });
});

interface Case {
  name: string; metric: NeighborMetric; n: number; d: number; k: number; eps: number; X: number[];
  distances: number[]; indices: number[]; radiusCounts: number[]; radiusOfRow0: number[];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/neighbors.json", import.meta.url), "utf8")) as { cases: Case[] };

describe("equal to scikit-learn's NearestNeighbors (fixtures)", () => {
  for (const c of fixture.cases) {
    for (const algorithm of ["auto", "kd_tree", "brute"] as const) {
      it(`${c.name} (${c.n} × ${c.d}), ${c.metric}, ${algorithm}`, async () => {
        const X = Float64Array.from(c.X);
        const index = NeighborIndex.build(X, c.n, c.d, { metric: c.metric, algorithm, leafSize: 5 });
        const { distances, indices } = await index.kNearestAll(c.k);
        expectClose(distances, c.distances, 1e-9);
        expect(Array.from(indices)).toEqual(c.indices);
        expect(Array.from(await index.radiusCounts(c.eps))).toEqual(c.radiusCounts);
        const buf = { data: new Int32Array(0) };
        const m = index.radius(0, c.eps, buf);
        expect(Array.from(buf.data.subarray(0, m))).toEqual(c.radiusOfRow0);
      });
    }
  }
});

describe("on worker threads", () => {
  const registered = "neighborsKnn" in KERNELS && "neighborsRadiusCount" in KERNELS;
  const newPool = poolMaker();
  it.skipIf(!registered)("k nearest and radius counts identical for 0, 1 and 2 workers (tree and brute force)", async () => {
    for (const [n, d, metric] of [[30_000, 2, "euclidean"], [1500, 20, "cosine"], [20_000, 3, "manhattan"]] as const) {
      const X = randomData(n, d, n + d, 0.05);
      const weights = Float64Array.from({ length: n }, (_, i) => 1 + (i % 5) / 3);
      setParallelExecutor(null);
      const ref = NeighborIndex.build(X, n, d, { metric });
      const eps = metric === "cosine" ? 0.3 : 0.1;
      const refKnn = await ref.kNearestAll(10);
      const refCounts = await ref.radiusCounts(eps);
      const refW = await ref.radiusCounts(eps, { sampleWeight: weights });
      // (At least 4096 query rows for the tree: fewer stay on the calling thread.)
      const m = Math.min(n, 4100);
      const Q = X.slice(0, m * d);
      const refOut = ref.kNearest(Q, m, 4);
      const rows = Int32Array.from({ length: m }, (_, q) => (q * 7919) % n);
      const refLists = await ref.radiusBatch(rows, eps, { sorted: false });
      for (const size of [1, 2]) {
        const pool = newPool(size);
        setParallelExecutor(pool);
        const index = NeighborIndex.build(X, n, d, { metric });
        const knn = await index.kNearestAll(10);
        const counts = await index.radiusCounts(eps);
        const w = await index.radiusCounts(eps, { sampleWeight: weights });
        const out = index.kNearest(Q, m, 4);
        const lists = await index.radiusBatch(rows, eps, { sorted: false });
        expect(Array.from(lists.offsets)).toEqual(Array.from(refLists.offsets));
        expect(Array.from(lists.indices)).toEqual(Array.from(refLists.indices));
        expect(pool.runs, "the pool was used").toBeGreaterThanOrEqual(5);
        expect(Array.from(knn.indices)).toEqual(Array.from(refKnn.indices));
        expect(Array.from(knn.distances)).toEqual(Array.from(refKnn.distances));
        expect(Array.from(counts)).toEqual(Array.from(refCounts));
        expect(Array.from(w)).toEqual(Array.from(refW));
        expect(Array.from(out.indices)).toEqual(Array.from(refOut.indices));
        expect(Array.from(out.distances)).toEqual(Array.from(refOut.distances));
      }
      setParallelExecutor(null);
    }
  }, 120_000);
});

describe("progress and abort", () => {
  it("reports rows done up to the total, and an aborted search throws", async () => {
    const n = 5000;
    const X = randomData(n, 2, 99);
    const index = NeighborIndex.build(X, n, 2);
    const seen: number[] = [];
    await index.kNearestAll(5, { onProgress: (done, total) => { expect(total).toBe(n); seen.push(done); } });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toBe(n);
    for (let t = 1; t < seen.length; t++) expect(seen[t]).toBeGreaterThan(seen[t - 1]);
    const ac = new AbortController();
    ac.abort();
    await expect(index.radiusCounts(0.1, { signal: ac.signal })).rejects.toThrow(/aborted/);
  });
});
