/**
 * segmenta sql on the command line: its help lists every option, a missing option or an
 * unknown dialect is one line and exit 2, a model this version does not write as SQL (HDBSCAN,
 * cosine distances) is refused naming the algorithm, agglomerative average linkage gives its
 * nearest-training-row query, and --out writes the query that is otherwise printed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runMain } from "./helpers/cli.js";

let dir: string;
let input: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-sql-cli-"));
  input = join(dir, "in.csv");
  const out = ["id,age,income,plan"];
  for (let i = 0; i < 60; i++) {
    const g = i % 3;
    out.push(`C${i},${[22, 45, 70][g] + (i % 5)},${[300, 900, 2000][g] + 7 * (i % 11)},${["basic", "plus", "pro"][g]}`);
  }
  writeFileSync(input, out.join("\n") + "\n");
  for (const [name, args] of [["km", []], ["hdb", ["--algorithm", "hdbscan"]], ["cos", ["--algorithm", "dbscan", "--eps", "0.5", "--metric", "cosine"]], ["avg", ["--algorithm", "agglomerative", "--linkage", "average"]]] as const) {
    const k = name === "hdb" || name === "cos" ? [] : ["--k", "3"];
    const r = await runMain(["cluster", input, ...k, "--seed", "1", "--model", join(dir, `${name}.json`), "--out", join(dir, `${name}.csv`), ...args]);
    expect(r.status, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("segmenta sql", () => {
  it("lists every option in its help", async () => {
    const r = await runMain(["sql", "--help"]);
    expect(r.status).toBe(0);
    for (const o of ["--model", "--dialect", "--table", "--id", "--out", "--train", "--source", "--features", "--k", "--batch-size", "--iterations", "--seed", "--json", "--debug"]) {
      expect(r.stdout, o).toContain(o);
    }
  });

  it("refuses missing options and an unknown dialect with one line", async () => {
    const m = join(dir, "km.json");
    for (const [args, needle] of [
      [["--dialect", "duckdb", "--table", "t"], "--model"],
      [["--model", m, "--dialect", "duckdb"], "--table"],
      [["--model", m, "--table", "t"], "--dialect"],
      [["--model", m, "--table", "t", "--dialect", "mysql"], "--dialect mysql: give one of duckdb, postgres, bigquery, snowflake, spark"],
      [["--model", m, "--table", "t", "--dialect", "duckdb", "--k", "3"], "--k is for training in the database"],
      [["--train", "--table", "t", "--features", "a", "--model", m], "--source postgres://"],
    ] as const) {
      const r = await runMain(["sql", ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(lines(r.stderr), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(needle);
    }
  });

  it("refuses the models it cannot write (HDBSCAN, cosine distances) naming the algorithm; writes the nearest-training-row rule", async () => {
    const hdb = await runMain(["sql", "--model", join(dir, "hdb.json"), "--dialect", "postgres", "--table", "t"]);
    expect(hdb.status).toBe(2);
    expect(lines(hdb.stderr)).toHaveLength(1);
    expect(hdb.stderr).toContain("HDBSCAN");
    const cos = await runMain(["sql", "--model", join(dir, "cos.json"), "--dialect", "postgres", "--table", "t"]);
    expect(cos.status).toBe(2);
    expect(cos.stderr).toContain("DBSCAN with the cosine metric");
    const avg = await runMain(["sql", "--model", join(dir, "avg.json"), "--dialect", "bigquery", "--table", "t"]);
    expect(avg.status, avg.stderr).toBe(0);
    expect(avg.stdout).toContain("CROSS JOIN UNNEST([");
    expect(avg.stdout).toContain("ROW_NUMBER() OVER (PARTITION BY sg_row ORDER BY sg_dist, sg_i)");
  });

  it("prints the query, or writes it with --out", async () => {
    const m = join(dir, "km.json");
    const printed = await runMain(["sql", "--model", m, "--dialect", "postgres", "--table", "public.customers"]);
    expect(printed.status, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^SELECT\n {2}sg_id AS "id",\n {2}sg_label AS "segment",/);
    expect(printed.stdout).toContain(`FROM "public"."customers" AS t OFFSET 0`);
    const out = join(dir, "q.sql");
    const written = await runMain(["sql", "--model", m, "--dialect", "postgres", "--table", "public.customers", "--out", out, "--json"]);
    expect(written.status, written.stderr).toBe(0);
    expect(JSON.parse(written.stdout)).toMatchObject({ dialect: "postgres", table: "public.customers", id: "id", segments: 3, outputs: { out } });
    expect(readFileSync(out, "utf8")).toBe(`${printed.stdout.trimEnd()}\n`);
  });
});
