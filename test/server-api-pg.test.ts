/**
 * `segmenta serve` on the PostgreSQL store, over loopback, against a real PostgreSQL started for
 * this file (skipped with a message where there is none): upload, a run in its child process,
 * publish (its assignments in the database's history), score; then a second server on the same
 * database (its own data folder) sees the model and scores the same rows alike, publishes the
 * next version, and leaves the first server's runs alone at its start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../src/server/app.js";
import { openPgStore } from "../src/server/pg-store.js";
import type { HistoryStore } from "../src/server/store.js";
import { createToken } from "../src/server/tokens.js";
import pg from "pg";
import { runMain } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

let pgServer: TestPostgres | null = null;
let url = "";
let root = "";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "segmenta-serve-pg-"));
  pgServer = await startPostgres();
  if (pgServer) url = await pgServer.newDatabase(`api_${process.pid}`);
}, 60_000);
afterAll(async () => {
  await pgServer?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** 60 customers in three clear groups of spend and visits. */
function customers(): { csv: string; rows: Record<string, unknown>[] } {
  const rows: Record<string, unknown>[] = [];
  const centers = [[20, 2], [120, 10], [400, 30]];
  for (let i = 0; i < 60; i++) {
    const [spend, visits] = centers[i % 3];
    rows.push({ customer_id: `C${String(i).padStart(3, "0")}`, spend: spend + (i % 7) - 3, visits: visits + (i % 5) - 2 });
  }
  return { csv: "customer_id,spend,visits\n" + rows.map((r) => `${r.customer_id},${r.spend},${r.visits}`).join("\n") + "\n", rows };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(base: string, token: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const r = await fetch(base + path, { ...init, headers, body });
  const text = await r.text();
  let parsed: Json = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (an event stream)
  }
  return { status: r.status, body: parsed };
}

async function start(dataDir: string): Promise<{ app: FastifyInstance; store: HistoryStore; base: string }> {
  const store = await openPgStore(url);
  const app = await buildServer({ dataDir, store, uploadLimit: 1 << 20, concurrency: 1 });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, store, base };
}

describe("segmenta serve on PostgreSQL", () => {
  it("runs, publishes and scores; a second server on the same database serves the same models", async (ctx) => {
    if (!pgServer) {
      ctx.skip();
      return;
    }
    const data = customers();
    const a = await start(join(root, "a"));
    let b: Awaited<ReturnType<typeof start>> | null = null;
    try {
      const admin = createToken();
      await a.store.addToken("admin", "admin", admin.hash);
      const up = await call(a.base, admin.token, "/api/v1/datasets?name=customers.csv", { method: "POST", body: data.csv, headers: { "content-type": "text/csv" } });
      expect(up.status).toBe(201);
      const run = await call(a.base, admin.token, "/api/v1/runs", { method: "POST", json: { datasetId: up.body.id, config: { k: 3, id: "customer_id", seed: 1 } } });
      expect(run.status).toBe(202);
      const events = await call(a.base, admin.token, `/api/v1/runs/${run.body.id}/events`);
      expect(String(events.body)).toMatch(/"status":"succeeded"/);
      const got = await call(a.base, admin.token, `/api/v1/runs/${run.body.id}`);
      expect(got.body).toMatchObject({ status: "succeeded", progress: 1 });
      expect(got.body.summary.segments.map((s: { size: number }) => s.size).sort()).toEqual([20, 20, 20]);

      const pub = await call(a.base, admin.token, "/api/v1/models", { method: "POST", json: { name: "spend", runId: run.body.id } });
      expect(pub.status).toBe(201);
      expect(pub.body).toEqual({ name: "spend", version: 1, active: true, assignments: 60 });
      const history = await a.store.assignmentHistory("spend");
      expect(history.map((h) => h.id)).toEqual(data.rows.map((r) => r.customer_id));
      // segmenta export --run … --store …: the run's segments (found through the shared store) into a table of the same database.
      const exported = await runMain(["export", "--run", run.body.id, "--store", url, "--to", url, "--table", "crm_segments", "--json"]);
      expect(exported.status, exported.stderr).toBe(0);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const rowsInDb = (await db.query("SELECT id, segment, model FROM crm_segments ORDER BY id")).rows as { id: string; segment: number; model: string }[];
        expect(rowsInDb.map((r) => r.id)).toEqual([...history.map((h) => h.id)].sort());
        const bySeg = new Map(history.map((h) => [h.id, h.segment]));
        for (const r of rowsInDb) expect(r.segment).toBe(bySeg.get(r.id));
        expect(new Set(rowsInDb.map((r) => r.model))).toEqual(new Set(["spend@1"]));
      } finally {
        await db.end();
      }
      // Customers of one group share a segment, and the three groups differ.
      const segOf = new Map(history.map((h) => [h.id, h.segment]));
      for (let g = 0; g < 3; g++) expect(new Set(data.rows.filter((_, i) => i % 3 === g).map((r) => segOf.get(r.customer_id as string))).size).toBe(1);
      expect(new Set(history.map((h) => h.segment)).size).toBe(3);

      const rows = data.rows.slice(0, 9);
      const scoredA = await call(a.base, admin.token, "/api/v1/models/spend/score", { method: "POST", json: { rows } });
      expect(scoredA.status).toBe(200);
      expect(scoredA.body.results.map((r: { id: string; segment: number }) => [r.id, r.segment])).toEqual(rows.map((r) => [r.customer_id, segOf.get(r.customer_id as string)]));

      // A second server, its own data folder, the same database: the token, the model and the run are there.
      b = await start(join(root, "b"));
      expect((await b.store.getRun(run.body.id))?.status).toBe("succeeded");
      const models = await call(b.base, admin.token, "/api/v1/models");
      expect(models.body.models).toEqual([{ name: "spend", activeVersion: 1, versions: 1 }]);
      const scoredB = await call(b.base, admin.token, "/api/v1/models/spend/score", { method: "POST", json: { rows } });
      expect(scoredB.body).toEqual(scoredA.body);
      // It publishes the next version (the model file of the run, from the first server).
      const file = await call(a.base, admin.token, `/api/v1/runs/${run.body.id}/model`);
      const pub2 = await call(b.base, admin.token, "/api/v1/models?name=spend", { method: "POST", json: file.body });
      expect(pub2.body).toEqual({ name: "spend", version: 2, active: true, assignments: 0 });
      const meta = await call(a.base, admin.token, "/api/v1/models/spend");
      expect(meta.body.versions.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([[1, false], [2, true]]);
      expect((await call(a.base, admin.token, "/api/v1/models/spend/score?version=2", { method: "POST", json: { rows } })).body.results).toEqual(scoredA.body.results);
    } finally {
      await b?.app.close();
      await b?.store.close();
      await a.app.close();
      await a.store.close();
    }
  }, 180_000);

  it("a queued run of one server is not taken over by another server starting on the same database", async (ctx) => {
    if (!pgServer) {
      ctx.skip();
      return;
    }
    const store = await openPgStore(url);
    try {
      const id = crypto.randomUUID();
      await store.addRun({
        id, datasetId: "elsewhere", config: {}, status: "running", progress: 0.5, message: null, createdAt: new Date().toISOString(),
        startedAt: new Date().toISOString(), finishedAt: null, summary: null, error: null, dir: join(root, "other-server", "runs", id),
      });
      const c = await start(join(root, "c"));
      await c.app.close();
      await c.store.close();
      expect(await store.getRun(id)).toMatchObject({ status: "running", progress: 0.5, error: null });
    } finally {
      await store.close();
    }
  }, 60_000);
});
