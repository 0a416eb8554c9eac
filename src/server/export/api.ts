/**
 * Exports from the HTTP API (`POST /api/v1/runs/:id/export`, `POST /api/v1/models/:name/export`):
 * the body chooses one destination, and the work is done by the same functions as `segmenta
 * export` (crm.ts, webhook.ts, postgres.ts). Messages are those functions' own, in the body's
 * field names instead of the CLI's options, with no stored path of the server in them.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../core/errors.js";
import { HttpError } from "../http-error.js";
import { redactUrl } from "../pg-store.js";
import { CRM_FORMATS, crmHeader, isCrmFormat, writeCrmFile } from "./crm.js";
import { exportToPostgres } from "./postgres.js";
import { type Assignment, readContactColumn } from "./source.js";
import { checkWebhookUrl, DEFAULT_BATCH_SIZE, sendChangesWebhook, sendWebhook, type WebhookOptions } from "./webhook.js";
import { segmentChanges } from "../../pipeline/changes.js";

/** What is exported: a run's segments, or a published model version's assignments. */
export interface ApiExportSource {
  /** "run ID" or "model NAME@VERSION", for the answer. */
  label: string;
  /** The customers' id column ("row" when the data had none). */
  idColumn: string;
  assignments: Assignment[];
  /** The model version the assignments come from ("name@version"), when known. */
  model: string | null;
  /** The dataset the emails are read from when the body names none (a run's own dataset). */
  contacts: { file: string; name: string } | null;
  /** A run made with `previous`: that segmentation's assignments, and the date of this one (webhooks send the changes). */
  previous?: { label: string; assignments: Assignment[]; date: string | null } | null;
}

export interface ApiExportContext {
  /** The file and name of an uploaded dataset, or null when there is none with this id. */
  dataset(id: string): Promise<{ file: string; name: string } | null>;
}

/** The answer: a file to send, or a JSON document. */
export type ApiExportResult =
  | { kind: "file"; filename: string; contentType: string; body: Buffer; headers: Record<string, string> }
  | { kind: "json"; body: Record<string, unknown> };

export const EXPORT_TARGETS = ["format", "webhook", "postgres"] as const;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A message of the CLI's export functions in the API's terms: options become fields, stored paths names. */
function inApiTerms(message: string, words: [RegExp | string, string][]): string {
  let m = message;
  for (const [from, to] of words) m = typeof from === "string" ? m.split(from).join(to) : m.replace(from, to);
  return m;
}

/** Runs the export the body asks for. */
export async function exportFromApi(body: unknown, source: ApiExportSource, ctx: ApiExportContext): Promise<ApiExportResult> {
  if (!isObject(body)) {
    throw new HttpError(400, "the body must be a JSON object with one of { format, email }, { webhook: { url, secret } } or { postgres: { url, table } }");
  }
  const targets = EXPORT_TARGETS.filter((k) => body[k] !== undefined);
  if (targets.length === 0) {
    throw new HttpError(400, "say where to export: { format: hubspot|mailchimp|klaviyo|salesforce, email: COLUMN }, { webhook: { url, secret } } or { postgres: { url, table } }");
  }
  if (targets.length > 1) throw new HttpError(400, `${targets[0]} and ${targets[1]} are two destinations; export to one at a time`, targets[1]);
  if (targets[0] === "format") return crm(body, source, ctx);
  if (targets[0] === "webhook") return webhook(body.webhook, source);
  return postgres(body.postgres, source);
}

async function crm(body: Record<string, unknown>, source: ApiExportSource, ctx: ApiExportContext): Promise<ApiExportResult> {
  const format = typeof body.format === "string" ? body.format.trim().toLowerCase() : "";
  if (!isCrmFormat(format)) throw new HttpError(400, `format ${JSON.stringify(body.format)}: give one of ${CRM_FORMATS.join(", ")}`, "format");
  if (typeof body.email !== "string" || !body.email.trim()) {
    throw new HttpError(400, "give the email column with email: COLUMN (a column of the run's dataset, or of the dataset named by contacts)", "email");
  }
  const email = body.email;
  let contacts = source.contacts;
  if (body.contacts !== undefined) {
    if (typeof body.contacts !== "string") throw new HttpError(400, "contacts is the id of an uploaded dataset holding the email column", "contacts");
    contacts = await ctx.dataset(body.contacts);
    if (!contacts) throw new HttpError(404, `no dataset ${body.contacts}`, "contacts");
  }
  if (!contacts) {
    throw new HttpError(400, `${source.label} has no dataset of its own to read emails from; name one with contacts: DATASET_ID (an upload with the columns ${source.idColumn} and ${email})`, "contacts");
  }
  if (source.idColumn === "row") {
    throw new HttpError(400, `${source.label} has no customer id column (its segments are numbered by row), so emails cannot be matched to customers; segment with config.id naming the id column`, "email");
  }
  let byId: Map<string, string>;
  try {
    byId = await readContactColumn(contacts.file, source.idColumn, email);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const message = inApiTerms(e.message, [
      [`--contacts ${contacts.file}`, `dataset ${contacts.name}`], [contacts.file, contacts.name], [/name it with --id/, "segment with config.id naming it"], [/--email/g, "email"],
    ]);
    throw new HttpError(400, message, /no id column/.test(e.message) ? "contacts" : "email");
  }
  const emails = source.assignments.map((a) => byId.get(a.id) ?? null);
  const tmp = await mkdtemp(join(tmpdir(), "segmenta-export-"));
  try {
    const out = join(tmp, `${format}.csv`);
    let r;
    try {
      r = await writeCrmFile(out, format, source.assignments, emails);
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(400, inApiTerms(e.message, [[/--email/g, "email"], [/ and the segments file/, ""]]), "email");
      throw e;
    }
    const [h1, h2] = crmHeader(format);
    return {
      kind: "file",
      filename: `${format}.csv`,
      contentType: "text/csv; charset=utf-8",
      body: await readFile(out),
      // What the CLI prints, as headers: the rows written and the customers left out for want of an email.
      headers: { "x-segmenta-rows": String(r.rows), "x-segmenta-without-email": String(r.withoutEmail), "x-segmenta-columns": `${h1}, ${h2}` },
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function webhook(spec: unknown, source: ApiExportSource): Promise<ApiExportResult> {
  if (!isObject(spec)) throw new HttpError(400, "webhook must be { url, secret, batchSize?, send? }", "webhook");
  if (typeof spec.url !== "string") throw new HttpError(400, "webhook.url is missing: give the receiver's http:// or https:// URL", "webhook.url");
  // What is sent: the changes since the previous segmentation (the default for a run made with one), or every assignment.
  const send = spec.send ?? (source.previous ? "changes" : "assignments");
  if (send !== "changes" && send !== "assignments") throw new HttpError(400, `webhook.send ${JSON.stringify(spec.send)}: give "changes" or "assignments"`, "webhook.send");
  if (send === "changes" && !source.previous) {
    throw new HttpError(400, `${source.label} was not made with a previous segmentation (POST /api/v1/runs with previous), so it has no changes to send; send "assignments"`, "webhook.send");
  }
  if (typeof spec.secret !== "string" || !spec.secret) throw new HttpError(400, "webhook.secret is missing: give the shared secret the receiver checks X-Segmenta-Signature with", "webhook.secret");
  let batchSize = DEFAULT_BATCH_SIZE;
  if (spec.batchSize !== undefined) {
    if (typeof spec.batchSize !== "number" || !Number.isInteger(spec.batchSize) || spec.batchSize < 1) throw new HttpError(400, "webhook.batchSize: give a whole number ≥ 1", "webhook.batchSize");
    batchSize = spec.batchSize;
  }
  try {
    checkWebhookUrl(spec.url);
  } catch (e) {
    if (e instanceof InputError) throw new HttpError(400, inApiTerms(e.message, [[/--webhook/g, "webhook.url"], [/--secret/g, "webhook.secret"]]), "webhook.url");
    throw e;
  }
  const options: WebhookOptions = { url: spec.url, secret: spec.secret, batchSize, model: source.model, userAgent: "segmenta-serve" };
  const changes = send === "changes" ? segmentChanges(source.previous!.assignments, source.assignments, source.previous!.date, undefined, { before: source.previous!.label, after: source.label }) : null;
  const r = changes ? await sendChangesWebhook(changes, options) : await sendWebhook(source.assignments, options);
  const delivery = { source: source.label, webhook: spec.url, model: source.model, send, ...(changes ? { previous: source.previous!.label } : {}), ...r };
  if (r.failure) {
    const f = r.failure;
    throw new HttpError(
      502,
      `the webhook delivery failed: ${r.delivered} of ${r.total} assignments delivered in ${r.deliveredBatches} of ${r.batches} batches; batch ${f.batch} failed after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"} (${f.message}); send the same export again to resume (the receiver gets the same idempotency keys)`,
      "webhook",
      { delivery },
    );
  }
  return { kind: "json", body: delivery };
}

async function postgres(spec: unknown, source: ApiExportSource): Promise<ApiExportResult> {
  if (!isObject(spec)) throw new HttpError(400, "postgres must be { url, table }", "postgres");
  if (typeof spec.url !== "string") throw new HttpError(400, "postgres.url is missing: give postgres://user:password@host:5432/database", "postgres.url");
  if (typeof spec.table !== "string") throw new HttpError(400, "postgres.table is missing: give the table to write (created when absent, with TABLE_history for the moves)", "postgres.table");
  try {
    const r = await exportToPostgres(spec.url, spec.table, source.assignments, { model: source.model });
    return { kind: "json", body: { source: source.label, to: redactUrl(spec.url), model: source.model, ...r } };
  } catch (e) {
    // The database's own refusal (a SQLSTATE: rights, a table of another shape): not the server's fault.
    const code = (e as { code?: unknown }).code;
    if (!(e instanceof InputError) && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
      throw new HttpError(502, `the database refused the export (${(e as Error).message.split("\n")[0]}); nothing was written`, "postgres");
    }
    if (!(e instanceof InputError)) throw e;
    const message = inApiTerms(e.message, [[/--to\b/g, "postgres.url"], [/--table\b/g, "postgres.table"]]);
    // A database that cannot be reached is not the caller's mistake in the body's shape: 502.
    if (/cannot connect/.test(e.message)) throw new HttpError(502, message, "postgres.url");
    throw new HttpError(400, message, /--table/.test(e.message) ? "postgres.table" : "postgres.url");
  }
}
