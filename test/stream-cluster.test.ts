/**
 * cluster and predict over a memory budget: a small --memory forces the streamed path on a
 * modest table. Labels must equal what predict (in memory) gives with the model written, the
 * streamed aggregates must equal the segments file's own counts and means, and the segments
 * must be close to an in-memory run's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRandom } from "../src/core/random.js";
import { estimateInMemoryBytes, parseMemory } from "../src/io/stream-cluster.js";
import { csvCells, run } from "./helpers/cli.js";

let dir: string;
let file: string;
let plain: string;
const N = 12_000;
/** The true means of a, b, c, d in each of the four generated groups. */
const CENTERS = [[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 0], [6, 0, 0, 6]];

/** A seeded table: an id, four numbers around four centers (some c missing), a plan (gold for group 1). */
function makeTable(n: number, seed: number, withId: boolean): string {
  const rng = makeRandom(seed);
  const lines = [withId ? "customer_id,a,b,c,d,plan" : "a,b,c,d"];
  for (let i = 0; i < n; i++) {
    const g = rng.int(4);
    const v = CENTERS[g].map((m) => m + rng.normal());
    const c = withId && rng.random() < 0.01 ? "" : String(v[2]);
    const plan = g === 1 ? "gold" : rng.random() < 0.5 ? "basic" : "plus";
    lines.push(withId ? `C${String(i).padStart(6, "0")},${v[0]},${v[1]},${c},${v[3]},${plan}` : `${v[0]},${v[1]},${v[2]},${v[3]}`);
  }
  return lines.join("\n") + "\n";
}

function readCsv(path: string): string[][] {
  return readFileSync(path, "utf8").trim().split("\n").map(csvCells);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-stream-"));
  file = join(dir, "customers.csv");
  writeFileSync(file, makeTable(N, 7, true));
  plain = join(dir, "plain.csv");
  writeFileSync(plain, makeTable(N, 8, false));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--memory", () => {
  it("reads sizes in the usual units", () => {
    expect(parseMemory("2GB")).toBe(2e9);
    expect(parseMemory("512MB")).toBe(512e6);
    expect(parseMemory("1.5G")).toBe(1.5e9);
    expect(parseMemory("4GiB")).toBe(4 * 2 ** 30);
    expect(parseMemory(undefined)).toBeUndefined();
    expect(() => parseMemory("lots")).toThrow(/--memory lots: expected a size/);
    expect(() => parseMemory("10KB")).toThrow(/at least 1MB/);
  });

  it("estimates the in-memory path from the rows and the column types", () => {
    // 10,000,000 × 8 numbers took 5.5 GB in memory: the estimate is of that order.
    const e = estimateInMemoryBytes(10_000_000, Array.from({ length: 8 }, () => ({ duckType: "DOUBLE" })));
    expect(e).toBeGreaterThan(4e9);
    expect(e).toBeLessThan(7e9);
    expect(estimateInMemoryBytes(100, [{ duckType: "VARCHAR" }])).toBeGreaterThan(estimateInMemoryBytes(100, [{ duckType: "DOUBLE" }]));
  });
});

describe("streamed cluster (K-Means: sample, then full Lloyd passes)", () => {
  let streamed: Record<string, unknown> & { segments: { segment: number; name: string; size: number; means: Record<string, number>; modes: Record<string, { value: string; share: number }> }[] };
  let inMemory: typeof streamed;
  const seg = (): string => join(dir, "seg.csv");
  const model = (): string => join(dir, "model.json");

  beforeAll(async () => {
    const r = await run(["cluster", file, "--id", "customer_id", "--k", "4", "--memory", "4MB", "--out", seg(), "--model", model(), "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^streamed: .*customers\.csv has 12,000 rows × 6 columns, about .* over the budget of 4 MB \(--memory\)/m);
    streamed = JSON.parse(r.out);
    const m = await run(["cluster", file, "--id", "customer_id", "--k", "4", "--json"]);
    expect(m.code, m.err).toBe(0);
    expect(m.err).not.toMatch(/streamed:/);
    inMemory = JSON.parse(m.out);
  }, 120_000);

  it("says in --json what it streamed", () => {
    const s = streamed.streamed as { rows: number; method: string; passes: number; sampleRows: number; memoryBudget: number; estimatedInMemory: number; describeRows: number };
    expect(s.rows).toBe(N);
    expect(s.method).toBe("lloyd");
    expect(s.passes).toBeGreaterThanOrEqual(1);
    expect(s.sampleRows).toBeLessThan(N);
    expect(s.memoryBudget).toBe(4e6);
    expect(s.estimatedInMemory).toBeGreaterThan(4e6);
    expect(inMemory.streamed).toBeUndefined();
  });

  it("labels every row as predict does with the model it wrote", async () => {
    const pred = join(dir, "pred.csv");
    const p = await run(["predict", file, "--model", model(), "--out", pred]);
    expect(p.code, p.err).toBe(0);
    expect(p.err).not.toMatch(/streamed:/);
    const a = readFileSync(seg(), "utf8");
    expect(a.split("\n").length).toBe(N + 2);
    expect(a).toBe(readFileSync(pred, "utf8"));
  });

  it("gives sizes and means that are the segments file's own (streamed aggregates, not a sample)", () => {
    const labels = readCsv(seg()).slice(1).map((r) => Number(r[1]));
    const rows = readCsv(file).slice(1);
    const k = streamed.segments.length;
    const size = new Array<number>(k).fill(0);
    const sumA = new Array<number>(k).fill(0);
    const sumC = new Array<number>(k).fill(0);
    const nC = new Array<number>(k).fill(0);
    const gold = new Array<number>(k).fill(0);
    rows.forEach((r, i) => {
      const l = labels[i];
      size[l]++;
      sumA[l] += Number(r[1]);
      if (r[3] !== "") {
        sumC[l] += Number(r[3]);
        nC[l]++;
      }
      if (r[5] === "gold") gold[l]++;
    });
    for (const s of streamed.segments) {
      expect(s.size).toBe(size[s.segment]);
      expect(s.means.a).toBeCloseTo(sumA[s.segment] / size[s.segment], 9);
      expect(s.means.c).toBeCloseTo(sumC[s.segment] / nC[s.segment], 9);
      if (s.modes.plan.value === "gold") expect(s.modes.plan.share).toBeCloseTo(gold[s.segment] / size[s.segment], 12);
    }
    // Numbered from the largest, as in memory.
    const sizes = streamed.segments.map((s) => s.size);
    expect([...sizes].sort((x, y) => y - x)).toEqual(sizes);
  });

  it("finds the segments the in-memory run finds: sizes within 1 %, means within 0.05, the same names", () => {
    for (const s of streamed.segments) {
      const twin = inMemory.segments.reduce((best, t) => (dist(t.means, s.means) < dist(best.means, s.means) ? t : best));
      expect(dist(twin.means, s.means)).toBeLessThan(0.05);
      expect(Math.abs(twin.size - s.size)).toBeLessThanOrEqual(0.01 * N);
      expect(s.name).toBe(twin.name);
    }
    expect(Math.abs((streamed.silhouette as number) - (inMemory.silhouette as number))).toBeLessThan(0.02);
    expect(Math.abs((streamed.inertia as number) / (inMemory.inertia as number) - 1)).toBeLessThan(0.02);
    // Rules from the stratified sample still pick their segment out.
    const rules = streamed.rules as { segment: number; recall: number; precision: number }[];
    for (const r of rules) expect(r.recall).toBeGreaterThan(0.9);
    expect((streamed.rulesNotes as string[]).join(" ")).toMatch(/stratified sample/);
  });

  it("predict streams too (--memory), with the same file as in memory", async () => {
    const out = join(dir, "pred-streamed.csv");
    const p = await run(["predict", file, "--model", model(), "--out", out, "--memory", "2MB", "--json"]);
    expect(p.code, p.err).toBe(0);
    expect(p.err).toMatch(/^streamed: .*scored in chunks/m);
    expect(p.err).toMatch(/column "c": \d+ missing values imputed with the training value/);
    const j = JSON.parse(p.out);
    expect(j.rows).toBe(N);
    expect(j.sizes).toEqual(streamed.segments.map((s) => s.size));
    expect(readFileSync(out, "utf8")).toBe(readFileSync(seg(), "utf8"));
  });
});

describe("streamed cluster (mini-batch K-Means)", () => {
  it("labels as predict does, numbers rows in file order, and fits as well as in memory", async () => {
    const out = join(dir, "mb.csv");
    const model = join(dir, "mb.json");
    const r = await run(["cluster", plain, "--k", "4", "--algorithm", "minibatch-kmeans", "--memory", "2MB", "--out", out, "--model", model, "--json"]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.streamed.method).toBe("minibatch");
    expect(j.streamed.rowsStreamed).toBeGreaterThan(0);
    const pred = join(dir, "mb-pred.csv");
    const p = await run(["predict", plain, "--model", model, "--out", pred]);
    expect(p.code, p.err).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toBe(readFileSync(pred, "utf8"));
    // No id column: rows are numbered 1…n in the file's order.
    const rows = text.trim().split("\n").slice(1).map((l) => Number(l.split(",")[0]));
    expect(rows).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    const m = await run(["cluster", plain, "--k", "4", "--algorithm", "minibatch-kmeans", "--json"]);
    expect(m.code, m.err).toBe(0);
    expect(j.inertia / JSON.parse(m.out).inertia).toBeLessThan(1.02);
  }, 120_000);
});

describe("predict streams any model", () => {
  it("Gaussian mixture (every probability) and DBSCAN (outliers): the same file as in memory", async () => {
    for (const [algorithm, extra] of [["gmm", ["--k", "3"]], ["dbscan", []]] as const) {
      const model = join(dir, `${algorithm}.json`);
      const c = await run(["cluster", file, "--id", "customer_id", "--algorithm", algorithm, ...extra, "--model", model]);
      expect(c.code, c.err).toBe(0);
      const more = algorithm === "gmm" ? ["--probabilities"] : [];
      const a = join(dir, `${algorithm}-mem.csv`);
      const b = join(dir, `${algorithm}-streamed.csv`);
      const p = await run(["predict", file, "--model", model, "--out", a, ...more]);
      expect(p.code, p.err).toBe(0);
      const s = await run(["predict", file, "--model", model, "--out", b, "--memory", "1MB", ...more]);
      expect(s.code, s.err).toBe(0);
      expect(s.err).toMatch(/streamed:/);
      const text = readFileSync(b, "utf8");
      expect(text.split("\n")[0]).toBe(algorithm === "gmm" ? "customer_id,segment,segment_name,probability,probability_0,probability_1,probability_2" : "customer_id,segment,segment_name,outlier");
      expect(text).toBe(readFileSync(a, "utf8"));
    }
  }, 180_000);
});

describe("algorithms that cannot stream", () => {
  it("are refused with the budget and the ways out", async () => {
    const r = await run(["cluster", file, "--id", "customer_id", "--k", "3", "--algorithm", "agglomerative", "--memory", "2MB"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--algorithm agglomerative needs every row in memory: .*12,000 rows × 6 columns, about .* over the budget of 2 MB \(--memory\); cluster a sample .*minibatch-kmeans/);
    expect(r.err.split("\n").length).toBe(1);
  });

  it("--previous (stable ids) is refused on a streamed run, naming the budget", async () => {
    const before = join(dir, "before.json");
    expect((await run(["cluster", file, "--id", "customer_id", "--k", "3", "--model", before])).code).toBe(0);
    const r = await run(["cluster", file, "--id", "customer_id", "--k", "3", "--memory", "2MB", "--previous", before, "--out", join(dir, "never.csv")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--previous: .*customers\.csv is over the memory budget \(--memory\) and would be streamed.*raise --memory/);
    expect(r.err.split("\n").length).toBe(1);
    expect(() => readFileSync(join(dir, "never.csv"))).toThrow();
  }, 60_000);
});

function dist(a: Record<string, number>, b: Record<string, number>): number {
  return Math.max(...["a", "b", "c", "d"].map((f) => Math.abs(a[f] - b[f])));
}
