/**
 * Segments over time from a transaction log: `segmenta track` against 24 separate `segmenta rfm
 * --as-of` runs.
 *
 * A 10,000,000-row log is generated (bench/rfm.ts's generator: DuckDB SQL into Parquet, two
 * years from 2022-01-01, 8 lines an invoice, 2.5 % of invoices cancelled, 20 % of rows without
 * a customer); a K-Means model (k = 4) is fitted on the RFM features of a 1,000,000-row log of
 * the same generator (cluster --transactions). Then, each in a child process through main():
 * - `segmenta track --every month --model M --out --flows --events`: 24 monthly snapshots
 *   (2022-02-01 … 2024-01-01), scored, with every event written; time and peak resident memory
 *   (goal: under 60 s and 2 GB);
 * - the same 24 feature tables by 24 `segmenta rfm --as-of DATE` runs (features only, no
 *   scoring): their total time, the cost of one pass per date.
 * Both compute the features of rfm without --product (the model uses recency, frequency and
 * monetary; distinct products, when a model needs them, add a grouping of every customer's
 * products to the pass).
 *
 * Run alone with `node --import tsx bench/track.ts [--quick]` (--quick: 1,000,000 rows).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generateTransactionsParquet } from "./rfm.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAP = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];

/** The 24 monthly dates of the generated log: 2022-02-01 … 2024-01-01. */
const DATES = Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(2022, 1 + i, 1)).toISOString().slice(0, 10));

/** A child's script: each command through main() in turn, then one JSON line with the total time, each status and the peak RSS. */
function childScript(commands: string[][]): string {
  return `
import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, "src", "cli", "main.ts")).href)};
import { readFileSync } from "node:fs";
// VmHWM, not maxRSS: Linux carries ru_maxrss over from the parent across fork and exec.
const peakKb = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]); } catch { return process.resourceUsage().maxRSS; } };
const statuses = [];
let last = "";
const t0 = performance.now();
for (const args of ${JSON.stringify(commands)}) {
  let out = "";
  statuses.push(await main(args, { out: (s) => { out += s; }, err: (s) => process.stderr.write(s + "\\n"), tty: false }));
  last = out;
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ statuses, ms, maxRssKb: peakKb(), last: statuses.every((s) => s === 0) ? JSON.parse(last) : null }) + "\\n");
process.exit(0);
`;
}

interface ChildResult {
  ms: number;
  maxRssMb: number;
  last: Record<string, unknown>;
}

async function runChild(dir: string, name: string, commands: string[][]): Promise<ChildResult> {
  const script = join(dir, `${name}.mjs`);
  await writeFile(script, childScript(commands));
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${name} child failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as { statuses: number[]; ms: number; maxRssKb: number; last: Record<string, unknown> };
  if (res.statuses.some((s) => s !== 0)) throw new Error(`${name}: exit statuses ${res.statuses.join(", ")}: ${r.stderr}`);
  return { ms: res.ms, maxRssMb: res.maxRssKb / 1024, last: res.last };
}

export async function benchTrack(options: { rows?: number } = {}): Promise<void> {
  const rows = options.rows ?? 10_000_000;
  const dir = await mkdtemp(join(tmpdir(), "segmenta-bench-track-"));
  try {
    const big = join(dir, "transactions.parquet");
    const small = join(dir, "train.parquet");
    const model = join(dir, "model.json");
    const t0 = performance.now();
    await generateTransactionsParquet(big, rows);
    await generateTransactionsParquet(small, Math.min(rows, 1_000_000));
    const gen = (performance.now() - t0) / 1000;
    const size = (await stat(big)).size;
    await runChild(dir, "fit", [["cluster", small, "--transactions", ...MAP, "--k", "4", "--seed", "1", "--model", model, "--json"]]);

    const track = await runChild(dir, "track", [[
      "track", big, "--every", "month", "--model", model, "--out", join(dir, "sizes.csv"), "--flows", join(dir, "flows.csv"),
      "--events", join(dir, "events.parquet"), "--json",
    ]]);
    const snaps = track.last.snapshots as { date: string; customers: number }[];
    if (snaps.length !== 24 || snaps[0].date !== DATES[0] || snaps[23].date !== DATES[23]) {
      throw new Error(`track made ${snaps.length} snapshots from ${snaps[0]?.date} to ${snaps[snaps.length - 1]?.date}, expected ${DATES[0]} … ${DATES[23]}`);
    }
    const rfm = await runChild(dir, "rfm", DATES.map((d) => ["rfm", big, ...MAP, "--as-of", d, "--out", join(dir, `rfm-${d}.parquet`), "--json"]));
    const lastCustomers = (rfm.last as { customers: number }).customers;
    if (lastCustomers !== snaps[23].customers) throw new Error(`rfm --as-of ${DATES[23]} has ${lastCustomers} customers, track ${snaps[23].customers}`);

    const secs = track.ms / 1000;
    console.log(
      `track ${rows.toLocaleString("en")} generated transactions (Parquet, ${(size / 2 ** 20).toFixed(0)} MB, generated in ${gen.toFixed(1)} s), ` +
        `24 monthly snapshots (${snaps[0].customers.toLocaleString("en")} to ${snaps[23].customers.toLocaleString("en")} customers), scored by a k=4 model, ` +
        `${Number(track.last.changes).toLocaleString("en")} events written: segmenta track ${secs.toFixed(1)} s, peak RSS ${track.maxRssMb.toFixed(0)} MB ` +
        `(child process, whole Node + DuckDB; goal < 60 s: ${secs < 60 ? "met" : "NOT met"}; < 2048 MB: ${track.maxRssMb < 2048 ? "met" : "NOT met"}); ` +
        `24 separate segmenta rfm --as-of runs (features only) ${(rfm.ms / 1000).toFixed(1)} s, peak RSS ${rfm.maxRssMb.toFixed(0)} MB ` +
        `(track/rfm×24 ${(track.ms / rfm.ms).toFixed(3)})`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchTrack(process.argv.includes("--quick") ? { rows: 1_000_000 } : {});
}
