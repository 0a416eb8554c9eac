/**
 * segmenta track --source postgres://… (--table T | --query Q): the log read from a real
 * PostgreSQL (test/helpers/postgres.ts; skipped with a message where none can start) gives
 * the same sizes, flows and events as the same log read from its CSV file.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTransactions, toCsv } from "../src/io/synthetic.js";
import { lines, runMain } from "./helpers/cli.js";
import { startPostgres, type TestPostgres } from "./helpers/postgres.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-track-pg-"));
const log = join(dir, "log.csv");
const MAP = ["--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice", "--invoice", "InvoiceNo"];
const TRACK = ["--every", "quarter", "--refit", "--k", "3", "--seed", "2", ...MAP];
let pg: TestPostgres | null = null;
let url = "";

beforeAll(async () => {
  writeFileSync(log, [...toCsv(generateTransactions({ customers: 250, seed: 4, start: "2023-01-01", end: "2024-03-31" }))].join(""));
  chmodSync(dir, 0o755);
  chmodSync(log, 0o644);
  pg = await startPostgres();
  if (!pg) {
    console.warn("track-source-pg: no PostgreSQL could be started here; the database tests are skipped");
    return;
  }
  url = await pg.newDatabase("tracksrc");
  const { default: pgLib } = await import("pg");
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE TABLE tx ("InvoiceNo" text, "StockCode" text, "Description" text, "Quantity" bigint, "InvoiceDate" timestamp, "UnitPrice" double precision, "CustomerID" text, "Country" text)`);
  await c.query(`COPY tx FROM '${log}' WITH (FORMAT csv, HEADER true)`);
  await c.end();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("segmenta track --source", () => {
  it("--table and --query give the sizes, flows and events of the CSV file", async (ctx) => {
    if (!pg) return ctx.skip();
    const outs = (tag: string) => ["--out", join(dir, `${tag}-sizes.csv`), "--flows", join(dir, `${tag}-flows.csv`), "--events", join(dir, `${tag}-events.csv`)];
    const fromFile = await runMain(["track", log, ...TRACK, ...outs("file"), "--json"]);
    expect(fromFile.status, fromFile.stderr).toBe(0);
    const runs = [
      ["table", ["--source", url, "--table", "tx"]],
      ["query", ["--source", url, "--query", `SELECT * FROM tx WHERE "Quantity" IS NOT NULL`]],
    ] as const;
    for (const [tag, args] of runs) {
      const r = await runMain(["track", ...args, ...TRACK, ...outs(tag), "--json"]);
      expect(r.status, r.stderr).toBe(0);
      const [a, b] = [JSON.parse(fromFile.stdout), JSON.parse(r.stdout)];
      expect(b.snapshots.length).toBeGreaterThan(3);
      expect(b.snapshots).toEqual(a.snapshots);
      expect(b.flows).toEqual(a.flows);
      expect([b.customers, b.log, b.changes]).toEqual([a.customers, a.log, a.changes]);
      for (const f of ["sizes", "flows", "events"]) {
        expect(readFileSync(join(dir, `${tag}-${f}.csv`), "utf8"), `${tag} ${f}`).toBe(readFileSync(join(dir, `file-${f}.csv`), "utf8"));
      }
      expect(readFileSync(join(dir, `${tag}-events.csv`), "utf8").split("\n").length).toBeGreaterThan(10);
    }
  }, 300_000);

  it("refuses a file with --source, and --source without --table or --query, in one line", async () => {
    for (const [args, message] of [
      [[log, "--source", "postgres://localhost:1/x", "--table", "tx"], /give either a data file or --source, not both/],
      [["--source", "postgres://localhost:1/x"], /--source needs what to read: --query "SELECT …" or --table NAME/],
      [["--table", "tx"], /--table reads from a database: add --source/],
    ] as const) {
      const r = await runMain(["track", ...args, ...TRACK]);
      expect(r.status, r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
