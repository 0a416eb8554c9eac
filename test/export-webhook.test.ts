/**
 * `segmenta export --webhook`: a real HTTP receiver on 127.0.0.1 checks every request's
 * HMAC-SHA256 signature (answering 401 when it does not match) and fails deliveries on
 * purpose. Checked: the batches' bodies and order, a 503 retried and delivered with the same
 * key and body, a receiver that always fails (reported with the delivered count, exit 1),
 * 4xx not retried, network errors retried, the same idempotency keys on a re-run, and the
 * source read from a run of segmenta serve (its published model named in the body).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeColumns } from "../src/io/write.js";
import { exportHash, idempotencyKey, sendWebhook } from "../src/server/export/webhook.js";
import type { Assignment } from "../src/server/export/source.js";
import { openStore } from "../src/server/store.js";
import { run } from "./helpers/cli.js";

const SECRET = "s3cret-for-tests";

interface Received {
  key: string;
  body: string;
  json: { model?: string; exportedAt: string; batch: { index: number; count: number; idempotencyKey: string }; assignments: Assignment[] };
  status: number;
}

/** A receiver: checks the signature (401 when wrong), then answers as `decide` says. */
async function receiver(decide: (r: { index: number; attempt: number }) => number): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const attempts = new Map<number, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from("sha256=" + createHmac("sha256", SECRET).update(raw).digest("hex"));
      const sig = Buffer.from(String(req.headers["x-segmenta-signature"] ?? ""));
      if (req.method !== "POST" || req.headers["content-type"]?.startsWith("application/json") !== true || sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
        res.statusCode = 401;
        res.end("bad signature");
        return;
      }
      const json = JSON.parse(raw.toString("utf8")) as Received["json"];
      const index = json.batch.index;
      const attempt = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, attempt);
      const status = decide({ index, attempt });
      got.push({ key: String(req.headers["idempotency-key"]), body: raw.toString("utf8"), json, status });
      res.statusCode = status;
      res.end(status < 300 ? '{"ok":true}' : "no");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/segments`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const ASSIGNMENTS: Assignment[] = [
  { id: "007", segment: 0, name: "Big spenders" },
  { id: "12", segment: 1, name: "Loyal, young" },
  { id: "13", segment: -1, name: "Outliers" },
  { id: "14", segment: 0, name: "Big spenders" },
  { id: "15", segment: 2, name: "=cmd" },
];
const FAST = [10, 20, 40, 80];

let dir: string;
let seg: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "segmenta-export-webhook-"));
  seg = join(dir, "segments.csv");
  writeFileSync(seg, ["customer_id,segment,segment_name", ...ASSIGNMENTS.map((a) => `${a.id},${a.segment},${JSON.stringify(a.name)}`)].join("\n") + "\n");
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("webhook delivery", () => {
  it("signed batches in order; batch 2's first attempt fails with 503, is retried with the same key and body, and delivered", async () => {
    const rx = await receiver(({ index, attempt }) => (index === 1 && attempt === 1 ? 503 : 200));
    try {
      const r = await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: SECRET, batchSize: 2, model: "crm@3", exportedAt: "2026-01-02T03:04:05.000Z", delaysMs: FAST });
      expect(r).toEqual({ batches: 3, deliveredBatches: 3, delivered: 5, total: 5, failure: null });
      expect(rx.got.map((g) => [g.json.batch.index, g.status])).toEqual([[0, 200], [1, 503], [1, 200], [2, 200]]);
      expect(rx.got[1].key).toBe(rx.got[2].key);
      expect(rx.got[1].body).toBe(rx.got[2].body);
      expect(new Set(rx.got.map((g) => g.key)).size).toBe(3);
      for (const g of rx.got) expect(g.key).toBe(g.json.batch.idempotencyKey);
      expect(rx.got[0].json).toEqual({
        model: "crm@3",
        exportedAt: "2026-01-02T03:04:05.000Z",
        batch: { index: 0, count: 3, idempotencyKey: rx.got[0].key },
        assignments: ASSIGNMENTS.slice(0, 2),
      });
      expect(rx.got[3].json.assignments).toEqual([{ id: "15", segment: 2, name: "=cmd" }]);
    } finally {
      await rx.close();
    }
  });

  it("a re-run sends the same idempotency keys; other content gets other keys", async () => {
    const rx = await receiver(() => 200);
    try {
      await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: SECRET, batchSize: 2, delaysMs: FAST });
      await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: SECRET, batchSize: 2, delaysMs: FAST });
      const keys = rx.got.map((g) => g.key);
      expect(keys.slice(3)).toEqual(keys.slice(0, 3));
      const h = exportHash(ASSIGNMENTS, null);
      expect(keys.slice(0, 3)).toEqual([0, 1, 2].map((i) => idempotencyKey(h, 2, i)));
      const moved = ASSIGNMENTS.map((a, i) => (i === 4 ? { ...a, segment: 1, name: "Loyal, young" } : a));
      expect(exportHash(moved, null)).not.toBe(h);
      expect(exportHash(ASSIGNMENTS, "crm@1")).not.toBe(h);
    } finally {
      await rx.close();
    }
  });

  it("a receiver that always fails: 5 attempts, reported with what was delivered before", async () => {
    const rx = await receiver(({ index }) => (index >= 1 ? 503 : 200));
    try {
      const r = await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: SECRET, batchSize: 2, delaysMs: FAST });
      expect(r.deliveredBatches).toBe(1);
      expect(r.delivered).toBe(2);
      expect(r.failure).toEqual({ batch: 2, attempts: 5, message: "HTTP 503 Service Unavailable", status: 503 });
      // Stops at the failed batch: batch 3 is never sent.
      expect(rx.got.map((g) => g.json.batch.index)).toEqual([0, 1, 1, 1, 1, 1]);
    } finally {
      await rx.close();
    }
  });

  it("429 is retried; other 4xx (a wrong secret: 401) are not", async () => {
    const rx = await receiver(({ attempt }) => (attempt === 1 ? 429 : 200));
    try {
      const ok = await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: SECRET, batchSize: 5, delaysMs: FAST });
      expect(ok.failure).toBeNull();
      expect(rx.got.map((g) => g.status)).toEqual([429, 200]);
      const bad = await sendWebhook(ASSIGNMENTS, { url: rx.url, secret: "wrong", batchSize: 5, delaysMs: FAST });
      expect(bad.failure).toEqual({ batch: 1, attempts: 1, message: "HTTP 401 Unauthorized", status: 401 });
      expect(bad.delivered).toBe(0);
    } finally {
      await rx.close();
    }
  });

  it("network errors are retried, then reported", async () => {
    const rx = await receiver(() => 200);
    const url = rx.url;
    await rx.close(); // nothing listens there any more
    const r = await sendWebhook(ASSIGNMENTS, { url, secret: SECRET, batchSize: 2, delaysMs: [5, 5] });
    expect(r.failure?.attempts).toBe(3);
    expect(r.failure?.message).toMatch(/^network error: ECONNREFUSED/);
    expect(r.delivered).toBe(0);
  });
});

describe("segmenta export --webhook", () => {
  it("delivers every batch (a 503 retried after 0.5 s); a re-run sends the same keys", async () => {
    const rx = await receiver(({ index, attempt }) => (index === 1 && attempt === 1 ? 503 : 200));
    try {
      const r = await run(["export", seg, "--webhook", rx.url, "--secret", SECRET, "--batch-size", "2"]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`5 of 5 assignments delivered in 3 of 3 batches to ${rx.url}`);
      expect(r.err).toBe("");
      const delivered = rx.got.filter((g) => g.status === 200);
      expect(delivered.flatMap((g) => g.json.assignments)).toEqual(ASSIGNMENTS);
      expect(delivered[0].json.model).toBeUndefined();
      const again = await run(["export", seg, "--webhook", rx.url, "--secret", SECRET, "--batch-size", "2", "--json"]);
      expect(again.code, again.err).toBe(0);
      expect(JSON.parse(again.out)).toMatchObject({ source: seg, delivered: 5, total: 5, batches: 3, failure: null });
      expect(rx.got.slice(-3).map((g) => g.key)).toEqual(delivered.map((g) => g.key));
    } finally {
      await rx.close();
    }
  });

  it("a refused batch: exit 1, the delivered count and the failure in one line on stderr", async () => {
    const rx = await receiver(({ index }) => (index === 2 ? 422 : 200));
    try {
      const r = await run(["export", seg, "--webhook", rx.url, "--secret", SECRET, "--batch-size", "2"]);
      expect(r.code).toBe(1);
      expect(r.out).toBe("");
      expect(r.err.split("\n")).toHaveLength(1);
      expect(r.err).toBe(
        "segmenta export: 4 of 5 assignments delivered in 2 of 3 batches; batch 3 failed after 1 attempt (HTTP 422 Unprocessable Entity); run the same export again to resume (the receiver gets the same idempotency keys)",
      );
    } finally {
      await rx.close();
    }
  });

  it("bad URLs and missing secrets: status 2", async () => {
    const cases: [string[], RegExp][] = [
      [["export", seg, "--webhook", "ftp://127.0.0.1/x", "--secret", "s"], /only http:\/\/ and https:\/\//],
      [["export", seg, "--webhook", "not a url", "--secret", "s"], /is not a URL/],
      [["export", seg, "--webhook", "http://u:p@127.0.0.1/x", "--secret", "s"], /no credentials/],
      [["export", seg, "--webhook", "http://127.0.0.1:9/x"], /--secret/],
      [["export", seg, "--webhook", "http://127.0.0.1:9/x", "--secret", "s", "--batch-size", "0"], /--batch-size 0/],
      [["export", seg, "--webhook", "http://127.0.0.1:9/x", "--secret", "s", "--out", "x.csv"], /--out goes with --format/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it("--run ID --data DIR reads a run's segments; the body names the model version published from it", async () => {
    const data = join(dir, "data");
    const runDir = join(data, "runs", "r1");
    mkdirSync(runDir, { recursive: true });
    await writeColumns(join(runDir, "segments.parquet"), [
      { name: "customer_id", type: "VARCHAR", values: ASSIGNMENTS.map((a) => a.id) },
      { name: "segment", type: "INTEGER", values: ASSIGNMENTS.map((a) => a.segment) },
      { name: "segment_name", type: "VARCHAR", values: ASSIGNMENTS.map((a) => a.name) },
    ]);
    const store = await openStore(data);
    try {
      const now = new Date().toISOString();
      await store.addRun({ id: "r1", datasetId: "d1", config: {}, status: "succeeded", progress: 1, message: null, createdAt: now, startedAt: now, finishedAt: now, summary: null, error: null, dir: runDir });
      await store.addRun({ id: "r2", datasetId: "d1", config: {}, status: "failed", progress: 0, message: null, createdAt: now, startedAt: now, finishedAt: now, summary: null, error: "x", dir: join(data, "runs", "r2") });
      await store.addModelVersion("crm", { stand: "in" }, "abc", null);
      await store.addModelVersion("crm", { stand: "in" }, "abc", "r1");
    } finally {
      await store.close();
    }
    const rx = await receiver(() => 200);
    try {
      const r = await run(["export", "--run", "r1", "--data", data, "--webhook", rx.url, "--secret", SECRET]);
      expect(r.code, r.err).toBe(0);
      expect(rx.got).toHaveLength(1);
      expect(rx.got[0].json.model).toBe("crm@2");
      expect(rx.got[0].json.assignments).toEqual(ASSIGNMENTS);
      const failed = await run(["export", "--run", "r2", "--data", data, "--webhook", rx.url, "--secret", SECRET]);
      expect(failed.code).toBe(2);
      expect(failed.err).toMatch(/--run r2 is failed; only a succeeded run/);
      const unknown = await run(["export", "--run", "nope", "--data", data, "--webhook", rx.url, "--secret", SECRET]);
      expect(unknown.code).toBe(2);
      expect(unknown.err).toMatch(/--run nope: no such run/);
      expect(rx.got).toHaveLength(1);
    } finally {
      await rx.close();
    }
  });
});
