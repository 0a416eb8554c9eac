/**
 * The reliability probe (issue #12), also `npm run probe`: every command against a folder of
 * careless and hostile inputs made here. Whatever the input, a command ends with exit status
 * 0 or 2 — never 1 (an internal error is the program's fault, not the input's) — and with
 * status 2 prints exactly one line on stderr and nothing on stdout; no input file changes;
 * when a command fails, the outputs that were there before are byte for byte the same; and
 * no temporary file is left behind.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../src/io/duck.js";
import { lines, runMain } from "./helpers/cli.js";

let dir: string;
let inputs: string;
let model: string;

/** A well-formed customer table: the base most hostile files are made from. */
function table(rows = 40, edit?: (cells: string[], i: number) => void, header = "id,age,income,plan,visits"): string {
  const out = [header];
  for (let i = 1; i <= rows; i++) {
    const g = i % 3;
    const cells = [String(5000 + i), String(22 + 17 * g + (i % 5)), String(300 + 400 * g + 7 * (i % 9)), ["basic", "gold", "silver"][g], String(1 + g * 4 + (i % 3))];
    edit?.(cells, i);
    out.push(cells.join(","));
  }
  return out.join("\n") + "\n";
}

/** The hostile inputs, by file name. */
function hostileFiles(): Record<string, string | Uint8Array> {
  const wide = ["id", ...Array.from({ length: 300 }, (_, j) => `f${j}`)].join(",") + "\n" +
    Array.from({ length: 30 }, (_, i) => [String(i), ...Array.from({ length: 300 }, (_, j) => String(((i + 1) * (j + 3)) % 17))].join(",")).join("\n") + "\n";
  return {
    "empty.csv": "",
    "header-only.csv": "id,age,income\n",
    "one-row.csv": "id,age,income\n1,30,500\n",
    "garbage.csv": Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256),
    "latin1.csv": Buffer.concat([Buffer.from("id,city,income\n1,"), Buffer.from([0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e]), Buffer.from(",300\n2,Paris,400\n")]),
    "crlf.csv": table().replace(/\n/g, "\r\n"),
    "ragged.csv": table(40, (c, i) => { if (i === 17) c.push("extra"); }),
    "unterminated-quote.csv": table(40, (c, i) => { if (i === 9) c[3] = '"gold'; }),
    "nan-inf.csv": table(40, (c, i) => { c[2] = ["NaN", "Infinity", "-inf", "1e309", "9".repeat(400)][i % 5] ?? c[2]; if (i % 5 !== 0) c[2] = String(300 + i); }),
    "huge-values.csv": table(40, (c, i) => { if (i % 7 === 0) c[2] = i % 2 ? "1e300" : "-1e308"; }),
    "all-missing.csv": table(40, (c) => { c[2] = ""; }),
    "constant.csv": table(40, (c) => { c[1] = "7"; c[2] = "7"; c[4] = "7"; c[3] = "x"; }),
    "few-distinct.csv": table(40, (c, i) => { c[1] = String(i % 2); c[2] = String(i % 2); c[3] = "a"; c[4] = "1"; }),
    "duplicate-headers.csv": table(40, undefined, "id,age,age,plan,visits"),
    "empty-header.csv": table(40, undefined, "id,age,,plan,visits"),
    "control-chars.csv": table(40, (c, i) => { if (i % 4 === 0) c[3] = "gold\u001b[2J\u0007"; }),
    "formula-ids.csv": table(40, (c, i) => { if (i % 3 === 0) c[0] = ["=HYPERLINK(1)", "+cmd", "@SUM(1)"][i % 9 / 3] ?? c[0]; }),
    "mixed-ids.csv": table(40, (c, i) => { if (i % 10 === 0) c[0] = `A-${i}`; }),
    "numbers-as-text.csv": table(40, (c, i) => { if (i % 8 === 0) c[2] = " "; }),
    "gzip.csv.gz": gzipSync(table()),
    "corrupt.csv.gz": gzipSync(table()).subarray(0, 60),
    "mixed.json": JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ id: i, a: i % 2 ? i : String(i * 1.5), b: (i * 7) % 11 }))),
    "broken.json": '[{"id": 1, "a": 2}, {"id": 2,',
    "wide.csv": wide,
    "not-parquet.parquet": "PAR1 this is not really parquet",
    "long-field.csv": table(60).split("\n").map((l, i) => (i === 51 ? l.replace(/basic|gold|silver/, "x".repeat(3_000_000)) : l)).join("\n"),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-probe-"));
  inputs = join(dir, "inputs");
  mkdirSync(inputs);
  for (const [name, content] of Object.entries(hostileFiles())) writeFileSync(join(inputs, name), content);
  // A Parquet file with NaN and infinities, and a folder, a symlink loop, a dangling symlink.
  await exec(`COPY (SELECT i AS id, CASE WHEN i % 5 = 0 THEN 'NaN'::DOUBLE WHEN i % 7 = 0 THEN 'inf'::DOUBLE ELSE i * 1.5 END AS a, i % 3 AS b FROM range(40) t(i)) TO '${join(inputs, "nan.parquet")}' (FORMAT parquet)`);
  mkdirSync(join(inputs, "a-folder.csv"));
  symlinkSync(join(inputs, "loop-b.csv"), join(inputs, "loop-a.csv"));
  symlinkSync(join(inputs, "loop-a.csv"), join(inputs, "loop-b.csv"));
  symlinkSync(join(inputs, "nowhere.csv"), join(inputs, "dangling.csv"));
  // A valid model to score the hostile files with.
  const good = join(dir, "good.csv");
  writeFileSync(good, table());
  model = join(dir, "model.json");
  const r = await runMain(["cluster", good, "--k", "3", "--model", model]);
  if (r.status !== 0) throw new Error(r.stderr);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The hash of every regular file under a folder (symlinks and folders by their kind). */
function fingerprint(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(folder).sort()) {
    const p = join(folder, name);
    let kind: string;
    try {
      const s = statSync(p);
      kind = s.isFile() ? createHash("sha256").update(readFileSync(p)).digest("hex") : s.isDirectory() ? "folder" : "other";
    } catch {
      kind = "broken link";
    }
    out[name] = kind;
  }
  return out;
}

type Command = { name: string; args: (input: string, out: string) => string[] };

const COMMANDS: Command[] = [
  { name: "inspect", args: (f) => ["inspect", f] },
  { name: "inspect --json", args: (f) => ["inspect", f, "--json"] },
  { name: "cluster", args: (f, o) => ["cluster", f, "--k", "3", "--out", join(o, "segments.csv"), "--model", join(o, "model.json"), "--report", join(o, "report.html"), "--map", "pca"] },
  { name: "cluster --id id --prep auto", args: (f, o) => ["cluster", f, "--id", "id", "--prep", "auto", "--k", "2", "--out", join(o, "segments.csv")] },
  { name: "cluster --algorithm dbscan", args: (f, o) => ["cluster", f, "--algorithm", "dbscan", "--out", join(o, "segments.csv"), "--model", join(o, "model.json"), "--report", join(o, "report.html"), "--map", "pca"] },
  { name: "cluster --algorithm hdbscan", args: (f, o) => ["cluster", f, "--algorithm", "hdbscan", "--min-cluster-size", "2", "--out", join(o, "segments.csv")] },
  { name: "cluster --algorithm optics", args: (f, o) => ["cluster", f, "--algorithm", "optics", "--min-samples", "2", "--out", join(o, "segments.csv")] },
  { name: "tune", args: (f, o) => ["tune", f, "--k", "2..3", "--bootstrap", "0", "--gap-references", "0", "--charts", o] },
  { name: "tune --algorithm dbscan", args: (f, o) => ["tune", f, "--algorithm", "dbscan", "--charts", o] },
  { name: "cluster --algorithm gmm", args: (f, o) => ["cluster", f, "--algorithm", "gmm", "--k", "2", "--out", join(o, "segments.csv"), "--probabilities", "--model", join(o, "model.json"), "--report", join(o, "report.html"), "--map", "pca"] },
  { name: "tune --algorithm gmm", args: (f, o) => ["tune", f, "--algorithm", "gmm", "--k", "2..3", "--charts", o] },
  { name: "predict", args: (f, o) => ["predict", "--model", model, f, "--out", join(o, "scored.csv")] },
  { name: "rfm", args: (f, o) => ["rfm", f, "--customer", "id", "--date", "age", "--amount", "income", "--out", join(o, "rfm.csv")] },
];

describe("the probe: every command against every hostile input", () => {
  const names = Object.keys(hostileFiles()).concat(["nan.parquet", "a-folder.csv", "loop-a.csv", "dangling.csv"]);
  for (const cmd of COMMANDS) {
    it(cmd.name, async () => {
      const failures: string[] = [];
      for (const name of names) {
        const input = join(inputs, name);
        const out = join(dir, `out-${cmd.name.replace(/\W+/g, "-")}-${name}`);
        mkdirSync(out);
        // Outputs from an earlier run, which a failing run must leave alone.
        for (const f of ["segments.csv", "model.json", "report.html", "scored.csv", "rfm.csv"]) writeFileSync(join(out, f), `earlier ${f}`);
        const inputsBefore = fingerprint(inputs);
        const outputsBefore = fingerprint(out);
        const r = await runMain(cmd.args(input, out));
        const where = `${cmd.name} ${name}: status ${r.status}, stderr: ${r.stderr.trim().slice(0, 300)}`;
        if (r.status !== 0 && r.status !== 2) failures.push(where);
        if (r.status === 2 && (lines(r.stderr).length !== 1 || r.stdout !== "")) failures.push(`${where} (expected one line on stderr and nothing on stdout)`);
        if (/internal error|\n\s+at /.test(r.stderr)) failures.push(`${where} (internal error or stack)`);
        expect(fingerprint(inputs), `${cmd.name} ${name} changed an input`).toEqual(inputsBefore);
        if (r.status !== 0) expect(fingerprint(out), `${cmd.name} ${name} failed and changed an output`).toEqual(outputsBefore);
        expect(readdirSync(out).filter((f) => f.endsWith(".tmp")), `${cmd.name} ${name} left a temporary file`).toEqual([]);
      }
      expect(failures).toEqual([]);
    }, 600_000);
  }
});
