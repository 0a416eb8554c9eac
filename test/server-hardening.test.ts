/**
 * Hardening of `segmenta serve` (issue #16): per-token rate limits, form and Excel uploads, a
 * cancelled run's temporaries, and stopping the server (SIGTERM with no grace, SIGKILL) during a
 * run: the next start on the same data folder resumes the run and nothing published is lost.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import ExcelJS from "exceljs";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server/app.js";
import { RESTARTED, startChild } from "../src/server/runner.js";
import { type HistoryStore, openStore } from "../src/server/store.js";
import { createToken } from "../src/server/tokens.js";
import { ROOT } from "./helpers/cli.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface JsonResponse extends Response {
  json(): Promise<Json>;
}

/** `n` customers in three groups of spend and visits (deterministic). */
function customersCsv(n: number): string {
  let s = 11;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const centers = [[20, 2], [120, 10], [400, 30]];
  const lines = ["customer_id,spend,visits"];
  for (let i = 0; i < n; i++) {
    const [spend, visits] = centers[i % 3];
    lines.push(`C${i},${Math.round((spend + spend * 0.2 * rnd()) * 100) / 100},${Math.round(visits + visits * 0.2 * rnd())}`);
  }
  return lines.join("\n") + "\n";
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function client(base: () => string, token: () => string) {
  return (path: string, init: RequestInit & { json?: unknown; as?: string | null } = {}): Promise<JsonResponse> => {
    const headers = new Headers(init.headers);
    const t = init.as === undefined ? token() : init.as;
    if (t) headers.set("authorization", `Bearer ${t}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return fetch(base() + path, { ...init, headers, body }) as Promise<JsonResponse>;
  };
}

describe("segmenta serve in-process: rate limits, uploads, cancel", () => {
  let dir: string;
  let store: HistoryStore;
  let app: FastifyInstance;
  let base = "";
  const tokens = { a: "", b: "" };
  const pids: number[] = [];
  const api = client(() => base, () => tokens.a);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "segmenta-hardening-"));
    store = await openStore(dir);
    for (const k of ["a", "b"] as const) {
      const t = createToken();
      await store.addToken(`token ${k}`, "admin", t.hash);
      tokens[k] = t.token;
    }
    app = await buildServer({
      dataDir: dir, store, concurrency: 1, rateLimit: 40,
      startChild: () => {
        const c = startChild();
        if (c.pid !== undefined) pids.push(c.pid);
        return c;
      },
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("uploads a CSV as a form: the file's name is metadata (without its folders), never a path", async () => {
    const form = new FormData();
    form.append("file", new Blob([customersCsv(60)], { type: "text/csv" }), "../../evil/customers.csv");
    const r = await api("/api/v1/datasets", { method: "POST", body: form });
    expect(r.status).toBe(201);
    const d = await r.json();
    expect(d).toMatchObject({ name: "customers.csv", rows: 60 });
    expect((await store.getDataset(d.id))!.file).toBe(join(dir, "datasets", d.id, "data.csv"));
    expect(await readdir(join(dir, "datasets", d.id))).toEqual(["data.csv"]);
    expect(existsSync(join(dir, "evil"))).toBe(false);
    // A form without the field "file" is refused, naming the field.
    const other = new FormData();
    other.append("upload", new Blob(["a,b\n1,2\n"]), "x.csv");
    const bad = await api("/api/v1/datasets", { method: "POST", body: other });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ field: "file" });
  });

  it("uploads an Excel workbook, its named worksheet, and runs on that worksheet", async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet("Notes").addRows([["this sheet is not the data"], ["nothing here"]]);
    const ws = wb.addWorksheet("Customers");
    const rows = customersCsv(45).trim().split("\n").map((l, i) => l.split(",").map((c, j) => (i > 0 && j > 0 ? Number(c) : c)));
    ws.addRows(rows);
    const bytes = Buffer.from(await wb.xlsx.writeBuffer());

    const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const r = await api("/api/v1/datasets?name=book.xlsx&sheet=Customers", { method: "POST", body: bytes, headers: { "content-type": xlsx } });
    expect(r.status).toBe(201);
    const d = await r.json();
    expect(d.rows).toBe(45);
    expect(d.columns.columns.map((c: { name: string }) => c.name)).toEqual(["customer_id", "spend", "visits"]);
    // Without ?sheet=, the first worksheet (the notes) is read; ?format=xlsx in a form also works.
    const form = new FormData();
    form.append("file", new Blob([bytes]), "book.bin");
    const first = await api("/api/v1/datasets?format=xlsx", { method: "POST", body: form });
    expect(first.status).toBe(201);
    expect((await first.json()).rows).toBe(1);
    const missing = await api("/api/v1/datasets?sheet=Nope", { method: "POST", body: bytes, headers: { "content-type": xlsx } });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/no worksheet "Nope".*Notes, Customers/);

    // The run reads the same worksheet.
    const run = await api("/api/v1/runs", { method: "POST", json: { datasetId: d.id, config: { k: 3, id: "customer_id" } } });
    const id = (await run.json()).id;
    await until(async () => ["succeeded", "failed"].includes((await store.getRun(id))!.status), "the run");
    const done = await store.getRun(id);
    expect(done).toMatchObject({ status: "succeeded" });
    expect((done!.summary as { rows: number }).rows).toBe(45);
  }, 120_000);

  it("removes a cancelled run's temporaries, and another run leaves none", async () => {
    const up = await api("/api/v1/datasets?name=c.csv", { method: "POST", body: customersCsv(3000), headers: { "content-type": "text/csv" } });
    const datasetId = (await up.json()).id;
    const before = pids.length;
    const r = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 4 } } });
    const id = (await r.json()).id;
    await until(() => pids.length > before, "the run's child");
    const pid = pids.at(-1)!;
    // What the child leaves when killed while writing: a temporary named after its pid.
    await until(() => existsSync(join(dir, "runs", id)), "the run's folder");
    const tmp = join(dir, "runs", id, `.segments.parquet.${pid}.${Date.now()}.segmenta.tmp`);
    await writeFile(tmp, "half a file");
    const c = await api(`/api/v1/runs/${id}`, { method: "DELETE" });
    expect(c.status).toBe(200);
    expect((await c.json()).status).toBe("cancelled");
    expect(existsSync(tmp)).toBe(false);
    const r2 = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3 } } });
    const id2 = (await r2.json()).id;
    await until(async () => (await store.getRun(id2))!.status === "succeeded", "the second run");
    for (const run of [id, id2]) {
      const names = existsSync(join(dir, "runs", run)) ? await readdir(join(dir, "runs", run)) : [];
      expect(names.filter((n) => n.endsWith(".tmp"))).toEqual([]);
    }
  }, 120_000);

  it("limits each token's requests a minute: 429 with the error shape and Retry-After; another token is not limited", async () => {
    // Earlier tests used some of token a's 40 requests; spend the rest.
    let limited: JsonResponse | null = null;
    for (let i = 0; i < 45 && !limited; i++) {
      const r = await api("/api/v1/models");
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(200);
    }
    expect(limited).not.toBeNull();
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited!.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    const body = await limited!.json();
    expect(body.error.message).toMatch(/too many requests: the limit is 40 a minute/);
    expect((await api("/api/v1/models", { as: tokens.b })).status).toBe(200);
    // Without a token, the answer is still 401 (authentication comes first).
    expect((await api("/api/v1/models", { as: null })).status).toBe(401);
  });
});

/** The TypeScript sources' CLI as a separate process (tsx's loader), as `segmenta serve` runs. */
const TSX_LOADER = join(dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "esm", "index.mjs");

describe("segmenta serve stopped during a run (a separate process)", () => {
  let dir: string;
  let token = "";
  let base = "";
  let server: ChildProcess | null = null;
  let stderr = "";
  const api = client(() => base, () => token);

  async function start(grace = 0): Promise<void> {
    const script = join(dir, "serve.mjs");
    await writeFile(script, `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, "src", "cli", "main.ts")).href)};\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    const child = spawn(process.execPath, ["--import", pathToFileURL(TSX_LOADER).href, script, "serve", "--port", "0", "--data", join(dir, "data"), "--grace", String(grace), "--json"], {
      cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    stderr = "";
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    let out = "";
    base = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line).address);
      });
      child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening: ${out} ${stderr}`)));
    });
  }

  async function stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = server!;
    server = null;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  async function status(id: string): Promise<Json> {
    return (await api(`/api/v1/runs/${id}`)).json();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "segmenta-hardening-proc-"));
    const store = await openStore(join(dir, "data"));
    const t = createToken();
    await store.addToken("admin", "admin", t.hash);
    token = t.token;
    await store.close();
  });

  afterAll(async () => {
    if (server) await stop("SIGKILL");
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("SIGTERM with no grace queues the run again; the next start runs it; SIGKILL too; publishing and scoring survive", async () => {
    await start();
    const up = await api("/api/v1/datasets?name=c.csv", { method: "POST", body: customersCsv(3000), headers: { "content-type": "text/csv" } });
    expect(up.status).toBe(201);
    const datasetId = (await up.json()).id;
    const r = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3, id: "customer_id" } } });
    const id = (await r.json()).id;
    await until(async () => (await status(id)).status === "running", "the run to start");
    // A client following the run's events: its stream ends with the run back in the queue.
    const events = await api(`/api/v1/runs/${id}/events`);
    expect(await stop("SIGTERM")).toBe(0);
    const text = await events.text();
    expect(text.trim().split("\n\n").at(-1)).toBe(`event: status\ndata: ${JSON.stringify({ type: "status", status: "queued", summary: null, error: null })}`);

    // Stopped: the run is queued again (a checkpoint), no temporary left in its folder.
    const store = await openStore(join(dir, "data"));
    try {
      expect(await store.getRun(id)).toMatchObject({ status: "queued", message: RESTARTED, startedAt: null });
    } finally {
      await store.close();
    }
    const runDir = join(dir, "data", "runs", id);
    expect((existsSync(runDir) ? await readdir(runDir) : []).filter((n) => n.endsWith(".tmp"))).toEqual([]);

    await start();
    await until(async () => ["succeeded", "failed"].includes((await status(id)).status), "the resumed run");
    expect(await status(id)).toMatchObject({ status: "succeeded", summary: { rows: 3000, k: 3 } });
    const pub = await api("/api/v1/models", { method: "POST", json: { name: "m", runId: id } });
    expect(await pub.json()).toEqual({ name: "m", version: 1, active: true, assignments: 3000 });

    // A crash (SIGKILL) during a second run: the next start runs it again.
    const r2 = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 4, id: "customer_id" } } });
    const id2 = (await r2.json()).id;
    await until(async () => (await status(id2)).status === "running", "the second run to start");
    await stop("SIGKILL");
    await start();
    const resumed = await status(id2);
    expect(["queued", "running", "succeeded"]).toContain(resumed.status);
    await until(async () => ["succeeded", "failed"].includes((await status(id2)).status), "the second resumed run");
    expect(await status(id2)).toMatchObject({ status: "succeeded", summary: { rows: 3000, k: 4 } });
    expect((await readdir(join(dir, "data", "runs", id2))).filter((n) => n.endsWith(".tmp"))).toEqual([]);

    // What was published before the crash is still there and scores.
    const score = await api("/api/v1/models/m/score", { method: "POST", json: { rows: [{ customer_id: "x", spend: 400, visits: 30 }, { customer_id: "y", spend: 20, visits: 2 }] } });
    expect(score.status).toBe(200);
    const s = await score.json();
    expect(s).toMatchObject({ model: "m", version: 1 });
    expect(s.results.map((x: { id: string }) => x.id)).toEqual(["x", "y"]);
    expect(s.results[0].segment).not.toBe(s.results[1].segment);
    expect(await stop("SIGTERM")).toBe(0);
  }, 240_000);

  it("SIGTERM with a grace period lets the running run finish before the server exits", async () => {
    await start(120);
    const datasets = (await (await api("/api/v1/datasets")).json()).datasets;
    const r = await api("/api/v1/runs", { method: "POST", json: { datasetId: datasets[0].id, config: { k: 5, id: "customer_id" } } });
    const id = (await r.json()).id;
    await until(async () => (await status(id)).status === "running", "the run to start");
    expect(await stop("SIGTERM"), stderr).toBe(0);
    expect(stderr).toContain("segmenta serve: stopping; running runs have up to 120 s to finish (--grace)");
    const store = await openStore(join(dir, "data"));
    try {
      expect(await store.getRun(id)).toMatchObject({ status: "succeeded", summary: { rows: 3000, k: 5 } });
    } finally {
      await store.close();
    }
  }, 240_000);
});
