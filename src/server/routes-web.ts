/**
 * Routes the dashboard needs that the API lacked (issue #18), public like the rest (a token,
 * scope admin): POST /api/v1/datasets/:id/rfm turns an uploaded transaction log into a new
 * dataset of RFM features — one row per customer: recency_days, frequency, monetary, … — as
 * `segmenta rfm` computes them (io/rfm.ts), so that the log's customers can be segmented by a
 * run like any customer table. POST /api/v1/datasets/:id/plan shows, before a run, what a
 * configuration would do with the dataset: the features chosen (and why the others are not)
 * and the preprocessing plan with the reason for each step — what the run's report says, without
 * the clustering.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { InputError } from "../core/errors.js";
import { exec } from "../io/duck.js";
import { readColumns } from "../io/extract.js";
import { dropTable, loadTable } from "../io/read.js";
import { type CancellationMode, checkRfmMapping, computeRfmFromFile, type RfmMapping } from "../io/rfm.js";
import { columnProfileJson, profileTable } from "../io/schema.js";
import { copyQueryTo } from "../io/write.js";
import { parseConfig } from "../pipeline/config.js";
import { chooseFeatures, chooseIdColumn } from "../pipeline/run.js";
import { planPreprocessing } from "../preprocess/plan.js";
import { HttpError } from "./http-error.js";
import type { DatasetRecord, HistoryStore } from "./store.js";

const FIELDS = ["customer", "date", "amount", "quantity", "price", "invoice", "product", "asOf", "cancellations", "cancelPrefix"] as const;
/** The CLI's flags in the messages of io/rfm.ts, as the body's fields. */
const FLAG_FIELDS: [RegExp, string][] = [[/--as-of/g, "asOf"], [/--cancel-prefix/g, "cancelPrefix"], [/--(customer|date|amount|quantity|price|invoice|product|cancellations)\b/g, "$1"]];

function inBodyTerms(message: string, file: string, name: string): string {
  let m = message.split(file).join(name);
  for (const [from, to] of FLAG_FIELDS) m = m.replace(from, to);
  return m;
}

export async function webRoutes(app: FastifyInstance, options: { store: HistoryStore; dataDir: string }): Promise<void> {
  const { store, dataDir } = options;

  app.post<{ Params: { id: string }; Body: unknown }>("/api/v1/datasets/:id/plan", async (request) => {
    const d = await store.getDataset(request.params.id);
    if (!d) throw new HttpError(404, `no dataset ${request.params.id}`);
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "the body must be a JSON object { config }");
    const config = parseConfig((body as { config?: unknown }).config ?? {}, "library");
    const sheet = (d.inspect as { sheet?: unknown } | null)?.sheet;
    const t = await loadTable(d.file, { sheet: typeof sheet === "string" ? sheet : undefined, text: config.id ? [config.id] : [] });
    try {
      const names = t.columns.map((c) => c.name);
      for (const [field, wanted] of [["features", config.features ?? []], ["profile", config.profile], ["id", config.id ? [config.id] : []]] as const) {
        const missing = wanted.find((n) => !names.includes(n));
        if (missing !== undefined) throw new HttpError(400, `config.${field}: dataset ${d.name} has no column ${JSON.stringify(missing)}; its columns are: ${names.join(", ")}`, `config.${field}`);
      }
      const profile = await profileTable(t, config.id ? { ...config.types, [config.id]: "id" } : config.types);
      const strict = config.features ?? profile.columns.filter((c) => c.kind === "numeric" && c.name !== config.id).map((c) => c.name);
      const data = await readColumns(t, profile, names, strict);
      const idColumn = chooseIdColumn(data, config);
      const features = chooseFeatures(data, config, idColumn);
      const used = features.filter((f) => f.used).map((f) => f.name);
      if (used.length === 0) throw new HttpError(400, `${d.name}: no usable feature columns (all are ids, dates or constant); choose some with config.features`, "config.features");
      const plan = planPreprocessing(data, used, config.preprocessing);
      return { idColumn, features, steps: plan.steps };
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(400, e.message.split(d.file).join(d.name));
      throw e;
    } finally {
      await dropTable(t);
    }
  });

  app.post<{ Params: { id: string }; Body: unknown }>("/api/v1/datasets/:id/rfm", async (request, reply) => {
    const log = await store.getDataset(request.params.id);
    if (!log) throw new HttpError(404, `no dataset ${request.params.id}`);
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(400, "the body must be a JSON object { customer, date, amount | quantity and price, invoice?, asOf?, cancellations?, cancelPrefix?, name? }");
    }
    const b = body as Record<string, unknown>;
    const map: Record<string, string> = {};
    for (const f of FIELDS) {
      const v = b[f];
      if (v === undefined || v === null || v === "") continue;
      if (typeof v !== "string") throw new HttpError(400, `${f} must be a column name (or, for asOf, a date YYYY-MM-DD)`, f);
      map[f] = v;
    }
    const mapping: RfmMapping = { ...(map as unknown as RfmMapping), cancellations: map.cancellations as CancellationMode | undefined };
    const name = typeof b.name === "string" && b.name.trim() ? b.name.trim().slice(0, 200) : `${log.name} (RFM)`;
    const sheet = (log.inspect as { sheet?: unknown } | null)?.sheet;
    const id = randomUUID();
    const dir = join(dataDir, "datasets", id);
    await mkdir(dir, { recursive: true });
    const file = join(dir, "data.parquet");
    try {
      checkRfmMapping(mapping);
      const s = await computeRfmFromFile(log.file, mapping, {}, { sheet: typeof sheet === "string" ? sheet : undefined });
      try {
        await copyQueryTo(file, `SELECT * FROM ${s.table} ORDER BY customer_id`);
      } finally {
        await exec(`DROP TABLE IF EXISTS ${s.table}`);
      }
      const t = await loadTable(file, { format: "parquet", text: ["customer_id"] });
      let record: DatasetRecord;
      try {
        const p = await profileTable(t, { customer_id: "id" });
        const rfm = {
          from: log.id, mapping, asOf: s.asOf, customers: s.customers, rowsIn: s.rowsIn, purchaseRows: s.purchaseRows, cancellationRows: s.cancellationRows,
          rowsWithoutCustomer: s.rowsWithoutCustomer, rowsWithoutDateOrValue: s.rowsWithoutDateOrValue, rowsAfterAsOf: s.rowsAfterAsOf,
          customersWithoutPurchase: s.customersWithoutPurchase,
        };
        const inspect = { file: name, format: "parquet", details: p.details, rows: p.rows, columns: p.columns.map(columnProfileJson), rfm };
        record = { id, name, file, format: "parquet", bytes: (await stat(file)).size, rows: p.rows, createdAt: new Date().toISOString(), inspect };
      } finally {
        await dropTable(t);
      }
      await store.addDataset(record);
      return reply.code(201).send({ id, name, rows: record.rows, columns: record.inspect });
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      if (e instanceof InputError) {
        const message = inBodyTerms(e.message, log.file, log.name);
        const field = FIELDS.find((f) => new RegExp(`^(give )?${f}\\b`).test(message));
        throw new HttpError(400, message, field);
      }
      throw e;
    }
  });
}
