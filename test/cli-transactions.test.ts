/**
 * A model fitted on a transaction log's RFM features scores a transaction log (issue #13):
 * the model records how the features were computed, predict computes them again from the
 * log, as of the log's own date or --as-of, and scores them. Also: tune and cluster on a log
 * say which choices were theirs by default, and the XLSX sheet of a log can be chosen.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runMain } from "./helpers/cli.js";

let dir: string;
let log: string;
const MAP = ["--customer", "Customer", "--date", "Date", "--quantity", "Qty", "--price", "Price", "--invoice", "Invoice"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-tx-"));
  // Three kinds of customer: frequent big spenders, occasional, one-off; dates in 2024.
  const rows = ["Invoice,Customer,Date,Qty,Price"];
  let inv = 0;
  for (let c = 0; c < 60; c++) {
    const kind = c % 3;
    const orders = [12, 4, 1][kind];
    for (let o = 0; o < orders; o++) {
      const day = 1 + ((c * 7 + o * 23) % 300) + (kind === 2 ? 0 : 60);
      const date = new Date(Date.UTC(2024, 0, Math.min(day, 365))).toISOString().slice(0, 10);
      rows.push(`I${++inv},C${String(c).padStart(3, "0")},${date},${[5, 2, 1][kind]},${[40, 12, 9][kind] + (c % 5)}`);
    }
  }
  log = join(dir, "log.csv");
  writeFileSync(log, rows.join("\r\n") + "\r\n"); // saved on Windows
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("predict on a transaction log", () => {
  it("computes the features the model was trained on and reproduces the training segments", async () => {
    const model = join(dir, "model.json");
    const seg = join(dir, "segments.csv");
    const c = await runMain(["cluster", log, "--transactions", ...MAP, "--k", "3", "--model", model, "--out", seg]);
    expect(c.status, c.stderr).toBe(0);
    const recorded = JSON.parse(readFileSync(model, "utf8")).transactions;
    expect(recorded).toEqual({ kind: "rfm", customer: "Customer", date: "Date", quantity: "Qty", price: "Price", invoice: "Invoice" });
    // The features and profile columns were --transactions' defaults: the plan says so.
    expect(c.stdout).toContain("recency_days (numeric): an RFM feature clustered on by default (--features to choose)");
    expect(c.stdout).not.toContain("chosen with --features");

    const scored = join(dir, "scored.csv");
    const p = await runMain(["predict", "--model", model, log, "--out", scored]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^60 customers, as of 2024-12-25 \(the day after the last transaction\)/m);
    expect(readFileSync(scored, "utf8")).toBe(readFileSync(seg, "utf8"));

    // As of a later date every customer is less recent: the scores move, the file is complete.
    const later = join(dir, "later.csv");
    const q = await runMain(["predict", "--model", model, log, "--out", later, "--as-of", "2026-06-01", "--json"]);
    expect(q.status, q.stderr).toBe(0);
    const doc = JSON.parse(q.stdout);
    expect(doc.rfm.asOf).toBe("2026-06-01");
    expect(doc.rows).toBe(60);
    expect(lines(readFileSync(later, "utf8"))).toHaveLength(61);
  });

  it("--as-of with a model not fitted on a log is refused; a log for a customer-table model names both ways", async () => {
    const table = join(dir, "table.csv");
    writeFileSync(table, "id,a,b\n" + Array.from({ length: 30 }, (_, i) => `${i},${i % 3},${(i * 7) % 5}`).join("\n") + "\n");
    const model = join(dir, "table-model.json");
    expect((await runMain(["cluster", table, "--k", "2", "--model", model])).status).toBe(0);
    const r = await runMain(["predict", "--model", model, table, "--out", join(dir, "x.csv"), "--as-of", "2024-01-01"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--as-of dates the features of a transaction log: this model was not fitted on one/);
    const s = await runMain(["predict", "--model", model, log, "--out", join(dir, "y.csv")]);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/lacks the columns "a", "b" that the model needs/);
  });
});
