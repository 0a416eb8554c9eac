/**
 * Posted JSON records are read as the file reader reads the same cells: each kind's values
 * are compared with what loadTable + profileTable + readColumns give for a CSV of those cells.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ColumnKind } from "../src/core/dataset.js";
import { readColumns } from "../src/io/extract.js";
import { dropTable, loadTable } from "../src/io/read.js";
import { profileTable } from "../src/io/schema.js";
import { datasetFromJsonRecords } from "../src/server/records.js";

const cells: Record<string, string[]> = {
  num: ["1", " 12 ", "-3.5", "+.5e2", "1.", "1_000", "1e3", "", "  ", "inf", "NaN", "1,5", "abc", "0x10", "7"],
  flag: ["yes", "NO", " y ", "n", "True", "f", "1", "0", "", "maybe", "2", "T", "false", "Yes", "no"],
  when: ["2020-01-02", "2020-01-02 03:04:05", "2020-01-02 03:04:05.678", "2020-1-2", "2020-01-02T03:04:05", "", "not a date", "2021-02-30", "1999-12-31 23:59:59", "2020-01-02T03:04:05+02:00", "2020-06-15", "2024-02-29", "2023-02-29", " 2020-01-02 ", "2020-13-01"],
  cat: [" a ", "b", "", "  ", "a", "B", "x y", "1", "1.0", "a", "b", "c", "", "d", "e"],
  code: ["007", " 7", "A-12", "", "x", "y", "z", "1", "2", "3", "4", "5", "6", "8", "9"],
};
const kinds: Record<string, ColumnKind> = { num: "numeric", flag: "boolean", when: "datetime", cat: "categorical", code: "id" };

function csvCell(s: string): string {
  return /[",\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

describe("datasetFromJsonRecords", () => {
  it("reads text cells of every kind as the file reader reads them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "segmenta-records-"));
    try {
      const names = Object.keys(cells);
      const n = cells.num.length;
      const csv = [names.join(","), ...Array.from({ length: n }, (_, i) => names.map((c) => csvCell(cells[c][i])).join(","))].join("\n") + "\n";
      const file = join(dir, "cells.csv");
      await writeFile(file, csv);
      const t = await loadTable(file, { text: names });
      let fromFile;
      try {
        const profile = await profileTable(t, kinds);
        fromFile = await readColumns(t, profile, names);
      } finally {
        await dropTable(t);
      }
      const records = Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((c) => [c, cells[c][i]])));
      const fromJson = datasetFromJsonRecords(records, kinds);
      for (const name of names) {
        const a = Array.from(fromFile.columns.find((c) => c.name === name)!.values as ArrayLike<unknown>);
        const b = Array.from(fromJson.columns.find((c) => c.name === name)!.values as ArrayLike<unknown>);
        expect(b, name).toEqual(a);
      }
      // Not vacuous: the columns hold values and missing ones.
      const num = fromJson.columns[0].values as Float64Array;
      expect(num.filter((x) => !Number.isNaN(x)).length).toBeGreaterThan(5);
      expect(num.filter((x) => Number.isNaN(x)).length).toBeGreaterThan(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes JSON numbers and flags as they are", () => {
    const d = datasetFromJsonRecords(
      [{ num: 2.5, flag: true, when: 86_400_000, cat: 3, code: 17 }, { num: Infinity, flag: 0, when: null, cat: false, code: null }, { num: false, flag: 5 }],
      kinds,
    );
    expect(Array.from(d.columns[0].values as Float64Array)).toEqual([2.5, NaN, 0]);
    expect(Array.from(d.columns[1].values as Float64Array)).toEqual([1, 0, NaN]);
    expect(Array.from(d.columns[2].values as Float64Array)).toEqual([86_400_000, NaN, NaN]);
    expect(d.columns[3].values).toEqual(["3", "false", null]);
    expect(d.columns[4].values).toEqual(["17", null, null]);
  });
});
