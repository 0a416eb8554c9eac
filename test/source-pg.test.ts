/**
 * `--source postgres://… --table T | --query "SELECT …"` for inspect, cluster and predict,
 * against a real PostgreSQL started for this file (skipped with a message where there is
 * none): the same data as a CSV file gives the same profile, segments and labels; the rows
 * come with a cursor, FETCH by FETCH; only reading statements run; the password is never shown.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRandom } from "../src/core/random.js";
import { dropTable } from "../src/io/read.js";
import { loadSource, maskUrl } from "../src/io/source.js";
import { run } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

let server: TestPostgres | null = null;
let url = "";
let dir = "";
let csv = "";
const N = 3000;

interface Row { id: string; visits: number; spend: number | null; tenure: number; plan: string; joined: string }

function makeRows(): Row[] {
  const rng = makeRandom(3);
  const plans = ["basic", "plus", "gold"];
  return Array.from({ length: N }, (_, i) => {
    const g = rng.int(3);
    return {
      id: `C${String(i).padStart(5, "0")}`,
      visits: Math.round(Math.max(0, [2, 10, 30][g] + 3 * rng.normal())),
      spend: rng.random() < 0.02 ? null : [50, 400, 2000][g] * Math.exp(0.3 * rng.normal()),
      tenure: [100, 500, 1500][g] + 50 * rng.normal(),
      plan: plans[(g + (rng.random() < 0.2 ? 1 : 0)) % 3],
      joined: new Date(Date.UTC(2020, 0, 1) + rng.int(1500) * 86_400_000).toISOString().slice(0, 10),
    };
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-source-pg-"));
  server = await startPostgres();
  if (!server) return;
  url = await server.newDatabase(`source_${process.pid}`);
  const rows = makeRows();
  csv = join(dir, "customers.csv");
  writeFileSync(csv, ["customer_id,visits,spend,tenure,plan,joined", ...rows.map((r) => `${r.id},${r.visits},${r.spend ?? ""},${r.tenure},${r.plan},${r.joined}`)].join("\n") + "\n");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("CREATE TABLE customers (customer_id text, visits integer, spend double precision, tenure float8, plan text, joined date)");
    for (let s = 0; s < rows.length; s += 500) {
      const part = rows.slice(s, s + 500);
      const values = part.map((_, i) => `($${6 * i + 1}, $${6 * i + 2}, $${6 * i + 3}, $${6 * i + 4}, $${6 * i + 5}, $${6 * i + 6})`).join(", ");
      await c.query(`INSERT INTO customers VALUES ${values}`, part.flatMap((r) => [r.id, r.visits, r.spend === null ? null : String(r.spend), String(r.tenure), r.plan, r.joined]));
    }
    await c.query("CREATE TABLE audit (n integer)");
    await c.query("CREATE FUNCTION touch() RETURNS integer AS 'INSERT INTO audit VALUES (1); SELECT 1' LANGUAGE sql");
  } finally {
    await c.end();
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pgIt = (name: string, f: () => Promise<void>) =>
  it(name, async (ctx) => {
    if (!server) {
      ctx.skip();
      return;
    }
    await f();
  }, 120_000);

describe("--source postgres://", () => {
  pgIt("inspect profiles a table and a query as it profiles the same rows from a CSV file", async () => {
    const fromCsv = await run(["inspect", csv, "--json"]);
    expect(fromCsv.code, fromCsv.err).toBe(0);
    const table = await run(["inspect", "--source", url, "--table", "customers", "--json"]);
    expect(table.code, table.err).toBe(0);
    const query = await run(["inspect", "--source", url, "--query", "SELECT * FROM customers ORDER BY customer_id", "--json"]);
    expect(query.code, query.err).toBe(0);
    const c = JSON.parse(fromCsv.out);
    for (const r of [JSON.parse(table.out), JSON.parse(query.out)]) {
      expect(r.rows).toBe(N);
      expect(r.columns).toEqual(c.columns);
      expect(r.details).toMatch(/PostgreSQL .*cursor in batches/);
    }
  });

  pgIt("cluster and predict give the CSV file's segments, names and labels", async () => {
    const args = ["--id", "customer_id", "--k", "3", "--json"];
    const a = await run(["cluster", csv, ...args, "--out", join(dir, "csv-seg.csv"), "--model", join(dir, "csv-model.json")]);
    expect(a.code, a.err).toBe(0);
    const b = await run(["cluster", "--source", url, "--table", "customers", ...args, "--out", join(dir, "pg-seg.csv")]);
    expect(b.code, b.err).toBe(0);
    const q = await run(["cluster", "--source", url, "--query", "SELECT customer_id, visits, spend, tenure, plan, joined FROM customers ORDER BY customer_id", ...args, "--out", join(dir, "pgq-seg.csv")]);
    expect(q.code, q.err).toBe(0);
    const ja = JSON.parse(a.out);
    for (const j of [JSON.parse(b.out), JSON.parse(q.out)]) {
      expect(j.segments).toEqual(ja.segments);
      expect(j.inertia).toBeCloseTo(ja.inertia, 6);
      expect(j.rulesSql).toBe(ja.rulesSql);
    }
    const segCsv = readFileSync(join(dir, "csv-seg.csv"), "utf8");
    expect(readFileSync(join(dir, "pg-seg.csv"), "utf8")).toBe(segCsv);
    expect(readFileSync(join(dir, "pgq-seg.csv"), "utf8")).toBe(segCsv);
    // predict from the database with the model fitted on the file.
    const p = await run(["predict", "--source", url, "--table", "customers", "--model", join(dir, "csv-model.json"), "--out", join(dir, "pg-pred.csv")]);
    expect(p.code, p.err).toBe(0);
    expect(readFileSync(join(dir, "pg-pred.csv"), "utf8")).toBe(segCsv);
    // ... and streamed under a small budget, the same.
    const s = await run(["predict", "--source", url, "--table", "customers", "--model", join(dir, "csv-model.json"), "--out", join(dir, "pg-pred-s.csv"), "--memory", "1MB"]);
    expect(s.code, s.err).toBe(0);
    expect(s.err).toMatch(/streamed:/);
    expect(readFileSync(join(dir, "pg-pred-s.csv"), "utf8")).toBe(segCsv);
  });

  pgIt("reads the rows with a cursor, one FETCH of at most batchSize rows at a time", async () => {
    const batches: number[] = [];
    const t = await loadSource({ url, table: "customers" }, { batchSize: 700, onBatch: (rows) => batches.push(rows) });
    try {
      expect(t.rows).toBe(N);
      // 3000 rows in FETCHes of 700: four full ones, then 200 (the last, short one ends the reading).
      expect(batches).toEqual([700, 700, 700, 700, 200]);
      expect(t.columns.map((c) => `${c.name} ${c.duckType}`)).toEqual([
        "customer_id VARCHAR", "visits BIGINT", "spend DOUBLE", "tenure DOUBLE", "plan VARCHAR", "joined DATE",
      ]);
    } finally {
      await dropTable(t);
    }
    const exact: number[] = [];
    const e = await loadSource({ url, query: "SELECT * FROM customers LIMIT 1000" }, { batchSize: 500, onBatch: (rows) => exact.push(rows) });
    await dropTable(e);
    expect(exact).toEqual([500, 500, 0]);
  });

  pgIt("runs only reading statements: a query that writes fails and changes nothing", async () => {
    const r = await run(["inspect", "--source", url, "--query", "SELECT touch()"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/read-only transaction/);
    const d = await run(["inspect", "--source", url, "--query", "DELETE FROM customers RETURNING *"]);
    expect(d.code).toBe(2);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect((await c.query("SELECT count(*)::int AS n FROM audit")).rows[0].n).toBe(0);
      expect((await c.query("SELECT count(*)::int AS n FROM customers")).rows[0].n).toBe(N);
    } finally {
      await c.end();
    }
  });

  pgIt("never shows the password, and names the flag that is wrong", async () => {
    const withPassword = url.replace("postgres@", "postgres:s3cr3t-pw@");
    const r = await run(["inspect", "--source", withPassword, "--table", "no_such_table"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--table failed: .*no_such_table/);
    expect(r.err).toContain(":***@");
    expect(r.err).not.toContain("s3cr3t-pw");
    const j = await run(["cluster", "--source", withPassword, "--table", "customers", "--id", "customer_id", "--k", "3", "--json"]);
    expect(j.code, j.err).toBe(0);
    expect(j.out + j.err).not.toContain("s3cr3t-pw");
    expect(JSON.parse(j.out).file).toBe(`${maskUrl(withPassword)} (table customers)`);
  });
});

describe("--source flags", () => {
  it("are checked before any connection", async () => {
    expect((await run(["inspect", "--source", "mysql://x/y", "--table", "t"])).err).toMatch(/--source mysql:\/\/x\/y: give a PostgreSQL URL/);
    expect((await run(["inspect", "--source", "postgres://u:pw@h/db"])).err).toMatch(/--source needs what to read: --query "SELECT …" or --table NAME/);
    expect((await run(["inspect", "--table", "t"])).err).toMatch(/--table reads from a database: add --source/);
    const both = await run(["cluster", "file.csv", "--source", "postgres://u:pw@h/db", "--table", "t"]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give either a data file or --source, not both/);
    expect(both.err).not.toContain(":pw@");
  });
});
