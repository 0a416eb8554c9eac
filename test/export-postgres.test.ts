/**
 * The PostgreSQL export (src/server/export/postgres.ts) against a real PostgreSQL started for this
 * file (skipped with a message where there is none): the upsert, the history appended only for
 * customers who moved with the previous row closed, an identical re-run changing nothing, one
 * transaction (a failure mid-way, or a process killed with SIGKILL inside it, leaves both tables as
 * they were), bad input refused; and `segmenta export FILE --to postgres://… --table T`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { exportToPostgres, tableNames } from "../src/server/export/postgres.js";
import { runMain } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

let server: TestPostgres | null = null;
let url = "";

beforeAll(async () => {
  server = await startPostgres();
  if (server) url = await server.newDatabase(`export_${process.pid}`);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const pgIt = (name: string, f: () => Promise<void>) =>
  it(name, async (ctx) => {
    if (!server) {
      ctx.skip();
      return;
    }
    await f();
  }, 60_000);

async function sql<T extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

/** T's rows by id, times as ISO text. */
async function current(table: string) {
  return sql<{ id: string; segment: number; segment_name: string; model: string | null; valid_from: string }>(
    `SELECT id, segment, segment_name, model, to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid_from FROM ${table} ORDER BY id`,
  );
}
async function history(table: string) {
  return sql<{ id: string; segment: number; segment_name: string; model: string | null; valid_from: string; valid_to: string | null }>(
    `SELECT id, segment, segment_name, model,
       to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid_from,
       to_char(valid_to AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid_to
     FROM ${table}_history ORDER BY id, valid_from`,
  );
}

const T1 = "2026-12-01T00:00:00Z";
const T2 = "2026-12-02T00:00:00Z";
const T3 = "2026-12-03T00:00:00Z";

describe("exportToPostgres", () => {
  pgIt("first export: creates both tables, one current row and one open history row per customer", async () => {
    const rows = [{ id: "a", segment: 0, name: "Loyal" }, { id: "b", segment: 1, name: "New" }, { id: "007", segment: -1, name: "Outliers" }];
    const r = await exportToPostgres(url, "first", rows, { model: "churn@1", validFrom: T1 });
    expect(r).toEqual({ table: "first", historyTable: "first_history", inserted: 3, changed: 0, unchanged: 0, historyRows: 3 });
    expect(await current("first")).toEqual([
      { id: "007", segment: -1, segment_name: "Outliers", model: "churn@1", valid_from: T1 },
      { id: "a", segment: 0, segment_name: "Loyal", model: "churn@1", valid_from: T1 },
      { id: "b", segment: 1, segment_name: "New", model: "churn@1", valid_from: T1 },
    ]);
    expect(await history("first")).toEqual([
      { id: "007", segment: -1, segment_name: "Outliers", model: "churn@1", valid_from: T1, valid_to: null },
      { id: "a", segment: 0, segment_name: "Loyal", model: "churn@1", valid_from: T1, valid_to: null },
      { id: "b", segment: 1, segment_name: "New", model: "churn@1", valid_from: T1, valid_to: null },
    ]);
  });

  pgIt("a second export upserts, appends history only for those who moved, closes their previous row; re-running changes nothing", async () => {
    const t = "moves";
    await exportToPostgres(url, t, [
      { id: "a", segment: 0, name: "Loyal" }, { id: "b", segment: 1, name: "New" }, { id: "c", segment: 2, name: "At risk" }, { id: "gone", segment: 0, name: "Loyal" },
    ], { model: "m@1", validFrom: T1 });
    const second = [
      { id: "a", segment: 0, name: "Loyal" }, // same: untouched
      { id: "b", segment: 2, name: "At risk" }, // moved
      { id: "c", segment: 2, name: "Churning" }, // same number, renamed: a change
      { id: "d", segment: 1, name: "New" }, // new customer
    ];
    const r = await exportToPostgres(url, t, second, { model: "m@1", validFrom: T2 });
    expect(r).toMatchObject({ inserted: 1, changed: 2, unchanged: 1, historyRows: 3 });
    expect(await current(t)).toEqual([
      { id: "a", segment: 0, segment_name: "Loyal", model: "m@1", valid_from: T1 },
      { id: "b", segment: 2, segment_name: "At risk", model: "m@1", valid_from: T2 },
      { id: "c", segment: 2, segment_name: "Churning", model: "m@1", valid_from: T2 },
      { id: "d", segment: 1, segment_name: "New", model: "m@1", valid_from: T2 },
      { id: "gone", segment: 0, segment_name: "Loyal", model: "m@1", valid_from: T1 }, // absent from the export: left as it was
    ]);
    const h2 = await history(t);
    expect(h2).toEqual([
      { id: "a", segment: 0, segment_name: "Loyal", model: "m@1", valid_from: T1, valid_to: null },
      { id: "b", segment: 1, segment_name: "New", model: "m@1", valid_from: T1, valid_to: T2 },
      { id: "b", segment: 2, segment_name: "At risk", model: "m@1", valid_from: T2, valid_to: null },
      { id: "c", segment: 2, segment_name: "At risk", model: "m@1", valid_from: T1, valid_to: T2 },
      { id: "c", segment: 2, segment_name: "Churning", model: "m@1", valid_from: T2, valid_to: null },
      { id: "d", segment: 1, segment_name: "New", model: "m@1", valid_from: T2, valid_to: null },
      { id: "gone", segment: 0, segment_name: "Loyal", model: "m@1", valid_from: T1, valid_to: null },
    ]);
    // The same export again (same time, or later): nothing changes.
    const before = await current(t);
    for (const when of [T2, T3]) {
      expect(await exportToPostgres(url, t, second, { model: "m@1", validFrom: when })).toMatchObject({ inserted: 0, changed: 0, unchanged: 4, historyRows: 0 });
      expect(await current(t)).toEqual(before);
      expect(await history(t)).toEqual(h2);
    }
    // The same segments from another model: the model column follows, nobody moved.
    expect(await exportToPostgres(url, t, second, { model: "m@2", validFrom: T3 })).toMatchObject({ changed: 0, historyRows: 0 });
    expect((await current(t)).filter((x) => x.id !== "gone").map((x) => [x.model, x.valid_from])).toEqual(before.filter((x) => x.id !== "gone").map((x) => ["m@2", x.valid_from]));
    expect(await history(t)).toEqual(h2);
  });

  pgIt("a failure mid-way (after the history was written) leaves both tables as they were", async () => {
    const t = "atomic";
    const first = Array.from({ length: 12_000 }, (_, i) => ({ id: `c${i}`, segment: i % 3, name: `S${i % 3}` }));
    await exportToPostgres(url, t, first, { model: "m@1", validFrom: T1 });
    const before = { cur: await current(t), hist: await history(t) };
    // A trigger on T refuses one customer: the history has been updated and appended by then.
    await sql(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.id = 'boom' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$`);
    await sql(`CREATE TRIGGER refuse_boom BEFORE INSERT OR UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION refuse_boom()`);
    const second = first.map((r) => ({ ...r, segment: (r.segment + 1) % 3, name: `S${(r.segment + 1) % 3}` }));
    second.push({ id: "boom", segment: 0, name: "S0" });
    await expect(exportToPostgres(url, t, second, { model: "m@2", validFrom: T2 })).rejects.toThrow(/refused by the test trigger/);
    expect(await current(t)).toEqual(before.cur);
    expect(await history(t)).toEqual(before.hist);
    // Without the trigger the same export goes through: every customer moved once.
    await sql(`DROP TRIGGER refuse_boom ON ${t}`);
    expect(await exportToPostgres(url, t, second, { model: "m@2", validFrom: T2 })).toMatchObject({ inserted: 1, changed: 12_000, historyRows: 12_001 });
    expect((await history(t)).length).toBe(24_001);
    const open = await sql<{ n: string }>(`SELECT count(*) AS n FROM ${t}_history WHERE valid_to IS NULL`);
    expect(Number(open[0].n)).toBe(12_001);
  });

  pgIt("concurrent exports into one new table take turns and leave one row per customer", async () => {
    const t = "racing";
    const rows = (seg: number) => Array.from({ length: 500 }, (_, i) => ({ id: `r${i}`, segment: seg, name: `S${seg}` }));
    const results = await Promise.all([0, 1, 2, 3].map((k) => exportToPostgres(url, t, rows(k % 2), { model: `m@${k}`, validFrom: `2026-12-0${k + 1}T00:00:00Z` })));
    expect(results.reduce((s, r) => s + r.inserted, 0)).toBe(500);
    const n = await sql<{ n: string; ids: string }>(`SELECT count(*) AS n, count(DISTINCT id) AS ids FROM ${t}`);
    expect(n[0]).toEqual({ n: "500", ids: "500" });
    const open = await sql<{ n: string }>(`SELECT count(*) AS n FROM ${t}_history WHERE valid_to IS NULL`);
    expect(open[0].n).toBe("500");
  });

  pgIt("values are data: ids and names with quotes and SQL stay as written; a schema-qualified, mixed-case name is folded", async () => {
    await sql("CREATE SCHEMA crm");
    const rows = [{ id: "x'); DROP TABLE crm.segs; --", segment: 1, name: "=HYPERLINK(\"evil\")" }, { id: "é ü", segment: 0, name: "\"quoted\"" }];
    const r = await exportToPostgres(url, "CRM.Segs", rows, { model: null, validFrom: T1 });
    expect(r.table).toBe("crm.segs");
    const got = await sql<{ id: string; segment_name: string; model: string | null }>("SELECT id, segment_name, model FROM crm.segs ORDER BY segment");
    expect(got).toEqual([{ id: "é ü", segment_name: "\"quoted\"", model: null }, { id: rows[0].id, segment_name: rows[0].name, model: null }]);
  });

  pgIt("bad input is refused before anything is written", async () => {
    await expect(exportToPostgres(url, "t; DROP TABLE x", [], { model: null })).rejects.toThrow(/--table/);
    await expect(exportToPostgres(url, "a".repeat(60), [], { model: null })).rejects.toThrow(/at most 55/);
    await expect(exportToPostgres(url, "dups", [{ id: "a", segment: 0, name: "A" }, { id: "a", segment: 1, name: "B" }], { model: null })).rejects.toThrow(/appears twice/);
    await expect(exportToPostgres(url, "dups", [{ id: "a", segment: 0.5, name: "A" }], { model: null })).rejects.toThrow(/segment number/);
    await expect(exportToPostgres(url, "dups", [{ id: "a", segment: 0, name: "A" }], { model: null, validFrom: "yesterday" })).rejects.toThrow(/ISO 8601/);
    expect(await sql("SELECT 1 FROM pg_tables WHERE tablename = 'dups'")).toEqual([]);
    await sql("CREATE TABLE wrong (id TEXT PRIMARY KEY, seg INTEGER)");
    await expect(exportToPostgres(url, "wrong", [{ id: "a", segment: 0, name: "A" }], { model: null })).rejects.toThrow(/lacks the columns segment, segment_name, model, valid_from/);
    await expect(exportToPostgres("postgres://bob:hunter2@127.0.0.1:1/db", "t", [], { model: null })).rejects.toThrow(/--to postgres:\/\/bob:\*\*\*@127\.0\.0\.1:1\/db: cannot connect/);
    expect(tableNames("public.Segments")).toEqual({ table: "\"public\".\"segments\"", history: "\"public\".\"segments_history\"", schema: "public", name: "segments" });
  });
});

describe("segmenta export --to postgres://… --table T", () => {
  pgIt("exports a segments file; the same export again changes nothing; a moved customer gets a history row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "segmenta-export-pg-"));
    try {
      const seg = join(dir, "segments.csv");
      writeFileSync(seg, "customerID,segment,segment_name\n007,0,Loyal\nB-2,1,New\nc3,-1,Outliers\n");
      const to = url.replace("postgres@", "postgres:pa55word@");
      const first = await runMain(["export", seg, "--to", to, "--table", "cli_segments", "--model", "churn@1", "--json"]);
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      const doc = JSON.parse(first.stdout) as Record<string, unknown>;
      expect(doc).toMatchObject({ model: "churn@1", table: "cli_segments", inserted: 3, changed: 0, unchanged: 0, historyRows: 3 });
      expect(first.stdout).not.toContain("pa55word");
      const rows = await sql<{ id: string; segment: number; segment_name: string; model: string }>("SELECT id, segment, segment_name, model FROM cli_segments ORDER BY id");
      expect(rows).toEqual([
        { id: "007", segment: 0, segment_name: "Loyal", model: "churn@1" }, // the id read verbatim
        { id: "B-2", segment: 1, segment_name: "New", model: "churn@1" },
        { id: "c3", segment: -1, segment_name: "Outliers", model: "churn@1" },
      ]);
      const again = await runMain(["export", seg, "--to", to, "--table", "cli_segments", "--model", "churn@1"]);
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/cli_segments: 0 new, 0 moved, 3 unchanged of 3 customers; 0 rows added to cli_segments_history/);
      writeFileSync(seg, "customerID,segment,segment_name\n007,1,New\nB-2,1,New\nc3,-1,Outliers\n");
      const moved = await runMain(["export", seg, "--to", to, "--table", "cli_segments", "--model", "churn@2", "--json"]);
      expect(JSON.parse(moved.stdout)).toMatchObject({ inserted: 0, changed: 1, unchanged: 2, historyRows: 1 });
      const h = await sql<{ id: string; segment: number; open: boolean }>("SELECT id, segment, valid_to IS NULL AS open FROM cli_segments_history ORDER BY id, valid_from");
      expect(h).toEqual([
        { id: "007", segment: 0, open: false }, { id: "007", segment: 1, open: true }, { id: "B-2", segment: 1, open: true }, { id: "c3", segment: -1, open: true },
      ]);
      // Bad usage: one line, status 2.
      const cases: [string[], RegExp][] = [
        [["export", seg, "--to", to], /--table T/],
        [["export", seg, "--table", "x", "--format", "hubspot", "--email", "e", "--out", join(dir, "o.csv")], /--table goes with --to/],
        [["export", seg, "--to", "mysql://h/db", "--table", "x"], /--to mysql:\/\/h\/db: give a PostgreSQL URL/],
        [["export", seg, "--to", to, "--table", "x;drop"], /--table "x;drop": give a table name/],
        [["export", seg, "--to", to, "--table", "x", "--out", "y.csv"], /--out does not go with --to/],
        [["export", seg, "--to", "postgres://u:secret@127.0.0.1:1/db", "--table", "x"], /--to postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db: cannot connect/],
      ];
      for (const [args, message] of cases) {
        const r = await runMain(args);
        expect(r.status, args.join(" ")).toBe(2);
        expect(r.stderr, args.join(" ")).toMatch(message);
        expect(r.stderr).not.toContain("secret");
        expect(r.stderr).not.toContain("pa55word");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("exportToPostgres killed mid-way", () => {
  pgIt("a process killed with SIGKILL inside the export's transaction leaves the tables as they were; the export run again completes, once", async () => {
    const t = "killed";
    const first = Array.from({ length: 3000 }, (_, i) => ({ id: `k${i}`, segment: i % 2, name: `S${i % 2}` }));
    await exportToPostgres(url, t, first, { model: "m@1", validFrom: T1 });
    const before = { cur: await current(t), hist: await history(t) };
    // The database notices a vanished client within 0.2 s even while a query runs (PostgreSQL ≥ 14).
    const db = new URL(url).pathname.slice(1);
    await sql(`ALTER DATABASE ${db} SET client_connection_check_interval = 200`);
    // A trigger holds the export inside its transaction, after the history has been written.
    await sql(`CREATE FUNCTION hold_export() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$`);
    await sql(`CREATE TRIGGER hold_export AFTER INSERT OR UPDATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION hold_export()`);
    const second = first.map((r) => ({ ...r, segment: 1 - r.segment, name: `S${1 - r.segment}` }));
    const dir = mkdtempSync(join(tmpdir(), "segmenta-export-kill-"));
    try {
      const root = join(dirname(fileURLToPath(import.meta.url)), "..");
      const moduleUrl = pathToFileURL(join(root, "src", "server", "export", "postgres.ts")).href;
      const script = join(dir, "export.mts");
      writeFileSync(script, `
        import { exportToPostgres } from ${JSON.stringify(moduleUrl)};
        await exportToPostgres(${JSON.stringify(url)}, ${JSON.stringify(t)}, ${JSON.stringify(second)}, { model: "m@2", validFrom: ${JSON.stringify(T2)} });
        process.stdout.write("finished\\n");
      `);
      const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr.on("data", (b: Buffer) => (out += b.toString()));
      const exited = new Promise((done) => child.on("exit", done));
      // Wait until the export sleeps in the trigger: its history rows are written, not committed.
      for (let i = 0; ; i++) {
        const waiting = await sql("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1", [db]);
        if (waiting.length) break;
        if (i > 300) throw new Error(`the export never reached the trigger: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGKILL");
      await exited;
      expect(out).not.toContain("finished");
      // The server ends the orphaned transaction (rolled back) once it notices the client is gone.
      for (let i = 0; ; i++) {
        const left = await sql("SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = $1", [db]);
        if (!left.length) break;
        if (i > 300) throw new Error("the killed export's transaction is still open");
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await current(t)).toEqual(before.cur);
      expect(await history(t)).toEqual(before.hist);
      // Run again (without the trigger): complete, and once only.
      await sql(`DROP TRIGGER hold_export ON ${t}`);
      expect(await exportToPostgres(url, t, second, { model: "m@2", validFrom: T2 })).toMatchObject({ changed: 3000, historyRows: 3000 });
      expect(await exportToPostgres(url, t, second, { model: "m@2", validFrom: T2 })).toMatchObject({ changed: 0, historyRows: 0 });
      const h = await history(t);
      expect(h).toHaveLength(6000);
      expect(h.filter((x) => x.valid_to === null).map((x) => [x.id, x.segment]).sort()).toEqual(second.map((x) => [x.id, x.segment]).sort());
    } finally {
      await sql(`ALTER DATABASE ${db} RESET client_connection_check_interval`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
