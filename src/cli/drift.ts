/**
 * segmenta drift --model M <file> [--json]: how far new data has moved from the data the model
 * was fitted on — the population stability index of every input column and of the segment
 * shares, its reading (< 0.1 stable, 0.1–0.25 watch, > 0.25 retrain) and the bins that moved
 * most. The file is read as predict reads it (a transaction log, for a model fitted on its
 * features, gives the features computed from it). Exit 0 whatever the drift; 2 for a model
 * written before the training distribution was recorded.
 */
import { InputError } from "../core/errors.js";
import { dropTable, loadTable } from "../io/read.js";
import { PSI_EPSILON, PSI_RETRAIN, PSI_WATCH } from "../metrics/psi.js";
import { type DriftReport, type FeatureDrift, describeMove, driftReport } from "../pipeline/drift.js";
import { type LoadedModelFile, predictWithModel } from "../pipeline/model.js";
import { type Io, onePositional, parse, table } from "./common.js";
import { isTransactionLog, loadModelFile, readModelInputs, withLogFeatures } from "./predict.js";

type DriftValues = { model?: string; sheet?: string; "as-of"?: string; json?: boolean };

export async function driftCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<DriftValues>("drift", args, {
    model: { type: "string" },
    sheet: { type: "string" },
    "as-of": { type: "string" },
  });
  const file = onePositional("drift", positionals, "data file");
  if (!values.model) throw new InputError("give the model with --model model.json (the file written by segmenta cluster --model)");
  const m = await loadModelFile(values.model);
  if (!m.file.distribution) {
    throw new InputError(
      `--model ${values.model} does not record the distribution of its training data (it was written before Segmenta kept it), so there is nothing to compare ${file} with; fit the model again with segmenta cluster … --model ${values.model}`,
    );
  }
  const tx = m.file.transactions;
  if (values["as-of"] !== undefined && !tx) {
    throw new InputError("--as-of dates the features of a transaction log: this model was not fitted on one (segmenta cluster --transactions)");
  }
  const opts = { ...values, model: values.model };
  if (!(tx && values["as-of"] !== undefined)) {
    const t = await loadTable(file, { sheet: values.sheet, text: m.file.idColumn ? [m.file.idColumn] : [] });
    try {
      if (!(tx && isTransactionLog(t, m))) return print(file, m, driftOf(m, await readModelInputs(t, file, m)), opts, io);
    } finally {
      await dropTable(t);
    }
  }
  // A transaction log: the features as predict computes them, as of --as-of (default: the day after its last transaction).
  return withLogFeatures(file, m, values, io, async (t, extra) => print(file, m, driftOf(m, await readModelInputs(t, file, m)), opts, io, extra));
}

function driftOf(m: LoadedModelFile, data: Parameters<typeof predictWithModel>[1]): DriftReport {
  const p = predictWithModel(m, data);
  return driftReport(m, data, { labels: p.labels, names: p.names, noiseName: p.noiseName })!;
}

const num = (x: number): string => (Number.isNaN(x) ? "—" : x.toFixed(3));

function print(file: string, m: LoadedModelFile, r: DriftReport, values: DriftValues & { model: string }, io: Io, extra: { rfm?: unknown } = {}): number {
  const ranked = [...r.features].sort((a, b) => (Number.isNaN(b.psi) ? -1 : b.psi) - (Number.isNaN(a.psi) ? -1 : a.psi));
  if (values.json) {
    const row = (f: FeatureDrift) => ({ feature: f.feature, kind: f.kind, psi: Number.isNaN(f.psi) ? null : f.psi, reading: f.reading, moved: f.moved, bins: f.bins });
    io.out(JSON.stringify({
      file, model: values.model, rows: r.rows, trainingRows: r.trainingRows,
      thresholds: { watch: PSI_WATCH, retrain: PSI_RETRAIN, epsilon: PSI_EPSILON },
      features: ranked.map(row), segments: r.segments ? row(r.segments) : null, retrain: r.retrain, watch: r.watch, ...extra,
    }, null, 2));
    return 0;
  }
  const created = m.file.createdAt ? `, fitted ${m.file.createdAt.slice(0, 10)}` : "";
  io.out(`${file}: ${r.rows.toLocaleString("en-US")} rows against the ${r.trainingRows.toLocaleString("en-US")} training rows of ${values.model}${created}`);
  const rows = [...ranked, ...(r.segments ? [r.segments] : [])].map((f) => [f.feature, num(f.psi), f.reading, f.moved.map(describeMove).join("; ") || "–"]);
  for (const line of table([["column", "PSI", "reading", "bins that moved most (training → new)"], ...rows], [false, true, false, false])) io.out(`  ${line}`);
  io.out(`reading: PSI < ${PSI_WATCH} stable, ${PSI_WATCH}–${PSI_RETRAIN} watch, > ${PSI_RETRAIN} retrain (10 quantile bins of the training data per numeric column, one per category, one for missing values; empty bins count as ${PSI_EPSILON * 100} %)`);
  const segRetrain = r.segments?.reading === "retrain";
  if (r.retrain.length || segRetrain) {
    const what = [...r.retrain, ...(segRetrain ? ["the segment shares"] : [])].join(", ");
    io.out(`retrain: ${what} moved past ${PSI_RETRAIN}; the segments may no longer describe these customers: fit the model again (segmenta cluster … --model)`);
  } else if (r.watch.length || r.segments?.reading === "watch") {
    io.out(`watch: ${[...r.watch, ...(r.segments?.reading === "watch" ? ["the segment shares"] : [])].join(", ")} moved (PSI ${PSI_WATCH}–${PSI_RETRAIN}); no refit needed yet`);
  } else {
    io.out("stable: no column moved past the watch threshold; the model still fits this data");
  }
  return 0;
}
