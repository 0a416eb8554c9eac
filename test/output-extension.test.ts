/**
 * Data outputs named with an extension that no format is written for (.xyz, .dat) are refused
 * before any work, in one line naming the option and the formats, by every command that
 * writes one (cluster --out, compare --movers, track --out/--flows/--events, predict --out),
 * and the file is not written; a known extension and no extension are still written.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lines, runMain } from "./helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "segmenta-ext-"));
const path = (name: string) => join(dir, name);

beforeAll(() => {
  writeFileSync(path("a.csv"), "customer_id,segment,segment_name\nc1,0,A\nc2,1,B\nc3,1,B\n");
  writeFileSync(path("b.csv"), "customer_id,segment,segment_name\nc1,1,B\nc2,1,B\nc3,0,A\n");
  writeFileSync(path("t.csv"), "customer,date,amount\nc1,2024-01-03,10\nc2,2024-01-05,20\nc1,2024-02-07,5\nc3,2024-02-09,7\n");
  writeFileSync(path("people.csv"), ["id,x,y", ...Array.from({ length: 30 }, (_, i) => `p${i},${i % 7},${(i * 3) % 11}`)].join("\n") + "\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("output files with an unknown extension", () => {
  const track = (flag: string, file: string) => ["track", path("t.csv"), "--every", "month", "--refit", "--k", "2", "--customer", "customer", "--date", "date", "--amount", "amount", flag, path(file)];
  const cases: [string, string[], string][] = [
    ["--movers", ["compare", path("a.csv"), path("b.csv"), "--movers", path("m.xyz")], "m.xyz"],
    ["--out", track("--out", "bad.xyz"), "bad.xyz"],
    ["--events", track("--events", "x.xyz"), "x.xyz"],
    ["--flows", track("--flows", "f.dat.gz"), "f.dat.gz"],
    ["--out", ["cluster", path("people.csv"), "--k", "2", "--out", path("s.xyz")], "s.xyz"],
  ];
  for (const [flag, args, file] of cases) {
    it(`${args[0]} ${flag} ${file}: exit 2, one line naming the option and the formats, nothing written`, async () => {
      const r = await runMain(args);
      expect(r.status, r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(`${flag} ${path(file)}: cannot write .${file.split(".")[1]} files; use a name ending in .csv, .tsv, .txt, .parquet, .json or .ndjson`);
      expect(r.stdout).toBe("");
      expect(existsSync(path(file))).toBe(false);
    });
  }

  it("a known extension (and none) is still written", async () => {
    for (const name of ["m.csv", "m.json", "m.csv.gz", "m"]) {
      const r = await runMain(["compare", path("a.csv"), path("b.csv"), "--movers", path(name)]);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(path(name))).toBe(true);
    }
  });
});
