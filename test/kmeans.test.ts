import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KMeans, KMeansModel } from "../src/cluster/kmeans.js";
import { loadModel } from "../src/cluster/load.js";
import { InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";

/** One case of test/fixtures/kmeans.json, written by test/fixtures/make_fixtures.py (scikit-learn). */
interface KMeansCase {
  name: string;
  note: string;
  X: number[][];
  sampleWeight?: number[];
  k: number;
  initCenters: number[][];
  maxIter: number;
  tol: number;
  labels: number[];
  cluster_centers: number[][];
  inertia: number;
  n_iter: number;
  stoppedBy: "strict" | "tol" | "maxIter";
  emptyAfterFirstAssignment: number[];
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/kmeans.json", import.meta.url), "utf8")) as {
  meta: Record<string, string>;
  cases: KMeansCase[];
};

/** |a − b| ≤ tol, or relative to |b| when |b| > 1. */
function closeTo(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

function rowsOf(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/** Deterministic pseudo-random blobs for the property tests (not compared with scikit-learn). */
function makeBlobs(n: number, d: number, k: number, spread: number): number[][] {
  let s = 12345;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const centers = Array.from({ length: k }, () => Array.from({ length: d }, () => (rnd() - 0.5) * 8));
  return Array.from({ length: n }, (_, i) => centers[i % k].map((c) => c + spread * gauss()));
}

describe("KMeans equals scikit-learn (fixtures)", () => {
  it("has the fixture cases it should", () => {
    const names = fixture.cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([
      "blobs-separated", "blobs-overlapping", "max-iter-2", "tol-0", "tol-large", "weighted", "weighted-zeros",
      "integers-duplicates", "empty-cluster", "two-empty-clusters", "empty-cluster-zero-weight",
      "empty-cluster-zero-weight-1-iter", "large", "one-feature",
    ]));
    // The cases exercise what their names say (checked in Python when generated).
    const byName = new Map(fixture.cases.map((c) => [c.name, c]));
    expect(byName.get("max-iter-2")!.stoppedBy).toBe("maxIter");
    expect(byName.get("tol-0")!.stoppedBy).toBe("strict");
    expect(byName.get("tol-large")!.stoppedBy).toBe("tol");
    expect(byName.get("empty-cluster")!.emptyAfterFirstAssignment.length).toBeGreaterThan(0);
    expect(byName.get("two-empty-clusters")!.emptyAfterFirstAssignment.length).toBe(2);
    expect(byName.get("empty-cluster-zero-weight")!.emptyAfterFirstAssignment.length).toBeGreaterThan(0);
    expect(byName.get("weighted-zeros")!.sampleWeight!.filter((w) => w === 0).length).toBeGreaterThan(0);
    expect(byName.get("large")!.X.length).toBe(5000);
    expect(byName.get("one-feature")!.X[0].length).toBe(1);
  });

  // Lloyd, and the bound-based variant ("elkan": Hamerly's bounds), must both give Lloyd's result.
  for (const algorithm of ["lloyd", "elkan"] as const) for (const c of fixture.cases) {
    it(`${algorithm}: ${c.name} (n=${c.X.length}, d=${c.X[0].length}, k=${c.k}, ${c.stoppedBy})`, async () => {
      const model = await new KMeans({
        nClusters: c.k,
        init: c.initCenters,
        nInit: 1,
        maxIter: c.maxIter,
        tol: c.tol,
        algorithm,
      }).fit(c.X, { sampleWeight: c.sampleWeight });

      expect(Array.from(model.labels)).toEqual(c.labels);
      expect(model.nIter).toBe(c.n_iter);

      const centers = model.clusterCenters;
      expect([centers.rows, centers.cols]).toEqual([c.k, c.X[0].length]);
      const got = rowsOf(centers);
      const bad: string[] = [];
      for (let i = 0; i < c.k; i++) {
        for (let j = 0; j < centers.cols; j++) {
          const expected = c.cluster_centers[i][j];
          if (!closeTo(got[i][j], expected, 1e-9)) bad.push(`center[${i}][${j}] = ${got[i][j]}, sklearn ${expected}`);
        }
      }
      expect(bad).toEqual([]);

      const relErr = Math.abs(model.inertia - c.inertia) / Math.abs(c.inertia);
      expect(relErr).toBeLessThan(1e-9);
    });
  }
});

describe("KMeans by hand and properties", () => {
  it("1-D [0, 1, 10, 11] with k=2 gives centers 0.5 and 10.5 and inertia 1", async () => {
    const X = [[0], [1], [10], [11]];
    const model = await new KMeans({ nClusters: 2, randomState: 0 }).fit(X);
    const centers = Array.from(model.clusterCenters.data).sort((a, b) => a - b);
    expect(centers).toEqual([0.5, 10.5]);
    expect(model.inertia).toBe(1);
    const l = model.labels;
    expect(l[0]).toBe(l[1]);
    expect(l[2]).toBe(l[3]);
    expect(l[0]).not.toBe(l[2]);
  });

  it("explicit init: two Lloyd iterations by hand", async () => {
    // Centers 0 and 1: first assignment {0}, {1, 10, 11} → centers 0 and 22/3; second
    // assignment {0, 1}, {10, 11} → 0.5 and 10.5; third assignment unchanged → strict stop.
    const model = await new KMeans({ nClusters: 2, init: [[0], [1]], tol: 0 }).fit([[0], [1], [10], [11]]);
    expect(Array.from(model.clusterCenters.data)).toEqual([0.5, 10.5]);
    expect(Array.from(model.labels)).toEqual([0, 0, 1, 1]);
    expect(model.nIter).toBe(3);
    expect(model.inertia).toBe(1);
  });

  it("weights move the center to the weighted mean", async () => {
    const model = await new KMeans({ nClusters: 2, init: [[0], [10]] }).fit([[0], [2], [10], [11]], {
      sampleWeight: [3, 1, 1, 0],
    });
    // Weighted means: (0·3 + 2·1)/4 = 0.5 and 10 (the zero-weight point does not count).
    expect(Array.from(model.clusterCenters.data)).toEqual([0.5, 10]);
    expect(model.inertia).toBeCloseTo(3 * 0.25 + 1 * 2.25 + 0 + 0, 14);
  });

  it("is reproducible with the same randomState (default k-means++ init)", async () => {
    const X = makeBlobs(400, 3, 5, 1.5);
    const a = await new KMeans({ nClusters: 5, randomState: 42 }).fit(X);
    const b = await new KMeans({ nClusters: 5, randomState: 42 }).fit(X);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(Array.from(a.clusterCenters.data)).toEqual(Array.from(b.clusterCenters.data));
    expect(a.inertia).toBe(b.inertia);
    expect(a.nIter).toBe(b.nIter);
  });

  it("nInit: 10 keeps an inertia no worse than nInit: 1 with the same seed", async () => {
    const X = makeBlobs(600, 5, 6, 2.5);
    for (const seed of [1, 2, 3]) {
      const one = await new KMeans({ nClusters: 6, nInit: 1, randomState: seed }).fit(X);
      const ten = await new KMeans({ nClusters: 6, nInit: 10, randomState: seed }).fit(X);
      expect(ten.inertia).toBeLessThanOrEqual(one.inertia);
    }
  });

  it("predict on the training data returns the fitted labels", async () => {
    const X = makeBlobs(300, 4, 4, 2);
    for (const tol of [1e-4, 1e-1]) {
      const model = await new KMeans({ nClusters: 4, randomState: 7, tol }).fit(X);
      expect(Array.from(model.predict(X))).toEqual(Array.from(model.labels));
    }
  });

  it("transform gives Euclidean distances to every center", async () => {
    const X = makeBlobs(120, 3, 3, 1);
    const model = await new KMeans({ nClusters: 3, randomState: 3 }).fit(X);
    const T = model.transform(X);
    expect([T.rows, T.cols]).toEqual([120, 3]);
    const C = rowsOf(model.clusterCenters);
    for (let i = 0; i < X.length; i++) {
      for (let c = 0; c < 3; c++) {
        const expected = Math.sqrt(X[i].reduce((s, x, j) => s + (x - C[c][j]) ** 2, 0));
        expect(T.data[i * 3 + c]).toBeCloseTo(expected, 12);
      }
      // the nearest center is the label
      const row = Array.from(T.data.subarray(i * 3, i * 3 + 3));
      expect(row.indexOf(Math.min(...row))).toBe(model.labels[i]);
    }
    // and distanceToCenter is the distance to the row's own center
    const own = model.distanceToCenter(X);
    for (let i = 0; i < X.length; i++) expect(own[i]).toBeCloseTo(T.data[i * 3 + model.labels[i]], 12);
  });

  it("toJSON → loadModel restores centers and predictions", async () => {
    const X = makeBlobs(200, 2, 3, 1);
    const model = await new KMeans({ nClusters: 3, randomState: 5 }).fit(X);
    const restored = loadModel(JSON.parse(JSON.stringify(model.toJSON())));
    if (!(restored instanceof KMeansModel)) throw new Error("loadModel should restore a KMeansModel");
    expect(Array.from(restored.clusterCenters.data)).toEqual(Array.from(model.clusterCenters.data));
    expect([restored.clusterCenters.rows, restored.clusterCenters.cols]).toEqual([3, 2]);
    expect(restored.inertia).toBe(model.inertia);
    expect(restored.nIter).toBe(model.nIter);
    expect(Array.from(restored.labels)).toEqual(Array.from(model.labels));
    expect(Array.from(restored.predict(X))).toEqual(Array.from(model.predict(X)));
  });

  it("warns when there are fewer distinct points than clusters", async () => {
    const warnings: string[] = [];
    const model = await new KMeans({ nClusters: 3, randomState: 0 }).fit([[1, 1], [1, 1], [1, 1], [2, 2]], {
      onWarning: (m) => warnings.push(m),
    });
    expect(new Set(model.labels).size).toBe(2);
    expect(warnings.some((m) => /distinct clusters/.test(m))).toBe(true);
  });

  it("does not warn on an ordinary fit", async () => {
    const warnings: string[] = [];
    await new KMeans({ nClusters: 2, randomState: 0 }).fit([[0], [1], [10], [11]], { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
  });
});

describe("KMeans input errors", () => {
  const X = [[0, 0], [1, 1], [5, 5]];

  it("rejects more clusters than rows", async () => {
    await expect(new KMeans({ nClusters: 4 }).fit(X)).rejects.toThrow(InputError);
  });

  it("rejects k = 0 and a non-integer k", () => {
    expect(() => new KMeans({ nClusters: 0 })).toThrow(InputError);
    expect(() => new KMeans({ nClusters: 2.5 })).toThrow(InputError);
  });

  it("rejects NaN in X", async () => {
    await expect(new KMeans({ nClusters: 2 }).fit([[0, 0], [1, NaN], [5, 5]])).rejects.toThrow(InputError);
  });

  it("rejects init centers of the wrong shape", async () => {
    await expect(new KMeans({ nClusters: 2, init: [[0, 0]] }).fit(X)).rejects.toThrow(InputError);
    await expect(new KMeans({ nClusters: 2, init: [[0], [1]] }).fit(X)).rejects.toThrow(InputError);
  });

  it("rejects a negative weight", async () => {
    await expect(new KMeans({ nClusters: 2 }).fit(X, { sampleWeight: [1, -1, 1] })).rejects.toThrow(InputError);
  });
});

describe("KMeans progress", () => {
  it("with progressInterval, reports at most that often, and the same fit", async () => {
    const { KMeans } = await import("../src/cluster/kmeans.js");
    const rows = Array.from({ length: 3000 }, (_, i) => [((i * 7919) % 1000) / 10, ((i * 104729) % 997) / 10, i % 3]);
    const every: number[] = [];
    const a = await new KMeans({ nClusters: 6, nInit: 2, randomState: 1, onProgress: (p) => every.push(p.iteration) }).fit(rows);
    const throttled: number[] = [];
    const b = await new KMeans({ nClusters: 6, nInit: 2, randomState: 1, progressInterval: 60_000, onProgress: (p) => throttled.push(p.iteration) }).fit(rows);
    expect(every.length).toBeGreaterThan(2);
    // In a minute: the first and the last iteration of each run.
    expect(throttled).toHaveLength(4);
    expect(throttled[0]).toBe(1);
    expect(throttled[1]).toBeGreaterThan(1);
    expect(throttled[2]).toBe(1);
    expect(throttled[3]).toBeGreaterThan(1);
    // The last report of the best run carries its inertia.
    expect([every.at(-1)]).toEqual([throttled.at(-1)]);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(b.inertia).toBe(a.inertia);
  });
});
