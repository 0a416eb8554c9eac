/**
 * Reading every supported input format and writing every output format, on small files
 * the test writes into a temporary folder, through the CLI entry point in-process.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "./helpers/cli.js";
import { exec, lit, queryRows } from "../src/io/duck.js";


interface InspectColumn {
  name: string;
  kind: string;
  storedAs: string;
  reason: string;
  missing: number;
  distinct: number;
  numeric?: { min: number; max: number; mean: number; median: number };
  range?: { min: string; max: string };
  top?: { value: string; count: number }[];
  textValues?: { count: number; example: string; row: number };
  hints: string[];
}
interface InspectDoc {
  file: string;
  format: string;
  details: string;
  rows: number;
  columns: InspectColumn[];
}

interface Inspected {
  doc: InspectDoc;
  names: string[];
  kinds: Record<string, string>;
  col: (name: string) => InspectColumn;
}

async function inspect(path: string, extra: string[] = []): Promise<Inspected> {
  const r = await run(["inspect", path, ...extra, "--json"]);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toBe("");
  const doc = JSON.parse(r.out) as InspectDoc;
  return {
    doc,
    names: doc.columns.map((c) => c.name),
    kinds: Object.fromEntries(doc.columns.map((c) => [c.name, c.kind])),
    col: (name) => {
      const c = doc.columns.find((x) => x.name === name);
      if (!c) throw new Error(`${path}: no column ${JSON.stringify(name)} in ${doc.columns.map((x) => x.name).join(", ")}`);
      return c;
    },
  };
}

let dir = "";
const at = (name: string): string => join(dir, name);

async function write(name: string, content: string | Uint8Array): Promise<string> {
  await writeFile(at(name), content);
  return at(name);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmenta-io-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("delimited text", () => {
  it("comma-separated, with ids, numbers, categories and yes/no", async () => {
    const f = await write(
      "comma.csv",
      "customer_id,age,income,tier,active\n" +
        "C001,34,52000.5,gold,yes\nC002,41,61000,silver,no\nC003,29,38000.25,gold,yes\nC004,55,90500,bronze,no\n",
    );
    const { doc, names, kinds } = await inspect(f);
    expect(doc.rows).toBe(4);
    expect(doc.format).toBe("csv");
    expect(doc.details).toContain("comma");
    expect(names).toEqual(["customer_id", "age", "income", "tier", "active"]);
    expect(kinds).toEqual({ customer_id: "id", age: "numeric", income: "numeric", tier: "categorical", active: "boolean" });
  });

  it("semicolon-separated", async () => {
    const f = await write("semi.csv", "name;visits;region\nAnna;3;north\nBen;5;south\nCleo;8;north\n");
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(doc.details).toContain("semicolon");
    expect(names).toEqual(["name", "visits", "region"]);
    expect(kinds).toMatchObject({ visits: "numeric", region: "categorical" });
    expect(col("visits").numeric).toMatchObject({ min: 3, max: 8 });
  });

  it("semicolon-separated with decimal commas (2,5)", async () => {
    const f = await write("semi-decimal.csv", "city;price;qty\nParis;2,5;1\nLyon;3,75;2\nNice;10,0;3\nLille;1234,5;4\n");
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(4);
    expect(doc.details).toContain("decimal comma");
    expect(names).toEqual(["city", "price", "qty"]);
    expect(kinds).toEqual({ city: "categorical", price: "numeric", qty: "numeric" });
    expect(col("price").numeric?.min).toBe(2.5);
    expect(col("price").numeric?.max).toBe(1234.5);
    expect(col("price").numeric?.mean).toBeCloseTo((2.5 + 3.75 + 10 + 1234.5) / 4, 10);
  });

  it("tab-separated", async () => {
    const f = await write("tab.tsv", "id\tspend\tchannel\n1\t10.5\tweb\n2\t20\tstore\n3\t7.25\tweb\n");
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(doc.details).toContain("tab");
    expect(names).toEqual(["id", "spend", "channel"]);
    expect(kinds).toEqual({ id: "id", spend: "numeric", channel: "categorical" });
    expect(col("spend").numeric?.max).toBe(20);
  });

  it("pipe-separated", async () => {
    const f = await write("pipe.psv", "sku|price|in stock\nA-1|9.99|true\nB-2|19.5|false\nC-3|4|true\n");
    const { doc, names, kinds } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(doc.details).toContain("pipe");
    expect(names).toEqual(["sku", "price", "in stock"]);
    expect(kinds).toMatchObject({ price: "numeric", "in stock": "boolean" });
  });

  it("columns separated by runs of spaces (leading-zero ids, YYYYMMDD dates, a 0/1 flag)", async () => {
    const f = await write(
      "spaces.txt",
      "  cust_id   date      amount  subscribed\n" +
        "  00017  19970101    11.77    1\n" +
        "  00017  19970315     5.00    0\n" +
        "  00230  19980630   104.10    1\n" +
        "\n" +
        "  01002  19971231     0.99    0\n",
    );
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(4);
    expect(doc.details).toContain("runs of spaces");
    expect(names).toEqual(["cust_id", "date", "amount", "subscribed"]);
    expect(kinds).toEqual({ cust_id: "id", date: "datetime", amount: "numeric", subscribed: "boolean" });
    expect(col("cust_id").distinct).toBe(3);
    expect(col("cust_id").top?.[0]).toEqual({ value: "00017", count: 2 });
    expect(col("date").range?.min).toMatch(/^1997-01-01/);
    expect(col("date").range?.max).toMatch(/^1998-06-30/);
    expect(col("amount").numeric?.max).toBeCloseTo(104.1, 10);
  });

  it("quoted fields holding the delimiter, quotes and line breaks", async () => {
    const f = await write(
      "quoted.csv",
      'name,note,amount\n"Smith, John","line one\nline two, with a comma",10\n"Doe ""JD"" Jane",plain,20\n"Roe, Ann","a ""quoted"" word",30\n',
    );
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(names).toEqual(["name", "note", "amount"]);
    expect(kinds).toEqual({ name: "categorical", note: "categorical", amount: "numeric" });
    const nameValues = col("name").top?.map((t) => t.value).sort();
    expect(nameValues).toEqual(['Doe "JD" Jane', "Roe, Ann", "Smith, John"]);
    expect(col("note").top?.map((t) => t.value)).toContain("line one\nline two, with a comma");
    expect(col("amount").numeric?.mean).toBe(20);
  });

  it("a UTF-8 byte-order mark does not end up in the first column's name", async () => {
    const body = new TextEncoder().encode("customer,spend,city\nA1,10,Zürich\nB2,20,Malmö\nC3,30,Zürich\n");
    const f = await write("bom.csv", new Uint8Array([0xef, 0xbb, 0xbf, ...body]));
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(names).toEqual(["customer", "spend", "city"]);
    expect(kinds).toMatchObject({ spend: "numeric", city: "categorical" });
    expect(col("city").top?.[0]).toEqual({ value: "Zürich", count: 2 });
  });

  it("CRLF line endings leave no carriage returns in names or values", async () => {
    const f = await write("crlf.csv", "x,y,label\r\n1,2.5,a\r\n3,4.5,b\r\n5,6.5,a\r\n");
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(3);
    expect(names).toEqual(["x", "y", "label"]);
    expect(kinds).toEqual({ x: "numeric", y: "numeric", label: "categorical" });
    expect(col("label").top?.map((t) => t.value).sort()).toEqual(["a", "b"]);
  });

  it("a headerless numeric file: every line is data, columns are numbered", async () => {
    const f = await write("headerless.csv", "1,2.5,30\n4,5.5,60\n7,8.5,90\n10,11.5,120\n");
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(4);
    expect(names).toEqual(["column0", "column1", "column2"]);
    expect(Object.values(kinds)).toEqual(["numeric", "numeric", "numeric"]);
    expect(col("column0").numeric).toMatchObject({ min: 1, max: 10 });
  });
});

describe("Parquet, JSON, NDJSON and XLSX", () => {
  it("Parquet written by DuckDB, with typed columns", async () => {
    const f = at("typed.parquet");
    await exec(
      `COPY (SELECT 'K' || lpad(CAST(i AS VARCHAR), 3, '0') AS customer_key, i * 1.5 AS spend, CAST(i % 4 AS INTEGER) AS visits, ` +
        `i % 2 = 0 AS is_member, DATE '2024-01-01' + CAST(i AS INTEGER) AS signup, ` +
        `TIMESTAMP '2024-01-01 08:00:00' + INTERVAL (i) HOUR AS last_seen, ` +
        `CASE WHEN i % 3 = 0 THEN 'north' WHEN i % 3 = 1 THEN 'south' ELSE 'west' END AS region, ` +
        `CAST(md5(CAST(i AS VARCHAR)) AS UUID) AS token ` +
        `FROM range(25) t(i)) TO ${lit(f)} (FORMAT parquet)`,
    );
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.format).toBe("parquet");
    expect(doc.rows).toBe(25);
    expect(names).toEqual(["customer_key", "spend", "visits", "is_member", "signup", "last_seen", "region", "token"]);
    expect(kinds).toEqual({
      customer_key: "id", spend: "numeric", visits: "numeric", is_member: "boolean", signup: "datetime",
      last_seen: "datetime", region: "categorical", token: "id",
    });
    expect(col("spend").numeric).toMatchObject({ min: 0, max: 36 });
    expect(col("signup").range).toEqual({ min: "2024-01-01", max: "2024-01-25" });
    expect(col("token").storedAs).toBe("UUID");
  });

  it("a JSON array of objects, with a null", async () => {
    const records = [
      { id: "c1", age: 30, vip: true, joined: "2021-03-04", city: "Oslo" },
      { id: "c2", age: 41.5, vip: false, joined: "2022-01-02", city: "Rome" },
      { id: "c3", age: null, vip: true, joined: "2020-12-31", city: "Oslo" },
      { id: "c4", age: 25, vip: false, joined: "2023-07-15", city: "Lima" },
    ];
    const f = await write("records.json", JSON.stringify(records, null, 2));
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.format).toBe("json");
    expect(doc.rows).toBe(4);
    expect(names).toEqual(["id", "age", "vip", "joined", "city"]);
    expect(kinds).toEqual({ id: "id", age: "numeric", vip: "boolean", joined: "datetime", city: "categorical" });
    expect(col("age").missing).toBe(1);
    expect(col("age").numeric?.max).toBe(41.5);
  });

  it("newline-delimited JSON (.ndjson and .jsonl)", async () => {
    const lines = [
      { customer: "u-1", orders: 3, spend: 120.5, channel: "web" },
      { customer: "u-2", orders: 1, spend: 15, channel: "app" },
      { customer: "u-3", orders: 7, spend: 410.25, channel: "web" },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n";
    for (const name of ["events.ndjson", "events.jsonl"]) {
      const { doc, names, kinds } = await inspect(await write(name, lines));
      expect(doc.rows, name).toBe(3);
      expect(names, name).toEqual(["customer", "orders", "spend", "channel"]);
      expect(kinds, name).toEqual({ customer: "id", orders: "numeric", spend: "numeric", channel: "categorical" });
    }
  });

  it("XLSX written with exceljs: strings, numbers, a date, a boolean and empty cells", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("Customers");
    ws.addRow(["customer", "city", "spend", "joined", "vip", "note"]);
    ws.addRow(["A01", "Oslo", 10.5, new Date(Date.UTC(2021, 2, 4)), true, "first"]);
    ws.addRow(["A02", "Rome", null, new Date(Date.UTC(2022, 0, 2)), false, null]);
    ws.addRow(["A03", "Oslo", 30.25, new Date(Date.UTC(2020, 11, 31)), true, "third, with a comma"]);
    ws.addRow(["A04", "Lima", 7, new Date(Date.UTC(2023, 6, 15)), false, "fourth"]);
    const other = wb.addWorksheet("Other");
    other.addRow(["ignored"]);
    other.addRow([1]);
    const f = at("book.xlsx");
    await wb.xlsx.writeFile(f);
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.format).toBe("xlsx");
    expect(doc.details).toContain('sheet "Customers"');
    expect(doc.rows).toBe(4);
    expect(names).toEqual(["customer", "city", "spend", "joined", "vip", "note"]);
    expect(kinds).toEqual({ customer: "id", city: "categorical", spend: "numeric", joined: "datetime", vip: "boolean", note: "categorical" });
    expect(col("spend").missing).toBe(1);
    expect(col("spend").numeric).toMatchObject({ min: 7, max: 30.25 });
    expect(col("joined").range).toEqual({ min: "2020-12-31", max: "2023-07-15" });
    expect(col("note").missing).toBe(1);
    expect(col("note").top?.map((t) => t.value)).toContain("third, with a comma");
    const second = await inspect(f, ["--sheet", "Other"]);
    expect(second.names).toEqual(["ignored"]);
    expect(second.doc.rows).toBe(1);
  });
});

describe("--type overrides", () => {
  const content =
    "zip,amount,level,ref\n75001,10,12,007\n69002,20,x7,012\n13003,30,15,003\n75001,40,18,120\n";

  it("--type col=categorical reads a numeric column as categories", async () => {
    const f = await write("types.csv", content);
    const before = await inspect(f);
    expect(before.kinds.zip).toBe("numeric");
    const { col } = await inspect(f, ["--type", "zip=categorical"]);
    const zip = col("zip");
    expect(zip.kind).toBe("categorical");
    expect(zip.reason).toBe("set by --type");
    expect(zip.numeric).toBeUndefined(); // no mean of postcodes
    expect(zip.top?.[0]).toEqual({ value: "75001", count: 2 });
    expect(zip.distinct).toBe(3);
    // The human view shows top values too, not min/mean/max.
    const human = await run(["inspect", f, "--type", "zip=categorical"]);
    const line = human.out.split("\n").find((l) => l.startsWith("zip "));
    expect(line).toContain("75001 (2)");
    expect(line).not.toContain("mean");
  });

  it("--type col=numeric reads text as numbers; text values become missing, with a hint", async () => {
    const f = await write("types.csv", content);
    const before = await inspect(f);
    expect(before.kinds.ref).toBe("id"); // leading zeros
    expect(before.kinds.level).toBe("categorical");
    const { col } = await inspect(f, ["--type", "ref=numeric", "--type", "level=numeric"]);
    expect(col("ref").kind).toBe("numeric");
    expect(col("ref").numeric).toMatchObject({ min: 3, max: 120 });
    expect(col("ref").missing).toBe(0);
    const level = col("level");
    expect(level.kind).toBe("numeric");
    expect(level.missing).toBe(1);
    expect(level.distinct).toBe(3);
    expect(level.textValues).toEqual({ count: 1, example: "x7", row: 2 });
    expect(level.hints.join("; ")).toContain('"x7" in data row 2, line 3');
  });

  it("a forced kind reaches the clustering (one-hot columns for a categorical zip)", async () => {
    const f = await write("types.csv", content);
    const r = await run(["cluster", f, "--type", "zip=categorical", "--features", "zip,amount", "--k", "2", "--json"]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as { featureNames: string[] };
    expect(doc.featureNames).toEqual(["amount", "zip=13003", "zip=69002", "zip=75001"]);
  });

  it("an unknown column or kind is a usage error (exit 2) naming it", async () => {
    const f = await write("types.csv", content);
    const a = await run(["inspect", f, "--type", "nope=numeric"]);
    expect(a.code).toBe(2);
    expect(a.err).toContain('no column "nope"');
    const b = await run(["inspect", f, "--type", "zip=weird"]);
    expect(b.code).toBe(2);
    expect(b.err).toContain("zip=weird");
  });
});

describe("writing outputs", () => {
  it("cluster --out writes the same segments as .csv, .parquet and .json", async () => {
    // Two well-separated groups; ids with leading zeros that must survive every format.
    const rows = ["account_no,spend,visits"];
    for (let i = 0; i < 40; i++) {
      const high = i % 2 === 0;
      rows.push(`${String(i + 1).padStart(4, "0")},${high ? 900 + i : 10 + i},${high ? 30 + (i % 5) : 1 + (i % 3)}`);
    }
    const f = await write("accounts.csv", rows.join("\n") + "\n");
    const read: Record<string, { id: string; segment: number }[]> = {};
    for (const ext of ["csv", "parquet", "json"]) {
      const out = at(`segments.${ext}`);
      const r = await run(["cluster", f, "--k", "2", "--seed", "7", "--out", out, "--json"]);
      expect(r.code, r.err).toBe(0);
      expect((JSON.parse(r.out) as { outputs: { out: string } }).outputs.out).toBe(out);
      const source =
        ext === "csv" ? `read_csv(${lit(out)}, header=true, all_varchar=true)` : ext === "parquet" ? `read_parquet(${lit(out)})` : `read_json_auto(${lit(out)})`;
      const cols = (await queryRows(`DESCRIBE SELECT * FROM ${source}`)).map((c) => String(c.column_name));
      expect(cols, ext).toEqual(["account_no", "segment", "segment_name"]);
      read[ext] = (await queryRows(`SELECT CAST(account_no AS VARCHAR) AS id, CAST(segment AS INTEGER) AS segment FROM ${source}`)).map(
        (r) => ({ id: String(r.id), segment: Number(r.segment) }),
      );
      if (ext === "json") {
        // .json is one JSON array (not one object per line).
        const doc = JSON.parse(await readFile(out, "utf8")) as unknown[];
        expect(Array.isArray(doc)).toBe(true);
        expect(doc).toHaveLength(40);
      }
      // And segmenta itself reads its own output back.
      const back = await inspect(out);
      expect(back.doc.rows, ext).toBe(40);
    }
    expect(read.csv).toHaveLength(40);
    expect(read.csv.map((r) => r.id)).toEqual(rows.slice(1).map((l) => l.split(",")[0]));
    expect(read.parquet).toEqual(read.csv);
    expect(read.json).toEqual(read.csv);
    // The groups are found: even rows in one segment, odd rows in the other.
    const even = new Set(read.csv.filter((_, i) => i % 2 === 0).map((r) => r.segment));
    const odd = new Set(read.csv.filter((_, i) => i % 2 === 1).map((r) => r.segment));
    expect(even.size).toBe(1);
    expect(odd.size).toBe(1);
    expect([...even][0]).not.toBe([...odd][0]);
    const text = await readFile(at("segments.csv"), "utf8");
    expect(text.startsWith("account_no,segment,segment_name\n0001,")).toBe(true);
    // Written atomically: no temporary files are left beside the outputs.
    expect((await readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });
});

describe("a large file flows through DuckDB", () => {
  it("inspects a ~30 MB, 1.5 million row CSV", async () => {
    const f = at("large.csv");
    await exec(
      `COPY (SELECT 'C' || CAST(i AS VARCHAR) AS customer_id, CAST((i * 7919) % 100000 AS DOUBLE) / 100 AS spend, i % 37 AS visits, ` +
        `CASE i % 3 WHEN 0 THEN 'north' WHEN 1 THEN 'south' ELSE 'west' END AS region FROM range(1500000) t(i)) ` +
        `TO ${lit(f)} (FORMAT csv, HEADER true)`,
    );
    const size = (await stat(f)).size;
    expect(size).toBeGreaterThan(25e6);
    const { doc, names, kinds, col } = await inspect(f);
    expect(doc.rows).toBe(1_500_000);
    expect(names).toEqual(["customer_id", "spend", "visits", "region"]);
    expect(kinds).toEqual({ customer_id: "id", spend: "numeric", visits: "numeric", region: "categorical" });
    expect(col("customer_id").distinct).toBe(1_500_000);
    expect(col("visits").numeric).toMatchObject({ min: 0, max: 36 });
    expect(col("region").top).toEqual([
      { value: "north", count: 500_000 },
      { value: "south", count: 500_000 },
      { value: "west", count: 500_000 },
    ]);
  });
});
