import { describe, expect, it } from "vitest";
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
