/**
 * The PostgreSQL store (src/server/pg-store.ts) against a real PostgreSQL server started for this
 * file (test/helpers/postgres.ts; skipped with a message where there is none): the behaviours of
 * test/server-store.test.ts — round trips, versions with exactly one active also when several
 * stores (servers) publish at once, unfinished runs, tokens by hash and never cached, the
 * assignment history with a failure mid-way undone — and a reopened store keeps everything.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { openPgStore, redactUrl } from "../src/server/pg-store.js";
import type { DatasetRecord, HistoryStore, RunRecord } from "../src/server/store.js";
import { createToken, verifyToken } from "../src/server/tokens.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

let server: TestPostgres | null = null;
let count = 0;
const dataDir = "/srv/segmenta-data";

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** A URL of a new empty database. */
async function freshDb(): Promise<string> {
  if (!server) throw new Error("no server");
  return server.newDatabase(`store_${process.pid}_${++count}`);
}

function dataset(over: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    id: crypto.randomUUID(), name: "telco.csv", file: join(dataDir, "datasets", "a", "data.csv"), format: "csv",
    bytes: 977_501, rows: 7043, createdAt: "2026-12-02T01:00:00.000Z",
    inspect: { rows: 7043, columns: [{ name: "tenure", kind: "numeric", missing: 0 }], note: "é ünïcode \"quoted\" 'single'" },
    ...over,
  };
}

function run(datasetId: string, over: Partial<RunRecord> = {}): RunRecord {
  const id = crypto.randomUUID();
  return {
    id, datasetId, config: { algorithm: "kmeans", k: 4, features: ["a", "b"] }, status: "queued", progress: null, message: null,
    createdAt: "2026-12-02T01:00:00.000Z", startedAt: null, finishedAt: null, summary: null, error: null, dir: join(dataDir, "runs", id),
    ...over,
  };
}

async function withStore<T>(url: string, f: (s: HistoryStore) => Promise<T>): Promise<T> {
  const s = await openPgStore(url);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

/** Runs the test only when a server could be started (the reason is printed by the helper). */
const pgIt = (name: string, f: () => Promise<void>) =>
  it(name, async (ctx) => {
    if (!server) {
      ctx.skip();
      return;
    }
    await f();
  }, 60_000);

describe("PostgreSQL store", () => {
  pgIt("creates its tables in an empty database, and opening again changes nothing", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      expect(await s.listDatasets()).toEqual([]);
      expect(await s.listRuns()).toEqual([]);
      expect(await s.listModels()).toEqual([]);
      expect(await s.listTokens()).toEqual([]);
    });
    await withStore(url, async (s) => expect(await s.listDatasets()).toEqual([]));
    // Several servers starting at once on a new database all open it.
    const url2 = await freshDb();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url2)));
    for (const s of stores) expect(await s.listModels()).toEqual([]);
    await Promise.all(stores.map((s) => s.close()));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename as string);
    const meta = (await c.query("SELECT value FROM segmenta_meta WHERE key = 'schema_version'")).rows;
    await c.end();
    expect(tables).toEqual(["segmenta_assignments", "segmenta_datasets", "segmenta_meta", "segmenta_models", "segmenta_runs", "segmenta_tokens"]);
    expect(meta).toEqual([{ value: "1" }]);
  });

  pgIt("a database that cannot be reached is an InputError naming --store, password hidden", async () => {
    const bad = "postgres://alice:s3cret@127.0.0.1:1/nowhere";
    await expect(openPgStore(bad)).rejects.toThrow(/--store postgres:\/\/alice:\*\*\*@127\.0\.0\.1:1\/nowhere: cannot connect/);
    await expect(openPgStore(bad)).rejects.not.toThrow(/s3cret/);
    await expect(openPgStore("mysql://x@y/z")).rejects.toThrow(/PostgreSQL URL/);
    expect(redactUrl("postgres://u:p@h:5/d")).toBe("postgres://u:***@h:5/d");
  });

  pgIt("datasets round-trip, list in creation order and delete; values are data, never SQL", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      const a = dataset({ createdAt: "2026-12-02T01:00:00.000Z" });
      const b = dataset({ name: "retail.parquet", format: "parquet", bytes: 5_000_000_000, rows: 0, createdAt: "2026-12-02T01:00:01.000Z", inspect: null });
      const outside = dataset({ file: "/elsewhere/file.csv", createdAt: "2026-12-02T01:00:02.000Z" });
      const evil = dataset({ name: "x'); DROP TABLE segmenta_datasets; --", inspect: { q: "'; DELETE FROM segmenta_tokens; --" }, createdAt: "2026-12-02T01:00:03.000Z" });
      for (const d of [a, b, outside, evil]) await s.addDataset(d);
      expect(await s.getDataset(a.id)).toEqual(a);
      expect(await s.getDataset(b.id)).toEqual(b); // a size beyond 32 bits survives
      expect(await s.getDataset(outside.id)).toEqual(outside);
      expect(await s.getDataset(evil.id)).toEqual(evil);
      expect(await s.getDataset("no-such-id")).toBeNull();
      expect((await s.listDatasets()).map((d) => d.id)).toEqual([a.id, b.id, outside.id, evil.id]);
      expect(await s.deleteDataset(a.id)).toBe(true);
      expect(await s.deleteDataset(a.id)).toBe(false);
      expect(await s.getDataset(a.id)).toBeNull();
      expect((await s.listDatasets()).map((d) => d.id)).toEqual([b.id, outside.id, evil.id]);
      await expect(s.addDataset(b)).rejects.toThrow();
    });
    // Paths are stored absolute: servers sharing the database each have their own data folder.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const files = (await c.query("SELECT file FROM segmenta_datasets ORDER BY created_at")).rows.map((r) => r.file as string);
    await c.end();
    expect(files).toEqual([join(dataDir, "datasets/a/data.csv"), "/elsewhere/file.csv", join(dataDir, "datasets/a/data.csv")]);
  });

  pgIt("JSON comes back exactly as written (key order kept)", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      const file = { z: 1, a: { y: [3, 2, 1], b: null }, "é": "ü", n: 1e-300 };
      await s.addModelVersion("m", file, "c", null);
      expect(JSON.stringify((await s.getModel("m"))?.file)).toBe(JSON.stringify(file));
    });
  });

  pgIt("runs round-trip, update field by field, and the unfinished ones are found", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      const ds = dataset();
      await s.addDataset(ds);
      const r1 = run(ds.id, { createdAt: "2026-12-02T01:00:00.000Z" });
      const r2 = run(ds.id, { createdAt: "2026-12-02T01:00:01.000Z" });
      const r3 = run(ds.id, { createdAt: "2026-12-02T01:00:02.000Z" });
      for (const r of [r1, r2, r3]) await s.addRun(r);
      expect(await s.getRun(r1.id)).toEqual(r1);
      expect(await s.getRun("nope")).toBeNull();

      await s.updateRun(r1.id, { status: "running", startedAt: "2026-12-02T01:00:05.000Z", progress: 0.25, message: "k-means: init 3 of 10" });
      expect(await s.getRun(r1.id)).toEqual({ ...r1, status: "running", startedAt: "2026-12-02T01:00:05.000Z", progress: 0.25, message: "k-means: init 3 of 10" });
      const summary = { k: 4, silhouette: 0.31, segments: [{ id: 0, name: "Loyal", size: 2000 }] };
      await s.updateRun(r2.id, { status: "succeeded", progress: 1, finishedAt: "2026-12-02T01:01:00.000Z", summary });
      await s.updateRun(r3.id, { status: "failed", error: "column x is missing", id: "ignored" } as Partial<RunRecord>);
      const got2 = await s.getRun(r2.id);
      expect(got2?.summary).toEqual(summary);
      expect(got2?.status).toBe("succeeded");
      expect((await s.getRun(r3.id))?.error).toBe("column x is missing");
      await s.updateRun(r1.id, { message: null });
      expect((await s.getRun(r1.id))?.message).toBeNull();

      expect((await s.listRuns()).map((r) => r.id)).toEqual([r1.id, r2.id, r3.id]);
      const queued = run(ds.id, { createdAt: "2026-12-02T01:00:03.000Z" });
      await s.addRun(queued);
      expect((await s.unfinishedRuns()).map((r) => [r.id, r.status])).toEqual([[r1.id, "running"], [queued.id, "queued"]]);
      await s.updateRun(r1.id, { status: "cancelled" });
      expect((await s.unfinishedRuns()).map((r) => r.id)).toEqual([queued.id]);

      await expect(s.updateRun("no-such-run", { status: "failed" })).rejects.toThrow(/no run/);
      await expect(s.updateRun(r1.id, { status: "exploded" as never })).rejects.toThrow(/status/);
      await expect(s.updateRun(r1.id, { bogus: 1 } as never)).rejects.toThrow(/unknown field/);
      await expect(s.addRun(run(ds.id, { status: "weird" as never }))).rejects.toThrow(/status/);
    });
  });

  pgIt("model versions increment per name, exactly one active, the active one by default", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      const f1 = { format: "segmenta-model", version: 1, model: { type: "KMeans", k: 3 } };
      const f2 = { format: "segmenta-model", version: 1, model: { type: "KMeans", k: 4 } };
      const v1 = await s.addModelVersion("churn", f1, "sha256:aaa", null);
      expect(v1).toMatchObject({ name: "churn", version: 1, active: true, runId: null, checksum: "sha256:aaa", file: f1 });
      const v2 = await s.addModelVersion("churn", f2, "sha256:bbb", "run-1");
      expect(v2).toMatchObject({ version: 2, active: true, runId: "run-1" });
      expect((await s.addModelVersion("other", f1, "sha256:ccc", null)).version).toBe(1);
      expect(await s.getModel("churn")).toEqual(v2);
      expect(await s.getModel("churn", 1)).toEqual({ ...v1, active: false });
      expect(await s.getModel("churn", 3)).toBeNull();
      expect(await s.getModel("nobody")).toBeNull();
      expect((await s.listVersions("churn")).map((v) => [v.version, v.active])).toEqual([[1, false], [2, true]]);
      expect(await s.listVersions("nobody")).toEqual([]);
      expect(await s.listModels()).toEqual([
        { name: "churn", activeVersion: 2, versions: 2 },
        { name: "other", activeVersion: 1, versions: 1 },
      ]);
    });
  });

  pgIt("several servers publishing one name at once get distinct versions and leave one active", async () => {
    const url = await freshDb();
    // Three stores = three servers, each with its own pool of connections, 8 publishes each.
    const stores = await Promise.all([0, 1, 2].map(() => openPgStore(url, { poolSize: 4 })));
    try {
      const made = (await Promise.all(stores.flatMap((s, k) => Array.from({ length: 8 }, (_, i) => s.addModelVersion("busy", { k, i }, `c${k}-${i}`, null)))));
      expect(made.map((m) => m.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      for (const s of stores) {
        const versions = await s.listVersions("busy");
        expect(versions).toHaveLength(24);
        expect(versions.filter((v) => v.active).map((v) => v.version)).toEqual([24]);
        for (const v of versions) expect(v.file).toEqual(made.find((m) => m.version === v.version)?.file);
      }
      expect((await stores[1].getModel("busy"))?.file).toEqual(made.find((m) => m.version === 24)?.file);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  pgIt("assignments are appended to the history in order; a failure mid-way leaves none of that publish", async () => {
    const url = await freshDb();
    await withStore(url, async (s) => {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ id: `cust-${i}`, segment: i % 4, name: `Segment ${i % 4}` }));
      expect(await s.recordAssignments("churn", 1, rows, "2026-12-02T01:00:00.000Z")).toBe(5000);
      const moved = [{ id: "cust-0", segment: -1, name: "Outliers" }, { id: "=HYPERLINK(\"x\")", segment: 2, name: "Bargain 'hunters'" }];
      expect(await s.recordAssignments("churn", 2, moved, "2026-12-02T02:00:00.000Z")).toBe(2);
      expect(await s.recordAssignments("churn", 2, [], "2026-12-02T03:00:00.000Z")).toBe(0);
      const h = await s.assignmentHistory("churn");
      expect(h).toHaveLength(5002);
      expect(h.slice(0, 5000)).toEqual(rows.map((r) => ({ version: 1, ...r, publishedAt: "2026-12-02T01:00:00.000Z" })));
      expect(h.slice(5000)).toEqual(moved.map((m) => ({ version: 2, ...m, publishedAt: "2026-12-02T02:00:00.000Z" })));
      expect(await s.assignmentHistory("other")).toEqual([]);
      await expect(s.recordAssignments("churn", 3, [{ id: "a", segment: 0, name: "A" }, { id: "b", segment: 0.5, name: "B" }], "2026-12-02T04:00:00.000Z")).rejects.toThrow(/whole number/);
      expect(await s.assignmentHistory("churn")).toHaveLength(5002);
      // The poisoned row comes after a first batch has been inserted: the rollback undoes it.
      const poisoned = Array.from({ length: 3000 }, (_, i) => ({ id: `p-${i}`, segment: 1, name: "P" }));
      poisoned[2900] = { id: { toString: () => { throw new Error("unreadable id"); } } as unknown as string, segment: 1, name: "P" };
      await expect(s.recordAssignments("churn", 3, poisoned, "2026-12-02T05:00:00.000Z")).rejects.toThrow(/unreadable id/);
      expect(await s.assignmentHistory("churn")).toHaveLength(5002);
      // A segment beyond a 32-bit integer is refused by the database: nothing of it is kept either.
      const big = Array.from({ length: 3000 }, (_, i) => ({ id: `q-${i}`, segment: i === 2500 ? 2 ** 40 : 0, name: "Q" }));
      await expect(s.recordAssignments("churn", 3, big, "2026-12-02T05:30:00.000Z")).rejects.toThrow();
      expect(await s.assignmentHistory("churn")).toHaveLength(5002);
      expect(await s.recordAssignments("churn", 3, [{ id: "z", segment: 0, name: "Z" }], "2026-12-02T06:00:00.000Z")).toBe(1);
      expect(await s.assignmentHistory("churn")).toHaveLength(5003);
    });
  });

  pgIt("a version published with its assignments is one transaction", async () => {
    const db = await server!.newDatabase(`publish_${process.pid}`);
    await withStore(db, async (s) => {
    // Publishing a version with its assignments is one transaction: the history is dated as the
    // version, and a failure half-way leaves neither the version nor any of its history.
    const rows = Array.from({ length: 3000 }, (_, i) => ({ id: `c-${i}`, segment: i % 3, name: `S${i % 3}` }));
    const v = await s.addModelVersion("published", { m: 1 }, "sha256:p1", "run-x", rows);
    expect(v.version).toBe(1);
    const h = await s.assignmentHistory("published");
    expect(h).toHaveLength(3000);
    expect(h[2999]).toEqual({ version: 1, id: "c-2999", segment: 2, name: "S2", publishedAt: v.createdAt });
    const poisoned = rows.map((r) => ({ ...r }));
    poisoned[2500] = { id: { toString: () => { throw new Error("unreadable id"); } } as unknown as string, segment: 1, name: "P" };
    await expect(s.addModelVersion("published", { m: 2 }, "sha256:p2", "run-y", poisoned)).rejects.toThrow(/unreadable id/);
    expect((await s.getModel("published"))!.version).toBe(1);
    expect(await s.listVersions("published")).toHaveLength(1);
    expect(await s.assignmentHistory("published")).toHaveLength(3000);
    await expect(s.addModelVersion("published", { m: 3 }, "sha256:p3", null, [{ id: "a", segment: 0.5, name: "A" }])).rejects.toThrow(/whole number/);
    expect(await s.listVersions("published")).toHaveLength(1);
    });
  });

  pgIt("tokens: stored as hashes, verified, revoked; another server sees a new or revoked token at once", async () => {
    const url = await freshDb();
    const a = await openPgStore(url);
    const b = await openPgStore(url);
    try {
      const { token, hash } = createToken();
      expect(await verifyToken(b, token)).toBeNull(); // looked up before it exists…
      const rec = await a.addToken("crm-scoring", "score", hash);
      expect(rec).toMatchObject({ name: "crm-scoring", scope: "score" });
      expect(await verifyToken(b, token)).toEqual(rec); // …and found once another server adds it
      expect(await b.findToken(hash)).toEqual({ ...rec, hash });
      const last = token.at(-1) === "A" ? "B" : "A";
      expect(await verifyToken(b, token.slice(0, -1) + last)).toBeNull();
      expect(await verifyToken(b, hash)).toBeNull();
      expect(await b.findToken("'; DROP TABLE segmenta_tokens; --")).toBeNull();
      expect(await b.listTokens()).toEqual([rec]);
      expect(JSON.stringify(await b.listTokens())).not.toContain(hash);
      await expect(a.addToken("again", "read", hash)).rejects.toThrow();
      await expect(a.addToken("plain", "read", token)).rejects.toThrow(/SHA-256/);
      await expect(a.addToken("x", "root" as never, createToken().hash)).rejects.toThrow(/scope/);
      // The database holds the hash and never the token's text.
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const stored = JSON.stringify((await c.query("SELECT * FROM segmenta_tokens")).rows);
      await c.end();
      expect(stored).toContain(hash);
      expect(stored).not.toContain(token.slice(4));
      // Revoked on one server, refused by the other at once.
      expect(await a.deleteToken(rec.id)).toBe(true);
      expect(await a.deleteToken(rec.id)).toBe(false);
      expect(await verifyToken(b, token)).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  pgIt("a reopened store keeps everything; a closed store refuses further calls", async () => {
    const url = await freshDb();
    const ds = dataset();
    const r = run(ds.id, { status: "running", progress: 0.5 });
    const { hash } = createToken();
    const before = await withStore(url, async (s) => {
      await s.addDataset(ds);
      await s.addRun(r);
      await s.addModelVersion("m", { a: 1 }, "x", r.id);
      await s.addModelVersion("m", { a: 2 }, "y", null);
      const t = await s.addToken("crm", "score", hash);
      await s.recordAssignments("m", 2, [{ id: "1", segment: 1, name: "One" }], "2026-12-02T01:00:00.000Z");
      return { t, models: await s.listVersions("m") };
    });
    const s = await openPgStore(url);
    expect(await s.getDataset(ds.id)).toEqual(ds);
    expect(await s.getRun(r.id)).toEqual(r);
    expect((await s.unfinishedRuns()).map((x) => x.id)).toEqual([r.id]);
    expect(await s.listVersions("m")).toEqual(before.models);
    expect(await s.listTokens()).toEqual([before.t]);
    expect(await s.findToken(hash)).toEqual({ ...before.t, hash });
    expect(await s.assignmentHistory("m")).toHaveLength(1);
    expect((await s.addModelVersion("m", { a: 3 }, "z", null)).version).toBe(3);
    await s.close();
    await s.close();
    await expect(s.listTokens()).rejects.toThrow(/closed/);
  });
});
