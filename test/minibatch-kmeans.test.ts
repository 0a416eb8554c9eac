import { describe, expect, it } from "vitest";
import { KMeans } from "../src/cluster/kmeans.js";
import { loadModel } from "../src/cluster/load.js";
import { MiniBatchKMeans, MiniBatchKMeansModel } from "../src/cluster/minibatch-kmeans.js";
import { InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";
import { duck, queryRows } from "../src/io/duck.js";
import { fitMiniBatchFromQuery, labelQuery } from "../src/io/stream.js";

/** Gaussian blobs around k centers at least `gap` apart (seeded); also returns the true labels. */
function blobs(n: number, d: number, k: number, spread: number, seed: number, gap = 6): { X: Matrix; truth: Int32Array; centers: number[][] } {
  const rng = new Random(seed);
  const centers: number[][] = [];
  while (centers.length < k) {
    const c = Array.from({ length: d }, () => rng.uniform(-10, 10));
    if (centers.every((o) => Math.hypot(...o.map((v, j) => v - c[j])) >= gap)) centers.push(c);
  }
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    truth[i] = c;
    for (let j = 0; j < d; j++) data[i * d + j] = centers[c][j] + rng.normal(0, spread);
  }
  return { X: { data, rows: n, cols: d }, truth, centers };
}

/** Whether two labellings are the same partition (up to renaming). */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

function rowsOf(m: Matrix, i: number): number[] {
  return Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));
}

describe("MiniBatchKMeans against KMeans", () => {
  it("reaches an inertia within 2 % of full KMeans (nInit 10) on blobs, for several seeds", async () => {
    const { X } = blobs(20_000, 5, 6, 1.0, 1);
    const full = await new KMeans({ nClusters: 6, nInit: 10, randomState: 0 }).fit(X);
    for (const seed of [0, 1, 2, 3, 4]) {
      const m = await new MiniBatchKMeans({ nClusters: 6, randomState: seed }).fit(X);
      expect(m.inertia / full.inertia).toBeLessThan(1.02);
      expect(m.inertia / full.inertia).toBeGreaterThan(0.999);
      expect(m.labels.length).toBe(X.rows);
      expect(m.nSteps).toBeGreaterThan(1);
      expect(m.nIter).toBe(Math.ceil((m.nSteps * 1024) / X.rows));
    }
  });

  it("labels are every row's nearest final center and inertia is theirs (weighted)", async () => {
    const { X } = blobs(3000, 3, 4, 1.5, 2);
    const w = Array.from({ length: X.rows }, (_, i) => 1 + (i % 3));
    const m = await new MiniBatchKMeans({ nClusters: 4, randomState: 1, batchSize: 256 }).fit(X, { sampleWeight: w });
    expect(Array.from(m.predict(X))).toEqual(Array.from(m.labels));
    let inertia = 0;
    for (let i = 0; i < X.rows; i++) {
      const c = m.labels[i];
      let s = 0;
      for (let j = 0; j < X.cols; j++) s += (X.data[i * 3 + j] - m.clusterCenters.data[c * 3 + j]) ** 2;
      inertia += w[i] * s;
    }
    expect(m.inertia).toBeCloseTo(inertia, 6);
  });
});

describe("MiniBatchKMeans semantics", () => {
  it("is reproducible with the same randomState", async () => {
    const { X } = blobs(5000, 4, 5, 2.0, 3);
    const a = await new MiniBatchKMeans({ nClusters: 5, randomState: 42, batchSize: 200 }).fit(X);
    const b = await new MiniBatchKMeans({ nClusters: 5, randomState: 42, batchSize: 200 }).fit(X);
    expect(Array.from(b.clusterCenters.data)).toEqual(Array.from(a.clusterCenters.data));
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.nSteps).toBe(a.nSteps);
    expect(b.inertia).toBe(a.inertia);
    const c = await new MiniBatchKMeans({ nClusters: 5, randomState: 43, batchSize: 200 }).fit(X);
    expect(Array.from(c.clusterCenters.data)).not.toEqual(Array.from(a.clusterCenters.data));
  });

  it("one step by hand: centers move to the weighted mean of what they have seen", () => {
    // Centers 0 and 10 (counts 0). Batch: 1 (w 1), 3 (w 3) → center 0 becomes (1 + 9) / 4 = 2.5,
    // 12 (w 2) → center 1 becomes 12. Second batch: 4 (w 4) → (2.5 × 4 + 16) / 8 = 3.25.
    const model = new MiniBatchKMeans({ nClusters: 2, init: [[0], [10]], reassignmentRatio: 0 })
      .partialFit([[1], [3], [12]], { sampleWeight: [1, 3, 2] });
    expect(Array.from(model.clusterCenters.data)).toEqual([2.5, 12]);
    expect(Array.from(model.counts)).toEqual([4, 2]);
    expect(model.nSteps).toBe(1);
    model.partialFit([[4]], { sampleWeight: [4] });
    expect(model.clusterCenters.data[0]).toBeCloseTo(3.25, 12);
    expect(model.clusterCenters.data[1]).toBe(12);
    expect(Array.from(model.counts)).toEqual([8, 2]);
    expect(model.nSteps).toBe(2);
    // labels and inertia describe the last batch against the updated centers.
    expect(Array.from(model.labels)).toEqual([0]);
    expect(model.inertia).toBeCloseTo(4 * 0.75 ** 2, 12);
  });

  it("a weight of 3 is exactly three copies in a step", () => {
    const init = [[0, 0], [5, 5], [10, 0]];
    const rng = new Random(7);
    const base = Array.from({ length: 60 }, (_, i) => [init[i % 3][0] + rng.normal(), init[i % 3][1] + rng.normal()]);
    const w = base.map((_, i) => (i % 4 === 0 ? 3 : 1));
    const copies = base.flatMap((r, i) => Array.from({ length: w[i] }, () => r));
    const a = new MiniBatchKMeans({ nClusters: 3, init, reassignmentRatio: 0 }).partialFit(base, { sampleWeight: w });
    const b = new MiniBatchKMeans({ nClusters: 3, init, reassignmentRatio: 0 }).partialFit(copies);
    for (let t = 0; t < 6; t++) expect(a.clusterCenters.data[t]).toBeCloseTo(b.clusterCenters.data[t], 12);
    expect(Array.from(a.counts)).toEqual(Array.from(b.counts));
  });

  it("a weight of 3 acts like three copies in a whole fit (statistically)", async () => {
    const rng0 = new Random(5);
    const truth = [[-6, -2], [0, 6], [7, -1]];
    const n = 4000;
    const data = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      const c = truth[rng0.int(3)];
      for (let j = 0; j < 2; j++) data[i * 2 + j] = c[j] + rng0.normal(0, 1.5);
    }
    const X: Matrix = { data, rows: n, cols: 2 };
    const rng = new Random(11);
    const w = Array.from({ length: n }, () => 1 + rng.int(3));
    const dup: number[][] = [];
    for (let i = 0; i < n; i++) for (let r = 0; r < w[i]; r++) dup.push(rowsOf(X, i));
    // Both must estimate the weighted K-Means solution.
    const full = await new KMeans({ nClusters: 3, nInit: 10, randomState: 0 }).fit(X, { sampleWeight: w });
    const gap = (m: MiniBatchKMeansModel): number => {
      let worst = 0;
      for (let c = 0; c < 3; c++) {
        let best = Infinity;
        for (let e = 0; e < 3; e++) best = Math.min(best, Math.hypot(...rowsOf(m.clusterCenters, c).map((v, j) => v - full.clusterCenters.data[e * 2 + j])));
        worst = Math.max(worst, best);
      }
      return worst;
    };
    for (const seed of [0, 1, 2]) {
      const opts = { nClusters: 3, batchSize: 256, maxIter: 20, maxNoImprovement: null, randomState: seed } as const;
      const a = await new MiniBatchKMeans(opts).fit(X, { sampleWeight: w });
      const b = await new MiniBatchKMeans(opts).fit(dup);
      expect(gap(a)).toBeLessThan(0.1);
      expect(gap(b)).toBeLessThan(0.1);
      expect(Math.abs(a.score(X, w) / b.score(X, w) - 1)).toBeLessThan(0.001);
      expect(-a.score(X, w) / full.inertia).toBeLessThan(1.001);
    }
  });

  it("partialFit from nothing converges on well-separated blobs", async () => {
    const { X, truth } = blobs(6000, 3, 4, 0.5, 6, 8);
    const full = await new KMeans({ nClusters: 4, nInit: 10, randomState: 0 }).fit(X);
    const est = new MiniBatchKMeans({ nClusters: 4, randomState: 0 });
    const bs = 300;
    const batch = (s: number): Matrix => ({ data: X.data.subarray(s * 3, (s + bs) * 3), rows: bs, cols: 3 });
    const model = est.partialFit(batch(0));
    expect(model).toBeInstanceOf(MiniBatchKMeansModel);
    for (let pass = 0; pass < 2; pass++) for (let s = pass === 0 ? bs : 0; s < X.rows; s += bs) model.partialFit(batch(s));
    expect(model.nSteps).toBe(2 * (X.rows / bs));
    const labels = model.predict(X);
    expect(samePartition(labels, truth)).toBe(true);
    expect(-model.score(X) / full.inertia).toBeLessThan(1.01);
    // The estimator keeps only its options.
    expect(Object.keys(est)).toEqual(["options"]);
  });

  it("reassigns a center that gets no points to a row of the batch", () => {
    const rng = new Random(3);
    const batch = Array.from({ length: 100 }, (_, i) => (i % 2 ? [10 + rng.normal(), 10 + rng.normal()] : [rng.normal(), rng.normal()]));
    const init = [[0, 0], [10, 10], [1000, 1000]];
    const m = new MiniBatchKMeans({ nClusters: 3, init, randomState: 0 }).partialFit(batch);
    const moved = rowsOf(m.clusterCenters, 2);
    expect(batch.some((r) => r[0] === moved[0] && r[1] === moved[1])).toBe(true);
    // Its weight is set to the smallest weight among the centers kept (here 50 and 50).
    expect(m.counts[2]).toBe(Math.min(m.counts[0], m.counts[1]));
    expect(m.counts[2]).toBe(50);
    // Without reassignment the far center stays where it is.
    const keep = new MiniBatchKMeans({ nClusters: 3, init, reassignmentRatio: 0 }).partialFit(batch);
    expect(rowsOf(keep.clusterCenters, 2)).toEqual([1000, 1000]);
    expect(keep.counts[2]).toBe(0);
  });

  it("a fit from a bad start ends with every cluster used thanks to reassignment", async () => {
    const { X } = blobs(3000, 2, 3, 0.5, 8, 8);
    const init = [[-30, -30], [1000, 1000], [-1000, 1000]];
    const m = await new MiniBatchKMeans({ nClusters: 3, init, randomState: 0, batchSize: 100 }).fit(X);
    expect(new Set(m.labels).size).toBe(3);
    const none = await new MiniBatchKMeans({ nClusters: 3, init, randomState: 0, batchSize: 100, reassignmentRatio: 0 }).fit(X);
    expect(new Set(none.labels).size).toBe(1);
  });

  it("early stopping: maxNoImprovement stops long before maxIter on easy data", async () => {
    const { X } = blobs(20_000, 4, 4, 0.5, 9, 8);
    const budget = Math.floor((100 * X.rows) / 1024);
    const m = await new MiniBatchKMeans({ nClusters: 4, randomState: 0 }).fit(X);
    expect(m.nSteps).toBeLessThan(budget / 5);
    expect(m.nIter).toBeLessThan(100);
    // Without early stopping the whole budget of ⌊maxIter × n / batchSize⌋ steps is used.
    const progress: number[] = [];
    const all = await new MiniBatchKMeans({ nClusters: 4, randomState: 0, maxIter: 2, maxNoImprovement: null, onProgress: (p) => progress.push(p.step) }).fit(X);
    expect(all.nSteps).toBe(Math.floor((2 * X.rows) / 1024));
    expect(all.nIter).toBe(2);
    expect(progress.length).toBe(all.nSteps);
    // tol > 0 stops on a small change of the centers.
    const tol = await new MiniBatchKMeans({ nClusters: 4, randomState: 0, tol: 0.01, maxNoImprovement: null }).fit(X);
    expect(tol.nSteps).toBeLessThan(budget);
  });

  it("nInit tries several initialisations and keeps the best on a validation sample", async () => {
    const rng = new Random(10);
    const C = Array.from({ length: 8 }, () => Array.from({ length: 3 }, () => rng.uniform(-10, 10)));
    const data = new Float64Array(5000 * 3);
    for (let i = 0; i < 5000; i++) {
      const c = C[rng.int(8)];
      for (let j = 0; j < 3; j++) data[i * 3 + j] = c[j] + rng.normal(0, 1.5);
    }
    const X: Matrix = { data, rows: 5000, cols: 3 };
    // "auto" with init "random" makes 3 initialisations: over 10 seeds they end better than 1.
    let one = 0;
    let auto = 0;
    for (let seed = 0; seed < 10; seed++) {
      one += (await new MiniBatchKMeans({ nClusters: 8, init: "random", nInit: 1, randomState: seed }).fit(X)).inertia;
      auto += (await new MiniBatchKMeans({ nClusters: 8, init: "random", randomState: seed }).fit(X)).inertia;
    }
    expect(auto).toBeLessThan(0.9 * one);
    const warnings: string[] = [];
    await new MiniBatchKMeans({ nClusters: 2, init: [[0, 0, 0], [1, 1, 1]], nInit: 3 }).fit(X, { onWarning: (w) => warnings.push(w) });
    expect(warnings.join(" ")).toMatch(/nInit=3 is ignored/);
  });

  it("aborts between steps", async () => {
    const { X } = blobs(5000, 3, 4, 1, 12);
    const ac = new AbortController();
    ac.abort();
    await expect(new MiniBatchKMeans({ nClusters: 4, signal: ac.signal }).fit(X)).rejects.toThrow(/aborted/);
  });
});

describe("MiniBatchKMeansModel", () => {
  it("predict, transform and toJSON → loadModel round trip", async () => {
    const { X } = blobs(2000, 3, 3, 1, 13);
    const m = await new MiniBatchKMeans({ nClusters: 3, randomState: 5, batchSize: 100 }).fit(X);
    expect(Array.from(m.predict(X))).toEqual(Array.from(m.labels));
    const T = m.transform(X);
    expect(T.rows).toBe(X.rows);
    expect(T.cols).toBe(3);
    for (let i = 0; i < 20; i++) {
      for (let c = 0; c < 3; c++) {
        const dist = Math.hypot(...rowsOf(X, i).map((v, j) => v - m.clusterCenters.data[c * 3 + j]));
        expect(T.data[i * 3 + c]).toBeCloseTo(dist, 10);
      }
      const row = Array.from(T.data.subarray(i * 3, i * 3 + 3));
      expect(row.indexOf(Math.min(...row))).toBe(m.labels[i]);
    }
    const json = JSON.parse(JSON.stringify(m.toJSON()));
    expect(json.type).toBe("MiniBatchKMeans");
    const back = loadModel(json);
    expect(back).toBeInstanceOf(MiniBatchKMeansModel);
    const r = back as MiniBatchKMeansModel;
    expect(Array.from(r.clusterCenters.data)).toEqual(Array.from(m.clusterCenters.data));
    expect(Array.from(r.labels)).toEqual(Array.from(m.labels));
    expect(Array.from(r.counts)).toEqual(Array.from(m.counts));
    expect([r.inertia, r.nIter, r.nSteps, r.nSinceLastReassign]).toEqual([m.inertia, m.nIter, m.nSteps, m.nSinceLastReassign]);
    expect(Array.from(r.predict(X))).toEqual(Array.from(m.predict(X)));
    expect(r.toJSON()).toEqual(m.toJSON());
    // A restored model keeps learning where it stopped.
    r.partialFit({ data: X.data.subarray(0, 300), rows: 100, cols: 3 });
    expect(r.nSteps).toBe(m.nSteps + 1);
    expect(r.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(m.counts.reduce((a, b) => a + b, 0));
    expect(() => loadModel({ type: "MiniBatchKMeans" })).toThrow(InputError);
  });
});

describe("MiniBatchKMeans input errors", () => {
  const X = [[0, 0], [1, 1], [5, 5]];

  it("rejects bad options", () => {
    expect(() => new MiniBatchKMeans({ nClusters: 0 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ nClusters: 2.5 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ batchSize: 0 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ maxIter: 0 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ reassignmentRatio: -1 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ maxNoImprovement: -1 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ tol: -1 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ nInit: 0 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ initSize: 0 })).toThrow(InputError);
    expect(() => new MiniBatchKMeans({ init: "kmeans" as "random" })).toThrow(InputError);
  });

  it("rejects bad data, weights and initial centers", async () => {
    await expect(new MiniBatchKMeans({ nClusters: 4 }).fit(X)).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2 }).fit([[0, 0], [1, NaN], [5, 5]])).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2, init: [[0, 0]] }).fit(X)).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2, init: [[0], [1]] }).fit(X)).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2 }).fit(X, { sampleWeight: [1, -1, 1] })).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2 }).fit(X, { sampleWeight: [1, 1] })).rejects.toThrow(InputError);
    await expect(new MiniBatchKMeans({ nClusters: 2 }).fit(X, { sampleWeight: [0, 0, 0] })).rejects.toThrow(InputError);
    expect(() => new MiniBatchKMeans({ nClusters: 4 }).partialFit(X)).toThrow(InputError);
    const m = new MiniBatchKMeans({ nClusters: 2, randomState: 0 }).partialFit(X);
    expect(() => m.partialFit([[1, 2, 3]])).toThrow(InputError);
    expect(() => m.predict([[1, 2, 3]])).toThrow(InputError);
  });
});

describe("streaming from DuckDB", () => {
  const k = 5;
  const d = 4;
  const names = Array.from({ length: d }, (_, j) => `x${j}`);
  /** 200,000 rows around 5 centers, stored sorted by cluster (the worst order for a stream). */
  async function table(): Promise<string> {
    const con = await duck();
    // Centers on a grid 20 apart per coordinate; noise: a sum of three uniforms (seeded by hash).
    const cols = names.map((c, j) =>
      `((hash(i % ${k}, ${j}) % 5) * 20)::DOUBLE + ((hash(i, ${j}, 1) % 1000) + (hash(i, ${j}, 2) % 1000) + (hash(i, ${j}, 3) % 1000))::DOUBLE / 500 - 3 AS ${c}`);
    await con.run(`CREATE OR REPLACE TABLE mb_blobs AS SELECT i AS id, 1 + (i % 3) AS wt, ${cols.join(", ")} FROM range(200000) r(i) ORDER BY i % ${k}, i`);
    return "SELECT * FROM mb_blobs";
  }

  it("200,000 rows: inertia within 2 % of in-memory KMeans, reproducible, labels by chunk", async () => {
    const sql = await table();
    const rows = await queryRows(`SELECT id, ${names.join(", ")} FROM mb_blobs`);
    const X: Matrix = { data: Float64Array.from(rows.flatMap((r) => names.map((c) => Number(r[c])))), rows: rows.length, cols: d };
    const full = await new KMeans({ nClusters: k, nInit: 3, randomState: 0 }).fit(X);
    const labelsById = new Int32Array(X.rows).fill(-1);
    const r = await fitMiniBatchFromQuery(sql, names, {
      nClusters: k, randomState: 0, idColumn: "id",
      onLabels: ({ labels, start, ids }) => {
        expect(ids!.length).toBe(labels.length);
        expect(start).toBeGreaterThanOrEqual(0);
        for (let i = 0; i < labels.length; i++) labelsById[Number(ids![i])] = labels[i];
      },
    });
    expect(r.nSamples).toBe(200_000);
    expect(r.inertia / full.inertia).toBeLessThan(1.02);
    expect(r.model.inertia).toBe(r.inertia);
    expect(r.clusterSizes.reduce((a, b) => a + b, 0)).toBe(200_000);
    expect(r.rowsStreamed).toBeGreaterThanOrEqual(r.model.nSteps * 1024);
    expect(r.model.nIter).toBeLessThan(100); // early stopping
    // The labels written per chunk are the model's predictions for those rows.
    const ids = rows.map((row) => Number(row.id));
    const predicted = r.model.predict(X);
    expect(ids.every((id, i) => labelsById[id] === predicted[i])).toBe(true);
    // Same seed, same result.
    const again = await fitMiniBatchFromQuery(sql, names, { nClusters: k, randomState: 0 });
    expect(Array.from(again.model.clusterCenters.data)).toEqual(Array.from(r.model.clusterCenters.data));
    // labelQuery gives the same inertia for the fitted model.
    const lab = await labelQuery(r.model, sql, names);
    expect(lab.inertia).toBeCloseTo(r.inertia, 3);
  });

  it("hash order resists data stored by cluster; a plain buffer shuffle does not", async () => {
    const sql = await table();
    const hashed = await fitMiniBatchFromQuery(sql, names, { nClusters: k, randomState: 1, segmentRows: 50_000 });
    const buffered = await fitMiniBatchFromQuery(sql, names, { nClusters: k, randomState: 1, shuffle: "buffer" });
    expect(hashed.queries).toBeGreaterThanOrEqual(1);
    expect(buffered.inertia).toBeGreaterThan(2 * hashed.inertia);
  });

  it("weights from a column, and clear errors", async () => {
    const sql = await table();
    const r = await fitMiniBatchFromQuery(sql, names, { nClusters: k, randomState: 0, weightColumn: "wt", maxIter: 1 });
    expect(r.clusterWeights.reduce((a, b) => a + b, 0)).toBe(400_000 - 1); // Σ 1 + (i % 3) over 200,000 rows
    await expect(fitMiniBatchFromQuery(sql, ["nope"], { nClusters: 2 })).rejects.toThrow(InputError);
    await expect(fitMiniBatchFromQuery("SELECT NULL::DOUBLE AS a FROM range(10)", ["a"], { nClusters: 2 })).rejects.toThrow(/missing/);
    await expect(fitMiniBatchFromQuery("SELECT 1.0 AS a", ["a"], { nClusters: 2 })).rejects.toThrow(InputError);
    await expect(fitMiniBatchFromQuery(sql, names, { nClusters: 2, weightColumn: "x0" })).rejects.toThrow(/weight/);
  });
});
