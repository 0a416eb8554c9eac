/**
 * Scoring through the HTTP API equals `segmenta predict` row for row, on the shared real tables
 * (skipped with a message where ../shared/data is absent): Telco with every algorithm that
 * writes a model file, the earlier Telco and Mall configurations from every kind of body, and
 * the Online Retail transaction log scored by a model fitted on its RFM features (the model
 * records the log's mapping; the server computes the features as predict does).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec, lit } from "../src/io/duck.js";
import { AVAILABLE_ALGORITHMS } from "../src/pipeline/config.js";
import { buildServer } from "../src/server/app.js";
import { type HistoryStore, openStore } from "../src/server/store.js";
import { createToken } from "../src/server/tokens.js";
import { csvCells, lines, runMain } from "./helpers/cli.js";

const shared = (name: string) => fileURLToPath(new URL(`../../shared/data/${name}`, import.meta.url));
const TELCO = shared("WA_Fn-UseC_-Telco-Customer-Churn.csv");
const MALL = shared("Mall_Customers.csv");
const RETAIL = shared("online_retail.parquet");
if (!existsSync(TELCO)) console.warn("server-score: the shared data (../shared/data) is absent; the scoring comparisons are skipped");

let dir: string;
let work: string;
let store: HistoryStore;
let app: FastifyInstance;
let base: string;
let admin = "";
let scorer = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmenta-serve-score-"));
  work = await mkdtemp(join(tmpdir(), "segmenta-serve-score-work-"));
  store = await openStore(dir);
  const a = createToken();
  const s = createToken();
  await store.addToken("admin", "admin", a.hash);
  await store.addToken("score", "score", s.hash);
  admin = a.token;
  scorer = s.token;
  // The Online Retail log as a CSV body is about 45 MB.
  app = await buildServer({ dataDir: dir, store, uploadLimit: 256 * 1024 * 1024, concurrency: 1 });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  for (const d of [dir, work]) if (d) await rm(d, { recursive: true, force: true });
});

interface Result { id: string; segment: number; name: string; probability?: number; outlier?: boolean }

/** predict's output file as the API's results (probabilities compared to 12 digits: the CSV holds DuckDB's shortest text). */
async function predictedResults(csv: string): Promise<Result[]> {
  const [head, ...rows] = lines(await readFile(csv, "utf8")).map(csvCells);
  const col = (n: string) => head.indexOf(n);
  return rows.map((c) => ({
    id: c[0], segment: Number(c[col("segment")]), name: c[col("segment_name")],
    ...(col("probability") >= 0 ? { probability: Number(Number(c[col("probability")]).toPrecision(12)) } : {}),
    ...(col("outlier") >= 0 ? { outlier: c[col("outlier")] === "1" } : {}),
  }));
}
function rounded(rs: Result[]): Result[] {
  return rs.map((r) => ({ ...r, ...(r.probability !== undefined ? { probability: Number(r.probability.toPrecision(12)) } : {}) }));
}

async function publish(name: string, modelPath: string): Promise<void> {
  const r = await fetch(`${base}/api/v1/models?name=${name}`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: await readFile(modelPath, "utf8") });
  expect(r.status, await r.clone().text()).toBe(201);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function score(name: string, body: string, contentType: string, query = ""): Promise<any> {
  const r = await fetch(`${base}/api/v1/models/${name}/score${query}`, { method: "POST", headers: { authorization: `Bearer ${scorer}`, "content-type": contentType }, body });
  const text = await r.text();
  expect(r.status, text.slice(0, 500)).toBe(200);
  return JSON.parse(text);
}

/** The cells of a CSV file as JSON records: as text, and typed as a JSON client would send them (numbers as numbers). */
async function records(path: string): Promise<{ asText: Record<string, string>[]; typed: Record<string, unknown>[] }> {
  const [head, ...body] = lines(await readFile(path, "utf8")).map(csvCells);
  const asText = body.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i]])));
  const typed = body.map((cells) => Object.fromEntries(head.map((h, i) => [h, /^-?\d+(\.\d+)?$/.test(cells[i]) && !/^0\d/.test(cells[i]) ? Number(cells[i]) : cells[i]])));
  return { asText, typed };
}

/** Fits with segmenta cluster, predicts the same file with segmenta predict, publishes the model; returns predict's results. */
async function fitAndPredict(name: string, file: string, args: string[]): Promise<Result[]> {
  const model = join(work, `${name}.json`);
  const fit = await runMain(["cluster", file, ...args, "--model", model, "--out", join(work, `${name}-fit.csv`)]);
  expect(fit.status, fit.stderr).toBe(0);
  const out = join(work, `${name}-predicted.csv`);
  const predicted = await runMain(["predict", "--model", model, file, "--out", out]);
  expect(predicted.status, predicted.stderr).toBe(0);
  await publish(name, model);
  return predictedResults(out);
}

describe.skipIf(!existsSync(TELCO))("the API scores as segmenta predict does", () => {
  // Every algorithm with a model file, on Telco's numbers and its contract type (TotalCharges
  // has blanks, read as predict reads them), from a CSV body and from typed JSON records.
  const features = ["--features", "tenure,MonthlyCharges,TotalCharges,Contract"];
  const perAlgorithm: Record<(typeof AVAILABLE_ALGORITHMS)[number], string[]> = {
    kmeans: ["--k", "4", "--seed", "1"],
    "minibatch-kmeans": ["--k", "4", "--seed", "1"],
    agglomerative: ["--k", "4"],
    gmm: ["--k", "3", "--seed", "1"],
    dbscan: [],
    hdbscan: [],
    optics: [],
  };
  it("covers every algorithm that writes a model file", () => {
    expect(Object.keys(perAlgorithm).sort()).toEqual([...AVAILABLE_ALGORITHMS].sort());
  });
  for (const algorithm of AVAILABLE_ALGORITHMS) {
    it(`Telco, ${algorithm}: every row from a CSV body, JSON records (typed and as text) and NDJSON`, async () => {
      const name = `telco-${algorithm}`;
      const expected = await fitAndPredict(name, TELCO, ["--algorithm", algorithm, ...features, ...perAlgorithm[algorithm]]);
      expect(expected).toHaveLength(7043);
      const { asText, typed } = await records(TELCO);
      const bodies: [string, string][] = [
        [await readFile(TELCO, "utf8"), "text/csv"],
        [JSON.stringify({ rows: typed }), "application/json"],
        [JSON.stringify({ rows: asText }), "application/json"],
        [typed.map((r) => JSON.stringify(r)).join("\n"), "application/x-ndjson"],
      ];
      for (const [body, type] of bodies) expect(rounded((await score(name, body, type)).results), type).toEqual(expected);
      // More than one segment, so that the comparison means something.
      expect(new Set(expected.map((e) => e.segment)).size).toBeGreaterThan(1);
    }, 180_000);
  }

  // Earlier configurations (all columns, profiles, Mall's leading-zero ids), from every kind of body.
  const configs: [string, string, string[]][] = [
    [TELCO, "telco-all", ["--k", "4", "--profile", "Churn", "--seed", "1"]],
    [MALL, "mall", ["--k", "5", "--seed", "2"]],
    [MALL, "mall-dbscan", ["--algorithm", "dbscan", "--features", "Annual Income (k$),Spending Score (1-100)"]],
  ];
  for (const [file, name, args] of configs) {
    it(`${name} (${args.join(" ")}): JSON typed and as text, NDJSON and CSV bodies`, async () => {
      const expected = await fitAndPredict(name, file, args);
      const { asText, typed } = await records(file);
      const bodies: [string, string][] = [
        [JSON.stringify({ rows: typed }), "application/json"],
        [JSON.stringify({ rows: asText }), "application/json"],
        [typed.map((r) => JSON.stringify(r)).join("\n"), "application/x-ndjson"],
        [await readFile(file, "utf8"), "text/csv"],
      ];
      for (const [body, type] of bodies) expect(rounded((await score(name, body, type)).results), type).toEqual(expected);
    }, 180_000);
  }
});

describe.skipIf(!existsSync(RETAIL))("the API scores a transaction log as segmenta predict does (Online Retail RFM)", () => {
  let log = "";
  let slice = "";
  let model = "";
  beforeAll(async () => {
    // The log as a client would send it: CSV text (and a slice of it, for JSON records).
    log = join(work, "retail.csv");
    slice = join(work, "retail-slice.csv");
    await exec(`COPY (SELECT * FROM read_parquet(${lit(RETAIL)})) TO ${lit(log)} (HEADER, DELIMITER ',')`);
    await exec(`COPY (SELECT * FROM read_parquet(${lit(RETAIL)}) LIMIT 30000) TO ${lit(slice)} (HEADER, DELIMITER ',')`);
    model = join(work, "retail.json");
    const fit = await runMain([
      "cluster", RETAIL, "--transactions", "--customer", "CustomerID", "--date", "InvoiceDate", "--quantity", "Quantity", "--price", "UnitPrice",
      "--invoice", "InvoiceNo", "--k", "4", "--seed", "1", "--model", model, "--out", join(work, "retail-fit.csv"),
    ]);
    expect(fit.status, fit.stderr).toBe(0);
    await publish("retail", model);
  }, 300_000);

  async function predictLog(file: string, out: string, asOf?: string): Promise<Result[]> {
    const r = await runMain(["predict", "--model", model, file, "--out", out, ...(asOf ? ["--as-of", asOf] : [])]);
    expect(r.status, r.stderr).toBe(0);
    return predictedResults(out);
  }

  it("the whole log as a CSV body: every customer's features computed as predict computes them (as of the day after the last transaction, and as of a given day)", async () => {
    const model = JSON.parse(await readFile(join(work, "retail.json"), "utf8"));
    expect(model.transactions).toMatchObject({ kind: "rfm", customer: "CustomerID", date: "InvoiceDate" });
    const text = await readFile(log, "utf8");
    const expected = await predictLog(log, join(work, "retail-predicted.csv"));
    expect(expected.length).toBeGreaterThan(4000);
    const scored = await score("retail", text, "text/csv");
    expect(scored.results).toEqual(expected);
    expect(scored.transactions.customers).toBe(expected.length);
    const asOf = await predictLog(log, join(work, "retail-predicted-asof.csv"), "2012-01-01");
    const scoredAsOf = await score("retail", text, "text/csv", "?asOf=2012-01-01");
    expect(scoredAsOf.results).toEqual(asOf);
    // A later as-of day moves customers (recency grows): the comparison is not of a constant.
    expect(asOf.map((r) => r.segment)).not.toEqual(expected.map((r) => r.segment));
  }, 300_000);

  it("a slice of the log as JSON records and NDJSON (numbers as numbers); a bad asOf is a 400 naming asOf", async () => {
    const expected = await predictLog(slice, join(work, "slice-predicted.csv"));
    const { typed } = await records(slice);
    expect(rounded((await score("retail", JSON.stringify({ rows: typed }), "application/json")).results)).toEqual(expected);
    expect(rounded((await score("retail", typed.map((r) => JSON.stringify(r)).join("\n"), "application/x-ndjson")).results)).toEqual(expected);
    const bad = await fetch(`${base}/api/v1/models/retail/score?asOf=someday`, { method: "POST", headers: { authorization: `Bearer ${scorer}`, "content-type": "text/csv" }, body: await readFile(slice, "utf8") });
    expect(bad.status).toBe(400);
    const e = ((await bad.json()) as { error: { field?: string; message: string } }).error;
    expect(e.field).toBe("asOf");
    expect(e.message).not.toContain(work);
  }, 300_000);
});

it.skipIf(!existsSync(MALL))("asOf on a model not fitted on a log is a 400 naming asOf", async () => {
  const model = join(work, "mall-plain.json");
  const fit = await runMain(["cluster", MALL, "--k", "3", "--model", model, "--out", join(work, "mall-plain.csv")]);
  expect(fit.status, fit.stderr).toBe(0);
  await publish("mall-plain", model);
  const r = await fetch(`${base}/api/v1/models/mall-plain/score?asOf=2011-01-01`, { method: "POST", headers: { authorization: `Bearer ${scorer}`, "content-type": "text/csv" }, body: await readFile(MALL, "utf8") });
  expect(r.status).toBe(400);
  expect(((await r.json()) as { error: unknown }).error).toMatchObject({ field: "asOf", message: expect.stringMatching(/not fitted on one/) });
});
