import { readFile } from "node:fs/promises";
import { InputError } from "../core/errors.js";
import { readColumns } from "../io/extract.js";
import { checkInputFile, dropTable, type LoadedTable, loadTable } from "../io/read.js";
import { profileTable } from "../io/schema.js";
import { checkDistinctPaths, checkOutputPath, writeColumns } from "../io/write.js";
import { type LoadedModelFile, parseModelFile, predictWithModel } from "../pipeline/model.js";
import { type DriftReport, type FeatureDrift, driftReport, driftWarnings } from "../pipeline/drift.js";
import type { Dataset } from "../core/dataset.js";
import type { RfmMapping } from "../io/rfm.js";
import { type Io, onePositional, parse, pct, table } from "./common.js";
import { loadSource, sourceFromFlags, sourceLabel } from "../io/source.js";
import { limitDuckMemory } from "../io/stream-cluster.js";
import { memoryBudget, predictIfOverBudget, STREAM_OPTIONS, type StreamValues } from "./stream.js";
import { probabilityColumns } from "./cluster.js";
import { describeRfm, rfmJson, withRfmFile } from "./rfm.js";


export async function loadModelFile(path: string): Promise<LoadedModelFile> {
  await checkInputFile(path);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new InputError(`--model ${path} is not valid JSON (${(e as Error).message}); pass the file written by segmenta cluster --model`);
  }
  return parseModelFile(json, `--model ${path}`);
}

export async function predictCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<{ model?: string; out?: string; sheet?: string; "raw-csv"?: boolean; "as-of"?: string; probabilities?: boolean } & StreamValues>("predict", args, {
    model: { type: "string" },
    probabilities: { type: "boolean" },
    out: { type: "string" },
    sheet: { type: "string" },
    "raw-csv": { type: "boolean" },
    "as-of": { type: "string" },
    ...STREAM_OPTIONS,
  });
  // A database as the source (--source, --query | --table), and the memory budget (--memory).
  const source = sourceFromFlags(values, positionals, "predict");
  const memory = memoryBudget(values.memory);
  const file = source ? sourceLabel(source) : onePositional("predict", positionals, "data file");
  if (!values.model) throw new InputError("give the model with --model model.json (the file written by segmenta cluster --model)");
  if (!values.out) throw new InputError("give the output file with --out segments.csv");
  await checkOutputPath(values.out, "--out", "data");
  await checkDistinctPaths([...(source ? [] : [{ flag: "input", path: file }]), { flag: "--model", path: values.model }], [{ flag: "--out", path: values.out }]);
  const m = await loadModelFile(values.model);
  if (values.probabilities && m.file.model.type !== "GaussianMixture") {
    throw new InputError(`--probabilities gives every segment's probability, which Gaussian-mixture models have; ${values.model} holds a ${m.file.model.type} model`);
  }
  const tx = m.file.transactions;
  if (values["as-of"] !== undefined && !tx) {
    throw new InputError("--as-of dates the features of a transaction log: this model was not fitted on one (segmenta cluster --transactions)");
  }
  const opts = values as PredictValues;
  if (source && tx && values["as-of"] !== undefined) throw new InputError("--as-of scores a transaction log file; for a log in a database compute its RFM features with segmenta rfm --source");
  if (tx && values["as-of"] !== undefined) return scoreLog(file, m, opts, io);
  await limitDuckMemory(memory);
  // The id column is read as text, verbatim, as in training.
  const text = m.file.idColumn ? [m.file.idColumn] : [];
  const t = source ? await loadSource(source, { text }) : await loadTable(file, { sheet: values.sheet, text });
  try {
    if (!(tx && isTransactionLog(t, m))) {
      // Over the budget: scored chunk by chunk (src/io/stream-cluster.ts).
      const streamed = await predictIfOverBudget(t, file, m, opts, memory, io);
      return streamed ?? await scoreTable(t, file, m, opts, io);
    }
    if (source) throw new InputError(`${file} looks like a transaction log; compute its RFM features with segmenta rfm --source, then predict on them`);
  } finally {
    await dropTable(t);
  }
  return scoreLog(file, m, opts, io);
}

type PredictValues = { model: string; out: string; sheet?: string; "raw-csv"?: boolean; json?: boolean; "as-of"?: string; probabilities?: boolean };

/**
 * Whether a loaded file is a transaction log for a model fitted on one: it lacks some of the
 * model's feature columns and has the log's customer and date columns.
 */
export function isTransactionLog(t: LoadedTable, m: LoadedModelFile): boolean {
  const names = new Set(t.columns.map((c) => c.name));
  const tx = m.file.transactions!;
  return !m.file.columns.every((c) => names.has(c.name)) && names.has(tx.customer) && names.has(tx.date);
}

/**
 * A transaction log: its features are computed as in training, as of --as-of (default the
 * day after its last transaction), then scored.
 */
async function scoreLog(file: string, m: LoadedModelFile, values: PredictValues, io: Io): Promise<number> {
  return withLogFeatures(file, m, values, io, (t, extra) => scoreTable(t, file, m, values, io, extra));
}

/**
 * Computes the model's transaction features of a log as in training, as of --as-of (default the
 * day after its last transaction), says how (unless --json), and runs `use` on them as a loaded
 * table with the RFM summary for --json. Shared with segmenta drift.
 */
export async function withLogFeatures<T>(
  file: string, m: LoadedModelFile, values: { "as-of"?: string; sheet?: string; json?: boolean }, io: Io,
  use: (t: LoadedTable, extra: { rfm: ReturnType<typeof rfmJson> }) => Promise<T>,
): Promise<T> {
  const { kind: _kind, ...mapping } = m.file.transactions!;
  const map: RfmMapping = { ...mapping, asOf: values["as-of"] };
  return withRfmFile(file, map, {}, async (path, rfm) => {
    if (!values.json) {
      for (const line of describeRfm(rfm)) io.out(line);
      io.out("");
    }
    const t = await loadTable(path, { text: m.file.idColumn ? [m.file.idColumn] : [] });
    try {
      return await use(t, { rfm: rfmJson(file, rfm) });
    } finally {
      await dropTable(t);
    }
  }, { sheet: values.sheet });
}

/**
 * Reads the model's input columns (and its id column) of a loaded table as they were read in
 * training; a missing column is an InputError naming it. Shared with segmenta drift.
 */
export async function readModelInputs(t: LoadedTable, file: string, m: LoadedModelFile): Promise<Dataset> {
  const names = t.columns.map((c) => c.name);
  const needed = m.file.columns.map((c) => c.name);
  const missing = needed.filter((n) => !names.includes(n));
  if (missing.length) {
    throw new InputError(
      `${file} lacks ${missing.length === 1 ? "the column" : "the columns"} ${missing.map((n) => `"${n}"`).join(", ")} that the model needs; ` +
        `add ${missing.length === 1 ? "it" : "them"} (values may be empty) or fit a new model on this file` +
        (m.file.transactions ? `; or give the transaction log the model was fitted on the features of (columns ${m.file.transactions.customer}, ${m.file.transactions.date}, …)` : ""),
    );
  }
  // Read every input column as it was read in training.
  const types = Object.fromEntries(m.file.columns.map((c) => [c.name, c.kind]));
  const profile = await profileTable(t, types);
  const idColumn = m.file.idColumn && names.includes(m.file.idColumn) ? [m.file.idColumn] : [];
  const numeric = m.file.columns.filter((c) => c.kind === "numeric").map((c) => c.name);
  return readColumns(t, profile, [...new Set([...needed, ...idColumn])], numeric);
}

/** The drift field of predict --json: the columns (and segment shares) past the thresholds, and every PSI. */
function driftJson(report: DriftReport, lines: { warnings: string[]; notes: string[] }): unknown {
  const psi = (f: FeatureDrift) => ({ feature: f.feature, psi: f.psi, reading: f.reading });
  return { retrain: report.retrain, watch: report.watch, warnings: lines.warnings, notes: lines.notes, features: report.features.map(psi), segments: report.segments ? psi(report.segments) : null };
}

/** Scores the rows of a loaded table (the data file, or the features computed from a log) and writes --out. */
async function scoreTable(t: LoadedTable, file: string, m: LoadedModelFile, values: PredictValues, io: Io, extra: { rfm?: unknown } = {}): Promise<number> {
  const data = await readModelInputs(t, file, m);
  const p = predictWithModel(m, data);
  // Drift from the training data (models that record its distribution; older ones are skipped).
  const drift = driftReport(m, data, { labels: p.labels, names: p.names, noiseName: p.noiseName });
  const driftLines = drift ? driftWarnings(drift) : null;
  const k = m.model.nClusters;
  const sizes = new Array<number>(k).fill(0);
  let nNoise = 0;
  for (const l of p.labels) if (l >= 0) sizes[l]++;
  else nNoise++;
  const segmentNames = Array.from({ length: k }, (_, i) => p.names[i] ?? `Segment ${i}`);
  // A model fitted with --previous numbers its segments by their stable ids: the outputs show the ids.
  const ids = p.segmentIds ?? Array.from({ length: k }, (_, i) => i);
  const noiseName = p.noiseName ?? "Outliers";
  // Density-based models: outliers (segment −1) are flagged, as are rows outside an outlier rule's bounds.
  const outlier = p.noiseName !== null ? Uint8Array.from(p.labels, (l, i) => (l < 0 || (p.outliers?.[i] ?? 0) ? 1 : 0)) : p.outliers;
  const noiseRow = p.noiseName !== null ? [["-1", noiseName, String(nNoise), pct(nNoise / Math.max(1, data.rows))]] : [];
  const notes = p.note ? [p.note] : [];
  // Everything printed is prepared before the file is written: a failure leaves --out as it was.
  const printed = values.json
    ? [JSON.stringify({ file, model: values.model, rows: data.rows, k, sizes, names: segmentNames, ...(p.segmentIds ? { segmentIds: p.segmentIds } : {}), ...(p.noiseName !== null ? { outliers: nNoise, outlierName: noiseName } : {}), warnings: p.warnings, notes, ...(drift && driftLines ? { drift: driftJson(drift, driftLines) } : {}), ...extra, outputs: { out: values.out } }, null, 2)]
    : [
      `${file}: ${data.rows} rows scored with ${values.model} (k=${k})`,
      ...table(
        [["segment", "name", "customers", "share"], ...sizes.flatMap((s, i) => (s > 0 || k <= 50 ? [[String(ids[i]), segmentNames[i], String(s), pct(s / data.rows)]] : [])), ...noiseRow],
        [true, false, true, true],
      ).map((line) => `  ${line}`),
      ...(k > 50 ? [`  (${sizes.filter((s) => s === 0).length} of the ${k} segments have no rows here and are not listed)`] : []),
      ...notes.map((n) => `note: ${n}`),
      `segments written to ${values.out}`,
    ];
  for (const w of p.warnings) io.err(`warning: ${w}`);
  for (const w of driftLines?.warnings ?? []) io.err(`warning: ${w}`);
  for (const n of driftLines?.notes ?? []) io.err(`note: ${n}`);
  await writeColumns(values.out, [
    { name: m.file.idColumn ?? "row", type: m.file.idColumn ? "VARCHAR" : "INTEGER", values: p.ids },
    { name: "segment", type: "INTEGER", values: p.segmentIds ? Int32Array.from(p.labels, (l) => (l < 0 ? l : ids[l])) : p.labels },
    { name: "segment_name", type: "VARCHAR", values: Array.from(p.labels, (l) => (l < 0 ? noiseName : segmentNames[l])) },
    ...(outlier ? [{ name: "outlier", type: "INTEGER" as const, values: outlier }] : []),
    ...(p.probabilities ? [{ name: "probability", type: "DOUBLE" as const, values: p.probabilities }] : []),
    ...(values.probabilities && p.allProbabilities ? probabilityColumns(p.allProbabilities) : []),
  ], { raw: values["raw-csv"] });
  for (const line of printed) io.out(line);
  return 0;
}
