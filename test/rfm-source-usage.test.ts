/**
 * segmenta rfm --source without --table (a --query, say) is refused in one line that says rfm
 * --source needs --table, not "Unknown option '--source'". No database is reached: the
 * refusal comes before any connection.
 */
import { describe, expect, it } from "vitest";
import { lines, runMain } from "./helpers/cli.js";

describe("segmenta rfm --source without --table", () => {
  const map = ["--customer", "customer", "--date", "date", "--amount", "amount", "--out", "rfm.csv"];
  it("with --query: says that rfm takes --table, and how to turn the SELECT into one", async () => {
    const r = await runMain(["rfm", "--source", "postgres://localhost:1/none", "--query", "SELECT * FROM tx", ...map]);
    expect(r.status, r.stderr).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/rfm --source runs the RFM query in PostgreSQL over a table: give --source postgres:\/\/… --table T/);
    expect(r.stderr).toMatch(/--query is not taken by rfm: make the SELECT a view .* --table v/);
    expect(r.stderr).not.toMatch(/Unknown option/);
  });

  it("alone, or with a source that is not PostgreSQL: says to give --table", async () => {
    for (const source of ["--source=postgres://localhost:1/none", "mysql://localhost/x"]) {
      const args = source.startsWith("--") ? [source] : ["--source", source, "--table", "tx"];
      const r = await runMain(["rfm", ...args, ...map]);
      expect(r.status, r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(/give --source postgres:\/\/… --table T/);
      expect(r.stderr).not.toMatch(/--query/);
    }
  });
});
