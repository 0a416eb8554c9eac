/**
 * The server's stores, the embedded DuckDB one (src/server/store.ts) and the PostgreSQL one
 * (src/server/pg-store.ts, against a real PostgreSQL started for this file; skipped with a
 * message where there is none), through one suite: every method round-trips, model versions
 * increment with exactly one active (also under concurrent publishes, from several servers on
 * PostgreSQL), unfinished runs, runs claimed only while queued and held by one server, the
 * assignment history with a failure mid-way undone, tokens stored only as hashes and checked by
 * hash, and a reopened store keeps everything. Then what only one of them does (DuckDB: paths
 * relative to a movable folder, a process killed holding the file; PostgreSQL: its tables, an
 * unreachable database, tokens seen at once by another server), and the tokens themselves.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openPgStore, redactUrl } from "../src/server/pg-store.js";
import { type DatasetRecord, type HistoryStore, openStore, type RunRecord, STORE_FILE } from "../src/server/store.js";
import { createToken, hashToken, scopeAllows, verifyToken } from "../src/server/tokens.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

let root: string;
let count = 0;
let server: TestPostgres | null = null;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "segmenta-store-"));
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(root, { recursive: true, force: true });
});

type Kind = "duckdb" | "postgres";

/** A fresh store's location: a data folder not created yet (DuckDB), or a new empty database's URL (PostgreSQL). */
async function fresh(kind: Kind): Promise<string> {
  if (kind === "duckdb") return join(root, `data-${++count}`);
  return server!.newDatabase(`store_${process.pid}_${++count}`);
}
function open(kind: Kind, loc: string, options: { poolSize?: number } = {}): Promise<HistoryStore> {
  return kind === "duckdb" ? openStore(loc) : openPgStore(loc, options);
}
/** The data folder that records' paths are under: the DuckDB store's own folder; any folder for PostgreSQL. */
function folderOf(kind: Kind, loc: string): string {
  return kind === "duckdb" ? loc : join(root, "srv-data");
}
async function withStore<T>(kind: Kind, loc: string, f: (s: HistoryStore) => Promise<T>): Promise<T> {
  const s = await open(kind, loc);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}
async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}
/** Everything the store keeps about tokens, as bytes: the DuckDB file, or the PostgreSQL table. */
async function storedTokens(kind: Kind, loc: string): Promise<Buffer> {
  return kind === "duckdb" ? readFileSync(join(loc, STORE_FILE)) : Buffer.from(JSON.stringify(await sql(loc, "SELECT * FROM segmenta_tokens")));
}

function dataset(dir: string, over: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    id: crypto.randomUUID(), name: "telco.csv", file: join(dir, "datasets", "a", "data.csv"), format: "csv",
    bytes: 977_501, rows: 7043, createdAt: "2026-12-02T01:00:00.000Z",
    inspect: { rows: 7043, columns: [{ name: "tenure", kind: "numeric", missing: 0 }], note: "é ünïcode \"quoted\" 'single'" },
    ...over,
  };
}

function run(dir: string, datasetId: string, over: Partial<RunRecord> = {}): RunRecord {
  const id = crypto.randomUUID();
  return {
    id, datasetId, config: { algorithm: "kmeans", k: 4, features: ["a", "b"] }, status: "queued", progress: null, message: null,
    createdAt: "2026-12-02T01:00:00.000Z", startedAt: null, finishedAt: null, summary: null, error: null, dir: join(dir, "runs", id),
    ...over,
  };
}

describe.each(["duckdb", "postgres"] as const)("the %s store", (kind) => {
  beforeEach((ctx) => {
    if (kind === "postgres" && !server) ctx.skip();
  });

  it("opens an empty store, and opening it again changes nothing", async () => {
    const loc = await fresh(kind);
    await withStore(kind, loc, async (s) => {
      expect(await s.listDatasets()).toEqual([]);
      expect(await s.listRuns()).toEqual([]);
      expect(await s.listModels()).toEqual([]);
      expect(await s.listTokens()).toEqual([]);
    });
    await withStore(kind, loc, async (s) => expect(await s.listDatasets()).toEqual([]));
  });

  it("reads made while the tables were empty do not spoil the reads after writes", async () => {
    const loc = await fresh(kind);
    const dir = folderOf(kind, loc);
    await withStore(kind, loc, async (s) => {
      const ds = dataset(dir);
      const r = run(dir, ds.id, { status: "running" });
      for (let round = 0; round < 2; round++) {
        expect(await s.listDatasets()).toEqual(round ? [ds] : []);
        expect(await s.unfinishedRuns()).toEqual(round ? [r] : []);
        expect(await s.listRuns()).toEqual(round ? [r] : []);
        expect(await s.getDataset(ds.id)).toEqual(round ? ds : null);
        expect(await s.getRun(r.id)).toEqual(round ? r : null);
        if (!round) {
          await s.addDataset(ds);
          await s.addRun(r);
        }
      }
      await s.updateRun(r.id, { status: "failed", error: "stopped" });
      expect(await s.unfinishedRuns()).toEqual([]);
      expect(await s.getRun(r.id)).toEqual({ ...r, status: "failed", error: "stopped" });
    });
  });

  it("datasets round-trip, list in creation order and delete; values are data, never SQL", async () => {
    const loc = await fresh(kind);
    const dir = folderOf(kind, loc);
    await withStore(kind, loc, async (s) => {
      const a = dataset(dir, { createdAt: "2026-12-02T01:00:00.000Z" });
      const b = dataset(dir, { name: "retail.parquet", format: "parquet", bytes: 5_000_000_000, rows: 0, createdAt: "2026-12-02T01:00:01.000Z", inspect: null });
      const outside = dataset(dir, { file: join(root, "elsewhere.csv"), createdAt: "2026-12-02T01:00:02.000Z" });
      const evil = dataset(dir, { name: "x'); DROP TABLE datasets; DROP TABLE segmenta_datasets; --", inspect: { q: "'; DELETE FROM tokens; DELETE FROM segmenta_tokens; --" }, createdAt: "2026-12-02T01:00:03.000Z" });
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
      // A duplicate id is refused.
      await expect(s.addDataset(b)).rejects.toThrow();
    });
  });

  it("JSON comes back exactly as written (key order kept)", async () => {
    await withStore(kind, await fresh(kind), async (s) => {
      const file = { z: 1, a: { y: [3, 2, 1], b: null }, "é": "ü", n: 1e-300 };
      await s.addModelVersion("m", file, "c", null);
      expect(JSON.stringify((await s.getModel("m"))?.file)).toBe(JSON.stringify(file));
    });
  });
  it("runs round-trip, update field by field, and the unfinished ones are found", async () => {
    const loc = await fresh(kind);
    const dir = folderOf(kind, loc);
    await withStore(kind, loc, async (s) => {
      const ds = dataset(dir);
      await s.addDataset(ds);
      const r1 = run(dir, ds.id, { createdAt: "2026-12-02T01:00:00.000Z" });
      const r2 = run(dir, ds.id, { createdAt: "2026-12-02T01:00:01.000Z" });
      const r3 = run(dir, ds.id, { createdAt: "2026-12-02T01:00:02.000Z" });
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
      // Setting a field back to null.
      await s.updateRun(r1.id, { message: null });
      expect((await s.getRun(r1.id))?.message).toBeNull();

      expect((await s.listRuns()).map((r) => r.id)).toEqual([r1.id, r2.id, r3.id]);
      const queued = run(dir, ds.id, { createdAt: "2026-12-02T01:00:03.000Z" });
      await s.addRun(queued);
      expect((await s.unfinishedRuns()).map((r) => [r.id, r.status])).toEqual([[r1.id, "running"], [queued.id, "queued"]]);
      await s.updateRun(r1.id, { status: "cancelled" });
      expect((await s.unfinishedRuns()).map((r) => r.id)).toEqual([queued.id]);

      await expect(s.updateRun("no-such-run", { status: "failed" })).rejects.toThrow(/no run/);
      await expect(s.updateRun(r1.id, { status: "exploded" as never })).rejects.toThrow(/status/);
      await expect(s.updateRun(r1.id, { bogus: 1 } as never)).rejects.toThrow(/unknown field/);
      await expect(s.addRun(run(dir, ds.id, { status: "weird" as never }))).rejects.toThrow(/status/);
    });
  });

  it("model versions increment per name, exactly one active, the active one by default", async () => {
    const loc = await fresh(kind);
    await withStore(kind, loc, async (s) => {
      const f1 = { format: "segmenta-model", version: 1, model: { type: "KMeans", k: 3 } };
      const f2 = { format: "segmenta-model", version: 1, model: { type: "KMeans", k: 4 } };
      const v1 = await s.addModelVersion("churn", f1, "sha256:aaa", null);
      expect(v1).toMatchObject({ name: "churn", version: 1, active: true, runId: null, checksum: "sha256:aaa", file: f1 });
      const v2 = await s.addModelVersion("churn", f2, "sha256:bbb", "run-1");
      expect(v2).toMatchObject({ version: 2, active: true, runId: "run-1" });
      const o1 = await s.addModelVersion("other", f1, "sha256:ccc", null);
      expect(o1.version).toBe(1);

      expect(await s.getModel("churn")).toEqual(v2);
      expect(await s.getModel("churn", 1)).toEqual({ ...v1, active: false });
      expect(await s.getModel("churn", 3)).toBeNull();
      expect(await s.getModel("nobody")).toBeNull();
      const versions = await s.listVersions("churn");
      expect(versions.map((v) => [v.version, v.active])).toEqual([[1, false], [2, true]]);
      expect(await s.listVersions("nobody")).toEqual([]);
      expect(await s.listModels()).toEqual([
        { name: "churn", activeVersion: 2, versions: 2 },
        { name: "other", activeVersion: 1, versions: 1 },
      ]);
    });
  });

  it("concurrent publishes of one name get distinct versions and leave one active (on PostgreSQL, from three servers at once)", async () => {
    const loc = await fresh(kind);
    // DuckDB: one process's store; PostgreSQL: three stores = three servers, each with its own pool.
    const stores = await Promise.all((kind === "postgres" ? [0, 1, 2] : [0]).map(() => open(kind, loc, { poolSize: 4 })));
    try {
      const n = 8 * stores.length;
      const made = await Promise.all(stores.flatMap((s, k) => Array.from({ length: 8 }, (_, i) => s.addModelVersion("busy", { k, i }, `c${k}-${i}`, null))));
      expect(made.map((m) => m.version).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (const s of stores) {
        const versions = await s.listVersions("busy");
        expect(versions).toHaveLength(n);
        // The active one is the last published, and each version kept its own file.
        expect(versions.filter((v) => v.active).map((v) => v.version)).toEqual([n]);
        for (const v of versions) expect(v.file).toEqual(made.find((m) => m.version === v.version)?.file);
        expect((await s.getModel("busy"))?.file).toEqual(made.find((m) => m.version === n)?.file);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("a run is claimed only while queued; crashes are counted; a run is held by one server", async () => {
    const loc = await fresh(kind);
    const dir = folderOf(kind, loc);
    await withStore(kind, loc, async (s) => {
      const ds = dataset(dir);
      await s.addDataset(ds);
      const r = run(dir, ds.id);
      await s.addRun(r);
      expect(await s.claimRun(r.id, "2026-12-02T02:00:00.000Z")).toBe(true);
      expect(await s.getRun(r.id)).toEqual({ ...r, status: "running", startedAt: "2026-12-02T02:00:00.000Z", progress: 0, message: "starting" });
      // Taken: a second claim (another server) changes nothing.
      expect(await s.claimRun(r.id, "2026-12-02T03:00:00.000Z")).toBe(false);
      expect((await s.getRun(r.id))!.startedAt).toBe("2026-12-02T02:00:00.000Z");
      const cancelled = run(dir, ds.id, { status: "cancelled" });
      await s.addRun(cancelled);
      expect(await s.claimRun(cancelled.id, "2026-12-02T03:00:00.000Z")).toBe(false);
      expect(await s.getRun(cancelled.id)).toEqual(cancelled);
      expect(await s.claimRun("no-such-run", "2026-12-02T03:00:00.000Z")).toBe(false);
      expect(await s.countCrash(r.id)).toBe(1);
      expect(await s.countCrash(r.id)).toBe(2);
      await expect(s.countCrash("no-such-run")).rejects.toThrow(/no run/);
      // The count is not part of the record.
      expect(Object.keys((await s.getRun(r.id))!).sort()).toEqual(Object.keys(r).sort());
      expect(await s.holdRun(r.id)).toBe(true);
      expect(await s.holdRun(r.id)).toBe(true);
      await s.releaseRun(r.id);
      if (kind === "postgres") {
        // Another server cannot hold what this one holds, until it lets go or its connection ends.
        const other = await open(kind, loc);
        try {
          expect(await s.holdRun(r.id)).toBe(true);
          expect(await other.holdRun(r.id)).toBe(false);
          await s.releaseRun(r.id);
          expect(await other.holdRun(r.id)).toBe(true);
          expect(await s.holdRun(r.id)).toBe(false);
          await other.close();
          // Its connection ended, PostgreSQL lets go of its locks (as soon as the backend has gone).
          let held = false;
          for (let i = 0; i < 100 && !held; i++) {
            held = await s.holdRun(r.id);
            if (!held) await new Promise((res) => setTimeout(res, 20));
          }
          expect(held).toBe(true);
        } finally {
          await other.close();
        }
      }
    });
  });

  it("assignments are appended to the history in order; a failure mid-way leaves none of that publish", async () => {
    await withStore(kind, await fresh(kind), async (s) => {
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

  it("a version published with its assignments is one transaction", async () => {
    const loc = await fresh(kind);
    await withStore(kind, loc, async (s) => {
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

  it("tokens: stored as hashes, verified, revoked; a wrong or malformed one is refused; the store never holds the token's text", async () => {
    const loc = await fresh(kind);
    const { token, hash } = createToken();
    await withStore(kind, loc, async (s) => {
      const rec = await s.addToken("crm-scoring", "score", hash);
      expect(rec).toMatchObject({ name: "crm-scoring", scope: "score" });
      expect(await verifyToken(s, token)).toEqual(rec);
      expect(await s.findToken(hash)).toEqual({ ...rec, hash });
      // One character changed, another real token, the hash itself, junk: all refused.
      const last = token.at(-1) === "A" ? "B" : "A";
      expect(await verifyToken(s, token.slice(0, -1) + last)).toBeNull();
      expect(await verifyToken(s, createToken().token)).toBeNull();
      expect(await verifyToken(s, hash)).toBeNull();
      expect(await verifyToken(s, "")).toBeNull();
      expect(await verifyToken(s, undefined)).toBeNull();
      expect(await verifyToken(s, `Bearer ${token}`)).toBeNull();
      expect(await verifyToken(s, token + " ")).toBeNull();
      expect(await s.findToken("'; DROP TABLE tokens; DROP TABLE segmenta_tokens; --")).toBeNull();
      // The listing carries no secret; a duplicate hash is refused; a non-hash is refused.
      expect(await s.listTokens()).toEqual([rec]);
      expect(JSON.stringify(await s.listTokens())).not.toContain(hash);
      await expect(s.addToken("again", "read", hash)).rejects.toThrow();
      await expect(s.addToken("plain", "read", token)).rejects.toThrow(/SHA-256/);
      await expect(s.addToken("x", "root" as never, createToken().hash)).rejects.toThrow(/scope/);
      await s.addToken("second", "read", createToken().hash);
      // Revoked: refused at once.
      expect(await s.deleteToken(rec.id)).toBe(true);
      expect(await s.deleteToken(rec.id)).toBe(false);
      expect(await verifyToken(s, token)).toBeNull();
      await s.addToken("kept", "read", hash);
    });
    // What the store keeps (the DuckDB file once closed, the PostgreSQL table) holds the hash, never the token's text.
    const bytes = await storedTokens(kind, loc);
    expect(bytes.includes(Buffer.from(hash))).toBe(true);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(token.slice(4)))).toBe(false);
  });

  it("a reopened store keeps everything", async () => {
    const loc = await fresh(kind);
    const dir = folderOf(kind, loc);
    const ds = dataset(dir);
    const r = run(dir, ds.id, { status: "running", progress: 0.5 });
    const { hash } = createToken();
    const before = await withStore(kind, loc, async (s) => {
      await s.addDataset(ds);
      await s.addRun(r);
      await s.addModelVersion("m", { a: 1 }, "x", r.id);
      await s.addModelVersion("m", { a: 2 }, "y", null);
      const t = await s.addToken("crm", "score", hash);
      await s.recordAssignments("m", 2, [{ id: "1", segment: 1, name: "One" }], "2026-12-02T01:00:00.000Z");
      return { t, models: await s.listVersions("m") };
    });
    await withStore(kind, loc, async (s) => {
      expect(await s.getDataset(ds.id)).toEqual(ds);
      expect(await s.getRun(r.id)).toEqual(r);
      expect((await s.unfinishedRuns()).map((x) => x.id)).toEqual([r.id]);
      expect(await s.listVersions("m")).toEqual(before.models);
      expect(await s.listTokens()).toEqual([before.t]);
      expect(await s.findToken(hash)).toEqual({ ...before.t, hash });
      expect(await s.assignmentHistory("m")).toHaveLength(1);
      // Versions continue from the stored ones.
      expect((await s.addModelVersion("m", { a: 3 }, "z", null)).version).toBe(3);
    });
    // A closed store refuses further calls; closing twice is harmless.
    const s = await open(kind, loc);
    await s.close();
    await s.close();
    await expect(s.listTokens()).rejects.toThrow(/closed/);
  });

});

describe("the DuckDB store alone", () => {
  it("creates the folder and the DuckDB file with a schema version", async () => {
    const dir = await fresh("duckdb");
    expect(existsSync(dir)).toBe(false);
    await withStore("duckdb", dir, async (s) => expect(await s.listDatasets()).toEqual([]));
    expect(existsSync(join(dir, STORE_FILE))).toBe(true);
  });

  it("paths under the data folder are stored relative to it: a moved folder still finds its files", async () => {
    const { renameSync } = await import("node:fs");
    const dir = await fresh("duckdb");
    const ds = dataset(dir);
    const r = run(dir, ds.id);
    await withStore("duckdb", dir, async (s) => {
      await s.addDataset(ds);
      await s.addRun(r);
    });
    const moved = await fresh("duckdb");
    renameSync(dir, moved);
    await withStore("duckdb", moved, async (s) => {
      expect((await s.getDataset(ds.id))?.file).toBe(join(moved, "datasets", "a", "data.csv"));
      expect((await s.getRun(r.id))?.dir).toBe(join(moved, "runs", r.id));
    });
  });

  it("a process killed with SIGKILL loses nothing it committed, and its store opens again", async () => {
    const dir = await fresh("duckdb");
    const storeUrl = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "src", "server", "store.ts")).href;
    const script = join(root, `killed-${count}.mts`);
    writeFileSync(script, `
      import { openStore } from ${JSON.stringify(storeUrl)};
      const s = await openStore(${JSON.stringify(dir)});
      await s.addModelVersion("m", { k: 3 }, "c1", null);
      const v = await s.addModelVersion("m", { k: 4 }, "c2", "run-9");
      const rows = Array.from({ length: 5000 }, (_, i) => ({ id: "c" + i, segment: i % 3, name: "S" + (i % 3) }));
      await s.recordAssignments("m", v.version, rows, "2026-12-02T01:00:00.000Z");
      await s.addToken("t", "read", "${"a".repeat(64)}");
      process.stdout.write("committed\\n");
      setInterval(() => {}, 1000); // stays alive, holding the store open, until killed
    `);
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: join(dirname(fileURLToPath(import.meta.url)), ".."), stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    await new Promise<void>((done, fail) => {
      child.stdout.on("data", (b: Buffer) => {
        if (b.toString().includes("committed")) done();
      });
      child.on("exit", (code) => fail(new Error(`the child ended (${code}) before committing: ${err}`)));
    });
    const exited = new Promise((done) => child.on("exit", done));
    child.kill("SIGKILL");
    await exited;
    await withStore("duckdb", dir, async (s) => {
      expect((await s.listVersions("m")).map((v) => [v.version, v.active, v.runId])).toEqual([[1, false, null], [2, true, "run-9"]]);
      const h = await s.assignmentHistory("m");
      expect(h).toHaveLength(5000);
      expect(h[4999]).toEqual({ version: 2, id: "c4999", segment: 4999 % 3, name: "S1", publishedAt: "2026-12-02T01:00:00.000Z" });
      expect(await s.findToken("a".repeat(64))).toMatchObject({ name: "t", scope: "read" });
    });
  });

});

/** Runs the test only when a PostgreSQL server could be started (the reason is printed by the helper). */
const pgIt = (name: string, f: () => Promise<void>) =>
  it(name, async (ctx) => {
    if (!server) {
      ctx.skip();
      return;
    }
    await f();
  }, 60_000);

describe("the PostgreSQL store alone", () => {
  pgIt("creates its tables in an empty database, and opening again changes nothing", async () => {
    const url = await fresh("postgres");
    await withStore("postgres", url, async (s) => {
      expect(await s.listDatasets()).toEqual([]);
      expect(await s.listRuns()).toEqual([]);
      expect(await s.listModels()).toEqual([]);
      expect(await s.listTokens()).toEqual([]);
    });
    await withStore("postgres", url, async (s) => expect(await s.listDatasets()).toEqual([]));
    // Several servers starting at once on a new database all open it.
    const url2 = await fresh("postgres");
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

  pgIt("paths are stored absolute: servers sharing the database each have their own data folder", async () => {
    const url = await fresh("postgres");
    const dir = folderOf("postgres", url);
    await withStore("postgres", url, async (s) => {
      await s.addDataset(dataset(dir));
      await s.addDataset(dataset(dir, { file: "/elsewhere/file.csv", createdAt: "2026-12-02T01:00:01.000Z" }));
    });
    const files = (await sql(url, "SELECT file FROM segmenta_datasets ORDER BY created_at")).map((r) => r.file as string);
    expect(files).toEqual([join(dir, "datasets/a/data.csv"), "/elsewhere/file.csv"]);
  });

  pgIt("tokens: stored as hashes, verified, revoked; another server sees a new or revoked token at once", async () => {
    const url = await fresh("postgres");
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

});

describe("tokens", () => {
  it("a token is sgm_ and 32 random bytes in base64url; its hash is its SHA-256 hex", () => {
    const { token, hash } = createToken();
    expect(token).toMatch(/^sgm_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashToken(token)).toBe(hash);
    // Known answer: SHA-256 of "abc".
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const others = new Set(Array.from({ length: 50 }, () => createToken().token));
    expect(others.size).toBe(50);
  });

  it("verifyToken compares the stored hash itself: a store answering with another hash is not believed", async () => {
    const { token } = createToken();
    const liar = { findToken: async () => ({ id: "1", name: "n", scope: "admin" as const, createdAt: "t", hash: createToken().hash }) };
    expect(await verifyToken(liar, token)).toBeNull();
    const honest = { findToken: async (h: string) => ({ id: "1", name: "n", scope: "admin" as const, createdAt: "t", hash: h }) };
    expect(await verifyToken(honest, token)).toEqual({ id: "1", name: "n", scope: "admin", createdAt: "t" });
  });

  it("scopes: score only scores, read reads and scores, admin does everything", () => {
    const table = (["score", "read", "admin"] as const).map((have) => (["score", "read", "admin"] as const).map((need) => scopeAllows(have, need)));
    expect(table).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, true],
    ]);
    expect(scopeAllows("root" as never, "score")).toBe(false);
  });
});
