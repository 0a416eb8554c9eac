/**
 * Features over time (io/track.ts): a hand-computed toy log, month by month; every snapshot
 * of generated logs equal to `rfm --as-of` (computeRfm) as of its date, in both cancellation
 * modes, with and without invoices and products; a snapshot equal to rfm on the log truncated
 * at its date, and unchanged by later transactions; the schedule; the flows and changes
 * against pipeline/changes' segmentChanges; refits whose kept ids obey the rule of
 * pipeline/stable.ts that decided (shared customers, or centres recomputed here from two
 * independent fits).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, queryRows } from "../src/io/duck.js";
import { computeRfmFromFile, type RfmMapping } from "../src/io/rfm.js";
import { generateTransactions, toCsv } from "../src/io/synthetic.js";
import {
  computeTrackFeaturesFromFile, countChanges, describeFlows, dropTrackFeatures, firstSnapshotAfter, NOT_YET, parseEvery, readSnapshot,
  refitSegmenter, snapshotDataset, snapshotDays, type TrackedSegments, type TrackFeatures, trackChanges, trackFlows, trackSegments, trackSizes,
} from "../src/io/track.js";
import { rfmSegmentationInput } from "../src/cli/cluster.js";
import { segmentChanges, type SegmentMember } from "../src/pipeline/changes.js";
import { parseConfig } from "../src/pipeline/config.js";
import { runSegmentation } from "../src/pipeline/run.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "segmenta-track-test-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, text);
  return p;
}

const day = (s: string): number => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10))) / 86_400_000;

/** Every snapshot's features as { customer: { feature: value } }. */
async function snapshots(f: TrackFeatures): Promise<Record<string, Record<string, number | null>>[]> {
  const out: Record<string, Record<string, number | null>>[] = [];
  for (const s of f.snapshots) {
    const snap = await readSnapshot(f, s.index);
    const rows: Record<string, Record<string, number | null>> = {};
    snap.ci.forEach((c, i) => {
      rows[f.ids[c]] = Object.fromEntries(f.columns.map((name) => [name, Number.isNaN(snap.columns[name][i]) ? null : snap.columns[name][i]]));
    });
    out.push(rows);
  }
  return out;
}

/** computeRfm as of `asOf` on a file: { customer: { feature: value } } (features as numbers, null for empty). */
async function rfmAsOf(file: string, map: RfmMapping, asOf: string): Promise<Record<string, Record<string, number | null>>> {
  let s;
  try {
    s = await computeRfmFromFile(file, { ...map, asOf });
  } catch (e) {
    if (/no customer has a purchase/.test((e as Error).message)) return {};
    throw e;
  }
  try {
    const rows = await queryRows(`SELECT * FROM ${s.table} ORDER BY customer_id`);
    return Object.fromEntries(rows.map((r) => [String(r.customer_id), Object.fromEntries(
      Object.entries(r).filter(([k]) => k !== "customer_id").map(([k, v]) => [k, v === null ? null : Number(v)]),
    )]));
  } finally {
    await exec(`DROP TABLE IF EXISTS ${s.table}`);
  }
}

// A cancellation and a zero-value row, a row without a customer, an invoice (I9) whose lines
// fall on two sides of a snapshot date, and a purchase (I7) at 00:00 on a snapshot date.
const TOY = `Invoice,Customer,Date,Qty,Price
I1,A,2024-01-05 10:00:00,2,10
I1,A,2024-01-05 10:00:00,1,5
I2,B,2024-01-20 09:00:00,1,30
C3,A,2024-02-03 12:00:00,-1,10
I4,A,2024-02-10 08:00:00,3,4
I5,C,2024-02-11 08:00:00,1,0
I6,,2024-02-12 08:00:00,5,5
I7,B,2024-03-01 00:00:00,2,7
I8,C,2024-03-15 16:00:00,1,8
I9,B,2024-02-28 23:00:00,1,1
I9,B,2024-03-02 10:00:00,1,2
`;
const TOY_MAP: RfmMapping = { customer: "Customer", date: "Date", quantity: "Qty", price: "Price", invoice: "Invoice" };

describe("track features on a hand-computed log", () => {
  it("gives every customer's features as of each month, counting each row from the first snapshot after it", async () => {
    const file = await write("toy.csv", TOY);
    const f = await computeTrackFeaturesFromFile(file, TOY_MAP, { every: parseEvery("month"), to: "2024-04-01" });
    try {
      // The first date of the schedule after the first purchase (2024-01-05) is 2024-02-01.
      expect(f.snapshots.map((s) => s.date)).toEqual(["2024-02-01", "2024-03-01", "2024-04-01"]);
      expect(f.snapshots.map((s) => s.customers)).toEqual([2, 2, 3]);
      expect(f.ids).toEqual(["A", "B", "C"]);
      expect(f.columns).toEqual(["recency_days", "frequency", "monetary", "tenure_days", "avg_order_value", "mean_days_between_purchases", "return_rate"]);
      expect(f.rowsIn).toBe(11);
      expect(f.rowsWithoutCustomer).toBe(1);
      expect(f.cancellationRows).toBe(1);
      expect(f.zeroValueRows).toBe(1);
      expect(f.purchaseRows).toBe(8);
      const [feb, mar, apr] = await snapshots(f);
      const row = (r: number, fq: number, m: number, t: number, aov: number, mdbp: number | null, rr: number) => ({
        recency_days: r, frequency: fq, monetary: m, tenure_days: t, avg_order_value: aov, mean_days_between_purchases: mdbp, return_rate: rr,
      });
      // As of Feb 1: A bought I1 (25) on Jan 5, B bought I2 (30) on Jan 20.
      expect(feb).toEqual({ A: row(27, 1, 25, 27, 25, null, 0), B: row(12, 1, 30, 12, 30, null, 0) });
      // As of Mar 1 (2024 is a leap year): A adds I4 (12) on Feb 10 and cancels 10; B adds I9's first line (1) on Feb 28;
      // I7 at 00:00 on Mar 1 is not yet seen; C has only a zero-value row, so is no customer yet.
      expect(mar).toEqual({ A: row(20, 2, 27, 56, 13.5, 36, 10 / 37), B: row(2, 2, 31, 41, 15.5, 39, 0) });
      // As of Apr 1: B adds I7 (14) and I9's second line (2, the same order, counted once); C buys I8 (8) on Mar 15.
      expect(apr).toEqual({
        A: row(51, 2, 27, 87, 13.5, 36, 10 / 37), B: row(30, 3, 47, 72, 15.666667, 21, 0), C: row(17, 1, 8, 17, 8, null, 0),
      });
    } finally {
      await dropTrackFeatures(f);
    }
  });

  it("equals rfm --as-of at every date, in both cancellation modes", async () => {
    const file = await write("toy2.csv", TOY);
    for (const cancellations of ["net", "exclude"] as const) {
      const map = { ...TOY_MAP, cancellations };
      const f = await computeTrackFeaturesFromFile(file, map, { every: parseEvery("7 days"), from: "2024-01-06", to: "2024-04-01" });
      try {
        const got = await snapshots(f);
        expect(got.length).toBe(13);
        for (const s of f.snapshots) expect(got[s.index]).toEqual(await rfmAsOf(file, map, s.date));
      } finally {
        await dropTrackFeatures(f);
      }
    }
  });
});

describe("track features equal rfm --as-of on generated logs", () => {
  const log = generateTransactions({ customers: 250, seed: 11, start: "2023-01-01", end: "2024-06-30" });
  const csv = [...toCsv(log)].join("");

  it("with invoices and products, every month", async () => {
    const file = await write("gen.csv", csv);
    const map: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo", product: "StockCode" };
    const f = await computeTrackFeaturesFromFile(file, map, { every: parseEvery("month") });
    try {
      expect(f.snapshots[0].date).toBe("2023-02-01");
      // The last date: the 1st of the month of the day after the last transaction (rfm's default as-of date).
      const next = new Date((day(f.lastDay) + 1) * 86_400_000).toISOString();
      expect(f.snapshots[f.snapshots.length - 1].date).toBe(`${next.slice(0, 7)}-01`);
      expect(f.snapshots.length).toBe(12 * (Number(next.slice(0, 4)) - 2023) + Number(next.slice(5, 7)) - 1);
      expect(f.columns).toContain("distinct_products");
      const got = await snapshots(f);
      let compared = 0;
      for (const s of f.snapshots) {
        const want = await rfmAsOf(file, map, s.date);
        expect(Object.keys(want).length).toBe(s.customers);
        expect(got[s.index]).toEqual(want);
        compared += s.customers;
      }
      expect(compared).toBeGreaterThan(1000);
    } finally {
      await dropTrackFeatures(f);
    }
  });

  it("without invoices (orders are distinct timestamps), an amount column, every quarter from a given date", async () => {
    // One amount per row: quantity × price, computed here.
    const q = log.columns.indexOf("Quantity");
    const p = log.columns.indexOf("UnitPrice");
    const keep = ["CustomerID", "InvoiceDate"].map((c) => log.columns.indexOf(c));
    const rows = log.rows.map((r) => [...keep.map((i) => r[i]), Number(r[q]) * Number(r[p])]);
    const file = await write("gen-amount.csv", [...toCsv({ columns: ["CustomerID", "InvoiceDate", "Amount"], rows })].join(""));
    const map: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", amount: "Amount", cancellations: "exclude" };
    const f = await computeTrackFeaturesFromFile(file, map, { every: parseEvery("quarter"), from: "2023-03-15" });
    try {
      expect(f.snapshots.map((s) => s.date)).toEqual(["2023-03-15", "2023-06-15", "2023-09-15", "2023-12-15", "2024-03-15", "2024-06-15"]);
      const got = await snapshots(f);
      for (const s of f.snapshots) expect(got[s.index]).toEqual(await rfmAsOf(file, map, s.date));
    } finally {
      await dropTrackFeatures(f);
    }
  });

  it("a snapshot is rfm of the log cut at its date, and later transactions change no snapshot", async () => {
    const map: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" };
    const dateCol = log.columns.indexOf("InvoiceDate");
    const cut = "2023-10-01";
    const before = log.rows.filter((r) => String(r[dateCol]) < cut);
    expect(before.length).toBeGreaterThan(100);
    expect(before.length).toBeLessThan(log.rows.length);
    const truncated = await write("cut.csv", [...toCsv({ columns: log.columns, rows: before })].join(""));
    const full = await write("full.csv", csv);
    // rfm --as-of the cut date on the truncated log: every row of it is before the date.
    const want = await rfmAsOf(truncated, map, cut);
    const opts = { every: parseEvery("month"), from: "2023-02-01", to: cut };
    const onFull = await computeTrackFeaturesFromFile(full, map, opts);
    const onCut = await computeTrackFeaturesFromFile(truncated, map, opts);
    try {
      const a = await snapshots(onFull);
      const b = await snapshots(onCut);
      expect(onFull.snapshots.map((s) => s.date)).toEqual(onCut.snapshots.map((s) => s.date));
      expect(a[a.length - 1]).toEqual(want);
      expect(a).toEqual(b);
      expect(onFull.rowsAfterLast).toBe(log.rows.length - before.length - onFull.rowsWithoutCustomer + onCut.rowsWithoutCustomer);
    } finally {
      await dropTrackFeatures(onFull);
      await dropTrackFeatures(onCut);
    }
  });
});

describe("the schedule", () => {
  it("reads --every", () => {
    expect(parseEvery("month")).toMatchObject({ unit: "month", n: 1 });
    expect(parseEvery("Quarter")).toMatchObject({ unit: "month", n: 3 });
    expect(parseEvery("week")).toMatchObject({ unit: "week", n: 1 });
    expect(parseEvery("14 days")).toMatchObject({ unit: "day", n: 14 });
    expect(parseEvery("30d")).toMatchObject({ unit: "day", n: 30 });
    expect(parseEvery("2 weeks")).toMatchObject({ unit: "week", n: 2 });
    expect(parseEvery("6 months")).toMatchObject({ unit: "month", n: 6 });
    for (const bad of ["fortnightly", "0 days", "-3 days", "", "1.5 days"]) expect(() => parseEvery(bad)).toThrow(/--every .*give month, quarter, week or a number of days/);
  });

  it("starts on the calendar's next date and steps by calendar months, clamping to the month's last day", () => {
    expect(firstSnapshotAfter(parseEvery("month"), day("2010-12-01"))).toBe(day("2011-01-01"));
    expect(firstSnapshotAfter(parseEvery("month"), day("2011-01-31"))).toBe(day("2011-02-01"));
    expect(firstSnapshotAfter(parseEvery("quarter"), day("2011-02-14"))).toBe(day("2011-04-01"));
    expect(firstSnapshotAfter(parseEvery("quarter"), day("2011-12-14"))).toBe(day("2012-01-01"));
    // 2024-01-05 is a Friday; the next Monday is 2024-01-08; a Monday's next is a week later.
    expect(firstSnapshotAfter(parseEvery("week"), day("2024-01-05"))).toBe(day("2024-01-08"));
    expect(firstSnapshotAfter(parseEvery("week"), day("2024-01-08"))).toBe(day("2024-01-15"));
    expect(firstSnapshotAfter(parseEvery("10 days"), day("2024-01-05"))).toBe(day("2024-01-15"));
    const dates = (ds: number[]) => ds.map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
    expect(dates(snapshotDays(parseEvery("month"), day("2024-01-31"), day("2024-05-31")))).toEqual(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"]);
    expect(dates(snapshotDays(parseEvery("quarter"), day("2011-01-01"), day("2011-12-10")))).toEqual(["2011-01-01", "2011-04-01", "2011-07-01", "2011-10-01"]);
    expect(dates(snapshotDays(parseEvery("week"), day("2024-01-01"), day("2024-01-22")))).toEqual(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]);
    expect(() => snapshotDays(parseEvery("day"), day("2000-01-01"), day("2024-01-01"))).toThrow(/more than 2000 snapshots; take them less often or narrow --from and --to/);
  });

  it("refuses --from after --to and a schedule that ends before it starts", async () => {
    const file = await write("toy3.csv", TOY);
    await expect(computeTrackFeaturesFromFile(file, TOY_MAP, { every: parseEvery("month"), from: "2024-03-01", to: "2024-02-01" }))
      .rejects.toThrow(/--from 2024-03-01 is after --to 2024-02-01/);
    await expect(computeTrackFeaturesFromFile(file, TOY_MAP, { every: parseEvery("month"), to: "2024-01-10" }))
      .rejects.toThrow(/the first snapshot date 2024-02-01 is after the last possible one 2024-01-10/);
    await expect(computeTrackFeaturesFromFile(file, { ...TOY_MAP, asOf: "2024-02-01" }, { every: parseEvery("month") }))
      .rejects.toThrow(/--as-of dates one snapshot/);
  });
});

describe("segments over time", () => {
  /** The toy log tracked monthly with a rule: segment 1 for customers who bought within 20 days, else 0. */
  async function toyTracked(): Promise<TrackedSegments> {
    const file = await write("toy4.csv", TOY);
    const f = await computeTrackFeaturesFromFile(file, TOY_MAP, { every: parseEvery("month"), to: "2024-04-01" });
    try {
      return await trackSegments(f, async (data) => {
        const r = data.columns.find((c) => c.name === "recency_days")!.values as Float64Array;
        return { labels: Int32Array.from(r, (x) => (x <= 20 ? 1 : 0)), names: new Map([[0, "Lapsing"], [1, "Recent"]]), note: null };
      });
    } finally {
      await dropTrackFeatures(f);
    }
  }

  it("sizes, flows and changes by hand", async () => {
    const t = await toyTracked();
    // Recency: Feb A 27, B 12; Mar A 20, B 2; Apr A 51, B 30, C 17.
    expect(Array.from(t.labels[0])).toEqual([0, 1, NOT_YET]);
    expect(Array.from(t.labels[1])).toEqual([1, 1, NOT_YET]);
    expect(Array.from(t.labels[2])).toEqual([0, 0, 1]);
    const sizes = trackSizes(t);
    expect(sizes).toEqual([
      { date: "2024-02-01", segment: 0, name: "Lapsing", customers: 1, share: 0.5 },
      { date: "2024-02-01", segment: 1, name: "Recent", customers: 1, share: 0.5 },
      { date: "2024-03-01", segment: 0, name: "Lapsing", customers: 0, share: 0 },
      { date: "2024-03-01", segment: 1, name: "Recent", customers: 2, share: 1 },
      { date: "2024-04-01", segment: 0, name: "Lapsing", customers: 2, share: 2 / 3 },
      { date: "2024-04-01", segment: 1, name: "Recent", customers: 1, share: 1 / 3 },
    ]);
    const flows = trackFlows(t);
    expect(flows).toEqual([
      { fromDate: "2024-02-01", toDate: "2024-03-01", customers: 2, newCustomers: 0, moved: 1, transitions: [
        { from: 0, fromName: "Lapsing", to: 1, toName: "Recent", customers: 1 },
        { from: 1, fromName: "Recent", to: 1, toName: "Recent", customers: 1 },
      ] },
      { fromDate: "2024-03-01", toDate: "2024-04-01", customers: 3, newCustomers: 1, moved: 2, transitions: [
        { from: 1, fromName: "Recent", to: 0, toName: "Lapsing", customers: 2 },
        { from: null, fromName: null, to: 1, toName: "Recent", customers: 1 },
      ] },
    ]);
    expect(describeFlows(flows, sizes)).toEqual([
      "2024-02-01 → 2024-03-01: no new customers; 1 of 2 moved (50.0 %): 1 Lapsing (100.0 %) became Recent",
      "2024-03-01 → 2024-04-01: 1 new customer (most to Recent: 1); 2 of 2 moved (100.0 %): 2 Recent (100.0 %) became Lapsing",
    ]);
    // The changes, with the monetary value as of the later date.
    expect(trackChanges(t, 1)).toEqual([{ id: "A", date: "2024-03-01", from: 0, fromName: "Lapsing", to: 1, toName: "Recent", value: 27 }]);
    expect(trackChanges(t, 2)).toEqual([
      { id: "A", date: "2024-04-01", from: 1, fromName: "Recent", to: 0, toName: "Lapsing", value: 27 },
      { id: "B", date: "2024-04-01", from: 1, fromName: "Recent", to: 0, toName: "Lapsing", value: 47 },
      { id: "C", date: "2024-04-01", from: null, fromName: null, to: 1, toName: "Recent", value: 8 },
    ]);
    expect(countChanges(t)).toBe(4);
  });

  it("changes equal segmentChanges of the two snapshots' members", async () => {
    const log = generateTransactions({ customers: 200, seed: 5, start: "2023-01-01", end: "2023-12-31" });
    const file = await write("gen-seg.csv", [...toCsv(log)].join(""));
    const map: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" };
    const f = await computeTrackFeaturesFromFile(file, map, { every: parseEvery("month") });
    let t: TrackedSegments;
    try {
      // Three segments by frequency and recency: a rule that moves customers over time.
      t = await trackSegments(f, async (data) => {
        const r = data.columns.find((c) => c.name === "recency_days")!.values as Float64Array;
        const fq = data.columns.find((c) => c.name === "frequency")!.values as Float64Array;
        return { labels: Int32Array.from(r, (x, i) => (x > 60 ? 0 : fq[i] >= 3 ? 2 : 1)), names: new Map([[0, "Lapsed"], [1, "Active"], [2, "Regular"]]), note: null };
      });
    } finally {
      await dropTrackFeatures(f);
    }
    const members = (j: number): SegmentMember[] => {
      const out: SegmentMember[] = [];
      t.labels[j].forEach((l, i) => {
        if (l !== NOT_YET) out.push({ id: t.features.ids[i], segment: l, name: t.names[j].get(l)! });
      });
      return out;
    };
    let total = 0;
    for (let j = 1; j < t.labels.length; j++) {
      const value = new Map<string, number>();
      t.labels[j].forEach((l, i) => {
        if (l !== NOT_YET) value.set(t.features.ids[i], t.monetary[j][i]);
      });
      const want = segmentChanges(members(j - 1), members(j), t.features.snapshots[j].date, value);
      const got = trackChanges(t, j);
      expect(got).toEqual(want);
      total += got.length;
      // The flows hold every customer of the later date once.
      const flow = trackFlows(t)[j - 1];
      expect(flow.transitions.reduce((a, x) => a + x.customers, 0)).toBe(t.features.snapshots[j].customers);
      expect(flow.moved + flow.newCustomers).toBe(got.length);
    }
    expect(total).toBe(countChanges(t));
    expect(total).toBeGreaterThan(50);
  });
});

describe("limits", () => {
  it("refuses to hold every customer's segment at every date beyond a gigabyte, before reading any", async () => {
    const f = {
      file: "log.csv", ids: new Array<string>(1_000_000).fill("x"),
      snapshots: Array.from({ length: 100 }, (_, j) => ({ index: j, date: "2024-01-01", day: 0, customers: 1 })),
    } as unknown as TrackFeatures;
    await expect(trackSegments(f, async () => {
      throw new Error("not reached");
    })).rejects.toThrow(/100 snapshots of 1,000,000 customers would hold 1\.1 GB of segments; take the snapshots less often \(--every\) or over a shorter span/);
  });

  it("reads a log with Windows line ends as any other", async () => {
    const crlf = await write("toy-crlf.csv", TOY.replace(/\n/g, "\r\n"));
    const lf = await write("toy-lf.csv", TOY);
    const a = await computeTrackFeaturesFromFile(crlf, TOY_MAP, { every: parseEvery("month"), to: "2024-04-01" });
    const b = await computeTrackFeaturesFromFile(lf, TOY_MAP, { every: parseEvery("month"), to: "2024-04-01" });
    try {
      expect(await snapshots(a)).toEqual(await snapshots(b));
      expect(a.snapshots).toEqual(b.snapshots);
    } finally {
      await dropTrackFeatures(a);
      await dropTrackFeatures(b);
    }
  });
});

describe("refits with stable ids", () => {
  it("keeps an id only where the rule that decided allows: half the customers shared, or the centre near enough", async () => {
    const log = generateTransactions({ customers: 400, seed: 21, start: "2023-01-01", end: "2024-06-30" });
    const file = await write("gen-refit.csv", [...toCsv(log)].join(""));
    const map: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" };
    const config = parseConfig(JSON.parse(JSON.stringify(rfmSegmentationInput({}, map, { k: 4 }))), "cli");
    const f = await computeTrackFeaturesFromFile(file, map, { every: parseEvery("quarter"), from: "2023-07-01" });
    try {
      const t = await trackSegments(f, refitSegmenter(config));
      let kept = 0;
      let customersRule = 0;
      for (let j = 1; j < f.snapshots.length; j++) {
        // The two fits again, on their own (the same seed gives the same segments).
        const read = async (i: number) => snapshotDataset(f, await readSnapshot(f, i), i);
        const dPrev = await read(j - 1);
        const dCur = await read(j);
        const prev = await runSegmentation(config, dPrev);
        const cur = await runSegmentation(config, dCur);
        // Each fit's segment c carries track's stable id at that date.
        const idOf = (labels: Int32Array, data: typeof dCur, i: number) => {
          const ids = new Map<number, number>();
          const ci = new Map(t.features.ids.map((id, c) => [id, c]));
          const idCol = data.columns[0].values as string[];
          labels.forEach((l, r) => {
            const stable = t.labels[i][ci.get(idCol[r])!];
            if (ids.has(l)) expect(ids.get(l)).toBe(stable);
            ids.set(l, stable);
          });
          return ids;
        };
        const prevIds = idOf(prev.labels, dPrev, j - 1);
        const curIds = idOf(cur.labels, dCur, j);
        // Centres in the previous fit's space: the previous segments' and the new ones'.
        const centre = (X: { data: Float64Array; cols: number }, labels: Int32Array, c: number) => {
          const m = new Float64Array(X.cols);
          let n = 0;
          labels.forEach((l, r) => {
            if (l !== c) return;
            n++;
            for (let q = 0; q < X.cols; q++) m[q] += X.data[r * X.cols + q];
          });
          return m.map((v) => v / n);
        };
        const dist = (a: Float64Array, b: Float64Array) => Math.sqrt(a.reduce((s, v, q) => s + (v - b[q]) ** 2, 0));
        const Xcur = prev.pipeline.transform(dCur);
        const pc = [...prevIds.keys()].map((c) => ({ id: prevIds.get(c)!, m: centre(prev.matrix, prev.labels, c) }));
        // The note of the date says which rule decided; each kept id must pass that rule.
        const byCustomers = /^shared customers decide/.test(t.notes[j] ?? "");
        expect(t.notes[j]).toMatch(/^(shared customers decide|segment centres decide)/);
        if (byCustomers) customersRule++;
        for (const [c, id] of curIds) {
          const match = pc.find((p) => p.id === id);
          if (!match) continue;
          kept++;
          if (byCustomers) {
            // The Jaccard of the two segments on the customers of both dates.
            let both = 0;
            let either = 0;
            t.labels[j - 1].forEach((l, i) => {
              if (l === NOT_YET) return;
              const a = l === id;
              const b = t.labels[j][i] === id;
              if (a && b) both++;
              if (a || b) either++;
            });
            expect(both / either).toBeGreaterThanOrEqual(0.5);
          } else {
            const reach = Math.min(...pc.filter((p) => p.id !== id).map((p) => dist(p.m, match.m))) / 2;
            expect(dist(centre(Xcur, cur.labels, c), match.m)).toBeLessThanOrEqual(reach + 1e-9);
          }
        }
      }
      expect(kept).toBeGreaterThan(0);
      // Early dates add many customers (the centres decide), later ones few (shared customers decide).
      expect(customersRule).toBeGreaterThan(0);
    } finally {
      await dropTrackFeatures(f);
    }
  }, 120_000);
});
