/**
 * DBSCAN (src/cluster/density/dbscan.ts): hand-computed toy cases, equality with a plain
 * O(n²) reference of scikit-learn's algorithm (neighbourhoods held at once, dbscan_inner's
 * depth-first search), scikit-learn 1.2's results on the fixtures (test/fixtures/density.json),
 * worker pools, predict, and the JSON round trip.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DBSCAN, DBSCANModel, type DBSCANJSON, type DBSCANMetric } from "../src/cluster/density/dbscan.js";
import { type CoreFlagsParams, DENSITY_BLOCK, densityCoreFlagsKernel, densityKernels, markDenseNodes } from "../src/cluster/density/kernels.js";
import { loadModel } from "../src/cluster/load.js";
import { NeighborIndex } from "../src/neighbors/index.js";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { blobs, poolMaker } from "./helpers/workers.js";

interface Fixture {
  cases: {
    name: string;
    X: number[][];
    dbscan: { params: { eps: number; min_samples: number; metric: string; sample_weight?: number[] }; labels: number[]; core_sample_indices: number[] }[];
  }[];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/density.json", import.meta.url), "utf8")) as Fixture;

function dist(X: Matrix, i: number, j: number, metric: DBSCANMetric): number {
  const d = X.cols;
  let s = 0;
  if (metric === "manhattan") {
    for (let t = 0; t < d; t++) s += Math.abs(X.data[i * d + t] - X.data[j * d + t]);
    return s;
  }
  if (metric === "cosine") {
    let ab = 0, aa = 0, bb = 0;
    for (let t = 0; t < d; t++) {
      ab += X.data[i * d + t] * X.data[j * d + t];
      aa += X.data[i * d + t] ** 2;
      bb += X.data[j * d + t] ** 2;
    }
    return aa === 0 || bb === 0 ? 1 : 1 - ab / Math.sqrt(aa * bb);
  }
  for (let t = 0; t < d; t++) s += (X.data[i * d + t] - X.data[j * d + t]) ** 2;
  return Math.sqrt(s);
}

/** scikit-learn's DBSCAN as written: all neighbourhoods, then dbscan_inner's DFS. */
function reference(X: Matrix, eps: number, minSamples: number, metric: DBSCANMetric = "euclidean", w?: number[]): { labels: number[]; core: number[] } {
  const n = X.rows;
  const nb: number[][] = [];
  for (let i = 0; i < n; i++) {
    nb.push([]);
    for (let j = 0; j < n; j++) if (dist(X, i, j, metric) <= eps) nb[i].push(j);
  }
  const isCore = nb.map((list) => list.reduce((s, j) => s + (w ? w[j] : 1), 0) >= minSamples);
  const labels = new Array<number>(n).fill(-1);
  let label = 0;
  for (let i0 = 0; i0 < n; i0++) {
    if (labels[i0] !== -1 || !isCore[i0]) continue;
    const stack: number[] = [];
    let i = i0;
    for (;;) {
      if (labels[i] === -1) {
        labels[i] = label;
        if (isCore[i]) for (const v of nb[i]) if (labels[v] === -1) stack.push(v);
      }
      if (stack.length === 0) break;
      i = stack.pop()!;
    }
    label++;
  }
  return { labels, core: isCore.flatMap((c, i) => (c ? [i] : [])) };
}

const mat = (rows: number[][]): Matrix => ({ data: Float64Array.from(rows.flat()), rows: rows.length, cols: rows[0].length });

describe("DBSCAN: hand-computed cases", () => {
  // Two squares of side 1 (each corner has the other three within eps = 1.5, diagonals √2),
  // a lone point between them, and a far outlier.
  const X = [[0, 0], [0, 1], [1, 0], [1, 1], [10, 10], [10, 11], [11, 10], [11, 11], [5, 5], [50, 50]];

  it("two groups and outliers", async () => {
    const m = await new DBSCAN({ eps: 1.5, minSamples: 4 }).fit(X);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, -1, -1]);
    expect(Array.from(m.coreSampleIndices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.nClusters).toBe(2);
    expect(m.nNoise).toBe(2);
    expect(m.components.rows).toBe(8);
    expect(Array.from(m.components.data.subarray(8, 10))).toEqual([10, 10]);
  });

  it("minSamples counts the row itself: 4 needs the 3 other corners, 5 makes everything noise", async () => {
    expect(Array.from((await new DBSCAN({ eps: 1.5, minSamples: 5 }).fit(X)).labels)).toEqual(new Array(10).fill(-1));
    // minSamples 1: every row is core, the lone rows are segments of their own.
    const m1 = await new DBSCAN({ eps: 1.5, minSamples: 1 }).fit(X);
    expect(Array.from(m1.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 3]);
  });

  it("distance exactly eps counts (≤)", async () => {
    // Rows 1 apart on a line: with eps = 1 each inner row has 3 (itself and both sides).
    const line = [[0], [1], [2], [3], [4]];
    const m = await new DBSCAN({ eps: 1, minSamples: 3 }).fit(line);
    expect(Array.from(m.coreSampleIndices)).toEqual([1, 2, 3]);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 0, 0]); // the ends are border rows
    const below = await new DBSCAN({ eps: 0.999, minSamples: 2 }).fit(line);
    expect(Array.from(below.labels)).toEqual([-1, -1, -1, -1, -1]);
  });

  it("border rows: a row within eps of cores of two segments gets the lower segment", async () => {
    // Segment A: 0, 1, 2, 3 (cores 1, 2, 3; 0 is a border row); segment B: 7, 8, 9, 10 (cores
    // 7, 8, 9). Row 0 at x = 5 is within eps = 2 of the cores at 3 and 7, but has only 3 rows
    // within eps (itself included), so it is a border row of both.
    const pts = [[5], [7], [8], [9], [10], [3], [2], [1], [0]];
    const m = await new DBSCAN({ eps: 2, minSamples: 4 }).fit(pts);
    // B's first core is row 1, A's is row 5: B is segment 0, A segment 1, so the border row 0 is 0.
    expect(Array.from(m.coreSampleIndices)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(m.labels)).toEqual(reference(mat(pts), 2, 4).labels);
  });

  it("sample weights: a heavy row is core by itself, a negative weight can keep a neighbour from being core", async () => {
    const pts = [[0], [0.5], [10], [20]];
    const heavy = await new DBSCAN({ eps: 1, minSamples: 3 }).fit(pts, { sampleWeight: [1, 1, 3, 1] });
    expect(Array.from(heavy.coreSampleIndices)).toEqual([2]);
    expect(Array.from(heavy.labels)).toEqual([-1, -1, 0, -1]);
    const pair = await new DBSCAN({ eps: 1, minSamples: 2 }).fit(pts, { sampleWeight: [1, 1, 1, 1] });
    expect(Array.from(pair.labels)).toEqual([0, 0, -1, -1]);
    const neg = await new DBSCAN({ eps: 1, minSamples: 2 }).fit(pts, { sampleWeight: [1, -1, 1, 1] });
    expect(Array.from(neg.coreSampleIndices)).toEqual([]);
  });

  it("precomputed distances give the same result as the features", async () => {
    const M = mat(X);
    const D = X.map((_, i) => X.map((_, j) => dist(M, i, j, "euclidean")));
    const a = await new DBSCAN({ eps: 1.5, minSamples: 4 }).fit(X);
    const b = await new DBSCAN({ eps: 1.5, minSamples: 4, metric: "precomputed" }).fit(D);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(Array.from(b.coreSampleIndices)).toEqual(Array.from(a.coreSampleIndices));
    // predict with distances to the training rows: near the first square, near nothing.
    const q = [[0.5, 0.5], [30, 30]];
    const Dq = q.map((p) => X.map((x) => Math.hypot(p[0] - x[0], p[1] - x[1])));
    expect(Array.from(b.predict(Dq))).toEqual([0, -1]);
  });
});

describe("DBSCAN equals the O(n²) reference of scikit-learn's algorithm", () => {
  const rng = new Random(11);
  const cases: { name: string; X: Matrix }[] = [];
  for (const d of [1, 2, 3, 8, 20]) cases.push({ name: `blobs d=${d}`, X: blobs(600, d, 4, 100 + d, 1.2) });
  // Ties: a grid with duplicates.
  const grid: number[][] = [];
  for (let i = 0; i < 400; i++) grid.push([rng.int(12) * 0.5, rng.int(12) * 0.5]);
  cases.push({ name: "grid with duplicates", X: mat(grid) });
  for (const { name, X } of cases) {
    for (const metric of ["euclidean", "manhattan", "cosine"] as const) {
      it(`${name}, ${metric}`, async () => {
        // eps near the median distance to the 5th neighbour so that there are cores, borders and noise.
        const base = metric === "cosine" ? 0.01 : X.cols <= 3 ? 0.5 : 0.5 * Math.sqrt(X.cols);
        for (const [eps, minSamples] of [[base, 5], [base * 2, 10]] as const) {
          const m = await new DBSCAN({ eps, minSamples, metric }).fit(X);
          const ref = reference(X, eps, minSamples, metric);
          expect(Array.from(m.coreSampleIndices)).toEqual(ref.core);
          expect(Array.from(m.labels)).toEqual(ref.labels);
        }
      });
    }
  }

  it("weighted, euclidean and manhattan, with KD-trees of any leaf size and brute force alike", async () => {
    const X = blobs(500, 2, 3, 7, 1.5);
    // Multiples of 0.5, so that sums of weights are exact whatever their order.
    const w = Array.from({ length: 500 }, (_, i) => ((i * 7) % 5) * 0.5 - 0.5);
    for (const metric of ["euclidean", "manhattan"] as const) {
      const ref = reference(X, 0.6, 3, metric, w);
      for (const algorithm of ["kd_tree", "brute"] as const) {
        for (const leafSize of [1, 30]) {
          const m = await new DBSCAN({ eps: 0.6, minSamples: 3, algorithm, metric, leafSize }).fit(X, { sampleWeight: w });
          expect(Array.from(m.labels)).toEqual(ref.labels);
          expect(Array.from(m.coreSampleIndices)).toEqual(ref.core);
        }
      }
    }
  });
});

describe("DBSCAN equals scikit-learn 1.2 on the fixtures", () => {
  for (const c of fixture.cases) {
    for (const f of c.dbscan) {
      const p = f.params;
      it(`${c.name}: eps ${p.eps}, minSamples ${p.min_samples}, ${p.metric}${p.sample_weight ? ", weighted" : ""}`, async () => {
        const m = await new DBSCAN({ eps: p.eps, minSamples: p.min_samples, metric: p.metric as DBSCANMetric }).fit(c.X, { sampleWeight: p.sample_weight });
        expect(Array.from(m.coreSampleIndices)).toEqual(f.core_sample_indices);
        // Core rows and noise identical; segments identical including their numbers (the
        // border rule is scikit-learn's: the first segment to reach a border row keeps it).
        expect(Array.from(m.labels)).toEqual(f.labels);
      });
    }
  }
});

describe("DBSCAN on worker pools", () => {
  const newPool = poolMaker();
  it("labels and core rows identical for 0, 1 and 2 workers (weighted: parallel radius counts; unweighted: core flags)", async () => {
    const X = blobs(30_000, 2, 5, 3, 0.8);
    const w = Array.from({ length: X.rows }, (_, i) => 0.5 + (i % 4) * 0.25);
    setParallelExecutor(null);
    const ref = await new DBSCAN({ eps: 0.2, minSamples: 20 }).fit(X);
    const refW = await new DBSCAN({ eps: 0.2, minSamples: 20 }).fit(X, { sampleWeight: w });
    expect(ref.nClusters).toBeGreaterThan(1);
    expect(ref.nNoise).toBeGreaterThan(0);
    expect(Array.from(refW.labels)).not.toEqual(Array.from(ref.labels));
    for (const size of [1, 2]) {
      const pool = newPool(size);
      setParallelExecutor(pool);
      const m = await new DBSCAN({ eps: 0.2, minSamples: 20 }).fit(X);
      expect(Array.from(m.labels)).toEqual(Array.from(ref.labels));
      expect(Array.from(m.coreSampleIndices)).toEqual(Array.from(ref.coreSampleIndices));
      const mw = await new DBSCAN({ eps: 0.2, minSamples: 20 }).fit(X, { sampleWeight: w });
      expect(pool.runs, "the pool was used").toBeGreaterThan(0);
      expect(Array.from(mw.labels)).toEqual(Array.from(refW.labels));
      expect(Array.from(mw.coreSampleIndices)).toEqual(Array.from(refW.coreSampleIndices));
    }
    setParallelExecutor(null);
  });

  it("the core-flags kernel gives the same flags however the blocks are split into chunks, equal to radius counts ≥ minSamples", async () => {
    expect(densityKernels.densityCoreFlags).toBe(densityCoreFlagsKernel);
    const X = blobs(5000, 2, 4, 9, 0.3);
    const index = NeighborIndex.build(X.data, X.rows, 2, { leafSize: 30 });
    const tree = index.tree!;
    const counts = await index.radiusCounts(0.25);
    const want = Array.from(counts, (c) => (c >= 8 ? 1 : 0));
    expect(want).toContain(0);
    expect(want).toContain(1);
    const blocks = Math.ceil(X.rows / DENSITY_BLOCK);
    for (const [nChunks, mark] of [[1, false], [3, false], [7, false], [1, true], [5, true]] as const) {
      const flags = new Uint8Array(X.rows);
      const S = { ordered: tree.ordered, index: tree.index, nodeStart: tree.nodeStart, nodeEnd: tree.nodeEnd, nodeIsLeaf: tree.nodeIsLeaf, nodeLower: tree.nodeLower, nodeUpper: tree.nodeUpper, flags };
      if (mark) {
        // Dense nodes marked first: every marked row is a core row, and some are marked.
        const marked = markDenseNodes(S, 2, 0.0625, false, 8, tree.nNodes);
        expect(marked).toBeGreaterThan(0);
        for (let i = 0; i < X.rows; i++) if (flags[i] === 1) expect(want[i]).toBe(1);
      }
      const P: CoreFlagsParams = { n: X.rows, d: 2, r: 0.0625, l1: 0, minSamples: 8, nLevels: tree.nLevels, blockStart: 0, blockEnd: blocks, nChunks };
      // Chunks in reverse order, as workers might finish them.
      for (let c = nChunks - 1; c >= 0; c--) densityCoreFlagsKernel(S, P, c, c + 1);
      expect(Array.from(flags)).toEqual(want);
    }
  });

  it("the early-stopping core flags equal full radius counts", async () => {
    for (const [d, metric] of [[2, "euclidean"], [3, "manhattan"], [5, "euclidean"]] as const) {
      const X = blobs(3000, d, 4, 20 + d, 1);
      for (const [eps, minSamples] of [[0.4, 5], [0.8, 30], [1.5, 200]] as const) {
        // Weights of 1 take the path of full radius counts; no weights, the capped counts.
        const full = await new DBSCAN({ eps, minSamples, metric }).fit(X, { sampleWeight: new Array(X.rows).fill(1) });
        const capped = await new DBSCAN({ eps, minSamples, metric }).fit(X);
        expect(Array.from(capped.coreSampleIndices)).toEqual(Array.from(full.coreSampleIndices));
        expect(Array.from(capped.labels)).toEqual(Array.from(full.labels));
      }
    }
  });
});

describe("DBSCAN: predict", () => {
  it("the segment of the nearest core row within eps, else noise; ties to the lower core row", async () => {
    // Cores: 0,1,2 (segment 0 around x = 0) and 3,4,5 (segment 1 around x = 10); row 6 (x = 1.9) is a border row.
    const pts = [[0], [0.5], [1], [9], [9.5], [10], [1.9]];
    const m = await new DBSCAN({ eps: 1, minSamples: 3 }).fit(pts);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 1, 1, 1, 0]);
    expect(Array.from(m.coreSampleIndices)).toEqual([0, 1, 2, 3, 4, 5]);
    // 1.5: nearest core 1 (distance 0.5) → 0; 8.2: core 3 at 0.8 → 1; 2.5: nearest core at 1.5 > eps → noise
    // (a border row's neighbourhood does not extend the segment); 5: far from all; exactly eps from core 5 → 1.
    expect(Array.from(m.predict([[1.5], [8.2], [2.5], [5], [11]]))).toEqual([0, 1, -1, -1, 1]);
    // Ties: 5 is 4 from both core 2 (x = 1) and core 3 (x = 9): with eps 4 the lower core row wins.
    const wide = await new DBSCAN({ eps: 4, minSamples: 3 }).fit([[0], [0.5], [1], [9], [9.5], [10]]);
    expect(wide.nClusters).toBe(2);
    expect(Array.from(wide.predict([[5]]))).toEqual([0]);
    // Training core rows get their own labels back.
    expect(Array.from(m.predict(pts.slice(0, 6)))).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it("no core rows: everything is noise; wrong width is refused", async () => {
    const m = await new DBSCAN({ eps: 0.1, minSamples: 2 }).fit([[0, 0], [1, 1]]);
    expect(m.nClusters).toBe(0);
    expect(Array.from(m.predict([[0, 0]]))).toEqual([-1]);
    expect(() => m.predict([[0, 0, 0]])).toThrow(/3 columns but the model was fitted on 2/);
  });
});

describe("DBSCAN: JSON", () => {
  const X = blobs(300, 3, 3, 5, 1);
  it("round trip: same predictions, labels optional; loadModel knows it", async () => {
    const m = await new DBSCAN({ eps: 0.9, minSamples: 6, metric: "manhattan" }).fit(X);
    expect(m.nClusters).toBeGreaterThan(1);
    const json = JSON.parse(JSON.stringify(m.toJSON())) as DBSCANJSON;
    const back = DBSCANModel.fromJSON(json);
    expect(Array.from(back.labels)).toEqual(Array.from(m.labels));
    expect(back.metric).toBe("manhattan");
    const Y = blobs(200, 3, 3, 6, 2);
    expect(Array.from(back.predict(Y))).toEqual(Array.from(m.predict(Y)));
    const slim = DBSCANModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON({ includeLabels: false }))) as DBSCANJSON);
    expect(slim.labels.length).toBe(0);
    expect(slim.nClusters).toBe(m.nClusters);
    expect(slim.nNoise).toBe(m.nNoise);
    expect(Array.from(slim.predict(Y))).toEqual(Array.from(m.predict(Y)));
    const loaded = loadModel(json) as DBSCANModel;
    expect(Array.from(loaded.predict(Y))).toEqual(Array.from(m.predict(Y)));
  });

  it("damaged JSON is refused with the field named", async () => {
    const m = await new DBSCAN({ eps: 0.9, minSamples: 6 }).fit(X);
    const good = m.toJSON();
    const bad = (change: (j: Record<string, unknown>) => void): unknown => {
      const j = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
      change(j);
      return j;
    };
    const cases: [unknown, RegExp][] = [
      [bad((j) => { j.type = "KMeans2"; }), /not a DBSCAN model/],
      [bad((j) => { j.eps = -1; }), /eps is -1/],
      [bad((j) => { j.eps = null; }), /eps is null/],
      [bad((j) => { j.minSamples = 2.5; }), /minSamples is 2\.5/],
      [bad((j) => { j.metric = "chebyshev"; }), /metric is "chebyshev"/],
      [bad((j) => { j.nFeatures = 0; }), /nFeatures is 0/],
      [bad((j) => { (j.coreSampleIndices as number[]).reverse(); }), /coreSampleIndices\[1\]/],
      [bad((j) => { (j.components as number[][]).pop(); }), /components has/],
      [bad((j) => { (j.components as unknown[][])[0][1] = "x"; }), /components row 0, value 1 is "x"/],
      [bad((j) => { (j.components as number[][])[2] = [1]; }), /components row 2 has 1 values/],
      [bad((j) => { (j.coreLabels as number[])[0] = 99; }), /coreLabels\[0\] is 99/],
      [bad((j) => { j.nClusters = (j.nClusters as number) + 1; }), /no core row has segment/],
      [bad((j) => { (j.labels as number[]).pop(); }), /labels has/],
      [bad((j) => { (j.labels as number[])[m.coreSampleIndices[0]] = -1; }), /nNoise is|core row/],
      [bad((j) => { j.nNoise = 9999; }), /nNoise is 9999/],
    ];
    for (const [json, message] of cases) {
      expect(() => DBSCANModel.fromJSON(json as DBSCANJSON), String(message)).toThrow(InputError);
      expect(() => DBSCANModel.fromJSON(json as DBSCANJSON)).toThrow(message);
    }
  });
});

describe("DBSCAN: options and input checks", () => {
  it("refuses bad options and input with the option named", async () => {
    expect(() => new DBSCAN({ eps: 0 })).toThrow(/eps must be a finite distance > 0/);
    expect(() => new DBSCAN({ eps: Infinity })).toThrow(/eps must be a finite distance > 0/);
    expect(() => new DBSCAN({ minSamples: 0 })).toThrow(/minSamples must be a whole number ≥ 1/);
    expect(() => new DBSCAN({ minSamples: 2.5 })).toThrow(/minSamples/);
    expect(() => new DBSCAN({ metric: "chebyshev" as never })).toThrow(/metric must be one of/);
    await expect(new DBSCAN().fit([[0, NaN]])).rejects.toThrow(/row 0, column 1 is NaN/);
    await expect(new DBSCAN().fit([[0], [1]], { sampleWeight: [1] })).rejects.toThrow(/sampleWeight has 1 values but X has 2 rows/);
    await expect(new DBSCAN().fit([[0], [1]], { sampleWeight: [1, Infinity] })).rejects.toThrow(/sampleWeight\[1\] is Infinity/);
    await expect(new DBSCAN({ metric: "precomputed" }).fit([[0, 1]])).rejects.toThrow(/square matrix/);
    await expect(new DBSCAN({ metric: "precomputed" }).fit([[0, -1], [-1, 0]])).rejects.toThrow(/row 0, column 1 is -1/);
    await expect(new DBSCAN().fit([])).rejects.toThrow(InputError);
  });

  it("a single row; progress reaches the end; an aborted signal stops the fit", async () => {
    const one = await new DBSCAN({ minSamples: 1 }).fit([[3, 4]]);
    expect(Array.from(one.labels)).toEqual([0]);
    const seen: [number, number][] = [];
    await new DBSCAN({ eps: 0.5 }).fit(blobs(2000, 2, 3, 1, 1), { onProgress: (done, total) => seen.push([done, total]) });
    expect(seen.at(-1)).toEqual([4000, 4000]);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBeGreaterThanOrEqual(seen[i - 1][0]);
    const controller = new AbortController();
    controller.abort();
    await expect(new DBSCAN().fit(blobs(100, 2, 2, 1), { signal: controller.signal })).rejects.toThrow(AbortError);
    // Aborted while it runs (at its first progress report).
    for (const sampleWeight of [undefined, new Array(20_000).fill(1)]) {
      const later = new AbortController();
      await expect(new DBSCAN({ eps: 0.3 }).fit(blobs(20_000, 2, 3, 1, 1), { sampleWeight, signal: later.signal, onProgress: () => later.abort() })).rejects.toThrow(AbortError);
    }
  });
});
