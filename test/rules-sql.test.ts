/**
 * The rules' SQL runs on the user's own table, as DuckDB's plain read_csv_auto reads the file:
 * numbers stored as text, yes/no and 0/1 flags, coded categories, dates in several forms,
 * text with stray spaces, and columns renamed on reading (empty or repeated headers). Every
 * rule, every segment's rule set and the CASE expression must select exactly the rows the
 * rules select here (evaluateRules).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ColumnKind, Dataset } from "../src/core/dataset.js";
import { exec, queryRows } from "../src/io/duck.js";
import { readColumns } from "../src/io/extract.js";
import { dropTable, loadTable } from "../src/io/read.js";
import { profileTable } from "../src/io/schema.js";
import { runSegmentation } from "../src/pipeline/run.js";
import { type Condition, conditionsSql, evaluateRules, type RulesResult, segmentRules, sqlIdentifier, sqlString } from "../src/profile/rules.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-rules-sql-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file as the pipeline reads it: each column with its stored type, and its header when renamed. */
async function readDataset(path: string, types: Record<string, ColumnKind> = {}): Promise<Dataset> {
  const t = await loadTable(path);
  try {
    const profile = await profileTable(t, types);
    return await readColumns(t, profile, profile.columns.map((c) => c.name));
  } finally {
    await dropTable(t);
  }
}

let tableCount = 0;
/** The user's table: the file as read_csv_auto reads it, in file order. */
async function userTable(path: string): Promise<string> {
  const name = `user_table_${++tableCount}`;
  await exec(`CREATE OR REPLACE TEMP TABLE ${name} AS SELECT * FROM read_csv_auto(${sqlString(path)})`);
  return name;
}

async function selected(table: string, where: string): Promise<number[]> {
  const rows = await queryRows(`SELECT rowid AS r FROM ${table} WHERE ${where} ORDER BY rowid`);
  return rows.map((r) => Number(r.r));
}

const indices = (sel: Uint8Array): number[] => [...sel].flatMap((v, i) => (v ? [i] : []));

/** The CASE expression as the pipeline writes it (src/pipeline/run.ts, caseSql). */
function caseOf(rules: RulesResult): string {
  const whens = rules.segments.filter((s) => s.rules.length).map((s) => `  WHEN ${s.sql} THEN ${s.segment}`);
  return whens.length ? `CASE\n${whens.join("\n")}\n  ELSE NULL\nEND AS ${sqlIdentifier("segment")}` : `NULL AS ${sqlIdentifier("segment")}`;
}

/** Each row's first segment whose rules select it, as the CASE must give it (null: none). */
function firstMatch(data: Dataset, rules: RulesResult): (number | null)[] {
  const out: (number | null)[] = new Array(data.rows).fill(null);
  for (const s of rules.segments) {
    if (!s.rules.length) continue;
    const sel = evaluateRules(data, s.rules.map((r) => r.conditions));
    for (let i = 0; i < data.rows; i++) if (out[i] === null && sel[i]) out[i] = s.segment;
  }
  return out;
}

async function caseValues(table: string, caseSql: string): Promise<(number | null)[]> {
  const rows = await queryRows(`SELECT ${caseSql} FROM ${table} ORDER BY rowid`);
  return rows.map((r) => (r.segment === null ? null : Number(r.segment)));
}

/** Every rule, every rule set and the CASE select in DuckDB what they select here. Returns the rules checked. */
async function expectSameRows(table: string, data: Dataset, rules: RulesResult, caseSql = caseOf(rules)): Promise<number> {
  let checked = 0;
  for (const s of rules.segments) {
    for (const rule of s.rules) {
      expect(await selected(table, rule.sql), rule.sql).toEqual(indices(evaluateRules(data, [rule.conditions])));
      checked++;
    }
    expect(await selected(table, s.sql), s.sql).toEqual(indices(evaluateRules(data, s.rules.map((r) => r.conditions))));
  }
  expect(await caseValues(table, caseSql)).toEqual(firstMatch(data, rules));
  return checked;
}

/** A small table with every way of storing values that the reader reads differently from DuckDB. */
function smallCsv(): string {
  const lines = ["id,spend,flag01,yn,subscribed,region,grade,signup_date,joined,seen,,b,b,note,YN"];
  for (let i = 0; i < 80; i++) {
    const spend = i % 7 === 0 ? " " : String(((i * 37) % 500) + 0.25); // blanks: DuckDB reads text
    const flag01 = i % 3 === 0 ? 1 : 0;
    const yn = i % 2 ? "Yes" : "No";
    const subscribed = [" yes", "no", "yes", " no", "", "yes "][i % 6]; // not DuckDB booleans: text
    const region = 1 + (i % 4);
    const grade = [1.5, 2, 2.5, 3][i % 4];
    const signup = `2020${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}`;
    const joined = `2021-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + ((i * 5) % 28)).padStart(2, "0")}`;
    const seen = `2021-03-${String(1 + (i % 28)).padStart(2, "0")}${i % 2 ? " 10:30:00" : ""}`;
    const note = ["a", " a", "b", "", " ", "c "][i % 6];
    const YN = ["Y", "n", " y", "N"][i % 4];
    lines.push([i, spend, flag01, yn, subscribed, region, grade, signup, joined, seen, i % 5, i % 4, (i * 7) % 11, note, YN].join(","));
  }
  const path = join(dir, "small.csv");
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

describe("rules' SQL on the user's own table (small CSVs made here)", () => {
  const path = smallCsv();
  const types: Record<string, ColumnKind> = { region: "categorical", grade: "categorical" };

  it("reads the columns as the cases need them (so that the cases below are the ones meant)", async () => {
    const data = await readDataset(path, types);
    const got = Object.fromEntries(data.columns.map((c) => [c.name, `${c.kind}:${c.storedAs}`]));
    expect(got).toMatchObject({
      spend: "numeric:VARCHAR", flag01: "boolean:BIGINT", yn: "boolean:BOOLEAN", subscribed: "boolean:VARCHAR", region: "categorical:BIGINT",
      grade: "categorical:DOUBLE", signup_date: "datetime:BIGINT", joined: "datetime:DATE", seen: "datetime:VARCHAR", column10: "numeric:BIGINT",
      b_1: "numeric:BIGINT", note: "categorical:VARCHAR", YN_1: "categorical:VARCHAR",
    });
    // DuckDB names an empty header column<index>, and a repeated one (compared ignoring case) <name>_1.
    const headers = Object.fromEntries(data.columns.filter((c) => c.header !== undefined).map((c) => [c.name, c.header]));
    expect(headers).toEqual({ column10: "", b_1: "b", YN_1: "YN" });
  });

  it("hand-made conditions of every kind select in DuckDB exactly the rows they select here", async () => {
    const data = await readDataset(path, types);
    const table = await userTable(path);
    const day = (y: number, m: number, d: number, h = 0): number => Date.UTC(y, m - 1, d, h);
    const conds: Condition[][] = [
      [{ feature: "spend", kind: "numeric", lower: 100.25, upper: null }],
      [{ feature: "spend", kind: "numeric", lower: null, upper: 300 }],
      [{ feature: "spend", kind: "numeric", lower: 50, upper: 400.25 }],
      [{ feature: "flag01", kind: "boolean", value: true }],
      [{ feature: "flag01", kind: "boolean", value: false }],
      [{ feature: "yn", kind: "boolean", value: true }],
      [{ feature: "yn", kind: "boolean", value: false }],
      [{ feature: "subscribed", kind: "boolean", value: true }],
      [{ feature: "subscribed", kind: "boolean", value: false }],
      [{ feature: "region", kind: "categorical", equals: "2", notIn: [] }],
      [{ feature: "region", kind: "categorical", equals: null, notIn: ["1"] }],
      [{ feature: "region", kind: "categorical", equals: null, notIn: ["1", "4"] }],
      [{ feature: "grade", kind: "categorical", equals: data.columns.find((c) => c.name === "grade")!.values[1] as string, notIn: [] }],
      [{ feature: "grade", kind: "categorical", equals: null, notIn: ["1.5"] }],
      [{ feature: "note", kind: "categorical", equals: "a", notIn: [] }],
      [{ feature: "note", kind: "categorical", equals: null, notIn: ["b"] }],
      [{ feature: "note", kind: "categorical", equals: null, notIn: ["a", "c"] }],
      [{ feature: "YN_1", kind: "categorical", equals: "y", notIn: [] }],
      [{ feature: "signup_date", kind: "datetime", lower: day(2020, 6, 15), upper: null }],
      [{ feature: "joined", kind: "datetime", lower: day(2021, 3, 1), upper: day(2021, 9, 30) }],
      [{ feature: "seen", kind: "datetime", lower: day(2021, 3, 10, 5), upper: day(2021, 3, 20) }],
      [{ feature: "column10", kind: "numeric", lower: null, upper: 2 }, { feature: "b_1", kind: "numeric", lower: 5, upper: null }],
    ];
    for (const c of conds) {
      const sql = conditionsSql(c, undefined, data);
      const want = indices(evaluateRules(data, [c]));
      expect(want.length, `${sql} selects some rows and not all`).toBeGreaterThan(0);
      expect(want.length, sql).toBeLessThan(data.rows);
      expect(await selected(table, sql), sql).toEqual(want);
    }
    // The forms: numbers stored as text cast as the reader cast them; categories read from numbers compared to numbers.
    expect(conditionsSql(conds[0], undefined, data)).toBe(`TRY_CAST(NULLIF(trim("spend"), '') AS DOUBLE) > 100.25`);
    expect(conditionsSql(conds[9], undefined, data)).toBe(`"region" = 2`);
    expect(conditionsSql(conds[3], undefined, data)).toBe(`"flag01" <> 0`);
    expect(conditionsSql(conds[5], undefined, data)).toBe(`"yn" = TRUE`);
    // Without storedAs (a Dataset made in memory) the SQL stays plain.
    const plain: Dataset = { ...data, columns: data.columns.map((c) => ({ ...c, storedAs: undefined, header: undefined }) as typeof c) };
    expect(conditionsSql(conds[0], undefined, plain)).toBe(`"spend" > 100.25`);
    expect(conditionsSql(conds[9], undefined, plain)).toBe(`"region" = '2'`);
  });

  it("rules grown on each kind of column, their rule sets and the CASE select the same rows in DuckDB", async () => {
    const data = await readDataset(path, types);
    const table = await userTable(path);
    const col = (name: string): Dataset["columns"][number] => data.columns.find((c) => c.name === name)!;
    const num = (name: string, i: number): number => (col(name).values as Float64Array)[i];
    const text = (name: string, i: number): string | null => (col(name).values as (string | null)[])[i];
    // Segments that follow one column each, so that the rules must use it.
    const cases: [string, (i: number) => number][] = [
      ["spend", (i) => (Number.isNaN(num("spend", i)) ? 2 : num("spend", i) > 200 ? 0 : 1)],
      ["flag01", (i) => num("flag01", i)],
      ["yn", (i) => num("yn", i)],
      ["subscribed", (i) => (Number.isNaN(num("subscribed", i)) ? 2 : num("subscribed", i))],
      ["region", (i) => ({ "1": 0, "2": 1, "3": 2, "4": 2 })[text("region", i)!]!],
      ["grade", (i) => (text("grade", i) === "1.5" ? 0 : 1)],
      ["note", (i) => (text("note", i) === "a" ? 0 : text("note", i) === null ? 2 : 1)],
      ["YN_1", (i) => (text("YN_1", i)?.toLowerCase() === "y" ? 0 : 1)],
      ["signup_date", (i) => (num("signup_date", i) > Date.UTC(2020, 5, 15) ? 0 : 1)],
      ["joined", (i) => (num("joined", i) > Date.UTC(2021, 6, 1) ? 0 : 1)],
      ["seen", (i) => (num("seen", i) > Date.UTC(2021, 2, 14, 12) ? 0 : 1)],
      ["column10", (i) => (num("column10", i) >= 3 ? 0 : 1)],
      ["b_1", (i) => (num("b_1", i) >= 6 ? 0 : 1)],
    ];
    for (const [feature, label] of cases) {
      const labels = Int32Array.from({ length: data.rows }, (_, i) => label(i));
      const rules = segmentRules(data, labels, { features: [feature], minSamplesLeaf: 3 });
      expect(rules.segments.some((s) => s.rules.length > 0), feature).toBe(true);
      expect(await expectSameRows(table, data, rules), feature).toBeGreaterThan(0);
    }
  });

  it("names columns renamed on reading as the reader did, and says so in the text, a SQL comment and the notes", async () => {
    const data = await readDataset(path, types);
    const table = await userTable(path);
    const labels = Int32Array.from({ length: data.rows }, (_, i) => ((data.columns.find((c) => c.name === "column10")!.values as Float64Array)[i] >= 3 ? 0 : 1));
    const rules = segmentRules(data, labels, { features: ["column10"], minSamplesLeaf: 3 });
    const rule = rules.segments[0].rules[0];
    expect(rule.text).toBe("column10 (the file's 11th column, whose header is empty) > 2.5");
    expect(rule.sql).toBe(`"column10" > 2.5 /* "column10" is the file's 11th column, whose header is empty, renamed on reading */`);
    expect(rules.notes).toHaveLength(1);
    expect(rules.notes[0]).toMatch(/^"column10" is the file's 11th column, whose header is empty: it was renamed on reading, .*give that column a header/);
    await expectSameRows(table, data, rules);

    const dup = conditionsSql([{ feature: "b_1", kind: "numeric", lower: 5, upper: null }], undefined, data);
    expect(dup).toBe(`"b_1" > 5 /* "b_1" is the 2nd column headed "b" in the file, renamed on reading */`);
    const folded = conditionsSql([{ feature: "YN_1", kind: "categorical", equals: "y", notIn: [] }], undefined, data);
    expect(folded).toBe(`trim("YN_1") = 'y' /* "YN_1" is the 2nd column headed "YN" in the file (headers compared ignoring case), renamed on reading */`);
    // A header that is usable (not blank, not repeated) names the column.
    const renamed: Dataset = { ...data, columns: data.columns.map((c) => (c.name === "column10" ? { ...c, header: "visits" } : c)) };
    const r2 = segmentRules(renamed, labels, { features: ["column10"], minSamplesLeaf: 3 });
    expect(r2.segments[0].rules[0].sql).toBe(`"visits" > 2.5`);
    expect(r2.segments[0].rules[0].text).toBe("visits > 2.5");
    // A header padded with spaces is the name trimmed, as DuckDB reads it: no renaming to speak of.
    const padded: Dataset = { ...data, columns: data.columns.map((c) => (c.name === "column10" ? { ...c, name: "visits", header: " visits " } : c)) };
    const r3 = segmentRules(padded, labels, { features: ["visits"], minSamplesLeaf: 3 });
    expect(r3.segments[0].rules[0].sql).toBe(`"visits" > 2.5`);
    expect(r3.notes).toEqual([]);
    // A column without a renaming needs no note.
    expect(segmentRules(data, labels, { features: ["spend"], minSamplesLeaf: 3 }).notes).toEqual([]);
  });
});

const telco = fileURLToPath(new URL("../../shared/data/WA_Fn-UseC_-Telco-Customer-Churn.csv", import.meta.url));
const telcoPresent = existsSync(telco);
if (!telcoPresent) console.warn("skipping the Telco rules-SQL tests: ../shared/data is absent");

describe("rules' SQL on columns holding NaN and infinities", () => {
  it("reads them as missing, as the rules here do (SQL puts NaN and +inf above every number)", async () => {
    const lines = ["id,score,ratio"];
    for (let i = 0; i < 60; i++) {
      const score = i % 10 === 3 ? "NaN" : i % 10 === 7 ? "inf" : i % 10 === 9 ? "-inf" : String((i * 13) % 50);
      const ratio = i % 12 === 5 ? "Infinity" : String(((i * 7) % 20) / 4);
      lines.push(`${i},${score},${ratio}`);
    }
    const path = join(dir, "nonfinite.csv");
    writeFileSync(path, lines.join("\n") + "\n");
    const data = await readDataset(path);
    expect(data.columns.find((c) => c.name === "score")!.nonFinite).toBe(18);
    expect(data.columns.find((c) => c.name === "id")!.nonFinite).toBeUndefined();
    const table = await userTable(path);
    const conds: Condition[][] = [
      [{ feature: "score", kind: "numeric", lower: 20, upper: null }],
      [{ feature: "score", kind: "numeric", lower: null, upper: 10 }],
      [{ feature: "ratio", kind: "numeric", lower: 2.5, upper: null }],
    ];
    for (const c of conds) {
      const sql = conditionsSql(c, undefined, data);
      expect(await selected(table, sql), sql).toEqual(indices(evaluateRules(data, [c])));
    }
    // A column without non-finite values keeps the plain comparison.
    expect(conditionsSql([{ feature: "id", kind: "numeric", lower: 3, upper: null }], undefined, data)).toBe(`"id" > 3`);
  });
});

describe.skipIf(!telcoPresent)("rules' SQL on the real Telco file (TotalCharges is text: it has blanks)", () => {
  it("every rule, rule set and the CASE select in DuckDB the rows the rules select here", async () => {
    const data = await readDataset(telco);
    const table = await userTable(telco);
    const get = (name: string): Dataset["columns"][number] => data.columns.find((c) => c.name === name)!;
    const total = get("TotalCharges").values as Float64Array;
    const senior = get("SeniorCitizen").values as Float64Array;
    const contract = get("Contract").values as (string | null)[];
    expect(get("TotalCharges").storedAs).toBe("VARCHAR");
    const labels = Int32Array.from({ length: data.rows }, (_, i) =>
      total[i] > 3000 ? 0 : senior[i] === 1 ? 1 : contract[i] === "Month-to-month" ? 2 : 3);
    const rules = segmentRules(data, labels, { features: ["TotalCharges", "SeniorCitizen", "Partner", "Contract", "tenure", "MonthlyCharges"] });
    const allSql = rules.segments.map((s) => s.sql).join("\n");
    expect(allSql).toContain(`TRY_CAST(NULLIF(trim("TotalCharges"), '') AS DOUBLE) > `);
    expect(allSql).toMatch(/"SeniorCitizen" (=|<>) 0/);
    expect(await expectSameRows(table, data, rules)).toBeGreaterThan(3);
    expect(rules.notes).toEqual([]);
  });

  it("the CASE expression of a whole run selects each row's segment as the rules do here", async () => {
    const data = await readDataset(telco);
    const table = await userTable(telco);
    const result = await runSegmentation({ k: 4, seed: 1 }, data);
    for (const s of result.rules.segments) {
      for (const r of s.rules) {
        if (r.conditions.some((c) => c.feature === "TotalCharges")) expect(r.sql).toContain(`TRY_CAST(NULLIF(trim("TotalCharges"), '') AS DOUBLE)`);
      }
    }
    expect(await caseValues(table, result.rulesSql)).toEqual(firstMatch(data, result.rules));
  });
});

describe("renamed columns with hostile headers", () => {
  it("a header that holds comment marks cannot end the SQL comment early", async () => {
    const data: Dataset = {
      source: "t.csv", rows: 4,
      columns: [
        { name: "x", kind: "numeric", values: Float64Array.from([1, 2, 3, 4]), storedAs: "BIGINT" },
        { name: "x_1", kind: "numeric", values: Float64Array.from([4, 3, 2, 1]), storedAs: "BIGINT", header: "x" },
        { name: "*/ DROP TABLE t; /*_1", kind: "numeric", values: Float64Array.from([1, 1, 2, 2]), storedAs: "BIGINT", header: "*/ DROP TABLE t; /*" },
      ],
    };
    const sql = conditionsSql([{ feature: "x_1", kind: "numeric", lower: 2.5, upper: null }, { feature: "*/ DROP TABLE t; /*_1", kind: "numeric", lower: null, upper: 1.5 }], undefined, data);
    await exec(`CREATE OR REPLACE TEMP TABLE hostile AS SELECT * FROM (VALUES (1, 4, 1), (2, 3, 1), (3, 2, 2), (4, 1, 2)) v("x", "x_1", "*/ DROP TABLE t; /*_1")`);
    expect(await selected("hostile", sql)).toEqual([0, 1]);
    expect(sql).toContain(`/* "x_1" is the 2nd column headed "x" in the file, renamed on reading */`);
    expect(sql).toContain(`/* "* / DROP TABLE t; / *_1" is the 2nd column headed "* / DROP TABLE t; / *" in the file, renamed on reading */`);
  });
});

describe("rules' SQL on a JSON file whose keys mix kinds (DuckDB's JSON type)", () => {
  it("reads numbers, flags and categories inside JSON values as the reader did", async () => {
    const path = join(dir, "mixed.json");
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: i,
      spend: i % 5 === 0 ? String(i * 3.5) : i % 7 === 0 ? null : i * 3.5, // numbers and numeric strings
      tier: i % 3 === 0 ? 1 + (i % 2) : ["a", " b", "c"][i % 3], // numbers and strings
      ok: [true, "true", false, "false"][i % 4], // booleans and their words
    }));
    writeFileSync(path, JSON.stringify(rows));
    const data = await readDataset(path, { tier: "categorical" });
    // The user's table keeps DuckDB's JSON type for these keys; the Dataset says so.
    const described = await queryRows(`DESCRIBE SELECT * FROM read_json_auto(${sqlString(path)})`);
    const jsonKeys = described.filter((r) => r.column_type === "JSON").map((r) => String(r.column_name));
    expect(jsonKeys).toEqual(["spend", "tier", "ok"]);
    for (const c of data.columns) if (jsonKeys.includes(c.name)) c.storedAs = "JSON";
    expect(data.columns.map((c) => c.kind)).toEqual(["id", "numeric", "categorical", "boolean"]);
    await exec(`CREATE OR REPLACE TEMP TABLE json_user AS SELECT * FROM read_json_auto(${sqlString(path)})`);
    const conds: Condition[][] = [
      [{ feature: "spend", kind: "numeric", lower: 40, upper: null }],
      [{ feature: "spend", kind: "numeric", lower: null, upper: 70 }],
      [{ feature: "tier", kind: "categorical", equals: "b", notIn: [] }],
      [{ feature: "tier", kind: "categorical", equals: null, notIn: ["a", "1"] }],
      [{ feature: "ok", kind: "boolean", value: true }],
      [{ feature: "ok", kind: "boolean", value: false }],
    ];
    for (const c of conds) {
      const sql = conditionsSql(c, undefined, data);
      const want = indices(evaluateRules(data, [c]));
      expect(want.length, sql).toBeGreaterThan(0);
      expect(await selected("json_user", sql), sql).toEqual(want);
    }
    expect(conditionsSql(conds[0], undefined, data)).toBe(`TRY_CAST(NULLIF(trim(json_extract_string("spend", '$')), '') AS DOUBLE) > 40`);
  });
});
