import { describe, expect, it } from "vitest";
import { AgglomerativeClustering } from "../src/cluster/agglomerative.js";
import { calinskiHarabaszScore } from "../src/metrics/calinski-harabasz.js";
import { daviesBouldinScore } from "../src/metrics/davies-bouldin.js";
import { silhouetteScore } from "../src/metrics/silhouette.js";
import { datasetFromRecords, type Dataset } from "../src/core/dataset.js";
import { InputError } from "../src/core/errors.js";
import { Random } from "../src/core/random.js";
import { parseConfig } from "../src/pipeline/config.js";
import { buildModelFile, parseModelFile, predictWithModel } from "../src/pipeline/model.js";
import { runSegmentation } from "../src/pipeline/run.js";

/** Three well-separated groups of customers, with a categorical column that follows them. */
function customers(n = 150, seed = 1): Dataset {
  const rng = new Random(seed);
  const records = Array.from({ length: n }, (_, i) => {
    const g = i % 3;
    return {
      id: `C${String(i).padStart(4, "0")}`,
      spend: [100, 1000, 1900][g] * (1 + 0.03 * rng.normal()),
      visits: [5, 20, 35][g] + rng.normal(),
      plan: ["basic", "plus", "pro"][g],
      joined: Date.UTC(2020, 0, 1 + i),
      constant: 5,
    };
  });
  return datasetFromRecords(records, { id: "id", spend: "numeric", visits: "numeric", plan: "categorical", joined: "datetime", constant: "numeric" }, "customers");
}

describe("runSegmentation", () => {
  it("chooses features by default, recovers the three groups and orders segments by size", async () => {
    const ds = customers();
    const r = await runSegmentation({ k: 3, seed: 7 }, ds);
    const used = r.features.filter((f) => f.used).map((f) => f.name);
    expect(used).toEqual(["spend", "visits", "plan"]);
    expect(r.features.find((f) => f.name === "joined")?.reason).toMatch(/date/);
    expect(r.features.find((f) => f.name === "constant")?.reason).toMatch(/constant/);
    expect(r.idColumn).toBe("id");
    expect(r.featureNames).toEqual(["spend", "visits", "plan=basic", "plan=plus", "plan=pro"]);
    // Every true group maps to exactly one segment.
    for (let g = 0; g < 3; g++) {
      const labels = new Set<number>();
      for (let i = g; i < ds.rows; i += 3) labels.add(r.labels[i]);
      expect(labels.size).toBe(1);
    }
    expect(r.segments.map((s) => s.size)).toEqual([50, 50, 50]);
    expect(r.silhouette).toBeGreaterThan(0.7);
    expect(r.ids[0]).toBe("C0000");
  });

  it("runs mini-batch K-Means with --algorithm minibatch-kmeans, and predicts with the same centers", async () => {
    const ds = customers(600);
    const r = await runSegmentation({ k: 3, seed: 7, algorithm: "minibatch-kmeans", batchSize: 64 }, ds);
    expect(r.segments.map((s) => s.size)).toEqual([200, 200, 200]);
    const full = await runSegmentation({ k: 3, seed: 7 }, ds);
    expect(r.inertia / full.inertia).toBeLessThan(1.02);
    const p = predictWithModel(parseModelFile(JSON.parse(JSON.stringify(buildModelFile(r, ds)))), ds);
    expect(Array.from(p.labels)).toEqual(Array.from(r.labels));
  });

  it("numbers segments from the largest down", async () => {
    const ds = customers(120);
    const r = await runSegmentation({ k: 2, seed: 3, features: ["spend"] }, ds);
    expect(r.segments[0].size).toBeGreaterThanOrEqual(r.segments[1].size);
    const sizes = [0, 0];
    for (const l of r.labels) sizes[l]++;
    expect(sizes).toEqual(r.segments.map((s) => s.size));
  });

  it("is reproducible with a seed", async () => {
    const a = await runSegmentation({ k: 4, seed: 11 }, customers());
    const b = await runSegmentation({ k: 4, seed: 11 }, customers());
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.inertia).toBe(b.inertia);
  });

  it("reports K-Means iterations of the final fit (at most four a second, and the last of each run), and stops when aborted", async () => {
    const seen: { init: number; nInit: number; iteration: number; inertia: number }[] = [];
    const r = await runSegmentation({ k: 3, seed: 2, nInit: 2 }, customers(), { onIteration: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThanOrEqual(4); // the first and the last iteration of each run
    expect(new Set(seen.map((p) => p.init))).toEqual(new Set([0, 1]));
    expect(seen.every((p) => p.nInit === 2 && p.iteration >= 1)).toBe(true);
    // The last report of the winning run carries the final inertia (up to the renumbering of segments).
    expect(seen.filter((p) => p.init === 0).at(-1)!.iteration).toBeGreaterThan(1);
    expect(seen.some((p) => Math.abs(p.inertia - r.inertia) < 1e-9 * r.inertia)).toBe(true);
    const controller = new AbortController();
    controller.abort();
    await expect(runSegmentation({ k: 3 }, customers(), { signal: controller.signal })).rejects.toThrow(/abort/i);
  });

  it("chooses k by silhouette with k = auto", async () => {
    const r = await runSegmentation({ k: "auto", seed: 1, features: ["spend", "visits"] }, customers());
    expect(r.k).toBe(3);
    expect(r.kSearch?.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it("rejects fewer usable rows than k, unknown features and ids, and bad k", async () => {
    const ds = customers(6);
    await expect(runSegmentation({ k: 7 }, ds)).rejects.toThrow(/only 6 usable rows .* k = 7 segments.*lower k /);
    await expect(runSegmentation({ k: 6 }, ds)).rejects.toThrow(/only 6 usable rows .* more rows than segments/);
    await expect(runSegmentation({ k: 2, features: ["nope"] }, ds)).rejects.toThrow(/^features: customers has no column "nope"/);
    await expect(runSegmentation({ k: 2, id: "nope" }, ds)).rejects.toThrow(/^id: customers has no column "nope"/);
    await expect(runSegmentation({ k: 0 }, ds)).rejects.toThrow(InputError);
    await expect(runSegmentation({ k: 2.5 } as never, ds)).rejects.toThrow(/^config\.k: .*a whole number of segments ≥ 2, or "auto"/);
    await expect(runSegmentation({ k: 1 }, ds)).rejects.toThrow(/^config\.k: /);
    // The library's messages speak the library's names, not the command line's flags.
    await expect(runSegmentation({ k: 2, algorithm: "kmodes" as "gmm" }, ds)).rejects.toThrow(/config\.algorithm: .*"kmeans".*"gmm"/);
    for (const config of [{ k: 2.5 }, { k: 7 }, { k: 2, features: ["nope"] }, { k: 2, algorithm: "kmodes" }, { k: 2, seed: -1 }]) {
      await expect(runSegmentation(config as never, ds)).rejects.not.toThrow(/--/);
    }
  });
});

describe("warnings that point to the way out", () => {
  it("names tiny outlier segments, survives a silhouette sample that misses them, and spots repeated ids", async () => {
    const rng = new Random(3);
    const records = Array.from({ length: 3000 }, (_, i) => ({
      invoice: `INV${Math.floor(i / 3)}`, // three rows per invoice: not one row per customer
      amount: i < 2 ? 1e6 : rng.normal(50, 5),
    }));
    const ds = datasetFromRecords(records, { invoice: "id", amount: "numeric" }, "log.csv");
    const warnings: string[] = [];
    const r = await runSegmentation({ k: 2, seed: 1, silhouetteSampleSize: 100 }, ds, { onWarning: (m) => warnings.push(m) });
    expect(r.segments.map((x) => x.size)).toEqual([2998, 2]);
    expect(warnings.join("\n")).toMatch(/segment 1 \(2 rows\) holds under 0\.5 % of the rows: probably outliers/);
    expect(warnings.join("\n")).toMatch(/the id column "invoice" repeats \(1000 distinct values in 3000 rows\)/);
    expect(Number.isNaN(r.silhouette)).toBe(true);
    expect(warnings.join("\n")).toMatch(/silhouette is undefined on a random sample of 100 rows/);
  });
});

describe("columns without any value", () => {
  const records = Array.from({ length: 30 }, (_, i) => ({ id: String(i), x: i % 3 === 0 ? 10 + i / 100 : i / 100, notes: null }));
  const ds = datasetFromRecords(records, { id: "id", x: "numeric", notes: "categorical" }, "t.csv");

  it("are left out of the default features with a warning, as scikit-learn's imputer drops them", async () => {
    const warnings: string[] = [];
    const r = await runSegmentation({ k: 2 }, ds, { onWarning: (m) => warnings.push(m) });
    expect(r.features.find((f) => f.name === "notes")).toMatchObject({ used: false, reason: "no values at all (every row is missing)" });
    expect(warnings).toContain('column "notes" has no values at all and was left out');
  });

  it("are an error when asked for with --features", async () => {
    await expect(runSegmentation({ k: 2, features: ["x", "notes"] }, ds)).rejects.toThrow(/t\.csv: column "notes" has no values in any of its 30 rows; leave it out with --features/);
  });
});

describe("model files", () => {
  it("round-trip through JSON and reproduce the training labels exactly", async () => {
    const ds = customers();
    const r = await runSegmentation({ k: 3, seed: 5 }, ds);
    const file = JSON.parse(JSON.stringify(buildModelFile(r, ds)));
    expect(file.columns).toEqual([
      { name: "spend", kind: "numeric" },
      { name: "visits", kind: "numeric" },
      { name: "plan", kind: "categorical" },
    ]);
    const m = parseModelFile(file);
    const p = predictWithModel(m, ds);
    expect(Array.from(p.labels)).toEqual(Array.from(r.labels));
    expect(p.ids).toEqual(r.ids);
    expect(p.warnings).toEqual([]);
    expect(parseConfig(file.config)).toEqual(r.config);
  });

  it("scores unseen categories and reports them", async () => {
    const ds = customers();
    const r = await runSegmentation({ k: 3, seed: 5 }, ds);
    const m = parseModelFile(JSON.parse(JSON.stringify(buildModelFile(r, ds))));
    const fresh = datasetFromRecords([{ id: "N1", spend: 2100, visits: 39, plan: "enterprise" }], { id: "id", spend: "numeric", visits: "numeric", plan: "categorical" }, "new.csv");
    const p = predictWithModel(m, fresh);
    expect(p.labels[0]).toBe(r.labels[2]); // a big spender, like row 2
    expect(p.warnings.join("\n")).toMatch(/column "plan": 1 rows have categories not seen in training \("enterprise"\)/);
  });

  it("rejects files that are not model files", () => {
    expect(() => parseModelFile({ hello: 1 }, "m.json")).toThrow(/m\.json is not a Segmenta model file/);
    expect(() => parseModelFile({ format: "segmenta-model", version: 99 }, "m.json")).toThrow(/newer than this Segmenta/);
  });
});

describe("rules for the CRM", () => {
  it("the CASE expression, run by DuckDB on the original table, gives each row the first segment whose rules match", async () => {
    const { exec, queryRows, lit } = await import("../src/io/duck.js");
    const { evaluateRules } = await import("../src/profile/rules.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const ds = customers(300, 4);
    const r = await runSegmentation({ k: 3, seed: 1 }, ds);
    expect(r.rulesSql.startsWith("CASE\n  WHEN ")).toBe(true);
    const expected = new Array<number | null>(ds.rows).fill(null);
    for (const s of r.rules.segments) {
      const hit = evaluateRules(ds, s.rules.map((x) => x.conditions));
      for (let i = 0; i < ds.rows; i++) if (hit[i] && expected[i] === null) expected[i] = s.segment;
    }
    // The rules recover these well-separated groups exactly.
    expect(expected).toEqual(Array.from(r.labels));
    const csv = join(mkdtempSync(join(tmpdir(), "segmenta-rules-")), "c.csv");
    const cols = ["id", "spend", "visits", "plan"];
    const lines = [cols.join(",")];
    for (let i = 0; i < ds.rows; i++) lines.push(cols.map((c) => { const v = ds.columns.find((x) => x.name === c)!.values[i]; return String(v); }).join(","));
    writeFileSync(csv, lines.join("\n") + "\n");
    await exec("SELECT 1");
    const rows = await queryRows(`SELECT ${r.rulesSql} FROM read_csv(${lit(csv)}, header = true) ORDER BY id`);
    const sorted = Array.from({ length: ds.rows }, (_, i) => i).sort((a, b) => (r.ids[a] < r.ids[b] ? -1 : 1));
    expect(rows.map((x) => (x.segment === null ? null : Number(x.segment)))).toEqual(sorted.map((i) => expected[i]));
  });
});

describe("agglomerative clustering in the pipeline", () => {
  it("recovers the groups with ward linkage, numbers segments by size, and scores new rows at the nearest segment mean", async () => {
    const ds = customers(150, 2);
    const r = await runSegmentation({ k: 3, algorithm: "agglomerative", linkage: "ward" }, ds);
    for (let g = 0; g < 3; g++) {
      const labels = new Set<number>();
      for (let i = g; i < ds.rows; i += 3) labels.add(r.labels[i]);
      expect(labels.size).toBe(1);
    }
    expect(r.segments.map((s) => s.size)).toEqual([50, 50, 50]);
    // Within-segment sum of squares, computed by hand from the matrix and the labels.
    let ss = 0;
    for (let c = 0; c < 3; c++) {
      const rows = Array.from({ length: ds.rows }, (_, i) => i).filter((i) => r.labels[i] === c);
      for (let j = 0; j < r.matrix.cols; j++) {
        const mean = rows.reduce((a, i) => a + r.matrix.data[i * r.matrix.cols + j], 0) / rows.length;
        for (const i of rows) ss += (r.matrix.data[i * r.matrix.cols + j] - mean) ** 2;
      }
    }
    expect(r.inertia).toBeCloseTo(ss, 9);
    const file = JSON.parse(JSON.stringify(buildModelFile(r, ds)));
    expect(file.model.type).toBe("AgglomerativeClustering");
    const p = predictWithModel(parseModelFile(file), ds);
    // Well-separated groups: the nearest segment mean is the tree's segment for every row.
    expect(Array.from(p.labels)).toEqual(Array.from(r.labels));
  });

  it("k = auto: one tree cut at each k, the indices of each cut, the same segments as a fit with the chosen k", async () => {
    const ds = customers(150, 2);
    const r = await runSegmentation({ k: "auto", algorithm: "agglomerative", linkage: "ward", kRange: { min: 2, max: 6 } }, ds);
    expect(r.kChoice!.evaluations.map((e) => e.k)).toEqual([2, 3, 4, 5, 6]);
    expect(r.k).toBe(3);
    expect(r.kChoice!.gap).toBeNull();
    expect(r.kChoice!.stability).toBeNull();
    expect(r.kChoice!.notes[0]).toMatch(/one tree, cut at each k; the gap statistic and bootstrap stability .* left out/);
    // Each k's indices are those of a fresh fit with that many clusters.
    for (const e of r.kChoice!.evaluations) {
      const fresh = await new AgglomerativeClustering({ nClusters: e.k, linkage: "ward" }).fit(r.matrix);
      expect(e.silhouette).toBeCloseTo(silhouetteScore(r.matrix, fresh.labels), 12);
      expect(e.daviesBouldin).toBeCloseTo(daviesBouldinScore(r.matrix, fresh.labels), 12);
      expect(e.calinskiHarabasz).toBeCloseTo(calinskiHarabaszScore(r.matrix, fresh.labels), 8);
    }
    const fixed = await runSegmentation({ k: 3, algorithm: "agglomerative", linkage: "ward" }, ds);
    expect(Array.from(r.labels)).toEqual(Array.from(fixed.labels));
    expect(r.inertia).toBeCloseTo(fixed.inertia, 9);
  });

  it("rejects an unknown linkage naming the flag", async () => {
    expect(() => parseConfig({ linkage: "nearest" })).toThrow(/^config\.linkage: Invalid option/);
    expect(() => parseConfig({ linkage: "nearest" }, "cli")).toThrow(/^--linkage: /);
  });
});

describe("columns described but not clustered on", () => {
  it("--profile adds an outcome to every segment's profile without making it a feature", async () => {
    const ds = customers(150, 3);
    ds.columns.push({ name: "churned", kind: "boolean", values: Float64Array.from({ length: ds.rows }, (_, i) => (i % 3 === 0 && i % 2 === 0 ? 1 : 0)) });
    const r = await runSegmentation({ k: 3, seed: 7, profile: ["churned"] }, ds);
    expect(r.featureNames).not.toContain("churned");
    // Group 0 (rows 0, 3, 6, …) churns at every even row: half of it; the others never.
    const seg0 = r.labels[0];
    const f = r.profiles.segments.find((s) => s.id === seg0)!.features.find((x) => x.name === "churned")!;
    expect(f.kind === "boolean" && f.mean).toBe(0.5);
    expect(r.segments[seg0].means.churned).toBe(0.5);
    await expect(runSegmentation({ k: 3, profile: ["nope"] }, ds)).rejects.toThrow(/^profile: customers has no column "nope"/);
  });
});
