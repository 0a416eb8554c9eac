/**
 * segmenta drift and predict's drift warning (issue #17, point 4): the demo generator's
 * customers, another sample of them (stable) and a planted shift (retrain); --json; a model
 * written before the training distribution was recorded; a model fitted on a transaction
 * log's features, checked on a log.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCustomers, generateTransactions, toCsv } from "../src/io/synthetic.js";
import { modelChecksum } from "../src/pipeline/model.js";
import { lines, runMain, spawnCli } from "./helpers/cli.js";

let dir: string;
let model: string;
let same: string;
let shifted: string;

function write(name: string, table: { columns: string[]; rows: unknown[][] }): string {
  const path = join(dir, name);
  writeFileSync(path, [...toCsv(table)].join(""));
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-drift-"));
  const train = write("train.csv", generateCustomers({ customers: 1200, seed: 7 }));
  same = write("same.csv", generateCustomers({ customers: 1000, seed: 21 }));
  // Planted shift: a 25 % dearer bill and ten years older.
  const t = generateCustomers({ customers: 1000, seed: 21 });
  const spend = t.columns.indexOf("monthly_spend");
  const age = t.columns.indexOf("age");
  for (const row of t.rows) {
    if (typeof row[spend] === "number") row[spend] = Math.round((row[spend] as number) * 125) / 100;
    if (typeof row[age] === "number") row[age] = (row[age] as number) + 10;
  }
  shifted = write("shifted.csv", t);
  model = join(dir, "model.json");
  const c = await runMain(["cluster", train, "--k", "4", "--seed", "1", "--id", "customer_id", "--model", model]);
  expect(c.status, c.stderr).toBe(0);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("segmenta drift", () => {
  it("another sample of the same customers reads stable", async () => {
    const r = await runMain(["drift", "--model", model, same]);
    expect(r.status, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/same\.csv: 1,000 rows against the 1,200 training rows of .*model\.json, fitted \d{4}-\d\d-\d\d$/);
    expect(out[1]).toMatch(/^ {2}column +PSI +reading +bins that moved most/);
    for (const name of ["age", "monthly_spend", "plan", "region", "segment shares"]) {
      expect(out.find((l) => l.trimStart().startsWith(`${name} `)), name).toMatch(/ stable /);
    }
    expect(out.at(-1)).toBe("stable: no column moved past the watch threshold; the model still fits this data");
  });

  it("a planted shift reads retrain, with the bins that moved; --json has every bin", async () => {
    const r = await runMain(["drift", "--model", model, shifted]);
    expect(r.status, r.stderr).toBe(0);
    const out = lines(r.stdout);
    const ageLine = out.find((l) => l.trimStart().startsWith("age "))!;
    expect(ageLine).toMatch(/^ {2}age +\d+\.\d{3} +retrain +≤ [\d.]+: \d+\.\d% → \d+\.\d%/);
    expect(out.at(-1)).toMatch(/^retrain: (age, monthly_spend|monthly_spend, age) moved past 0.25; .*fit the model again/);
    // The columns left alone stay stable.
    expect(out.find((l) => l.trimStart().startsWith("region "))).toMatch(/ stable /);

    const j = await runMain(["drift", "--model", model, shifted, "--json"]);
    expect(j.status, j.stderr).toBe(0);
    const doc = JSON.parse(j.stdout) as {
      rows: number; trainingRows: number; thresholds: { watch: number; retrain: number; epsilon: number };
      features: { feature: string; psi: number; reading: string; bins: { label: string; expected: number; actual: number; term: number }[] }[];
      segments: { feature: string; bins: { label: string }[] }; retrain: string[];
    };
    expect(doc.rows).toBe(1000);
    expect(doc.trainingRows).toBe(1200);
    expect(doc.thresholds).toEqual({ watch: 0.1, retrain: 0.25, epsilon: 0.0001 });
    expect([...doc.retrain].sort()).toEqual(["age", "monthly_spend"]);
    // Ranked by PSI, and each PSI is the sum of its bins' terms, each of them (a − e)·ln(a/e).
    for (let i = 1; i < doc.features.length; i++) expect(doc.features[i - 1].psi).toBeGreaterThanOrEqual(doc.features[i].psi);
    for (const f of doc.features) {
      expect(f.psi).toBeCloseTo(f.bins.reduce((s, b) => s + b.term, 0), 10);
      for (const b of f.bins) expect(b.term).toBeCloseTo((Math.max(b.actual, 1e-4) - Math.max(b.expected, 1e-4)) * Math.log(Math.max(b.actual, 1e-4) / Math.max(b.expected, 1e-4)), 12);
      expect(f.bins.reduce((s, b) => s + b.expected, 0)).toBeCloseTo(1, 10);
    }
    // The segment shares are labelled by the segments' names.
    const names = (JSON.parse(readFileSync(model, "utf8")) as { segments: { name: string }[] }).segments.map((s) => s.name);
    expect(doc.segments.bins.map((b) => b.label)).toEqual(names);
  });

  it("a model written before the training distribution was kept: one line saying to fit again, exit 2", async () => {
    const file = JSON.parse(readFileSync(model, "utf8")) as Record<string, unknown>;
    delete file.distribution;
    file.checksum = modelChecksum(file);
    const old = join(dir, "old.json");
    writeFileSync(old, JSON.stringify(file));
    const r = await runMain(["drift", "--model", old, same]);
    expect(r.status).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/does not record the distribution of its training data .* fit the model again with segmenta cluster/);
    // predict scores with it and says nothing about drift.
    const p = await runMain(["predict", "--model", old, shifted, "--out", join(dir, "old-scored.csv"), "--json"]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stderr).not.toMatch(/drift/);
    expect(JSON.parse(p.stdout)).not.toHaveProperty("drift");
  });

  it("usage errors name the option", async () => {
    const r = await runMain(["drift", same]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--model model\.json/);
    const a = await runMain(["drift", "--model", model, same, "--as-of", "2024-01-01"]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--as-of .* not fitted on one/);
  });
});

describe("predict's drift check", () => {
  it("warns on stderr and in --json past 0.25; nothing for another sample", async () => {
    const quiet = await runMain(["predict", "--model", model, same, "--out", join(dir, "same-scored.csv"), "--json"]);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/drift/);
    const qd = (JSON.parse(quiet.stdout) as { drift: { retrain: string[]; warnings: string[]; features: unknown[] } }).drift;
    expect(qd.retrain).toEqual([]);
    expect(qd.warnings).toEqual([]);
    expect(qd.features.length).toBeGreaterThan(5);

    const loud = await runMain(["predict", "--model", model, shifted, "--out", join(dir, "shifted-scored.csv")]);
    expect(loud.status, loud.stderr).toBe(0);
    const warning = lines(loud.stderr).filter((l) => l.startsWith("warning: drift:"));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/PSI > 0.25\): (age|monthly_spend) \(PSI \d+\.\d{3}; .*segmenta drift/);
    const j = await runMain(["predict", "--model", model, shifted, "--out", join(dir, "shifted-scored.csv"), "--json"]);
    const jd = (JSON.parse(j.stdout) as { drift: { retrain: string[]; warnings: string[] } }).drift;
    expect([...jd.retrain].sort()).toEqual(["age", "monthly_spend"]);
    expect(jd.warnings[0]).toBe(warning[0].replace(/^warning: /, ""));
  });
});

describe("a model fitted on a transaction log's features", () => {
  it("drift computes the features from a log: the same log is stable, a log of bigger orders is not", async () => {
    const MAP = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];
    const log = generateTransactions({ customers: 300, seed: 5 });
    const logPath = write("log.csv", log);
    const txModel = join(dir, "tx-model.json");
    const c = await runMain(["cluster", logPath, "--transactions", ...MAP, "--k", "3", "--seed", "1", "--model", txModel]);
    expect(c.status, c.stderr).toBe(0);
    const stable = await runMain(["drift", "--model", txModel, logPath, "--json"]);
    expect(stable.status, stable.stderr).toBe(0);
    const s = JSON.parse(stable.stdout) as { features: { feature: string; psi: number }[]; rfm: unknown };
    expect(s.rfm).toBeTruthy();
    expect(s.features.map((f) => f.feature)).toEqual(expect.arrayContaining(["recency_days", "frequency", "monetary"]));
    for (const f of s.features) expect(f.psi).toBeCloseTo(0, 12);
    // The same customers ordering three times as much: monetary moves.
    const q = log.columns.indexOf("Quantity");
    const bigger = write("bigger.csv", { columns: log.columns, rows: log.rows.map((r) => r.map((v, i) => (i === q && typeof v === "number" ? v * 3 : v))) });
    const moved = await runMain(["drift", "--model", txModel, bigger, "--json"]);
    expect(moved.status, moved.stderr).toBe(0);
    const mv = JSON.parse(moved.stdout) as { retrain: string[] };
    expect(mv.retrain).toContain("monetary");
    expect(mv.retrain).not.toContain("recency_days");
  });
});

describe("the built binary", () => {
  it("drift --help lists every option; the exit status is 0", () => {
    const h = spawnCli(["drift", "--help"]);
    expect(h.status).toBe(0);
    for (const o of ["--model", "--sheet", "--as-of", "--json", "--debug"]) expect(h.stdout).toContain(o);
    const r = spawnCli(["drift", "--model", model, shifted]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^retrain: /m);
  });
});
