/**
 * Reading awkward input files: JSON keys whose values mix numbers and numeric strings,
 * columns read verbatim as text (ids), headers DuckDB renames, compressed files (and corrupt
 * or truncated ones), and the line named by an error far into a file.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/core/errors.js";
import { exec, queryRows } from "../src/io/duck.js";
import { dropTable, loadTable, type LoadedTable, type ReadOptions } from "../src/io/read.js";
import { computeRfmFromFile } from "../src/io/rfm.js";
import { profileTable } from "../src/io/schema.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmenta-read-hostile-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

/** Loads a file, hands the table to `use`, drops it. */
async function withTable<T>(path: string, use: (t: LoadedTable) => Promise<T>, options: ReadOptions = {}): Promise<T> {
  const t = await loadTable(path, options);
  try {
    return await use(t);
  } finally {
    await dropTable(t);
  }
}

async function column(t: LoadedTable, name: string): Promise<unknown[]> {
  const rows = await queryRows(`SELECT "${name}" AS v FROM ${t.table} ORDER BY rowid`);
  return rows.map((r) => r.v);
}

async function failure(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return (e as Error).message;
}

describe("JSON keys mixing numbers and numeric strings", () => {
  const records = [
    { id: "c1", spend: 1, visits: "3", note: null },
    { id: "c2", spend: "2.5", visits: 4, note: "x" },
    { id: "c3", spend: 10, visits: "5", note: 7 },
    { id: "c4", spend: "0.25", visits: null, note: "y" },
    { id: "c5", spend: 4, visits: 6, note: { k: 1 } },
  ];
  for (const [ext, text] of [
    ["ndjson", records.map((r) => JSON.stringify(r)).join("\n") + "\n"],
    ["json", JSON.stringify(records)],
  ] as const) {
    it(`.${ext}: read as plain text, so the profile takes them as numbers stored as text`, async () => {
      const f = await write(`mixed.${ext}`, text);
      await withTable(f, async (t) => {
        expect(t.columns.find((c) => c.name === "spend")?.duckType).toBe("VARCHAR");
        expect(await column(t, "spend")).toEqual(["1", "2.5", "10", "0.25", "4"]);
        expect(await column(t, "visits")).toEqual(["3", "4", "5", null, "6"]);
        expect(await column(t, "note")).toEqual([null, "x", "7", "y", '{"k":1}']);
        const p = await profileTable(t);
        const spend = p.columns.find((c) => c.name === "spend")!;
        expect(spend.kind).toBe("numeric");
        expect(spend.numeric?.mean).toBeCloseTo((1 + 2.5 + 10 + 0.25 + 4) / 5, 12);
        expect(spend.numeric?.max).toBe(10);
        const visits = p.columns.find((c) => c.name === "visits")!;
        expect(visits.kind).toBe("numeric");
        expect(visits.missing).toBe(1);
        expect(visits.numeric?.mean).toBe(4.5);
      });
    });
  }
});

describe("columns read verbatim as text (loadTable's text option)", () => {
  // Ids that look like numbers: zero-padded, whole numbers written with ".0", and plain numbers.
  const ids = ["007", "12", "17850.0", "0042", "3", "17851.0", "99", "100", "5", "8"];

  it("CSV: every id exactly as written, the other columns still typed; unknown names ignored", async () => {
    const f = await write("ids.csv", "id,amount\n" + ids.map((id, i) => `${id},${i + 0.5}`).join("\n") + "\n");
    await withTable(f, async (t) => {
      expect(t.columns).toEqual([{ name: "id", duckType: "VARCHAR" }, { name: "amount", duckType: "DOUBLE" }]);
      expect(await column(t, "id")).toEqual(ids);
    }, { text: ["id", "no such column"] });
  });

  it("CSV: whole numbers written with \".0\" stay as written (DuckDB alone reads them as numbers)", async () => {
    const written = ["17850.0", "12", "13047.0", "3", "12583.0"];
    const f = await write("float-ids.csv", "id,amount\n" + written.map((id, i) => `${id},${i}`).join("\n") + "\n");
    await withTable(f, async (t) => {
      expect(t.columns[0]).toEqual({ name: "id", duckType: "VARCHAR" });
      expect(await column(t, "id")).toEqual(written);
    }, { text: ["id"] });
    await withTable(f, async (t) => expect(t.columns[0].duckType).toBe("DOUBLE"));
  });

  it("CSV: a column of numbers with a few other values far down keeps every value", async () => {
    const n = 25_000; // past DuckDB's type sample of 20,480 rows
    const values = Array.from({ length: n }, (_, i) => (i === 3 ? "007" : i === n - 2 ? "A-9" : i === n - 1 ? "B 12" : String(1000 + i)));
    const f = await write("mostly-numbers.csv", "customer,x\n" + values.map((v, i) => `${v},${i % 7}`).join("\n") + "\n");
    await withTable(f, async (t) => {
      expect(t.columns[0]).toEqual({ name: "customer", duckType: "VARCHAR" });
      expect(await column(t, "customer")).toEqual(values);
    }, { text: ["customer"] });
  });

  it("XLSX: text cells that look like numbers and number cells, all as written", async () => {
    const ExcelJS = (await import("exceljs")).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("Customers");
    ws.addRow(["id", "spend"]);
    ws.addRow(["17850.0", 10]); // a text cell
    ws.addRow([12, 20]);
    ws.addRow(["13047.0", 30]);
    ws.addRow([17851, 40]);
    const f = join(dir, "ids.xlsx");
    await wb.xlsx.writeFile(f);
    await withTable(f, async (t) => {
      expect(t.columns).toEqual([{ name: "id", duckType: "VARCHAR" }, { name: "spend", duckType: "BIGINT" }]);
      expect(await column(t, "id")).toEqual(["17850.0", "12", "13047.0", "17851"]);
    }, { text: ["id", "nope"] });
    await withTable(f, async (t) => expect(t.columns[0].duckType).toBe("DOUBLE"));
  });

  it("Parquet and JSON: typed values cast to text", async () => {
    const f = await write("ids.ndjson", ids.map((id, i) => JSON.stringify({ id: Number(id), n: i })).join("\n") + "\n");
    await withTable(f, async (t) => {
      expect(t.columns[0]).toEqual({ name: "id", duckType: "VARCHAR" });
      expect(t.columns[1].duckType).toBe("BIGINT");
      expect(await column(t, "id")).toEqual(ids.map((id) => String(Number(id))));
    }, { text: ["id"] });
  });
});

describe("headers DuckDB renames", () => {
  it("CSV: an empty header (column2), repeated ones (b_1, B_2) and a padded one carry the header as written", async () => {
    const f = await write("renamed.csv", "a,b,,b, c ,B\n1,2,3,4,5,6\n7,8,9,10,11,12\n");
    await withTable(f, async (t) => {
      expect(t.columns).toEqual([
        { name: "a", duckType: "BIGINT" },
        { name: "b", duckType: "BIGINT" },
        { name: "column2", duckType: "BIGINT", header: "" },
        { name: "b_1", duckType: "BIGINT", header: "b" },
        { name: "c", duckType: "BIGINT", header: " c " },
        { name: "B_2", duckType: "BIGINT", header: "B" },
      ]);
      expect(await column(t, "b_1")).toEqual([4n, 10n]);
    });
  });

  it("CSV without a header: no header field", async () => {
    const f = await write("no-header.csv", "1,2.5,3\n4,5.5,6\n7,8.5,9\n");
    await withTable(f, async (t) => {
      expect(t.columns.map((c) => c.name)).toEqual(["column0", "column1", "column2"]);
      expect(t.columns.every((c) => c.header === undefined)).toBe(true);
    });
  });

  it("whitespace-separated text: a repeated header", async () => {
    const f = await write("spaces.txt", "id  x   x\n1   2   3\n4   5   6\n");
    await withTable(f, async (t) => {
      expect(t.columns.map((c) => [c.name, c.header])).toEqual([["id", undefined], ["x", undefined], ["x_1", "x"]]);
    });
  });

  it("XLSX: an empty header cell and a repeated header", async () => {
    const ExcelJS = (await import("exceljs")).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("S");
    ws.addRow(["id", "b", null, "b"]);
    ws.addRow([1, 2, 3, 4]);
    ws.addRow([5, 6, 7, 8]);
    const f = join(dir, "renamed.xlsx");
    await wb.xlsx.writeFile(f);
    await withTable(f, async (t) => {
      expect(t.columns.map((c) => [c.name, c.header])).toEqual([["id", undefined], ["b", undefined], ["column2", ""], ["b_1", "b"]]);
    });
  });
});

describe("gzip-compressed input", () => {
  const CSV = "id,spend,tier\nc1,10.5,gold\nc2,3,silver\nc3,7.25,gold\n";
  const rows = [
    { id: "c1", spend: 10.5, tier: "gold" },
    { id: "c2", spend: 3, tier: "silver" },
    { id: "c3", spend: 7.25, tier: "gold" },
  ];

  for (const [name, text, details] of [
    ["t.csv.gz", CSV, /^delimited text \(comma, gzip-compressed\), 3 columns$/],
    ["t.tsv.gz", CSV.replace(/,/g, "\t"), /^delimited text \(tab, gzip-compressed\)/],
    ["t.txt.gz", CSV.replace(/,/g, ";"), /^delimited text \(semicolon, gzip-compressed\)/],
    ["t.json.gz", JSON.stringify(rows), /^JSON, gzip-compressed$/],
    ["t.ndjson.gz", rows.map((r) => JSON.stringify(r)).join("\n") + "\n", /^JSON, gzip-compressed$/],
    ["t.jsonl.gz", rows.map((r) => JSON.stringify(r)).join("\n"), /^JSON, gzip-compressed$/],
    ["compressed-without-gz-name.csv", CSV, /gzip-compressed/],
  ] as const) {
    it(`${name}: read as the uncompressed file`, async () => {
      const f = await write(name, gzipSync(Buffer.from(text)));
      await withTable(f, async (t) => {
        expect(t.details).toMatch(details);
        expect(t.rows).toBe(3);
        expect(t.columns.map((c) => [c.name, c.duckType])).toEqual([["id", "VARCHAR"], ["spend", "DOUBLE"], ["tier", "VARCHAR"]]);
        const got = await queryRows(`SELECT id, spend, tier FROM ${t.table} ORDER BY rowid`);
        expect(got).toEqual(rows);
      });
    });
  }

  it("whitespace-separated text, and a file named .gz that is not compressed", async () => {
    const f = await write("spaces.dat.gz", gzipSync(Buffer.from("id  x\na   1\nb   2\n")));
    await withTable(f, async (t) => expect(await column(t, "x")).toEqual(["1", "2"]));
    const g = await write("plain.csv.gz", CSV);
    await withTable(g, async (t) => expect(await column(t, "spend")).toEqual([10.5, 3, 7.25]));
    // No extension before ".gz": the format from the (decompressed) content.
    const h = await write("export.gz", CSV);
    await withTable(h, async (t) => expect(t.format).toBe("csv"));
    const j = await write("dump.gz", gzipSync(Buffer.from(JSON.stringify(rows))));
    await withTable(j, async (t) => {
      expect(t.format).toBe("json");
      expect(await column(t, "spend")).toEqual([10.5, 3, 7.25]);
    });
  });

  it("a compressed file longer than the sniffed megabyte: every row", async () => {
    const lines = ["id,x"];
    for (let i = 1; i <= 120_000; i++) lines.push(`${i},${i % 13}`);
    const f = await write("long.csv.gz", gzipSync(Buffer.from(lines.join("\n") + "\n")));
    await withTable(f, async (t) => {
      expect(t.rows).toBe(120_000);
      expect(Number((await queryRows(`SELECT sum(x) AS s FROM ${t.table}`))[0].s)).toBe(lines.slice(1).reduce((a, l) => a + Number(l.split(",")[1]), 0));
    });
  });

  it("a truncated or damaged .gz: one line naming the file", async () => {
    const whole = gzipSync(Buffer.from(Array.from({ length: 5000 }, (_, i) => `${i},${(i * 7919) % 1000}`).join("\n")));
    const cut = await write("cut.csv.gz", whole.subarray(0, Math.floor(whole.length / 2)));
    expect(await failure(loadTable(cut))).toBe(`${cut} is gzip-compressed but it is cut short; download or compress the file again`);
    const damaged = Buffer.from(whole);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    const bad = await write("damaged.ndjson.gz", damaged);
    expect(await failure(loadTable(bad))).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is gzip-compressed but its compressed data is damaged \\(.+\\); download or compress the file again$`));
    const cutJson = await write("cut.json.gz", gzipSync(Buffer.from(JSON.stringify(rows))).subarray(0, 30));
    expect(await failure(loadTable(cutJson))).toMatch(/is gzip-compressed but it is cut short/);
    expect(await failure(computeRfmFromFile(cut, { customer: "column0", date: "column1", amount: "column1" }))).toMatch(/cut\.csv\.gz is gzip-compressed but it is cut short/);
  });

  it("compressed Parquet or XLSX: say to decompress", async () => {
    const f = await write("t.parquet.gz", gzipSync(Buffer.from("PAR1")));
    expect(await failure(loadTable(f))).toBe(`${f}: a compressed parquet file cannot be read as it is; decompress it first (gunzip t.parquet.gz)`);
  });

  it("a compressed transaction log (CRLF) gives the RFM features", async () => {
    const log = "Customer,Date,Amount\r\nA,2024-01-01,10\r\nA,2024-01-05,5\r\nB,2024-01-09,7\r\n";
    const f = await write("log.csv.gz", gzipSync(Buffer.from(log)));
    const s = await computeRfmFromFile(f, { customer: "Customer", date: "Date", amount: "Amount" });
    try {
      const got = await queryRows(`SELECT customer_id, recency_days, CAST(frequency AS INTEGER) AS frequency, monetary FROM ${s.table} ORDER BY customer_id`);
      expect(got).toEqual([
        { customer_id: "A", recency_days: 5, frequency: 2, monetary: 15 },
        { customer_id: "B", recency_days: 1, frequency: 1, monetary: 7 },
      ]);
    } finally {
      await exec(`DROP TABLE IF EXISTS ${s.table}`);
    }
  });
});

describe("the file's own line in CSV errors", () => {
  /** A CSV of id,name,x with `bad` as line `at` (the header is line 1). */
  function csv(bad: string, at: number, lines = 100): string {
    const out = ["id,name,x"];
    for (let i = 1; out.length < lines; i++) out.push(out.length + 1 === at ? bad : `${i},n${i},${i * 1.5}`);
    return out.join("\n") + "\n";
  }

  it("a field longer than DuckDB's line limit on line 52 (inside DuckDB's sample: it says line 1)", async () => {
    const long = "A".repeat(2_100_000);
    const f = await write("long-field.csv", csv(`51,${long},2.0`, 52));
    expect(await failure(loadTable(f))).toBe(
      `${f}: line 52 is 2,100,007 bytes long, over the 2,000,000 bytes a row may have; ` +
        'a value this long is usually a quote (") that is never closed or data that is not text: fix or remove that row',
    );
    // The same, compressed, and with Windows line ends.
    const g = await write("long-field.csv.gz", gzipSync(Buffer.from(csv(`51,${long},2.0`, 52).replace(/\n/g, "\r\n"))));
    expect(await failure(loadTable(g))).toMatch(new RegExp(`^${g.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 52 is 2,100,007 bytes long`));
  });

  it("after a quoted value spanning lines, the line in the file, not the record's number", async () => {
    const lines = ["id,name,x", '1,"two\nlines",1.5'];
    for (let i = 2; lines.length < 30_000; i++) lines.push(`${i},n${i},${i * 1.5}`);
    lines.push("7,a,1.0,9"); // 4 fields, beyond the records sniffCsv checks: DuckDB finds it
    for (let i = 0; i < 10; i++) lines.push(`${i},m${i},${i}`);
    const text = lines.join("\n") + "\n";
    const line = text.slice(0, text.indexOf("7,a,1.0,9")).split("\n").length;
    expect(line).toBe(30_002);
    const f = await write("spanning.csv", text);
    expect(await failure(loadTable(f))).toBe(`${f}: line ${line} has 4 fields but the header has 3; fix that row, or quote values that contain the delimiter`);
  });
});
