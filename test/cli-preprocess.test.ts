import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-prep-"));

/** 150 customers in two groups with skewed spend, a rare plan, and two extreme rows. */
function writeCustomers(path: string, extremes = true): void {
  const rows = ["id,spend,visits,plan,channel"];
  for (let i = 0; i < 150; i++) {
    const g = i % 2;
    const spend = g ? 20 + (i % 7) * 3 : 400 + (i % 5) * 40;
    rows.push(`C${i},${spend},${g ? 2 + (i % 3) : 12 + (i % 4)},${i === 7 ? "Gold" : g ? "Basic" : "Plus"},${i % 3 ? "web" : "store"}`);
  }
  if (extremes) rows.push("X1,90000,14,Plus,web", "X2,25,400,Basic,store");
  writeFileSync(path, rows.join("\n") + "\n");
}

describe("segmenta cluster: preprocessing flags", () => {
  const file = join(dir, "customers.csv");
  writeCustomers(file);

  it("prints the automatic plan with a reason for each choice", async () => {
    const r = await run(["cluster", file, "--k", "2", "--prep", "auto"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/preprocessing plan \(auto\):/);
    expect(r.out).toMatch(/- log1p \[spend\]: skewness \d+\.\d\d and no negative values/);
    expect(r.out).toMatch(/- one column for two values \[channel\]/);
    expect(r.out).toMatch(/- group rare categories \[plan\]: .*"Gold" 1 row\)/);
    expect(r.out).toMatch(/plan \(categorical\): .*1 rare category grouped as infrequent/);
  });

  it("drops outliers from the fit, marks them in the segments file, and predict marks them the same way", async () => {
    const out = join(dir, "seg.csv");
    const model = join(dir, "model.json");
    const r = await run(["cluster", file, "--k", "2", "--features", "spend,visits", "--outliers", "iqr:drop", "--out", out, "--model", model, "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.outliers).toBe(2);
    const seg = readFileSync(out, "utf8").trim().split("\n");
    expect(seg[0]).toBe("id,segment,segment_name,outlier");
    expect(seg.filter((l) => l.endsWith(",1")).map((l) => l.split(",")[0])).toEqual(["X1", "X2"]);
    const again = join(dir, "again.csv");
    const p = await run(["predict", "--model", model, file, "--out", again]);
    expect(p.code).toBe(0);
    expect(p.err).toMatch(/2 rows are outliers by the training rule \(iqr\)/);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(out, "utf8"));
  });

  it("runs PCA, robust scaling and ordinal codes from flags, and predict reproduces the segments", async () => {
    const out = join(dir, "pca.csv");
    const model = join(dir, "pca.json");
    const r = await run([
      "cluster", file, "--k", "2", "--scale", "robust", "--ordinal", "plan=Basic<Plus<Gold", "--pca", "2", "--whiten", "--out", out, "--model", model, "--json",
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.featureNames).toEqual(["pca0", "pca1"]);
    expect(doc.preprocessing.join("\n")).toMatch(/plan \(ordinal\): .*codes Basic=0, Plus=1, Gold=2, robust/);
    expect(doc.preprocessing.join("\n")).toMatch(/PCA: 2 components of 5 features keep \d+\.\d % of the variance.*whitened/);
    const again = join(dir, "pca-again.csv");
    expect((await run(["predict", "--model", model, file, "--out", again])).code).toBe(0);
    expect(readFileSync(again, "utf8")).toBe(readFileSync(out, "utf8"));
  });

  it("rejects bad values naming the flag", async () => {
    const cases: [string[], RegExp][] = [
      [["--scale", "zscore"], /(^|: )--scale: /],
      [["--impute", "knn"], /(^|: )--impute: /],
      [["--outliers", "iqr:delete"], /(^|: )--outliers \(iqr, zscore or mad, optionally :clip, :drop or :flag\): /],
      [["--min-frequency", "lots"], /(^|: )--min-frequency lots: expected a number$/],
      [["--pca", "9"], /--pca 9: there are only \d+ features to project/],
      [["--whiten"], /(^|: )--whiten needs --pca/],
      [["--ordinal", "plan"], /(^|: )--ordinal plan: expected COLUMN=low<mid<high/],
      [["--ordinal", "plan=Basic<Plus"], /ordinal plan: the value "Gold" is not in the given order/],
      [["--log", "plan"], /(^|: )--log plan: the column is categorical, not numeric$/],
    ];
    for (const [flags, message] of cases) {
      const r = await run(["cluster", file, "--k", "2", ...flags]);
      expect(r.code, flags.join(" ")).toBe(2);
      expect(r.err.split("\n")[0], flags.join(" ")).toMatch(message);
    }
  });
});
