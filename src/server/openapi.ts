/** The OpenAPI 3.1 document of `segmenta serve` and the self-contained page that lists its routes. */
import { z } from "zod";
import { SegmentationConfig } from "../pipeline/config.js";
import { escapeHtml } from "../report/html.js";

type Op = { summary: string; scope: "public" | "score" | "read" | "admin"; body?: unknown; query?: string[]; responses: Record<string, string> };

const error = { $ref: "#/components/schemas/Error" };

const ROUTES: Record<string, Record<string, Op>> = {
  "/healthz": { get: { summary: "Whether the server is up, and its version (no token needed)", scope: "public", responses: { 200: "{ ok: true, version }" } } },
  "/openapi.json": { get: { summary: "This document", scope: "read", responses: { 200: "the OpenAPI document" } } },
  "/docs": { get: { summary: "This page", scope: "read", responses: { 200: "HTML" } } },
  "/api/v1/datasets": {
    post: {
      summary: "Upload a data file (CSV, Parquet, JSON or XLSX bytes as the body, or a multipart/form-data field \"file\"; its name is only a label); answers with what segmenta inspect shows",
      scope: "admin", query: ["name", "format", "sheet"],
      body: { "*/*": { schema: { type: "string", format: "binary" } }, "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", format: "binary" } }, required: ["file"] } } },
      responses: { 201: "{ id, name, rows, columns }", 400: "the file cannot be read", 413: "larger than the upload limit" },
    },
    get: { summary: "The uploaded datasets", scope: "read", responses: { 200: "{ datasets: [...] }" } },
  },
  "/api/v1/datasets/{id}": {
    get: { summary: "One dataset and its columns", scope: "read", responses: { 200: "the dataset", 404: "unknown id" } },
    delete: { summary: "Delete a dataset and its file", scope: "admin", responses: { 204: "deleted", 404: "unknown id" } },
  },
  "/api/v1/runs": {
    post: {
      summary: "Segment a dataset with a configuration (the same as the library's and the model file's); the run works in the background",
      scope: "admin",
      body: { "application/json": { schema: { type: "object", required: ["datasetId"], properties: {
        datasetId: { type: "string" }, config: { $ref: "#/components/schemas/SegmentationConfig" },
        previous: { type: "string", description: "a succeeded run's id, or a model name (name@version for another than the active one): the new segments keep its segment ids and names where they match, as segmenta cluster --previous does" },
      } } } },
      responses: { 202: "{ id, status: \"queued\" }", 400: "a field of the configuration is wrong, or a column it names is not in the dataset (named in error.field)", 404: "unknown dataset, or unknown previous run or model", 409: "the previous run has not succeeded" },
    },
    get: { summary: "Every run", scope: "read", responses: { 200: "{ runs: [...] }" } },
  },
  "/api/v1/runs/{id}": {
    get: { summary: "A run's status, progress and, once done, its summary (k, segments, silhouette)", scope: "read", responses: { 200: "the run", 404: "unknown id" } },
    delete: { summary: "Cancel a queued or running run", scope: "admin", responses: { 200: "the cancelled run", 404: "unknown id", 409: "already finished" } },
  },
  "/api/v1/runs/{id}/events": { get: { summary: "Progress as server-sent events, then the final status; closes when the run has finished", scope: "read", responses: { 200: "text/event-stream" } } },
  "/api/v1/runs/{id}/segments": {
    get: { summary: "Every row's segment: CSV (default), JSON or Parquet by ?format= or Accept", scope: "read", query: ["format"], responses: { 200: "the segments", 409: "the run has not succeeded" } },
  },
  "/api/v1/runs/{id}/report": { get: { summary: "The HTML report of the run", scope: "read", responses: { 200: "text/html", 409: "the run has not succeeded" } } },
  "/api/v1/runs/{id}/model": { get: { summary: "The run's model file", scope: "read", responses: { 200: "the model file", 409: "the run has not succeeded" } } },
  "/api/v1/runs/{id}/export": {
    post: {
      summary: "Export a succeeded run's segments, as segmenta export does: a CRM import file ({ format, email, contacts? }: the email column of the run's dataset, or of the dataset `contacts`), a signed webhook delivery ({ webhook: { url, secret, batchSize? } }) or an upsert into a PostgreSQL table with its history ({ postgres: { url, table } })",
      scope: "admin", body: { "application/json": { schema: { $ref: "#/components/schemas/ExportRequest" } } },
      responses: {
        200: "the import file (text/csv, X-Segmenta-Rows and X-Segmenta-Without-Email headers), or { source, webhook, model, batches, deliveredBatches, delivered, total, failure: null }, or { source, to, model, table, historyTable, inserted, changed, unchanged, historyRows }",
        400: "a wrong body, or a column the data lacks (named in error.field)", 404: "unknown run or contacts dataset", 409: "the run has not succeeded",
        502: "the webhook refused a batch or could not be reached after its retries (error.message says which; `delivery` has the counts), or the database refused the export",
      },
    },
  },
  "/api/v1/models/{name}/export": {
    post: {
      summary: "Export the customers of the active version (or ?version=) of a model as its publish recorded them; the same bodies as a run's export (emails from the published run's dataset, or `contacts`)",
      scope: "admin", query: ["version"], body: { "application/json": { schema: { $ref: "#/components/schemas/ExportRequest" } } },
      responses: { 200: "as a run's export", 400: "a wrong body", 404: "unknown model or version", 409: "the version was published as a model file and has no assignments", 502: "as a run's export" },
    },
  },
  "/api/v1/compare": {
    get: {
      summary: "Two succeeded runs' segments compared (as segmenta compare does): the migration matrix, flows largest first, adjusted Rand index and NMI, customers in one only, a summary in segment names; ?changes=true adds every change",
      scope: "read", query: ["before", "after", "changes"],
      responses: { 200: "{ before, after, common, onlyBefore, onlyAfter, stayed, moved, matrix, flows, adjustedRand, nmi, summary, changeCount, changes? }", 400: "before or after missing, or no customer in common", 404: "unknown run", 409: "a run has not succeeded" },
    },
  },
  "/api/v1/models/{name}/history": {
    get: {
      summary: "A model over time: each version's segment sizes (for the versions published from a run, whose customers the store keeps) and the flows between consecutive such versions",
      scope: "read", responses: { 200: "{ name, versions: [{ version, publishedAt, active, runId, customers, segments }], flows: [{ from, to, common, stayed, moved, flows, adjustedRand, nmi, summary, changeCount }] }", 404: "unknown model" },
    },
  },
  "/api/v1/models": {
    post: {
      summary: "Publish a model: a model file as the body with ?name=, or { name, runId } for a succeeded run's model; it becomes the name's next, active version",
      scope: "admin", query: ["name"], body: { "application/json": { schema: { type: "object" } } },
      responses: { 201: "{ name, version, active: true, assignments } (assignments: the customers of a published run recorded in the history; 0 for a model file)", 400: "not a valid model file, or a bad name", 404: "unknown run" },
    },
    get: { summary: "Every model name with its active version", scope: "read", responses: { 200: "{ models: [...] }" } },
  },
  "/api/v1/models/{name}": { get: { summary: "The active version's metadata and every version", scope: "read", responses: { 200: "the model", 404: "unknown name" } } },
  "/api/v1/models/{name}/versions/{v}": { get: { summary: "One version, with its model file", scope: "read", responses: { 200: "the version", 404: "unknown version" } } },
  "/api/v1/models/{name}/score": {
    post: {
      summary: "Score rows with the active version (or ?version=), exactly as segmenta predict does: one { id, segment, name, probability?, outlier? } per row, in order. A model fitted on a transaction log's features (cluster --transactions) also scores the log itself: one result per customer, the features computed as of ?asOf= (default the day after the last transaction), with `transactions` describing them",
      scope: "score", query: ["version", "asOf"],
      body: {
        "application/json": { schema: { type: "object", required: ["rows"], properties: { rows: { type: "array", items: { type: "object" } } } } },
        "application/x-ndjson": { schema: { type: "string", description: "one JSON object of column values per line" } },
        "text/csv": { schema: { type: "string", description: "a header and one line per row, read as segmenta predict reads a file" } },
      },
      responses: { 200: "{ model, version, results: [...], warnings }", 400: "the rows lack columns the model needs", 404: "unknown model" },
    },
  },
};

let configSchema: unknown = null;

/** The configuration's JSON Schema (from the one zod schema the CLI, the API and model files share). */
function segmentationConfigSchema(): unknown {
  configSchema ??= z.toJSONSchema(SegmentationConfig, { io: "input", unrepresentable: "any" });
  return configSchema;
}

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [path, ops] of Object.entries(ROUTES)) {
    const item: Record<string, unknown> = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
      for (const q of op.query ?? []) params.push({ name: q, in: "query", required: false, schema: { type: "string" } });
      item[method] = {
        summary: op.summary,
        ...(op.scope === "public" ? { security: [] } : { "x-scope": op.scope }),
        ...(params.length ? { parameters: params } : {}),
        ...(op.body ? { requestBody: { required: true, content: op.body } } : {}),
        responses: Object.fromEntries(Object.entries({ ...op.responses, ...(op.scope === "public" ? {} : { 429: "more requests than the token's rate limit (Retry-After says when to try again)" }) })
          .map(([code, description]) => [code, { description, ...(Number(code) >= 400 ? { content: { "application/json": { schema: error } } } : {}) }])),
      };
    }
    paths[path] = item;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Segmenta", version, description: "Customer segmentation: datasets, runs, models and scoring. Every route but /healthz needs Authorization: Bearer <token> (segmenta token create)." },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["message"], properties: { message: { type: "string" }, field: { type: "string" } } } } },
        SegmentationConfig: segmentationConfigSchema(),
        ExportRequest: {
          description: "One destination: format (with email), webhook or postgres",
          oneOf: [
            { type: "object", required: ["format", "email"], properties: { format: { enum: ["hubspot", "mailchimp", "klaviyo", "salesforce"] }, email: { type: "string", description: "the email column" }, contacts: { type: "string", description: "the id of an uploaded dataset with the id and email columns (default: the run's dataset)" } } },
            { type: "object", required: ["webhook"], properties: { webhook: { type: "object", required: ["url", "secret"], properties: {
              url: { type: "string" }, secret: { type: "string" }, batchSize: { type: "integer", minimum: 1 },
              send: { enum: ["changes", "assignments"], description: "changes: the segment changes since the run's previous segmentation ({ id, date, from, fromName, to, toName }, the default for a run made with previous); assignments: every customer's segment (the default otherwise)" },
            } } } },
            { type: "object", required: ["postgres"], properties: { postgres: { type: "object", required: ["url", "table"], properties: { url: { type: "string" }, table: { type: "string" } } } } },
          ],
        },
      },
    },
  };
}

/** A page listing the routes of the document: no script, no external resource. */
export function docsHtml(doc: Record<string, unknown>): string {
  const info = doc.info as { title: string; version: string; description: string };
  const rows: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { summary: string; "x-scope"?: string; parameters?: { name: string; in: string }[] }>>)) {
    for (const [method, op] of Object.entries(item)) {
      const query = (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name);
      rows.push(
        `<tr><td class="m">${escapeHtml(method.toUpperCase())}</td><td><code>${escapeHtml(path)}</code>${query.length ? `<br><small>query: ${escapeHtml(query.join(", "))}</small>` : ""}</td>` +
          `<td>${escapeHtml(op["x-scope"] ?? "none")}</td><td>${escapeHtml(op.summary)}</td></tr>`,
      );
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)} API ${escapeHtml(info.version)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}.m{font-weight:600;font-family:monospace}code{font-size:.95em}</style>
</head><body>
<h1>${escapeHtml(info.title)} API <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)}</p>
<p>The machine-readable document, with the configuration's JSON Schema: <code>GET /openapi.json</code>.</p>
<table><thead><tr><th>method</th><th>path</th><th>token scope</th><th>what it does</th></tr></thead><tbody>
${rows.join("\n")}
</tbody></table>
</body></html>
`;
}
