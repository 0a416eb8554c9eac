/**
 * Column profiles on careless and hostile values (issue #12.5 and #13): NaN, infinities,
 * numbers beyond the range of a double and huge finite numbers in a numeric column, through
 * every command that profiles a table, in CSV and in Parquet.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ColumnKind } from "../src/core/dataset.js";
import { exec, lit } from "../src/io/duck.js";
import { readColumns } from "../src/io/extract.js";
import { dropTable, loadTable } from "../src/io/read.js";
import { profileTable } from "../src/io/schema.js";
import { ROOT, runMain } from "./helpers/cli.js";

let dir: string;
let count = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-schema-hostile-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function put(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function fresh(): string {
  const d = join(dir, `out-${++count}`);
  mkdirSync(d);
  return d;
}

/** 24 customers in two groups; row 5 of column a holds `bad`. */
function hostileCsv(name: string, bad: string): string {
  const lines = ["cust,a,b"];
  for (let i = 0; i < 24; i++) {
    const a = i === 5 ? bad : String(i % 2 ? 10 + i : 60 + i);
    lines.push(`c${String(i).padStart(2, "0")},${a},${i % 2 ? 3 + (i % 5) : 40 + (i % 7)}`);
  }
  return put(name, lines.join("\n") + "\n");
}

async function toParquet(csv: string): Promise<string> {
  const out = csv.replace(/\.csv$/, ".parquet");
  await exec(`COPY (SELECT * FROM read_csv(${lit(csv)})) TO ${lit(out)} (FORMAT parquet)`);
  return out;
}

/** The segment column of a segments file written by cluster or predict, by customer. */
function segments(path: string): Map<string, string> {
  const rows = readFileSync(path, "utf8").trim().split(/\r?\n/).slice(1).map((l) => l.split(","));
  return new Map(rows.map((r) => [r[0], r[1]]));
}

const NON_FINITE: [string, string][] = [
  ["NaN", "NaN"],
  ["Infinity", "Infinity"],
  ["inf", "inf"],
  ["-inf", "-inf"],
  ["1e309", "1e309"],
  ["a 400-digit number", "9".repeat(400)],
];

function noInternalError(r: { status: number | null; stderr: string; stdout: string }): void {
  expect(r.stderr).not.toMatch(/internal error|out of range/i);
  expect(r.status, r.stderr).toBe(0);
}

/** Runs cluster, predict on the same file with the model, and tune; checks each exits 0 with sane results. */
async function allCommandsWork(f: string): Promise<void> {
  const out = fresh();
  const seg = join(out, "segments.csv");
  const model = join(out, "m.json");
  const c = await runMain(["cluster", f, "--k", "2", "--id", "cust", "--out", seg, "--model", model]);
  noInternalError(c);
  const labels = segments(seg);
  expect(labels.size).toBe(24);
  expect([...labels.values()].every((v) => v === "0" || v === "1")).toBe(true);
  expect(new Set(labels.values()).size).toBe(2);
  const m = JSON.parse(readFileSync(model, "utf8"));
  const scaler = m.pipeline.scaler;
  for (const v of [...scaler.center, ...scaler.scale]) expect(Number.isFinite(v), JSON.stringify(scaler)).toBe(true);
  const pOut = join(out, "predicted.csv");
  const p = await runMain(["predict", "--model", model, f, "--out", pOut]);
  noInternalError(p);
  // The same rows through the same model get the segments the fit gave them.
  expect(segments(pOut)).toEqual(labels);
  const t = await runMain(["tune", f, "--k", "2..3", "--bootstrap", "0", "--gap-references", "0", "--charts", fresh()]);
  noInternalError(t);
  expect(t.stdout).not.toMatch(/\bNaN\b/);
}

describe("non-finite values in a numeric column are missing values", () => {
  for (const format of ["csv", "parquet"] as const) {
    for (const [label, bad] of NON_FINITE) {
      it(`${label} (${format}): inspect hints it, cluster, predict and tune run`, async () => {
        let f = hostileCsv(`nf-${++count}.csv`, bad);
        if (format === "parquet") f = await toParquet(f);
        const r = await runMain(["inspect", f]);
        noInternalError(r);
        expect(r.stdout).toContain("a: 1 value is NaN or infinite: read as missing");
        const j = await runMain(["inspect", f, "--json"]);
        const a = JSON.parse(j.stdout).columns.find((c: { name: string }) => c.name === "a");
        expect(a.kind).toBe("numeric");
        expect(a.missing).toBe(1);
        // The statistics are those of the 23 finite values.
        const finite = Array.from({ length: 24 }, (_, i) => (i % 2 ? 10 + i : 60 + i)).filter((_, i) => i !== 5);
        expect(a.numeric.min).toBe(Math.min(...finite));
        expect(a.numeric.max).toBe(Math.max(...finite));
        expect(a.numeric.mean).toBeCloseTo(finite.reduce((s, v) => s + v, 0) / 23, 10);
        await allCommandsWork(f);
      });
    }
  }

  it("a text column of numbers with NaN and inf is numeric with those values missing", async () => {
    // Quoted values in a JSON file stay text; the profile reads them as numbers.
    const rows = ["1", "2", "NaN", "inf", "5", "6"].map((v, i) => JSON.stringify({ id: `r${i}`, x: v }));
    const f = put("text-nonfinite.json", rows.join("\n") + "\n");
    const j = await runMain(["inspect", f, "--json"]);
    noInternalError(j);
    const x = JSON.parse(j.stdout).columns.find((c: { name: string }) => c.name === "x");
    expect(x.kind).toBe("numeric");
    expect(x.missing).toBe(2);
    expect(x.numeric.mean).toBeCloseTo(3.5, 12);
    expect(x.hints).toContain("2 values are NaN or infinite: read as missing");
    expect(x.textValues).toBeUndefined();
  });
});

/** Sample standard deviation and adjusted skewness (as pandas' std() and skew()) of values divided by `unit`. */
function scaledMoments(values: number[], unit: number): { mean: number; std: number; skew: number } {
  const v = values.map((x) => x / unit);
  const n = v.length;
  const m = v.reduce((s, x) => s + x, 0) / n;
  const m2 = v.reduce((s, x) => s + (x - m) ** 2, 0) / n;
  const m3 = v.reduce((s, x) => s + (x - m) ** 3, 0) / n;
  const g1 = m3 / m2 ** 1.5;
  return { mean: m * unit, std: Math.sqrt((m2 * n) / (n - 1)) * unit, skew: (Math.sqrt(n * (n - 1)) / (n - 2)) * g1 };
}

describe("huge finite values are kept and summarised without overflow", () => {
  for (const format of ["csv", "parquet"] as const) {
    for (const [text, value, unit] of [["1e300", 1e300, 1e300], ["-1e308", -1e308, 1e308]] as const) {
      it(`${text} (${format}): the statistics are right and every command runs`, async () => {
        let f = hostileCsv(`huge-${++count}.csv`, text);
        if (format === "parquet") f = await toParquet(f);
        const j = await runMain(["inspect", f, "--json"]);
        noInternalError(j);
        const a = JSON.parse(j.stdout).columns.find((c: { name: string }) => c.name === "a");
        expect(a.kind).toBe("numeric");
        expect(a.missing).toBe(0);
        const values = Array.from({ length: 24 }, (_, i) => (i === 5 ? value : i % 2 ? 10 + i : 60 + i));
        const ref = scaledMoments(values, unit);
        expect(value > 0 ? a.numeric.max : a.numeric.min).toBe(value);
        expect(a.numeric.mean / ref.mean).toBeCloseTo(1, 12);
        expect(a.numeric.std / ref.std).toBeCloseTo(1, 12);
        expect(a.numeric.skewness).toBeCloseTo(ref.skew, 9);
        await allCommandsWork(f);
      });
    }
  }
});

/** Loads a file, profiles it with `overrides`, and reads the named columns' values. */
async function readAs(f: string, overrides: Record<string, ColumnKind>, names: string[]) {
  const t = await loadTable(f);
  try {
    const profile = await profileTable(t, overrides);
    const data = await readColumns(t, profile, names);
    return { profile, data };
  } finally {
    await dropTable(t);
  }
}

describe("an id column gives its values verbatim", () => {
  it("a text column forced to id keeps spaces and case as stored, missing as null", async () => {
    const f = put("ids-text.csv", 'code,x\n" A1 ",1\nb2,2\n,4\n"  ",5\nB2,6\n');
    const { data, profile } = await readAs(f, { code: "id" }, ["code"]);
    expect(profile.columns[0].kind).toBe("id");
    expect(data.columns[0].values).toEqual([" A1 ", "b2", null, "  ", "B2"]);
  });

  it("a mostly-numeric column with a few text values forced to id keeps every value", async () => {
    const values = [...Array.from({ length: 30 }, (_, i) => String(1000 + i)), "X-17", "0042", "12.50", " 77 "];
    const f = put("ids-mixed.csv", "cust,x\n" + values.map((v, i) => `"${v}",${i}`).join("\n") + "\n");
    const { data, profile } = await readAs(f, { cust: "id" }, ["cust"]);
    expect(profile.columns[0].kind).toBe("id");
    expect(data.columns[0].values).toEqual(values);
  });

  it("numbers forced to id: whole numbers as their digits, others as written", async () => {
    // DuckDB reads this column as DOUBLE: 17850.0 must come out as "17850", 12.5 as "12.5".
    const f = put("ids-double.csv", "CustomerID,x\n17850.0,1\n13047,2\n12.5,3\n,4\n9007199254740993,5\n");
    const { data, profile } = await readAs(f, { CustomerID: "id" }, ["CustomerID"]);
    expect(profile.columns[0].duckType).toBe("DOUBLE");
    // 9007199254740993 is not a double: the nearest one is 9007199254740992, written in full.
    expect(data.columns[0].values).toEqual(["17850", "13047", "12.5", null, "9007199254740992"]);
    const big = put("ids-bigint.csv", "acct,x\n9007199254740993,1\n-5,2\n");
    const b = await readAs(big, { acct: "id" }, ["acct"]);
    expect(b.profile.columns[0].duckType).toBe("BIGINT");
    expect(b.data.columns[0].values).toEqual(["9007199254740993", "-5"]);
  });

  it("a DECIMAL column (Parquet) forced to id: 17850.00 is \"17850\"", async () => {
    const f = join(dir, "ids-decimal.parquet");
    await exec(`COPY (SELECT CAST(v AS DECIMAL(12,2)) AS cust, i AS x FROM (VALUES (17850.00, 1), (12.25, 2)) t(v, i)) TO ${lit(f)} (FORMAT parquet)`);
    const { data } = await readAs(f, { cust: "id" }, ["cust"]);
    expect(data.columns[0].values).toEqual(["17850", "12.25"]);
  });
});

describe("columns read into memory carry their source", () => {
  it("storedAs is the reader's type, header the name written in the file when it was renamed", async () => {
    // Blank TotalCharges make DuckDB read the column as text; the empty and the repeated headers are renamed.
    const f = put("source.csv", "id,TotalCharges,,b,b\n1,10.5,x,1,2\n2, ,y,3,4\n3,20,z,5,6\n");
    const t = await loadTable(f);
    try {
      const profile = await profileTable(t);
      const names = t.columns.map((c) => c.name);
      const data = await readColumns(t, profile, names);
      const byName = new Map(data.columns.map((c) => [c.name, c]));
      expect(byName.get("TotalCharges")!.kind).toBe("numeric");
      expect(byName.get("TotalCharges")!.storedAs).toBe("VARCHAR");
      expect(byName.get("id")!.storedAs).toBe(t.columns.find((c) => c.name === "id")!.duckType);
      for (const c of t.columns) {
        expect(byName.get(c.name)!.storedAs).toBe(c.duckType);
        expect(byName.get(c.name)!.header).toBe(c.header);
      }
      // Given a reader that records renamed headers, they reach the columns.
      const renamed = { ...t, columns: t.columns.map((c, i) => (i === 2 ? { ...c, header: "" } : c)) };
      const again = await readColumns(renamed, profile, [names[2], "b"]);
      expect(again.columns[0].header).toBe("");
      expect("header" in again.columns[1]).toBe(false);
    } finally {
      await dropTable(t);
    }
  });
});

/** Profiles a CSV written from columns of values (one array per column, all the same length). */
async function profileOf(name: string, cols: Record<string, (string | number)[]>) {
  const names = Object.keys(cols);
  const n = cols[names[0]].length;
  const lines = [names.map((c) => JSON.stringify(c)).join(",")];
  for (let i = 0; i < n; i++) lines.push(names.map((c) => cols[c][i]).join(","));
  const t = await loadTable(put(name, lines.join("\n") + "\n"));
  try {
    const p = await profileTable(t);
    return Object.fromEntries(p.columns.map((c) => [c.name, c]));
  } finally {
    await dropTable(t);
  }
}

/** A fixed permutation of 0..n−1 (7 is prime to the sizes used here). */
const shuffled = (n: number) => Array.from({ length: n }, (_, i) => (i * 7) % n);

describe("ids are recognised whatever their type, codes that repeat are categories", () => {
  const n = 40;
  const income = Array.from({ length: n }, (_, i) => 20000 + ((i * 7919) % 97) * 1013 + i);
  const age = Array.from({ length: n }, (_, i) => 20 + ((i * 13) % 45));

  it("unique whole numbers named ID, Id, ID_, user id are ids; a unique Income stays numeric", async () => {
    const ids = Array.from({ length: n }, (_, i) => 15600000 + ((i * 37) % n) * 91);
    // One table per name: DuckDB's column names are case-insensitive.
    for (const name of ["ID", "Id", "ID_", "user id", "CustomerId"]) {
      const p = await profileOf(`ids-name-${++count}.csv`, { [name]: ids, Income: income, Age: age });
      expect(p[name].kind, name).toBe("id");
      expect(new Set(income).size).toBe(n);
      expect(p.Income.kind).toBe("numeric");
      expect(p.Age.kind).toBe("numeric");
    }
  });

  it("a consecutive sequence (0..n−1 or 1..n in any order) is an id whatever its name; a sequence with a gap is not", async () => {
    const gap = shuffled(n).map((v) => (v === 0 ? n + 5 : v));
    const p = await profileOf("ids-seq.csv", { "Unnamed: 0": shuffled(n), pos: shuffled(n).map((v) => v + 1), gapped: gap.map((v) => v + 1), Age: age });
    expect(p["Unnamed: 0"].kind).toBe("id");
    expect(p["Unnamed: 0"].reason).toContain("0…39");
    expect(p.pos.kind).toBe("id");
    expect(p.gapped.kind).toBe("numeric");
  });

  it("StockCode that repeats across rows is categorical, as text or as numbers; a unique ProductCode is an id; CustomerID and InvoiceNo stay ids", async () => {
    const rows = 60;
    const stock = Array.from({ length: rows }, (_, i) => `${85100 + (i % 12)}${i % 3 === 0 ? "A" : ""}`);
    const p = await profileOf("ids-codes.csv", {
      StockCode: stock,
      ItemCode: Array.from({ length: rows }, (_, i) => 2000 + (i % 9)),
      ProductCode: Array.from({ length: rows }, (_, i) => `P${1000 + i}`),
      CustomerID: Array.from({ length: rows }, (_, i) => 12000 + (i % 15)),
      InvoiceNo: Array.from({ length: rows }, (_, i) => 536000 + Math.floor(i / 4)),
      Quantity: Array.from({ length: rows }, (_, i) => 1 + (i % 5)),
    });
    expect(p.StockCode.kind).toBe("categorical");
    expect(p.ItemCode.kind).toBe("categorical");
    expect(p.ItemCode.top![0].value).toMatch(/^20\d\d$/);
    expect(p.ProductCode.kind).toBe("id");
    expect(p.CustomerID.kind).toBe("id");
    expect(p.InvoiceNo.kind).toBe("id");
    expect(p.Quantity.kind).toBe("numeric");
  });

  it("cluster leaves a unique integer ID out of the features and names rows by it", async () => {
    const ids = Array.from({ length: n }, (_, i) => 15600000 + ((i * 37) % n) * 91);
    const lines = ["ID,Income,Age", ...ids.map((id, i) => `${id},${income[i]},${age[i]}`)];
    const f = put("ids-cluster.csv", lines.join("\n") + "\n");
    const out = fresh();
    const r = await runMain(["cluster", f, "--k", "2", "--model", join(out, "m.json"), "--out", join(out, "s.csv")]);
    noInternalError(r);
    const m = JSON.parse(readFileSync(join(out, "m.json"), "utf8"));
    expect(m.columns.map((c: { name: string }) => c.name).sort()).toEqual(["Age", "Income"]);
    expect(m.idColumn).toBe("ID");
    expect([...segments(join(out, "s.csv")).keys()].sort()).toEqual(ids.map(String).sort());
    expect(r.stdout).not.toContain("mean ID");
  });
});

describe("hints for outcomes, coded categories and implausible values", () => {
  const n = 200;
  const spend = Array.from({ length: n }, (_, i) => 100 + ((i * 37) % 101) * 3);

  it("outcome columns (y, Response, Exited, churn label, class, target) are flagged; a many-valued y and other columns are not", async () => {
    const p = await profileOf("outcomes.csv", {
      y: spend.map((_, i) => (i % 3 ? "no" : "yes")),
      Response: spend.map((_, i) => i % 2),
      Exited: spend.map((_, i) => (i % 5 ? 0 : 1)),
      "Churn Label": spend.map((_, i) => (i % 4 ? "Stayed" : "Churned")),
      target: spend.map((_, i) => i % 3),
      spend,
      Income: spend.map((v) => v * 97),
    });
    for (const c of ["y", "Response", "Exited", "Churn Label", "target"]) {
      expect(p[c].outcome, c).toBe(true);
      expect(p[c].hints).toContain(`looks like an outcome: cluster without it and describe the segments by it with --profile ${c}`);
    }
    for (const c of ["spend", "Income"]) {
      expect(p[c].outcome, c).toBeUndefined();
      expect(p[c].hints.join(" ")).not.toContain("outcome");
    }
    const q = await profileOf("outcomes-2.csv", { class: spend.map((_, i) => ["a", "b", "c"][i % 3]), y: spend, Default: spend.map((_, i) => (i % 7 ? "no" : "yes")) });
    expect(q.class.outcome).toBe(true);
    expect(q.y.outcome).toBeUndefined(); // a coordinate or a quantity: 101 values
    expect(q.Default.outcome).toBe(true);
  });

  it("whole-number codes named like categories (Channel, Region) are hinted; quantities and fractional values are not", async () => {
    const p = await profileOf("coded.csv", {
      Channel: spend.map((_, i) => 1 + (i % 2)),
      Region: spend.map((_, i) => 1 + (i % 3)),
      "Customer Type": spend.map((_, i) => 1 + (i % 4)),
      Fresh: spend,
      Area: spend.map((_, i) => 0.5 + (i % 3)),
      Zone: spend.map((_, i) => i % 25),
    });
    for (const c of ["Channel", "Region", "Customer Type"]) {
      expect(p[c].kind, c).toBe("numeric");
      expect(p[c].codedCategory, c).toBe(true);
      expect(p[c].hints).toContain(`whole-number codes named like a category: if the numbers are labels, read them as categories with --type ${c}=categorical`);
    }
    for (const c of ["Fresh", "Area", "Zone"]) expect(p[c].codedCategory, c).toBeUndefined();
  });

  it("a birth year of 1893 among 1940…1996 and an income of 666666 among ≤ 160000 are implausible; no log is suggested for the income", async () => {
    const years = Array.from({ length: n }, (_, i) => 1940 + ((i * 23) % 57));
    years[10] = 1893;
    years[50] = 1899;
    years[90] = 1900;
    const income = Array.from({ length: n }, (_, i) => 20000 + ((i * 61) % 200) * 700);
    income[7] = 666666;
    const p = await profileOf("implausible.csv", { Year_Birth: years, Income: income, spend });
    expect(p.Year_Birth.implausible).toEqual([{ value: 1893, count: 1 }, { value: 1899, count: 1 }, { value: 1900, count: 1 }]);
    expect(p.Year_Birth.hints).toContain("3 values look implausible (1893, 1899, 1900): check them, or blank them");
    expect(p.Income.implausible).toEqual([{ value: 666666, count: 1 }]);
    expect(p.Income.hints).toContain("1 value looks implausible (666666): check it, or blank it");
    // The skew comes from the one wrong value: with it the column is heavily skewed, without it not.
    expect(p.Income.numeric!.skewness!).toBeGreaterThan(2);
    expect(p.Income.hints.join(" ")).not.toContain("log");
    expect(p.spend.implausible).toBeUndefined();
  });

  it("sentinel codes repeated many times (pdays = 999, or −1 below values never negative) are implausible", async () => {
    const pdays = Array.from({ length: n }, (_, i) => (i % 10 < 8 ? 999 : i % 28));
    const since = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? -1 : 1 + ((i * 13) % 300)));
    const p = await profileOf("sentinels.csv", { pdays, since, spend });
    expect(p.pdays.implausible).toEqual([{ value: 999, count: 160 }]);
    expect(p.pdays.hints).toContain("160 values look implausible (999 ×160): check them, or blank them");
    expect(p.since.implausible).toEqual([{ value: -1, count: 50 }]);
  });

  it("long tails of real values are not implausible, and keep the log hint", async () => {
    // Quantiles of a Pareto distribution (shape 1.5) and of a normal-like spread: smooth tails.
    const pareto = Array.from({ length: 400 }, (_, i) => Math.round(100 * (1 - (i + 0.5) / 400) ** (-1 / 1.5)));
    const bell = Array.from({ length: 400 }, (_, i) => {
      const u = (i + 0.5) / 400;
      return Math.round(1000 * (50 + 10 * Math.log(u / (1 - u))));
    });
    const p = await profileOf("tails.csv", { amount: pareto, score: bell });
    expect(p.amount.implausible).toBeUndefined();
    expect(p.amount.hints.some((h) => h.startsWith("heavily skewed"))).toBe(true);
    expect(p.score.implausible).toBeUndefined();
  });
});

describe("real tables (../shared/data)", () => {
  const data = join(ROOT, "..", "shared", "data");
  const retail = join(data, "online_retail.parquet");
  const telco = join(data, "WA_Fn-UseC_-Telco-Customer-Churn.csv");
  const have = existsSync(retail) && existsSync(telco);
  if (!have) console.warn(`skipping real-table profiles: ${data} is absent`);

  it.skipIf(!have)("Online Retail: StockCode is a category, InvoiceNo and CustomerID ids, the ±80995 quantities implausible; Telco: Churn is an outcome", async () => {
    const t = await loadTable(retail);
    try {
      const p = Object.fromEntries((await profileTable(t)).columns.map((c) => [c.name, c]));
      expect(p.StockCode.kind).toBe("categorical");
      expect(p.InvoiceNo.kind).toBe("id");
      expect(p.CustomerID.kind).toBe("id");
      const q = p.Quantity.implausible!.map((v) => v.value);
      expect(q).toContain(80995);
      expect(q).toContain(-80995);
    } finally {
      await dropTable(t);
    }
    const u = await loadTable(telco);
    try {
      const p = Object.fromEntries((await profileTable(u)).columns.map((c) => [c.name, c]));
      expect(p.Churn.outcome).toBe(true);
      expect(Object.values(p).filter((c) => c.outcome).map((c) => c.name)).toEqual(["Churn"]);
      expect(Object.values(p).filter((c) => c.implausible).map((c) => c.name)).toEqual([]);
    } finally {
      await dropTable(u);
    }
  });
});
