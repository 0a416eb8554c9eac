/**
 * RFM from a transaction log.
 *
 * 1. Online Retail (../shared/data/online_retail.parquet, 541,909 rows), both sides reading
 *    the same CSV file (written from the Parquet file by DuckDB), reading included: Segmenta's
 *    `rfmFile` in this process against the pandas reference (test/fixtures/make_rfm_reference.py:
 *    read_csv + groupby) under /usr/bin/python3. Median of 3 each; goal: ratio ≤ 0.5.
 * 2. 10 million generated transactions (DuckDB SQL into a Parquet file): `segmenta rfm` in a
 *    child process, reporting its time and peak resident memory (goal: under 2 GB).
 * 3. 100 million generated transactions the same way with `--memory 3.5GB` (issue #19's goal:
 *    under 60 s and 4 GB); `--quick` skips it, `--huge-rows N` changes its size.
 *
 * Run alone with `node --import tsx bench/rfm.ts [--quick]`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { rfmFile } from "../src/cli/rfm.js";
import { exec, lit } from "../src/io/duck.js";
import type { RfmMapping } from "../src/io/rfm.js";
import { SYSTEM_PYTHON, timeMedian } from "./peers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RETAIL = join(ROOT, "..", "shared", "data", "online_retail.parquet");
const MAP: RfmMapping = { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo", product: "StockCode" };

function hasPandas(): boolean {
  return existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ["-c", "import pandas"], { stdio: "ignore" }).status === 0;
}

/** The pandas reference on a CSV: median milliseconds of `runs` runs of read_csv + the RFM groupby. */
function pandasRfm(csv: string, runs: number): { ms: number; customers: number } {
  const code = [
    "import json, sys, time",
    `sys.path.insert(0, ${JSON.stringify(join(ROOT, "test", "fixtures"))})`,
    "import make_rfm_reference as ref",
    "ts = []",
    `for _ in range(${runs}):`,
    "    t = time.perf_counter()",
    `    rfm, counts, _, _ = ref.rfm_features(ref.load_csv(${JSON.stringify(csv)}))`,
    "    ts.append(time.perf_counter() - t)",
    "print(json.dumps({'ms': sorted(ts)[len(ts) // 2] * 1000, 'customers': len(rfm)}))",
  ].join("\n");
  const r = spawnSync(SYSTEM_PYTHON, ["-c", code], { encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`pandas reference failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { ms: number; customers: number };
}

async function benchOnlineRetail(dir: string, runs: number): Promise<void> {
  if (!existsSync(RETAIL)) {
    console.log(`rfm online retail: skipped (${RETAIL} is absent)`);
    return;
  }
  const csv = join(dir, "online_retail.csv");
  await exec(`COPY (SELECT * FROM read_parquet(${lit(RETAIL)})) TO ${lit(csv)} (FORMAT csv, HEADER true)`);
  const out = join(dir, "rfm.csv");
  let customers = 0;
  const ours = await timeMedian(runs, async () => {
    customers = (await rfmFile(csv, MAP, out)).customers;
  });
  const line = [`rfm online retail (541,909 rows, CSV read included): segmenta ${ours.toFixed(0)} ms (${customers} customers)`];
  if (hasPandas()) {
    const peer = pandasRfm(csv, runs);
    line.push(`pandas ${peer.ms.toFixed(0)} ms (${peer.customers} customers) (segmenta/pandas ${(ours / peer.ms).toFixed(3)}, goal ≤ 0.5)`);
  } else line.push("pandas: absent (apt-get install python3-pandas)");
  console.log(line.join("; "));
}

/** Writes `rows` generated transactions (8 lines an invoice, 2.5% of invoices cancelled, 20% without a customer) as Parquet. */
export async function generateTransactionsParquet(path: string, rows: number): Promise<void> {
  await exec(
    `COPY (
      WITH h AS (SELECT i, i // 8 AS inv, hash(i // 8) AS hi, hash(i * 31 + 7) AS hl FROM range(${rows}) r(i))
      SELECT
        CASE WHEN (hi >> 20) % 40 = 0 THEN 'C' ELSE '' END || CAST(1000000 + inv AS VARCHAR) AS InvoiceNo,
        'P' || CAST((hl >> 8) % 4000 AS VARCHAR) AS StockCode,
        CAST((hl >> 24) % 12 + 1 AS BIGINT) * CASE WHEN (hi >> 20) % 40 = 0 THEN -1 ELSE 1 END AS Quantity,
        TIMESTAMP '2022-01-01 08:00:00' + to_seconds(CAST((hi >> 4) % (730 * 86400) AS BIGINT)) AS InvoiceDate,
        round(0.25 + CAST((hl >> 40) % 2000 AS DOUBLE) / 100, 2) AS UnitPrice,
        CASE WHEN (hi >> 30) % 5 = 0 THEN NULL ELSE CAST((hi >> 34) % 250000 + 10000 AS DOUBLE) END AS CustomerID
      FROM h
    ) TO ${lit(path)} (FORMAT parquet)`,
  );
}

/** The child's script: `segmenta rfm` through main(), then one JSON line with its time and peak RSS. */
function childScript(file: string, out: string, extra: string[]): string {
  const args = ["rfm", file, "--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
    "--invoice", "InvoiceNo", "--product", "StockCode", "--scores", "--out", out, "--json", ...extra];
  return `
import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, "src", "cli", "main.ts")).href)};
import { readFileSync } from "node:fs";
// VmHWM, not maxRSS: Linux carries ru_maxrss over from the parent across fork and exec.
const peakKb = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]); } catch { return process.resourceUsage().maxRSS; } };
let out = "";
const t0 = performance.now();
const status = await main(${JSON.stringify(args)}, { out: (s) => { out += s; }, err: (s) => process.stderr.write(s + "\\n"), tty: false });
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ status, ms, maxRssKb: peakKb(), summary: status === 0 ? JSON.parse(out) : null }) + "\\n");
`;
}

/** Runs `segmenta rfm` in a child process; returns its time, peak resident memory and summary. */
async function runChild(dir: string, file: string, extra: string[]): Promise<{ ms: number; maxRssMb: number; customers: number; rowsIn: number }> {
  const script = join(dir, "child.mjs");
  await writeFile(script, childScript(file, join(dir, "big-rfm.parquet"), extra));
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`segmenta rfm child failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as { status: number; ms: number; maxRssKb: number; summary: { customers: number; rowsIn: number } };
  if (res.status !== 0) throw new Error(`segmenta rfm exited with ${res.status}: ${r.stderr}`);
  return { ms: res.ms, maxRssMb: res.maxRssKb / 1024, customers: res.summary.customers, rowsIn: res.summary.rowsIn };
}

async function benchLarge(dir: string, rows: number, goal: { seconds?: number; rssMb: number; memory?: string }): Promise<void> {
  const file = join(dir, "transactions.parquet");
  const t0 = performance.now();
  await generateTransactionsParquet(file, rows);
  const size = (await stat(file)).size;
  const gen = performance.now() - t0;
  const r = await runChild(dir, file, goal.memory ? ["--memory", goal.memory] : []);
  console.log(
    `rfm ${rows.toLocaleString("en")} generated transactions (Parquet, ${(size / 2 ** 20).toFixed(0)} MB, generated in ${(gen / 1000).toFixed(1)} s): ` +
      `segmenta rfm --scores${goal.memory ? ` --memory ${goal.memory}` : ""} ${(r.ms / 1000).toFixed(2)} s, ${r.customers} customers, peak RSS ${r.maxRssMb.toFixed(0)} MB ` +
      `(child process, whole Node + DuckDB; goal < ${goal.rssMb} MB: ${r.maxRssMb < goal.rssMb ? "met" : "NOT met"}` +
      (goal.seconds === undefined ? ")" : `; goal < ${goal.seconds} s: ${r.ms / 1000 < goal.seconds ? "met" : "NOT met"})`),
  );
  await rm(file, { force: true });
}

export async function benchRfm(options: { runs?: number; largeRows?: number; hugeRows?: number } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "segmenta-bench-rfm-"));
  try {
    await benchOnlineRetail(dir, options.runs ?? 3);
    await benchLarge(dir, options.largeRows ?? 10_000_000, { rssMb: 2048 });
    // The 4 GB goal is the user's budget: --memory keeps DuckDB within it (spilling beyond).
    if (options.hugeRows) await benchLarge(dir, options.hugeRows, { seconds: 60, rssMb: 4096, memory: "3.5GB" });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The value after `flag` on the command line, as a row count. */
function rowsFlag(flag: string): number | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const quick = process.argv.includes("--quick");
  await benchRfm(quick ? { largeRows: 1_000_000 } : { largeRows: rowsFlag("--large-rows"), hugeRows: rowsFlag("--huge-rows") ?? 100_000_000 });
}
