/**
 * RFM from transaction logs: hand-computed toy logs through `segmenta rfm` (every feature,
 * both cancellation modes, the cancel prefix, missing customers and values, --as-of, typed
 * and untyped files, Parquet), the quintile scores against pandas, every segment rule, and
 * `segmenta cluster --transactions`.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, lit, queryRows } from "../src/io/duck.js";
import { dropTable, loadTable } from "../src/io/read.js";
import { computeRfm, computeRfmFromFile, type RfmSummary } from "../src/io/rfm.js";
import { generateTransactions, toCsv } from "../src/io/synthetic.js";
import {
  qcutRanks, quintileScores, rankFirst, RFM_GRID, RFM_SEGMENTS, rfmScores, rfmSegment, rfmSegmentCodes,
} from "../src/profile/rfm-scores.js";
import { runMain } from "./helpers/cli.js";
import type { rfmJson } from "../src/cli/rfm.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "segmenta-rfm-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, text);
  return p;
}

interface RfmRow {
  customer_id: string;
  recency_days: number;
  frequency: number;
  monetary: number;
  tenure_days: number;
  avg_order_value: number;
  mean_days_between_purchases: number | null;
  distinct_products?: number;
  return_rate: number;
  r_score?: number;
  f_score?: number;
  m_score?: number;
  rfm_segment?: string;
}

/** The --json document of segmenta rfm, typed by the function that builds it. */
type RfmDoc = ReturnType<typeof rfmJson> & { outputs: { out: string } };

let outCounter = 0;
/** Runs `segmenta rfm FILE ...args --json` into a fresh .json output; returns the summary and the rows by customer. */
async function rfm(file: string, args: string[]): Promise<{ doc: RfmDoc; rows: Record<string, RfmRow> }> {
  const out = join(tmp, `rfm-${++outCounter}.json`);
  const r = await runMain(["rfm", file, ...args, "--out", out, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout) as RfmDoc;
  const list = JSON.parse(await readFile(out, "utf8")) as RfmRow[];
  expect(list.map((x) => x.customer_id)).toEqual([...list.map((x) => x.customer_id)].sort());
  return { doc, rows: Object.fromEntries(list.map((x) => [x.customer_id, x])) };
}

// Log A: quantity × price, invoices, products. The last row with a customer is on
// 2024-01-11, so the default as-of date is 2024-01-12.
const LOG_A = `InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
1001,A,2,2024-01-01 10:00:00,5.00,1
1001,B,1,2024-01-01 10:00:00,3.00,1
1002,A,1,2024-01-05 09:00:00,5.00,1
C1003,A,-1,2024-01-06 12:00:00,5.00,1
1004,C,4,2024-01-10 15:00:00,2.50,2
1005,C,1,2024-01-10 16:00:00,0.00,2
1006,D,3,2024-01-03 08:00:00,1.00,
C1007,D,-2,2024-01-04 08:00:00,4.00,3
1008,E,-1,2024-01-08 11:00:00,6.00,2
1009,A,1,2024-01-11 10:00:00,5.00,4
1010,Z,1,2024-01-09 10:00:00,0.00,5
`;
const MAP_A = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];

describe("segmenta rfm on a hand-computed log", () => {
  let logA = "";
  beforeAll(async () => {
    logA = await write("a.csv", LOG_A);
  });

  it("computes every feature, nets cancellations and counts every row", async () => {
    const { doc, rows } = await rfm(logA, [...MAP_A, "--product", "StockCode"]);
    // Customer 1: invoices 1001 (01-01, 2×5 + 3 = 13) and 1002 (01-05, 5); C1003 cancels 5.
    expect(rows["1"]).toEqual({
      customer_id: "1", recency_days: 7, frequency: 2, monetary: 13, tenure_days: 11, avg_order_value: 6.5,
      mean_days_between_purchases: 4, distinct_products: 2, return_rate: 5 / 18,
    });
    // Customer 2: 1004 (01-10, 10); 1005 is free (left out); 1008 is a negative quantity on an
    // ordinary invoice: a return of 6.
    expect(rows["2"]).toEqual({
      customer_id: "2", recency_days: 2, frequency: 1, monetary: 4, tenure_days: 2, avg_order_value: 4,
      mean_days_between_purchases: null, distinct_products: 1, return_rate: 0.6,
    });
    expect(rows["4"]).toEqual({
      customer_id: "4", recency_days: 1, frequency: 1, monetary: 5, tenure_days: 1, avg_order_value: 5,
      mean_days_between_purchases: null, distinct_products: 1, return_rate: 0,
    });
    // Customer 3 has only a cancellation, customer 5 only a free item: both left out.
    expect(Object.keys(rows)).toEqual(["1", "2", "4"]);
    expect(doc).toMatchObject({
      customers: 3, asOf: "2024-01-12", asOfGiven: false, cancellations: "net", cancelPrefix: "C",
      rowsIn: 11, rowsWithoutCustomer: 1, rowsWithoutDateOrValue: 0, rowsAfterAsOf: 0, zeroValueRows: 2,
      cancellationRows: 3, purchaseRows: 5, customersInLog: 5, customersWithoutPurchase: 2, customersWithOnlyCancellations: 1,
      purchasedAmount: 33, cancelledAmount: 19,
    });
    expect(doc.columns).toEqual([
      "customer_id", "recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "mean_days_between_purchases", "distinct_products", "return_rate",
    ]);
    const text = doc.explanation.join("\n");
    expect(text).toContain("1 without a customer id: dropped");
    expect(text).toContain('3 cancellations (an invoice starting with "C" or a negative quantity or amount');
    expect(text).toContain("2 with a price or value of 0 or less");
    expect(text).toContain("5 customers in the log; left out for want of a purchase: 2 (1 with only cancellations, 1 with only zero-value rows)");
  });

  it("--cancellations exclude leaves the spend gross but keeps the return rate", async () => {
    const { doc, rows } = await rfm(logA, [...MAP_A, "--cancellations", "exclude"]);
    expect(doc.cancellations).toBe("exclude");
    expect(rows["1"]).toMatchObject({ monetary: 18, avg_order_value: 9, frequency: 2, recency_days: 7, return_rate: 5 / 18 });
    expect(rows["2"]).toMatchObject({ monetary: 10, avg_order_value: 10, return_rate: 0.6 });
    expect(rows["4"]).toMatchObject({ monetary: 5 });
    expect(doc.columns).not.toContain("distinct_products");
    expect(doc.explanation.join("\n")).toContain("left out of the spend (--cancellations exclude)");
  });

  it("--as-of: features as of the start of that day; later rows are left out and counted", async () => {
    const { doc, rows } = await rfm(logA, [...MAP_A, "--as-of", "2024-01-06"]);
    // Rows on or after 01-06: C1003, 1004, 1005, 1008, 1009, 1010.
    expect(doc).toMatchObject({ asOf: "2024-01-06", asOfGiven: true, rowsAfterAsOf: 6, customers: 1, customersInLog: 2, customersWithOnlyCancellations: 1 });
    expect(rows["1"]).toMatchObject({ recency_days: 1, tenure_days: 5, frequency: 2, monetary: 18, return_rate: 0, mean_days_between_purchases: 4 });
    const later = await rfm(logA, [...MAP_A, "--as-of", "2024-02-01"]);
    expect(later.rows["1"]).toMatchObject({ recency_days: 27, tenure_days: 31, monetary: 13 });
    expect(later.rows["4"]).toMatchObject({ recency_days: 21 });
  });

  it("without --invoice an order is one timestamp, and only negative values are cancellations", async () => {
    const { doc, rows } = await rfm(logA, MAP_A.slice(0, 8));
    expect(doc.cancelPrefix).toBeNull();
    expect(doc.cancellationRows).toBe(3); // all three have a negative quantity
    expect(rows["1"]).toMatchObject({ frequency: 2, monetary: 13 }); // the two lines at 01-01 10:00 are one order
  });

  it("the cancel prefix: any case, configurable, or none", async () => {
    const log = await write("c.csv", `inv,cust,date,amt
100,x,2022-05-01,20
R101,x,2022-05-02,5
c102,y,2022-05-03,7
103,y,2022-05-04,8
`);
    const base = ["--customer", "cust", "--date", "date", "--amount", "amt", "--invoice", "inv"];
    const byC = await rfm(log, base);
    expect(byC.rows.x).toMatchObject({ frequency: 2, monetary: 25, return_rate: 0 });
    expect(byC.rows.y).toMatchObject({ frequency: 1, monetary: 1, return_rate: 7 / 8 }); // "c102": lower case counts
    const byR = await rfm(log, [...base, "--cancel-prefix", "R"]);
    expect(byR.doc.cancelPrefix).toBe("R");
    // A positive amount on a cancelled invoice is still taken off (its absolute value).
    expect(byR.rows.x).toMatchObject({ frequency: 1, monetary: 15, return_rate: 0.25 });
    expect(byR.rows.y).toMatchObject({ frequency: 2, monetary: 15 });
    const none = await rfm(log, [...base, "--cancel-prefix", ""]);
    expect(none.doc.cancellationRows).toBe(0);
    expect(none.rows.x).toMatchObject({ frequency: 2, monetary: 25 });
  });

  it("amounts, blank customers, missing dates and values", async () => {
    const log = await write("b.csv", `cust,when,amount
a,2023-03-01,100
a,2023-03-01,50
a,2023-03-11,30
a,2023-03-15,-20
b,2023-03-20,40
 ,2023-03-21,10
b,,15
b,2023-03-22,
`);
    const { doc, rows } = await rfm(log, ["--customer", "cust", "--date", "when", "--amount", "amount"]);
    // The last usable row with a customer is b on 03-20 (the 03-21 row has no customer).
    expect(doc).toMatchObject({ asOf: "2023-03-21", rowsIn: 8, rowsWithoutCustomer: 1, rowsWithoutDateOrValue: 2, cancellationRows: 1, purchaseRows: 4 });
    expect(rows.a).toEqual({
      customer_id: "a", recency_days: 10, frequency: 2, monetary: 160, tenure_days: 20, avg_order_value: 80,
      mean_days_between_purchases: 10, return_rate: 20 / 180,
    });
    expect(rows.b).toMatchObject({ recency_days: 1, frequency: 1, monetary: 40, tenure_days: 1 });
  });

  it("reads untyped whitespace files with YYYYMMDD dates and zero-padded ids (CDNOW style)", async () => {
    const log = await write("cd.txt", ` customer_id  date cds  dollars
 00001 19970101  1   11.77
 00001 19970118 2 17.76
 00002 19970102 2 20.76
 00003 19970105 1 0.00
 00002 19970102 1 5.00
`);
    const { doc, rows } = await rfm(log, ["--customer", "customer_id", "--date", "date", "--amount", "dollars"]);
    expect(doc).toMatchObject({ asOf: "1997-01-19", customers: 2, zeroValueRows: 1, customersWithoutPurchase: 1 });
    expect(rows["00001"]).toMatchObject({ recency_days: 1, frequency: 2, monetary: 29.53, tenure_days: 18, mean_days_between_purchases: 17 });
    expect(rows["00002"]).toMatchObject({ recency_days: 17, frequency: 1, monetary: 25.76 });
  });

  it("Parquet input (scanned in place) gives the same table as CSV", async () => {
    const pq = join(tmp, "a.parquet");
    await exec(`COPY (SELECT * FROM read_csv(${lit(logA)})) TO ${lit(pq)} (FORMAT parquet)`);
    const fromCsv = await rfm(logA, [...MAP_A, "--product", "StockCode", "--scores"]);
    const fromPq = await rfm(pq, [...MAP_A, "--product", "StockCode", "--scores"]);
    expect(fromPq.rows).toEqual(fromCsv.rows);
    const { outputs: _a, file: _b, ...a } = fromCsv.doc as RfmDoc & { file: string };
    const { outputs: _c, file: _d, ...b } = fromPq.doc as RfmDoc & { file: string };
    expect(b).toEqual(a);
  });

  it("a loaded table (loadTable) gives the same features as reading in place", async () => {
    const map = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo", product: "StockCode" };
    const rowsOf = async (s: RfmSummary): Promise<unknown[]> => {
      try {
        return await queryRows(`SELECT * FROM ${s.table} ORDER BY customer_id`);
      } finally {
        await exec(`DROP TABLE ${s.table}`);
      }
    };
    const t = await loadTable(logA);
    let loaded: RfmSummary;
    try {
      loaded = await computeRfm(t, map);
    } finally {
      await dropTable(t);
    }
    const scanned = await computeRfmFromFile(logA, map);
    const { table: _a, ...a } = loaded;
    const { table: _b, ...b } = scanned;
    expect(b).toEqual(a);
    expect(await rowsOf(scanned)).toEqual(await rowsOf(loaded));
  });

  it("text in a number column past DuckDB's type sample: loaded instead, the row counted as unusable", async () => {
    const lines = ["inv,cust,date,qty,price"];
    for (let i = 0; i < 25_000; i++) lines.push(`${i},${i % 50},2024-01-${String(1 + (i % 28)).padStart(2, "0")},${i === 24_000 ? "n/a" : 1 + (i % 3)},2.5`);
    const log = await write("late-text.csv", lines.join("\n") + "\n");
    const { doc } = await rfm(log, ["--customer", "cust", "--date", "date", "--quantity", "qty", "--price", "price", "--invoice", "inv"]);
    expect(doc).toMatchObject({ rowsIn: 25_000, rowsWithoutDateOrValue: 1, purchaseRows: 24_999, customers: 50 });
  });

  it("a malformed CSV row: one line naming the row", async () => {
    const log = await write("bad-row.csv", `${LOG_A}1011,A,1,2024-01-11 10:00:00\n`);
    const r = await runMain(["rfm", log, ...MAP_A, "--out", join(tmp, "bad-row-out.csv")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad-row\.csv: line 13 has 4 fields but the first line has 6/);
  });

  it("--scores adds quintile scores and segments", async () => {
    const { doc, rows } = await rfm(logA, [...MAP_A, "--scores"]);
    // Customers "1", "2", "4": recency 7, 2, 1; frequency 2, 1, 1; monetary 13, 4, 5. With three
    // values the ranks 1, 2, 3 fall in bins 1, 3, 5; "2" and "4" share frequency 1, so both take
    // the smallest rank of the pair (1): F = 1 for both.
    expect([rows["1"], rows["2"], rows["4"]].map((x) => [x.r_score, x.f_score, x.m_score, x.rfm_segment])).toEqual([
      [1, 5, 5, "Can't Lose Them"],
      [3, 1, 1, "About to Sleep"],
      [5, 1, 3, "New Customers"],
    ]);
    expect(doc.columns.slice(-4)).toEqual(["r_score", "f_score", "m_score", "rfm_segment"]);
    expect(doc.segments).toMatchObject({ "Can't Lose Them": 1, "About to Sleep": 1, "New Customers": 1, "Potential Loyalists": 0, Champions: 0 });
  });

  it("writes CSV and prints the explanation without --json", async () => {
    const out = join(tmp, "a-rfm.csv");
    const r = await runMain(["rfm", logA, ...MAP_A, "--scores", "--out", out]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("3 customers, as of 2024-01-12 (the day after the last transaction)");
    expect(r.stdout).toContain("RFM segments (from the R and F scores):");
    const text = await readFile(out, "utf8");
    expect(text.split("\n")[0]).toBe(
      "customer_id,recency_days,frequency,monetary,tenure_days,avg_order_value,mean_days_between_purchases,return_rate,r_score,f_score,m_score,rfm_segment",
    );
    expect(text.split("\n")[1]).toBe("1,7,2,13.0,11,6.5,4.0,0.2777777777777778,1,5,5,Can't Lose Them");
  });

  it("rejects bad mappings with one clear line and status 2", async () => {
    const cases: [string[], RegExp][] = [
      [["--customer", "Nope", "--date", "InvoiceDate", "--amount", "Quantity"], /--customer Nope: .* has no such column; columns are: InvoiceNo, StockCode/],
      [["--customer", "CustomerID", "--date", "InvoiceDate"], /give --amount, or both --quantity and --price/],
      [["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity"], /give --price/],
      [["--customer", "CustomerID", "--date", "InvoiceDate", "--amount", "Quantity", "--price", "UnitPrice"], /either --amount Quantity or --quantity and --price, not both/],
      [[...MAP_A, "--as-of", "2024-02-30"], /--as-of 2024-02-30: give a date as YYYY-MM-DD/],
      [[...MAP_A, "--cancellations", "drop"], /--cancellations drop: use net .* or exclude/],
      [[...MAP_A.slice(0, 8), "--cancel-prefix", "X"], /--cancel-prefix X: .* give --invoice COLUMN too/],
      [["--customer", "CustomerID", "--date", "StockCode", "--amount", "Quantity"], /--date StockCode: the column holds .* values, not dates/],
      [["--customer", "CustomerID", "--date", "InvoiceDate", "--amount", "StockCode"], /--amount StockCode: the column holds .* values, not numbers/],
      [[...MAP_A, "--as-of", "2020-01-01"], /no customer has a purchase before --as-of 2020-01-01/],
    ];
    for (const [args, message] of cases) {
      const r = await runMain(["rfm", logA, ...args, "--out", join(tmp, "bad.csv")]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe("RFM scores (pandas qcut of ranks; equal values share the smallest rank)", () => {
  // Expected values computed with pandas 1.5.3 (numpy 1.24.2):
  //   s = pd.Series(values, dtype="float64"); m = s.notna().sum()
  //   edges = np.quantile(np.arange(1, m + 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
  //   pd.cut(s.rank(method="min"), edges, labels=[1, 2, 3, 4, 5], include_lowest=True)   # "up"
  //   pd.cut(s.rank(method="min"), edges, labels=[5, 4, 3, 2, 1], include_lowest=True)   # "down" (recency)
  // with NaN written as 0. Without ties this equals pd.qcut(s.rank(method="first"), 5, labels=…)
  // (the cases "eleven values" and "missing values" have no ties).
  const CASES: [string, number[], number[], number[]][] = [
    ["ties (frequency-like)", [1, 3, 1, 1, 2, 5, 1, 2, 8, 1, 2, 1], [1, 5, 1, 1, 3, 5, 1, 3, 5, 1, 3, 1], [5, 1, 5, 5, 3, 1, 5, 3, 1, 5, 3, 5]],
    ["ties (recency-like)", [10, 3, 45, 3, 3, 100, 7, 7, 60, 1, 3, 30], [4, 1, 5, 1, 1, 5, 3, 3, 5, 1, 1, 4], [2, 5, 1, 5, 5, 1, 3, 3, 1, 5, 5, 2]],
    ["negative and zero spend", [0, 12.5, -3, 12.5, 40, 0, 7.25, 99, 12.5, 3, 1000, 0], [1, 3, 1, 3, 5, 1, 3, 5, 3, 2, 5, 1], [5, 3, 5, 3, 1, 5, 3, 1, 3, 4, 1, 5]],
    ["two equal values", [5, 5], [1, 1], [5, 5]],
    ["three equal values", [1, 1, 1], [1, 1, 1], [5, 5, 5]],
    ["six values", [2, 1, 2, 1, 2, 1], [3, 1, 3, 1, 3, 1], [3, 5, 3, 5, 3, 5]],
    ["seven equal values", [4, 4, 4, 4, 4, 4, 4], [1, 1, 1, 1, 1, 1, 1], [5, 5, 5, 5, 5, 5, 5]],
    ["eleven values (edges on whole ranks)", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [5, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1]],
    ["missing values", [3, NaN, 1, 2, NaN, 5], [4, 0, 1, 2, 0, 5], [2, 0, 5, 4, 0, 1]],
  ];
  for (const [name, values, up, down] of CASES) {
    it(name, () => {
      expect(Array.from(quintileScores(Float64Array.from(values)))).toEqual(up);
      expect(Array.from(quintileScores(Float64Array.from(values), true))).toEqual(down);
    });
  }

  it("ranks ties by order of appearance; qcut writes into a given buffer", () => {
    expect(Array.from(rankFirst(Float64Array.from([2, 1, 2, NaN, 1])))).toEqual([3, 1, 4, NaN, 2]);
    const out = new Uint8Array(4);
    expect(qcutRanks(Float64Array.from([1, 2, 3, 4]), 2, out)).toBe(out);
    expect(Array.from(out)).toEqual([1, 1, 2, 2]);
  });

  it("rfmScores reverses recency only", () => {
    const s = rfmScores(Float64Array.from([1, 2, 3, 4, 5]), Float64Array.from([1, 2, 3, 4, 5]), Float64Array.from([5, 4, 3, 2, 1]));
    expect(Array.from(s.r)).toEqual([5, 4, 3, 2, 1]);
    expect(Array.from(s.f)).toEqual([1, 2, 3, 4, 5]);
    expect(Array.from(s.m)).toEqual([5, 4, 3, 2, 1]);
    expect(() => rfmScores(new Float64Array(2), new Float64Array(3), new Float64Array(2))).toThrow(/one value per customer/);
  });
});

describe("RFM segments (R-versus-F grid)", () => {
  // The rules as documented in src/profile/rfm-scores.ts, restated as ranges.
  const RULES: [string, number[], number[]][] = [
    ["Champions", [5], [4, 5]],
    ["Loyal Customers", [3, 4], [4, 5]],
    ["Potential Loyalists", [4, 5], [2, 3]],
    ["New Customers", [5], [1]],
    ["Promising", [4], [1]],
    ["Need Attention", [3], [3]],
    ["About to Sleep", [3], [1, 2]],
    ["At Risk", [1, 2], [3, 4]],
    ["Can't Lose Them", [1, 2], [5]],
    ["Hibernating", [2], [1, 2]],
    ["Hibernating", [1], [2]],
    ["Lost", [1], [1]],
  ];
  for (const [name, rs, fs] of RULES) {
    it(`${name}: R ${rs.join("–")}, F ${fs.join("–")}`, () => {
      for (const r of rs) for (const f of fs) expect(rfmSegment(r, f), `R ${r} F ${f}`).toBe(name);
    });
  }

  it("the rules cover the 25 cells once, and every named segment is used", () => {
    const cells = RULES.flatMap(([, rs, fs]) => rs.flatMap((r) => fs.map((f) => `${r}${f}`)));
    expect(new Set(cells).size).toBe(25);
    expect(cells).toHaveLength(25);
    expect(new Set(RFM_GRID.flat())).toEqual(new Set(RFM_SEGMENTS));
  });

  it("missing scores have no segment; codes index RFM_SEGMENTS", () => {
    expect(rfmSegment(0, 3)).toBeNull();
    expect(rfmSegment(3, 6)).toBeNull();
    expect(Array.from(rfmSegmentCodes(Uint8Array.from([5, 1, 0]), Uint8Array.from([5, 1, 2])))).toEqual([
      RFM_SEGMENTS.indexOf("Champions"), RFM_SEGMENTS.indexOf("Lost"), -1,
    ]);
  });
});

describe("segmenta cluster --transactions", () => {
  const MAP = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];
  let log = "";
  beforeAll(async () => {
    log = join(tmp, "synthetic.csv");
    await writeFile(log, [...toCsv(generateTransactions({ seed: 7, customers: 400 }))].join(""));
  });

  it("goes from a transaction log to segments, the same as rfm then cluster", async () => {
    const r = await runMain(["cluster", log, "--transactions", ...MAP, "--k", "3", "--json", "--out", join(tmp, "seg1.csv")]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { file: string; rows: number; idColumn: string; featureNames: string[]; preprocessing: string[]; rfm: RfmDoc; segments: { size: number }[] };
    expect(doc.file).toBe(log);
    expect(doc.idColumn).toBe("customer_id");
    expect(doc.featureNames).toEqual(["recency_days", "frequency", "monetary"]);
    // One line per feature, each compressed; then the imputation fitted for rows scored later.
    expect(doc.preprocessing.slice(0, 3).every((l) => l.includes("signed log1p"))).toBe(true);
    expect(doc.preprocessing.slice(3)).toEqual(["no value was missing in any of the 3 columns when fitted; a value missing in rows scored later becomes the median fitted here"]);
    expect(doc.rows).toBe(doc.rfm.customers);
    expect(doc.segments.reduce((a, s) => a + s.size, 0)).toBe(doc.rows);

    const rfmOut = join(tmp, "synthetic-rfm.csv");
    expect((await runMain(["rfm", log, ...MAP, "--out", rfmOut])).status).toBe(0);
    const two = await runMain([
      "cluster", rfmOut, "--id", "customer_id", "--features", "recency_days,frequency,monetary", "--log", "recency_days,frequency,monetary",
      "--k", "3", "--out", join(tmp, "seg2.csv"),
    ]);
    expect(two.status).toBe(0);
    expect(await readFile(join(tmp, "seg1.csv"), "utf8")).toBe(await readFile(join(tmp, "seg2.csv"), "utf8"));
  });

  it("prints the RFM explanation before the segments; mapping flags need --transactions", async () => {
    const r = await runMain(["cluster", log, "--transactions", ...MAP, "--k", "2"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ customers, as of \d{4}-\d{2}-\d{2}/);
    expect(r.stdout).toContain(`${log} (RFM features)`);
    const bad = await runMain(["cluster", log, ...MAP]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--customer maps the columns of a transaction log: add --transactions/);
    const missing = await runMain(["cluster", log, "--transactions", "--date", "InvoiceDate"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/give --customer COLUMN and --date COLUMN/);
  });
});
