/**
 * Nothing lost (issue #12): an output never overwrites an input or another output, a run's
 * outputs appear together or not at all, stale temporaries of killed runs are removed, ids
 * are kept verbatim, cells a spreadsheet would run are neutralised, control characters in
 * data reach the terminal escaped, and compressed files go in and out.
 */
import { spawn } from "node:child_process";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutputBatch, removeStaleTemporaries } from "../src/io/write.js";
import { BIN, lines, runMain } from "./helpers/cli.js";

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-safety-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder for one test. */
function folder(): string {
  const d = join(dir, `case-${++count}`);
  mkdirSync(d);
  return d;
}

/** A small customer table with two clear groups. */
function customers(rows = 30, id: (i: number) => string = (i) => String(1000 + i)): string {
  const out = ["id,age,income,plan"];
  for (let i = 1; i <= rows; i++) {
    const young = i % 2 === 0;
    out.push([id(i), young ? 20 + (i % 7) : 55 + (i % 9), young ? 200 + 13 * (i % 5) : 900 + 17 * (i % 6), young ? "basic" : "gold"].join(","));
  }
  return out.join("\n") + "\n";
}

/** A small transaction log. */
function transactions(): string {
  const out = ["invoice,customer,date,amount"];
  for (let c = 1; c <= 12; c++) {
    for (let j = 0; j < 1 + (c % 4); j++) out.push(`I${c}-${j},C${c},2024-0${1 + ((c + j) % 9)}-1${j},${10 * c + j}`);
  }
  return out.join("\n") + "\n";
}

/** Every file of a folder with its bytes, to check that nothing changed. */
function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isFile()) out[name] = readFileSync(p, "base64");
  }
  return out;
}

/** Exit status 2, one line on stderr with every needle, nothing on stdout. */
function expectRefused(r: { status: number | null; stdout: string; stderr: string }, ...needles: string[]): void {
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(lines(r.stderr)).toHaveLength(1);
  for (const n of needles) expect(r.stderr).toContain(n);
}

describe("an output that is an input is refused before any work, naming both", () => {
  it("cluster --out, --model and --report the input, by its name, ./name, a symlink and a hard link", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers());
    symlinkSync(input, join(d, "link.csv"));
    linkSync(input, join(d, "hard.csv"));
    const before = snapshot(d);
    const cases: [string, string][] = [
      ["--out", input],
      ["--model", input],
      ["--report", input],
      ["--out", join(d, ".", "in.csv")],
      ["--out", join(d, "sub", "..", "in.csv")],
      ["--out", join(d, "link.csv")],
      ["--model", join(d, "hard.csv")],
    ];
    mkdirSync(join(d, "sub"));
    for (const [flag, path] of cases) {
      const r = await runMain(["cluster", input, "--k", "2", flag, path]);
      expectRefused(r, `${flag} ${path} is the input file ${input}`, "would destroy that input");
    }
    rmSync(join(d, "sub"), { recursive: true });
    expect(snapshot(d)).toEqual(before);
  });

  it("predict --out the data file or the model, rfm --out the log, tune --charts over the input, cluster --transactions --out the log", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers());
    const model = join(d, "model.json");
    expect((await runMain(["cluster", input, "--k", "2", "--model", model])).status).toBe(0);
    const log = join(d, "log.csv");
    writeFileSync(log, transactions());
    const before = snapshot(d);
    expectRefused(await runMain(["predict", "--model", model, input, "--out", input]), `--out ${input} is the input file ${input}`);
    expectRefused(await runMain(["predict", "--model", model, input, "--out", model]), `--out ${model} is the --model file ${model}`);
    const rfm = ["--customer", "customer", "--date", "date", "--amount", "amount", "--invoice", "invoice"];
    expectRefused(await runMain(["rfm", log, ...rfm, "--out", log]), `--out ${log} is the input file ${log}`);
    expectRefused(await runMain(["cluster", log, "--transactions", ...rfm, "--k", "2", "--out", log]), `--out ${log} is the input file ${log}`);
    // tune writes tune-elbow.svg into --charts: an input of that name is safe from it too.
    const charts = join(d, "charts");
    mkdirSync(charts);
    writeFileSync(join(charts, "tune-elbow.svg"), customers());
    const tuneInput = join(charts, "tune-elbow.svg");
    expectRefused(
      await runMain(["tune", tuneInput, "--k", "2..3", "--bootstrap", "0", "--gap-references", "0", "--charts", charts]),
      `--charts ${tuneInput} is the input file`,
    );
    rmSync(charts, { recursive: true });
    expect(snapshot(d)).toEqual(before);
  });

  it("two outputs that are the same file are refused, by any path", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers());
    const r = await runMain(["cluster", input, "--k", "2", "--out", join(d, "x.json"), "--model", join(d, ".", "x.json")]);
    expectRefused(r, "--out and --model both name");
    expect(readdirSync(d)).toEqual(["in.csv"]);
  });
});

describe("a run's outputs appear together or not at all", () => {
  it("OutputBatch: a failure while writing the second output leaves the first as it was and no temporary file", async () => {
    const d = folder();
    writeFileSync(join(d, "a.txt"), "old a");
    await expect(
      OutputBatch.write(async (b) => {
        await b.text(join(d, "a.txt"), "new a");
        await b.text(join(d, "missing-folder", "b.txt"), "new b");
      }),
    ).rejects.toThrow(/could not be written/);
    expect(readdirSync(d)).toEqual(["a.txt"]);
    expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("old a");
  });

  it("OutputBatch: nothing is renamed before every output is written", async () => {
    const d = folder();
    writeFileSync(join(d, "a.txt"), "old a");
    writeFileSync(join(d, "b.txt"), "old b");
    await OutputBatch.write(async (b) => {
      await b.text(join(d, "a.txt"), "new a");
      await b.columns(join(d, "b.txt"), [{ name: "x", type: "INTEGER", values: [1, 2] }]);
      // Both are written, neither is in place yet.
      expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("old a");
      expect(readFileSync(join(d, "b.txt"), "utf8")).toBe("old b");
      expect(readdirSync(d).filter((n) => n.endsWith(".segmenta.tmp"))).toHaveLength(2);
    });
    expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("new a");
    expect(readFileSync(join(d, "b.txt"), "utf8")).toBe("x\n1\n2\n");
    expect(readdirSync(d).sort()).toEqual(["a.txt", "b.txt"]);
  });

  it("OutputBatch: a folder where a later output goes fails the batch before any rename", async () => {
    const d = folder();
    writeFileSync(join(d, "a.txt"), "old a");
    mkdirSync(join(d, "b.png"));
    await expect(
      OutputBatch.write(async (b) => {
        await b.text(join(d, "a.txt"), "new a");
        await b.bytes(join(d, "b.png"), Uint8Array.from([1, 2, 3]));
      }),
    ).rejects.toThrow(/b\.png is a folder, so the file cannot be written there/);
    expect(readFileSync(join(d, "a.txt"), "utf8")).toBe("old a");
    expect(readdirSync(d).sort()).toEqual(["a.txt", "b.png"]);
  });

  it("cluster: when the charts fail to be written, the earlier segments file and model stay as they were", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers());
    const out = join(d, "segments.csv");
    const model = join(d, "model.json");
    writeFileSync(out, "old segments");
    writeFileSync(model, "old model");
    const charts = join(d, "charts");
    mkdirSync(charts);
    // A folder where a chart file goes makes its rename fail, after the segments and model are written.
    const first = await runMain(["cluster", input, "--k", "2", "--charts", charts]);
    expect(first.status, first.stderr).toBe(0);
    const chartName = readdirSync(charts).sort()[0];
    rmSync(join(charts, chartName));
    mkdirSync(join(charts, chartName));
    const r = await runMain(["cluster", input, "--k", "2", "--out", out, "--model", model, "--charts", charts]);
    expect(r.status).not.toBe(0);
    expect(readFileSync(out, "utf8")).toBe("old segments");
    expect(readFileSync(model, "utf8")).toBe("old model");
    expect(readdirSync(d).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("stale temporaries of killed runs (their process is gone) are removed by the next run; other files are not", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers());
    // A process that has ended: its pid is free (and not reused within this test).
    const child = spawn(process.execPath, ["-e", "0"]);
    const deadPid = child.pid!;
    await new Promise((r) => child.once("exit", r));
    const stale = [`.segments.csv.${deadPid}.1764626400000.segmenta.tmp`, `.model.json.${deadPid}.1764626400000.tmp`];
    const keep = [`.segments.csv.${process.pid}.1764626400000.segmenta.tmp`, ".notes.tmp", `segments.csv.${deadPid}.1764626400000.tmp`];
    for (const n of [...stale, ...keep]) writeFileSync(join(d, n), "partial");
    const r = await runMain(["cluster", input, "--k", "2", "--out", join(d, "segments.csv")]);
    expect(r.status, r.stderr).toBe(0);
    for (const n of stale) expect(existsSync(join(d, n)), n).toBe(false);
    for (const n of keep) expect(existsSync(join(d, n)), n).toBe(true);
    expect(await removeStaleTemporaries(d)).toEqual([]);
  });

  it("a run killed while writing leaves no final file half-written (SIGKILL during the write)", async () => {
    const d = folder();
    const rows = ["id,a,b"];
    for (let i = 0; i < 60000; i++) rows.push(`${i},${(i * 7919) % 1000},${(i * 104729) % 997}`);
    const input = join(d, "big.csv");
    writeFileSync(input, rows.join("\n") + "\n");
    const out = join(d, "segments.csv");
    writeFileSync(out, "old");
    const child = spawn(process.execPath, [BIN, "cluster", input, "--k", "3", "--n-init", "1", "--out", out, "--model", join(d, "model.json")], { stdio: "ignore" });
    // Kill as soon as a temporary file shows up.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (readdirSync(d).some((n) => n.endsWith(".segmenta.tmp")) || child.exitCode !== null) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      }, 1);
    });
    await new Promise((r) => child.once("exit", r));
    const content = readFileSync(out, "utf8");
    // Either the old file, or (if the run got that far) the whole new one.
    expect(content === "old" || content.trim().split("\n").length === 60001).toBe(true);
    expect(existsSync(join(d, "model.json")) ? content !== "old" : true).toBe(true);
  }, 60_000);
});

describe("ids are kept verbatim", () => {
  it("an --id column of numbers with a few other values keeps every value, as written", async () => {
    const d = folder();
    const ids = (i: number) => (i === 3 ? "A-17" : i === 9 ? "007" : i === 12 ? "17850.0" : i === 20 ? " x9 " : String(100 + i));
    const input = join(d, "in.csv");
    writeFileSync(input, customers(30, (i) => (ids(i).includes(" ") ? `"${ids(i)}"` : ids(i))));
    const out = join(d, "segments.csv");
    const r = await runMain(["cluster", input, "--id", "id", "--k", "2", "--out", out, "--raw-csv"]);
    expect(r.status, r.stderr).toBe(0);
    const written = lines(readFileSync(out, "utf8")).slice(1).map((l) => l.match(/^("[^"]*"|[^,]*)/)![1].replace(/^"|"$/g, ""));
    expect(written).toEqual(Array.from({ length: 30 }, (_, i) => ids(i + 1)));
  });
});

describe("spreadsheet formulas are neutralised in every CSV written", () => {
  const hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB", "-5", "+7", "1e3"];
  const safe = (v: string) => (/^[=+\-@\t\r]/.test(v) && !Number.isFinite(Number(v)) ? `'${v}` : v);

  it("segments file of cluster and predict; raw with --raw-csv", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers(30, (i) => `"${(hostile[i % hostile.length] + (i >= hostile.length ? `#${i}` : "")).replace(/"/g, '""')}"`));
    const model = join(d, "model.json");
    const out = join(d, "segments.csv");
    const r = await runMain(["cluster", input, "--id", "id", "--k", "2", "--out", out, "--model", model]);
    expect(r.status, r.stderr).toBe(0);
    const ids = Array.from({ length: 30 }, (_, i) => hostile[(i + 1) % hostile.length] + (i + 1 >= hostile.length ? `#${i + 1}` : ""));
    const read = async (p: string) => {
      const { queryRows } = await import("../src/io/duck.js");
      return (await queryRows(`SELECT id FROM read_csv('${p}', all_varchar=true)`)).map((x) => String(x.id));
    };
    expect(await read(out)).toEqual(ids.map(safe));
    const raw = join(d, "raw.csv");
    expect((await runMain(["cluster", input, "--id", "id", "--k", "2", "--out", raw, "--raw-csv"])).status).toBe(0);
    expect(await read(raw)).toEqual(ids);
    const predicted = join(d, "predicted.csv");
    const p = await runMain(["predict", "--model", model, input, "--out", predicted, "--debug"]);
    expect(p.status, p.stderr).toBe(0);
    expect(await read(predicted)).toEqual(ids.map(safe));
    // Numbers are numbers: "-5", "+7" and "1e3" are untouched.
    expect(safe("-5")).toBe("-5");
  });

  it("the RFM table", async () => {
    const d = folder();
    const log = join(d, "log.csv");
    writeFileSync(log, "invoice,customer,date,amount\nA1,=1+1,2024-01-01,10\nA2,@x,2024-02-01,20\nA3,-3,2024-03-01,30\n");
    const out = join(d, "rfm.csv");
    expect((await runMain(["rfm", log, "--customer", "customer", "--date", "date", "--amount", "amount", "--invoice", "invoice", "--out", out])).status).toBe(0);
    const firstCells = lines(readFileSync(out, "utf8")).slice(1).map((l) => l.split(",")[0]).sort();
    expect(firstCells).toEqual(["'=1+1", "'@x", "-3"]);
  });
});

describe("control characters in data reach the terminal escaped", () => {
  it("inspect and cluster print \\u001b instead of the escape character", async () => {
    const d = folder();
    const input = join(d, "in.csv");
    writeFileSync(input, customers(30).replace(/basic/g, "ba\u001b]0;pwned\u0007sic\u009b31m"));
    for (const args of [["inspect", input], ["cluster", input, "--k", "2"], ["inspect", input, "--json"]]) {
      const r = await runMain(args);
      expect(r.status, r.stderr).toBe(0);
      // eslint-disable-next-line no-control-regex
      expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(r.stdout).toContain("\\u001b]0;pwned\\u0007sic\\u009b31m");
      if (args.includes("--json")) expect(() => JSON.parse(r.stdout)).not.toThrow();
    }
  });
});

describe("compressed files", () => {
  it("--out x.csv.gz writes gzip; .csv.gz input is read", async () => {
    const d = folder();
    const input = join(d, "in.csv.gz");
    writeFileSync(input, gzipSync(customers()));
    const out = join(d, "segments.csv.gz");
    const r = await runMain(["cluster", input, "--k", "2", "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const text = gunzipSync(readFileSync(out)).toString("utf8");
    expect(lines(text)[0]).toBe("id,segment,segment_name");
    expect(lines(text)).toHaveLength(31);
    expectRefused(await runMain(["cluster", input, "--k", "2", "--out", join(d, "x.parquet.gz")]), "drop the .gz");
  });
});

describe("help lists every option a command takes", () => {
  for (const command of ["inspect", "rfm", "cluster", "tune", "predict", "demo", "token", "export", "serve", "compare", "track", "drift", "sql"]) {
    it(command, async () => {
      const help = (await runMain([command, "--help"])).stdout;
      // An unknown option's message lists every option the command accepts.
      const r = await runMain([command, "--no-such-option"]);
      expect(r.status).toBe(2);
      const options = /the options are (.*)$/m.exec(r.stderr)![1].split(", ");
      expect(options.length).toBeGreaterThan(2);
      for (const o of options) expect(help, `${command} --help lacks ${o}`).toMatch(new RegExp(`${o.replace(/[-]/g, "\\-")}\\b`));
    });
  }
});
