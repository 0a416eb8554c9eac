import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HDBSCAN, HDBSCANModel, type HDBSCANJSON } from "../src/cluster/density/hdbscan.js";
import { computeStability, condenseTree, selectClusters, singleLinkage, sortEdges } from "../src/cluster/density/hdbscan-tree.js";
import { hdbscanBoruvkaKernel } from "../src/cluster/density/hdbscan-kernels.js";
import { boruvkaMST, type MSTEdges, primMST } from "../src/cluster/density/mst.js";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { type ParallelExecutor, setParallelExecutor, type TypedArray } from "../src/core/parallel.js";
import { adjustedRandScore } from "../src/metrics/external.js";
import { NeighborIndex, neighborsKernels } from "../src/neighbors/index.js";
import { blobs, poolMaker } from "./helpers/workers.js";
import { Random } from "../src/core/random.js";

/** Mutual-reachability MST weight by a plain O(n²) Prim on the full matrix. */
function bruteMSTWeight(X: Matrix, k: number, alpha: number, metric: "euclidean" | "manhattan"): { total: number; heights: number[] } {
  const n = X.rows;
  const d = X.cols;
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = X.data[i * d + c] - X.data[j * d + c];
      s += metric === "manhattan" ? Math.abs(t) : t * t;
    }
    return metric === "manhattan" ? s : Math.sqrt(s);
  };
  const core = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: n }, (_, j) => dist(i, j)).sort((a, b) => a - b);
    core[i] = row[k - 1];
  }
  const inTree = new Uint8Array(n);
  const best = new Float64Array(n).fill(Infinity);
  best[0] = 0;
  let total = 0;
  const heights: number[] = [];
  for (let step = 0; step < n; step++) {
    let u = -1;
    for (let j = 0; j < n; j++) if (!inTree[j] && (u < 0 || best[j] < best[u])) u = j;
    inTree[u] = 1;
    if (step > 0) {
      total += best[u];
      heights.push(best[u]);
    }
    for (let j = 0; j < n; j++) {
      if (inTree[j]) continue;
      const w = Math.max(core[u], core[j], dist(u, j) / alpha);
      if (w < best[j]) best[j] = w;
    }
  }
  return { total, heights: heights.sort((a, b) => a - b) };
}

function heightsOf(m: HDBSCANModel): number[] {
  const Z = m.singleLinkageTree;
  return Array.from({ length: Z.rows }, (_, i) => Z.data[i * 4 + 2]);
}

function uniform(n: number, d: number, seed: number, scale = 10): Matrix {
  const rng = new Random(seed);
  return { data: Float64Array.from({ length: n * d }, () => rng.uniform(0, scale)), rows: n, cols: d };
}

function rows(X: Matrix): number[][] {
  return Array.from({ length: X.rows }, (_, i) => Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)));
}

describe("HDBSCAN: a hand-checked case", () => {
  // Two runs of five points one apart, six apart from each other, and a far point.
  const X = [[0], [1], [2], [3], [4], [10], [11], [12], [13], [14], [40]];

  it("finds the two runs; the far point is noise", async () => {
    const m = await new HDBSCAN({ minClusterSize: 3, minSamples: 2 }).fit(X);
    // Core distance (2nd neighbour, itself counted) 1 for the runs, 26 for the far point.
    expect(Array.from(m.coreDistances)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 26]);
    // MST: eight edges of 1, the runs joined at 6, the far point at 26.
    expect(heightsOf(m)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 6, 26]);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1]);
    // Every point of a run leaves it at lambda 1, the run's largest lambda.
    expect(Array.from(m.probabilities)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(m.nClusters).toBe(2);
    // Condensed tree: the far point leaves the root at 1/26, the runs split off at 1/6.
    const t = m.condensedTree;
    const clusterRows = Array.from(t.child).map((c, i) => [t.parent[i], c, t.lambdaVal[i], t.childSize[i]]).filter((r) => r[3] > 1);
    expect(clusterRows).toEqual([[11, 12, 1 / 6, 5], [11, 13, 1 / 6, 5]]);
    const far = Array.from(t.child).indexOf(10);
    expect([t.parent[far], t.lambdaVal[far]]).toEqual([11, 1 / 26]);
    // Stability of each run: (1 − 1/6) × 5.
    const s = computeStability(t, 11);
    expect(s[1]).toBeCloseTo(25 / 6, 12);
    expect(s[2]).toBeCloseTo(25 / 6, 12);
  });

  it("leaf selection, and allowSingleCluster when one run is too small", async () => {
    const leaf = await new HDBSCAN({ minClusterSize: 3, minSamples: 2, clusterSelectionMethod: "leaf" }).fit(X);
    expect(Array.from(leaf.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, -1]);
    // minClusterSize 6: no split makes two clusters of 6, so without allowSingleCluster all is noise.
    const none = await new HDBSCAN({ minClusterSize: 6, minSamples: 2 }).fit(X);
    expect(none.nClusters).toBe(0);
    expect(Array.from(none.labels)).toEqual(new Array(11).fill(-1));
    // With it, the root is the cluster; only points at its largest lambda (1) are in it.
    const single = await new HDBSCAN({ minClusterSize: 6, minSamples: 2, allowSingleCluster: true }).fit(X);
    expect(single.nClusters).toBe(1);
    expect(Array.from(single.labels)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1]);
    // clusterSelectionEpsilon 7 merges the runs (split at distance 6 < 7) with allowSingleCluster.
    const eps = await new HDBSCAN({ minClusterSize: 3, minSamples: 2, clusterSelectionEpsilon: 7, allowSingleCluster: true }).fit(X);
    expect(eps.nClusters).toBe(1);
    // With epsilon the root's points are kept when their lambda ≥ 1/epsilon: the runs (1), not the far point (1/26).
    expect(Array.from(eps.labels)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1]);
  });

  it("maxClusterSize stops eom from taking a bigger cluster", async () => {
    // Runs of 3 and 3 close together (gap 2), far from a run of 6: with minClusterSize 3, eom can take {0..5} or its halves.
    const Y = [[0], [1], [2], [4], [5], [6], [30], [31], [32], [33], [34], [35]];
    const free = await new HDBSCAN({ minClusterSize: 3, minSamples: 1 }).fit(Y);
    const capped = await new HDBSCAN({ minClusterSize: 3, minSamples: 1, maxClusterSize: 5 }).fit(Y);
    // minSamples 1: core distance 0, mutual reachability = distance.
    expect(Array.from(free.coreDistances)).toEqual(new Array(12).fill(0));
    for (const m of [free, capped]) expect(new Set(m.labels.subarray(6)).size).toBe(1);
    // Capped: no selected cluster has more than 5 points, so the 6-point run is not one cluster.
    const counts = new Map<number, number>();
    for (const l of capped.labels) if (l >= 0) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const c of counts.values()) expect(c).toBeLessThanOrEqual(5);
  });
});

describe("HDBSCAN: the minimum spanning tree", () => {
  for (const [d, metric, alpha, k] of [[2, "euclidean", 1, 5], [3, "euclidean", 1.3, 4], [2, "manhattan", 1, 6], [5, "manhattan", 0.7, 3], [1, "euclidean", 1, 2]] as const) {
    it(`Borůvka's weights equal a brute-force Prim's (d=${d}, ${metric}, alpha=${alpha}, minSamples=${k})`, async () => {
      const X = blobs(700, d, 4, 11 + d, 1.5);
      const ref = bruteMSTWeight(X, k, alpha, metric);
      const m = await new HDBSCAN({ minClusterSize: 5, minSamples: k, alpha, metric, leafSize: 8 }).fit(X);
      const h = heightsOf(m).sort((a, b) => a - b);
      expect(h.length).toBe(699);
      for (let i = 0; i < h.length; i++) expect(Math.abs(h[i] - ref.heights[i])).toBeLessThan(1e-12);
    });
  }

  it("Borůvka on duplicated rows (zero weights, many ties) spans all rows with the brute-force weight", async () => {
    const base = uniform(60, 2, 5);
    const data = new Float64Array(600 * 2);
    for (let i = 0; i < 600; i++) data.set(base.data.subarray((i % 60) * 2, (i % 60) * 2 + 2), i * 2);
    const X = { data, rows: 600, cols: 2 };
    const ref = bruteMSTWeight(X, 3, 1, "euclidean");
    const m = await new HDBSCAN({ minClusterSize: 5, minSamples: 3, leafSize: 10 }).fit(X);
    const h = heightsOf(m).sort((a, b) => a - b);
    for (let i = 0; i < h.length; i++) expect(Math.abs(h[i] - ref.heights[i])).toBeLessThan(1e-12);
    expect(h.filter((x) => x === 0).length).toBe(540);
  });

  it("Borůvka and Prim give the same single-linkage tree on data without ties", async () => {
    const X = uniform(400, 3, 8);
    const k = 1; // core distance 0: weights are distances, all distinct
    const index = NeighborIndex.build(X.data, 400, 3, { algorithm: "kd_tree", leafSize: 5 });
    const core = new Float64Array(400);
    const a = await boruvkaMST(index.tree!, core, 1, 0, null);
    const b = await primMST(X.data, 400, 3, 0, core, 1);
    const tree = (e: MSTEdges) => Array.from(singleLinkage(e.from, e.to, e.weight, 400, sortEdges(e.weight)));
    expect(tree(a)).toEqual(tree(b));
    expect(k).toBe(1);
  });

  it("the Borůvka kernel's choice does not depend on chunk order (racy bounds) or chunking", async () => {
    const X = blobs(20_000, 2, 5, 3, 1);
    const base = await new HDBSCAN({ minClusterSize: 10 }).fit(X, { workers: 0 });
    // An executor running chunks on this thread, last chunk first.
    const reversed: ParallelExecutor = {
      size: 3,
      async run(name: string, shared: Record<string, TypedArray>, params: Record<string, number>, nChunks: number) {
        if (name === "hdbscanBoruvka") {
          for (let c = nChunks - 1; c >= 0; c--) hdbscanBoruvkaKernel(shared as never, params as never, c, c + 1);
          runs++;
        } else {
          const kernel = (neighborsKernels as Record<string, (s: never, p: never, a: number, b: number) => void>)[name];
          kernel(shared as never, params as never, 0, nChunks);
        }
      },
    };
    let runs = 0;
    setParallelExecutor(reversed);
    try {
      const m = await new HDBSCAN({ minClusterSize: 10 }).fit(X);
      expect(runs).toBeGreaterThan(1);
      expect(Array.from(m.singleLinkageTree.data)).toEqual(Array.from(base.singleLinkageTree.data));
      expect(Array.from(m.labels)).toEqual(Array.from(base.labels));
    } finally {
      setParallelExecutor(null);
    }
  });
});

describe("HDBSCAN on worker threads", () => {
  const newPool = poolMaker();
  it("the same trees, labels and probabilities with 0, 1 and 2 workers", async () => {
    const X = blobs(30_000, 2, 6, 13, 1.5);
    const options = { minClusterSize: 12, minSamples: 6 };
    setParallelExecutor(null);
    const ref = await new HDBSCAN(options).fit(X);
    for (const size of [1, 2]) {
      const pool = newPool(size);
      setParallelExecutor(pool);
      const m = await new HDBSCAN(options).fit(X);
      expect(pool.runs, "the pool was used").toBeGreaterThan(1);
      expect(Array.from(m.singleLinkageTree.data)).toEqual(Array.from(ref.singleLinkageTree.data));
      expect(Array.from(m.labels)).toEqual(Array.from(ref.labels));
      expect(Array.from(m.probabilities)).toEqual(Array.from(ref.probabilities));
    }
    setParallelExecutor(null);
  });
});

describe("HDBSCAN: labels", () => {
  it("do not depend on row order (up to renumbering) when no weights tie", async () => {
    // minSamples 1: core distances 0, weights are the (distinct) distances.
    const X = blobs(1500, 2, 4, 21, 1.2);
    const a = await new HDBSCAN({ minClusterSize: 15, minSamples: 1 }).fit(X);
    const rng = new Random(3);
    const perm = Array.from({ length: 1500 }, (_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const data = new Float64Array(3000);
    perm.forEach((p, i) => data.set(X.data.subarray(p * 2, p * 2 + 2), i * 2));
    const b = await new HDBSCAN({ minClusterSize: 15, minSamples: 1 }).fit({ data, rows: 1500, cols: 2 });
    const back = new Int32Array(1500);
    perm.forEach((p, i) => (back[p] = b.labels[i]));
    expect(a.nClusters).toBeGreaterThanOrEqual(3);
    expect(b.nClusters).toBe(a.nClusters);
    expect(adjustedRandScore(a.labels, back)).toBe(1);
  });

  it("precomputed distances give the euclidean result (alpha 1)", async () => {
    const X = blobs(300, 2, 3, 4, 1);
    const n = 300;
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const dx = X.data[2 * i] - X.data[2 * j];
        const dy = X.data[2 * i + 1] - X.data[2 * j + 1];
        D[i * n + j] = Math.sqrt(dx * dx + dy * dy);
      }
    }
    const a = await new HDBSCAN({ minClusterSize: 10 }).fit(X);
    const b = await new HDBSCAN({ minClusterSize: 10, metric: "precomputed" }).fit({ data: D, rows: n, cols: n });
    expect(heightsOf(b).sort((x, y) => x - y)).toEqual(heightsOf(a).sort((x, y) => x - y));
    expect(adjustedRandScore(a.labels, b.labels)).toBe(1);
  });

  it("the condensed tree accounts for every point once, and sizes add up", async () => {
    const X = blobs(800, 3, 5, 8, 1.5);
    const m = await new HDBSCAN({ minClusterSize: 8, minSamples: 4 }).fit(X);
    const t = m.condensedTree;
    const seen = new Uint8Array(800);
    const size = new Map<number, number>();
    for (let i = 0; i < t.parent.length; i++) {
      if (t.child[i] < 800) {
        expect(seen[t.child[i]]).toBe(0);
        seen[t.child[i]] = 1;
      }
      size.set(t.parent[i], (size.get(t.parent[i]) ?? 0) + t.childSize[i]);
      expect(t.childSize[i] === 1 || t.childSize[i] >= 8).toBe(true);
    }
    expect(seen.every((s) => s === 1)).toBe(true);
    expect(size.get(800)).toBe(800);
    for (let i = 0; i < t.parent.length; i++) if (t.child[i] >= 800) expect(size.get(t.child[i])).toBe(t.childSize[i]);
    // Probabilities in [0, 1]; noise has 0; every cluster has a point of probability 1.
    for (let i = 0; i < 800; i++) {
      expect(m.probabilities[i]).toBeGreaterThanOrEqual(0);
      expect(m.probabilities[i]).toBeLessThanOrEqual(1);
      if (m.labels[i] < 0) expect(m.probabilities[i]).toBe(0);
    }
    for (let c = 0; c < m.nClusters; c++) {
      expect(Array.from(m.labels).some((l, i) => l === c && m.probabilities[i] === 1)).toBe(true);
    }
  });
});

describe("HDBSCAN: approximate prediction", () => {
  const X = blobs(1200, 2, 3, 31, 0.8);

  it("predicts a training cluster's dense points into it and far points as noise", async () => {
    const m = await new HDBSCAN({ minClusterSize: 20 }).fit(X);
    expect(m.nClusters).toBeGreaterThanOrEqual(2);
    // Training rows with probability 1 (in the cluster's densest part) predict their own label.
    const dense: number[][] = [];
    const want: number[] = [];
    for (let i = 0; i < 1200 && dense.length < 50; i++) {
      if (m.labels[i] >= 0 && m.probabilities[i] === 1) {
        dense.push([X.data[2 * i], X.data[2 * i + 1]]);
        want.push(m.labels[i]);
      }
    }
    const p = m.approximatePredict(dense);
    expect(Array.from(p.labels)).toEqual(want);
    const far = m.approximatePredict([[1000, 1000], [-500, 20]]);
    expect(Array.from(far.labels)).toEqual([-1, -1]);
    expect(Array.from(far.probabilities)).toEqual([0, 0]);
    expect(Array.from(m.predict(dense))).toEqual(want);
  });

  it("agrees with the fit's labels on most training rows and gives probabilities in [0, 1]", async () => {
    const m = await new HDBSCAN({ minClusterSize: 20 }).fit(X);
    const p = m.approximatePredict(X);
    let same = 0;
    for (let i = 0; i < 1200; i++) {
      if (p.labels[i] === m.labels[i]) same++;
      expect(p.probabilities[i]).toBeGreaterThanOrEqual(0);
      expect(p.probabilities[i]).toBeLessThanOrEqual(1);
    }
    expect(same / 1200).toBeGreaterThan(0.95);
  });

  it("refuses rows with another number of columns", async () => {
    const m = await new HDBSCAN({ minClusterSize: 20 }).fit(X);
    expect(() => m.approximatePredict([[1, 2, 3]])).toThrow(InputError);
  });
});

describe("HDBSCAN: model files", () => {
  it("toJSON / fromJSON restores an equal model that predicts the same", async () => {
    const X = blobs(500, 2, 3, 41, 0.8);
    const m = await new HDBSCAN({ minClusterSize: 12, minSamples: 4 }).fit(X);
    const json = JSON.parse(JSON.stringify(m.toJSON())) as HDBSCANJSON;
    const r = HDBSCANModel.fromJSON(json);
    expect(Array.from(r.labels)).toEqual(Array.from(m.labels));
    expect(Array.from(r.probabilities)).toEqual(Array.from(m.probabilities));
    expect(r.nClusters).toBe(m.nClusters);
    expect(Array.from(r.condensedTree.lambdaVal)).toEqual(Array.from(m.condensedTree.lambdaVal));
    const Y = rows(blobs(100, 2, 3, 42, 1.5));
    expect(r.approximatePredict(Y)).toEqual(m.approximatePredict(Y));
  });

  it("infinite lambdas (duplicate rows) survive JSON", async () => {
    const X = [[0, 0], [0, 0], [0, 0], [0, 0], [5, 5], [5, 5], [5, 5], [5, 5], [9, 0]];
    const m = await new HDBSCAN({ minClusterSize: 3, minSamples: 2 }).fit(X);
    expect(Array.from(m.condensedTree.lambdaVal)).toContain(Infinity);
    const r = HDBSCANModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())) as HDBSCANJSON);
    expect(Array.from(r.condensedTree.lambdaVal)).toEqual(Array.from(m.condensedTree.lambdaVal));
    expect(Array.from(r.labels)).toEqual(Array.from(m.labels));
  });

  it("a damaged model file is refused with an InputError naming the field", async () => {
    const m = await new HDBSCAN({ minClusterSize: 5 }).fit(rows(blobs(60, 2, 2, 5, 0.5)));
    const good = () => JSON.parse(JSON.stringify(m.toJSON())) as Record<string, unknown>;
    const cases: [string, (j: Record<string, unknown>) => void, RegExp][] = [
      ["labels", (j) => ((j.labels as number[])[3] = 99), /labels 3/],
      ["coreDistances", (j) => ((j.coreDistances as unknown[])[0] = "x"), /coreDistances 0/],
      ["trainingData", (j) => (j.trainingData = (j.trainingData as unknown[]).slice(1)), /trainingData/],
      ["condensedTree", (j) => ((j.condensedTree as { child: number[] }).child[0] = 10_000), /condensedTree/],
      ["minClusterSize", (j) => (j.minClusterSize = 1), /minClusterSize/],
      ["singleLinkageTree", (j) => (j.singleLinkageTree = []), /singleLinkageTree/],
    ];
    for (const [, damage, message] of cases) {
      const j = good();
      damage(j);
      expect(() => HDBSCANModel.fromJSON(j as unknown as HDBSCANJSON)).toThrow(message);
      expect(() => HDBSCANModel.fromJSON(j as unknown as HDBSCANJSON)).toThrow(InputError);
    }
  });
});

describe("HDBSCAN: options, input and abort", () => {
  it("refuses bad options with an InputError naming the option", () => {
    expect(() => new HDBSCAN({ minClusterSize: 1 })).toThrow(/minClusterSize/);
    expect(() => new HDBSCAN({ minClusterSize: 2.5 })).toThrow(/minClusterSize/);
    expect(() => new HDBSCAN({ minSamples: 0 })).toThrow(/minSamples/);
    expect(() => new HDBSCAN({ alpha: 0 })).toThrow(/alpha/);
    expect(() => new HDBSCAN({ clusterSelectionEpsilon: -1 })).toThrow(/clusterSelectionEpsilon/);
    expect(() => new HDBSCAN({ metric: "chebyshev" as never })).toThrow(/metric/);
    expect(() => new HDBSCAN({ clusterSelectionMethod: "best" as never })).toThrow(/clusterSelectionMethod/);
    expect(() => new HDBSCAN({ maxClusterSize: 0 })).toThrow(InputError);
  });

  it("refuses bad input: non-finite values (row and column), one row, minSamples above n, a non-square precomputed matrix", async () => {
    await expect(new HDBSCAN().fit([[1, 2], [3, NaN], [4, 5]])).rejects.toThrow(/row 1, column 1/);
    await expect(new HDBSCAN().fit([[1, 2]])).rejects.toThrow(/at least 2 rows/);
    await expect(new HDBSCAN({ minClusterSize: 5 }).fit([[1], [2], [3]])).rejects.toThrow(/minSamples/);
    await expect(new HDBSCAN({ metric: "precomputed" }).fit([[0, 1, 2], [1, 0, 3]])).rejects.toThrow(/square/);
  });

  it("aborts with an AbortError", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new HDBSCAN().fit(blobs(200, 2, 2, 1), { signal: controller.signal })).rejects.toThrow(AbortError);
  });

  it("reports progress through the phases", async () => {
    const phases = new Set<string>();
    await new HDBSCAN({ minClusterSize: 10 }).fit(blobs(3000, 2, 3, 2), { onProgress: (_d, _t, phase) => phases.add(phase) });
    expect([...phases]).toEqual(expect.arrayContaining(["core distances", "spanning tree", "tree"]));
  });
});

describe("HDBSCAN tree functions", () => {
  it("condenseTree / selectClusters on a tiny hand-built single-linkage tree", () => {
    // Points 0..3: {0,1} at 1, {2,3} at 1, the two pairs at 4.
    const from = Int32Array.from([0, 2, 1]);
    const to = Int32Array.from([1, 3, 2]);
    const w = Float64Array.from([1, 1, 4]);
    const Z = singleLinkage(from, to, w, 4, sortEdges(w));
    expect(Array.from(Z)).toEqual([0, 1, 1, 2, 2, 3, 1, 2, 4, 5, 4, 4]);
    const t = condenseTree(Z, 4, 2);
    expect(Array.from(t.parent)).toEqual([4, 4, 5, 5, 6, 6]);
    expect(Array.from(t.child)).toEqual([5, 6, 0, 1, 2, 3]);
    const sel = selectClusters(t, 4, computeStability(t, 4), { clusterSelectionMethod: "eom", allowSingleCluster: false, clusterSelectionEpsilon: 0, maxClusterSize: null });
    expect(Array.from(sel.labels)).toEqual([0, 0, 1, 1]);
    expect(Array.from(sel.selected)).toEqual([5, 6]);
  });
});

interface FixtureHDBSCAN {
  params: Record<string, number | string | boolean | null>;
  labels: number[];
  probabilities: number[];
  mst_weights_sorted: number[];
  n_clusters: number;
  condensed_tree?: { parent: number[]; child: number[]; lambda_val: (number | null)[]; child_size: number[] };
}
interface FixtureCase {
  name: string;
  n: number;
  X: number[][];
  hdbscan?: FixtureHDBSCAN[];
  core_distances?: { min_samples: number; metric: string; values: number[] }[];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/density.json", import.meta.url), "utf8")) as { cases: FixtureCase[] };

function camelOptions(params: FixtureHDBSCAN["params"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
  return out;
}

describe("HDBSCAN against the scikit-learn ≥ 1.3 reference (test/fixtures/density.json)", () => {
  for (const c of fixture.cases) {
    for (const h of c.hdbscan ?? []) {
      it(`${c.name} ${JSON.stringify(h.params)}`, async () => {
        const m = await new HDBSCAN(camelOptions(h.params)).fit(c.X);
        // The spanning tree's weights (the single-linkage heights) equal the reference's.
        const heights = heightsOf(m).sort((a, b) => a - b);
        expect(heights.length).toBe(c.n - 1);
        for (let i = 0; i < heights.length; i++) expect(Math.abs(heights[i] - h.mst_weights_sorted[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, heights[i]));
        // The bar: the same number of clusters, adjusted Rand ≥ 0.99, noise within 1 %.
        expect(m.nClusters).toBe(h.n_clusters);
        expect(adjustedRandScore(Int32Array.from(h.labels), m.labels)).toBeGreaterThanOrEqual(0.99);
        const noise = (l: ArrayLike<number>) => Array.from(l).filter((x) => x < 0).length;
        expect(Math.abs(noise(m.labels) - noise(h.labels))).toBeLessThanOrEqual(0.01 * c.n);
        // Ties are ordered as scikit-learn orders them, so in fact nearly every label (numbering
        // included) and probability is the reference's.
        let same = 0;
        for (let i = 0; i < c.n; i++) {
          if (m.labels[i] !== h.labels[i]) continue;
          same++;
          expect(Math.abs(m.probabilities[i] - h.probabilities[i])).toBeLessThan(1e-9);
        }
        expect(same).toBeGreaterThanOrEqual(c.n - Math.max(1, Math.floor(0.001 * c.n)));
        if (h.condensed_tree && same === c.n) {
          // The same rows (row order may differ inside a run of points leaving together).
          const t = m.condensedTree;
          const ours = Array.from(t.child, (x, i) => `${t.parent[i]} ${x} ${t.childSize[i]} ${t.lambdaVal[i]}`).sort();
          const ref = h.condensed_tree;
          const theirs = ref.child.map((x, i) => `${ref.parent[i]} ${x} ${ref.child_size[i]} ${ref.lambda_val[i] ?? Infinity}`).sort();
          expect(ours).toEqual(theirs);
        }
      });
    }
    for (const cd of c.core_distances ?? []) {
      if (cd.metric === "cosine") continue;
      it(`${c.name}: core distances (minSamples ${cd.min_samples}, ${cd.metric})`, async () => {
        const m = await new HDBSCAN({ minClusterSize: Math.max(2, cd.min_samples), minSamples: cd.min_samples, metric: cd.metric as "euclidean" }).fit(c.X);
        for (let i = 0; i < c.n; i++) expect(Math.abs(m.coreDistances[i] - cd.values[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, cd.values[i]));
      });
    }
  }
});
