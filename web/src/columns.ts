import type { ColumnInfo } from "./api";

/** Whether a column is clustered on by default, and why: what the CLI decides and says. */
export interface ColumnChoice {
  feature: boolean;
  profile: boolean;
  reason: string;
}

export const KINDS = ["numeric", "categorical", "boolean", "datetime", "id"] as const;

export function defaultChoice(c: ColumnInfo, kind: string, maxCategories = 50): ColumnChoice {
  if (kind === "id") return { feature: false, profile: false, reason: "an id: it names the customers, it is not compared" };
  if (kind === "datetime") return { feature: false, profile: false, reason: "a date: left out unless preprocessing.dates is \"days-since\"" };
  if (c.outcome) {
    return { feature: false, profile: true, reason: "looks like an outcome (what happened to the customer): described in each segment without being clustered on" };
  }
  if (kind === "categorical" && (c.distinct ?? 0) > maxCategories) {
    return { feature: false, profile: false, reason: `${c.distinct} categories, more than maxCategories (${maxCategories})` };
  }
  if (c.codedCategory && kind === "numeric") {
    return { feature: true, profile: false, reason: "whole-number codes named like a category: if the numbers are labels, make its kind categorical" };
  }
  if ((c.distinct ?? 2) <= 1) return { feature: false, profile: false, reason: "one value only: it cannot tell customers apart" };
  return { feature: true, profile: false, reason: `${kind}${c.reason ? ` (${c.reason})` : ""}` };
}

const nf = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });

/** A column's values in a few words: the range and mean of numbers, the commonest categories. */
export function columnSummary(c: ColumnInfo): string {
  if (c.numeric) return `${nf.format(c.numeric.min)} to ${nf.format(c.numeric.max)}, mean ${nf.format(c.numeric.mean)}`;
  if (c.range) return `${c.range.min} to ${c.range.max}`;
  if (c.top?.length) return c.top.slice(0, 3).map((t) => `${t.value} (${t.count.toLocaleString("en-US")})`).join(", ") + (c.distinct && c.distinct > 3 ? ", …" : "");
  return "";
}
