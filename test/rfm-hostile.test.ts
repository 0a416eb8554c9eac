/**
 * RFM on awkward transaction logs: Windows (CRLF), old Mac (CR) and mixed line ends, logs
 * where no row is usable (the counts in the message add up), and RFM scores of customers
 * with equal values (equal values, equal scores, equal named segments).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { exec, queryRows } from "../src/io/duck.js";
import { addRfmScores, computeRfmFromFile, type RfmMapping } from "../src/io/rfm.js";
import { rfmScoreOfValue } from "../src/profile/profiles.js";
import { qcutRanks, quintileScores, rankFirst, rankMin, rfmScores, rfmSegmentCodes } from "../src/profile/rfm-scores.js";
import { runMain } from "./helpers/cli.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "segmenta-rfm-hostile-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, text);
  return p;
}

// The log of test/rfm.test.ts (log A), whose features are computed there by hand.
const LOG = `InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
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
const MAP: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" };
// customer → recency, frequency, monetary (hand-computed in test/rfm.test.ts; as of 2024-01-12).
const EXPECTED = [
  { customer_id: "1", recency_days: 7, frequency: 2, monetary: 13 },
  { customer_id: "2", recency_days: 2, frequency: 1, monetary: 4 },
  { customer_id: "4", recency_days: 1, frequency: 1, monetary: 5 },
];

/** The log with an Amount column (quantity × price) instead of Quantity and UnitPrice. */
function withAmount(log: string): string {
  return log
    .trimEnd()
    .split("\n")
    .map((line, i) => {
      const f = line.split(",");
      const amount = i === 0 ? "Amount" : String(Number(f[2]) * Number(f[4]));
      return [f[0], f[3], amount, f[5]].join(",");
    })
    .join("\n") + "\n";
}

async function rfmRows(file: string, map: RfmMapping): Promise<Record<string, unknown>[]> {
  const s = await computeRfmFromFile(file, map);
  try {
    const rows = await queryRows(`SELECT customer_id, recency_days, CAST(frequency AS INTEGER) AS frequency, monetary FROM ${s.table} ORDER BY customer_id`);
    expect(s.rowsIn).toBe(11);
    expect(s.asOf).toBe("2024-01-12");
    return rows;
  } finally {
    await exec(`DROP TABLE IF EXISTS ${s.table}`);
  }
}

describe("line ends of transaction logs", () => {
  for (const [name, eol] of [["CRLF (Windows)", "\r\n"], ["CR (old Mac)", "\r"], ["LF", "\n"]] as const) {
    it(`${name}: the same features as the hand-computed log, with --quantity/--price and with --amount`, async () => {
      const f = await write(`log-${eol.length}-${eol.charCodeAt(0)}.csv`, LOG.replace(/\n/g, eol));
      expect(await rfmRows(f, MAP)).toEqual(EXPECTED);
      const g = await write(`amount-${eol.length}-${eol.charCodeAt(0)}.csv`, withAmount(LOG).replace(/\n/g, eol));
      expect(await rfmRows(g, { customer: "CustomerID", date: "InvoiceDate", amount: "Amount", invoice: "InvoiceNo" })).toEqual(EXPECTED);
    });
  }

  it("a CRLF log through segmenta rfm exits 0 with the three customers", async () => {
    const f = await write("cli-crlf.csv", LOG.replace(/\n/g, "\r\n"));
    const out = join(tmp, "cli-crlf-out.csv");
    const r = await runMain(["rfm", f, "--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--out", out, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).customers).toBe(3);
  });

  it("mixed line ends: one line naming the file and the first line of each kind", async () => {
    const lines = LOG.trimEnd().split("\n");
    const f = await write("mixed.csv", lines.map((l, i) => l + (i === 3 ? "\r\n" : "\n")).join(""));
    const err = await computeRfmFromFile(f, MAP).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `${f}: its lines end in different ways (line 1 with LF (Unix), line 4 with CRLF (Windows)); ` +
        "save it with one kind of line end (for example with dos2unix) and try again",
    );
  });
});

describe("a log with no usable row", () => {
  it("no purchase: the classes of the rows add up to the rows read", async () => {
    // 1 row without a customer, 1 without a date, 1 free item (price 0), 1 negative price, 2 cancellations.
    const f = await write(
      "no-purchase.csv",
      "InvoiceNo,InvoiceDate,Quantity,UnitPrice,CustomerID\n1,2024-01-01,1,5,\n2,,1,5,7\n3,2024-01-02,1,0,7\n" +
        "4,2024-01-02,1,-2,8\nC5,2024-01-03,-1,5,8\n6,2024-01-04,-3,5,9\n",
    );
    const err = await computeRfmFromFile(f, MAP).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `${f}: no customer has a purchase: of its 6 rows, 1 has no customer id, 1 has no usable date or value, 0 are on or after the as-of date, ` +
        "2 have a price of 0 or less or a value of 0, 2 are cancellations; check the column mapping",
    );
  });

  it("says why in counts that add up to the rows read", async () => {
    const f = await write(
      "unusable.csv",
      "InvoiceNo,InvoiceDate,Amount,CustomerID\n1,2024-01-01,5,\n2,,5,7\n3,not a date,,8\n4,,,9\n",
    );
    const err = await computeRfmFromFile(f, { customer: "CustomerID", date: "InvoiceDate", amount: "Amount" }, { InvoiceDate: "datetime" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `${f}: none of its 4 rows has a customer id, a usable date and a value: 1 row has no customer id in --customer CustomerID, ` +
        "3 rows have one but no usable date or value (3 without a date in --date InvoiceDate, 2 without a value in --amount Amount); " +
        "check the column mapping and the file's values",
    );
  });
});

/** A small deterministic generator (mulberry32) for the property tests. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("RFM scores of tied customers", () => {
  it("hand-computed: equal values share the smallest rank of their group", () => {
    // m = 10: the quintile edges of the ranks 1..10 are 1, 2.8, 4.6, 6.4, 8.2, 10.
    // Frequency: the four 1s take rank 1 (bin 1), the two 2s rank 5 (bin 3), 3 → rank 7 (bin 4),
    // 4 → 8 (bin 4), 5 → 9 (bin 5), 9 → 10 (bin 5).
    const f = Float64Array.from([2, 1, 9, 1, 3, 1, 2, 5, 1, 4]);
    expect(Array.from(rankMin(f))).toEqual([5, 1, 10, 1, 7, 1, 5, 9, 1, 8]);
    expect(Array.from(quintileScores(f))).toEqual([3, 1, 5, 1, 4, 1, 3, 5, 1, 4]);
    // Recency (R = 6 − bin): the two 1s take rank 1 (bin 1, R 5); the three 2s rank 3 (bin 2,
    // R 4); 5 → 6 (bin 3, R 3); the two 8s rank 7 (bin 4, R 2); 9 → 9 and 10 → 10 (bin 5, R 1).
    const r = Float64Array.from([8, 1, 2, 10, 2, 5, 1, 8, 9, 2]);
    expect(Array.from(rankMin(r))).toEqual([7, 1, 3, 10, 3, 6, 1, 7, 9, 3]);
    expect(Array.from(quintileScores(r, true))).toEqual([2, 5, 4, 1, 4, 3, 5, 2, 1, 4]);
  });

  it("properties: equal values, equal scores; equal (R, F), equal segment; no ties, pandas' qcut of first ranks", () => {
    const next = random(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(next() * 200);
      const distinct = 1 + Math.floor(next() * 12); // few distinct values: many ties
      const rec = Float64Array.from({ length: n }, () => Math.floor(next() * distinct) * 3);
      const freq = Float64Array.from({ length: n }, () => 1 + Math.floor(next() ** 3 * distinct));
      const mon = Float64Array.from({ length: n }, () => (next() < 0.05 ? NaN : Math.round(next() * distinct) * 10));
      const s = rfmScores(rec, freq, mon);
      const seg = rfmSegmentCodes(s.r, s.f);
      for (const [values, scores, reverse] of [[rec, s.r, true], [freq, s.f, false], [mon, s.m, false]] as const) {
        for (let i = 0; i < n; i++) {
          if (Number.isNaN(values[i])) {
            expect(scores[i]).toBe(0);
            continue;
          }
          // The smallest value scores 1 (5 for recency): one-time buyers are F = 1, the most recent R = 5.
          if (values.every((v) => Number.isNaN(v) || v >= values[i])) expect(scores[i]).toBe(reverse ? 5 : 1);
          // F and M: the score profiles.ts gives a segment median of that value.
          if (!reverse) expect(scores[i]).toBe(rfmScoreOfValue(values, values[i]));
          for (let j = 0; j < n; j++) {
            if (values[j] === values[i]) expect(scores[j]).toBe(scores[i]);
            // Monotone: a larger value never scores lower (higher, for recency).
            if (values[j] > values[i]) expect(reverse ? scores[j] <= scores[i] : scores[j] >= scores[i]).toBe(true);
          }
        }
      }
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < i; j++) if (rec[i] === rec[j] && freq[i] === freq[j]) expect(seg[i]).toBe(seg[j]);
      }
      // Distinct values: the scores are pandas' qcut of the first ranks, as before.
      const unique = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % 1009) + next());
      const up = qcutRanks(rankFirst(unique), 5);
      expect(Array.from(quintileScores(unique))).toEqual(Array.from(up));
      expect(Array.from(quintileScores(unique, true))).toEqual(Array.from(up, (b) => 6 - b));
    }
  });

  it("through the log: customers with the same recency and frequency get the same scores and segment", async () => {
    // Six customers buy once for 10 on 2024-03-01 (recency 1, frequency 1), listed in an order
    // that row-order tie-breaking spread over R 5 to 2; "x" bought twice earlier (recency 46).
    // m = 7, edges 1, 2.2, 3.4, 4.6, 5.8, 7. The six: rank 1 in R (bin 1, R 5), F (F 1) and M
    // (M 1): New Customers. x: rank 7 everywhere (bin 5): R 1, F 5, M 5: Can't Lose Them.
    const rows = ["Customer,Date,Amount"];
    for (const c of ["f", "a", "e", "b", "d", "c"]) rows.push(`${c},2024-03-01,10`);
    rows.push("x,2024-01-01,10", "x,2024-01-15,10");
    const f = await write("ties.csv", rows.join("\n") + "\n");
    const s = await computeRfmFromFile(f, { customer: "Customer", date: "Date", amount: "Amount" });
    try {
      const counts = await addRfmScores(s);
      const got = await queryRows(`SELECT customer_id, r_score, f_score, m_score, rfm_segment FROM ${s.table} ORDER BY customer_id`);
      expect(got.map((g) => [g.customer_id, g.r_score, g.f_score, g.m_score, g.rfm_segment])).toEqual([
        ...["a", "b", "c", "d", "e", "f"].map((c) => [c, 5, 1, 1, "New Customers"]),
        ["x", 1, 5, 5, "Can't Lose Them"],
      ]);
      expect(counts).toMatchObject({ "New Customers": 6, "Can't Lose Them": 1, Champions: 0 });
    } finally {
      await exec(`DROP TABLE IF EXISTS ${s.table}`);
    }
  });
});
