/**
 * The command-line contract for bad input (DESIGN.md, "Command-line contract"): exit status 2,
 * exactly one line on stderr naming the file, line, column or option and saying what to do,
 * nothing on stdout, no stack trace unless --debug, and no output (or temporary) file left
 * behind. A few success paths make the failures meaningful.
 *
 * Most cases call `main` in-process; a handful spawn the built binary (run `npm run build`
 * first) to check the real exit status, the streams and --debug.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../src/io/duck.js";
import { type CliResult, lines, runMain, spawnCli } from "./helpers/cli.js";

let dir: string;
let outCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-cli-errors-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file into the test folder and returns its path. */
function put(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** A fresh, empty output folder. */
function outDir(): string {
  const d = join(dir, `out-${++outCount}`);
  mkdirSync(d);
  return d;
}

/** Status 2, one line on stderr containing every needle, nothing on stdout, no stack frame. */
function expectInputError(r: CliResult, ...needles: (string | RegExp)[]): string {
  const errLines = lines(r.stderr);
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(errLines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).not.toMatch(/internal error/);
  for (const n of needles) {
    if (typeof n === "string") expect(errLines[0]).toContain(n);
    else expect(errLines[0]).toMatch(n);
  }
  return errLines[0];
}

/** Runs `cluster` with --out and --model in a fresh folder, expects an input error and an untouched folder. */
async function clusterFails(args: string[], ...needles: (string | RegExp)[]): Promise<string> {
  const out = outDir();
  const r = await runMain(["cluster", ...args, "--out", join(out, "segments.csv"), "--model", join(out, "model.json")]);
  const line = expectInputError(r, ...needles);
  expect(readdirSync(out)).toEqual([]);
  return line;
}

/** A small valid customer table: id, age, income, plan; 24 rows in two clear groups. */
function customers(rows = 24, edit?: (cells: string[], i: number) => void): string {
  const out = ["id,age,income,plan"];
  for (let i = 1; i <= rows; i++) {
    const young = i % 2 === 0;
    const cells = [String(1000 + i), String(young ? 20 + (i % 7) : 55 + (i % 9)), String(young ? 200 + 13 * (i % 5) : 900 + 17 * (i % 6)), young ? "basic" : i % 3 ? "gold" : "silver"];
    edit?.(cells, i);
    out.push(cells.join(","));
  }
  return out.join("\n") + "\n";
}

const MB = 1 << 20;

/**
 * A CSV of more than 1 MB (and more rows than DuckDB samples for types) whose data row
 * `badRow` (1-based; on line badRow + 1) is replaced; returns the path and the byte offset
 * of that line, which the test checks is beyond the first megabyte.
 */
function bigCsv(name: string, badRow: number, bad: string, encoding: BufferEncoding = "utf8"): { path: string; offset: number } {
  const parts = ["id,age,income,plan,note"];
  let offset = 0;
  for (let i = 1; i <= 30000; i++) {
    if (i === badRow) offset = Buffer.byteLength(parts.join("\n") + "\n");
    parts.push(i === badRow ? bad : `${i},${18 + (i % 60)},${100 + ((i * 37) % 900)},${"abc"[i % 3]},padding-text-to-push-the-file-over-one-megabyte`);
  }
  const text = parts.join("\n") + "\n";
  return { path: put(name, Buffer.from(text, encoding)), offset };
}

/** CRC-32 (for the hand-made zip below). */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid zip archive holding one stored (uncompressed) text file: a zip that is not a workbook. */
function zipWithOneFile(name: string, text: string): Buffer {
  const fname = Buffer.from(name);
  const data = Buffer.from(text);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  const localSize = local.length + fname.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fname.length, 12);
  end.writeUInt32LE(localSize, 16);
  return Buffer.concat([local, fname, data, central, fname, end]);
}

/** Pseudo-random bytes (deterministic) that are not a valid file of any kind. */
function junk(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

describe("segmenta: the real binary (exit status, streams, --debug)", () => {
  it("missing file: status 2, one line naming the file, no stack trace", () => {
    const missing = join(dir, "no-such-file.csv");
    const r = spawnCli(["cluster", missing]);
    expectInputError(r, missing, "no such file", "check the path");
  });

  it("--debug shows the stack trace, and the status is still 2", () => {
    const missing = join(dir, "no-such-file.csv");
    const r = spawnCli(["cluster", missing, "--debug"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)[0]).toContain(`${missing}: no such file`);
    expect(r.stderr).toContain("    at ");
  });

  it("--debug on a DuckDB error shows the underlying error too", () => {
    const p = put("debug.parquet", junk(4000));
    const r = spawnCli(["inspect", p, "--debug"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(lines(r.stderr)[0]).toContain("could not be read as Parquet");
    expect(r.stderr).toContain("    at ");
  });

  it("unknown command: status 2, one line listing the commands", () => {
    const r = spawnCli(["clusterr", "x.csv"]);
    expectInputError(r, 'unknown command "clusterr"', "inspect, cluster, predict", "segmenta --help");
  });

  it("unknown option: status 2, one line naming it and listing the options", () => {
    const r = spawnCli(["cluster", join(dir, "whatever.csv"), "--kk", "3"]);
    expectInputError(r, "segmenta cluster: ", "'--kk'", "--features", "--k");
    expect(r.stderr).not.toMatch(/segmenta cluster: segmenta cluster/);
  });

  it("text in a numeric column: status 2 from the binary too", () => {
    const p = put("age-text-bin.csv", customers(24, (c, i) => i === 7 && (c[1] = "abc")));
    const r = spawnCli(["cluster", p, "--k", "2"]);
    expectInputError(r, p, '"age"', '"abc"', "line 8", "--type age=categorical");
  });

  it("--json prints exactly one JSON document on stdout and nothing else there", () => {
    const p = put("json.csv", customers());
    const out = outDir();
    const r = spawnCli(["cluster", p, "--k", "2", "--json", "--out", join(out, "s.csv")]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.rows).toBe(24);
    expect(doc.k).toBe(2);
    expect(doc.outputs.out).toBe(join(out, "s.csv"));
    expect(r.stdout.trim().startsWith("{")).toBe(true);
    expect(r.stdout.trim().endsWith("}")).toBe(true);
    expect(readdirSync(out)).toEqual(["s.csv"]);
  });
});

describe("segmenta: the input file", () => {
  it("1. missing file", async () => {
    const p = join(dir, "absent.csv");
    await clusterFails([p], `${p}: no such file`, "check the path");
  });

  it("2. a folder instead of a file", async () => {
    const d = join(dir, "a-folder.csv");
    mkdirSync(d);
    await clusterFails([d], d, "is a folder", "give the path of a data file");
  });

  it("3. empty file (0 bytes)", async () => {
    const p = put("empty.csv", "");
    await clusterFails([p], p, "empty (0 bytes)", "export the data again");
    expectInputError(await runMain(["inspect", p]), p, "empty");
  });

  it("4. header only", async () => {
    const p = put("header-only.csv", "id,age,income,plan\n");
    await clusterFails([p], p, "no data rows", "id, age, income");
  });

  it("5. ragged rows in the first lines: fewer fields, more fields", async () => {
    const fewer = put("ragged-fewer.csv", customers(10, (c, i) => i === 3 && c.pop()));
    await clusterFails([fewer], fewer, "line 4", "3 fields", "4", "fix that row");
    const more = put("ragged-more.csv", customers(10, (c, i) => i === 5 && c.push("extra")));
    await clusterFails([more], more, "line 6", "5 fields", "fix that row");
    expectInputError(await runMain(["inspect", more]), more, "line 6", "5 fields");
  });

  it("5. ragged rows beyond the first megabyte are caught by DuckDB, naming the line and the field count", async () => {
    const fewer = bigCsv("big-ragged-fewer.csv", 25000, "25000,44,500");
    expect(fewer.offset).toBeGreaterThan(MB);
    await clusterFails([fewer.path], fewer.path, "line 25001", "3 fields", "header has 5", "fix that row");
    const more = bigCsv("big-ragged-more.csv", 25000, "25000,44,500,a,note,extra");
    expect(more.offset).toBeGreaterThan(MB);
    expectInputError(await runMain(["inspect", more.path]), more.path, "line 25001", "6 fields", "header has 5");
  });

  it("5. an unclosed quote names its line", async () => {
    const p = put("quote.csv", customers(10, (c, i) => i === 4 && (c[3] = '"gold')));
    await clusterFails([p], p, "line 5", "quote", "never closed");
  });

  it("6. text in a numeric column: cluster fails naming column, value and line; inspect shows a hint", async () => {
    const p = put("age-text.csv", customers(24, (c, i) => i === 7 && (c[1] = "abc")));
    await clusterFails([p, "--k", "2"], p, 'column "age"', '"abc"', "line 8", "--type age=categorical");
    const r = await runMain(["inspect", p]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/age:.*"abc".*line 8/);
  });

  it("6. text in a numeric column beyond the first megabyte and DuckDB's type sample", async () => {
    const big = bigCsv("big-age-text.csv", 25000, "25000,abc,500,a,padding-text-to-push-the-file-over-one-megabyte");
    expect(big.offset).toBeGreaterThan(MB);
    await clusterFails([big.path, "--k", "2", "--n-init", "1"], big.path, 'column "age"', '"abc"', "line 25001", "--type age=categorical");
    const r = await runMain(["inspect", big.path]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/age:.*"abc".*line 25001/);
  });

  it("7. a column with no values used as a feature", async () => {
    const p = put("no-values.csv", customers(12).split("\n").map((l, i) => (l === "" ? l : `${l},${i === 0 ? "spend" : ""}`)).join("\n"));
    await clusterFails([p, "--k", "2", "--features", "age,spend"], p, 'column "spend"', "no values", "--features");
  });

  it("8. fewer usable rows than k", async () => {
    const p = put("three.csv", "id,age,income\n1,20,100\n2,30,200\n3,40,300\n");
    await clusterFails([p, "--k", "5"], p, "only 3 usable rows", "--k 5", "lower --k");
  });

  it("11. bytes that are not UTF-8 in the first lines", async () => {
    const p = put("latin1.csv", Buffer.from(customers(10, (c, i) => i === 2 && (c[3] = "Montréal")), "latin1"));
    await clusterFails([p], p, "line 3", "not UTF-8", "save the file as UTF-8");
  });

  it("11. bytes that are not UTF-8 beyond the first megabyte", async () => {
    const big = bigCsv("big-latin1.csv", 25000, "25000,44,500,a,Montréal", "latin1");
    expect(big.offset).toBeGreaterThan(MB);
    await clusterFails([big.path], big.path, "line 25001", "not UTF-8", "save the file as UTF-8");
  });

  it("13. random bytes named .parquet", async () => {
    const p = put("random.parquet", junk(5000));
    await clusterFails([p], p, "could not be read as Parquet", "check that the file is complete");
  });

  it("13. a real Parquet file cut in half", async () => {
    const full = join(dir, "full.parquet");
    await exec(`COPY (SELECT range AS id, range % 97 AS age, 'plan' || (range % 3) AS plan FROM range(50000)) TO '${full.replace(/'/g, "''")}' (FORMAT parquet)`);
    const bytes = readFileSync(full);
    const half = put("half.parquet", bytes.subarray(0, Math.floor(bytes.length / 2)));
    await clusterFails([half], half, "could not be read as Parquet", "cut short", "check that the file is complete");
    // The whole file is fine.
    const r = await runMain(["inspect", full]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("13. random bytes named .xlsx, and a zip that is not a workbook", async () => {
    const p = put("random.xlsx", junk(5000, 11));
    await clusterFails([p], p, "could not be read as an Excel workbook", "not a zip archive");
    const z = put("not-a-workbook.xlsx", zipWithOneFile("hello.txt", "hello\n"));
    await clusterFails([z], z, "no worksheets", "not an Excel workbook", ".xlsx or .csv");
  });
});

describe("segmenta: options", () => {
  let valid: string;
  beforeAll(() => {
    valid = put("valid.csv", customers());
  });

  it("9. --k 0, 1, -2, 2.5 and abc", async () => {
    for (const k of ["0", "1", "-2", "2.5", "abc"]) {
      await clusterFails([valid, "--k", k], `--k ${k}:`, "whole number ≥ 2");
    }
  });

  it("10. unknown --features column", async () => {
    await clusterFails([valid, "--features", "age,nope"], "--features", valid, '"nope"', "columns are: id, age, income, plan");
  });

  it("an unknown --algorithm is refused with the list of algorithms, before reading the file", async () => {
    await clusterFails([valid, "--algorithm", "kmodes"], "--algorithm", '"kmeans"', '"dbscan"', '"gmm"');
    await clusterFails([join(dir, "absent.csv"), "--algorithm", "kmodes"], "--algorithm");
  });

  it("unknown option and missing values, in-process", async () => {
    await clusterFails([valid, "--frob"], "'--frob'", "the options are");
    expectInputError(await runMain(["cluster", valid, "--k"]), "--k", "segmenta cluster --help");
    expectInputError(await runMain(["cluster"]), "give the data file");
    expectInputError(await runMain([]), "give a command");
  });

  it("12. --out in a folder that does not exist fails before any work, writing nothing", async () => {
    const before = readdirSync(dir).sort();
    const missingDir = join(dir, "no-such-folder");
    const line = expectInputError(await runMain(["cluster", valid, "--out", join(missingDir, "seg.csv")]), "--out", missingDir, "does not exist", "create it");
    expect(line).not.toContain(valid);
    // Checked before the input is even read: a bad input file is not what is reported.
    expectInputError(await runMain(["cluster", join(dir, "absent.csv"), "--out", join(missingDir, "seg.csv")]), "--out", "does not exist");
    expectInputError(await runMain(["cluster", valid, "--model", join(missingDir, "m.json")]), "--model", "does not exist");
    expectInputError(await runMain(["predict", "--model", join(dir, "absent.json"), valid, "--out", join(missingDir, "p.csv")]), "--out", "does not exist");
    expect(existsSync(missingDir)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("--out with an extension that cannot be written, and --out equal to --model", async () => {
    const out = outDir();
    expectInputError(await runMain(["cluster", valid, "--out", join(out, "seg.xlsx")]), "--out", ".xlsx", ".csv");
    expectInputError(await runMain(["cluster", valid, "--out", join(out, "a.json"), "--model", join(out, "a.json")]), "--out and --model");
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("segmenta: success paths and predict", () => {
  let valid: string;
  let out: string;
  beforeAll(() => {
    valid = put("train.csv", customers());
    out = outDir();
  });

  it("cluster on a small valid CSV exits 0 and writes the segments file and the model, atomically", async () => {
    const r = await runMain(["cluster", valid, "--k", "2", "--out", join(out, "segments.csv"), "--model", join(out, "model.json")]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["model.json", "segments.csv"]); // no .tmp left
    const seg = readFileSync(join(out, "segments.csv"), "utf8").trim().split("\n");
    expect(seg[0]).toBe("id,segment,segment_name");
    expect(seg).toHaveLength(25);
    expect(new Set(seg.slice(1).map((l) => l.split(",")[1]))).toEqual(new Set(["0", "1"]));
    // Each row carries its segment's name, the one printed in the summary.
    for (const line of seg.slice(1)) {
      const m = /^[^,]*,(\d+),(?:"((?:[^"]|"")*)"|([^,"]*))$/.exec(line)!;
      const name = m[2] !== undefined ? m[2].replace(/""/g, '"') : m[3];
      expect(r.stdout).toContain(`  ${m[1]}. ${name}:`);
    }
    expect(JSON.parse(readFileSync(join(out, "model.json"), "utf8")).format).toBe("segmenta-model");
  });

  it("predict on the training file reproduces the training segments exactly", async () => {
    const r = await runMain(["predict", "--model", join(out, "model.json"), valid, "--out", join(out, "predicted.csv")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(readFileSync(join(out, "predicted.csv"), "utf8")).toBe(readFileSync(join(out, "segments.csv"), "utf8"));
  });

  it("predict with an unseen category exits 0 with a warning naming the column and the value", async () => {
    const p = put("unseen.csv", customers(24, (c, i) => i === 5 && (c[3] = "platinum")));
    const r = await runMain(["predict", "--model", join(out, "model.json"), p, "--out", join(out, "unseen-seg.csv")]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: .*"plan".*"platinum"/m);
    expect(readFileSync(join(out, "unseen-seg.csv"), "utf8").trim().split("\n")).toHaveLength(25);
  });

  it("7. predict on a file lacking a column the model needs", async () => {
    const p = put("no-plan.csv", customers().split("\n").map((l) => l.split(",").slice(0, 3).join(",")).join("\n"));
    const o = outDir();
    const r = await runMain(["predict", "--model", join(out, "model.json"), p, "--out", join(o, "p.csv")]);
    expectInputError(r, p, 'the column "plan"', "the model needs", "add it");
    expect(readdirSync(o)).toEqual([]);
  });

  it("predict with a model file that is not JSON", async () => {
    const m = put("bad-model.json", "{not json");
    const o = outDir();
    expectInputError(await runMain(["predict", "--model", m, valid, "--out", join(o, "p.csv")]), "--model", m, "not valid JSON");
    expect(readdirSync(o)).toEqual([]);
  });
});
