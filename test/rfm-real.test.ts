/**
 * RFM of the real UCI Online Retail log (../shared/data/online_retail.parquet) against the
 * pandas reference in test/fixtures/rfm_online_retail.json (made by
 * test/fixtures/make_rfm_reference.py): every customer, every feature, the scores and the
 * segments. Skipped with a message when the data folder is absent.
 *
 * The README's 4,372 customers are every CustomerID in the log. 4,338 of them bought
 * something; 33 have only cancellations (returns of purchases made before the log starts)
 * and 1 only a free item (a price of 0): those 34 are left out and counted.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, lit } from "../src/io/duck.js";
import { runMain } from "./helpers/cli.js";

const PARQUET = fileURLToPath(new URL("../../shared/data/online_retail.parquet", import.meta.url));
const exists = existsSync(PARQUET);
if (!exists) {
  console.warn(`RFM real-data tests skipped: ${PARQUET} does not exist (the datasets live beside the project, see DESIGN.md "Data at hand")`);
}

interface Reference {
  as_of: string;
  counts: Record<string, number>;
  dropped: { only_cancellations: string[]; only_zero_value: string[] };
  segments: Record<string, number>;
  columns: Record<string, (string | number | null)[]>;
  exclude: { monetary: number[]; counts: Record<string, number> };
}

const MAP = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];

/** An output CSV as columns (numbers where the column is numeric, null for empty). */
async function readCsvColumns(path: string): Promise<Record<string, (string | number | null)[]>> {
  const lines = (await readFile(path, "utf8")).split("\n").filter((l) => l !== "");
  const head = lines[0].split(",");
  const cols: Record<string, (string | number | null)[]> = Object.fromEntries(head.map((h) => [h, []]));
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    expect(cells).toHaveLength(head.length);
    head.forEach((h, j) => {
      const v = cells[j];
      cols[h].push(v === "" ? null : h === "customer_id" || h === "rfm_segment" ? v : Number(v));
    });
  }
  return cols;
}

describe.skipIf(!exists)("RFM of Online Retail against pandas", () => {
  let tmp = "";
  let ref: Reference;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "segmenta-rfm-real-"));
    ref = JSON.parse(await readFile(new URL("./fixtures/rfm_online_retail.json", import.meta.url), "utf8")) as Reference;
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("every customer's features, scores and segment equal the pandas reference", async () => {
    const out = join(tmp, "rfm.csv");
    const r = await runMain(["rfm", PARQUET, ...MAP, "--product", "StockCode", "--scores", "--out", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    const c = ref.counts;
    expect(doc).toMatchObject({
      asOf: ref.as_of,
      customers: c.customers,
      rowsIn: c.rows_in,
      rowsWithoutCustomer: c.rows_without_customer,
      rowsWithoutDateOrValue: c.rows_without_date_or_value,
      rowsAfterAsOf: c.rows_after_as_of,
      zeroValueRows: c.zero_value_rows,
      cancellationRows: c.cancellation_rows,
      purchaseRows: c.purchase_rows,
      customersInLog: c.customers_in_log,
      customersWithOnlyCancellations: ref.dropped.only_cancellations.length,
      customersWithoutPurchase: ref.dropped.only_cancellations.length + ref.dropped.only_zero_value.length,
      segments: ref.segments,
    });
    expect(doc.purchasedAmount as number).toBeCloseTo(c.purchased_amount, 6);
    expect(doc.cancelledAmount as number).toBeCloseTo(c.cancelled_amount, 6);
    // The README's count: every customer id in the log is either in the table or left out.
    expect(c.customers_in_log).toBe(4372);
    expect(c.customers + ref.dropped.only_cancellations.length + ref.dropped.only_zero_value.length).toBe(4372);

    const ours = await readCsvColumns(out);
    const ids = ref.columns.customer_id;
    expect(ours.customer_id).toEqual(ids);
    const n = ids.length;
    const left = new Set(ours.customer_id);
    for (const id of [...ref.dropped.only_cancellations, ...ref.dropped.only_zero_value]) expect(left.has(id)).toBe(false);

    const exact = ["recency_days", "frequency", "tenure_days", "distinct_products", "mean_days_between_purchases", "r_score", "f_score", "m_score", "rfm_segment"];
    for (const name of exact) {
      const mismatches = ids.filter((_, i) => ours[name][i] !== ref.columns[name][i]);
      expect(mismatches, name).toEqual([]);
    }
    const close = (name: string, tol: (x: number) => number): void => {
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const a = ours[name][i] as number;
        const b = ref.columns[name][i] as number;
        const d = Math.abs(a - b);
        expect(d, `${name} of customer ${ids[i]}: ${a} vs ${b}`).toBeLessThanOrEqual(tol(b));
        worst = Math.max(worst, d);
      }
    };
    close("monetary", () => 1e-6);
    close("avg_order_value", () => 1e-6);
    close("return_rate", (b) => 1e-12 * Math.max(1, Math.abs(b)));
  });

  it("--cancellations exclude: gross spend equal to the reference", async () => {
    const out = join(tmp, "rfm-exclude.csv");
    const r = await runMain(["rfm", PARQUET, ...MAP, "--cancellations", "exclude", "--out", out]);
    expect(r.status).toBe(0);
    const ours = await readCsvColumns(out);
    expect(ours.monetary).toHaveLength(ref.exclude.monetary.length);
    ref.exclude.monetary.forEach((b, i) => expect(Math.abs((ours.monetary[i] as number) - b)).toBeLessThanOrEqual(1e-6));
  });

  it("the same log as CSV (written by DuckDB) gives the same table", async () => {
    const csv = join(tmp, "online_retail.csv");
    await exec(`COPY (SELECT * FROM read_parquet(${lit(PARQUET)})) TO ${lit(csv)} (FORMAT csv, HEADER true)`);
    const a = join(tmp, "from-parquet.csv");
    const b = join(tmp, "from-csv.csv");
    expect((await runMain(["rfm", PARQUET, ...MAP, "--product", "StockCode", "--scores", "--out", a])).status).toBe(0);
    expect((await runMain(["rfm", csv, ...MAP, "--product", "StockCode", "--scores", "--out", b])).status).toBe(0);
    expect(await readFile(b, "utf8")).toBe(await readFile(a, "utf8"));
  });

  it("cluster --transactions segments the 4,338 customers in one command", async () => {
    const r = await runMain(["cluster", PARQUET, "--transactions", ...MAP, "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { rows: number; k: number; featureNames: string[]; rfm: { customers: number } };
    expect(doc.rows).toBe(ref.counts.customers);
    expect(doc.rfm.customers).toBe(ref.counts.customers);
    expect(doc.featureNames).toEqual(["recency_days", "frequency", "monetary"]);
    expect(doc.k).toBe(4);
  });

  it("cluster --transactions --prep auto: the plan compresses the skewed RFM features and says why", async () => {
    const r = await runMain(["cluster", PARQUET, "--transactions", ...MAP, "--prep", "auto", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { preprocessingPlan: { step: string; columns: string[]; reason: string }[]; preprocessing: string[] };
    const steps = Object.fromEntries(doc.preprocessingPlan.map((s) => [s.columns.join(","), s]));
    // Skewness of the 4,338 customers' features (scipy.stats.skew, biased): recency 1.25, frequency 12.06, monetary 21.63.
    expect(steps.recency_days.step).toBe("log1p");
    expect(steps.recency_days.reason).toMatch(/^skewness 1\.25 and no negative values/);
    expect(steps.frequency.reason).toMatch(/^skewness 12\.06 /);
    // Net spend is negative for a few customers whose returns outweigh their purchases.
    expect(steps.monetary.step).toBe("signed log1p");
    expect(steps.monetary.reason).toMatch(/^skewness 21\.63 with a few negative values \(\d+ of 4338, min -1165\.3/);
    expect(doc.preprocessing[2]).toMatch(/^monetary \(numeric\): signed log1p, standardise/);
  });
});
