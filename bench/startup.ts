/**
 * Start-up, as a user feels it: whole processes, timed from the outside.
 *
 * 1. `segmenta --help` and `segmenta cluster --help` (goal: under 100 ms), beside `node -e 0`
 *    (what any Node program costs here).
 * 2. `segmenta rfm` on Online Retail (../shared/data/online_retail.parquet as CSV, 541,909
 *    rows) as a whole process against the equivalent pandas script as a whole process
 *    (import pandas, read_csv, the RFM groupby of test/fixtures/make_rfm_reference.py, to_csv),
 *    under /usr/bin/python3. Goal: at most half pandas' time.
 *
 * Median of 7 (help) and 5 (rfm) runs. Needs `npm run build` (the binary runs dist/).
 * Run alone with `node --import tsx bench/startup.ts`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exec, lit } from "../src/io/duck.js";
import { median, SYSTEM_PYTHON } from "./peers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin", "segmenta.js");
const RETAIL = join(ROOT, "..", "shared", "data", "online_retail.parquet");

/** Median wall time in ms of `runs` runs of a command (after one warm-up run). */
function timeCommand(cmd: string, args: string[], runs: number): number {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t = process.hrtime.bigint();
    const p = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (p.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${p.stderr}`);
    if (r > 0) times.push(ms);
  }
  return median(times);
}

export async function benchStartup(): Promise<void> {
  if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) {
    console.log("startup: skipped (run npm run build first)");
    return;
  }
  const node = timeCommand(process.execPath, ["-e", "0"], 7);
  const help = timeCommand(process.execPath, [BIN, "--help"], 7);
  const clusterHelp = timeCommand(process.execPath, [BIN, "cluster", "--help"], 7);
  console.log(
    `startup: segmenta --help ${help.toFixed(0)} ms, segmenta cluster --help ${clusterHelp.toFixed(0)} ms (goal < 100 ms); node -e 0 ${node.toFixed(0)} ms`,
  );
  if (!existsSync(RETAIL)) {
    console.log(`startup rfm: skipped (${RETAIL} is absent)`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "segmenta-bench-startup-"));
  try {
    const csv = join(dir, "online_retail.csv");
    await exec(`COPY (SELECT * FROM read_parquet(${lit(RETAIL)})) TO ${lit(csv)} (FORMAT csv, HEADER true)`);
    const ours = timeCommand(process.execPath, [
      BIN, "rfm", csv, "--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
      "--invoice", "InvoiceNo", "--out", join(dir, "rfm-segmenta.csv"),
    ], 5);
    const line = [`startup rfm (whole process, Online Retail CSV, 541,909 rows): segmenta ${ours.toFixed(0)} ms`];
    const hasPandas = existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ["-c", "import pandas"], { stdio: "ignore" }).status === 0;
    if (hasPandas) {
      const script = [
        "import sys",
        `sys.path.insert(0, ${JSON.stringify(join(ROOT, "test", "fixtures"))})`,
        "import make_rfm_reference as ref",
        `rfm, counts, _, _ = ref.rfm_features(ref.load_csv(${JSON.stringify(csv)}))`,
        `rfm.to_csv(${JSON.stringify(join(dir, "rfm-pandas.csv"))})`,
      ].join("\n");
      const peer = timeCommand(SYSTEM_PYTHON, ["-c", script], 5);
      line.push(`pandas script ${peer.toFixed(0)} ms (segmenta/pandas ${(ours / peer).toFixed(3)}, goal ≤ 0.5)`);
    } else line.push("pandas: absent (apt-get install python3-pandas)");
    console.log(line.join("; "));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchStartup();
  process.exit(0);
}
