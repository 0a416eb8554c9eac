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
import { computeRfmFromFile, type RfmMapping } from "../src/io/rfm.js";
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
