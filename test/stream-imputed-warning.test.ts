/**
 * A streamed cluster (over --memory) counts the missing values it imputes on the streamed pass
 * over every row, and words the counts of the sample it fitted the preprocessing on as the
 * sample's: the file's counts, not the sample's passed off as them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateCustomers, toCsv } from "../src/io/synthetic.js";
import { runMain } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-stream-imputed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("streamed cluster: missing values imputed", () => {
  it("counts the file's missing values on the streamed pass and names the sample's count as the sample's", async () => {
    const table = generateCustomers({ customers: 1500, seed: 5 });
    const file = join(dir, "customers.csv");
    writeFileSync(file, [...toCsv(table)].join(""));
    const age = table.columns.indexOf("age");
    const missing = table.rows.filter((r) => r[age] === null || r[age] === undefined || r[age] === "").length;
    expect(missing).toBeGreaterThan(0);
    const r = await runMain(["cluster", file, "--k", "3", "--memory", "1MB", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`column "age": ${missing} missing values imputed (all 1,500 rows)`);
    // Every other line about age's imputation is the sample's, and says so.
    const ageLines = r.stderr.split("\n").filter((l) => l.includes('column "age"') && l.includes("imputed"));
    for (const l of ageLines) if (!l.includes("(all 1,500 rows)")) expect(l).toMatch(/on the uniform sample of [\d,]+ rows: column "age"/);
  });
});
