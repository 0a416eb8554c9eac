/**
 * The HTTP API of `segmenta serve` (issue #16): a thin shell over the project's reading,
 * profiling, segmentation and model files. Datasets, runs, models and tokens live in the
 * store; files under the data folder.
 */
import { randomUUID } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import { InputError } from "../core/errors.js";
import type { ColumnKind, Dataset } from "../core/dataset.js";
import { ident, lit, queryRows } from "../io/duck.js";
import { detectFormat, dropTable, type FileFormat, loadTable } from "../io/read.js";
import { columnProfileJson, profileTable } from "../io/schema.js";
import { copyQueryTo } from "../io/write.js";
import { parseConfig } from "../pipeline/config.js";
import { type LoadedModelFile, modelChecksum, parseModelFile, predictWithModel } from "../pipeline/model.js";
import { isTransactionLog, readModelInputs } from "../cli/predict.js";
import { rfmJson, withRfmFile } from "../cli/rfm.js";
import { openApiDocument, docsHtml } from "./openapi.js";
import { HttpError } from "./http-error.js";
import { datasetFromJsonRecords } from "./records.js";
import { type ChildJob, crashedTooOften, FINISHED, MAX_CRASHES, RESTARTED, type RunEvent, RunQueue, type RunQueueOptions } from "./runner.js";
import type { DatasetRecord, HistoryStore, ModelVersion, RunRecord, Scope } from "./store.js";
import { type ApiExportResult, type ApiExportSource, exportFromApi } from "./export/api.js";
import { readSegmentsFile } from "./export/source.js";
import { type Comparison, compareAssignments } from "../pipeline/compare.js";
import { scopeAllows, verifyToken } from "./tokens.js";

export const SERVER_VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

/** What a run was made from (its `previous`), as recorded in its folder. */
type PreviousRef = { run: string } | { model: string; version: number };

export interface ServerOptions {
  /** The data folder: uploaded datasets and the runs' files. */
  dataDir: string;
  store: HistoryStore;
  /** Largest JSON body, in bytes (default 10 MB). */
  bodyLimit?: number;
  /** Largest dataset upload, in bytes (default 100 MB); scoring requests may be as large (or bodyLimit, if larger). */
  uploadLimit?: number;
  logger?: boolean;
  /** Runs at once (default: one core fewer than the machine has, at least one). */
  concurrency?: number;
  /** Requests per minute of each token (of each address, for routes without a token); default 6000. */
  rateLimit?: number;
  /** Starts a run's child process (tests may replace it). */
  startChild?: RunQueueOptions["start"];
  /** On close, how long running runs may take to finish before they are stopped and queued again (seconds, default 0). */
  graceSeconds?: number;
}

export { HttpError } from "./http-error.js";

const MB = 1024 * 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const FORMATS: readonly FileFormat[] = ["csv", "parquet", "json", "xlsx"];

declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a route needs (default: read for GET, admin otherwise; none for public routes). */
    scope?: Scope | "public";
  }
}

function fmtMB(bytes: number): string {
  return `${Math.round((bytes / MB) * 100) / 100} MB`;
}

/** The format of an upload: ?format=, else the content type, else sniffed from the bytes. */
function formatOfUpload(query: string | undefined, contentType: string | undefined): FileFormat | null {
  if (query !== undefined) {
    if (!(FORMATS as readonly string[]).includes(query)) throw new HttpError(400, `format "${query}" is not one Segmenta reads; use ${FORMATS.join(", ")}`, "format");
    return query as FileFormat;
  }
  const ct = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (ct === "text/csv" || ct === "text/tab-separated-values") return "csv";
  if (ct === "application/vnd.apache.parquet" || ct === "application/x-parquet" || ct === "application/parquet") return "parquet";
  if (ct === "application/json" || ct === "application/x-ndjson" || ct === "application/ndjson") return "json";
  if (ct === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  return null;
}


function datasetJson(d: DatasetRecord): unknown {
  return { id: d.id, name: d.name, format: d.format, bytes: d.bytes, rows: d.rows, createdAt: d.createdAt, columns: (d.inspect as { columns?: unknown })?.columns ?? null };
}

function runJson(r: RunRecord): unknown {
  return {
    id: r.id, datasetId: r.datasetId, status: r.status, progress: r.progress, message: r.message, createdAt: r.createdAt,
    startedAt: r.startedAt, finishedAt: r.finishedAt, summary: r.summary, error: r.error, config: r.config,
  };
}

function versionMeta(v: ModelVersion): unknown {
  return { name: v.name, version: v.version, active: v.active, createdAt: v.createdAt, runId: v.runId, checksum: v.checksum };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The field an InputError of parseConfig names ("config.k: …" → "config.k"). */
function fieldOf(message: string): string | undefined {
  return /^(config\.[A-Za-z0-9_.]+|config\.\(config\)):/.exec(message)?.[1];
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { store, dataDir } = options;
  const uploadLimit = options.uploadLimit ?? 100 * MB;
  const bodyLimit = options.bodyLimit ?? 10 * MB;
  await mkdir(join(dataDir, "datasets"), { recursive: true });
  await mkdir(join(dataDir, "runs"), { recursive: true });

  const graceMs = Math.max(0, options.graceSeconds ?? 0) * 1000;
  // Fastify's plugin timeout also bounds the close hooks: the grace period must fit in it.
  const app = Fastify({ logger: options.logger ?? false, bodyLimit, ajv: { customOptions: { coerceTypes: false } }, pluginTimeout: Math.max(10_000, graceMs + 30_000) });
  const queue = new RunQueue({ store, concurrency: options.concurrency, start: options.startChild });
  // On close the server answers 503 to new requests at once; running runs get the grace period,
  // then are stopped and queued again. Before the connections are waited for: a run's end (or
  // its return to the queue) ends the event streams that follow it.
  app.addHook("preClose", async () => {
    await queue.close(graceMs);
  });

  /** The job of a run's child: the dataset's file, the configuration and the run's folder. */
  function jobOf(run: RunRecord, dataset: DatasetRecord, config: unknown): ChildJob {
    const sheet = (dataset.inspect as { sheet?: unknown } | null)?.sheet;
    return { file: dataset.file, name: dataset.name, config, dir: run.dir, ...(typeof sheet === "string" ? { sheet } : {}) };
  }

  // Runs left queued (a shutdown) or running (a crash, or a shutdown's checkpoint) by a server
  // that stopped are resumed, in the order they were created: run again from the start (their
  // outputs are written atomically, so an interrupted run left none). Only the runs of this data
  // folder: servers sharing a PostgreSQL store each have their own folder and their own runs.
  const ownRuns = join(dataDir, "runs") + sep;
  const unfinished = (await store.unfinishedRuns()).filter((r) => r.dir.startsWith(ownRuns));
  for (const r of unfinished.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
    // Another live server on the same data folder and PostgreSQL store has it: its to finish.
    if (!(await store.holdRun(r.id))) continue;
    const dataset = await store.getDataset(r.datasetId);
    // Left "running": the server stopped without putting it back in the queue (a crash). A run
    // during which that happened MAX_CRASHES times is failed rather than started again forever.
    const crashes = r.status === "running" ? await store.countCrash(r.id) : 0;
    const error = !dataset ? `the server stopped during this run and its dataset ${r.datasetId} has since been deleted`
      : crashes >= MAX_CRASHES ? crashedTooOften(crashes) : null;
    if (error !== null || !dataset) {
      await store.updateRun(r.id, { status: "failed", error, message: error, finishedAt: new Date().toISOString() });
      await store.releaseRun(r.id);
      continue;
    }
    const message = r.status === "running" || r.message === RESTARTED ? RESTARTED : r.message;
    const resumed: RunRecord = { ...r, status: "queued", progress: null, startedAt: null, message };
    await store.updateRun(r.id, { status: "queued", progress: null, startedAt: null, message });
    queue.submit(resumed, jobOf(resumed, dataset, r.config));
  }

  /** Parsed models by name and version (a version never changes once published). */
  const models = new Map<string, LoadedModelFile>();
  /** The active version of each name, as this server last published or read it. */
  const activeVersion = new Map<string, number>();

  app.setErrorHandler((error: FastifyError | HttpError | InputError | Error, request, reply) => {
    if (error instanceof HttpError) {
      if (error.statusCode === 401) void reply.header("www-authenticate", 'Bearer realm="segmenta"');
      return reply.code(error.statusCode).send({ error: { message: error.message, ...(error.field ? { field: error.field } : {}) }, ...error.extra });
    }
    if (error instanceof InputError) {
      const field = fieldOf(error.message);
      return reply.code(400).send({ error: { message: error.message, ...(field ? { field } : {}) } });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const field = (v?.instancePath || "").replace(/^\//, "").replace(/\//g, ".") || (v?.params as { missingProperty?: string } | undefined)?.missingProperty;
      return reply.code(400).send({ error: { message: `${fe.validationContext ?? "request"}${field ? `.${field}` : ""} ${v?.message ?? "is invalid"}`, ...(field ? { field } : {}) } });
    }
    if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE" || fe.code === "FST_REQ_FILE_TOO_LARGE") {
      const limit = fe.code === "FST_REQ_FILE_TOO_LARGE" ? uploadLimit : request.routeOptions.bodyLimit ?? bodyLimit;
      const upload = request.routeOptions.url === "/api/v1/datasets" || request.routeOptions.url === "/api/v1/models/:name/score";
      return reply.code(413).send({ error: { message: `the body is larger than the limit of ${fmtMB(limit)}${upload ? " (segmenta serve --upload-limit MB raises it)" : ""}` } });
    }
    if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
      const message = error instanceof SyntaxError || fe.code === "FST_ERR_CTP_INVALID_JSON_BODY" ? `the body is not valid JSON (${error.message})` : error.message;
      return reply.code(fe.statusCode).send({ error: { message } });
    }
    request.log.error(error);
    return reply.code(500).send({ error: { message: "internal error; the server's log has the details" } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { message: `no route ${request.method} ${request.url.split("?")[0]}; see /openapi.json` } });
  });

  /** The token each authenticated request came with (the rate limit's key). */
  const tokenOf = new WeakMap<FastifyRequest, string>();

  // Every route but /healthz needs a bearer token with a scope that allows it.
  app.addHook("onRequest", async (request: FastifyRequest) => {
    const cfg = request.routeOptions.config;
    if (cfg?.scope === "public" || request.routeOptions.url === undefined) return;
    const needed: Scope = cfg?.scope ?? (request.method === "GET" || request.method === "HEAD" ? "read" : "admin");
    const header = request.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new HttpError(401, "this route needs a token: send the header Authorization: Bearer <token> (segmenta token create)");
    const token = await verifyToken(store, m[1]);
    if (!token) throw new HttpError(401, "the token is not valid; create one with segmenta token create");
    if (!scopeAllows(token.scope, needed)) throw new HttpError(403, `the token's scope "${token.scope}" does not allow this; it needs "${needed}"`);
    tokenOf.set(request, token.id);
  });

  // Requests per minute of each token (after authentication, before the body is read); routes
  // without a token are counted by the caller's address.
  const perMinute = options.rateLimit ?? 6000;
  if (!(Number.isInteger(perMinute) && perMinute >= 1)) throw new InputError(`rateLimit ${perMinute}: give the requests a token may make per minute, a whole number ≥ 1`);
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    hook: "preParsing",
    keyGenerator: (request) => {
      const id = tokenOf.get(request);
      return id !== undefined ? `token:${id}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, `too many requests: the limit is ${context.max} a minute for each token; retry in ${context.after} (the Retry-After header has the seconds; segmenta serve --rate-limit N raises it)`),
  });

  // No response is ever sniffed into another type (a CSV cell read as HTML, say).
  app.addHook("onSend", async (_request, reply, payload) => {
    void reply.header("x-content-type-options", "nosniff");
    return payload;
  });

  app.get("/healthz", { config: { scope: "public" } }, async () => ({ ok: true, version: SERVER_VERSION }));

  app.get("/openapi.json", async () => openApiDocument(SERVER_VERSION));
  app.get("/docs", async (_request, reply) => {
    return reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'")
      .send(docsHtml(openApiDocument(SERVER_VERSION)));
  });
  // The dashboard (web/, built into dist/web): its page and assets need no token, its API calls do.
  await (await import("./static.js")).dashboard(app);
  await (await import("./routes-web.js")).webRoutes(app, { store, dataDir });

  // Scoring also takes CSV and NDJSON bodies.
  app.addContentTypeParser(["text/csv", "application/x-ndjson", "application/ndjson"], { parseAs: "string" }, (_req, body, done) => done(null, body));

  // ---- datasets -------------------------------------------------------------------------
  await app.register(async (upload) => {
    // Any body is the file's bytes, whatever its content type (JSON too: a JSON data file).
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: uploadLimit }, (_req, body, done) => done(null, body));
    // A form upload (curl -F file=@customers.csv): the file's part is "file"; its name is only metadata.
    await upload.register(multipart, { limits: { fileSize: uploadLimit, files: 1, fields: 10, fieldSize: 1024, parts: 12 } });
    upload.post<{ Querystring: { name?: string; format?: string; sheet?: string } }>("/api/v1/datasets", { bodyLimit: uploadLimit }, async (request, reply) => {
      let body: Buffer | undefined;
      let uploadedName: string | undefined;
      let contentType = request.headers["content-type"];
      if (request.isMultipart()) {
        let part;
        for await (const p of request.parts()) {
          if (p.type === "file") {
            if (p.fieldname !== "file") throw new HttpError(400, `the form has a file in the field "${p.fieldname}"; send it in the field "file" (curl -F file=@customers.csv)`, "file");
            part = p;
            // Read now (a form's parts come one after another); over the limit, toBuffer throws 413.
            body = await p.toBuffer();
          }
        }
        if (!part) throw new HttpError(400, `the form has no field "file"; send the data file in it (curl -F file=@customers.csv)`, "file");
        uploadedName = part.filename || undefined;
        contentType = part.mimetype === "application/octet-stream" ? undefined : part.mimetype;
      } else {
        body = request.body as Buffer | undefined;
      }
      if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, "the body is empty; send the file's bytes as the body (curl --data-binary @file.csv) or a form with the field \"file\" (curl -F file=@file.csv)");
      const name = request.query.name ?? uploadedName ?? "dataset";
      if (name.length > 200) throw new HttpError(400, "name is longer than 200 characters", "name");
      const sheet = request.query.sheet;
      if (sheet !== undefined && (!sheet.trim() || sheet.length > 200)) throw new HttpError(400, "sheet is empty or longer than 200 characters; give the name of a worksheet of the workbook", "sheet");
      let format = formatOfUpload(request.query.format, contentType);
      const id = randomUUID();
      const dir = join(dataDir, "datasets", id);
      await mkdir(dir, { recursive: true });
      try {
        // The stored name is generated: the uploaded name is only metadata.
        const tmp = join(dir, "upload");
        await writeFile(tmp, body);
        format ??= await detectFormat(tmp);
        if (sheet !== undefined && format !== "xlsx") throw new HttpError(400, `sheet is for Excel workbooks; this upload is ${format}`, "sheet");
        const file = join(dir, `data.${format}`);
        await rename(tmp, file);
        const t = await loadTable(file, { format, sheet });
        let record: DatasetRecord;
        try {
          const p = await profileTable(t);
          const inspect = { file: name, format: p.format, details: p.details, rows: p.rows, columns: p.columns.map(columnProfileJson), ...(sheet !== undefined ? { sheet } : {}) };
          record = { id, name, file, format, bytes: body.length, rows: p.rows, createdAt: new Date().toISOString(), inspect };
        } finally {
          await dropTable(t);
        }
        await store.addDataset(record);
        return reply.code(201).send({ id, name, rows: record.rows, columns: record.inspect });
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        // Messages name the stored file: show the uploaded name instead.
        if (e instanceof InputError) {
          let message = e.message;
          for (const stored of [...FORMATS.map((f) => join(dir, `data.${f}`)), join(dir, "upload")]) message = message.split(stored).join(name);
          throw new HttpError(400, message);
        }
        throw e;
      }
    });
  });

  app.get("/api/v1/datasets", async () => ({ datasets: (await store.listDatasets()).map(datasetJson) }));
  app.get<{ Params: { id: string } }>("/api/v1/datasets/:id", async (request) => {
    const d = await store.getDataset(request.params.id);
    if (!d) throw new HttpError(404, `no dataset ${request.params.id}`);
    return datasetJson(d);
  });
  app.delete<{ Params: { id: string } }>("/api/v1/datasets/:id", async (request, reply) => {
    const d = await store.getDataset(request.params.id);
    if (!d) throw new HttpError(404, `no dataset ${request.params.id}`);
    await store.deleteDataset(d.id);
    await rm(join(dataDir, "datasets", d.id), { recursive: true, force: true });
    return reply.code(204).send();
  });

  // ---- runs -----------------------------------------------------------------------------
  app.post<{ Body: unknown }>("/api/v1/runs", async (request, reply) => {
    const body = request.body;
    if (!isObject(body)) throw new HttpError(400, "the body must be a JSON object { datasetId, config }");
    if (typeof body.datasetId !== "string") throw new HttpError(400, "datasetId is missing: give the id of an uploaded dataset (POST /api/v1/datasets)", "datasetId");
    const dataset = await store.getDataset(body.datasetId);
    if (!dataset) throw new HttpError(404, `no dataset ${body.datasetId}`, "datasetId");
    const config = parseConfig(body.config ?? {}, "library");
    checkColumnsOf(dataset, config);
    const id = randomUUID();
    const run: RunRecord = {
      id, datasetId: dataset.id, config, status: "queued", progress: null, message: null, createdAt: new Date().toISOString(),
      startedAt: null, finishedAt: null, summary: null, error: null, dir: join(dataDir, "runs", id),
    };
    const previous = body.previous === undefined ? undefined : await previousFiles(body.previous, run.dir);
    // Held by this server from the start (servers sharing a PostgreSQL store and a data folder).
    await store.holdRun(id);
    await store.addRun(run);
    if (previous) {
      // What the run was made from, for its exports (webhooks send the changes since it).
      await mkdir(run.dir, { recursive: true });
      await writeFile(join(run.dir, "previous.json"), JSON.stringify(previous.ref));
    }
    queue.submit(run, { ...jobOf(run, dataset, body.config ?? {}), ...(previous ? { previous: { paths: previous.paths, label: previous.label } } : {}) });
    return reply.code(202).send({ id, status: "queued" });
  });

  /**
   * The files `previous` names, for the run's child to read as cluster --previous reads them: a
   * succeeded run's model and segments files, or a published version's model file (written into
   * the new run's folder) with the segments file of the run it was published from, if any.
   */
  async function previousFiles(previous: unknown, dir: string): Promise<{ paths: string[]; label: string; ref: PreviousRef }> {
    if (typeof previous !== "string" || !previous) throw new HttpError(400, "previous is a run id or a model name (name@version for a version other than the active one)", "previous");
    const run = await store.getRun(previous);
    if (run) {
      if (run.status !== "succeeded") throw new HttpError(409, `previous run ${run.id} is ${run.status}; only a succeeded run has segments to keep the ids of`, "previous");
      return { paths: [join(run.dir, "model.json"), join(run.dir, "segments.parquet")], label: `run ${run.id}`, ref: { run: run.id } };
    }
    const m = /^(.+?)(?:@(\d+))?$/.exec(previous)!;
    const v = await store.getModel(m[1], m[2] === undefined ? undefined : Number(m[2]));
    if (!v) throw new HttpError(404, `previous ${previous}: no run with this id, and no model ${m[2] === undefined ? m[1] : `${m[1]} version ${m[2]}`}`, "previous");
    await mkdir(dir, { recursive: true });
    const file = join(dir, "previous-model.json");
    await writeFile(file, JSON.stringify(v.file));
    const from = v.runId ? await store.getRun(v.runId) : null;
    const segments = from?.status === "succeeded" ? join(from.dir, "segments.parquet") : null;
    return { paths: [file, ...(segments && existsSync(segments) ? [segments] : [])], label: `model ${v.name}@${v.version}`, ref: { model: v.name, version: v.version } };
  }

  /** The assignments of what a run was made from (previous.json in its folder), or null. */
  async function previousOf(r: RunRecord): Promise<ApiExportSource["previous"]> {
    let ref: PreviousRef;
    try {
      ref = JSON.parse(await readFile(join(r.dir, "previous.json"), "utf8")) as PreviousRef;
    } catch {
      return null;
    }
    const date = r.finishedAt ? r.finishedAt.slice(0, 10) : null;
    if ("run" in ref) {
      const p = await store.getRun(ref.run);
      if (!p || p.status !== "succeeded" || !existsSync(join(p.dir, "segments.parquet"))) return null;
      return { label: `run ${p.id}`, assignments: (await readSegmentsFile(join(p.dir, "segments.parquet"))).assignments, date };
    }
    const assignments = (await store.assignmentHistory(ref.model)).filter((a) => a.version === ref.version).map((a) => ({ id: a.id, segment: a.segment, name: a.name }));
    return assignments.length ? { label: `model ${ref.model}@${ref.version}`, assignments, date } : null;
  }

  // ---- comparisons (issue #17) ----------------------------------------------------------
  /** A succeeded run's assignments, from its segments file. */
  async function runMembers(id: string, field: string): Promise<{ id: string; segment: number; name: string }[]> {
    const r = await store.getRun(id);
    if (!r) throw new HttpError(404, `no run ${id}`, field);
    if (r.status !== "succeeded") throw new HttpError(409, `run ${id} is ${r.status}; only a succeeded run has segments to compare`, field);
    return (await readSegmentsFile(join(r.dir, "segments.parquet"))).assignments;
  }
  /** A comparison as JSON: the changes only when asked for (one per mover, possibly millions). */
  function comparisonJson(c: Comparison, withChanges: boolean): Record<string, unknown> {
    const { changes, ...rest } = c;
    return { ...rest, changeCount: changes.length, ...(withChanges ? { changes } : {}) };
  }
  app.get<{ Querystring: { before?: string; after?: string; changes?: string } }>("/api/v1/compare", async (request) => {
    const { before, after } = request.query;
    if (!before) throw new HttpError(400, "give the run to compare from with ?before=RUN_ID", "before");
    if (!after) throw new HttpError(400, "give the run to compare to with ?after=RUN_ID", "after");
    const [a, b] = [await runMembers(before, "before"), await runMembers(after, "after")];
    try {
      return comparisonJson(compareAssignments(a, b, { labels: { before: `run ${before}`, after: `run ${after}` } }), request.query.changes === "true");
    } catch (e) {
      if (e instanceof InputError) throw new HttpError(400, e.message);
      throw e;
    }
  });
  app.get("/api/v1/runs", async () => ({ runs: (await store.listRuns()).map(runJson) }));

  /** The columns a configuration names exist in the dataset: a 400 naming the field, before any run. */
  function checkColumnsOf(dataset: DatasetRecord, config: ReturnType<typeof parseConfig>): void {
    const columns = (dataset.inspect as { columns?: { name?: unknown }[] } | null)?.columns;
    if (!Array.isArray(columns)) return;
    const names = columns.map((c) => String(c.name));
    const named: [string, string[]][] = [
      ["features", config.features ?? []], ["id", config.id ? [config.id] : []], ["profile", config.profile], ["types", Object.keys(config.types ?? {})],
    ];
    for (const [field, wanted] of named) {
      const missing = wanted.find((n) => !names.includes(n));
      if (missing !== undefined) {
        throw new HttpError(400, `config.${field}: dataset ${dataset.name} has no column ${JSON.stringify(missing)}; its columns are: ${names.join(", ")}`, `config.${field}`);
      }
    }
  }

  async function getRun(id: string): Promise<RunRecord> {
    const r = await store.getRun(id);
    if (!r) throw new HttpError(404, `no run ${id}`);
    return r;
  }
  async function succeededRun(id: string): Promise<RunRecord> {
    const r = await getRun(id);
    if (r.status !== "succeeded") throw new HttpError(409, `run ${id} is ${r.status}; its results exist once it has succeeded`);
    return r;
  }

  app.get<{ Params: { id: string } }>("/api/v1/runs/:id", async (request) => runJson(await getRun(request.params.id)));
  app.delete<{ Params: { id: string } }>("/api/v1/runs/:id", async (request) => {
    const r = await getRun(request.params.id);
    if (FINISHED.includes(r.status)) throw new HttpError(409, `run ${r.id} has already finished (${r.status})`);
    await queue.cancel(r.id);
    return runJson(await getRun(r.id));
  });
  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/events", async (request, reply) => {
    const r = await getRun(request.params.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    const write = (e: RunEvent) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    let stop = () => {};
    const end = () => {
      stop();
      res.end();
    };
    // Subscribe first, then read the state, so that no event falls between the two.
    stop = queue.subscribe(r.id, (e) => {
      write(e);
      if (e.type === "status") end();
    });
    // The response closes when the client goes away (or when the stream ends).
    res.on("close", () => stop());
    const now = await getRun(r.id);
    write({ type: "progress", progress: now.progress, message: now.message });
    if (FINISHED.includes(now.status)) {
      write({ type: "status", status: now.status, summary: now.summary, error: now.error });
      end();
    }
  });
  app.get<{ Params: { id: string }; Querystring: { format?: string } }>("/api/v1/runs/:id/segments", async (request, reply) => {
    const r = await succeededRun(request.params.id);
    const accept = request.headers.accept ?? "";
    const format = request.query.format ?? (/parquet/.test(accept) ? "parquet" : /application\/json/.test(accept) ? "json" : "csv");
    const parquet = join(r.dir, "segments.parquet");
    if (format === "parquet") return reply.type("application/vnd.apache.parquet").send(createReadStream(parquet));
    if (format !== "csv" && format !== "json") throw new HttpError(400, `format "${format}": segments come as csv, json or parquet`, "format");
    // Made once from the Parquet file by the project's writer (formula-like cells neutralised in CSV).
    const file = join(r.dir, `segments.${format}`);
    try {
      await stat(file);
    } catch {
      await copyQueryTo(file, `SELECT * FROM read_parquet(${lit(parquet)})`);
    }
    return reply.type(format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8").send(createReadStream(file));
  });
  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/report", async (request, reply) => {
    const r = await succeededRun(request.params.id);
    return reply.type("text/html; charset=utf-8").send(createReadStream(join(r.dir, "report.html")));
  });
  app.get<{ Params: { id: string } }>("/api/v1/runs/:id/model", async (request, reply) => {
    const r = await succeededRun(request.params.id);
    return reply.type("application/json; charset=utf-8").send(createReadStream(join(r.dir, "model.json")));
  });

  // ---- exports ---------------------------------------------------------------------------
  // A run's segments (or a published version's assignments) to a CRM import file, a signed
  // webhook or a PostgreSQL table: the same functions as segmenta export.
  const exportContext = {
    dataset: async (id: string) => {
      const d = await store.getDataset(id);
      return d ? { file: d.file, name: d.name } : null;
    },
  };
  async function sendExport(reply: FastifyReply, out: ApiExportResult): Promise<unknown> {
    if (out.kind === "json") return out.body;
    for (const [k, v] of Object.entries(out.headers)) void reply.header(k, v);
    return reply.type(out.contentType).header("content-disposition", `attachment; filename="${out.filename}"`).send(out.body);
  }
  /** The model version published from a run (the latest, if several), as "name@version". */
  async function publishedFrom(runId: string): Promise<string | null> {
    let found: string | null = null;
    for (const m of await store.listModels()) {
      for (const v of await store.listVersions(m.name)) if (v.runId === runId) found = `${v.name}@${v.version}`;
    }
    return found;
  }
  app.post<{ Params: { id: string }; Body: unknown }>("/api/v1/runs/:id/export", async (request, reply) => {
    const r = await succeededRun(request.params.id);
    const segments = await readSegmentsFile(join(r.dir, "segments.parquet"));
    const dataset = await store.getDataset(r.datasetId);
    const source: ApiExportSource = {
      label: `run ${r.id}`, idColumn: segments.idColumn, assignments: segments.assignments, model: await publishedFrom(r.id),
      contacts: dataset ? { file: dataset.file, name: dataset.name } : null, previous: await previousOf(r),
    };
    return sendExport(reply, await exportFromApi(request.body, source, exportContext));
  });
  app.post<{ Params: { name: string }; Querystring: { version?: string }; Body: unknown }>("/api/v1/models/:name/export", async (request, reply) => {
    let version: number | undefined;
    if (request.query.version !== undefined) {
      version = Number(request.query.version);
      if (!Number.isInteger(version) || version < 1) throw new HttpError(400, `version "${request.query.version}" is not a whole number ≥ 1`, "version");
    }
    const v = await store.getModel(request.params.name, version);
    if (!v) throw new HttpError(404, version ? `no version ${version} of model ${request.params.name}` : `no model ${request.params.name}`);
    // The version's assignments, as its publish recorded them in the history.
    const assignments = (await store.assignmentHistory(v.name)).filter((a) => a.version === v.version).map((a) => ({ id: a.id, segment: a.segment, name: a.name }));
    if (!assignments.length) {
      throw new HttpError(409, `version ${v.version} of model ${v.name} was published as a model file, so it has no customers' assignments to export; publish a run ({ name, runId }) to export its customers`, "version");
    }
    const run = v.runId ? await store.getRun(v.runId) : null;
    const dataset = run ? await store.getDataset(run.datasetId) : null;
    const idColumn = (v.file as { idColumn?: unknown } | null)?.idColumn;
    const source: ApiExportSource = {
      label: `model ${v.name}@${v.version}`, idColumn: typeof idColumn === "string" && idColumn ? idColumn : "row", assignments, model: `${v.name}@${v.version}`,
      contacts: dataset ? { file: dataset.file, name: dataset.name } : null,
    };
    return sendExport(reply, await exportFromApi(request.body, source, exportContext));
  });

  // ---- models ---------------------------------------------------------------------------
  app.post<{ Querystring: { name?: string }; Body: unknown }>("/api/v1/models", async (request, reply) => {
    const body = request.body;
    if (!isObject(body)) throw new HttpError(400, "the body must be a model file (segmenta cluster --model) with ?name=, or { name, runId }");
    let name: unknown;
    let file: unknown;
    let runId: string | null = null;
    let assignments: { id: string; segment: number; name: string }[] = [];
    if (typeof body.runId === "string") {
      name = body.name;
      const r = await getRun(body.runId);
      if (r.status !== "succeeded") throw new HttpError(409, `run ${r.id} is ${r.status}; only a succeeded run has a model to publish`, "runId");
      file = JSON.parse(await readFile(join(r.dir, "model.json"), "utf8"));
      runId = r.id;
      assignments = await runAssignments(r);
    } else {
      name = request.query.name;
      file = body;
    }
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new HttpError(400, `name ${JSON.stringify(name)} is not a model name: give 1 to 100 letters, digits, ".", "_" or "-", starting with a letter or digit`, "name");
    }
    const loaded = parseModelFile(file, "the model file");
    const checksum = loaded.file.checksum ?? modelChecksum(loaded.file);
    // The version and the history of its assignments (every customer of a published run, dated
    // as the version; a model sent as a file has none) are written in one transaction.
    const v = await store.addModelVersion(name, file, checksum, runId, assignments);
    models.set(`${name}\0${v.version}`, loaded);
    activeVersion.set(name, v.version);
    return reply.code(201).send({ name, version: v.version, active: true, assignments: assignments.length });
  });
  /** The segment of every row of a succeeded run (its segments file: the id column first, then segment and segment_name). */
  async function runAssignments(r: RunRecord): Promise<{ id: string; segment: number; name: string }[]> {
    const parquet = lit(join(r.dir, "segments.parquet"));
    const described = await queryRows(`DESCRIBE SELECT * FROM read_parquet(${parquet})`);
    const idColumn = String(described[0]?.column_name ?? "");
    if (!idColumn) throw new Error(`run ${r.id}: its segments file has no columns`);
    const rows = await queryRows(`SELECT CAST(${ident(idColumn)} AS VARCHAR) AS id, segment, segment_name FROM read_parquet(${parquet})`);
    return rows.map((x) => ({ id: String(x.id), segment: Number(x.segment), name: String(x.segment_name) }));
  }

  app.get("/api/v1/models", async () => ({ models: await store.listModels() }));
  app.get<{ Params: { name: string } }>("/api/v1/models/:name", async (request) => {
    const active = await store.getModel(request.params.name);
    if (!active) throw new HttpError(404, `no model ${request.params.name}`);
    const versions = await store.listVersions(active.name);
    return { ...(versionMeta(active) as object), versions: versions.map(versionMeta) };
  });
  app.get<{ Params: { name: string; v: string } }>("/api/v1/models/:name/versions/:v", async (request) => {
    const n = Number(request.params.v);
    if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `version "${request.params.v}" is not a whole number ≥ 1`, "v");
    const v = await store.getModel(request.params.name, n);
    if (!v) throw new HttpError(404, `no version ${n} of model ${request.params.name}`);
    return { ...(versionMeta(v) as object), file: v.file };
  });

  // Sizes per published version, and the flows between consecutive versions with customers.
  app.get<{ Params: { name: string } }>("/api/v1/models/:name/history", async (request) => {
    const versions = await store.listVersions(request.params.name);
    if (!versions.length) throw new HttpError(404, `no model ${request.params.name}`);
    const byVersion = new Map<number, { id: string; segment: number; name: string }[]>();
    for (const a of await store.assignmentHistory(request.params.name)) {
      let list = byVersion.get(a.version);
      if (!list) byVersion.set(a.version, (list = []));
      list.push({ id: a.id, segment: a.segment, name: a.name });
    }
    const sizes = (members: { segment: number; name: string }[]) => {
      const count = new Map<number, { segment: number; name: string; size: number }>();
      for (const m of members) {
        const c = count.get(m.segment) ?? { segment: m.segment, name: m.name, size: 0 };
        c.size++;
        count.set(m.segment, c);
      }
      return [...count.values()].sort((x, y) => x.segment - y.segment);
    };
    const out = versions.map((v) => {
      const members = byVersion.get(v.version);
      return { version: v.version, publishedAt: v.createdAt, active: v.active, runId: v.runId, customers: members ? members.length : null, segments: members ? sizes(members) : null };
    });
    const published = versions.filter((v) => byVersion.has(v.version));
    const flows = [];
    for (let i = 1; i < published.length; i++) {
      const [p, q] = [published[i - 1], published[i]];
      try {
        const c = compareAssignments(byVersion.get(p.version)!, byVersion.get(q.version)!, { labels: { before: `version ${p.version}`, after: `version ${q.version}` }, date: q.createdAt });
        const { matrix: _matrix, ...rest } = comparisonJson(c, false);
        flows.push({ from: p.version, to: q.version, ...rest });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        flows.push({ from: p.version, to: q.version, error: e.message });
      }
    }
    return { name: request.params.name, versions: out, flows };
  });

  async function loadModel(name: string, version?: number): Promise<{ version: number; model: LoadedModelFile }> {
    const wanted = version ?? activeVersion.get(name);
    const cached = wanted !== undefined ? models.get(`${name}\0${wanted}`) : undefined;
    if (cached && wanted !== undefined) return { version: wanted, model: cached };
    const v = await store.getModel(name, version);
    if (!v) throw new HttpError(404, version ? `no version ${version} of model ${name}` : `no model ${name}`);
    const model = parseModelFile(v.file, `model ${name} version ${v.version}`);
    models.set(`${name}\0${v.version}`, model);
    if (version === undefined) activeVersion.set(name, v.version);
    return { version: v.version, model };
  }

  /**
   * The rows of a CSV body (or of JSON records written as NDJSON), read as segmenta predict reads
   * a file: each column as the model read it; for a model fitted on a transaction log's features,
   * a log (the model's feature columns absent, its customer and date columns present, or `asOf`
   * given) has its features computed as in training, as of `asOf` (default: the day after its
   * last transaction), one row per customer.
   */
  async function bodyRows(text: string, format: "csv" | "json", m: LoadedModelFile, model: string, asOf: string | undefined): Promise<{ data: Dataset; transactions?: unknown }> {
    const tmp = await mkdtemp(join(tmpdir(), "segmenta-score-"));
    const file = join(tmp, `rows.${format}`);
    const label = format === "csv" ? "the CSV body" : "the rows";
    const tx = m.file.transactions;
    try {
      await writeFile(file, text);
      const t = await loadTable(file, { format, text: m.file.idColumn ? [m.file.idColumn] : [] });
      let log = false;
      try {
        log = tx !== undefined && (asOf !== undefined || isTransactionLog(t, m));
        if (!log) {
          const names = t.columns.map((c) => c.name);
          missingColumns(m.file.columns.map((c) => c.name).filter((n) => !names.includes(n)), model);
          return { data: await readModelInputs(t, label, m) };
        }
      } finally {
        await dropTable(t);
      }
      const { kind: _kind, ...mapping } = tx!;
      return await withRfmFile(file, { ...mapping, asOf }, {}, async (path, rfm) => {
        const features = await loadTable(path, { text: m.file.idColumn ? [m.file.idColumn] : [] });
        try {
          return { data: await readModelInputs(features, label, m), transactions: rfmJson(label, rfm) };
        } finally {
          await dropTable(features);
        }
      });
    } catch (e) {
      if (e instanceof InputError) {
        const message = e.message.split(file).join(label).replace(/--as-of\b/g, "asOf");
        throw new HttpError(400, message, /--as-of/.test(e.message) ? "asOf" : undefined);
      }
      throw e;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  function missingColumns(missing: string[], model: string): void {
    if (!missing.length) return;
    throw new HttpError(400, `the rows lack ${missing.length === 1 ? "the column" : "the columns"} ${missing.map((n) => `"${n}"`).join(", ")} that model ${model} needs; add ${missing.length === 1 ? "it" : "them"} (values may be empty)`, "rows");
  }

  /** The records of a JSON body { rows: [...] } or of an NDJSON body (one object per line). */
  function jsonRows(body: unknown, ndjson: boolean): Record<string, unknown>[] {
    let rows: unknown[];
    if (ndjson) {
      rows = [];
      for (const [i, line] of String(body).split(/\r?\n/).entries()) {
        if (!line.trim()) continue;
        try {
          rows.push(JSON.parse(line));
        } catch (e) {
          throw new HttpError(400, `line ${i + 1} of the NDJSON body is not valid JSON (${(e as Error).message})`, "rows");
        }
      }
    } else {
      if (!isObject(body) || !Array.isArray(body.rows)) throw new HttpError(400, "the body must be { rows: [ { column: value, … }, … ] } (or CSV, or NDJSON with one object per line)", "rows");
      rows = body.rows;
    }
    rows.forEach((r, i) => {
      if (!isObject(r)) throw new HttpError(400, `rows[${i}] is not an object of column values`, `rows.${i}`);
    });
    return rows as Record<string, unknown>[];
  }

  app.post<{ Params: { name: string }; Querystring: { version?: string; asOf?: string }; Body: unknown }>("/api/v1/models/:name/score", { config: { scope: "score" }, bodyLimit: Math.max(bodyLimit, uploadLimit) }, async (request) => {
    const contentType = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    const csv = contentType === "text/csv";
    const records = csv ? null : jsonRows(request.body, contentType === "application/x-ndjson" || contentType === "application/ndjson");
    let version: number | undefined;
    if (request.query.version !== undefined) {
      version = Number(request.query.version);
      if (!Number.isInteger(version) || version < 1) throw new HttpError(400, `version "${request.query.version}" is not a whole number ≥ 1`, "version");
    }
    const { version: used, model: m } = await loadModel(request.params.name, version);
    const asOf = request.query.asOf;
    const tx = m.file.transactions;
    if (asOf !== undefined && !tx) throw new HttpError(400, `asOf dates the features of a transaction log: model ${request.params.name} was not fitted on one (segmenta cluster --transactions)`, "asOf");
    let data: Dataset;
    let transactions: unknown;
    // A transaction log sent as JSON records (the feature columns absent from every row, the log's customer and date present).
    const logRecords = records !== null && tx !== undefined && records.length > 0 &&
      (asOf !== undefined || (!m.file.columns.every((c) => records.some((r) => c.name in r)) && records.some((r) => tx.customer in r && tx.date in r)));
    if (records && logRecords) {
      ({ data, transactions } = await bodyRows(records.map((r) => JSON.stringify(r)).join("\n") + "\n", "json", m, request.params.name, asOf));
    } else if (records) {
      const needed = m.file.columns.map((c) => c.name);
      // A column absent from every row is missing; absent from some rows, it is a missing value there.
      missingColumns(records.length ? needed.filter((n) => !records.some((r) => n in r)) : [], request.params.name);
      const kinds: Record<string, ColumnKind> = Object.fromEntries(m.file.columns.map((c) => [c.name, c.kind]));
      const idColumn = m.file.idColumn;
      if (idColumn && !(idColumn in kinds) && records.some((r) => idColumn in r)) kinds[idColumn] = "id";
      data = datasetFromJsonRecords(records, kinds, "rows");
    } else {
      ({ data, transactions } = await bodyRows(String(request.body ?? ""), "csv", m, request.params.name, asOf));
    }
    const p = predictWithModel(m, data);
    const density = p.noiseName !== null;
    const results = Array.from(p.labels, (l, i) => ({
      id: p.ids[i],
      segment: l,
      name: l < 0 ? p.noiseName ?? "Outliers" : p.names[l],
      ...(p.probabilities ? { probability: p.probabilities[i] } : {}),
      ...(density || p.outliers ? { outlier: l < 0 || (p.outliers?.[i] ?? 0) === 1 } : {}),
    }));
    return { model: request.params.name, version: used, results, warnings: p.warnings, ...(transactions !== undefined ? { transactions } : {}) };
  });

  return app;
}
