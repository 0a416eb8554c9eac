/**
 * Density-based segments end to end (issue #14): cluster --algorithm dbscan | hdbscan |
 * optics writes outliers as segment −1 with the outlier flag and the outliers' name, the
 * console and --json say how the segments were found and give both silhouettes, predict
 * scores new customers by each model's rule, and tune --algorithm dbscan shows eps on evidence.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adjustedRandScore } from "../src/metrics/external.js";
import { Random } from "../src/core/random.js";
import { csvCells as cells, lines, runMain } from "./helpers/cli.js";

let dir: string;
let file: string;
/** The blob of each row (0, 1, 2), −1 for the far-away customers. */
const truth: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-density-"));
  const r = new Random(7);
  const rows = ["customer,spend,visits"];
  const centres = [[100, 10], [300, 40], [100, 60]];
  for (let i = 0; i < 450; i++) {
    const c = i % 3;
    rows.push(`C${i},${(centres[c][0] + 12 * r.normal()).toFixed(3)},${(centres[c][1] + 3 * r.normal()).toFixed(3)}`);
    truth.push(c);
  }
  // Customers far from everyone: a one-off wholesaler, a few odd accounts.
  const far = [[900, 5], [850, 95], [-200, 120], [600, 130], [950, -40], [-250, -50]];
  far.forEach(([s, v], j) => {
    rows.push(`F${j},${s},${v}`);
    truth.push(-1);
  });
  file = join(dir, "customers.csv");
  writeFileSync(file, rows.join("\n") + "\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function readSegments(path: string): { head: string[]; rows: string[][] } {
  const [head, ...rows] = lines(readFileSync(path, "utf8")).map(cells);
  return { head, rows };
}

describe("cluster --algorithm dbscan", () => {
  it("finds the three groups, sets the far customers apart as outliers, and writes them as segment -1", async () => {
    const out = join(dir, "dbscan.csv");
    const model = join(dir, "dbscan.json");
    const r = await runMain(["cluster", file, "--id", "customer", "--algorithm", "dbscan", "--out", out, "--model", model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/DBSCAN: eps [\d.]+, minSamples 5: 3 segments and \d+ outliers/);
    expect(r.stdout).toMatch(/rises steeply after/);
    expect(r.stdout).toMatch(/silhouette score of the segments: [\d.]+ \(outliers left out\); counting the outliers as one more group: [\d.-]+/);
    const { head, rows } = readSegments(out);
    expect(head).toEqual(["customer", "segment", "segment_name", "outlier"]);
    expect(rows).toHaveLength(456);
    // Every far customer is an outlier, flagged, under the outliers' name.
    for (const row of rows.filter((x) => x[0].startsWith("F"))) {
      expect(row[1]).toBe("-1");
      expect(row[3]).toBe("1");
      expect(row[2]).toMatch(/^Outliers/);
    }
    // The flag is exactly "segment -1".
    for (const row of rows) expect(row[3]).toBe(row[1] === "-1" ? "1" : "0");
    // The segments are the blobs: perfect agreement on the customers in segments, and few blob customers lost.
    const inSeg = rows.map((x, i) => [Number(x[1]), truth[i]]).filter(([l, t]) => l >= 0 && t >= 0);
    expect(inSeg.length).toBeGreaterThan(430);
    expect(adjustedRandScore(inSeg.map((x) => x[0]), inSeg.map((x) => x[1]))).toBe(1);
  });

  it("--json carries the outliers' group and the density parameters; predict reproduces the training segments and sends far customers to -1", async () => {
    const model = join(dir, "dbscan2.json");
    const r = await runMain(["cluster", file, "--id", "customer", "--algorithm", "dbscan", "--eps", "0.3", "--min-samples", "8", "--model", model, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.algorithm).toBe("dbscan");
    expect(j.density.eps).toBe(0.3);
    expect(j.density.minSamples).toBe(8);
    expect(j.density.epsReason).toMatch(/^eps 0.3 was given/);
    expect(j.noise.segment).toBe(-1);
    expect(j.noise.size).toBe(j.density.outliers);
    expect(j.segments.reduce((a: number, s: { size: number }) => a + s.size, 0) + j.noise.size).toBe(456);
    // Segments are numbered from the largest.
    for (let i = 1; i < j.segments.length; i++) expect(j.segments[i].size).toBeLessThanOrEqual(j.segments[i - 1].size);

    const fresh = join(dir, "fresh.csv");
    writeFileSync(fresh, "customer,spend,visits\nN1,100,10\nN2,300,40\nN3,2000,500\n");
    const out = join(dir, "fresh-scored.csv");
    const p = await runMain(["predict", "--model", model, fresh, "--out", out]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/DBSCAN gives a new customer the segment of the nearest core customer within eps \(0.3\), else marks it an outlier/);
    const { head, rows } = readSegments(out);
    expect(head).toEqual(["customer", "segment", "segment_name", "outlier"]);
    expect(rows[0][1]).not.toBe("-1");
    expect(rows[1][1]).not.toBe("-1");
    expect(rows[0][1]).not.toBe(rows[1][1]);
    expect(rows[2].slice(1)).toEqual(["-1", j.noise.name, "1"]);

    // On the training file predict gives the training segments (core customers exactly; borders may go to either neighbour).
    const again = join(dir, "again.csv");
    expect((await runMain(["predict", "--model", model, file, "--out", again])).status).toBe(0);
    const scored = readSegments(again).rows;
    const cl = await runMain(["cluster", file, "--id", "customer", "--algorithm", "dbscan", "--eps", "0.3", "--min-samples", "8", "--out", join(dir, "same.csv")]);
    expect(cl.status).toBe(0);
    const same = readSegments(join(dir, "same.csv")).rows;
    let agree = 0;
    same.forEach((row, i) => { if (row[1] === scored[i][1]) agree++; });
    expect(agree / same.length).toBeGreaterThan(0.99);
  });

  it("a model file records the outliers' name; a damaged record of it is refused by field", async () => {
    const model = join(dir, "dbscan.json");
    const json = JSON.parse(readFileSync(model, "utf8"));
    expect(json.model.type).toBe("DBSCAN");
    expect(json.noise.name).toMatch(/^Outliers/);
    expect(json.noise.size).toBeGreaterThanOrEqual(6);
    const bad = join(dir, "bad-noise.json");
    writeFileSync(bad, JSON.stringify({ ...json, noise: { ...json.noise, size: -3 } }));
    const r = await runMain(["predict", "--model", bad, file, "--out", join(dir, "never.csv")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/noise\.size is -3; expected a whole number of rows/);
  });

  it("refuses --k, flags of other algorithms and a bad eps, naming the flag", async () => {
    const k = await runMain(["cluster", file, "--algorithm", "dbscan", "--k", "3"]);
    expect(k.status).toBe(2);
    expect(k.stderr).toMatch(/--k does not apply to --algorithm dbscan.*--eps and --min-samples/);
    const mcs = await runMain(["cluster", file, "--algorithm", "dbscan", "--min-cluster-size", "10"]);
    expect(mcs.status).toBe(2);
    expect(mcs.stderr).toMatch(/--min-cluster-size applies to --algorithm hdbscan or optics, not dbscan/);
    const eps = await runMain(["cluster", file, "--algorithm", "dbscan", "--eps", "-1"]);
    expect(eps.status).toBe(2);
    expect(eps.stderr).toMatch(/--eps/);
    const km = await runMain(["cluster", file, "--eps", "0.5"]);
    expect(km.status).toBe(2);
    expect(km.stderr).toMatch(/--eps applies to --algorithm dbscan or optics, not kmeans/);
  });

  it("says so, with the way out, when every customer is an outlier", async () => {
    const r = await runMain(["cluster", file, "--algorithm", "dbscan", "--eps", "0.0001", "--min-samples", "20"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DBSCAN found no segment at eps 0.0001 with minSamples 20: all 456 customers are outliers; raise --eps or lower --min-samples/);
  });
});

describe("cluster --algorithm hdbscan and optics", () => {
  it("hdbscan: the three groups, probabilities in [0, 1] (0 exactly for outliers), and predict with probabilities", async () => {
    const out = join(dir, "hdb.csv");
    const model = join(dir, "hdb.json");
    const r = await runMain(["cluster", file, "--id", "customer", "--algorithm", "hdbscan", "--min-cluster-size", "20", "--out", out, "--model", model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/HDBSCAN: minClusterSize 20, minSamples 5, eom selection: 3 segments and \d+ outliers/);
    const { head, rows } = readSegments(out);
    expect(head).toEqual(["customer", "segment", "segment_name", "outlier", "probability"]);
    for (const row of rows) {
      const p = Number(row[4]);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
      if (row[1] === "-1") expect(p).toBe(0);
      else expect(p).toBeGreaterThan(0);
    }
    for (const row of rows.filter((x) => x[0].startsWith("F"))) expect(row[1]).toBe("-1");
    const inSeg = rows.map((x, i) => [Number(x[1]), truth[i]]).filter(([l, t]) => l >= 0 && t >= 0);
    expect(adjustedRandScore(inSeg.map((x) => x[0]), inSeg.map((x) => x[1]))).toBe(1);

    const scored = join(dir, "hdb-scored.csv");
    const p = await runMain(["predict", "--model", model, file, "--out", scored]);
    expect(p.status, p.stderr).toBe(0);
    const s = readSegments(scored);
    expect(s.head).toEqual(["customer", "segment", "segment_name", "outlier", "probability"]);
    let agree = 0;
    s.rows.forEach((row, i) => { if (row[1] === rows[i][1]) agree++; });
    expect(agree / rows.length).toBeGreaterThan(0.97);
  });

  it("optics: segments from the reachability plot, outliers flagged; predict by the reach rule", async () => {
    const out = join(dir, "optics.csv");
    const model = join(dir, "optics.json");
    const r = await runMain(["cluster", file, "--id", "customer", "--algorithm", "optics", "--min-samples", "10", "--min-cluster-size", "40", "--out", out, "--model", model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OPTICS: minSamples 10, segments read off the reachability plot/);
    const { rows } = readSegments(out);
    for (const row of rows.filter((x) => x[0].startsWith("F"))) expect(row[1]).toBe("-1");
    const scored = join(dir, "optics-scored.csv");
    expect((await runMain(["predict", "--model", model, file, "--out", scored])).status).toBe(0);
    const s = readSegments(scored).rows;
    for (const row of s.filter((x) => x[0].startsWith("F"))) expect(row[1]).toBe("-1");
  });
});

describe("tune --algorithm dbscan", () => {
  it("shows the suggested eps with its reason and DBSCAN around it; the row at the suggestion matches cluster's result", async () => {
    const r = await runMain(["tune", file, "--id", "customer", "--algorithm", "dbscan", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.suggestedEps).toBeGreaterThan(0);
    expect(j.reason).toMatch(/knee/);
    const at = j.candidates.find((c: { eps: number }) => c.eps === j.suggestedEps);
    expect(at).toBeDefined();
    expect(at.segments).toBe(j.segments.length);
    expect(at.outliers).toBe(j.outliers.size);
    // Larger eps never leaves more outliers (neighbourhoods only grow).
    for (let i = 1; i < j.candidates.length; i++) expect(j.candidates[i].outliers).toBeLessThanOrEqual(j.candidates[i - 1].outliers);
    const k = await runMain(["tune", file, "--algorithm", "dbscan", "--k", "2..5"]);
    expect(k.status).toBe(2);
    const h = await runMain(["tune", file, "--algorithm", "hdbscan"]);
    expect(h.status).toBe(2);
    expect(h.stderr).toMatch(/--min-cluster-size/);
  });
});
