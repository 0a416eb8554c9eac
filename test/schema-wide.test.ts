/**
 * Profiles of wide tables: profileTable computes the aggregates of many columns together, and
 * the profile of every column must be the one it gets alone. A table of mixed columns (numbers
 * at many scales, numbers stored as text with blanks and text values, categories, 0/1 flags,
 * ids, dates as text and as YYYYMMDD numbers, NaN and infinities, a constant, an outcome, a
 * coded category, sentinel codes, an outlier, a skewed column) wider than one batch is
 * profiled whole, then each column again in a table of that column only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, freshTableName, ident } from "../src/io/duck.js";
import { dropTable, loadTable, type LoadedTable } from "../src/io/read.js";
import { type ColumnProfile, profileTable } from "../src/io/schema.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-schema-wide-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic generator (a linear congruential one), uniform in [0, 1). */
function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ROWS = 120;
/** More numeric columns than one query aggregates (250), at scales from 1e-3 to 1e9. */
const EXTRA = 300;

function wideCsv(): string {
  const u = uniform(7);
  const header = [
    "customer_id", "seq", "zip", "amount", "text_amount", "ratio", "plan", "churn", "flag", "region", "constant", "signup",
    "order_date", "pdays", "income", "visits", "note", "StockCode", "active",
    ...Array.from({ length: EXTRA }, (_, j) => `f${j}`),
  ];
  const lines = [header.join(",")];
  for (let i = 0; i < ROWS; i++) {
    const row = [
      String(Math.floor(u() * 1e6)), // whole numbers named like an id
      String(1000 + i), // consecutive whole numbers: a row number
      String(i % 40).padStart(5, "0"), // leading zeros: an id
      (u() * 100).toFixed(2),
      i % 17 === 3 ? "" : i === 50 ? "n/a" : (u() * 50).toFixed(1), // numbers as text, blanks, one text value
      i % 31 === 5 ? "nan" : i % 37 === 2 ? "inf" : i === 9 ? "-inf" : (u() * 4 - 2).toFixed(3), // NaN and infinities
      ["basic", "plus", "pro", "max"][Math.floor(u() * 4)],
      u() < 0.3 ? "Yes" : "No",
      u() < 0.5 ? "1" : "0",
      String(1 + Math.floor(u() * 4)),
      "7",
      `2024-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")}`,
      `2023${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}`,
      i % 10 === 0 ? "999" : String(Math.floor(u() * 30)), // a sentinel code
      i === 77 ? "666666" : String(Math.round(20000 + u() * 60000)), // one implausible value
      String(Math.floor(Math.exp(u() * 8))), // right-skewed
      i % 3 === 0 ? "" : `note ${Math.floor(u() * 200)}`,
      String(10 + Math.floor(u() * 8)),
      u() < 0.5 ? "true" : "false",
      ...Array.from({ length: EXTRA }, (_, j) => ((u() - 0.3) * 10 ** ((j % 13) - 3)).toPrecision(6)),
    ];
    lines.push(row.join(","));
  }
  return lines.join("\n") + "\n";
}

/** The table of one column of `t`, in the same order, profiled alone. */
async function alone(t: LoadedTable, name: string): Promise<ColumnProfile> {
  const table = freshTableName("one");
  await exec(`CREATE TABLE ${table} AS SELECT ${ident(name)} FROM ${t.table} ORDER BY rowid`);
  const one: LoadedTable = { ...t, table, columns: t.columns.filter((c) => c.name === name) };
  try {
    const p = await profileTable(one);
    expect(p.columns).toHaveLength(1);
    return p.columns[0];
  } finally {
    await exec(`DROP TABLE ${table}`);
  }
}

describe("profiling a wide table", () => {
  it("gives every column the profile it gets in a table of its own", async () => {
    const path = join(dir, "wide.csv");
    writeFileSync(path, wideCsv());
    const t = await loadTable(path);
    try {
      expect(t.columns).toHaveLength(19 + EXTRA);
      const wide = await profileTable(t);
      const by = new Map(wide.columns.map((c) => [c.name, c]));
      // The table holds what it is meant to: every kind, and the hints that depend on the aggregates.
      expect(new Set(wide.columns.map((c) => c.kind))).toEqual(new Set(["id", "numeric", "categorical", "boolean", "datetime"]));
      expect(by.get("customer_id")?.reason).toMatch(/named like an identifier/);
      expect(by.get("seq")?.reason).toMatch(/row number/);
      expect(by.get("zip")?.kind).toBe("id");
      expect(by.get("text_amount")?.textValues).toMatchObject({ count: 1, example: "n/a", row: 51 });
      expect(by.get("ratio")?.hints.join(" ")).toMatch(/values are NaN or infinite/);
      expect(by.get("constant")?.hints.join(" ")).toMatch(/constant/);
      expect(by.get("churn")?.outcome).toBe(true);
      expect(by.get("region")?.codedCategory).toBe(true);
      expect(by.get("order_date")?.kind).toBe("datetime");
      expect(by.get("signup")?.kind).toBe("datetime");
      expect(by.get("pdays")?.implausible).toEqual([{ value: 999, count: 12 }]);
      expect(by.get("income")?.implausible).toEqual([{ value: 666666, count: 1 }]);
      expect(by.get("note")?.top?.length).toBe(5);
      expect(by.get("f0")?.numeric?.max).toBeGreaterThan(0);
      for (const c of wide.columns) expect(c, c.name).toStrictEqual(await alone(t, c.name));
    } finally {
      await dropTable(t);
    }
  }, 120_000);
});
