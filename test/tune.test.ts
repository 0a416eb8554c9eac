/**
 * `segmenta tune` end to end: the JSON document, the text report, the SVG charts, and the
 * one-line errors of --k A..B; and `cluster --k auto`, which makes the same choice. Most
 * cases call `main` in-process; one spawns the built binary (run `npm run build` first) to
 * check the default chart folder (the current one) and the real exit status.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKRange } from "../src/cli/tune.js";
import { Random } from "../src/core/random.js";
import { lines, runMain, spawnCli } from "./helpers/cli.js";

let dir: string;
let csv: string;
let outCount = 0;

/** Four well-separated groups of 50 customers in two features, with an id column. */
function blobsCsv(): string {
  const rng = new Random(17);
  const centers = [[20, 80], [80, 80], [20, 20], [80, 20]];
  const rows = ["customer_id,spend,visits"];
  for (let i = 0; i < 200; i++) {
    const c = centers[i % 4];
    rows.push(`C${String(i).padStart(4, "0")},${(c[0] + 4 * rng.normal()).toFixed(3)},${(c[1] + 4 * rng.normal()).toFixed(3)}`);
  }
  return rows.join("\n") + "\n";
}

function outDir(): string {
  const d = join(dir, `out-${++outCount}`);
  mkdirSync(d);
  return d;
}

function expectSvgFile(path: string): void {
  expect(existsSync(path), path).toBe(true);
  const text = readFileSync(path, "utf8");
  expect(text.trimStart()).toMatch(/^<svg[\s>]/);
  expect(text.trimEnd()).toMatch(/<\/svg>$/);
}

const FAST = ["--gap-references", "3", "--bootstrap", "3"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-tune-"));
  csv = join(dir, "customers.csv");
  writeFileSync(csv, blobsCsv());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("segmenta tune", () => {
  it("--json prints one JSON document with every index per k, the recommendation, and writes the charts", async () => {
    const charts = outDir();
    const r = await runMain(["tune", csv, "--algorithm", "kmeans", "--k", "2..6", "--seed", "3", "--charts", charts, "--json", ...FAST]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual([
      "file", "rows", "idColumn", "features", "featureNames", "preprocessing", "algorithm", "seed", "nInit", "kRange",
      "silhouetteSample", "evaluations", "kOne", "elbow", "gap", "stability", "recommendation", "alternative", "segments", "notes", "warnings", "charts",
    ]);
    expect(doc).toMatchObject({ file: csv, rows: 200, idColumn: "customer_id", features: ["spend", "visits"], algorithm: "kmeans", seed: 3, kRange: { min: 2, max: 6 } });
    expect(doc.evaluations.map((e: { k: number }) => e.k)).toEqual([2, 3, 4, 5, 6]);
    for (const e of doc.evaluations) {
      for (const key of ["inertia", "silhouette", "daviesBouldin", "calinskiHarabasz", "gap", "gapSe", "stability", "stabilityMin"]) {
        expect(typeof e[key], `${key} at k=${e.k}`).toBe("number");
      }
    }
    expect(doc.recommendation.k).toBe(4);
    expect(doc.recommendation.reasons[0]).toMatch(/^k=4: \d of 5 methods point to it/);
    expect(Object.keys(doc.recommendation.votes)).toEqual(["silhouette", "daviesBouldin", "calinskiHarabasz", "elbow", "gap"]);
    expect(doc.elbow.k).toBe(4);
    expect(doc.gap).toMatchObject({ k: 4, references: 3 });
    expect(doc.stability).toMatchObject({ resamples: 3, threshold: 0.75 });
    expect(doc.segments).toHaveLength(4);
    expect(doc.charts).toEqual({ elbow: join(charts, "tune-elbow.svg"), indices: join(charts, "tune-indices.svg"), gap: join(charts, "tune-gap.svg") });
    for (const p of Object.values(doc.charts) as string[]) expectSvgFile(p);
    expect(readdirSync(charts).sort()).toEqual(["tune-elbow.svg", "tune-gap.svg", "tune-indices.svg"]);
  });

  it("prints a table of k against every index and the reasons, and writes no chart unless --charts is given", () => {
    const cwd = outDir();
    const r = spawnCli(["tune", csv, "--k", "2..5", ...FAST, "--gap-references", "0"], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/customers\.csv: 200 rows/);
    const header = out.find((l) => l.trim().startsWith("k "))!;
    for (const col of ["inertia", "silhouette", "Davies–Bouldin", "Calinski–Harabasz", "stability", "weakest", "votes"]) expect(header).toContain(col);
    expect(header).not.toContain("gap");
    expect(out.some((l) => /^\s*→ 4\s/.test(l))).toBe(true);
    expect(out).toContain("recommended k: 4");
    expect(out.some((l) => /^\s+- silhouette is highest at k=4/.test(l))).toBe(true);
    // The plan is printed as cluster prints it.
    expect(out).toContain("features:");
    expect(out.some((l) => l.startsWith("preprocessing plan ("))).toBe(true);
    expect(out).toContain("charts: add --charts DIR to write the elbow, indices and gap charts as SVG files");
    expect(readdirSync(cwd)).toEqual([]);
  });

  const bad: [string[], RegExp][] = [
    [["--k", "2-10"], /--k 2-10: give the range of k to try as A\.\.B with whole numbers, e\.g\. --k 2\.\.10/],
    [["--k", "auto"], /--k auto: give the range of k to try as A\.\.B/],
    [["--k", "1..6"], /--k 1\.\.6: the smallest k must be at least 2/],
    [["--k", "8..3"], /--k 8\.\.3: the smallest k \(8\) is larger than the largest \(3\); write --k 3\.\.8/],
    [["--k", "2..x"], /--k 2\.\.x: give the range/],
    [["--algorithm", "kmodes"], /--algorithm: Invalid option: expected one of "kmeans".*"gmm"/],
    [["--bootstrap", "-1"], /--bootstrap -1: give a whole number ≥ 0/],
  ];
  for (const [args, message] of bad) {
    it(`rejects ${args.join(" ")} with exit status 2 and one line`, async () => {
      const charts = outDir();
      const r = await runMain(["tune", csv, "--charts", charts, ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/^segmenta tune: /);
      expect(r.stderr).toMatch(message);
      expect(readdirSync(charts)).toEqual([]);
    });
  }

  it("rejects a --charts folder that does not exist before reading the data", async () => {
    const r = await runMain(["tune", join(dir, "nope.csv"), "--charts", join(dir, "missing")]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/--charts .*missing.*does not exist/);
  });

  it("the built binary exits 2 on a bad range", () => {
    const r = spawnCli(["tune", csv, "--k", "5"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)).toEqual(["segmenta tune: --k 5: give the range of k to try as A..B with whole numbers, e.g. --k 2..10"]);
  });

  it("parseKRange reads A..B with spaces and leaves an absent option undefined", () => {
    expect(parseKRange("2..10")).toEqual({ min: 2, max: 10 });
    expect(parseKRange(" 3 .. 3 ")).toEqual({ min: 3, max: 3 });
    expect(parseKRange(undefined)).toBeUndefined();
  });
});

describe("segmenta cluster --k auto", () => {
  it("chooses k with the same machinery and reports the indices and the reasons", async () => {
    const r = await runMain(["cluster", csv, "--k", "auto", "--seed", "3", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.k).toBe(4);
    expect(doc.kSearch.map((s: { k: number }) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(doc.kSearch[0]).toHaveProperty("gap");
    expect(doc.kSearch[0]).toHaveProperty("stability");
    expect(doc.kRecommendation.k).toBe(4);
    expect(doc.kRecommendation.reasons[0]).toMatch(/^k=4: /);
    const text = await runMain(["cluster", csv, "--k", "auto", "--seed", "3"]);
    expect(text.stdout).toMatch(/choice of k over 2\.\.8/);
    expect(text.stdout).toMatch(/ {2}- k=4: \d of 5 methods point to it/);
  });
});

describe("segmenta tune --algorithm agglomerative", () => {
  it("cuts one tree at each k and recommends by the indices, saying what is left out", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "segmenta-tune-agg-"));
    const f = join(tmp, "blobs.csv");
    const rows = ["id,a,b"];
    for (let i = 0; i < 90; i++) {
      const g = i % 3;
      rows.push(`${i},${[0, 10, 20][g] + ((i * 37) % 11) / 10},${[0, 15, 5][g] + ((i * 53) % 13) / 10}`);
    }
    writeFileSync(f, rows.join("\n") + "\n");
    const r = await runMain(["tune", f, "--algorithm", "agglomerative", "--linkage", "average", "--k", "2..5", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.algorithm).toBe("agglomerative");
    expect(doc.evaluations.map((e: { k: number }) => e.k)).toEqual([2, 3, 4, 5]);
    expect(doc.recommendation.k).toBe(3);
    expect(doc.gap).toBeNull();
    expect(doc.notes[0]).toMatch(/average linkage\): one tree, cut at each k/);
    const text = await runMain(["tune", f, "--algorithm", "agglomerative", "--k", "2..5"]);
    expect(text.stdout).toMatch(/agglomerative clustering \(ward linkage\): one tree, cut at each k/);
    expect(text.stdout).toContain("recommended k: 3");
  });
});
