/**
 * segmenta compare on hand-made segments files, and cluster --previous end to end: ids kept
 * through the segments file, the model, --json and predict; compare of the two runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCustomers, toCsv } from "../src/io/synthetic.js";
import { CHANGE_COLUMNS } from "../src/pipeline/changes.js";
import { csvCells, lines, runMain } from "./helpers/cli.js";

let dir: string;
const path = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-compare-"));
  // The table of test/compare.test.ts: c10 leaves, c11 arrives; monetary in the before file.
  writeFileSync(path("jan.csv"), [
    "customer_id,segment,segment_name,monetary",
    "c1,0,Champions,500", "c2,0,Champions,400", "c3,0,Champions,300", "c4,0,Champions,250.5",
    "c5,1,At Risk,90", "c6,1,At Risk,80", "c7,1,At Risk,70", "c8,2,Lost,10", "c9,2,Lost,5", "c10,0,Champions,600",
  ].join("\r\n") + "\r\n");
  writeFileSync(path("feb.csv"), [
    "customer_id,segment,segment_name",
    "c1,0,Champions", "c2,0,Champions", "c3,1,At Risk", "c4,2,Lost", "c5,1,At Risk", "c6,0,Champions", "c7,1,At Risk", "c8,2,Lost", "c9,-1,Outliers", "c11,1,At Risk",
  ].join("\n") + "\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Rows of a CSV file as records. */
function csvRecords(file: string): Record<string, string>[] {
  const [head, ...rows] = lines(readFileSync(file, "utf8"));
  const cols = csvCells(head);
  return rows.map((r) => Object.fromEntries(csvCells(r).map((v, i) => [cols[i], v])));
}

describe("segmenta compare", () => {
  it("prints the matrix with names, the flows with the value at stake, ARI/NMI and the summary; writes the movers", async () => {
    const r = await runMain(["compare", path("jan.csv"), path("feb.csv"), "--movers", path("movers.csv"), "--date", "2011-02-01"]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain("customers in both: 9; only before (gone): 1; only after (new): 1");
    expect(out).toMatch(/before \\ after\s+-1 Outliers\s+0 Champions\s+1 At Risk\s+2 Lost\s+total/);
    expect(out).toMatch(/0 Champions\s+0\s+2\s+1\s+1\s+4/);
    expect(out).toMatch(/1 At Risk\s+0\s+1\s+2\s+0\s+3/);
    expect(out).toMatch(/2 Lost\s+1\s+0\s+0\s+1\s+2/);
    expect(out).toMatch(/0 Champions\s+1 At Risk\s+1\s+25\.0%\s+300/);
    expect(out).toContain("The largest flows: 1 Champions (25 %) became At Risk (value 300)");
    const movers = csvRecords(path("movers.csv"));
    expect(Object.keys(movers[0])).toEqual([...CHANGE_COLUMNS]);
    expect(movers.map((m) => [m.id, m.date, m.from_segment, m.from_name, m.to_segment, m.to_name])).toEqual([
      ["c3", "2011-02-01", "0", "Champions", "1", "At Risk"],
      ["c4", "2011-02-01", "0", "Champions", "2", "Lost"],
      ["c6", "2011-02-01", "1", "At Risk", "0", "Champions"],
      ["c9", "2011-02-01", "2", "Lost", "-1", "Outliers"],
      ["c11", "2011-02-01", "", "", "1", "At Risk"],
      ["c10", "2011-02-01", "0", "Champions", "", ""],
    ]);
    // The values, as numbers.
    expect(movers.map((m) => (m.value === "" ? null : Number(m.value)))).toEqual([300, 250.5, 80, 5, null, 600]);
  });

  it("--json: one document with the matrix counted by hand", async () => {
    const r = await runMain(["compare", path("jan.csv"), path("feb.csv"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.matrix.counts).toEqual([[0, 2, 1, 1], [0, 1, 2, 0], [1, 0, 0, 1]]);
    expect([j.common, j.onlyBefore, j.onlyAfter, j.stayed, j.moved]).toEqual([9, 1, 1, 5, 4]);
    expect(j.value).toBe("monetary");
    expect(j.movers).toBeNull();
    expect(j.before.idColumn).toBe("customer_id");
  });

  it("warns on stderr and in --json when a number carries two names, and writes those customers as movers", async () => {
    // feb renumbered: its segment 1 is named "Lost" and 2 "At Risk" (an unrelated run), 0 is still Champions.
    writeFileSync(path("feb-other.csv"), [
      "customer_id,segment,segment_name",
      "c1,0,Champions", "c2,0,Champions", "c3,0,Champions", "c4,0,Champions", "c5,2,At Risk", "c6,2,At Risk", "c7,2,At Risk", "c8,1,Lost", "c9,1,Lost", "c10,0,Champions",
    ].join("\n") + "\n");
    const r = await runMain(["compare", path("jan.csv"), path("feb-other.csv"), "--movers", path("movers-other.csv")]);
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^warning: the segment ids of the two are not stable: 1 is "At Risk" in .*jan\.csv and "Lost" in .*feb-other\.csv; 2 is "Lost" .* "At Risk" .*cluster --previous/);
    expect(r.stdout).toContain("5 (50 %) kept their segment and 5 moved");
    const movers = csvRecords(path("movers-other.csv"));
    expect(movers.map((m) => m.id)).toEqual(["c5", "c6", "c7", "c8", "c9"]);
    expect(movers[0]).toMatchObject({ from_segment: "1", from_name: "At Risk", to_segment: "2", to_name: "At Risk" });
    const j = await runMain(["compare", path("jan.csv"), path("feb-other.csv"), "--json"]);
    const doc = JSON.parse(j.stdout);
    expect(doc.warnings).toHaveLength(1);
    expect([doc.stayed, doc.moved]).toEqual([5, 5]);
    // Files whose numbers and names agree: no warning.
    const ok = await runMain(["compare", path("jan.csv"), path("feb.csv"), "--json"]);
    expect(JSON.parse(ok.stdout).warnings).toEqual([]);
    expect(ok.stderr).toBe("");
  });

  it("--value COL --values FILE: the value at stake from a table of its own (the rfm.csv of a transaction-log run)", async () => {
    // feb.csv has no monetary column, jan.csv's is ignored: the values come from the table, ids in another order, one extra.
    writeFileSync(path("values.csv"), ["customer_id,recency_days,monetary", "c4,3,40", "c3,9,30.5", "c6,1,60", "c9,20,9", "c99,5,1", "c11,2,110"].join("\n") + "\n");
    const r = await runMain(["compare", path("jan.csv"), path("feb.csv"), "--value", "monetary", "--values", path("values.csv"), "--movers", path("movers-v.csv"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.value).toBe("monetary");
    expect(j.valueFile).toBe(path("values.csv"));
    // Flows: Champions→At Risk c3 (30.5), Champions→Lost c4 (40), At Risk→Champions c6 (60), Lost→Outliers c9 (9).
    expect(j.flows.map((f: { from: number; to: number; value: number | null }) => [f.from, f.to, f.value])).toEqual([[0, 1, 30.5], [0, 2, 40], [1, 0, 60], [2, -1, 9]]);
    const movers = csvRecords(path("movers-v.csv"));
    expect(movers.map((m) => [m.id, m.value === "" ? null : Number(m.value)])).toEqual([["c3", 30.5], ["c4", 40], ["c6", 60], ["c9", 9], ["c11", 110], ["c10", null]]);
    // Refusals: --values without --value, the value column or the id column missing, a text column, an id twice.
    writeFileSync(path("values-bad.csv"), "customer_id,monetary,tier\nc1,5,gold\nc2,6,silver\nc1,7,gold\n");
    writeFileSync(path("values-noid.csv"), "cust,monetary\nc1,5\n");
    const cases: [string[], RegExp][] = [
      [["--values", path("values.csv")], /--values .*values\.csv: name the column of it .* with --value COL/],
      [["--value", "spend", "--values", path("values.csv")], /--value spend: --values .*values\.csv has no such column \(its columns: customer_id, recency_days, monetary\)/],
      [["--value", "monetary", "--values", path("values-noid.csv")], /--values .*values-noid\.csv has no column "customer_id" \(the id column of the segments files\)/],
      [["--value", "tier", "--values", path("values-bad.csv")], /id "c1" appears twice \(row 3\)/],
      [["--value", "monetary", "--values", path("nowhere.csv")], /nowhere\.csv/],
    ];
    for (const [args, message] of cases) {
      const x = await runMain(["compare", path("jan.csv"), path("feb.csv"), ...args]);
      expect(x.status, `${args.join(" ")}: ${x.stderr}`).toBe(2);
      expect(lines(x.stderr)).toHaveLength(1);
      expect(x.stderr).toMatch(message);
    }
    writeFileSync(path("values-text.csv"), "customer_id,tier\nc1,gold\nc2,silver\n");
    const t = await runMain(["compare", path("jan.csv"), path("feb.csv"), "--value", "tier", "--values", path("values-text.csv")]);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--value tier: --values .*values-text\.csv has no number in that column/);
  });

  it("refuses, in one line naming the file and column: no common ids, an id twice, a missing id column, a missing value column", async () => {
    writeFileSync(path("other.csv"), "customer_id,segment,segment_name\nz1,0,A\nz2,1,B\n");
    writeFileSync(path("dup.csv"), "customer_id,segment,segment_name\nc1,0,A\nc2,1,B\nc1,1,B\n");
    const cases: [string[], RegExp][] = [
      [[path("jan.csv"), path("other.csv")], /jan\.csv and .*other\.csv have no customer in common/],
      [[path("jan.csv"), path("dup.csv")], /dup\.csv: id "c1" appears twice \(line 2 and line 4\)/],
      [[path("jan.csv"), path("feb.csv"), "--id", "cust"], /--id cust: .*jan\.csv has no such column/],
      [[path("jan.csv"), path("feb.csv"), "--value", "spend"], /--value spend: neither .*jan\.csv nor .*feb\.csv has such a column/],
      [[path("jan.csv")], /give two segments files/],
      [[path("jan.csv"), path("feb.csv"), "--movers", path("jan.csv")], /jan\.csv/],
    ];
    for (const [args, message] of cases) {
      const r = await runMain(["compare", ...args]);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
  });
});

describe("segmenta compare on broken inputs", () => {
  it("refuses each in one line naming the file, and leaves an earlier movers file as it was", async () => {
    const files: Record<string, string> = {
      "empty.csv": "",
      "header-only.csv": "customer_id,segment,segment_name\n",
      "text-segment.csv": "customer_id,segment,segment_name\nc1,x,A\n",
      "fraction.csv": "customer_id,segment,segment_name\nc1,1.5,A\n",
      "no-segment.csv": "a,b\n1,2\n",
      "blank-id.csv": "customer_id,segment,segment_name\n,0,A\n",
    };
    writeFileSync(path("earlier-movers.csv"), "earlier movers");
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(path(name), text);
      for (const args of [[path(name), path("feb.csv")], [path("jan.csv"), path(name)]]) {
        const r = await runMain(["compare", ...args, "--movers", path("earlier-movers.csv")]);
        expect(r.status, `${name}: ${r.stderr}`).toBe(2);
        expect(lines(r.stderr)).toHaveLength(1);
        expect(r.stderr).toContain(name);
        expect(r.stderr).not.toMatch(/internal error/);
      }
    }
    expect(readFileSync(path("earlier-movers.csv"), "utf8")).toBe("earlier movers");
  });
});

describe("cluster --previous", () => {
  const table = generateCustomers({ customers: 1200, seed: 11 });
  const flags = ["--id", "customer_id", "--features", "age,tenure_months,monthly_spend,support_calls,plan", "--k", "4", "--seed", "1"];
  const segmentsOf = (file: string) => new Map(csvRecords(file).map((r) => [r.customer_id, [r.segment, r.segment_name].join(" ")]));

  beforeAll(async () => {
    writeFileSync(path("customers.csv"), [...toCsv(table)].join(""));
    // The same customers, rows reversed.
    writeFileSync(path("reversed.csv"), [...toCsv({ columns: table.columns, rows: [...table.rows].reverse() })].join(""));
    const r = await runMain(["cluster", path("customers.csv"), ...flags, "--out", path("s0.csv"), "--model", path("m0.json")]);
    expect(r.status, r.stderr).toBe(0);
  });

  it("keeps every customer's id and name on reversed rows, by centres (model) and by customers (segments file); says which decided", async () => {
    for (const [previous, by] of [[["--previous", path("m0.json")], "centres"], [["--previous", path("s0.csv")], "customers"], [["--previous", path("m0.json"), "--previous", path("s0.csv")], "centres"]] as const) {
      const r = await runMain(["cluster", path("reversed.csv"), ...flags, "--seed", "7", ...previous, "--out", path("s1.csv"), "--model", path("m1.json"), "--json"]);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.stable.matchedBy).toBe(by);
      expect(j.stable.new).toEqual([]);
      expect(j.stable.vanished).toEqual([]);
      expect(j.stable.matches.map((m: { previous: number }) => m.previous).sort()).toEqual([0, 1, 2, 3]);
      // The Jaccard of each match's customers: what decided with the segments file alone, reported beside the distance with both.
      if (previous.length === 4 || by === "customers") expect(j.stable.matches.map((m: { jaccard: number }) => m.jaccard)).toEqual([1, 1, 1, 1]);
      expect(segmentsOf(path("s1.csv"))).toEqual(segmentsOf(path("s0.csv")));
      const model = JSON.parse(readFileSync(path("m1.json"), "utf8"));
      if (by === "centres") expect(model.lineage.previous.checksum).toBe(JSON.parse(readFileSync(path("m0.json"), "utf8")).checksum);
      expect(model.lineage.matchedBy).toBe(by);
    }
    const human = await runMain(["cluster", path("reversed.csv"), ...flags, "--previous", path("m0.json")]);
    expect(human.stdout).toMatch(/segment ids from .*m0\.json: matched by segment centres/);
    // compare of the two runs: nobody moved.
    const c = await runMain(["compare", path("s0.csv"), path("s1.csv"), "--json"]);
    expect(JSON.parse(c.stdout)).toMatchObject({ moved: 0, adjustedRand: 1, nmi: 1 });
  });

  it("a vanished segment leaves a gap: the new one gets the next id in the segments file, the model and predict", async () => {
    const s0 = csvRecords(path("s0.csv"));
    const gone = new Set(s0.filter((r) => r.segment === "1").map((r) => r.customer_id));
    const idCol = table.columns.indexOf("customer_id");
    writeFileSync(path("fewer.csv"), [...toCsv({ columns: table.columns, rows: table.rows.filter((row) => !gone.has(String(row[idCol]))) })].join(""));
    const r = await runMain(["cluster", path("fewer.csv"), ...flags, "--previous", path("m0.json"), "--previous", path("s0.csv"), "--out", path("s2.csv"), "--model", path("m2.json"), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.stable.vanished.map((v: { id: number }) => v.id)).toEqual([1]);
    expect(j.stable.new.map((v: { id: number }) => v.id)).toEqual([4]);
    expect(j.stable.segmentIds).toEqual([0, 2, 3, 4]);
    expect(j.segments.map((s: { segment: number }) => s.segment)).toEqual([0, 2, 3, 4]);
    const written = new Set(csvRecords(path("s2.csv")).map((x) => x.segment));
    expect([...written].sort()).toEqual(["0", "2", "3", "4"]);
    // Predict with the new model gives every row the id the run gave it.
    const p = await runMain(["predict", "--model", path("m2.json"), path("fewer.csv"), "--out", path("p2.csv")]);
    expect(p.status, p.stderr).toBe(0);
    expect(segmentsOf(path("p2.csv"))).toEqual(segmentsOf(path("s2.csv")));
    expect(p.stdout).toMatch(/^\s+4\s+\S/m);
    // Predict streamed over a small memory budget writes the same ids (a table of 3,000 customers is over 1 MB).
    writeFileSync(path("more.csv"), [...toCsv(generateCustomers({ customers: 3000, seed: 5 }))].join(""));
    const inMemory = await runMain(["predict", "--model", path("m2.json"), path("more.csv"), "--out", path("p3.csv"), "--memory", "1GB"]);
    expect(inMemory.status, inMemory.stderr).toBe(0);
    const streamed = await runMain(["predict", "--model", path("m2.json"), path("more.csv"), "--out", path("p4.csv"), "--memory", "1MB"]);
    expect(streamed.status, streamed.stderr).toBe(0);
    expect(streamed.stderr).toMatch(/streamed/);
    expect(segmentsOf(path("p4.csv"))).toEqual(segmentsOf(path("p3.csv")));
    expect(new Set([...segmentsOf(path("p4.csv")).values()].map((v) => v.split(" ")[0]))).toEqual(new Set(["0", "2", "3", "4"]));
    expect(streamed.stdout).toMatch(/^\s+4\s+\S/m);
    // Clustering streamed does not match segments yet: refused with the way out.
    const big = await runMain(["cluster", path("more.csv"), ...flags, "--previous", path("m0.json"), "--memory", "1MB"]);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/--previous: .*more\.csv is over the memory budget .* raise --memory/);
    // A Gaussian mixture's report with a gap in the ids (its certainty cards index segments by position).
    const g = await runMain(["cluster", path("fewer.csv"), ...flags, "--algorithm", "gmm", "--previous", path("m0.json"), "--report", path("gmm.html"), "--map", "pca", "--json"]);
    expect(g.status, g.stderr).toBe(0);
    const ids: number[] = JSON.parse(g.stdout).stable.segmentIds;
    expect(ids.some((id, i) => id !== i)).toBe(true);
    const html = readFileSync(path("gmm.html"), "utf8");
    expect(html).toContain("Mean probability of this segment over its customers");
  });

  it("refuses --previous as an output, or with no way to match", async () => {
    const same = await runMain(["cluster", path("customers.csv"), ...flags, "--previous", path("m0.json"), "--model", path("m0.json")]);
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/m0\.json/);
    writeFileSync(path("strangers.csv"), "customer_id,segment,segment_name\nx1,0,A\nx2,1,B\n");
    const none = await runMain(["cluster", path("customers.csv"), ...flags, "--previous", path("strangers.csv")]);
    expect(none.status).toBe(2);
    expect(lines(none.stderr).at(-1)).toMatch(/--previous .*strangers\.csv: it gives no segment centres and only 0 % of this run's customers are in it .* pass the previous model file/);
  });
});
