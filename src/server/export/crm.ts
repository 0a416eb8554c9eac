/**
 * Import files for CRM and email tools: one row per customer with an email, in the columns each
 * tool's contact import documents, the segment's name as the value (outliers under their name).
 *
 * - HubSpot (contacts import): "Email" (contacts are de-duplicated by it) and "Segment", a
 *   custom contact property to create once (single-line text) and map on the first import.
 * - Mailchimp (audience import): "Email Address" and "Tags"; a comma separates tags in that
 *   column, so a comma in a segment's name is written as " -" (one tag per customer).
 * - Klaviyo (list upload): "Email" first (Klaviyo requires the identifier in the first
 *   column), then "Segment", a custom profile property.
 * - Salesforce (Data Import Wizard, contacts or leads matched by email): "Email" and
 *   "Segment__c", the API name of a custom text field "Segment".
 *
 * Written through the project's writer: atomically, and with formula-like cells neutralised.
 */
import { InputError } from "../../core/errors.js";
import { type OutColumn, OutputBatch } from "../../io/write.js";
import type { Assignment } from "./source.js";

export const CRM_FORMATS = ["hubspot", "mailchimp", "klaviyo", "salesforce"] as const;
export type CrmFormat = (typeof CRM_FORMATS)[number];

interface Layout {
  email: string;
  segment: string;
  value: (name: string) => string;
}

const LAYOUTS: Record<CrmFormat, Layout> = {
  hubspot: { email: "Email", segment: "Segment", value: (n) => n },
  // Mailchimp tags: at most 100 characters, commas separate tags.
  mailchimp: { email: "Email Address", segment: "Tags", value: (n) => n.replace(/\s*,\s*/g, " - ").slice(0, 100) },
  klaviyo: { email: "Email", segment: "Segment", value: (n) => n },
  salesforce: { email: "Email", segment: "Segment__c", value: (n) => n },
};

export function isCrmFormat(s: string): s is CrmFormat {
  return (CRM_FORMATS as readonly string[]).includes(s);
}

/** The header of a format's file. */
export function crmHeader(format: CrmFormat): [string, string] {
  return [LAYOUTS[format].email, LAYOUTS[format].segment];
}

export interface CrmResult {
  /** Rows written (customers with an email). */
  rows: number;
  /** Customers left out because they have no email. */
  withoutEmail: number;
}

/**
 * The columns of a format's file: one row per assignment whose email (same index in `emails`)
 * is known, in the order of the assignments.
 */
export function crmColumns(format: CrmFormat, assignments: Assignment[], emails: (string | null)[]): { columns: OutColumn[]; result: CrmResult } {
  const layout = LAYOUTS[format];
  const email: string[] = [];
  const value: string[] = [];
  let withoutEmail = 0;
  for (let i = 0; i < assignments.length; i++) {
    const e = emails[i]?.trim();
    if (!e) {
      withoutEmail++;
      continue;
    }
    email.push(e);
    value.push(layout.value(assignments[i].name));
  }
  return {
    columns: [
      { name: layout.email, type: "VARCHAR", values: email },
      { name: layout.segment, type: "VARCHAR", values: value },
    ],
    result: { rows: email.length, withoutEmail },
  };
}

/** Writes a format's import file (CSV) to `out`, atomically. */
export async function writeCrmFile(out: string, format: CrmFormat, assignments: Assignment[], emails: (string | null)[]): Promise<CrmResult> {
  if (!/\.csv$/i.test(out)) throw new InputError(`--out ${out}: ${format} imports CSV files; give a name ending in .csv`);
  const { columns, result } = crmColumns(format, assignments, emails);
  if (result.rows === 0) {
    throw new InputError(`no customer has an email (${assignments.length} without one); check the --email column${assignments.length ? "" : " and the segments file"}`);
  }
  await OutputBatch.write((b) => b.columns(out, columns));
  return result;
}
