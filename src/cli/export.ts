import { InputError } from "../core/errors.js";
import { checkDistinctPaths, checkOutputPath } from "../io/write.js";
import { CRM_FORMATS, crmHeader, isCrmFormat, writeCrmFile } from "../server/export/crm.js";
import { exportToPostgres } from "../server/export/postgres.js";
import { readContactColumn, readRunSegments, readSegmentsFile, type SegmentsSource, type SourceOptions } from "../server/export/source.js";
import { checkWebhookUrl, DEFAULT_BATCH_SIZE, sendWebhook } from "../server/export/webhook.js";
import { isPostgresUrl, redactUrl } from "../server/pg-store.js";
import { type Io, parse, parseWholeNumber } from "./common.js";
import { DEFAULT_DATA_DIR } from "./token.js";

/** The environment variable read for the webhook secret when --secret is not given (keeps it out of `ps`). */
export const SECRET_ENV = "SEGMENTA_WEBHOOK_SECRET";

type ExportValues = {
  run?: string;
  data?: string;
  id?: string;
  format?: string;
  email?: string;
  contacts?: string;
  out?: string;
  webhook?: string;
  secret?: string;
  "batch-size"?: string;
  model?: string;
  to?: string;
  table?: string;
  store?: string;
  json?: boolean;
};

/**
 * `segmenta export <segments file> | --run ID [--data DIR]` to a CRM import file (--format),
 * a webhook (--webhook) or a PostgreSQL table (--to … --table T).
 */
export async function exportCommand(args: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parse<ExportValues>("export", args, {
    run: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
    id: { type: "string" },
    format: { type: "string" },
    email: { type: "string" },
    contacts: { type: "string" },
    out: { type: "string" },
    webhook: { type: "string" },
    secret: { type: "string" },
    "batch-size": { type: "string" },
    model: { type: "string" },
    to: { type: "string" },
    table: { type: "string" },
  });
  const targets = (["format", "webhook", "to"] as const).filter((k) => values[k] !== undefined);
  if (targets.length === 0) throw new InputError("say where to export: --format hubspot|mailchimp|klaviyo|salesforce --email COL --out FILE, --webhook URL --secret S, or --to postgres://… --table T");
  if (targets.length > 1) throw new InputError(`--${targets[0]} and --${targets[1]} are two destinations; export to one at a time`);
  if (values.table !== undefined && values.to === undefined) throw new InputError("--table goes with --to postgres://… (the database to export to)");
  if (positionals.length > 1) throw new InputError(`one segments file only, got ${positionals.length}: ${positionals.join(" ")}`);
  const file = positionals[0];
  if (file !== undefined && values.run !== undefined) throw new InputError(`give a segments file or --run ID, not both (got ${file} and --run ${values.run})`);
  if (file === undefined && values.run === undefined) throw new InputError("give the segments file (written by segmenta cluster --out) or --run ID --data DIR");
  if (values.data !== undefined && values.run === undefined) throw new InputError("--data goes with --run ID (the data folder of segmenta serve)");
  if (values.store !== undefined && values.run === undefined) throw new InputError("--store goes with --run ID (the PostgreSQL store of segmenta serve --store)");
  if (values.store !== undefined && !isPostgresUrl(values.store)) throw new InputError(`--store ${redactUrl(values.store)}: give a PostgreSQL URL, postgres://user:password@host/db`);

  if (values.format !== undefined) return crm(values, file, io);
  if (values.to !== undefined) return database(values, file, io);
  return webhook(values, file, io, env);
}

/** Reads the source: the segments file, or a run from the data folder. */
export async function readExportSource(file: string | undefined, values: { run?: string; data?: string; store?: string }, options: SourceOptions): Promise<SegmentsSource> {
  if (file !== undefined) return readSegmentsFile(file, options);
  return readRunSegments(values.run!, values.data ?? DEFAULT_DATA_DIR, options, values.store);
}

async function crm(values: ExportValues, file: string | undefined, io: Io): Promise<number> {
  const format = values.format!.trim().toLowerCase();
  if (!isCrmFormat(format)) throw new InputError(`--format ${values.format}: give one of ${CRM_FORMATS.join(", ")}`);
  for (const k of ["secret", "batch-size", "model"] as const) {
    if (values[k] !== undefined) throw new InputError(`--${k} goes with --webhook, not --format`);
  }
  if (!values.email) throw new InputError(`give the email column with --email COL (a column of the segments file, or of --contacts FILE)`);
  if (!values.out) throw new InputError(`give the import file to write with --out ${format}.csv`);
  await checkOutputPath(values.out, "--out", "text");
  await checkDistinctPaths(
    [...(file ? [{ flag: "input", path: file }] : []), ...(values.contacts ? [{ flag: "--contacts", path: values.contacts }] : [])],
    [{ flag: "--out", path: values.out }],
  );
  let source: SegmentsSource;
  let emails: (string | null)[];
  if (values.contacts) {
    source = await readExportSource(file, values, { id: values.id });
    const byId = await readContactColumn(values.contacts, source.idColumn, values.email);
    emails = source.assignments.map((a) => byId.get(a.id) ?? null);
  } else {
    source = await readExportSource(file, values, { id: values.id, columns: [values.email] });
    emails = source.extra[values.email];
  }
  const r = await writeCrmFile(values.out, format, source.assignments, emails);
  const [h1, h2] = crmHeader(format);
  if (values.json) {
    io.out(JSON.stringify({ source: source.label, format, out: values.out, columns: [h1, h2], rows: r.rows, withoutEmail: r.withoutEmail }, null, 2));
  } else {
    io.out(`${values.out}: ${r.rows} customer${r.rows === 1 ? "" : "s"} for a ${format} import (columns ${h1}, ${h2})`);
  }
  if (r.withoutEmail > 0) io.err(`segmenta export: ${r.withoutEmail} customer${r.withoutEmail === 1 ? "" : "s"} without an email left out`);
  return 0;
}

async function webhook(values: ExportValues, file: string | undefined, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  for (const k of ["email", "contacts", "out"] as const) {
    if (values[k] !== undefined) throw new InputError(`--${k} goes with --format, not --webhook`);
  }
  const url = values.webhook!;
  checkWebhookUrl(url);
  const secret = values.secret ?? env[SECRET_ENV];
  if (!secret) throw new InputError(`give the signing secret with --secret S (or the environment variable ${SECRET_ENV}); the receiver checks X-Segmenta-Signature with it`);
  const batchSize = parseWholeNumber("--batch-size", values["batch-size"], 1) ?? DEFAULT_BATCH_SIZE;
  const source = await readExportSource(file, values, { id: values.id });
  const model = values.model ?? source.model;
  const r = await sendWebhook(source.assignments, {
    url,
    secret,
    batchSize,
    model,
    onBatch: io.tty && !values.json ? (i, n) => io.err(`batch ${i + 1}/${n} delivered`) : undefined,
  });
  const summary = `${r.delivered} of ${r.total} assignments delivered in ${r.deliveredBatches} of ${r.batches} batch${r.batches === 1 ? "" : "es"}`;
  if (values.json) {
    io.out(JSON.stringify({ source: source.label, webhook: url, model: model ?? null, ...r }, null, 2));
  } else if (!r.failure) {
    io.out(`${summary} to ${url}`);
  }
  if (r.failure) {
    const f = r.failure;
    io.err(
      `segmenta export: ${summary}; batch ${f.batch} failed after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"} (${f.message}); run the same export again to resume (the receiver gets the same idempotency keys)`,
    );
    return 1;
  }
  return 0;
}

/** `--to postgres://… --table T`: upserts into T and appends the moves to T_history, in one transaction. */
async function database(values: ExportValues, file: string | undefined, io: Io): Promise<number> {
  for (const k of ["email", "contacts", "out", "secret", "batch-size"] as const) {
    if (values[k] !== undefined) throw new InputError(`--${k} does not go with --to (a database export)`);
  }
  const url = values.to!;
  const shown = redactUrl(url);
  if (!isPostgresUrl(url)) throw new InputError(`--to ${shown}: give a PostgreSQL URL, postgres://user:password@host:5432/database`);
  if (!values.table) throw new InputError("give the table to write with --table T (created when absent, with T_history for the moves)");
  const source = await readExportSource(file, values, { id: values.id });
  const model = values.model ?? source.model;
  const r = await exportToPostgres(url, values.table, source.assignments, { model });
  if (values.json) {
    io.out(JSON.stringify({ source: source.label, to: shown, model: model ?? null, ...r }, null, 2));
  } else {
    io.out(
      `${r.table}: ${r.inserted} new, ${r.changed} moved, ${r.unchanged} unchanged of ${source.assignments.length} customer${source.assignments.length === 1 ? "" : "s"}; ` +
        `${r.historyRows} row${r.historyRows === 1 ? "" : "s"} added to ${r.historyTable}`,
    );
  }
  return 0;
}
