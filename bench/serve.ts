/**
 * Load on `segmenta serve` (issue #16), on loopback only, with bounded request counts:
 *
 * 1. single-row scoring: autocannon, 10 connections, a fixed number of requests: requests/s,
 *    p50 and p99 latency, errors (goal: ≥ 3,000/s, p99 < 20 ms, no errors);
 * 2. one 100,000-row scoring request (goal: under 1 s), median of 3;
 * 3. single-row scoring while a 1,000,000-row run trains in the background (goal: p99 < 100 ms).
 *
 * The server is the built binary (`npm run build` first) in its own process, on a fresh data
 * folder; the model is fitted by `segmenta cluster` on a generated table. `--quick`: smaller.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { exec, lit } from "../src/io/duck.js";
import { median } from "./peers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "bin", "segmenta.js");

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`segmenta ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Starts the server on a free port; resolves with its address once it listens. */
function startServer(data: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", "--data", data, "--port", "0", "--rate-limit", "100000000"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => reject(new Error(`segmenta serve exited (${code}): ${out}`)));
  });
}

/** A generated customer table of n rows × d numeric features (8 groups), as Parquet. */
async function table(file: string, n: number, d: number): Promise<void> {
  const cols = Array.from({ length: d }, (_, j) => `(c * ${(j % 3) + 1}.0 + random() * 2 - 1)::DOUBLE AS x${j}`);
  await exec(`COPY (SELECT 'C' || i AS customer_id, ${cols.join(", ")} FROM (SELECT i, floor(random() * 8)::INTEGER AS c FROM range(${n}) t(i))) TO ${lit(file)} (FORMAT parquet)`);
}

function row(d: number, i: number): Record<string, number | string> {
  const r: Record<string, number | string> = { customer_id: `N${i}` };
  for (let j = 0; j < d; j++) r[`x${j}`] = ((i * 7 + j * 3) % 17) / 2;
  return r;
}

async function cannon(url: string, token: string, body: string, amount: number): Promise<autocannon.Result> {
  return autocannon({
    url, method: "POST", connections: 10, amount, body,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
}

function line(label: string, r: autocannon.Result): string {
  return `${label}: ${Math.round(r.requests.average)} requests/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
    `${r.errors + r.non2xx} errors or non-2xx of ${r.requests.total}`;
}

export async function benchServe(quick = false): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "segmenta-bench-serve-"));
  const d = 8;
  let server: { child: ChildProcess; url: string } | null = null;
  try {
    const train = join(dir, "train.parquet");
    await table(train, 20_000, d);
    const model = join(dir, "model.json");
    cli(["cluster", train, "--id", "customer_id", "--k", "8", "--model", model]);
    const data = join(dir, "data");
    const token = JSON.parse(cli(["token", "create", "--name", "bench", "--scope", "admin", "--data", data, "--json"])).token as string;
    server = await startServer(data);
    const auth = { authorization: `Bearer ${token}` };
    const pub = await fetch(`${server.url}/api/v1/models?name=m`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: readFileSync(model, "utf8") });
    if (!pub.ok) throw new Error(`publishing the model: ${pub.status} ${await pub.text()}`);
    const scoreUrl = `${server.url}/api/v1/models/m/score`;
    const one = JSON.stringify({ rows: [row(d, 1)] });
    await cannon(scoreUrl, token, one, 2_000); // warm-up
    console.log(`segmenta serve, k-means model (k 8, ${d} features), 10 connections on loopback`);
    console.log(`  ${line(`single-row scoring, ${quick ? "10,000" : "60,000"} requests`, await cannon(scoreUrl, token, one, quick ? 10_000 : 60_000))}`);
    console.log("    (goal: at least 3,000 requests/s with p99 under 20 ms and no errors)");

    const rows = quick ? 20_000 : 100_000;
    const big = JSON.stringify({ rows: Array.from({ length: rows }, (_, i) => row(d, i)) });
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const res = await fetch(scoreUrl, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: big });
      const j = (await res.json()) as { results?: unknown[] };
      times.push(performance.now() - t);
      if (!res.ok || j.results?.length !== rows) throw new Error(`scoring ${rows} rows: ${res.status}`);
    }
    console.log(`  one ${rows.toLocaleString("en-US")}-row scoring request (${(big.length / 2 ** 20).toFixed(0)} MB of JSON): ${median(times).toFixed(0)} ms (median of 3; goal under 1 s at 100,000)`);

    // A big run trains while scoring is measured.
    const n = quick ? 200_000 : 1_000_000;
    const file = join(dir, "big.parquet");
    await table(file, n, d);
    const up = await fetch(`${server.url}/api/v1/datasets?name=big.parquet&format=parquet`, { method: "POST", headers: { ...auth, "content-type": "application/octet-stream" }, body: readFileSync(file) });
    if (!up.ok) throw new Error(`uploading: ${up.status} ${await up.text()}`);
    const datasetId = ((await up.json()) as { id: string }).id;
    const run = await fetch(`${server.url}/api/v1/runs`, {
      method: "POST", headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ datasetId, config: { k: 8, id: "customer_id", nInit: 3 } }),
    });
    const runId = ((await run.json()) as { id: string }).id;
    await new Promise((r) => setTimeout(r, 1500)); // the child is reading and fitting
    const during = await cannon(scoreUrl, token, one, quick ? 5_000 : 20_000);
    const status = ((await (await fetch(`${server.url}/api/v1/runs/${runId}`, { headers: auth })).json()) as { status: string }).status;
    console.log(`  ${line(`single-row scoring while a ${n.toLocaleString("en-US")}-row run trains (run ${status} at the end)`, during)}`);
    console.log("    (goal: p99 under 100 ms)");
  } finally {
    server?.child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchServe(process.argv.includes("--quick"));
  process.exit(0);
}
