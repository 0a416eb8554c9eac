/**
 * What a new user ran into (issue #13), at the command line: outcome columns and coded
 * categories are pointed out, the console's segment table stays readable on wide tables,
 * long work shows a bar with an estimate on a terminal, and numbers of one are singular.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duration, progress, progressLine } from "../src/cli/common.js";
import { lines, runMain } from "./helpers/cli.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-newuser-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("columns a new user should not cluster on by accident", () => {
  it("an outcome column (Response) and a coded category (Region) are pointed out, with the way out", async () => {
    const f = join(dir, "campaign.csv");
    const rows = ["ID,Income,Recency,Region,Response"];
    for (let i = 0; i < 60; i++) rows.push(`${1000 + i},${20000 + 1500 * (i % 20)},${(i * 7) % 99},${1 + (i % 4)},${i % 5 === 0 ? 1 : 0}`);
    writeFileSync(f, rows.join("\n") + "\n");
    const r = await runMain(["cluster", f, "--k", "2"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: column "Response" looks like an outcome (what happened to the customer), yet it is clustered on; to describe the segments by it without clustering on it, add --profile Response');
    expect(r.stderr).toContain('warning: column "Region" holds a few whole-number codes and is named like a category; if the numbers are labels, read it as one with --type Region=categorical');
    // ID is an id, not a feature.
    expect(r.stdout).toMatch(/^ {2}- ID \(id\): /m);
    // With --profile and --type the warnings go.
    const s = await runMain(["cluster", f, "--k", "2", "--profile", "Response", "--type", "Region=categorical"]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).not.toMatch(/looks like an outcome|whole-number codes/);
  });
});

describe("the console's segment table on a wide table", () => {
  it("shows the 8 features that set the segments apart most, and every one with --wide", async () => {
    const f = join(dir, "wide.csv");
    const names = Array.from({ length: 14 }, (_, j) => `f${j}`);
    const rows = [["id", ...names].join(",")];
    for (let i = 0; i < 80; i++) {
      const g = i % 2;
      // f0..f3 separate the groups strongly, the rest barely.
      rows.push([String(i), ...names.map((_, j) => String(j < 4 ? g * 10 + ((i * (j + 3)) % 7) / 10 : ((i * (j + 5)) % 11) + g * 0.1))].join(","));
    }
    writeFileSync(f, rows.join("\n") + "\n");
    const narrow = await runMain(["cluster", f, "--k", "2"]);
    expect(narrow.status, narrow.stderr).toBe(0);
    const head = lines(narrow.stdout).find((l) => l.trim().startsWith("segment  name"))!;
    const shown = head.match(/mean f\d+/g)!;
    expect(shown).toHaveLength(8);
    for (const j of [0, 1, 2, 3]) expect(shown).toContain(`mean f${j}`);
    expect(narrow.stdout).toContain("(the 8 features that set the segments apart most, of 14; --wide shows them all)");
    const wide = await runMain(["cluster", f, "--k", "2", "--wide"]);
    expect(lines(wide.stdout).find((l) => l.trim().startsWith("segment  name"))!.match(/mean f\d+/g)).toHaveLength(14);
  });
});

describe("progress on a terminal", () => {
  it("a bar, the share done and, once there is something to go on, the time left", () => {
    expect(progressLine("choosing k: k=3", 0.25, 3000)).toBe("… choosing k: k=3 [#####...............] 25%  about 9 s left");
    expect(progressLine("reading f.csv", undefined, 5000)).toBe("… reading f.csv");
    // No estimate before a second has passed or 2 % is done.
    expect(progressLine("x", 0.5, 500)).toBe("… x [##########..........] 50%");
    expect(progressLine("x", 0.01, 5000)).toBe("… x [....................] 1%");
    expect(duration(125_000)).toBe("2 min");
    expect(duration(4 * 3600_000 + 20 * 60_000)).toBe("4 h 20 min");
    expect(progressLine("a long message ".repeat(10), 0.5, 2000, 40)).toHaveLength(40);
  });

  it("draws on a terminal only, at most ten times a second, and every new message at once", () => {
    let t = 0;
    const drawn: string[] = [];
    const p = progress({ out: () => {}, err: () => {}, tty: true }, () => t, (s) => drawn.push(s));
    p("phase: step", 0.1);
    t = 50;
    p("phase: step", 0.2); // too soon: skipped
    p("phase: other step", 0.2); // a new message: drawn
    t = 2000;
    p("phase: other step", 0.5);
    expect(drawn).toHaveLength(3);
    expect(drawn[2]).toMatch(/50% {2}about 2 s left$/);
    const silent: string[] = [];
    progress({ out: () => {}, err: () => {}, tty: false }, () => 0, (s) => silent.push(s))("x", 0.5);
    expect(silent).toEqual([]);
  });
});

describe("numbers of one are singular", () => {
  it("in the plan and the summaries", async () => {
    const f = join(dir, "one.csv");
    const rows = ["id,a,plan"];
    for (let i = 0; i < 40; i++) rows.push(`${i},${i % 2 ? 10 + (i % 3) : 1 + (i % 3)},${i === 7 ? "" : i % 2 ? "x" : "y"}`);
    writeFileSync(f, rows.join("\n") + "\n");
    const r = await runMain(["cluster", f, "--k", "2", "--prep", "auto"]);
    expect(r.status, r.stderr).toBe(0);
    // (Not "0/1 columns": a kind of column, not a count.)
    expect(r.stdout + r.stderr).not.toMatch(/(^|[^\d/.,])1 (rows|values|votes|features|columns|segments|customers|methods point)\b/m);
  });
});

describe("a table without an id column", () => {
  it("numbers its rows from 1, as whole numbers in Parquet, not text", async () => {
    const f = join(dir, "noid.csv");
    writeFileSync(f, "a,b\n" + Array.from({ length: 30 }, (_, i) => `${(i * 7) % 10},${i % 2 ? 5 : 50}`).join("\n") + "\n");
    const out = join(dir, "noid.parquet");
    const r = await runMain(["cluster", f, "--k", "2", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const { queryRows } = await import("../src/io/duck.js");
    const cols = await queryRows(`DESCRIBE SELECT * FROM read_parquet('${out}')`);
    expect(cols.map((c) => [c.column_name, c.column_type])).toEqual([["row", "INTEGER"], ["segment", "INTEGER"], ["segment_name", "VARCHAR"]]);
    const rows = await queryRows(`SELECT "row" FROM read_parquet('${out}')`);
    expect(rows.map((x) => Number(x.row))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});

describe("a date column used as a feature", () => {
  it("shows its segment means in the console table as days, not epoch milliseconds", async () => {
    const f = join(dir, "signup.csv");
    const rows = ["id,spend,signup"];
    for (let i = 0; i < 40; i++) rows.push(`${i},${i % 2 ? 100 + i : 900 + i},2020-${String(1 + (i % 2) * 6).padStart(2, "0")}-15`);
    writeFileSync(f, rows.join("\n") + "\n");
    const r = await runMain(["cluster", f, "--k", "2", "--dates", "days-since", "--as-of", "2021-01-01"]);
    expect(r.status, r.stderr).toBe(0);
    const table = lines(r.stdout).filter((l) => /^\s+[01]\s{2}/.test(l));
    expect(table).toHaveLength(2);
    expect(table.map((l) => /\d{4}-\d{2}-\d{2}/.exec(l)?.[0]).sort()).toEqual(["2020-01-15", "2020-07-15"]);
    expect(r.stdout).not.toMatch(/1\.5\de\+12/);
  });
});
