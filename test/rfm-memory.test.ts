/**
 * rfm --memory (issue #19: 100,000,000 transactions within 4 GB): DuckDB, which computes the
 * features, is held to a share of the budget and spills beyond it. The features do not depend
 * on the budget; a budget that is not a size is one line naming --memory.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duck } from "../src/io/duck.js";
import { lines, runMain } from "./helpers/cli.js";

let dir: string;
let log: string;
const MAP = ["--customer", "Customer", "--date", "Date", "--quantity", "Qty", "--price", "Price", "--invoice", "Invoice", "--product", "Sku"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-rfm-memory-"));
  const rows = ["Invoice,Customer,Date,Qty,Price,Sku"];
  for (let i = 0; i < 3000; i++) {
    const c = (i * 7919) % 250;
    const day = 1 + ((i * 37) % 360);
    const date = new Date(Date.UTC(2024, 0, day)).toISOString().slice(0, 10);
    const qty = i % 41 === 0 ? -1 : 1 + (i % 4);
    rows.push(`${i % 41 === 0 ? "C" : ""}I${Math.floor(i / 3)},C${c},${date},${qty},${(2 + (i % 13) * 1.25).toFixed(2)},P${i % 50}`);
  }
  log = join(dir, "log.csv");
  writeFileSync(log, rows.join("\n") + "\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function memoryLimit(): Promise<string> {
  const r = await (await duck()).runAndReadAll("SELECT current_setting('memory_limit') AS m");
  return String(r.getRowObjectsJS()[0].m);
}

describe("segmenta rfm --memory", () => {
  it("gives the same features with and without a budget, and holds DuckDB to three quarters of it", async () => {
    const free = join(dir, "free.csv");
    const bounded = join(dir, "bounded.csv");
    const a = await runMain(["rfm", log, ...MAP, "--scores", "--out", free]);
    expect(a.status, a.stderr).toBe(0);
    const b = await runMain(["rfm", log, ...MAP, "--scores", "--out", bounded, "--memory", "400MB"]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(bounded, "utf8")).toBe(readFileSync(free, "utf8"));
    expect(lines(readFileSync(free, "utf8")).length).toBe(251); // 250 customers and the header
    // 0.75 × 400 MB = 300 MB, as DuckDB reports it (in its own units: 286.1 MiB).
    expect(await memoryLimit()).toMatch(/^286\.\d MiB$/);
  });

  it("refuses a budget that is not a size, naming --memory", async () => {
    const r = await runMain(["rfm", log, ...MAP, "--out", join(dir, "x.csv"), "--memory", "lots"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--memory lots: expected a size such as 2GB/);
    expect(lines(r.stderr)).toHaveLength(1);
  });
});
