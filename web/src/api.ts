/**
 * The dashboard's client of the public HTTP API (the routes /openapi.json lists): every call
 * carries the token the user signed in with; an error answer becomes an ApiError with the
 * API's own message and field, shown where it happened.
 */

const TOKEN_KEY = "segmenta.token";

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

/** The API's error message of a failed response ({ error: { message, field } }), or its status. */
async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let field: string | undefined;
  try {
    const body = (await res.json()) as { error?: { message?: string; field?: string } };
    if (body?.error?.message) message = body.error.message;
    field = body?.error?.field;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, message, field);
}

function headers(token: string | null, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra };
}

export async function request(token: string | null, path: string, init: { method?: string; json?: unknown; accept?: string; signal?: AbortSignal } = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? (init.json !== undefined ? "POST" : "GET"),
      headers: headers(token, { ...(init.json !== undefined ? { "content-type": "application/json" } : {}), ...(init.accept ? { accept: init.accept } : {}) }),
      body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
      signal: init.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, `the server did not answer (${(e as Error).message}); is segmenta serve still running?`);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson<T>(token: string | null, path: string, init: { method?: string; json?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const res = await request(token, path, init);
  return (await res.json()) as T;
}

// ---- the API's shapes (as the dashboard reads them) ---------------------------------------

export interface ColumnInfo {
  name: string;
  kind: string;
  storedAs?: string;
  reason?: string;
  missing: number;
  distinct?: number;
  numeric?: { min: number; max: number; mean: number; median: number; std: number; skewness?: number };
  range?: { min: string; max: string };
  top?: { value: string; count: number }[];
  hints: string[];
  outcome?: boolean;
  codedCategory?: boolean;
  implausible?: unknown;
}

export interface DatasetInfo {
  id: string;
  name: string;
  format?: string;
  bytes?: number;
  rows: number;
  createdAt?: string;
  columns: ColumnInfo[] | null;
}

export interface SegmentSummary {
  segment: number;
  name: string;
  size: number;
  share: number;
}

export interface RunSummary {
  rows: number;
  k: number;
  silhouette: number | null;
  algorithm: string;
  segments: SegmentSummary[];
  outliers?: { name: string; size: number };
  warnings: string[];
}

export interface RunInfo {
  id: string;
  datasetId: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: number | null;
  message: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  summary: RunSummary | null;
  error: string | null;
  config: Record<string, unknown>;
}

export interface ModelInfo {
  name: string;
  version: number;
  active: boolean;
  createdAt: string;
  runId: string | null;
  checksum: string;
}

/** A dataset as the upload answers ({ columns: the inspect document }) or as GET answers ({ columns: [...] }). */
export function normaliseDataset(raw: unknown): DatasetInfo {
  const d = raw as Omit<DatasetInfo, "columns"> & { columns: unknown };
  const inner = d.columns as { columns?: unknown } | null;
  const columns = Array.isArray(d.columns) ? (d.columns as ColumnInfo[]) : inner && Array.isArray(inner.columns) ? (inner.columns as ColumnInfo[]) : null;
  return { ...d, columns };
}

/**
 * Uploads a file as the body (XMLHttpRequest: fetch has no upload progress), reporting the
 * share sent. Resolves with the dataset, rejects with the API's message.
 */
export function uploadDataset(token: string, file: File, onProgress: (fraction: number) => void): { promise: Promise<DatasetInfo>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<DatasetInfo>((resolve, reject) => {
    xhr.open("POST", `/api/v1/datasets?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("authorization", `Bearer ${token}`);
    // The format by the file's extension when the browser gives no type; else the server sniffs it.
    const ext = /\.([a-z0-9]+)(\.gz)?$/i.exec(file.name)?.[1]?.toLowerCase();
    const type = file.type || (ext === "csv" || ext === "tsv" || ext === "txt" ? "text/csv" : ext === "parquet" ? "application/vnd.apache.parquet" : ext === "json" || ext === "ndjson" ? "application/json" : "application/octet-stream");
    xhr.setRequestHeader("content-type", type);
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const body = xhr.response as { error?: { message?: string; field?: string } } | null;
      if (xhr.status >= 200 && xhr.status < 300) return resolve(normaliseDataset(body));
      reject(new ApiError(xhr.status, body?.error?.message ?? `${xhr.status} ${xhr.statusText}`, body?.error?.field));
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload did not reach the server; is segmenta serve still running?"));
    xhr.onabort = () => reject(new ApiError(0, "the upload was stopped"));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

export interface RunEvent {
  type: "progress" | "status";
  progress?: number | null;
  message?: string | null;
  status?: RunInfo["status"];
  summary?: RunSummary | null;
  error?: string | null;
}

/**
 * Follows GET /api/v1/runs/:id/events. EventSource cannot send an Authorization header, so
 * the stream is read with fetch and its server-sent events parsed here. Resolves when the
 * stream ends (after the run's final status) or the signal aborts.
 */
export async function followRun(token: string, runId: string, onEvent: (e: RunEvent) => void, signal: AbortSignal): Promise<void> {
  const res = await request(token, `/api/v1/runs/${encodeURIComponent(runId)}/events`, { accept: "text/event-stream", signal });
  if (!res.body) throw new ApiError(0, "the browser gave no stream of the run's events");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const data = block
          .split(/\r?\n/)
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data) onEvent(JSON.parse(data) as RunEvent);
      }
    }
  } catch (e) {
    if ((e as Error).name !== "AbortError") throw e;
  } finally {
    reader.releaseLock();
  }
}

/** Fetches a file of the API (with the token; a JSON body makes it a POST) and hands it to the browser as a download. */
export async function download(token: string, path: string, filename: string, json?: unknown): Promise<void> {
  const res = await request(token, path, json === undefined ? {} : { json });
  const disposition = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1];
  if (disposition) filename = filename.replace(/\{name\}/, disposition);
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
