/**
 * `segmenta cluster` over a memory budget: a generated N × 8 Parquet file (8 blobs) clustered
 * with --memory 2GB, in a child process whose time and peak RSS are printed against the
 * target (under 2 GB). On the 10,000,000-row table the in-memory run (a budget it fits in)
 * runs too, and the streamed fit's inertia is compared with it (target: within 1 %). Both use
 * --scale none, so that both inertias are in the file's units: with scaling, each run scales
 * by its own fitted means and deviations (the streamed one by its sample's), and their
 * inertias would be in slightly different units.
 *
 * `npm run bench -- stream`: 50,000,000 rows streamed, then 10,000,000 rows (streamed and
 * in memory). `--quick`: 1,000,000 rows, both ways. Run as a script with `--cli-child ARGS…` it
 * is the child: main(ARGS) in this process, then one JSON line with the time, the peak RSS
 * and the command's --json. The quick run's budget is 200 MB (1,000,000 × 8 fits in 2 GB).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { main } from "../src/cli/main.js";
import { Random } from "../src/core/random.js";
import { duck } from "../src/io/duck.js";
import { peakRssBytes } from "./peers.js";

const D = 8;
const K = 8;

export async function benchStream(quick: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "segmenta-bench-stream-"));
  try {
    if (!quick) {
      const big = 50_000_000;
      const file50 = await generate(dir, big);
      console.log(`\nsegmenta cluster over a memory budget: ${big.toLocaleString("en")} × ${D} Parquet (${(statSync(file50).size / 2 ** 20).toFixed(0)} MB), k = ${K}`);
      const b = cli(["cluster", file50, "--k", String(K), "--memory", "2GB", "--out", join(dir, "streamed50.csv"), "--json"]);
      line("streamed (--memory 2GB)", b);
      rmSync(file50, { force: true });
      rmSync(join(dir, "streamed50.csv"), { force: true });
    }
    const small = quick ? 1_000_000 : 10_000_000;
    const file = await generate(dir, small);
    console.log(`\nsegmenta cluster over a memory budget: ${small.toLocaleString("en")} × ${D} Parquet (${(statSync(file).size / 2 ** 20).toFixed(0)} MB), k = ${K}, --scale none`);
    // 1,000,000 × 8 fits in 2 GB: the quick run streams it under 200 MB.
    const budget = quick ? "200MB" : "2GB";
    const s = cli(["cluster", file, "--k", String(K), "--scale", "none", "--memory", budget, "--out", join(dir, "streamed.csv"), "--json"]);
    line(`streamed (--memory ${budget})`, s);
    const m = cli(["cluster", file, "--k", String(K), "--scale", "none", "--memory", "1TB", "--out", join(dir, "memory.csv"), "--json"]);
    line("in memory (--memory 1TB)", m);
    const ratio = s.json.inertia / m.json.inertia;
    console.log(`  inertia streamed / in memory ${ratio.toFixed(5)} (target: within 1 %) ${Math.abs(ratio - 1) <= 0.01 ? "OK" : "NOT within 1 %"};  time ratio ${(s.ms / m.ms).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ChildResult {
  ms: number;
  rssMB: number;
  json: { inertia: number; rows: number; streamed?: { method: string; passes: number; sampleRows: number; converged: boolean } };
}

function line(what: string, r: ChildResult): void {
  const s = r.json.streamed;
  console.log(
    `  ${what.padEnd(26)} ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.rssMB.toFixed(0)} MB${s ? ` (target: under 2,048 MB) ${r.rssMB < 2048 ? "OK" : "OVER"}` : ""}, ` +
      `inertia ${r.json.inertia.toPrecision(9)}${s ? `; sample ${s.sampleRows.toLocaleString("en")} rows, ${s.passes} ${s.method === "lloyd" ? "Lloyd passes" : "mini-batch passes"}${s.converged ? " (converged)" : ""}` : ""}`,
  );
}

/** N × 8 around 8 centers drawn in [−6, 6] (noise: a sum of three uniforms, sd ≈ 1), written by DuckDB. */
async function generate(dir: string, n: number): Promise<string> {
  const file = join(dir, `blobs-${n}.parquet`);
  const rng = new Random(11);
  const centers = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.uniform(-6, 6)));
  const cols = Array.from({ length: D }, (_, j) => `[${centers.map((c) => c[j]).join(", ")}][c + 1] + (random() + random() + random() - 1.5) * 2 AS x${j}`);
  const con = await duck();
  await con.run("SELECT setseed(0.25)");
  await con.run(`COPY (SELECT ${cols.join(", ")} FROM (SELECT floor(random() * ${K})::INTEGER AS c FROM range(${n}))) TO '${file}' (FORMAT parquet)`);
  return file;
}

function cli(args: string[]): ChildResult {
  const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--cli-child", ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`segmenta ${args.join(" ")} failed: ${child.stderr.slice(-2000)}`);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as ChildResult;
}

async function child(args: string[]): Promise<void> {
  let out = "";
  const t = performance.now();
  const code = await main(args, { out: (s) => (out += s + "\n"), err: (s) => process.stderr.write(s + "\n"), tty: false });
  const ms = performance.now() - t;
  if (code !== 0) process.exit(code);
  console.log(JSON.stringify({ ms, rssMB: peakRssBytes() / 2 ** 20, json: JSON.parse(out) }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--cli-child") {
  await child(process.argv.slice(3));
  process.exit(0);
}
