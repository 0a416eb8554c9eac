/**
 * OPTICS (src/cluster/density/optics.ts): scikit-learn 1.2's results on the fixtures
 * (test/fixtures/density.json), a hand-computed line, a plain O(n²) reference of
 * scikit-learn's compute_optics_graph (argmin over the unprocessed rows), the extractions,
 * worker pools, and the option checks.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { around15, OPTICS } from "../src/cluster/density/optics.js";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { setParallelExecutor } from "../src/core/parallel.js";
import { Random } from "../src/core/random.js";
import { blobs, poolMaker } from "./helpers/workers.js";

interface OpticsFixture {
  params: {
    min_samples: number; max_eps: number | null; metric: string; cluster_method: "xi" | "dbscan"; p?: number;
    xi?: number; predecessor_correction?: boolean; min_cluster_size?: number | null; eps?: number;
  };
  ordering: number[];
  reachability: (number | null)[];
  core_distances: (number | null)[];
  predecessor: number[];
  labels: number[];
  cluster_hierarchy?: number[][];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/density.json", import.meta.url), "utf8")) as {
  cases: { name: string; X: number[][]; optics: OpticsFixture[] }[];
};

const inf = (v: number | null): number => (v === null ? Infinity : v);

describe("OPTICS equals scikit-learn 1.2 on the fixtures", () => {
  for (const c of fixture.cases) {
    for (const f of c.optics) {
      const p = f.params;
      const metric = p.metric === "minkowski" ? "euclidean" : (p.metric as "euclidean" | "manhattan" | "cosine");
      it(`${c.name}: minSamples ${p.min_samples}, maxEps ${p.max_eps ?? "∞"}, ${metric}, ${p.cluster_method}${p.eps !== undefined ? ` eps ${p.eps}` : ""}`, async () => {
        const m = await new OPTICS({
          minSamples: p.min_samples, maxEps: inf(p.max_eps), metric, clusterMethod: p.cluster_method, eps: p.eps ?? null,
          xi: p.xi, predecessorCorrection: p.predecessor_correction, minClusterSize: p.min_cluster_size ?? null,
        }).fit(c.X);
        expect(Array.from(m.ordering)).toEqual(f.ordering);
        for (let i = 0; i < f.reachability.length; i++) {
          const want = inf(f.reachability[i]);
          if (want === Infinity) expect(m.reachability[i]).toBe(Infinity);
          else expect(Math.abs(m.reachability[i] - want), `reachability of row ${i}`).toBeLessThanOrEqual(1e-9);
          const cd = inf(f.core_distances[i]);
          if (cd === Infinity) expect(m.coreDistances[i]).toBe(Infinity);
          else expect(Math.abs(m.coreDistances[i] - cd), `core distance of row ${i}`).toBeLessThanOrEqual(1e-9);
        }
        expect(Array.from(m.predecessor)).toEqual(f.predecessor);
        expect(Array.from(m.labels)).toEqual(f.labels);
        if (p.cluster_method === "xi") expect(m.clusterHierarchy).toEqual(f.cluster_hierarchy ?? []);
        else expect(m.clusterHierarchy).toBeNull();
      });
    }
  }
});

/** scikit-learn's compute_optics_graph, written plainly: all distances, argmin over the unprocessed rows. */
function referenceGraph(X: Matrix, minSamples: number, maxEps: number): { ordering: number[]; reach: number[]; core: number[]; pred: number[] } {
  const { rows: n, cols: d } = X;
  const D = (i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (X.data[i * d + t] - X.data[j * d + t]) ** 2;
    return Math.sqrt(s);
  };
  const core = Array.from({ length: n }, (_, i) => {
    const ds = Array.from({ length: n }, (_, j) => D(i, j)).sort((a, b) => a - b);
    const v = ds[minSamples - 1];
    return v > maxEps ? Infinity : around15(v);
  });
  const reach = new Array<number>(n).fill(Infinity);
  const pred = new Array<number>(n).fill(-1);
  const done = new Array<boolean>(n).fill(false);
  const ordering: number[] = [];
  for (let step = 0; step < n; step++) {
    let p = -1;
    for (let i = 0; i < n; i++) if (!done[i] && (p < 0 || reach[i] < reach[p])) p = i;
    done[p] = true;
    ordering.push(p);
    if (core[p] === Infinity) continue;
    for (let o = 0; o < n; o++) {
      if (done[o] || D(p, o) > maxEps) continue;
      const r = around15(Math.max(D(p, o), core[p]));
      if (r < reach[o]) {
        reach[o] = r;
        pred[o] = p;
      }
    }
  }
  return { ordering, reach, core, pred };
}

describe("OPTICS: hand-computed and reference cases", () => {
  it("two groups on a line", async () => {
    // Core distances (2nd neighbour, itself first) are all 1; from row 0 the group {0,1,2} is
    // reached at 1, the jump to 10 costs 8, then the second group again at 1.
    const X = [[0], [1], [2], [10], [11], [12]];
    const m = await new OPTICS({ minSamples: 2, clusterMethod: "dbscan", eps: 2 }).fit(X);
    expect(Array.from(m.ordering)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(m.coreDistances)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(m.reachability)).toEqual([Infinity, 1, 1, 8, 1, 1]);
    expect(Array.from(m.predecessor)).toEqual([-1, 0, 1, 2, 3, 4]);
    expect(Array.from(m.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    // Cut below every reachability: no segment at all; at 8: one.
    expect(Array.from(m.extractDbscan(0.5))).toEqual([-1, -1, -1, -1, -1, -1]);
    expect(Array.from(m.extractDbscan(8))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("equals the plain reference with ties (a grid with duplicates), maxEps infinite and finite", async () => {
    const rng = new Random(5);
    const rows: number[] = [];
    for (let i = 0; i < 300; i++) rows.push(rng.int(10) * 0.5, rng.int(10) * 0.5);
    const X: Matrix = { data: Float64Array.from(rows), rows: 300, cols: 2 };
    for (const [minSamples, maxEps] of [[4, Infinity], [6, 1.2], [3, 0.5]] as const) {
      const ref = referenceGraph(X, minSamples, maxEps);
      const m = await new OPTICS({ minSamples, maxEps }).fit(X);
      expect(Array.from(m.ordering)).toEqual(ref.ordering);
      expect(Array.from(m.reachability)).toEqual(ref.reach);
      expect(Array.from(m.coreDistances)).toEqual(ref.core);
      expect(Array.from(m.predecessor)).toEqual(ref.pred);
    }
  });

  it("equals the plain reference on blobs in 4-d with a finite maxEps (the heap) and without", async () => {
    const X = blobs(400, 4, 3, 8, 1.5);
    for (const maxEps of [Infinity, 2]) {
      const ref = referenceGraph(X, 7, maxEps);
      const m = await new OPTICS({ minSamples: 7, maxEps }).fit(X);
      expect(Array.from(m.ordering)).toEqual(ref.ordering);
      expect(Array.from(m.reachability)).toEqual(ref.reach);
    }
  });

  it("the extractions agree with the fit's clusterMethod, and a fraction minSamples is resolved as scikit-learn", async () => {
    const X = blobs(500, 2, 4, 3, 1);
    const xi = await new OPTICS({ minSamples: 0.02, xi: 0.08 }).fit(X);
    expect(xi.minSamples).toBe(10); // max(2, ⌊0.02 · 500⌋)
    const again = xi.extractXi({ xi: 0.08 });
    expect(Array.from(again.labels)).toEqual(Array.from(xi.labels));
    expect(again.clusterHierarchy).toEqual(xi.clusterHierarchy);
    const cut = await new OPTICS({ minSamples: 10, clusterMethod: "dbscan", eps: 0.7 }).fit(X);
    expect(Array.from(xi.extractDbscan(0.7))).toEqual(Array.from(cut.labels));
    expect(cut.nClusters).toBeGreaterThan(1);
    expect(xi.reachabilityPlot[0]).toBe(Infinity);
  });

  it("around15 is numpy's around(x, 15)", () => {
    // Values from numpy: np.around(x, 15) for these x.
    expect(around15(0.1 + 0.2)).toBe(0.3);
    expect(around15(1.0000000000000004)).toBe(1);
    expect(around15(12.345678901234567)).toBe(12.345678901234567);
    expect(around15(Infinity)).toBe(Infinity);
    expect(around15(2.5e-16)).toBe(0); // rint(0.25) = 0
    expect(around15(1.5e-15)).toBe(2e-15); // halves to even
  });
});

describe("OPTICS on worker pools", () => {
  const newPool = poolMaker();
  it("the same graph and labels with 0, 1 and 2 workers", async () => {
    const X = blobs(6000, 2, 4, 12, 1);
    setParallelExecutor(null);
    const ref = await new OPTICS({ minSamples: 15, maxEps: 1 }).fit(X);
    for (const size of [1, 2]) {
      const pool = newPool(size);
      setParallelExecutor(pool);
      const m = await new OPTICS({ minSamples: 15, maxEps: 1 }).fit(X);
      expect(pool.runs, "the pool was used").toBeGreaterThan(0);
      expect(Array.from(m.ordering)).toEqual(Array.from(ref.ordering));
      expect(Array.from(m.reachability)).toEqual(Array.from(ref.reachability));
      expect(Array.from(m.labels)).toEqual(Array.from(ref.labels));
    }
    setParallelExecutor(null);
  });
});

describe("OPTICS: options and input checks", () => {
  it("refuses bad options with the option named", async () => {
    expect(() => new OPTICS({ minSamples: 0 })).toThrow(/minSamples/);
    expect(() => new OPTICS({ minSamples: 2.5 })).toThrow(/minSamples/);
    expect(() => new OPTICS({ maxEps: -1 })).toThrow(/maxEps/);
    expect(() => new OPTICS({ xi: 1.5 })).toThrow(/xi must be/);
    expect(() => new OPTICS({ clusterMethod: "dbscan", eps: 2, maxEps: 1 })).toThrow(/eps \(2\) must be at most maxEps/);
    expect(() => new OPTICS({ minClusterSize: 0 })).toThrow(/minClusterSize/);
    expect(() => new OPTICS({ metric: "precomputed" as never })).toThrow(/metric/);
    await expect(new OPTICS({ minSamples: 10 }).fit([[0], [1], [2]])).rejects.toThrow(/minSamples \(10\) must be no greater than the number of rows \(3\)/);
    await expect(new OPTICS().fit([[0, Infinity], [1, 1]])).rejects.toThrow(InputError);
    const controller = new AbortController();
    controller.abort();
    await expect(new OPTICS().fit(blobs(50, 2, 2, 1), { signal: controller.signal })).rejects.toThrow(AbortError);
    const later = new AbortController();
    await expect(new OPTICS().fit(blobs(3000, 2, 2, 1), { signal: later.signal, onProgress: () => later.abort() })).rejects.toThrow(AbortError);
  });

  it("warns when every reachability is infinite; progress ends at the total", async () => {
    const warnings: string[] = [];
    const seen: number[] = [];
    const m = await new OPTICS({ minSamples: 2, maxEps: 0.1 }).fit([[0], [1], [2]], { onWarning: (w) => warnings.push(w), onProgress: (done, total) => seen.push(done / total) });
    expect(Array.from(m.labels)).toEqual([-1, -1, -1]);
    expect(warnings[0]).toMatch(/every reachability is infinite/);
    expect(seen.at(-1)).toBe(1);
  });
});
