/**
 * Webhook delivery of segment assignments: batches POSTed as JSON, each signed with
 * HMAC-SHA256 of its raw body (header X-Segmenta-Signature: sha256=<hex>) and carrying an
 * Idempotency-Key. The key depends only on the export's content (model and assignments), the
 * batch size and the batch's index, so a re-run of the same export sends the same keys and a
 * receiver can drop what it already has. Network errors, 429 and 5xx are retried with
 * exponential backoff; other answers fail the batch at once. Batches go in order, and the
 * first batch that finally fails stops the delivery: it is reported, never dropped.
 */
import { createHash, createHmac } from "node:crypto";
import { InputError } from "../../core/errors.js";
import type { SegmentChange } from "../../pipeline/changes.js";
import type { Assignment } from "./source.js";

export const SIGNATURE_HEADER = "X-Segmenta-Signature";
export const DEFAULT_BATCH_SIZE = 500;
/** Waits before the 2nd, 3rd, 4th and 5th attempts. */
export const DEFAULT_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];

export interface WebhookOptions {
  url: string;
  secret: string;
  batchSize?: number;
  /** The model the assignments come from (sent as "model" when given). */
  model?: string | null;
  /** The export's time (default now). */
  exportedAt?: string;
  /** Waits between attempts, in ms; attempts = delays + 1 (default 0.5 s, 1 s, 2 s, 4 s: 5 attempts). */
  delaysMs?: readonly number[];
  /** The most a Retry-After header may make us wait, in ms (default 60 s). */
  maxRetryAfterMs?: number;
  /** Timeout of one attempt, in ms (default 30 s). */
  timeoutMs?: number;
  /** Called after each delivered batch. */
  onBatch?: (index: number, count: number) => void;
  userAgent?: string;
}

export interface WebhookFailure {
  /** 1-based index of the batch that failed. */
  batch: number;
  attempts: number;
  /** The last attempt's outcome: "HTTP 503 Service Unavailable" or the network error. */
  message: string;
  status: number | null;
}

export interface WebhookResult {
  batches: number;
  deliveredBatches: number;
  /** Assignments in delivered batches. */
  delivered: number;
  total: number;
  failure: WebhookFailure | null;
}

/** Checks a webhook URL: http or https only, with a host. Throws an InputError naming --webhook. */
export function checkWebhookUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--webhook ${url} is not a URL; give one such as https://example.com/segments`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new InputError(`--webhook ${url}: only http:// and https:// URLs are allowed`);
  }
  if (!u.hostname) throw new InputError(`--webhook ${url} has no host`);
  if (u.username || u.password) throw new InputError(`--webhook ${url}: put no credentials in the URL; the requests are signed with --secret`);
  return u;
}

/** The hex HMAC-SHA256 signature header value of a raw body. */
export function signBody(body: string | Buffer, secret: string): string {
  return "sha256=" + createHmac("sha256", secret).update(body).digest("hex");
}

/** The hash of an export's content: its model and every assignment, in order. */
export function exportHash(assignments: Assignment[], model: string | null | undefined): string {
  const h = createHash("sha256");
  h.update(`segmenta-export-v1\n${model ?? ""}\n`);
  for (const a of assignments) h.update(`${JSON.stringify(a.id)}\t${a.segment}\t${JSON.stringify(a.name)}\n`);
  return h.digest("hex");
}

/** The idempotency key of a batch: deterministic in the export's content, batch size and index. */
export function idempotencyKey(contentHash: string, batchSize: number, index: number): string {
  return createHash("sha256").update(`${contentHash}:${batchSize}:${index}`).digest("hex").slice(0, 40);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The hash of a changes export's content: its model and every change, in order. */
export function changesHash(changes: readonly SegmentChange[], model: string | null | undefined): string {
  const h = createHash("sha256");
  h.update(`segmenta-changes-v1\n${model ?? ""}\n`);
  for (const c of changes) h.update(`${JSON.stringify([c.id, c.date, c.from, c.fromName, c.to, c.toName, c.value ?? null])}\n`);
  return h.digest("hex");
}

/**
 * Sends segment changes (pipeline/changes.ts's one format: { id, date, from, fromName, to,
 * toName }) in batches as sendWebhook sends assignments: the same signature, retries and
 * idempotency keys, the batch's items under "changes".
 */
export async function sendChangesWebhook(changes: readonly SegmentChange[], options: WebhookOptions): Promise<WebhookResult> {
  return sendBatches(changes, "changes", changesHash(changes, options.model), options);
}

/** Sends every assignment, in batches, in order; stops at the first batch that finally fails. */
export async function sendWebhook(assignments: Assignment[], options: WebhookOptions): Promise<WebhookResult> {
  return sendBatches(
    assignments.map((a) => ({ id: a.id, segment: a.segment, name: a.name })), "assignments", exportHash(assignments, options.model), options,
  );
}

async function sendBatches(items: readonly unknown[], key: "assignments" | "changes", hash: string, options: WebhookOptions): Promise<WebhookResult> {
  const url = checkWebhookUrl(options.url).toString();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`--batch-size ${batchSize}: give a whole number ≥ 1`);
  if (!options.secret) throw new InputError("--secret: give the shared secret the receiver checks signatures with");
  const delays = options.delaysMs ?? DEFAULT_DELAYS_MS;
  const exportedAt = options.exportedAt ?? new Date().toISOString();
  const count = Math.ceil(items.length / batchSize);
  const result: WebhookResult = { batches: count, deliveredBatches: 0, delivered: 0, total: items.length, failure: null };
  for (let index = 0; index < count; index++) {
    const part = items.slice(index * batchSize, (index + 1) * batchSize);
    const idempotency = idempotencyKey(hash, batchSize, index);
    const body = JSON.stringify({
      ...(options.model ? { model: options.model } : {}),
      exportedAt,
      batch: { index, count, idempotencyKey: idempotency },
      [key]: part,
    });
    const failure = await deliver(url, body, idempotency, options, delays);
    if (failure) {
      result.failure = { ...failure, batch: index + 1 };
      return result;
    }
    result.deliveredBatches++;
    result.delivered += part.length;
    options.onBatch?.(index, count);
  }
  return result;
}

/** One batch with its retries: null when delivered, else the last attempt's outcome. */
async function deliver(url: string, body: string, key: string, options: WebhookOptions, delays: readonly number[]): Promise<Omit<WebhookFailure, "batch"> | null> {
  const headers = {
    "Content-Type": "application/json; charset=utf-8",
    [SIGNATURE_HEADER]: signBody(body, options.secret),
    "Idempotency-Key": key,
    "User-Agent": options.userAgent ?? "segmenta-export",
  };
  let last: Omit<WebhookFailure, "batch"> = { attempts: 0, message: "not sent", status: null };
  for (let attempt = 1; attempt <= delays.length + 1; attempt++) {
    let retryAfterMs = 0;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      // Drain the answer so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return null;
      const message = `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}` +
        (res.status >= 300 && res.status < 400 ? ` (a redirect${res.headers.get("location") ? " to " + res.headers.get("location") : ""}: give the final URL)` : "");
      last = { attempts: attempt, message, status: res.status };
      if (res.status !== 429 && res.status < 500) return last; // the receiver refuses it: retrying would not help
      retryAfterMs = retryAfter(res.headers.get("retry-after"), options.maxRetryAfterMs ?? 60_000);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const detail = err.name === "TimeoutError" ? "timed out" : (err.cause?.code ?? err.cause?.message ?? err.message);
      last = { attempts: attempt, message: `network error: ${detail}`, status: null };
    }
    if (attempt <= delays.length) await sleep(Math.max(delays[attempt - 1], retryAfterMs));
  }
  return last;
}

/** A Retry-After header (seconds or an HTTP date) in ms, capped; 0 when absent or unreadable. */
function retryAfter(v: string | null, cap: number): number {
  if (!v) return 0;
  const s = Number(v);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, cap) : 0;
}
