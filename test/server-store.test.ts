/**
 * The server's embedded store (src/server/store.ts) and tokens (src/server/tokens.ts): every
 * method round-trips, model versions increment with exactly one active (also under concurrent
 * publishes), unfinished runs, the assignment history, tokens stored only as hashes and checked
 * by hash, scopes, and a reopened store keeps everything.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatasetRecord, type HistoryStore, openStore, type RunRecord, STORE_FILE } from "../src/server/store.js";
import { createToken, hashToken, scopeAllows, verifyToken } from "../src/server/tokens.js";

let root: string;
let count = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "segmenta-store-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh data folder (not created yet: openStore creates it). */
function freshDir(): string {
  return join(root, `data-${++count}`);
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

async function withStore<T>(dir: string, f: (s: HistoryStore) => Promise<T>): Promise<T> {
  const s = await openStore(dir);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

describe("store", () => {
  it("creates the folder and the DuckDB file with a schema version", async () => {
    const dir = freshDir();
    expect(existsSync(dir)).toBe(false);
    await withStore(dir, async (s) => {
      expect(await s.listDatasets()).toEqual([]);
      expect(await s.listRuns()).toEqual([]);
      expect(await s.listModels()).toEqual([]);
      expect(await s.listTokens()).toEqual([]);
    });
    expect(existsSync(join(dir, STORE_FILE))).toBe(true);
    // Opening it again (schema already there) works and changes nothing.
    await withStore(dir, async (s) => expect(await s.listDatasets()).toEqual([]));
  });

  it("reads made while the tables were empty do not spoil the reads after writes", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
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

  it("datasets round-trip, list in creation order and delete", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
      const a = dataset(dir, { createdAt: "2026-12-02T01:00:00.000Z" });
      const b = dataset(dir, { name: "retail.parquet", format: "parquet", bytes: 5_000_000_000, rows: 0, createdAt: "2026-12-02T01:00:01.000Z", inspect: null });
      const outside = dataset(dir, { file: join(root, "elsewhere.csv"), createdAt: "2026-12-02T01:00:02.000Z" });
      await s.addDataset(a);
      await s.addDataset(b);
      await s.addDataset(outside);
      expect(await s.getDataset(a.id)).toEqual(a);
      expect(await s.getDataset(b.id)).toEqual(b); // a size beyond 32 bits survives
      expect(await s.getDataset(outside.id)).toEqual(outside);
      expect(await s.getDataset("no-such-id")).toBeNull();
      expect((await s.listDatasets()).map((d) => d.id)).toEqual([a.id, b.id, outside.id]);
      expect(await s.deleteDataset(a.id)).toBe(true);
      expect(await s.deleteDataset(a.id)).toBe(false);
      expect(await s.getDataset(a.id)).toBeNull();
      expect((await s.listDatasets()).map((d) => d.id)).toEqual([b.id, outside.id]);
      // A duplicate id is refused.
      await expect(s.addDataset(b)).rejects.toThrow();
    });
  });

  it("a value is stored as data, never run as SQL", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
      const evil = dataset(dir, { name: "x'); DROP TABLE datasets; --", inspect: { q: "'; DELETE FROM tokens; --" } });
      await s.addDataset(evil);
      expect(await s.getDataset(evil.id)).toEqual(evil);
      expect(await s.listDatasets()).toHaveLength(1);
    });
  });

  it("runs round-trip, update field by field, and the unfinished ones are found", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
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
    });
  });

  it("model versions increment per name, exactly one active, the active one by default", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
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

  it("concurrent publishes of one name get distinct versions and leave one active", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
      const made = await Promise.all(Array.from({ length: 12 }, (_, i) => s.addModelVersion("busy", { i }, `c${i}`, null)));
      expect(made.map((m) => m.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const versions = await s.listVersions("busy");
      expect(versions).toHaveLength(12);
      expect(versions.filter((v) => v.active)).toHaveLength(1);
      // The active one is the last published, and each version kept its own file.
      const last = made.find((m) => m.version === 12);
      expect((await s.getModel("busy"))?.file).toEqual(last?.file);
      for (const v of versions) expect(v.file).toEqual(made.find((m) => m.version === v.version)?.file);
    });
  });

  it("assignments are appended to the history, every publish kept", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
      const rows = Array.from({ length: 2500 }, (_, i) => ({ id: `cust-${i}`, segment: i % 4, name: `Segment ${i % 4}` }));
      expect(await s.recordAssignments("churn", 1, rows, "2026-12-02T01:00:00.000Z")).toBe(2500);
      const moved = [{ id: "cust-0", segment: -1, name: "Outliers" }, { id: "=HYPERLINK(\"x\")", segment: 2, name: "Bargain 'hunters'" }];
      expect(await s.recordAssignments("churn", 2, moved, "2026-12-02T02:00:00.000Z")).toBe(2);
      expect(await s.recordAssignments("churn", 2, [], "2026-12-02T03:00:00.000Z")).toBe(0);
      const h = await s.assignmentHistory("churn");
      expect(h).toHaveLength(2502);
      expect(h[0]).toEqual({ version: 1, id: "cust-0", segment: 0, name: "Segment 0", publishedAt: "2026-12-02T01:00:00.000Z" });
      expect(h[2499]).toEqual({ version: 1, id: "cust-2499", segment: 3, name: "Segment 3", publishedAt: "2026-12-02T01:00:00.000Z" });
      expect(h.slice(2500)).toEqual(moved.map((m) => ({ version: 2, ...m, publishedAt: "2026-12-02T02:00:00.000Z" })));
      expect(await s.assignmentHistory("other")).toEqual([]);
      // A bad row is refused before anything is written.
      await expect(s.recordAssignments("churn", 3, [{ id: "a", segment: 0, name: "A" }, { id: "b", segment: 0.5, name: "B" }], "2026-12-02T04:00:00.000Z")).rejects.toThrow(/whole number/);
      expect(await s.assignmentHistory("churn")).toHaveLength(2502);
      // A failure half-way through a publish (here a value that cannot be read) leaves none of it.
      const poisoned = Array.from({ length: 3000 }, (_, i) => ({ id: `p-${i}`, segment: 1, name: "P" }));
      poisoned[2900] = { id: { toString: () => { throw new Error("unreadable id"); } } as unknown as string, segment: 1, name: "P" };
      await expect(s.recordAssignments("churn", 3, poisoned, "2026-12-02T05:00:00.000Z")).rejects.toThrow(/unreadable id/);
      expect(await s.assignmentHistory("churn")).toHaveLength(2502);
      // And the store goes on working.
      expect(await s.recordAssignments("churn", 3, [{ id: "z", segment: 0, name: "Z" }], "2026-12-02T06:00:00.000Z")).toBe(1);
      expect(await s.assignmentHistory("churn")).toHaveLength(2503);
    });
  });

  it("a version published with its assignments is one transaction", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
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

  it("a reopened store keeps everything", async () => {
    const dir = freshDir();
    const ds = dataset(dir);
    const r = run(dir, ds.id, { status: "running", progress: 0.5 });
    const { hash } = createToken();
    const before = await withStore(dir, async (s) => {
      await s.addDataset(ds);
      await s.addRun(r);
      await s.addModelVersion("m", { a: 1 }, "x", r.id);
      await s.addModelVersion("m", { a: 2 }, "y", null);
      const t = await s.addToken("crm", "score", hash);
      await s.recordAssignments("m", 2, [{ id: "1", segment: 1, name: "One" }], "2026-12-02T01:00:00.000Z");
      return { t, models: await s.listVersions("m") };
    });
    await withStore(dir, async (s) => {
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
  });

  it("paths under the data folder are stored relative to it: a moved folder still finds its files", async () => {
    const { renameSync } = await import("node:fs");
    const dir = freshDir();
    const ds = dataset(dir);
    const r = run(dir, ds.id);
    await withStore(dir, async (s) => {
      await s.addDataset(ds);
      await s.addRun(r);
    });
    const moved = freshDir();
    renameSync(dir, moved);
    await withStore(moved, async (s) => {
      expect((await s.getDataset(ds.id))?.file).toBe(join(moved, "datasets", "a", "data.csv"));
      expect((await s.getRun(r.id))?.dir).toBe(join(moved, "runs", r.id));
    });
  });

  it("a process killed with SIGKILL loses nothing it committed, and its store opens again", async () => {
    const dir = freshDir();
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
    await withStore(dir, async (s) => {
      expect((await s.listVersions("m")).map((v) => [v.version, v.active, v.runId])).toEqual([[1, false, null], [2, true, "run-9"]]);
      const h = await s.assignmentHistory("m");
      expect(h).toHaveLength(5000);
      expect(h[4999]).toEqual({ version: 2, id: "c4999", segment: 4999 % 3, name: "S1", publishedAt: "2026-12-02T01:00:00.000Z" });
      expect(await s.findToken("a".repeat(64))).toMatchObject({ name: "t", scope: "read" });
    });
  });

  it("a closed store refuses further calls", async () => {
    const s = await openStore(freshDir());
    await s.close();
    await s.close(); // twice is harmless
    await expect(s.listTokens()).rejects.toThrow(/closed/);
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

  it("the created token verifies, a wrong or malformed one does not, and only the hash is stored", async () => {
    const dir = freshDir();
    const { token, hash } = createToken();
    await withStore(dir, async (s) => {
      const rec = await s.addToken("crm-scoring", "score", hash);
      expect(rec).toMatchObject({ name: "crm-scoring", scope: "score" });
      expect(await verifyToken(s, token)).toEqual(rec);
      // One character changed, another real token, the hash itself, junk: all refused.
      const last = token.at(-1) === "A" ? "B" : "A";
      expect(await verifyToken(s, token.slice(0, -1) + last)).toBeNull();
      expect(await verifyToken(s, createToken().token)).toBeNull();
      expect(await verifyToken(s, hash)).toBeNull();
      expect(await verifyToken(s, "")).toBeNull();
      expect(await verifyToken(s, undefined)).toBeNull();
      expect(await verifyToken(s, `Bearer ${token}`)).toBeNull();
      expect(await verifyToken(s, token + " ")).toBeNull();
      // The listing carries no secret; a duplicate hash is refused; a non-hash is refused.
      expect(JSON.stringify(await s.listTokens())).not.toContain(hash);
      await expect(s.addToken("again", "read", hash)).rejects.toThrow();
      await expect(s.addToken("plain", "read", token)).rejects.toThrow(/SHA-256/);
      await expect(s.addToken("x", "root" as never, createToken().hash)).rejects.toThrow(/scope/);
    });
    // The file holds the hash and never the token's text.
    const bytes = readFileSync(join(dir, STORE_FILE));
    expect(bytes.includes(Buffer.from(hash))).toBe(true);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(token.slice(4)))).toBe(false);
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
