import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compareAssignments } from "../src/pipeline/compare.js";
import { CHANGE_COLUMNS, changesFromRecords, changesToRows, segmentChanges } from "../src/pipeline/changes.js";

const m = (id: string, segment: number, name: string) => ({ id, segment, name });

describe("segmentChanges (the changes format)", () => {
  const before = [m("a", 0, "Champions"), m("b", 1, "At Risk"), m("c", 0, "Champions"), m("d", -1, "Outliers"), m("e", 1, "At Risk")];
  const after = [m("c", 1, "At Risk"), m("a", 0, "Champions"), m("f", 2, "New"), m("d", 0, "Champions"), m("b", 1, "At Risk")];

  it("lists movers in the order of after, then the departed, with new customers from null", () => {
    const ch = segmentChanges(before, after, "2024-03-01");
    expect(ch.map((c) => c.id)).toEqual(["c", "f", "d", "e"]);
    expect(ch[0]).toEqual({ id: "c", date: "2024-03-01", from: 0, fromName: "Champions", to: 1, toName: "At Risk" });
    expect(ch[1]).toEqual({ id: "f", date: "2024-03-01", from: null, fromName: null, to: 2, toName: "New" });
    expect(ch[2]).toMatchObject({ id: "d", from: -1, to: 0 });
    expect(ch[3]).toEqual({ id: "e", date: "2024-03-01", from: 1, fromName: "At Risk", to: null, toName: null });
    expect("value" in ch[0]).toBe(false);
  });

  it("carries the value at stake when values are given, null when unknown", () => {
    const ch = segmentChanges(before, after, null, new Map([["c", 120.5], ["e", 7]]));
    expect(ch.map((c) => c.value)).toEqual([120.5, null, null, 7]);
    expect(ch.every((c) => c.date === null)).toBe(true);
  });

  it("writes rows in CHANGE_COLUMNS order and reads them back", () => {
    const ch = segmentChanges(before, after, "2024-03-01", new Map([["c", 3]]));
    const rows = changesToRows(ch);
    expect(rows[0]).toEqual(["c", "2024-03-01", 0, "Champions", 1, "At Risk", 3]);
    expect(rows[3]).toEqual(["e", "2024-03-01", 1, "At Risk", null, null, null]);
    // As a CSV reader returns them: text, blanks as "".
    const records = rows.map((r) => Object.fromEntries(CHANGE_COLUMNS.map((k, i) => [k, r[i] === null ? "" : String(r[i])])));
    expect(changesFromRecords(records)).toEqual(ch);
  });

  it("refuses an id twice on one side, naming the side", () => {
    expect(() => segmentChanges([m("a", 0, "x"), m("a", 1, "y")], [], null, undefined, { before: "old.csv", after: "new.csv" })).toThrow(/old\.csv: id "a" appears twice/);
    expect(() => changesFromRecords([{ id: "a", from_segment: "1.5" }], "events.csv")).toThrow(/events\.csv, row 1: from_segment "1\.5"/);
  });
});

const reference = JSON.parse(readFileSync(new URL("./fixtures/compare.json", import.meta.url), "utf8")) as Record<string, { before: number[]; after: number[]; adjusted_rand: number; nmi: number }>;

describe("compareAssignments", () => {
  const names: Record<number, string> = { [-1]: "Outliers", 0: "Champions", 1: "At Risk", 2: "Lost" };
  const side = (pairs: [string, number][]) => pairs.map(([id, s]) => m(id, s, names[s]));
  // c10 leaves, c11 arrives; c1..c9 are in both.
  const before = side([["c1", 0], ["c2", 0], ["c3", 0], ["c4", 0], ["c5", 1], ["c6", 1], ["c7", 1], ["c8", 2], ["c9", 2], ["c10", 0]]);
  const after = side([["c1", 0], ["c2", 0], ["c3", 1], ["c4", 2], ["c5", 1], ["c6", 0], ["c7", 1], ["c8", 2], ["c9", -1], ["c11", 1]]);

  it("gives the migration matrix counted by hand", () => {
    const c = compareAssignments(before, after);
    expect(c.matrix.rows).toEqual([0, 1, 2]);
    expect(c.matrix.cols).toEqual([-1, 0, 1, 2]);
    expect(c.matrix.rowNames).toEqual(["Champions", "At Risk", "Lost"]);
    expect(c.matrix.colNames).toEqual(["Outliers", "Champions", "At Risk", "Lost"]);
    // Champions c1..c4: c1, c2 stay, c3 → At Risk, c4 → Lost. At Risk c5..c7: c6 → Champions. Lost c8, c9: c9 → Outliers.
    expect(c.matrix.counts).toEqual([[0, 2, 1, 1], [0, 1, 2, 0], [1, 0, 0, 1]]);
    expect(c.matrix.shares).toEqual([[0, 0.5, 0.25, 0.25], [0, 1 / 3, 2 / 3, 0], [0.5, 0, 0, 0.5]]);
    expect([c.common, c.onlyBefore, c.onlyAfter, c.stayed, c.moved]).toEqual([9, 1, 1, 5, 4]);
    expect(c.flows.map((f) => [f.from, f.to, f.count])).toEqual([[0, 1, 1], [0, 2, 1], [1, 0, 1], [2, -1, 1]]);
    expect(c.flows[0]).toEqual({ from: 0, fromName: "Champions", to: 1, toName: "At Risk", count: 1, share: 0.25 });
    expect(c.before.segments).toEqual([{ segment: 0, name: "Champions", size: 5 }, { segment: 1, name: "At Risk", size: 3 }, { segment: 2, name: "Lost", size: 2 }]);
    // Movers c3, c4, c6, c9, the new c11, the gone c10.
    expect(c.changes.map((x) => [x.id, x.from, x.to])).toEqual([["c3", 0, 1], ["c4", 0, 2], ["c6", 1, 0], ["c9", 2, -1], ["c11", null, 1], ["c10", 0, null]]);
    expect(c.summary).toBe(
      "Of 9 customers in both, 5 (56 %) kept their segment and 4 moved. The largest flows: 1 Champions (25 %) became At Risk; 1 Champions (25 %) became Lost; 1 At Risk (33 %) became Champions. " +
        `1 customer is new and 1 is gone. Agreement of the two segmentations: adjusted Rand ${reference.hand.adjusted_rand.toFixed(3)}, NMI ${reference.hand.nmi.toFixed(3)} (1 is identical).`,
    );
  });

  it("ARI and NMI equal scikit-learn's on the common customers", () => {
    const c = compareAssignments(before, after);
    expect(c.adjustedRand).toBeCloseTo(reference.hand.adjusted_rand, 12);
    expect(c.nmi).toBeCloseTo(reference.hand.nmi, 12);
    const r = reference.random;
    const big = compareAssignments(r.before.map((s, i) => m(`x${i}`, s, `S${s}`)), r.after.map((s, i) => m(`x${i}`, s, `S${s}`)));
    expect(big.adjustedRand).toBeCloseTo(r.adjusted_rand, 12);
    expect(big.nmi).toBeCloseTo(r.nmi, 12);
  });

  it("sums the value at stake per flow and names it in the summary", () => {
    const value = new Map([["c3", 100], ["c4", 50.5], ["c6", 20]]);
    const c = compareAssignments(before, after, { value, summaryFlows: 1 });
    expect(c.flows.map((f) => f.value)).toEqual([100, 50.5, 20, null]);
    expect(c.changes.find((x) => x.id === "c4")!.value).toBe(50.5);
    expect(c.summary).toContain("The largest flows: 1 Champions (25 %) became At Risk (value 100).");
  });

  it("takes a segment as the same only when number and name agree: unrelated runs' equal numbers are movers, with a warning", () => {
    // Two unrelated runs: number 0 is "Close to average" before and "Low age" after; 1 is "Loyal" on both sides.
    const x = [m("a", 0, "Close to average"), m("b", 0, "Close to average"), m("c", 1, "Loyal"), m("d", 1, "Loyal")];
    const y = [m("a", 0, "Low age"), m("b", 1, "Loyal"), m("c", 1, "Loyal"), m("d", 0, "Low age")];
    const c = compareAssignments(x, y, { labels: { before: "dbscan.csv", after: "kmeans.csv" } });
    // Only c stayed (1 Loyal → 1 Loyal); a went 0 "Close to average" → 0 "Low age".
    expect([c.stayed, c.moved]).toEqual([1, 3]);
    expect(c.flows.map((f) => [f.fromName, f.toName, f.count])).toEqual([
      ["Close to average", "Low age", 1], ["Close to average", "Loyal", 1], ["Loyal", "Low age", 1],
    ]);
    expect(c.changes.map((ch) => ch.id)).toEqual(["a", "b", "d"]);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/not stable: 0 is "Close to average" in dbscan\.csv and "Low age" in kmeans\.csv; .*cluster --previous/);
    expect(c.summary).toContain("1 (25 %) kept their segment and 3 moved");
    // The same names: no warning, the numbers decide as before.
    expect(compareAssignments(before, after).warnings).toEqual([]);
  });

  it("refuses two assignments with no customer in common, naming both", () => {
    expect(() => compareAssignments([m("a", 0, "x")], [m("b", 0, "x")], { labels: { before: "jan.csv", after: "feb.csv" } }))
      .toThrow(/jan\.csv and feb\.csv have no customer in common \(1 and 1 ids, none shared\)/);
    expect(() => compareAssignments([m("a", 0, "x")], [m("a", 0, "x"), m("a", 1, "y")], { labels: { before: "jan.csv", after: "feb.csv" } }))
      .toThrow(/feb\.csv: id "a" appears twice/);
  });
});
