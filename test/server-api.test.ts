/**
 * The HTTP API of `segmenta serve`, driven over loopback with fetch: the real server on the
 * real store, a real child process per run. The same suite runs on the embedded DuckDB store and
 * on a real PostgreSQL (started for this file; that half is skipped with a message where it
 * cannot start), where a second server on the same database is checked too. Exports: a CRM
 * import file, a webhook received by a real receiver that checks the HMAC signature, and a
 * PostgreSQL table.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type ColumnKind, datasetFromRecords } from "../src/core/dataset.js";
import { lit, queryRows } from "../src/io/duck.js";
import { parseModelFile, predictWithModel } from "../src/pipeline/model.js";
import type { ChildProcess } from "node:child_process";
import { buildServer } from "../src/server/app.js";
import { readSegmentsFile } from "../src/server/export/source.js";
import { compareAssignments } from "../src/pipeline/compare.js";
import { segmentChanges } from "../src/pipeline/changes.js";
import { startChild } from "../src/server/runner.js";
import { openPgStore } from "../src/server/pg-store.js";
import { type HistoryStore, openStore, type RunRecord } from "../src/server/store.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";
import { createToken } from "../src/server/tokens.js";
import { csvCells, runMain } from "./helpers/cli.js";

/** 90 customers in three groups of spend and visits (deterministic), with a channel and an id that looks like a formula. */
function customers(): { csv: string; rows: Record<string, unknown>[] } {
  const rows: Record<string, unknown>[] = [];
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const centers = [[20, 2], [120, 10], [400, 30]];
  for (let i = 0; i < 90; i++) {
    const [spend, visits] = centers[i % 3];
    rows.push({ customer_id: i === 4 ? "=HYPERLINK(1)" : `C${String(i).padStart(3, "0")}`, spend: Math.round((spend + spend * 0.1 * rnd()) * 100) / 100, visits: Math.round(visits + visits * 0.1 * rnd()), channel: ["web", "store", "app"][i % 3] });
  }
  const csv = "customer_id,spend,visits,channel\n" + rows.map((r) => `${r.customer_id},${r.spend},${r.visits},${r.channel}`).join("\n") + "\n";
  return { csv, rows };
}

const FINISHED_STATES = ["succeeded", "failed", "cancelled"];

function parseCsv(text: string): string[][] {
  return text.trim().split("\n").map(csvCells);
}

let dir: string;
let store: HistoryStore;
let app: FastifyInstance;
let base: string;
const tokens: Record<"admin" | "read" | "score", string> = { admin: "", read: "", score: "" };
const data = customers();

/** The parsed JSON of a response, as the tests read it: any field, at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface JsonResponse extends Response {
  json(): Promise<Json>;
}

async function api(path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}): Promise<JsonResponse> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? tokens.admin : init.token;
  if (token) headers.set("authorization", `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return fetch(base + path, { ...init, headers, body });
}

const HOOK_SECRET = "hook-secret";

interface Delivery { key: string; status: number; json: { model?: string; batch: { index: number; count: number }; assignments: { id: string; segment: number; name: string }[] } }

/** A webhook receiver on loopback: checks each body's HMAC-SHA256 signature (401 when it does not match), keeps what it accepts. */
async function receiver(): Promise<{ url: string; got: Delivery[]; rejected: number; close: () => Promise<void> }> {
  const out = { url: "", got: [] as Delivery[], rejected: 0, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from("sha256=" + createHmac("sha256", HOOK_SECRET).update(raw).digest("hex"));
      const sig = Buffer.from(String(req.headers["x-segmenta-signature"] ?? ""));
      if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
        out.rejected++;
        res.statusCode = 401;
        res.end("bad signature");
        return;
      }
      out.got.push({ key: String(req.headers["idempotency-key"]), status: 200, json: JSON.parse(raw.toString("utf8")) as Delivery["json"] });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  out.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/segments`;
  out.close = () => new Promise<void>((r) => server.close(() => r()));
  return out;
}

let pgServer: TestPostgres | null = null;
beforeAll(async () => {
  pgServer = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pgServer?.stop();
});

/** A database of the PostgreSQL server for this file (null when there is none). */
async function database(name: string): Promise<string | null> {
  return pgServer ? pgServer.newDatabase(`${name}_${process.pid}`) : null;
}

/** Starts a server on the store of `kind` over the data folder `dataDir`; the tokens of the three scopes are created in it. */
async function startOn(
  kind: StoreKind, dataDir: string, storeUrl: string | null, onChild: (c: ChildProcess) => void = (c) => children.push(c),
): Promise<{ store: HistoryStore; app: FastifyInstance; base: string }> {
  const s = kind === "duckdb" ? await openStore(dataDir) : await openPgStore(storeUrl!);
  const a = await buildServer({
    dataDir, store: s, uploadLimit: 64 * 1024, concurrency: 1, startChild: () => {
      const c = startChild();
      onChild(c);
      return c;
    },
  });
  return { store: s, app: a, base: await a.listen({ port: 0, host: "127.0.0.1" }) };
}

type StoreKind = "duckdb" | "postgres";

/** The child processes the suite's servers started, in order. */
const children: ChildProcess[] = [];

/** Whether a process is alive (signal 0 checks without sending). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

// The same suite on the embedded DuckDB store and on PostgreSQL (skipped with a message where
// PostgreSQL cannot start).
describe.each(["duckdb", "postgres"] as const)("segmenta serve: the HTTP API on the %s store", (kind) => {
  let datasetId = "";
  let runId = "";
  /** The PostgreSQL store's database (the postgres suite only). */
  let storeUrl: string | null = null;
  const skipped = () => kind === "postgres" && !pgServer;

  beforeAll(async () => {
    if (skipped()) return;
    dir = await mkdtemp(join(tmpdir(), `segmenta-serve-${kind}-`));
    if (kind === "postgres") storeUrl = await database("api_store");
    ({ store, app, base } = await startOn(kind, dir, storeUrl));
    for (const scope of ["admin", "read", "score"] as const) {
      const t = createToken();
      await store.addToken(`${scope} token`, scope, t.hash);
      tokens[scope] = t.token;
    }
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach((ctx) => {
    if (skipped()) ctx.skip();
  });

  it("answers /healthz without a token", async () => {
    const r = await api("/healthz", { token: null });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ ok: true, version: expect.any(String) });
  });

  it("needs a token everywhere else, and a scope that allows the route", async () => {
    const none = await api("/api/v1/datasets", { token: null });
    expect(none.status).toBe(401);
    expect((await none.json()).error.message).toMatch(/Authorization: Bearer/);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="segmenta"');
    expect((await api("/api/v1/datasets", { token: "sgm_" + "A".repeat(43) })).status).toBe(401);
    expect((await api("/api/v1/datasets", { token: "not a token" })).status).toBe(401);
    const scoreOnly = await api("/api/v1/datasets", { token: tokens.score });
    expect(scoreOnly.status).toBe(403);
    expect((await scoreOnly.json()).error.message).toMatch(/"score".*"read"/);
    expect((await api("/api/v1/datasets", { token: tokens.read })).status).toBe(200);
    const readUpload = await api("/api/v1/datasets?name=x", { method: "POST", token: tokens.read, body: data.csv, headers: { "content-type": "text/csv" } });
    expect(readUpload.status).toBe(403);
  });

  it("uploads a CSV: the dataset with the columns as inspect profiles them", async () => {
    const r = await api("/api/v1/datasets?name=customers.csv", { method: "POST", body: data.csv, headers: { "content-type": "text/csv" } });
    expect(r.status).toBe(201);
    const d = await r.json();
    expect(d).toMatchObject({ name: "customers.csv", rows: 90 });
    datasetId = d.id;
    const cols = d.columns.columns as { name: string; kind: string }[];
    expect(cols.map((c) => [c.name, c.kind])).toEqual([["customer_id", "id"], ["spend", "numeric"], ["visits", "numeric"], ["channel", "categorical"]]);
    const list = await (await api("/api/v1/datasets", { token: tokens.read })).json();
    expect(list.datasets.map((x: { id: string }) => x.id)).toContain(datasetId);
    const one = await (await api(`/api/v1/datasets/${datasetId}`)).json();
    expect(one).toMatchObject({ id: datasetId, rows: 90, format: "csv" });
  });

  it("refuses bad bodies with a 4xx and the error shape", async () => {
    const huge = await api("/api/v1/datasets?name=big", { method: "POST", body: "a,b\n" + "1,2\n".repeat(40_000), headers: { "content-type": "text/csv" } });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.message).toMatch(/limit of 0\.06 MB/);
    // As a form, too: the file part over the upload limit.
    const form = new FormData();
    form.append("file", new Blob(["a,b\n" + "1,2\n".repeat(40_000)], { type: "text/csv" }), "big.csv");
    const hugeForm = await api("/api/v1/datasets", { method: "POST", body: form });
    expect(hugeForm.status).toBe(413);
    expect((await hugeForm.json()).error.message).toMatch(/limit of 0\.06 MB \(segmenta serve --upload-limit MB raises it\)/);
    const badJson = await api("/api/v1/runs", { method: "POST", body: "{\"datasetId\": ", headers: { "content-type": "application/json" } });
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error.message).toMatch(/JSON/);
    const badConfig = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: "three" } } });
    expect(badConfig.status).toBe(400);
    const e = await badConfig.json();
    expect(e.error.field).toBe("config.k");
    expect(e.error.message).toMatch(/^config\.k:/);
    const badAlgo = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { algorithm: "magic" } } });
    expect((await badAlgo.json()).error.field).toBe("config.algorithm");
    // Columns the dataset lacks are refused before any run, the configuration's field named.
    for (const [config, field] of [[{ features: ["spend", "nope"] }, "config.features"], [{ id: "nope" }, "config.id"], [{ profile: ["nope"] }, "config.profile"], [{ types: { nope: "categorical" } }, "config.types"]] as const) {
      const r = await api("/api/v1/runs", { method: "POST", json: { datasetId, config } });
      expect(r.status).toBe(400);
      const err = (await r.json()).error;
      expect(err.field).toBe(field);
      expect(err.message).toMatch(new RegExp(`^${field.replace(".", "\\.")}: dataset customers\\.csv has no column "nope"; its columns are: customer_id, spend, visits, channel$`));
    }
    expect((await api("/api/v1/runs", { method: "POST", json: { datasetId: "nope", config: {} } })).status).toBe(404);
    expect((await api("/api/v1/runs/nope")).status).toBe(404);
    expect((await api("/api/v1/datasets/nope")).status).toBe(404);
    expect((await api("/api/v1/models/nope")).status).toBe(404);
    expect((await api("/api/v1/models/nope/score", { method: "POST", json: { rows: [] } })).status).toBe(404);
    expect((await api("/api/v1/nowhere")).status).toBe(404);
    const notData = await api("/api/v1/datasets?name=x.csv", { method: "POST", body: "a,b\n", headers: { "content-type": "text/csv" } });
    expect(notData.status).toBe(400);
    const m = (await notData.json()).error.message as string;
    expect(m).toMatch(/x\.csv/);
    expect(m).not.toContain(dir);
    const notModel = await api("/api/v1/models?name=m", { method: "POST", json: { hello: 1 } });
    expect(notModel.status).toBe(400);
    expect((await notModel.json()).error.message).toMatch(/not a Segmenta model file/);
  });

  it("runs k-means with k 3 in a child process: events, status, segments, report and model", async () => {
    const r = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3, id: "customer_id", seed: 3 } } });
    expect(r.status).toBe(202);
    const started = await r.json();
    expect(started.status).toBe("queued");
    runId = started.id;
    // The events stream ends with the final status.
    const ev = await api(`/api/v1/runs/${runId}/events`, { token: tokens.read });
    expect(ev.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await ev.text();
    const events = text.trim().split("\n\n").map((block) => ({ type: /^event: (\w+)/.exec(block)?.[1], data: JSON.parse(/\ndata: (.*)$/.exec(block)![1]) }));
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ type: "status", data: { status: "succeeded" } });
    expect(events.slice(0, -1).every((e) => e.type === "progress")).toBe(true);

    const run = await (await api(`/api/v1/runs/${runId}`, { token: tokens.read })).json();
    expect(run).toMatchObject({ status: "succeeded", progress: 1 });
    expect(run.summary.k).toBe(3);
    expect(run.summary.rows).toBe(90);
    expect(run.summary.segments.map((s: { size: number }) => s.size).sort()).toEqual([30, 30, 30]);
    expect(run.summary.silhouette).toBeGreaterThan(0.5);

    // The CSV is the Parquet file the run wrote, formula-like ids neutralised.
    const csv = await api(`/api/v1/runs/${runId}/segments`, { token: tokens.read });
    expect(csv.headers.get("content-type")).toMatch(/text\/csv/);
    expect(csv.headers.get("x-content-type-options")).toBe("nosniff");
    const cells = parseCsv(await csv.text());
    expect(cells[0]).toEqual(["customer_id", "segment", "segment_name"]);
    const parquet = await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`);
    expect(cells.length - 1).toBe(90);
    expect(cells.slice(1).map((c) => [c[0], Number(c[1]), c[2]])).toEqual(parquet.map((p) => [p.customer_id === "=HYPERLINK(1)" ? "'=HYPERLINK(1)" : p.customer_id, p.segment, p.segment_name]));
    // The same segments as segmenta cluster on the same file and configuration.
    const work = await mkdtemp(join(tmpdir(), "segmenta-serve-cluster-"));
    try {
      await writeFile(join(work, "customers.csv"), data.csv);
      const cli = await runMain(["cluster", join(work, "customers.csv"), "--k", "3", "--id", "customer_id", "--seed", "3", "--out", join(work, "segments.csv")]);
      expect(cli.status, cli.stderr).toBe(0);
      expect(parseCsv(await readFile(join(work, "segments.csv"), "utf8"))).toEqual(cells);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const json = await (await api(`/api/v1/runs/${runId}/segments?format=json`)).json();
    expect(json).toHaveLength(90);
    expect(json[4]).toMatchObject({ customer_id: "=HYPERLINK(1)" });
    const pq = await api(`/api/v1/runs/${runId}/segments`, { headers: { accept: "application/vnd.apache.parquet" } });
    expect(Buffer.from(await pq.arrayBuffer()).subarray(0, 4).toString()).toBe("PAR1");

    const report = await api(`/api/v1/runs/${runId}/report`);
    expect(report.headers.get("content-type")).toMatch(/text\/html/);
    expect(await report.text()).toMatch(/<html/i);
    const model = await (await api(`/api/v1/runs/${runId}/model`)).json();
    expect(model.format).toBe("segmenta-model");
    expect(model.training.k).toBe(3);
  }, 120_000);

  it("publishes models as versions, one active, and scores rows as predict does", async () => {
    expect(runId).not.toBe("");
    const p1 = await api("/api/v1/models", { method: "POST", json: { name: "spend", runId } });
    expect(p1.status).toBe(201);
    expect(await p1.json()).toEqual({ name: "spend", version: 1, active: true, assignments: 90 });
    // Publishing a run keeps its assignments, with the date, in the history: the run's segments file row for row.
    const history = await store.assignmentHistory("spend");
    const segments = await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`);
    expect(history.map((h) => [h.version, h.id, h.segment, h.name])).toEqual(segments.map((s) => [1, s.customer_id, s.segment, s.segment_name]));
    expect(history.map((h) => h.id)).toContain("=HYPERLINK(1)");
    expect(new Set(history.map((h) => h.publishedAt)).size).toBe(1);
    expect(Number.isNaN(Date.parse(history[0].publishedAt))).toBe(false);
    const file = await (await api(`/api/v1/runs/${runId}/model`)).json();
    const p2 = await api("/api/v1/models?name=spend", { method: "POST", json: file });
    // A model sent as a file has no assignments: the history is unchanged.
    expect(await p2.json()).toEqual({ name: "spend", version: 2, active: true, assignments: 0 });
    expect(await store.assignmentHistory("spend")).toHaveLength(90);
    const meta = await (await api("/api/v1/models/spend", { token: tokens.read })).json();
    expect(meta).toMatchObject({ name: "spend", version: 2, active: true, runId: null });
    expect(meta.versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([[1, false], [2, true]]);
    const v1 = await (await api("/api/v1/models/spend/versions/1")).json();
    expect(v1).toMatchObject({ version: 1, runId, active: false });
    expect(v1.file.checksum).toBe(file.checksum);
    expect((await (await api("/api/v1/models")).json()).models).toEqual([{ name: "spend", activeVersion: 2, versions: 2 }]);

    // Score with the score token: the rows of the training file, one with a missing value and an unseen channel.
    const rows = data.rows.slice(0, 12).map((r) => ({ ...r }));
    rows[1].visits = null;
    rows[2].channel = "phone";
    const r = await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, json: { rows } });
    expect(r.status).toBe(200);
    const scored = await r.json();
    expect(scored.version).toBe(2);
    expect(scored.results).toHaveLength(12);
    const m = parseModelFile(file);
    const kinds: Record<string, ColumnKind> = { ...Object.fromEntries(m.file.columns.map((c) => [c.name, c.kind])), customer_id: "id" };
    const p = predictWithModel(m, datasetFromRecords(rows, kinds));
    expect(scored.results).toEqual(Array.from(p.labels, (l, i) => ({ id: p.ids[i], segment: l, name: p.names[l] })));
    expect(scored.warnings.join(" ")).toMatch(/phone/);
    // The unchanged rows get the run's segments.
    const segs = new Map((await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`)).map((x) => [x.customer_id, x.segment]));
    for (const [i, res] of (scored.results as { id: string; segment: number }[]).entries()) {
      expect(res.id).toBe(rows[i].customer_id);
      if (i !== 1 && i !== 2) expect(res.segment).toBe(segs.get(res.id));
    }
    // A given version; missing columns named.
    const old = await (await api("/api/v1/models/spend/score?version=1", { method: "POST", token: tokens.score, json: { rows: rows.slice(0, 3) } })).json();
    expect(old.version).toBe(1);
    expect(old.results).toEqual(scored.results.slice(0, 3));
    expect((await api("/api/v1/models/spend/score?version=9", { method: "POST", token: tokens.score, json: { rows } })).status).toBe(404);
    expect((await api("/api/v1/models/spend/score?version=two", { method: "POST", token: tokens.score, json: { rows } })).status).toBe(400);
    expect((await api("/api/v1/models/spend/versions/9")).status).toBe(404);
    expect((await api("/api/v1/models", { method: "POST", json: { name: "../x", runId } })).status).toBe(400);
    const missing = await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, json: { rows: [{ customer_id: "X", spend: 3 }] } });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/"visits", "channel"|"channel", "visits"/);
    const csvMissing = await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, body: "customer_id,spend\nX,3\n", headers: { "content-type": "text/csv" } });
    expect(csvMissing.status).toBe(400);
    expect((await csvMissing.json()).error.message).toMatch(/"visits", "channel"/);
    const badLine = await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, body: '{"spend": 1}\n{oops', headers: { "content-type": "application/x-ndjson" } });
    expect(badLine.status).toBe(400);
    expect((await badLine.json()).error.message).toMatch(/line 2 of the NDJSON body/);
    const notRows = await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, json: { rows: [1, 2] } });
    expect(notRows.status).toBe(400);
    // A score token may not publish.
    expect((await api("/api/v1/models?name=x", { method: "POST", token: tokens.score, json: file })).status).toBe(403);
  });

  it("scores concurrent requests as it scores them one by one", async () => {
    const batches = Array.from({ length: 16 }, (_, b) => data.rows.slice((b * 5) % 80, ((b * 5) % 80) + 5 + (b % 3)));
    const one: unknown[] = [];
    for (const rows of batches) one.push((await (await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, json: { rows } })).json()).results);
    const all = await Promise.all(batches.map(async (rows) => (await (await api("/api/v1/models/spend/score", { method: "POST", token: tokens.score, json: { rows } })).json()).results));
    expect(all).toEqual(one);
    expect((one as unknown[][]).flat()).toHaveLength(batches.reduce((a, b) => a + b.length, 0));
  });

  it("exports a run to a CRM import file: the emails of a contacts dataset joined by id, in the run's order", async () => {
    const segments = await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`);
    // Contacts in another order, a few without an email, one email that looks like a formula.
    const contacts = [...data.rows].reverse().map((r, i) => [String(r.customer_id), i % 10 === 3 ? "" : i === 0 ? "=1+1@x.com" : `${String(r.customer_id).toLowerCase()}@example.com`]);
    const csvText = "customer_id,email\n" + contacts.map(([id, e]) => `"${id}",${e}`).join("\n") + "\n";
    const up = await (await api("/api/v1/datasets?name=contacts.csv", { method: "POST", body: csvText, headers: { "content-type": "text/csv" } })).json();
    const r = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { format: "hubspot", email: "email", contacts: up.id } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/text\/csv/);
    expect(r.headers.get("content-disposition")).toBe('attachment; filename="hubspot.csv"');
    const emailOf = new Map(contacts.map(([id, e]) => [id, e]));
    const expected = segments.filter((s) => emailOf.get(s.customer_id as string)).map((s) => {
      const e = emailOf.get(s.customer_id as string)!;
      return [e.startsWith("=") ? `'${e}` : e, s.segment_name];
    });
    expect(r.headers.get("x-segmenta-rows")).toBe(String(expected.length));
    expect(r.headers.get("x-segmenta-without-email")).toBe(String(90 - expected.length));
    expect(parseCsv(await r.text())).toEqual([["Email", "Segment"], ...expected]);
    // Mailchimp's header; the email column of the run's own dataset (it has none: named in the error).
    const mc = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { format: "mailchimp", email: "email", contacts: up.id } });
    expect(parseCsv(await mc.text())[0]).toEqual(["Email Address", "Tags"]);
    const noEmail = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { format: "klaviyo", email: "email" } });
    expect(noEmail.status).toBe(400);
    const e = (await noEmail.json()).error;
    expect(e).toMatchObject({ field: "email" });
    expect(e.message).toMatch(/dataset customers\.csv has no column "email"/);
    expect(e.message).not.toContain(dir);
    // Wrong bodies: 4xx with the field named.
    const bad = async (json: unknown, status: number, field?: string) => {
      const res = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json });
      expect(res.status, JSON.stringify(json)).toBe(status);
      if (field) expect((await res.json()).error.field).toBe(field);
    };
    await bad({ format: "excel", email: "email" }, 400, "format");
    await bad({ format: "hubspot" }, 400, "email");
    await bad({ format: "hubspot", email: "email", webhook: { url: "http://127.0.0.1:1/", secret: "s" } }, 400, "webhook");
    await bad({}, 400);
    await bad({ webhook: { url: "ftp://example.com/x", secret: "s" } }, 400, "webhook.url");
    await bad({ webhook: { url: "http://127.0.0.1:1/" } }, 400, "webhook.secret");
    await bad({ postgres: { url: "mysql://x" , table: "t" } }, 400, "postgres.url");
    await bad({ format: "hubspot", email: "email", contacts: "nope" }, 404, "contacts");
    expect((await api("/api/v1/runs/nope/export", { method: "POST", json: { format: "hubspot", email: "email" } })).status).toBe(404);
    expect((await api(`/api/v1/runs/${runId}/export`, { method: "POST", token: tokens.read, json: { format: "hubspot", email: "email" } })).status).toBe(403);
  });

  it("delivers a run to a webhook, signed (checked by a real receiver), in batches, naming the published model; a refused delivery is a 502", async () => {
    const segments = await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`);
    const hook = await receiver();
    try {
      const r = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET, batchSize: 40 } } });
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ source: `run ${runId}`, model: "spend@1", batches: 3, deliveredBatches: 3, delivered: 90, total: 90, failure: null });
      expect(hook.got.map((g) => g.status)).toEqual([200, 200, 200]);
      expect(hook.got.map((g) => g.json.batch.index)).toEqual([0, 1, 2]);
      expect(hook.got.every((g) => g.json.model === "spend@1")).toBe(true);
      expect(hook.got.flatMap((g) => g.json.assignments)).toEqual(segments.map((s) => ({ id: s.customer_id, segment: s.segment, name: s.segment_name })));
      // The same export again: the same idempotency keys.
      const keys = hook.got.map((g) => g.key);
      expect((await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET, batchSize: 40 } } })).status).toBe(200);
      expect(hook.got.slice(3).map((g) => g.key)).toEqual(keys);
      // A wrong secret: the receiver refuses the signature (401, not retried): a 502 with what was delivered.
      const refused = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: "not the secret" } } });
      expect(refused.status).toBe(502);
      const body = await refused.json();
      expect(body.error.field).toBe("webhook");
      expect(body.error.message).toMatch(/0 of 90 assignments delivered .* batch 1 failed after 1 attempt \(HTTP 401/);
      expect(body.delivery).toMatchObject({ delivered: 0, total: 90, failure: { batch: 1, attempts: 1, status: 401 } });
      expect(hook.rejected).toBe(1);
      // A model version's customers, as its publish recorded them; a version published as a file has none.
      const fromModel = await api("/api/v1/models/spend/export?version=1", { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET } } });
      expect(await fromModel.json()).toMatchObject({ source: "model spend@1", model: "spend@1", delivered: 90, failure: null });
      expect(hook.got.at(-1)!.json.assignments).toEqual(segments.map((s) => ({ id: s.customer_id, segment: s.segment, name: s.segment_name })));
      const fileVersion = await api("/api/v1/models/spend/export", { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET } } });
      expect(fileVersion.status).toBe(409);
      expect((await fileVersion.json()).error.message).toMatch(/version 2 of model spend was published as a model file/);
      expect((await api("/api/v1/models/nope/export", { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET } } })).status).toBe(404);
    } finally {
      await hook.close();
    }
  });

  it("exports a run and a model version to a PostgreSQL table: upserted, with its history, the same export again changing nothing", async (ctx) => {
    const target = kind === "postgres" ? storeUrl : await database("api_export");
    if (!target) {
      ctx.skip();
      return;
    }
    const segments = await queryRows(`SELECT * FROM read_parquet(${lit(join(dir, "runs", runId, "segments.parquet"))})`);
    const first = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { postgres: { url: target, table: "crm_segments" } } });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ source: `run ${runId}`, model: "spend@1", table: "crm_segments", inserted: 90, changed: 0, unchanged: 0, historyRows: 90 });
    const again = await (await api("/api/v1/models/spend/export?version=1", { method: "POST", json: { postgres: { url: target, table: "crm_segments" } } })).json();
    expect(again).toMatchObject({ source: "model spend@1", inserted: 0, changed: 0, unchanged: 90, historyRows: 0 });
    const db = new pg.Client({ connectionString: target });
    await db.connect();
    try {
      const rows = (await db.query("SELECT id, segment, segment_name, model FROM crm_segments ORDER BY id")).rows;
      const want = segments.map((s) => ({ id: s.customer_id, segment: s.segment, segment_name: s.segment_name, model: "spend@1" })).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
      expect(rows).toEqual(want);
      expect(Number((await db.query("SELECT count(*) AS n FROM crm_segments_history")).rows[0].n)).toBe(90);
    } finally {
      await db.end();
    }
    const badTable = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { postgres: { url: target, table: "no such table!" } } });
    expect(badTable.status).toBe(400);
    expect((await badTable.json()).error).toMatchObject({ field: "postgres.table", message: expect.stringMatching(/^postgres\.table "no such table!"/) });
    const down = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { postgres: { url: "postgres://nobody:secret@127.0.0.1:1/db", table: "t" } } });
    expect(down.status).toBe(502);
    const downMessage = (await down.json()).error.message as string;
    expect(downMessage).toMatch(/cannot connect/);
    expect(downMessage).not.toContain("secret");
  });

  it.runIf(kind === "postgres")("a second server on the same database (its own data folder) sees the tokens, runs and models, scores alike and publishes the next version; segmenta export --run --store reads the run", async () => {
    const folder = `${dir}-second`;
    const b = await startOn("postgres", folder, storeUrl);
    try {
      const at = (server: string, path: string, init: RequestInit & { json?: unknown; token?: string } = {}) =>
        fetch(server + path, {
          ...init,
          headers: { authorization: `Bearer ${init.token ?? tokens.admin}`, ...(init.json !== undefined ? { "content-type": "application/json" } : {}) },
          body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
        }).then((r) => r.json() as Promise<Json>);
      expect((await b.store.getRun(runId))?.status).toBe("succeeded");
      expect(await at(b.base, "/api/v1/models")).toEqual(await at(base, "/api/v1/models"));
      const rows = data.rows.slice(0, 9);
      const scoredA = await at(base, "/api/v1/models/spend/score", { method: "POST", json: { rows }, token: tokens.score });
      const scoredB = await at(b.base, "/api/v1/models/spend/score", { method: "POST", json: { rows }, token: tokens.score });
      expect(scoredB).toEqual(scoredA);
      const file = await at(base, `/api/v1/runs/${runId}/model`);
      const before = (await at(base, "/api/v1/models/spend")).versions.length as number;
      expect(await at(b.base, "/api/v1/models?name=spend", { method: "POST", json: file })).toEqual({ name: "spend", version: before + 1, active: true, assignments: 0 });
      const meta = await at(base, "/api/v1/models/spend");
      expect(meta.versions.map((v: { active: boolean }) => v.active)).toEqual([...Array(before).fill(false), true]);
      expect((await at(base, `/api/v1/models/spend/score?version=${before + 1}`, { method: "POST", json: { rows }, token: tokens.score })).results).toEqual(scoredA.results);
      // segmenta export --run … --store …: the run's segments, found through the shared store, into a table of the same database.
      const exported = await runMain(["export", "--run", runId, "--store", storeUrl!, "--to", storeUrl!, "--table", "cli_segments", "--json"]);
      expect(exported.status, exported.stderr).toBe(0);
      const history = (await store.assignmentHistory("spend")).filter((h) => h.version === 1);
      const db = new pg.Client({ connectionString: storeUrl! });
      await db.connect();
      try {
        const inDb = (await db.query("SELECT id, segment, model FROM cli_segments")).rows as { id: string; segment: number; model: string }[];
        expect(new Map(inDb.map((r) => [r.id, r.segment]))).toEqual(new Map(history.map((h) => [h.id, h.segment])));
        expect(new Set(inDb.map((r) => r.model))).toEqual(new Set(["spend@1"]));
      } finally {
        await db.end();
      }
    } finally {
      await b.app.close();
      await b.store.close();
      await rm(folder, { recursive: true, force: true });
    }
  }, 120_000);

  it("keeps segment ids from a previous run or model version as cluster --previous does, compares two runs, and shows a model's history", async () => {
    const finished = async (id: string) => {
      await (await api(`/api/v1/runs/${id}/events`)).text();
      return (await api(`/api/v1/runs/${id}`)).json();
    };
    const r2 = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3, id: "customer_id", seed: 11 }, previous: runId } });
    expect(r2.status).toBe(202);
    const run2 = (await r2.json()).id as string;
    expect(await finished(run2)).toMatchObject({ status: "succeeded" });
    const apiCsv = parseCsv(await (await api(`/api/v1/runs/${run2}/segments`)).text());
    // The same as segmenta cluster --previous on the previous run's model and segments files.
    const work = await mkdtemp(join(tmpdir(), "segmenta-serve-previous-"));
    try {
      await writeFile(join(work, "customers.csv"), data.csv);
      const prevDir = join(dir, "runs", runId);
      const cli = await runMain(["cluster", join(work, "customers.csv"), "--k", "3", "--id", "customer_id", "--seed", "11",
        "--previous", join(prevDir, "model.json"), "--previous", join(prevDir, "segments.parquet"), "--out", join(work, "segments.csv")]);
      expect(cli.status, cli.stderr).toBe(0);
      expect(parseCsv(await readFile(join(work, "segments.csv"), "utf8"))).toEqual(apiCsv);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    // Three clear groups: every customer keeps the previous run's segment number.
    const first = new Map(parseCsv(await (await api(`/api/v1/runs/${runId}/segments`)).text()).slice(1).map((c) => [c[0], c[1]]));
    expect(apiCsv.slice(1).every((c) => first.get(c[0]) === c[1])).toBe(true);

    // The comparison of the two runs is compareAssignments of their segments files.
    const cmp = await api(`/api/v1/compare?before=${runId}&after=${run2}`, { token: tokens.read });
    expect(cmp.status).toBe(200);
    const got = await cmp.json();
    const seg = async (id: string) => (await readSegmentsFile(join(dir, "runs", id, "segments.parquet"))).assignments;
    const { changes, ...expected } = compareAssignments(await seg(runId), await seg(run2), { labels: { before: `run ${runId}`, after: `run ${run2}` } });
    expect(got).toEqual(JSON.parse(JSON.stringify({ ...expected, changeCount: changes.length })));
    expect(got).toMatchObject({ common: 90, stayed: 90, moved: 0, adjustedRand: 1 });
    expect((await api(`/api/v1/compare?before=${runId}`)).status).toBe(400);
    expect((await (await api(`/api/v1/compare?before=${runId}&after=nope`)).json()).error.field).toBe("after");

    // Published: the history has the sizes of each version with customers and the flows between them.
    const pub = await (await api("/api/v1/models", { method: "POST", json: { name: "spend", runId: run2 } })).json();
    const hist = await (await api("/api/v1/models/spend/history", { token: tokens.read })).json();
    const v1 = hist.versions.find((v: { version: number }) => v.version === 1);
    expect(v1).toMatchObject({ customers: 90, runId });
    expect(v1.segments.map((s: { size: number }) => s.size)).toEqual([30, 30, 30]);
    expect(hist.versions.find((v: { version: number }) => v.version === 2)).toMatchObject({ customers: null, segments: null });
    expect(hist.flows).toHaveLength(1);
    expect(hist.flows[0]).toMatchObject({ from: 1, to: pub.version, common: 90, stayed: 90, moved: 0, changeCount: 0, flows: [] });
    expect((await api("/api/v1/models/nope/history")).status).toBe(404);

    // A model version as the previous one: its model file and the customers of the run it was published from.
    const r3 = await (await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3, id: "customer_id", seed: 11 }, previous: "spend@1" } })).json();
    expect(await finished(r3.id)).toMatchObject({ status: "succeeded" });
    expect(parseCsv(await (await api(`/api/v1/runs/${r3.id}/segments`)).text())).toEqual(apiCsv);
    const unknown = await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3 }, previous: "nope@4" } });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.field).toBe("previous");
  }, 120_000);

  it("a run made with a previous one sends its segment changes to a webhook (pipeline/changes.ts's format), or its assignments when asked", async () => {
    const r = await (await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 2, id: "customer_id", seed: 5 }, previous: runId } })).json();
    await (await api(`/api/v1/runs/${r.id}/events`)).text();
    const done = await (await api(`/api/v1/runs/${r.id}`)).json();
    expect(done.status).toBe("succeeded");
    const seg = async (id: string) => (await readSegmentsFile(join(dir, "runs", id, "segments.parquet"))).assignments;
    const expected = segmentChanges(await seg(runId), await seg(r.id), done.finishedAt.slice(0, 10), undefined, { before: `run ${runId}`, after: `run ${r.id}` });
    // Three groups into two: some customers move.
    expect(expected.length).toBeGreaterThanOrEqual(30);
    const hook = await receiver();
    try {
      const res = await api(`/api/v1/runs/${r.id}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET, batchSize: 25 } } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ send: "changes", previous: `run ${runId}`, total: expected.length, delivered: expected.length, failure: null });
      const got = hook.got.flatMap((g) => (g.json as unknown as { changes: unknown[] }).changes);
      expect(got).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(hook.got.map((g) => g.json.batch.count)).toEqual(Array(Math.ceil(expected.length / 25)).fill(Math.ceil(expected.length / 25)));
      // Every assignment instead, when asked.
      const all = await api(`/api/v1/runs/${r.id}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET, send: "assignments" } } });
      expect(await all.json()).toMatchObject({ send: "assignments", delivered: 90 });
      expect(hook.got.at(-1)!.json.assignments).toHaveLength(90);
      // A run made without a previous one has no changes to send.
      const none = await api(`/api/v1/runs/${runId}/export`, { method: "POST", json: { webhook: { url: hook.url, secret: HOOK_SECRET, send: "changes" } } });
      expect(none.status).toBe(400);
      expect((await none.json()).error.field).toBe("webhook.send");
    } finally {
      await hook.close();
    }
  }, 120_000);

  it("reads uploads as JSON and Parquet too, and never makes a path of the uploaded name", async () => {
    const json = await api("/api/v1/datasets?name=" + encodeURIComponent("../../escape.json"), { method: "POST", json: data.rows.slice(0, 30) });
    expect(json.status).toBe(201);
    const j = await json.json();
    expect(j).toMatchObject({ name: "../../escape.json", rows: 30 });
    const stored = await store.getDataset(j.id);
    expect(stored!.file).toBe(join(dir, "datasets", j.id, "data.json"));
    const bytes = await readFile(join(dir, "runs", runId, "segments.parquet"));
    const pq = await api("/api/v1/datasets?name=segments", { method: "POST", body: bytes, headers: { "content-type": "application/octet-stream" } });
    expect(pq.status).toBe(201);
    const p = await pq.json();
    expect(p.rows).toBe(90);
    expect((await store.getDataset(p.id))!.format).toBe("parquet");
    const wrongFormat = await api("/api/v1/datasets?format=pdf", { method: "POST", body: "x", headers: { "content-type": "text/csv" } });
    expect(wrongFormat.status).toBe(400);
    expect((await wrongFormat.json()).error.field).toBe("format");
  });

  it("cancelling a running run kills its child process", async () => {
    const before = children.length;
    const r = await (await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 3, seed: 9 } } })).json();
    await waitFor(() => children.length > before, "the run's child process");
    const child = children[before];
    expect(alive(child.pid!)).toBe(true);
    const del = await api(`/api/v1/runs/${r.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect((await del.json()).status).toBe("cancelled");
    // Gone by the time the answer comes (killed, and its exit awaited).
    expect(child.signalCode).toBe("SIGKILL");
    expect(alive(child.pid!)).toBe(false);
  });

  it("a run's own errors name the configuration's fields, not the CLI's flags", async () => {
    const r = await (await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { algorithm: "dbscan", minSamples: 500 } } })).json();
    await waitFor(async () => FINISHED_STATES.includes((await store.getRun(r.id))!.status), "the run to end");
    const run = await store.getRun(r.id);
    expect(run!.status).toBe("failed");
    expect(run!.error).toMatch(/^minSamples 500 is more than the 90 rows; lower it$/);
  });

  it("cancels a run, and deletes a dataset", async () => {
    const a = await (await api("/api/v1/runs", { method: "POST", json: { datasetId, config: { k: 4, seed: 1 } } })).json();
    const del = await api(`/api/v1/runs/${a.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect((await del.json()).status).toBe("cancelled");
    expect((await api(`/api/v1/runs/${a.id}/segments`)).status).toBe(409);
    expect((await api(`/api/v1/runs/${a.id}`, { method: "DELETE" })).status).toBe(409);
    const publishCancelled = await api("/api/v1/models", { method: "POST", json: { name: "never", runId: a.id } });
    expect(publishCancelled.status).toBe(409);
    expect((await publishCancelled.json()).error.field).toBe("runId");
    const all = await (await api("/api/v1/runs", { token: tokens.read })).json();
    expect(all.runs.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual(expect.arrayContaining([[runId, "succeeded"], [a.id, "cancelled"]]));
    const ev = await (await api(`/api/v1/runs/${a.id}/events`)).text();
    expect(ev).toMatch(/"status":"cancelled"/);

    const up = await (await api("/api/v1/datasets?name=temp", { method: "POST", body: data.csv, headers: { "content-type": "text/csv" } })).json();
    expect((await api(`/api/v1/datasets/${up.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/api/v1/datasets/${up.id}`)).status).toBe(404);
    expect((await api(`/api/v1/datasets/${up.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("serves the OpenAPI document and a self-contained docs page", async () => {
    // Like every route but /healthz, they need a token.
    expect((await api("/openapi.json", { token: null })).status).toBe(401);
    expect((await api("/docs", { token: null })).status).toBe(401);
    const doc = await (await api("/openapi.json", { token: tokens.read })).json();
    expect(doc.paths["/api/v1/runs/{id}/export"].post["x-scope"]).toBe("admin");
    expect(doc.paths["/api/v1/models/{name}/score"].post.parameters.map((p: { name: string }) => p.name)).toContain("asOf");
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/datasets", "/api/v1/runs/{id}/events", "/api/v1/models/{name}/score"]));
    expect(doc.components.schemas.SegmentationConfig.properties.k).toBeDefined();
    const docs = await api("/docs", { token: tokens.read });
    expect(docs.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    const html = await docs.text();
    expect(html).toContain("/api/v1/models/{name}/score");
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it("resumes the runs a stopped server left running when it starts again, with a message that says so", async () => {
    const left: RunRecord = {
      id: "left-over", datasetId, config: { k: 3, id: "customer_id", seed: 3 }, status: "running", progress: 0.3, message: "segmenting", createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(), finishedAt: null, summary: null, error: null, dir: join(dir, "runs", "left-over"),
    };
    await store.addRun(left);
    // A run of another server's data folder (servers sharing a PostgreSQL store) is that server's to resume.
    const foreign: RunRecord = { ...left, id: "foreign", dir: join(dir + "-other", "runs", "foreign") };
    await store.addRun(foreign);
    const again = await buildServer({ dataDir: dir, store, concurrency: 1 });
    try {
      const r = await store.getRun("left-over");
      expect(r!.status === "queued" || r!.status === "running").toBe(true);
      for (let i = 0; i < 600 && FINISHED_STATES.indexOf((await store.getRun("left-over"))!.status) < 0; i++) await new Promise((res) => setTimeout(res, 100));
      const done = await store.getRun("left-over");
      expect(done).toMatchObject({ status: "succeeded", error: null, message: "done" });
      expect((done!.summary as { rows: number }).rows).toBe(90);
      expect(await store.getRun("foreign")).toMatchObject({ status: "running", progress: 0.3, message: "segmenting" });
    } finally {
      await again.close();
    }
  });
  it("a run during which the server stopped three times is failed with a message instead of being started again", async () => {
    const id = `crashing-${kind}`;
    const left: RunRecord = {
      id, datasetId, config: { k: 3 }, status: "running", progress: 0.4, message: "segmenting", createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(), finishedAt: null, summary: null, error: null, dir: join(dir, "runs", id),
    };
    await store.addRun(left);
    // Two earlier starts ended with the server stopping during the run (as this "running" state says once more).
    expect(await store.countCrash(id)).toBe(1);
    expect(await store.countCrash(id)).toBe(2);
    let started = 0;
    const again = await buildServer({ dataDir: dir, store, concurrency: 1, startChild: () => {
      started++;
      return startChild();
    } });
    try {
      const r = await store.getRun(id);
      expect(r).toMatchObject({ status: "failed", message: r!.error });
      expect(r!.error).toMatch(/^the server stopped during this run 3 times .*it is not started again/);
      expect(started).toBe(0);
    } finally {
      await again.close();
    }
  });

  it.runIf(kind === "postgres")("two servers sharing the PostgreSQL store and the data folder: a left-over run is taken by one of them only", async () => {
    for (const [id, status] of [["shared-queued", "queued"], ["shared-running", "running"]] as const) {
      await store.addRun({
        id, datasetId, config: { k: 3, seed: 4 }, status, progress: null, message: null, createdAt: new Date().toISOString(),
        startedAt: null, finishedAt: null, summary: null, error: null, dir: join(dir, "runs", id),
      });
    }
    const starts = [0, 0];
    // Both start at once on the same folder; each resumes what it can hold.
    const [b, c] = await Promise.all([0, 1].map((i) => startOn("postgres", dir, storeUrl, () => starts[i]++)));
    try {
      for (const id of ["shared-queued", "shared-running"]) {
        await waitFor(async () => (await store.getRun(id))!.status === "succeeded", `run ${id} to succeed`, 120_000);
      }
      expect(starts[0] + starts[1]).toBe(2);
      expect((await store.getRun("shared-queued"))!.summary).toMatchObject({ rows: 90, k: 3 });
    } finally {
      for (const s of [b, c]) {
        await s.app.close();
        await s.store.close();
      }
    }
  }, 180_000);

});

describe("segmenta serve: the command", () => {
  it("starts on the data folder, answers, and stops", async () => {
    const { startServer } = await import("../src/cli/serve.js");
    const folder = await mkdtemp(join(tmpdir(), "segmenta-serve-cli-"));
    try {
      const s = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(folder, "data"), uploadLimit: 1024 });
      try {
        expect(s.address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(await (await fetch(`${s.address}/healthz`)).json()).toMatchObject({ ok: true });
        expect((await fetch(`${s.address}/api/v1/models`)).status).toBe(401);
        // A second server on a port in use is refused with the port named.
        const port = Number(new URL(s.address).port);
        await expect(startServer({ port, host: "127.0.0.1", dataDir: join(folder, "other"), uploadLimit: 1024 })).rejects.toThrow(/--port \d+: the port is in use/);
      } finally {
        await s.close();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("refuses bad options with one line naming them", async () => {
    const port = await runMain(["serve", "--port", "http"]);
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/^segmenta serve: --port http: give a whole number ≥ 0\n$/);
    expect((await runMain(["serve", "--port", "70000"])).stderr).toMatch(/--port 70000: give a port between 0 and 65535/);
    expect((await runMain(["serve", "--upload-limit", "0"])).stderr).toMatch(/--upload-limit 0: give the largest upload in MB/);
    expect((await runMain(["serve", "data.csv"])).stderr).toMatch(/serve takes no file/);
    expect((await runMain(["serve", "--rate-limit", "0"])).stderr).toMatch(/--rate-limit 0: give a whole number ≥ 1/);
    expect((await runMain(["serve", "--grace", "soon"])).stderr).toMatch(/--grace soon: give a whole number ≥ 0/);
    const help = await runMain(["serve", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--upload-limit MB/);
  });
});
