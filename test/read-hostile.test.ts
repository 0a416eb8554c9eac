/**
 * Reading awkward input files: JSON keys whose values mix numbers and numeric strings,
 * columns read verbatim as text (ids), headers DuckDB renames, compressed files (and corrupt
 * or truncated ones), and the line named by an error far into a file.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/io/duck.js";
import { dropTable, loadTable, type LoadedTable, type ReadOptions } from "../src/io/read.js";
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
