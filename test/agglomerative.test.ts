import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  AgglomerativeClustering, AgglomerativeModel, type AgglomerativeMetric, type Linkage, dendrogram, linkageTuning,
} from "../src/cluster/agglomerative.js";
import { loadModel } from "../src/cluster/load.js";
import { InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { WorkerPool } from "../src/io/pool.js";

interface Case {
  method: Linkage;
  metric: AgglomerativeMetric;
  Z: number[][];
  maxclust: Record<string, number[]>;
  distance: { t: number; labels: number[] }[];
  leaves: number[];
  lastp: { p: number; ivl: string[]; leaves: number[]; icoord: number[][]; dcoord: number[][] };
  dendrogramFull?: { ivl: string[]; leaves: number[]; icoord: number[][]; dcoord: number[][] };
}
interface Dataset {
  name: string;
  X: number[][];
  precomputed?: number[][];
  cases: Case[];
}
const fixtures = JSON.parse(readFileSync(new URL("./fixtures/hierarchical.json", import.meta.url), "utf8")) as { datasets: Dataset[] };

/** Renumbers labels by first appearance (the library's numbering), so label vectors compare up to renumbering. */
function canon(labels: ArrayLike<number>): number[] {
  const map = new Map<number, number>();
  return Array.from(labels, (v) => {
    if (!map.has(v)) map.set(v, map.size);
    return map.get(v)!;
  });
}

const close = (a: number, b: number, tol = 1e-9): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

/** Whether two merges of Z have heights within 1e-9 of each other (ties, exact or by rounding). */
function hasNearTies(Z: number[][]): boolean {
  const h = Z.map((r) => r[2]).sort((a, b) => a - b);
  return h.some((v, i) => i > 0 && close(v, h[i - 1]));
}

/** The flat clusters of the subtrees whose largest merge height is ≤ t, by first appearance. */
function partitionAt(Z: number[][], t: number): number[] {
  const n = Z.length + 1;
  const parent = Array.from({ length: 2 * n - 1 }, (_, i) => i);
  const find = (a: number): number => (parent[a] === a ? a : (parent[a] = find(parent[a])));
  const md: number[] = [];
  Z.forEach(([a, b, h], i) => {
    md[i] = Math.max(h, a >= n ? md[a - n] : 0, b >= n ? md[b - n] : 0);
    if (md[i] <= t) {
      parent[find(a)] = n + i;
      parent[find(b)] = n + i;
    }
  });
  return canon(Array.from({ length: n }, (_, i) => find(i)));
}

/** Largest merge height of each subtree, sorted (the heights fcluster's maxclust cuts at). */
function subtreeHeights(Z: number[][]): number[] {
  const n = Z.length + 1;
  const md: number[] = [];
  Z.forEach(([a, b, h], i) => (md[i] = Math.max(h, a >= n ? md[a - n] : 0, b >= n ? md[b - n] : 0)));
  return md.sort((a, b) => a - b);
}

/** Thresholds midway between groups of merge heights that differ by more than 1e-9 (relative). */
function tieFreeLevels(Z: number[][]): number[] {
  const h = Z.map((r) => r[2]).sort((a, b) => a - b);
  const out: number[] = [];
  for (let i = 0; i + 1 < h.length; i++) if (!close(h[i], h[i + 1], 1e-7)) out.push((h[i] + h[i + 1]) / 2);
  return out;
}

function rows(Z: Matrix): number[][] {
  return Array.from({ length: Z.rows }, (_, i) => Array.from(Z.data.subarray(i * 4, i * 4 + 4)));
}

describe("AgglomerativeClustering against scipy's linkage, fcluster and dendrogram", () => {
  let exact = 0;
  let compared = 0;
  let skippedK = 0;
  let comparedK = 0;
  for (const ds of fixtures.datasets) {
    for (const c of ds.cases) {
      it(`${ds.name}: ${c.method} / ${c.metric}`, async () => {
        const X = c.metric === "precomputed" ? ds.precomputed! : ds.X;
        const m = await new AgglomerativeClustering({ linkage: c.method, metric: c.metric }).fit(X);
        const Z = rows(m.linkageMatrix);
        const n = ds.X.length;
        expect(Z.length).toBe(n - 1);
        compared++;
        // Heights to 1e-9, in scipy's order.
        for (let i = 0; i < Z.length; i++) {
          if (!close(Z[i][2], c.Z[i][2])) expect.fail(`row ${i}: height ${Z[i][2]} but scipy ${c.Z[i][2]}`);
        }
        if (!hasNearTies(c.Z)) {
          // No ties: the very same merges, numbering and sizes.
          expect(Z.map((r) => [r[0], r[1], r[3]])).toEqual(c.Z.map((r) => [r[0], r[1], r[3]]));
          expect(Array.from(m.leaves())).toEqual(c.leaves);
          const dn = m.dendrogram({ p: 12 });
          expect(dn.ivl).toEqual(c.lastp.ivl);
          expect(dn.leaves).toEqual(c.lastp.leaves);
          expect(dn.icoord).toEqual(c.lastp.icoord);
          expect(dn.dcoord.length).toBe(c.lastp.dcoord.length);
          dn.dcoord.forEach((q, i) => q.forEach((v, j) => expect(close(v, c.lastp.dcoord[i][j])).toBe(true)));
          if (c.dendrogramFull) {
            const full = m.dendrogram();
            expect(full.ivl).toEqual(c.dendrogramFull.ivl);
            expect(full.icoord).toEqual(c.dendrogramFull.icoord);
            full.dcoord.forEach((q, i) => q.forEach((v, j) => expect(close(v, c.dendrogramFull!.dcoord[i][j])).toBe(true)));
          }
          exact++;
        } else {
          // Ties: the same flat clusters at every level that no tie straddles, and the same sizes there.
          const levels = tieFreeLevels(c.Z);
          expect(levels.length).toBeGreaterThan(0);
          for (const t of levels) expect(partitionAt(Z, t)).toEqual(partitionAt(c.Z, t));
          expect(Z.map((r) => r[3]).sort((a, b) => a - b)).toEqual(c.Z.map((r) => r[3]).sort((a, b) => a - b));
        }
        // fcluster(Z, k, 'maxclust'), unless the cut falls inside a group of heights tied only up to rounding.
        // (A tie that is exact on one side and only within rounding on the other decides the cut differently.)
        const theirs = subtreeHeights(c.Z);
        const ours = subtreeHeights(Z);
        for (const [k, labels] of Object.entries(c.maxclust)) {
          const kk = Number(k);
          const j = n - kk - 1;
          if (close(theirs[j], theirs[j + 1]) && (theirs[j] === theirs[j + 1]) !== (ours[j] === ours[j + 1])) {
            skippedK++;
            continue;
          }
          comparedK++;
          expect(Array.from(m.cut(kk)), `k=${k}`).toEqual(canon(labels));
        }
        for (const { t, labels } of c.distance) expect(Array.from(m.cutAtHeight(t)), `t=${t}`).toEqual(canon(labels));
        // The fitted labels are the cut at nClusters = 2.
        expect(Array.from(m.labels)).toEqual(Array.from(m.cut(2)));
      });
    }
  }
  it("most cases are compared exactly, and few cuts skipped", () => {
    expect(compared).toBe(fixtures.datasets.reduce((s, d) => s + d.cases.length, 0));
    expect(exact).toBeGreaterThanOrEqual(50);
    expect(skippedK).toBeLessThanOrEqual(comparedK / 10);
  });
});

describe("hand-computed trees", () => {
  // Points 0, 1, 3, 7 on a line.
  const X = [[0], [1], [3], [7]];
  const cases: [Linkage, number[][]][] = [
    ["single", [[0, 1, 1, 2], [2, 4, 2, 3], [3, 5, 4, 4]]],
    ["complete", [[0, 1, 1, 2], [2, 4, 3, 3], [3, 5, 7, 4]]],
    ["average", [[0, 1, 1, 2], [2, 4, 2.5, 3], [3, 5, 17 / 3, 4]]],
    ["weighted", [[0, 1, 1, 2], [2, 4, 2.5, 3], [3, 5, (0.5 * (7 + 6) + 4) / 2, 4]]],
    // Ward: sqrt(2|A||B|/(|A|+|B|)) × distance of the centroids.
    ["ward", [[0, 1, 1, 2], [2, 4, Math.sqrt(4 / 3) * 2.5, 3], [3, 5, Math.sqrt(6 / 4) * (7 - 4 / 3), 4]]],
    ["centroid", [[0, 1, 1, 2], [2, 4, 2.5, 3], [3, 5, 7 - 4 / 3, 4]]],
    // Median: the merged cluster sits at the midpoint of the two (0.5, then (0.5 + 3) / 2).
    ["median", [[0, 1, 1, 2], [2, 4, 2.5, 3], [3, 5, 7 - 1.75, 4]]],
  ];
  for (const [linkage, expected] of cases) {
    it(`${linkage} on 0, 1, 3, 7`, async () => {
      const m = await new AgglomerativeClustering({ linkage }).fit(X);
      const Z = rows(m.linkageMatrix);
      Z.forEach((r, i) => {
        expect(r[0]).toBe(expected[i][0]);
        expect(r[1]).toBe(expected[i][1]);
        expect(r[2]).toBeCloseTo(expected[i][2], 12);
        expect(r[3]).toBe(expected[i][3]);
      });
      expect(Array.from(m.labels)).toEqual([0, 0, 0, 1]);
      expect(Array.from(m.cut(3))).toEqual([0, 0, 1, 2]);
      expect(Array.from(m.leaves())).toEqual([3, 2, 0, 1]);
    });
  }

  it("centroid linkage can merge below an earlier merge (an inversion), as scipy", async () => {
    // An equilateral triangle of side 1: after two corners merge, their midpoint is sqrt(3)/2 from the third.
    const m = await new AgglomerativeClustering({ linkage: "centroid" }).fit([[0, 0], [1, 0], [0.5, Math.sqrt(3) / 2]]);
    const Z = rows(m.linkageMatrix);
    expect(Z[0][2]).toBeCloseTo(1, 12);
    expect(Z[1][2]).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(Z[1][2]).toBeLessThan(Z[0][2]);
  });

  it("tied merge heights: a cut never splits a tie, so it may give fewer clusters (with a warning)", async () => {
    // Two pairs at distance 1, far apart: k = 3 would have to undo one of two tied merges.
    const warnings: string[] = [];
    const m = await new AgglomerativeClustering({ nClusters: 3, linkage: "single" }).fit([[0], [1], [10], [11]], { onWarning: (w) => warnings.push(w) });
    expect(Array.from(m.labels)).toEqual([0, 0, 1, 1]);
    expect(m.nClusters).toBe(2);
    expect(warnings.join()).toMatch(/no cut with exactly 3 clusters/);
    expect(m.cutHeight(3)).toBeNull();
    expect(m.cutHeight(2)).toBeCloseTo(5, 12);
  });

  it("duplicated rows merge first at height 0", async () => {
    const m = await new AgglomerativeClustering({ linkage: "average" }).fit([[1, 2], [5, 5], [1, 2], [5, 5.5]]);
    const Z = rows(m.linkageMatrix);
    expect(Z[0]).toEqual([0, 2, 0, 2]);
  });
});

describe("properties", () => {
  const rng = new Random(5);
  const X = Array.from({ length: 150 }, () => Array.from({ length: 4 }, () => rng.normal(0, 1) + (rng.uniform(0, 1) < 0.5 ? 3 : 0)));
  for (const linkage of ["ward", "complete", "average", "single", "weighted", "centroid", "median"] as const) {
    it(`${linkage}: sizes add up, every row merged once, heights non-decreasing when the linkage is reducible`, async () => {
      const m = await new AgglomerativeClustering({ linkage, nClusters: 4 }).fit(X);
      const Z = rows(m.linkageMatrix);
      const n = X.length;
      const size = (i: number): number => (i < n ? 1 : Z[i - n][3]);
      const seen = new Set<number>();
      Z.forEach(([a, b, , s], i) => {
        expect(a).toBeLessThan(b);
        expect(b).toBeLessThan(n + i);
        expect(s).toBe(size(a) + size(b));
        expect(seen.has(a) || seen.has(b)).toBe(false);
        seen.add(a);
        seen.add(b);
      });
      expect(Z[n - 2][3]).toBe(n);
      if (linkage !== "centroid" && linkage !== "median") for (let i = 1; i < Z.length; i++) expect(Z[i][2]).toBeGreaterThanOrEqual(Z[i - 1][2]);
      expect(m.nClusters).toBe(4);
      expect(new Set(m.labels).size).toBe(4);
      // Labels numbered by first appearance.
      expect(m.labels[0]).toBe(0);
      let max = -1;
      for (const l of m.labels) {
        expect(l).toBeLessThanOrEqual(max + 1);
        if (l > max) max = l;
      }
      // The cut line height gives k clusters.
      for (const k of [2, 3, 5]) {
        const h = m.cutHeight(k);
        if (h !== null) expect(new Set(m.cutAtHeight(h)).size).toBe(k);
      }
    });
  }

  // 700 rows: the square matrix is compacted twice on the way (at 350 and 175 clusters).
  const Y = Array.from({ length: 700 }, () => Array.from({ length: 3 }, () => rng.normal(0, 1) + (rng.uniform(0, 1) < 0.3 ? 4 : 0)));
  for (const linkage of ["complete", "average", "weighted"] as const) {
    it(`${linkage}: the condensed distance matrix (big n) gives the same tree as the square one (compacted on the way)`, async () => {
      const square = await new AgglomerativeClustering({ linkage, metric: "manhattan" }).fit(Y);
      const saved = linkageTuning.maxSquare;
      linkageTuning.maxSquare = 0;
      try {
        const condensed = await new AgglomerativeClustering({ linkage, metric: "manhattan" }).fit(Y);
        expect(Array.from(condensed.linkageMatrix.data)).toEqual(Array.from(square.linkageMatrix.data));
      } finally {
        linkageTuning.maxSquare = saved;
      }
    });
  }

  it("distanceThreshold cuts below the threshold, as scikit-learn", async () => {
    const m = await new AgglomerativeClustering({ linkage: "single", nClusters: null, distanceThreshold: 2 }).fit([[0], [1], [3], [7]]);
    // Merges at 1, 2 and 4: only the one below 2 is made.
    expect(Array.from(m.labels)).toEqual([0, 0, 1, 2]);
    expect(m.nClusters).toBe(3);
    expect(Array.from(m.cutAtHeight(2))).toEqual([0, 0, 0, 1]);
  });
});

describe("predict, toJSON and loadModel", () => {
  const rng = new Random(11);
  const X = Array.from({ length: 80 }, (_, i) => [rng.normal(i < 40 ? 0 : 6, 1), rng.normal(i < 40 ? 0 : 6, 1)]);

  it("ward predicts the nearest cluster mean", async () => {
    const m = await new AgglomerativeClustering({ nClusters: 2 }).fit(X);
    const C = m.clusterCenters!;
    expect(C.rows).toBe(2);
    const mean0 = [0, 1].map((j) => X.filter((_, i) => m.labels[i] === 0).reduce((s, r) => s + r[j], 0) / m.labels.filter((l) => l === 0).length);
    expect(C.data[0]).toBeCloseTo(mean0[0], 12);
    expect(C.data[1]).toBeCloseTo(mean0[1], 12);
    expect(Array.from(m.predict([[0, 0], [6, 6], [2.9, 3.2]]))).toEqual([m.labels[0], m.labels[79], m.predict([[2.9, 3.2]])[0]]);
    expect(m.predict([[0, 0]])[0]).not.toBe(m.predict([[6, 6]])[0]);
  });

  it("other linkages predict the segment of the nearest training row", async () => {
    const m = await new AgglomerativeClustering({ nClusters: 3, linkage: "single", metric: "manhattan" }).fit(X);
    expect(m.clusterCenters).toBeNull();
    expect(Array.from(m.predict(X))).toEqual(Array.from(m.labels));
    // Just off row 5: row 5's segment.
    expect(m.predict([[X[5][0] + 1e-6, X[5][1]]])[0]).toBe(m.labels[5]);
  });

  it("precomputed: predict takes the distances to the training rows", async () => {
    const D = X.map((a) => X.map((b) => Math.hypot(a[0] - b[0], a[1] - b[1])));
    const m = await new AgglomerativeClustering({ nClusters: 2, linkage: "average", metric: "precomputed" }).fit(D);
    const e = await new AgglomerativeClustering({ nClusters: 2, linkage: "average" }).fit(X);
    for (let i = 0; i < m.linkageMatrix.data.length; i++) expect(close(m.linkageMatrix.data[i], e.linkageMatrix.data[i], 1e-12)).toBe(true);
    expect(Array.from(m.predict(D.slice(0, 10)))).toEqual(Array.from(m.labels.subarray(0, 10)));
  });

  for (const [linkage, metric] of [["ward", "euclidean"], ["average", "cosine"], ["complete", "precomputed"]] as const) {
    it(`${linkage}/${metric}: loadModel(toJSON()) restores an equal model`, async () => {
      const input = metric === "precomputed" ? X.map((a) => X.map((b) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]))) : X;
      const m = await new AgglomerativeClustering({ nClusters: 3, linkage, metric }).fit(input);
      const json = JSON.parse(JSON.stringify(m.toJSON()));
      const r = loadModel(json);
      expect(r).toBeInstanceOf(AgglomerativeModel);
      const a = r as AgglomerativeModel;
      expect(a.toJSON()).toEqual(m.toJSON());
      expect(Array.from(a.predict(input.slice(0, 20)))).toEqual(Array.from(m.predict(input.slice(0, 20))));
      expect(Array.from(a.cut(5))).toEqual(Array.from(m.cut(5)));
    });
  }
});

describe("input validation", () => {
  const X = [[0, 1], [1, 1], [4, 5]];
  it("rejects what cannot work, saying what to do", async () => {
    expect(() => new AgglomerativeClustering({ linkage: "ward", metric: "manhattan" })).toThrow(/needs metric "euclidean".*use linkage "average"/);
    expect(() => new AgglomerativeClustering({ linkage: "median", metric: "precomputed" })).toThrow(InputError);
    expect(() => new AgglomerativeClustering({ linkage: "nearest" as Linkage })).toThrow(/linkage must be one of/);
    expect(() => new AgglomerativeClustering({ nClusters: 0 })).toThrow(/nClusters must be a positive integer/);
    expect(() => new AgglomerativeClustering({ nClusters: 2, distanceThreshold: 1 })).toThrow(/either nClusters or distanceThreshold/);
    expect(() => new AgglomerativeClustering({ nClusters: null, distanceThreshold: -1 })).toThrow(/distanceThreshold/);
    await expect(new AgglomerativeClustering({ nClusters: 4 }).fit(X)).rejects.toThrow(/nClusters=4 is more than the 3 rows/);
    await expect(new AgglomerativeClustering().fit([[1, 2]])).rejects.toThrow(/at least 2 rows/);
    await expect(new AgglomerativeClustering({ linkage: "average", metric: "precomputed" }).fit(X)).rejects.toThrow(/n × n matrix.*3 × 2/);
    await expect(new AgglomerativeClustering({ linkage: "average", metric: "precomputed" }).fit([[0, 1], [2, 0]])).rejects.toThrow(/symmetric/);
    await expect(new AgglomerativeClustering({ linkage: "average", metric: "cosine" }).fit([[0, 0], [1, 2], [2, 1]])).rejects.toThrow(/row 0 is all zeros/);
    await expect(new AgglomerativeClustering().fit([[0, NaN], [1, 2]])).rejects.toThrow(/row 0, column 1 is NaN/);
  });

  it("aborts", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(new AgglomerativeClustering().fit(X, { signal: ac.signal })).rejects.toThrow(/aborted/);
  });

  it("dendrogram() checks its input", () => {
    expect(() => dendrogram({ data: new Float64Array(6), rows: 2, cols: 3 })).toThrow(/4 columns/);
  });
});

describe("worker threads", () => {
  const executors: { close(): Promise<void> }[] = [];
  const saved = { ...linkageTuning };
  afterAll(async () => {
    setParallelExecutor(null);
    Object.assign(linkageTuning, saved);
    await Promise.all(executors.map((e) => e.close()));
  });
  const rng = new Random(3);
  const n = 1500;
  const d = 5;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = rng.normal(0, 1) + (i % 3) * 2;
  const X: Matrix = { data, rows: n, cols: d };

  for (const [linkage, metric] of [["ward", "euclidean"], ["single", "euclidean"], ["single", "cosine"], ["average", "manhattan"], ["complete", "euclidean"], ["weighted", "euclidean"]] as const) {
    it(`${linkage}/${metric}: the same tree on the calling thread and on 1, 2 or 3 workers`, async () => {
      // Small thresholds, so that this small input goes to the workers (several chunks each).
      Object.assign(linkageTuning, { parallelScan: 1000, parallelPdist: 1000, scanChunk: 128, parallelUpdate: 256, updateChunk: 128 });
      setParallelExecutor(null);
      const ref = await new AgglomerativeClustering({ linkage, metric, nClusters: 5 }).fit(X);
      for (const size of [1, 2, 3]) {
        const ex = new WorkerPool(size);
        executors.push(ex);
        setParallelExecutor(ex);
        const m = await new AgglomerativeClustering({ linkage, metric, nClusters: 5 }).fit(X);
        expect(ex.runs, "the workers were used").toBeGreaterThan(0);
        expect(Array.from(m.linkageMatrix.data)).toEqual(Array.from(ref.linkageMatrix.data));
        expect(Array.from(m.labels)).toEqual(Array.from(ref.labels));
      }
      setParallelExecutor(null);
      Object.assign(linkageTuning, saved);
      // And the default chunking gives the same tree as well.
      const again = await new AgglomerativeClustering({ linkage, metric, nClusters: 5 }).fit(X);
      expect(Array.from(again.linkageMatrix.data)).toEqual(Array.from(ref.linkageMatrix.data));
    });
  }

  it("the library's worker pool runs the linkage kernels (registered in io/pool.ts)", async () => {
    const pool = new WorkerPool(2);
    executors.push(pool);
    Object.assign(linkageTuning, { parallelScan: 1000, parallelPdist: 1000, scanChunk: 128 });
    setParallelExecutor(null);
    const ref = await new AgglomerativeClustering({ nClusters: 5 }).fit(X);
    setParallelExecutor(pool);
    const m = await new AgglomerativeClustering({ nClusters: 5 }).fit(X);
    setParallelExecutor(null);
    Object.assign(linkageTuning, saved);
    expect(Array.from(m.linkageMatrix.data)).toEqual(Array.from(ref.linkageMatrix.data));
    expect(pool.runs).toBeGreaterThan(0);
  });
});

describe("one tree, every k", () => {
  it("withClusters(X, k) gives the model a fit with nClusters k gives (labels, centers, predict)", async () => {
    const X = { data: Float64Array.from({ length: 120 }, (_, i) => ((i * 7919) % 97) / 10 + (i % 3) * 5), rows: 60, cols: 2 };
    for (const linkage of ["ward", "average"] as const) {
      const tree = await new AgglomerativeClustering({ nClusters: 2, linkage }).fit(X);
      for (const k of [3, 5]) {
        const fresh = await new AgglomerativeClustering({ nClusters: k, linkage }).fit(X);
        const cut = tree.withClusters(X, k);
        expect(Array.from(cut.labels)).toEqual(Array.from(fresh.labels));
        expect(cut.clusterCenters?.data ?? null).toEqual(fresh.clusterCenters?.data ?? null);
        expect(Array.from(cut.predict(X))).toEqual(Array.from(fresh.predict(X)));
      }
    }
    const tree = await new AgglomerativeClustering({ nClusters: 2 }).fit(X);
    expect(() => tree.withClusters({ data: new Float64Array(4), rows: 2, cols: 2 }, 3)).toThrow(/X has 2 rows but the tree has 60 leaves/);
  });
});
