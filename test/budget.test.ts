import { describe, expect, it } from "vitest";
import { AgglomerativeClustering, type AgglomerativeProgress, type Linkage } from "../src/cluster/agglomerative.js";
import { estimateAgglomerative, formatBytes, formatCount, formatDuration } from "../src/core/budget.js";
import { AbortError, InputError } from "../src/core/errors.js";
import type { Matrix } from "../src/core/matrix.js";
import { Random } from "../src/core/random.js";

function randomMatrix(n: number, d: number, seed = 1): Matrix {
  const r = new Random(seed);
  const data = new Float64Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = r.random() * 10;
  return { data, rows: n, cols: d };
}

/** The InputError a promise rejects with. */
async function inputError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("expected an InputError, the fit succeeded");
}

describe("estimateAgglomerative: the arrays of the algorithm each linkage runs", () => {
  it("average linkage on 45,000 rows keeps the condensed n(n−1)/2 distances: 8.1 GB", () => {
    const n = 45_000;
    const e = estimateAgglomerative(n, 5, "average");
    // n² = 2.0e9 entries > 2^29: the condensed matrix, 8 bytes a pair.
    expect(e.method).toBe("nn-chain-condensed-matrix");
    expect(e.matrixBytes).toBe(8_099_820_000); // 45,000 · 44,999 / 2 · 8
    // Beyond the matrix: the chain's arrays of n (size 8, active 4, offsets 4, chain 4, + 4) and the tree (108 a row).
    expect(e.bytes).toBe(8_099_820_000 + 24 * n + 108 * n);
    expect(formatBytes(e.bytes)).toBe("8.1 GB");
  });

  it("the full square matrix while it fits (n² ≤ maxSquare and the memory limit), else the condensed one", () => {
    const n = 10_000;
    const full = estimateAgglomerative(n, 5, "complete");
    expect(full.method).toBe("nn-chain-square-matrix");
    expect(full.matrixBytes).toBe(8 * n * n);
    const half = estimateAgglomerative(n, 5, "complete", { memoryLimit: 6e8 });
    expect(half.method).toBe("nn-chain-condensed-matrix");
    expect(half.matrixBytes).toBe(399_960_000); // 10,000 · 9,999 / 2 · 8
    expect(estimateAgglomerative(n, 5, "complete", { maxSquareEntries: n * n - 1 }).method).toBe("nn-chain-condensed-matrix");
  });

  it("ward, centroid and single: memory linear in the rows, no distance matrix", () => {
    const n = 2_000_000;
    const ward = estimateAgglomerative(n, 5, "ward");
    expect(ward.method).toBe("nn-chain-centroids");
    expect(ward.matrixBytes).toBe(0);
    // Centroids n·d doubles; sizes 8, ids 4, positions 4, chain 4 bytes a row; the tree 108 a row.
    expect(ward.bytes).toBe(8 * n * 5 + 20 * n + 108 * n);
    expect(formatBytes(ward.bytes)).toBe("336 MB");
    const centroid = estimateAgglomerative(1000, 4, "centroid");
    expect(centroid.method).toBe("generic-centroids");
    expect(centroid.bytes).toBe(8 * 1000 * 4 + 40 * 1000 + 108 * 1000);
    const single = estimateAgglomerative(1000, 4, "single");
    expect(single.method).toBe("prim-spanning-tree");
    expect(single.bytes).toBe(9 * 1000 + 108 * 1000);
    expect(estimateAgglomerative(1000, 4, "single", { metric: "cosine" }).bytes).toBe(single.bytes + 8 * 1000);
  });

  it("time: quadratic in the rows, shared by threads, and Ward on 2,000,000 rows takes hours", () => {
    for (const linkage of ["ward", "single", "centroid", "average"] as Linkage[]) {
      const a = estimateAgglomerative(4000, 8, linkage).seconds;
      const b = estimateAgglomerative(8000, 8, linkage).seconds;
      expect(b / a).toBeGreaterThan(3.9);
      expect(b / a).toBeLessThan(4.1);
    }
    const one = estimateAgglomerative(100_000, 8, "ward").seconds;
    const two = estimateAgglomerative(100_000, 8, "ward", { threads: 2 }).seconds;
    expect(two / one).toBeGreaterThan(0.49);
    expect(two / one).toBeLessThan(0.52);
    expect(estimateAgglomerative(2_000_000, 5, "ward").seconds).toBeGreaterThan(3600);
    expect(estimateAgglomerative(200, 5, "ward").seconds).toBeLessThan(0.1);
    expect(estimateAgglomerative(1000, 5, "ward", { slowdown: 3 }).seconds / estimateAgglomerative(1000, 5, "ward").seconds).toBeCloseTo(3, 10);
  });
});

describe("sizes and durations in plain words", () => {
  it("formatBytes: decimal units, two significant figures", () => {
    expect(formatBytes(512)).toBe("512 bytes");
    expect(formatBytes(1e6)).toBe("1 MB");
    expect(formatBytes(999_600)).toBe("1 MB");
    expect(formatBytes(12_340_000)).toBe("12 MB");
    expect(formatBytes(5.2e9)).toBe("5.2 GB");
    expect(formatBytes(8_105_760_000)).toBe("8.1 GB");
    expect(formatBytes(1.5e12)).toBe("1.5 TB");
  });

  it("formatDuration: seconds, minutes, hours, days", () => {
    expect(formatDuration(0.2)).toBe("less than a second");
    expect(formatDuration(1.2)).toBe("about 1 second");
    expect(formatDuration(42)).toBe("about 42 seconds");
    expect(formatDuration(240)).toBe("about 4 minutes");
    expect(formatDuration(34_000)).toBe("about 9 hours");
    expect(formatDuration(3 * 86400)).toBe("about 3 days");
    expect(formatCount(2_000_000)).toBe("2,000,000");
    expect(formatCount(450)).toBe("450");
  });
});

describe("AgglomerativeClustering.fit: memoryLimit", () => {
  it("refuses what does not fit, with the estimate, the limit and the ways out", async () => {
    const X = randomMatrix(2000, 3);
    const msg = await inputError(new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(X, { memoryLimit: 1e6 }));
    // 2,000 · 1,999 / 2 · 8 = 16.0 MB (the condensed matrix, as the full one fits even less).
    expect(msg).toContain("agglomerative clustering (average linkage) of 2,000 rows needs about 16 MB for the pairwise distances, more than the 1 MB of memory available");
    expect(msg).toMatch(/cluster a sample of at most \d+ rows/);
    expect(msg).toContain(`use --linkage ward (memory linear in the rows: about ${formatBytes(8 * 2000 * 3 + 128 * 2000)} here) or single`);
    expect(msg).toContain("--algorithm minibatch-kmeans");
    // The sample it suggests fits, one row more does not.
    const m = Number(/at most (\d+) rows/.exec(msg)![1]);
    expect(m).toBeGreaterThan(100);
    const Y = randomMatrix(m + 1, 3, 2);
    const Ym: Matrix = { data: Y.data.subarray(0, m * 3), rows: m, cols: 3 };
    const fitted = await new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(Ym, { memoryLimit: 1e6 });
    expect(fitted.labels.length).toBe(m);
    await inputError(new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(Y, { memoryLimit: 1e6 }));
  });

  it("the issue's case: average linkage on 45,000 rows with 5.2 GB available is refused before any allocation", async () => {
    const X = randomMatrix(45_000, 5);
    const t0 = Date.now();
    const msg = await inputError(new AgglomerativeClustering({ linkage: "average" }).fit(X, { memoryLimit: 5.2e9 }));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(msg).toContain("of 45,000 rows needs about 8.1 GB for the pairwise distances, more than the 5.2 GB of memory available");
    expect(msg).toMatch(/cluster a sample of at most 3\d,000 rows/);
  });

  it("ward and single, linear in memory, suggest a sample or mini-batch K-Means, not another linkage", async () => {
    const X = randomMatrix(2000, 3);
    const msg = await inputError(new AgglomerativeClustering({ linkage: "ward" }).fit(X, { memoryLimit: 10_000 }));
    expect(msg).toContain("agglomerative clustering (ward linkage) of 2,000 rows needs about 304 KB for the cluster centroids and the tree, more than the 10 KB");
    expect(msg).toContain("--algorithm minibatch-kmeans");
    expect(msg).not.toContain("--linkage");
  });

  it("what fits is fitted as without a limit; the condensed matrix when only it fits (same tree)", async () => {
    const X = randomMatrix(300, 4);
    const free = await new AgglomerativeClustering({ linkage: "average", nClusters: 4 }).fit(X, { workers: 0 });
    const exact = estimateAgglomerative(300, 4, "average").bytes;
    const limited = await new AgglomerativeClustering({ linkage: "average", nClusters: 4 }).fit(X, { memoryLimit: exact, workers: 0 });
    expect(Array.from(limited.labels)).toEqual(Array.from(free.labels));
    // Between the condensed and the square estimate: the condensed matrix, the same tree.
    const condensed = estimateAgglomerative(300, 4, "average", { memoryLimit: exact - 1 });
    expect(condensed.method).toBe("nn-chain-condensed-matrix");
    const half = await new AgglomerativeClustering({ linkage: "average", nClusters: 4 }).fit(X, { memoryLimit: condensed.bytes, workers: 0 });
    expect(Array.from(half.linkageMatrix.data)).toEqual(Array.from(free.linkageMatrix.data));
    expect(Array.from(half.labels)).toEqual(Array.from(free.labels));
    await inputError(new AgglomerativeClustering({ linkage: "average" }).fit(X, { memoryLimit: condensed.bytes - 1 }));
    await expect(new AgglomerativeClustering().fit(X, { memoryLimit: -5 })).rejects.toThrow(/memoryLimit must be a positive number of bytes/);
  });

  it("beyond the absolute cap of the distance matrix (2^30 pairs) a fit is refused whatever the memory, with the estimate", async () => {
    const X = randomMatrix(46_500, 1);
    const msg = await inputError(new AgglomerativeClustering({ linkage: "complete" }).fit(X));
    expect(msg).toContain("of 46,500 rows needs about 8.7 GB for the pairwise distances, beyond what this linkage can index (1,073,741,824 pairs)");
    expect(msg).toContain("--linkage ward");
  });
});

describe("AgglomerativeClustering.fit: warnings and progress for long runs", () => {
  it("warns once with the estimated time when it exceeds warnAfterSeconds", async () => {
    const X = randomMatrix(2000, 3);
    const e = estimateAgglomerative(2000, 3, "average");
    const warnings: string[] = [];
    await new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(X, { workers: 0, warnAfterSeconds: e.seconds / 2, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([
      expect.stringContaining(`agglomerative clustering (average linkage) of 2,000 rows × 3 features will take ${formatDuration(e.seconds)} (estimated from the sizes, on one core`),
    ]);
    expect(warnings[0]).toContain("--algorithm minibatch-kmeans");
    warnings.length = 0;
    await new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(X, { workers: 0, warnAfterSeconds: e.seconds * 2, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
    // The default threshold (10 s): a small fit is silent.
    await new AgglomerativeClustering({ linkage: "average", nClusters: 3 }).fit(randomMatrix(200, 3), { onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([]);
  });

  it("Ward on 2,000,000 rows announces hours before it starts (and can be aborted)", async () => {
    const X = randomMatrix(2_000_000, 2);
    const ac = new AbortController();
    const warnings: string[] = [];
    await expect(
      new AgglomerativeClustering({ linkage: "ward" }).fit(X, {
        workers: 0, signal: ac.signal, onWarning: (w) => {
          warnings.push(w);
          ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^agglomerative clustering \(ward linkage\) of 2,000,000 rows × 2 features will take about \d+ hours/);
  });

  it("Ward on many rows reports progress within the first merges and about every 0.1 s, not every 256 merges", async () => {
    const X = randomMatrix(100_000, 50);
    const ac = new AbortController();
    const reports: { p: AgglomerativeProgress; t: number }[] = [];
    const t0 = Date.now();
    await expect(
      new AgglomerativeClustering({ linkage: "ward" }).fit(X, {
        workers: 0, signal: ac.signal, warnAfterSeconds: Infinity, onProgress: (p) => {
          reports.push({ p, t: Date.now() });
          if (reports.length === 3) ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(reports).toHaveLength(3);
    expect(reports[0].p.merges).toBeLessThan(256);
    expect(reports[0].p.phase).toBe("merges");
    expect(reports[0].t - t0).toBeLessThan(1500);
    for (let i = 1; i < reports.length; i++) expect(reports[i].t - reports[i - 1].t).toBeLessThan(1000);
  });

  it("centroid linkage reports progress while it finds the first candidates (half its work, before any merge)", async () => {
    const X = randomMatrix(60_000, 30);
    const ac = new AbortController();
    const reports: AgglomerativeProgress[] = [];
    const t0 = Date.now();
    await expect(
      new AgglomerativeClustering({ linkage: "centroid" }).fit(X, {
        workers: 0, signal: ac.signal, warnAfterSeconds: Infinity, onProgress: (p) => {
          reports.push(p);
          ac.abort();
        },
      }),
    ).rejects.toBeInstanceOf(AbortError);
    expect(reports).toEqual([{ merges: 0, total: 59_999, phase: "merges" }]);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("the distance matrix is a phase of its own in the progress reports", async () => {
    const reports: AgglomerativeProgress[] = [];
    await new AgglomerativeClustering({ linkage: "average", nClusters: 2 }).fit(randomMatrix(500, 3), { workers: 0, onProgress: (p) => reports.push(p) });
    expect(reports[0]).toEqual({ merges: 0, total: 499, phase: "distances", fraction: 0 });
    expect(reports[reports.length - 1]).toEqual({ merges: 499, total: 499, phase: "merges" });
    const fractions = reports.filter((p) => p.phase === "distances").map((p) => p.fraction!);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });
});
