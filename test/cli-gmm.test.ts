/**
 * Gaussian mixtures end to end (issue #15): cluster --algorithm gmm writes the probability of
 * the assigned segment (and every segment's with --probabilities), --k auto chooses k and the
 * covariance type by BIC, predict gives the same, tune --algorithm gmm prints the evidence.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Random } from "../src/core/random.js";
import { adjustedRandScore } from "../src/metrics/external.js";
import { csvCells, lines, runMain } from "./helpers/cli.js";

let dir: string;
let file: string;
const truth: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-gmm-"));
  const r = new Random(11);
  const rows = ["customer,spend,visits"];
  // Three groups of different shapes: a wide flat one, a tall one, a small round one.
  for (let i = 0; i < 600; i++) {
    const c = i % 3;
    const [x, y] = c === 0 ? [100 + 30 * r.normal(), 10 + 2 * r.normal()] : c === 1 ? [300 + 8 * r.normal(), 40 + 9 * r.normal()] : [180 + 6 * r.normal(), 70 + 2 * r.normal()];
    rows.push(`C${i},${x.toFixed(3)},${y.toFixed(3)}`);
    truth.push(c);
  }
  file = join(dir, "customers.csv");
  writeFileSync(file, rows.join("\n") + "\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function table(path: string): { head: string[]; rows: string[][] } {
  const [head, ...rows] = lines(readFileSync(path, "utf8")).map(csvCells);
  return { head, rows };
}

describe("cluster --algorithm gmm", () => {
  it("--k 3: the three groups, the probability of the assigned segment, and every segment's with --probabilities", async () => {
    const out = join(dir, "gmm.json");
    const csv = join(dir, "gmm.csv");
    const model = join(dir, "gmm-model.json");
    const r = await runMain(["cluster", file, "--id", "customer", "--algorithm", "gmm", "--k", "3", "--out", csv, "--probabilities", "--model", model]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Gaussian mixture: k=3, full covariances, seed 42, \d+ EM iterations, log-likelihood per customer [-\d.]+, BIC [-\d.,]+, AIC [-\d.,]+/);
    expect(r.stdout).toMatch(/\d+ customers? \([\d.]+%\) sits? between segments \(the most probable segment has a probability below 0.6\)/);
    const { head, rows } = table(csv);
    expect(head).toEqual(["customer", "segment", "segment_name", "probability", "probability_0", "probability_1", "probability_2"]);
    for (const row of rows) {
      const p = row.slice(-3).map(Number);
      expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 12);
      const seg = Number(row[1]);
      // The segment is the most probable one, and "probability" is its probability.
      expect(p[seg]).toBe(Math.max(...p));
      expect(Number(row[3])).toBe(p[seg]);
    }
    expect(adjustedRandScore(rows.map((x) => Number(x[1])), truth)).toBeGreaterThan(0.97);
    // The same run as JSON: segments numbered from the largest.
    const j = await runMain(["cluster", file, "--id", "customer", "--algorithm", "gmm", "--k", "3", "--out", out, "--json"]);
    const doc = JSON.parse(j.stdout);
    expect(doc.mixture.covarianceType).toBe("full");
    expect(doc.mixture.selection).toBeNull();
    for (let i = 1; i < doc.segments.length; i++) expect(doc.segments[i].size).toBeLessThanOrEqual(doc.segments[i - 1].size);
    const below = rows.filter((x) => Number(x[3]) < 0.6).length;
    expect(doc.mixture.betweenSegments.count).toBe(below);
  });

  it("predict gives the training rows their segments and probabilities; --probabilities too; other models refuse --probabilities", async () => {
    const model = join(dir, "gmm-model.json");
    const scored = join(dir, "scored.csv");
    const p = await runMain(["predict", "--model", model, file, "--out", scored, "--probabilities"]);
    expect(p.status, p.stderr).toBe(0);
    const a = table(join(dir, "gmm.csv")).rows;
    const b = table(scored);
    expect(b.head).toEqual(["customer", "segment", "segment_name", "probability", "probability_0", "probability_1", "probability_2"]);
    b.rows.forEach((row, i) => {
      expect(row[1]).toBe(a[i][1]);
      for (let c = 3; c < 7; c++) expect(Math.abs(Number(row[c]) - Number(a[i][c]))).toBeLessThan(1e-12);
    });
    const km = join(dir, "km.json");
    expect((await runMain(["cluster", file, "--k", "3", "--model", km])).status).toBe(0);
    const refused = await runMain(["predict", "--model", km, file, "--out", join(dir, "never.csv"), "--probabilities"]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--probabilities gives every segment's probability, which Gaussian-mixture models have; .* holds a KMeans model/);
  });

  it("--k auto: k and the covariance type by BIC, with the table and the reason", async () => {
    const r = await runMain(["cluster", file, "--algorithm", "gmm", "--k", "auto", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const sel = j.mixture.selection;
    expect(sel.kMin).toBe(2);
    expect(sel.kMax).toBe(8);
    expect(sel.table).toHaveLength(7 * 4);
    const best = sel.table.filter((c: { bic: number | null }) => c.bic !== null).sort((x: { bic: number }, y: { bic: number }) => x.bic - y.bic)[0];
    expect([sel.best.k, sel.best.covarianceType]).toEqual([best.k, best.covarianceType]);
    expect(j.k).toBe(sel.best.k);
    expect(j.k).toBe(3);
    expect(sel.best.reason).toMatch(/^BIC is lowest for 3 segments/);
  });

  it("a singular covariance is refused with the flag to change, not NaN", async () => {
    const dup = join(dir, "dup.csv");
    // 40 identical customers and 20 on a line: a component collapses onto the identical ones.
    writeFileSync(dup, ["id,a,b", ...Array.from({ length: 60 }, (_, i) => (i < 40 ? `${i},1,2` : `${i},${i},${2 * i}`))].join("\n") + "\n");
    const r = await runMain(["cluster", dup, "--algorithm", "gmm", "--k", "3", "--reg-covar", "0"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/covariance of component \d+ is not positive definite \(singular\).*increase --reg-covar \(now 0\) or lower --k/);
    const ok = await runMain(["cluster", dup, "--algorithm", "gmm", "--k", "3", "--json"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(Number.isFinite(JSON.parse(ok.stdout).mixture.bic)).toBe(true);
  });

  it("refuses --covariance and --probabilities with other algorithms, and a bad covariance type", async () => {
    const c = await runMain(["cluster", file, "--k", "3", "--covariance", "full"]);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--covariance applies to --algorithm gmm, not kmeans/);
    const rc = await runMain(["cluster", file, "--k", "3", "--reg-covar", "1e-3"]);
    expect(rc.stderr).toMatch(/--reg-covar applies to --algorithm gmm, not kmeans/);
    const p = await runMain(["cluster", file, "--k", "3", "--probabilities", "--out", join(dir, "x.csv")]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/--probabilities .* --algorithm gmm/);
    const t = await runMain(["cluster", file, "--algorithm", "gmm", "--covariance", "round"]);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--covariance \(full, tied, diag or spherical\)/);
  });
});

describe("tune --algorithm gmm", () => {
  it("prints BIC for every k and covariance type and recommends the lowest, with AIC's choice beside", async () => {
    const r = await runMain(["tune", file, "--algorithm", "gmm", "--k", "2..5", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.table).toHaveLength(4 * 4);
    expect(j.recommendation.k).toBe(3);
    expect(j.byAic.criterion).toBe("aic");
    const text = await runMain(["tune", file, "--algorithm", "gmm", "--k", "2..5"]);
    expect(text.stdout).toMatch(/BIC full +BIC tied +BIC diag +BIC spherical/);
    expect(text.stdout).toMatch(/recommended: 3 segments, \w+ covariances/);
    expect(text.stdout).toMatch(/to segment: segmenta cluster .* --algorithm gmm --k 3 --covariance \w+/);
  });
});
