/**
 * `segmenta export --format`: the exact import file of each CRM for a small hand-written
 * segments file (header, rows in order, outliers under their name, customers without an email
 * left out and counted); emails joined from a contacts file by verbatim ids; formula-like
 * cells neutralised; a Parquet segments file; bad usage is one line and status 2.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeColumns } from "../src/io/write.js";
import { crmColumns } from "../src/server/export/crm.js";
import { readSegmentsFile } from "../src/server/export/source.js";
import { csvCells, run } from "./helpers/cli.js";

let dir: string;
let seg: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-export-crm-"));
  seg = join(dir, "segments.csv");
  writeFileSync(
    seg,
    [
      "customer_id,segment,segment_name,email",
      "007,0,Big spenders,ann@example.com",
      "12,1,\"Loyal, young\",bob@example.com",
      "13,-1,Outliers,carl@example.com",
      "14,0,Big spenders,",
      "15,2,=HYPERLINK(\"http://x\"),dee@example.com",
      "16,1,\"Loyal, young\",+eve@example.com",
    ].join("\n") + "\n",
  );
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function read(path: string): string {
  return readFileSync(path, "utf8");
}

describe("segmenta export --format", () => {
  it("hubspot: Email, Segment; outliers by name; blank emails left out and counted; formulas neutralised", async () => {
    const out = join(dir, "hubspot.csv");
    const r = await run(["export", seg, "--format", "hubspot", "--email", "email", "--out", out]);
    expect(r.code, r.err).toBe(0);
    expect(read(out)).toBe(
      [
        "Email,Segment",
        "ann@example.com,Big spenders",
        'bob@example.com,"Loyal, young"',
        "carl@example.com,Outliers",
        `dee@example.com,"'=HYPERLINK(""http://x"")"`,
        "'+eve@example.com,\"Loyal, young\"",
        "",
      ].join("\n"),
    );
    expect(r.out).toBe(`${out}: 5 customers for a hubspot import (columns Email, Segment)`);
    expect(r.err).toBe("segmenta export: 1 customer without an email left out");
    // Nothing but the file itself is left in the folder (no temporary file).
    expect(readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("mailchimp: Email Address, Tags, a comma in a name does not split the tag", async () => {
    const out = join(dir, "mailchimp.csv");
    const r = await run(["export", seg, "--format", "Mailchimp", "--email", "email", "--out", out]);
    expect(r.code, r.err).toBe(0);
    expect(read(out)).toBe(
      [
        "Email Address,Tags",
        "ann@example.com,Big spenders",
        "bob@example.com,Loyal - young",
        "carl@example.com,Outliers",
        `dee@example.com,"'=HYPERLINK(""http://x"")"`,
        "'+eve@example.com,Loyal - young",
        "",
      ].join("\n"),
    );
  });

  it("klaviyo and salesforce headers", async () => {
    const k = join(dir, "klaviyo.csv");
    const s = join(dir, "salesforce.csv");
    expect((await run(["export", seg, "--format", "klaviyo", "--email", "email", "--out", k])).code).toBe(0);
    expect((await run(["export", seg, "--format", "salesforce", "--email", "email", "--out", s, "--json"])).code).toBe(0);
    expect(read(k).split("\n").slice(0, 3)).toEqual(["Email,Segment", "ann@example.com,Big spenders", 'bob@example.com,"Loyal, young"']);
    expect(read(s).split("\n").slice(0, 4)).toEqual(["Email,Segment__c", "ann@example.com,Big spenders", 'bob@example.com,"Loyal, young"', "carl@example.com,Outliers"]);
  });

  it("--json prints one document", async () => {
    const out = join(dir, "sf.csv");
    const r = await run(["export", seg, "--format", "salesforce", "--email", "email", "--out", out, "--json"]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ source: seg, format: "salesforce", out, columns: ["Email", "Segment__c"], rows: 5, withoutEmail: 1 });
  });

  it("emails from a contacts file joined by the id column, ids compared verbatim (007 is not 7)", async () => {
    const plain = join(dir, "plain.parquet");
    // A Parquet segments file as cluster writes it (id, segment, segment_name), without emails.
    await writeColumns(plain, [
      { name: "customer_id", type: "VARCHAR", values: ["007", "7", "20", "21"] },
      { name: "segment", type: "INTEGER", values: [1, 0, -1, 0] },
      { name: "segment_name", type: "VARCHAR", values: ["Occasional", "Regulars", "Outliers", "Regulars"] },
    ]);
    const contacts = join(dir, "contacts.csv");
    writeFileSync(contacts, ["name,customer_id,mail", "Zed,21,zed@example.com", "Seven,7,seven@example.com", "Bond,007,bond@example.com", "Nobody,99,no@example.com", "Twenty,20,"].join("\n") + "\n");
    const out = join(dir, "joined.csv");
    const r = await run(["export", plain, "--format", "klaviyo", "--email", "mail", "--contacts", contacts, "--out", out]);
    expect(r.code, r.err).toBe(0);
    expect(read(out)).toBe(["Email,Segment", "bond@example.com,Occasional", "seven@example.com,Regulars", "zed@example.com,Regulars", ""].join("\n"));
    expect(r.err).toBe("segmenta export: 1 customer without an email left out");
  });

  it("the source keeps ids verbatim and reads outliers as −1", async () => {
    const s = await readSegmentsFile(seg, { columns: ["email"] });
    expect(s.idColumn).toBe("customer_id");
    expect(s.assignments.map((a) => a.id)).toEqual(["007", "12", "13", "14", "15", "16"]);
    expect(s.assignments[2]).toEqual({ id: "13", segment: -1, name: "Outliers" });
    expect(s.extra.email[3]).toBeNull();
    const { columns, result } = crmColumns("salesforce", s.assignments, s.extra.email);
    expect(columns.map((c) => c.name)).toEqual(["Email", "Segment__c"]);
    expect(result).toEqual({ rows: 5, withoutEmail: 1 });
  });

  it("bad usage: one line, status 2, no file written", async () => {
    const out = join(dir, "bad.csv");
    const cases: [string[], RegExp][] = [
      [["export", seg, "--format", "marketo", "--email", "email", "--out", out], /--format marketo: give one of hubspot, mailchimp, klaviyo, salesforce/],
      [["export", seg, "--format", "hubspot", "--out", out], /--email COL/],
      [["export", seg, "--format", "hubspot", "--email", "mail", "--out", out], /no column "mail"/],
      [["export", seg, "--format", "hubspot", "--email", "email", "--out", join(dir, "x.xlsx")], /ending in \.csv/],
      [["export", seg, "--format", "hubspot", "--email", "email", "--out", seg], /would destroy that input/],
      [["export", seg, "--to", "postgres://localhost/db"], /give the table to write with --table T/],
      [["export", seg], /say where to export/],
      [["export", "--format", "hubspot", "--email", "email", "--out", out], /give the segments file/],
      [["export", seg, "--format", "hubspot", "--webhook", "http://127.0.0.1:9/"], /two destinations/],
      [["export", seg, "--format", "hubspot", "--email", "email", "--out", out, "--secret", "s"], /--secret goes with --webhook/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err.split("\n")).toHaveLength(1);
      expect(r.err).toMatch(message);
    }
    const dup = join(dir, "dup.csv");
    writeFileSync(dup, "id,segment,segment_name,email\na,0,X,a@x.com\nb,1,Y,b@x.com\na,1,Y,c@x.com\n");
    const r = await run(["export", dup, "--format", "hubspot", "--email", "email", "--out", out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/id "a" appears twice \(line 2 and line 4\)/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("segmenta export --help", () => {
  it("lists every option the command takes", async () => {
    const help = (await run(["export", "--help"])).out;
    const r = await run(["export", "--no-such-option"]);
    expect(r.code).toBe(2);
    const options = /the options are (.*)$/m.exec(r.err)![1].split(", ");
    expect(options).toContain("--webhook");
    for (const o of options) expect(help, `export --help lacks ${o}`).toMatch(new RegExp(`${o.replace(/[-]/g, "\\-")}\\b`));
  });
});

describe("segmenta export of segmenta cluster's output", () => {
  it("every customer with an email gets the segment name cluster gave them (ids kept verbatim; density outliers by name)", async () => {
    const table = join(dir, "customers.csv");
    const rows = ["customer_id,spend,visits,email"];
    for (let i = 0; i < 40; i++) {
      const far = i === 39; // far from both groups: DBSCAN calls it noise
      const base = far ? 500 : i < 20 ? 10 : 100;
      rows.push(`C${String(i).padStart(3, "0")},${base + (i % 5)},${far ? 90 : i < 20 ? 2 + (i % 3) : 20 + (i % 4)},${i % 7 === 3 ? "" : `c${i}@example.com`}`);
    }
    writeFileSync(table, rows.join("\n") + "\n");
    for (const algo of [["--algorithm", "kmeans", "--k", "2"], ["--algorithm", "dbscan"]]) {
      const segs = join(dir, `cluster-${algo[1]}.csv`);
      const c = await run(["cluster", table, "--id", "customer_id", "--features", "spend,visits", ...algo, "--out", segs, "--json"]);
      expect(c.code, c.err).toBe(0);
      const out = join(dir, `from-cluster-${algo[1]}.csv`);
      const r = await run(["export", segs, "--format", "hubspot", "--email", "email", "--contacts", table, "--out", out]);
      expect(r.code, r.err).toBe(0);
      const segLines = read(segs).trim().split("\n");
      expect(csvCells(segLines[0])).toEqual(expect.arrayContaining(["customer_id", "segment", "segment_name"]));
      const byId = new Map(segLines.slice(1).map((l) => {
        const cells = csvCells(l);
        return [cells[0], { segment: Number(cells[1]), name: cells[2] }] as const;
      }));
      const expected: string[][] = [["Email", "Segment"]];
      for (let i = 0; i < 40; i++) {
        if (i % 7 === 3) continue;
        expected.push([`c${i}@example.com`, byId.get(`C${String(i).padStart(3, "0")}`)!.name]);
      }
      expect(read(out).trim().split("\n").map(csvCells)).toEqual(expected);
      expect(new Set([...byId.values()].map((v) => v.name)).size).toBeGreaterThan(1);
      if (algo[1] === "dbscan") expect(byId.get("C039")!.segment).toBe(-1);
    }
  });
});
