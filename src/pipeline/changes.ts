/**
 * The one format of segment changes: who moved from which segment to which, and when. The
 * movers file of `segmenta compare`, the events file of `segmenta track`, the change batches a
 * webhook export sends and the history a database export keeps all use it, so that a flow
 * built on one reads the others.
 *
 * A change is one customer's move between two assignments ("before" and "after": two runs, or
 * two dates of a history):
 * - `from` and `to` are segment numbers (−1 for outliers), `fromName` and `toName` their names;
 * - `from: null` is a customer who is new in `after`, `to: null` one who is gone from it;
 * - `date` is the date of the `after` assignment (ISO `YYYY-MM-DD`, or null when unknown);
 * - `value`, when given, is what is at stake (a monetary value, for instance), null when unknown.
 *
 * As a file (CSV, Parquet, JSON) the columns are `CHANGE_COLUMNS`, in that order, one row per
 * change, empty cells for nulls. Customers whose segment number is the same on both sides are
 * not changes (a renamed segment is not a move), unless `byName` says that a number means the
 * same segment only under the same name (two unrelated runs, see pipeline/compare.ts).
 *
 * Isomorphic: no Node built-ins.
 */
import { InputError } from "../core/errors.js";

/** One customer's change of segment between two dates or runs. `from` null: a new customer; `to` null: a customer gone. */
export interface SegmentChange {
  id: string;
  date: string | null;
  from: number | null;
  fromName: string | null;
  to: number | null;
  toName: string | null;
  /** What is at stake (for example the customer's monetary value); absent when no values were given. */
  value?: number | null;
}

/** One customer's segment, as a segments file or a published run holds it. */
export interface SegmentMember {
  id: string;
  segment: number;
  name: string;
}

/** The columns of a changes file, in order. */
export const CHANGE_COLUMNS = ["id", "date", "from_segment", "from_name", "to_segment", "to_name", "value"] as const;

/** A cell of a changes file. */
export type ChangeCell = string | number | null;

/**
 * The changes between two assignments: one per customer whose segment number differs, in the
 * order of `after`, then one per customer present only in `before` (gone), in the order of
 * `before`. Customers only in `after` are new (`from` null). With `value`, each change carries
 * `value.get(id)` (null when the map has none); without it, changes have no `value` field.
 * An id that appears twice on one side is refused (`labels` name the sides in the message).
 * With `byName`, a customer whose segment number is the same but whose segment name differs
 * is a change too.
 */
export function segmentChanges(
  before: readonly SegmentMember[],
  after: readonly SegmentMember[],
  date: string | null = null,
  value?: ReadonlyMap<string, number>,
  labels: { before: string; after: string } = { before: "before", after: "after" },
  byName = false,
): SegmentChange[] {
  const prev = indexById(before, labels.before);
  const seen = indexById(after, labels.after);
  const out: SegmentChange[] = [];
  const push = (id: string, b: SegmentMember | undefined, a: SegmentMember | undefined) => {
    const c: SegmentChange = {
      id,
      date,
      from: b ? b.segment : null,
      fromName: b ? b.name : null,
      to: a ? a.segment : null,
      toName: a ? a.name : null,
    };
    if (value) {
      const v = value.get(id);
      c.value = v === undefined || !Number.isFinite(v) ? null : v;
    }
    out.push(c);
  };
  for (const a of after) {
    const b = prev.get(a.id);
    if (!b || b.segment !== a.segment || (byName && b.name !== a.name)) push(a.id, b, a);
  }
  for (const b of before) {
    if (!seen.has(b.id)) push(b.id, b, undefined);
  }
  return out;
}

function indexById(members: readonly SegmentMember[], label: string): Map<string, SegmentMember> {
  const map = new Map<string, SegmentMember>();
  for (const m of members) {
    if (map.has(m.id)) throw new InputError(`${label}: id ${JSON.stringify(m.id)} appears twice; one assignment per customer`);
    map.set(m.id, m);
  }
  return map;
}

/** The rows of a changes file, cells in `CHANGE_COLUMNS` order (null for an empty cell). */
export function changesToRows(changes: readonly SegmentChange[]): ChangeCell[][] {
  return changes.map((c) => [c.id, c.date, c.from, c.fromName, c.to, c.toName, c.value ?? null]);
}

/**
 * Changes back from rows of a changes file given as records keyed by `CHANGE_COLUMNS` (as a
 * CSV or JSON reader returns them: numbers may arrive as text, empty cells as "" or null).
 * `label` names the source in messages.
 */
export function changesFromRecords(records: readonly Record<string, unknown>[], label = "changes"): SegmentChange[] {
  return records.map((r, i) => {
    const text = (k: string): string | null => {
      const v = r[k];
      if (v === null || v === undefined) return null;
      const s = String(v).trim();
      return s === "" ? null : s;
    };
    const num = (k: string, whole: boolean): number | null => {
      const s = text(k);
      if (s === null) return null;
      const n = Number(s);
      if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) {
        throw new InputError(`${label}, row ${i + 1}: ${k} ${JSON.stringify(s)} is not ${whole ? "a segment number" : "a number"}`);
      }
      return n;
    };
    const id = text("id");
    if (id === null) throw new InputError(`${label}, row ${i + 1}: the id column is empty`);
    const c: SegmentChange = {
      id,
      date: text("date"),
      from: num("from_segment", true),
      fromName: text("from_name"),
      to: num("to_segment", true),
      toName: text("to_name"),
    };
    if ("value" in r) c.value = num("value", false);
    return c;
  });
}
