/**
 * `segmenta track`: customers' segments over time from a transaction log. The RFM features
 * as of every date of a schedule come from one pass of DuckDB over the log (io/track.ts);
 * every snapshot is then segmented by one fixed model (--model: movement is behaviour) or
 * refitted (--refit) with its segments matched to the previous snapshot's (pipeline/stable.ts),
 * so that ids and names carry over. Outputs: the sizes over time (--out), the flows between
 * consecutive snapshots (--flows), the events file in the one format of segment changes
 * (--events, pipeline/changes.ts), a summary in segment names, --json.
 */
import { basename } from "node:path";
import { InputError } from "../core/errors.js";
import {
  computeTrackFeatures, computeTrackFeaturesFromFile, countChanges, describeFlows, dropTrackFeatures, modelSegmenter, parseEvery, refitSegmenter, type TrackedSegments,
  type TrackFeatures, type TrackFlow, trackChanges, trackColumns, trackFlows, trackSegments, type TrackSize, trackSizes,
} from "../io/track.js";
import type { RfmMapping } from "../io/rfm.js";
import { dropTable } from "../io/read.js";
import { loadSource, sourceFromFlags, sourceLabel } from "../io/source.js";
import { checkDistinctPaths, checkOutputPath, type NamedPath, type OutColumn, OutputBatch } from "../io/write.js";
import { CHANGE_COLUMNS } from "../pipeline/changes.js";
import { parseConfig, type SegmentationConfig } from "../pipeline/config.js";
import type { LoadedModelFile } from "../pipeline/model.js";
import { renderReportHtml } from "../report/html.js";
import { type OverTimeMigration, overTimeSection } from "../report/over-time.js";
import { availableMemory, checkKForAlgorithm, rfmSegmentationInput, SEGMENTATION_OPTIONS, type SegmentationValues } from "./cluster.js";
import { endProgress, type Io, onePositional, parse, parseK, parseTypes, pct, progress, table } from "./common.js";
import { loadModelFile } from "./predict.js";
import { givenMappingFlag, RFM_MAPPING_OPTIONS, rfmMapping, type RfmMappingValues } from "./rfm.js";

type TrackValues = RfmMappingValues & SegmentationValues & {
  every?: string; from?: string; to?: string; model?: string; refit?: boolean; out?: string; flows?: string; events?: string; report?: string;
  sheet?: string; "raw-csv"?: boolean; json?: boolean; source?: string; query?: string; table?: string;
};

/** The flags of the segmentation that only --refit uses. */
const REFIT_ONLY = Object.keys(SEGMENTATION_OPTIONS).filter((k) => k !== "type");

/** track's own flags (besides the mapping of rfm and the segmentation flags of cluster, for --refit). */
export const TRACK_OPTIONS = {
  every: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  model: { type: "string" },
  refit: { type: "boolean" },
  out: { type: "string" },
  flows: { type: "string" },
  events: { type: "string" },
  report: { type: "string" },
  sheet: { type: "string" },
  "raw-csv": { type: "boolean" },
  source: { type: "string" },
  query: { type: "string" },
  table: { type: "string" },
} as const;

export async function trackCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<TrackValues>("track", args, { ...RFM_MAPPING_OPTIONS, ...SEGMENTATION_OPTIONS, ...TRACK_OPTIONS });
  // A log in a database (--source postgres://… --query | --table), read with a cursor in batches.
  const source = sourceFromFlags(values, positionals, "track");
  const file = source ? sourceLabel(source) : onePositional("track", positionals, "transaction file");
  if (!values.every) throw new InputError("give how often to take a snapshot with --every month (or quarter, week, \"N days\")");
  const every = parseEvery(values.every);
  if (values["as-of"] !== undefined) throw new InputError("--as-of dates one snapshot; track takes its dates from --every, --from and --to");
  if (values.model && values.refit) throw new InputError("give --model M (one fixed model for every snapshot) or --refit (a new fit at each snapshot, ids kept by matching), not both");
  if (!values.model && !values.refit) {
    throw new InputError("give --model model.json (score every snapshot with one model: movement is behaviour) or --refit (fit every snapshot again, keeping segment ids)");
  }
  const refitFlag = REFIT_ONLY.find((k) => values[k as keyof TrackValues] !== undefined);
  if (values.model && refitFlag) throw new InputError(`--${refitFlag} shapes a new fit: it applies with --refit, not with --model (the model fixes the segmentation)`);

  let model: LoadedModelFile | undefined;
  let map: RfmMapping;
  if (values.model) {
    model = await loadModelFile(values.model);
    const tx = model.file.transactions;
    if (givenMappingFlag(values) === undefined) {
      if (!tx) {
        throw new InputError(
          `--model ${values.model} was not fitted on a transaction log's features (segmenta cluster --transactions), so it records no column mapping; ` +
            "give --customer, --date and --amount (or --quantity and --price)",
        );
      }
      const { kind: _kind, ...recorded } = tx;
      map = recorded;
    } else map = rfmMapping(values, "track");
    // Distinct products cost a grouping of their own: computed only when the model uses them.
    if (map.product !== undefined && !model.file.columns.some((c) => c.name === "distinct_products")) map = { ...map, product: undefined };
    const available = new Set(["customer_id", ...trackColumns(map)]);
    const missing = model.file.columns.map((c) => c.name).filter((n) => !available.has(n));
    if (missing.length) {
      throw new InputError(
        `--model ${values.model} uses ${missing.map((n) => `"${n}"`).join(", ")}, which track does not compute from a log (it computes ${[...available].slice(1).join(", ")}); ` +
          "fit the model on a log's features with segmenta cluster --transactions",
      );
    }
  } else map = rfmMapping(values, "track");

  let config: SegmentationConfig | undefined;
  if (values.refit) {
    checkKForAlgorithm(values);
    config = parseConfig(JSON.parse(JSON.stringify(rfmSegmentationInput(values, map, { k: parseK(values.k) }))), "cli");
  }

  // Outputs are checked before any work.
  const outputs: NamedPath[] = [];
  for (const flag of ["out", "flows", "events", "report"] as const) {
    const path = values[flag];
    if (path) {
      await checkOutputPath(path, `--${flag}`, flag === "report" ? "text" : "data");
      outputs.push({ flag: `--${flag}`, path });
    }
  }
  await checkDistinctPaths([...(source ? [] : [{ flag: "input", path: file }]), ...(values.model ? [{ flag: "--model", path: values.model }] : [])], outputs);

  const say = progress(io);
  let f: TrackFeatures | undefined;
  let tracked: TrackedSegments;
  try {
    const schedule = { every, from: values.from, to: values.to };
    if (source) {
      if (values.sheet !== undefined) throw new InputError("--sheet names a sheet of a spreadsheet file; leave it out with --source");
      say(`reading ${file}`);
      const t = await loadSource(source, { text: [map.customer] });
      try {
        f = await computeTrackFeatures(t, map, schedule, parseTypes(values.type), (m) => say(m));
      } finally {
        await dropTable(t);
      }
    } else f = await computeTrackFeaturesFromFile(file, map, schedule, parseTypes(values.type), { sheet: values.sheet, progress: (m) => say(m) });
    const segment = model
      ? modelSegmenter(model)
      : refitSegmenter(config!, {
        memoryLimit: availableMemory(), optionNames: "cli", onProgress: say,
        onWarning: (w) => {
          endProgress(io);
          io.err(`warning: ${w}`);
        },
      });
    // A model needs its own columns only.
    const columns = model ? model.file.columns.map((c) => c.name) : f.columns;
    tracked = await trackSegments(f, segment, say, columns);
  } finally {
    endProgress(io);
    if (f) await dropTrackFeatures(f);
  }
  const sizes = trackSizes(tracked);
  const flows = trackFlows(tracked);
  const summary = describeFlows(flows, sizes);
  const changes = countChanges(tracked);
  const doc = trackJson(file, tracked, sizes, flows, summary, changes, values);

  // Everything printed is prepared before the files are written: a failure leaves them as they were.
  const printed = values.json ? [JSON.stringify(doc, null, 2)] : printTrack(doc, tracked);
  const html = values.report ? await trackReport(file, tracked, sizes, flows, doc) : undefined;
  await OutputBatch.write(async (batch) => {
    const raw = { raw: values["raw-csv"] };
    if (values.out) await batch.columns(values.out, sizeColumns(sizes), raw);
    if (values.flows) await batch.columns(values.flows, flowColumns(flows), raw);
    if (values.events) await batch.columns(values.events, changeColumns(tracked), raw);
    if (values.report && html !== undefined) await batch.text(values.report, html);
  });
  for (const line of printed) io.out(line);
  return 0;
}

/** The moves between two consecutive snapshots as a migration matrix (rows: segments before, columns: after; new customers apart). */
export function flowMigration(flow: TrackFlow): OverTimeMigration {
  const named = (pairs: [number, string][]) => [...new Map(pairs)].sort((a, b) => (a[0] < 0 ? 1 : b[0] < 0 ? -1 : a[0] - b[0]));
  const moves = flow.transitions.filter((x) => x.from !== null);
  const rows = named(moves.map((x) => [x.from!, x.fromName!]));
  const cols = named(flow.transitions.map((x) => [x.to, x.toName]));
  const counts = rows.map(([r]) => cols.map(([c]) => moves.filter((x) => x.from === r && x.to === c).reduce((a, x) => a + x.customers, 0)));
  return {
    matrix: { rows: rows.map((r) => r[0]), cols: cols.map((c) => c[0]), rowNames: rows.map((r) => r[1]), colNames: cols.map((c) => c[1]), counts },
    before: flow.fromDate,
    after: flow.toDate,
    onlyAfter: flow.newCustomers,
    onlyBefore: 0,
    arrivals: flow.transitions.filter((x) => x.from === null).map((x) => ({ segment: x.to, customers: x.customers })),
  };
}

/** The HTML report of a track: the Over time section (report/over-time.ts) with the sizes at every date and the moves between the last two. */
async function trackReport(file: string, t: TrackedSegments, sizes: TrackSize[], flows: TrackFlow[], doc: TrackDoc): Promise<string> {
  const noise = t.names.map((n) => n.get(-1)).find((n) => n !== undefined);
  const { section } = overTimeSection({
    sizes: sizes.map(({ date, segment, name, customers }) => ({ date, segment, name, customers })),
    ...(flows.length ? { migration: flowMigration(flows[flows.length - 1]) } : {}),
    ...(noise ? { noiseName: noise } : {}),
  });
  return renderReportHtml({
    title: `${basename(file)}: segments over time`,
    subtitle: `${doc.snapshots.length} snapshots every ${doc.every} from ${doc.from} to ${doc.to}; ` +
      (doc.segmentation.model ? `segmented by the model ${basename(doc.segmentation.model)}, the same at every date` : "refitted at every date, segment ids kept by matching"),
    sections: [section],
  });
}

function sizeColumns(sizes: TrackSize[]): OutColumn[] {
  return [
    { name: "date", type: "VARCHAR", values: sizes.map((s) => s.date) },
    { name: "segment", type: "INTEGER", values: sizes.map((s) => s.segment) },
    { name: "name", type: "VARCHAR", values: sizes.map((s) => s.name) },
    { name: "customers", type: "INTEGER", values: sizes.map((s) => s.customers) },
    { name: "share", type: "DOUBLE", values: sizes.map((s) => s.share) },
  ];
}

function flowColumns(flows: TrackFlow[]): OutColumn[] {
  const rows = flows.flatMap((f) => f.transitions.map((x) => ({ f, x })));
  return [
    { name: "from_date", type: "VARCHAR", values: rows.map((r) => r.f.fromDate) },
    { name: "to_date", type: "VARCHAR", values: rows.map((r) => r.f.toDate) },
    { name: "from_segment", type: "INTEGER", values: rows.map((r) => r.x.from) },
    { name: "from_name", type: "VARCHAR", values: rows.map((r) => r.x.fromName) },
    { name: "to_segment", type: "INTEGER", values: rows.map((r) => r.x.to) },
    { name: "to_name", type: "VARCHAR", values: rows.map((r) => r.x.toName) },
    { name: "customers", type: "INTEGER", values: rows.map((r) => r.x.customers) },
  ];
}

/** The events file: every change of every snapshot against the one before, as CHANGE_COLUMNS. */
function changeColumns(t: TrackedSegments): OutColumn[] {
  const cols: (string | number | null)[][] = CHANGE_COLUMNS.map(() => []);
  for (let j = 1; j < t.labels.length; j++) {
    for (const c of trackChanges(t, j)) {
      cols[0].push(c.id);
      cols[1].push(c.date);
      cols[2].push(c.from);
      cols[3].push(c.fromName);
      cols[4].push(c.to);
      cols[5].push(c.toName);
      cols[6].push(c.value ?? null);
    }
  }
  const types: OutColumn["type"][] = ["VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "INTEGER", "VARCHAR", "DOUBLE"];
  return CHANGE_COLUMNS.map((name, i) => ({ name, type: types[i], values: cols[i] }));
}

type TrackDoc = ReturnType<typeof trackJson>;

/** The JSON document of `segmenta track --json`. */
export function trackJson(
  file: string, t: TrackedSegments, sizes: TrackSize[], flows: TrackFlow[], summary: string[], changes: number,
  values: { model?: string; refit?: boolean; out?: string; flows?: string; events?: string; report?: string },
) {
  const f = t.features;
  return {
    file,
    every: f.every.text,
    from: f.snapshots[0].date,
    to: f.snapshots[f.snapshots.length - 1].date,
    segmentation: values.model ? { model: values.model } : { refit: true },
    log: {
      rowsIn: f.rowsIn, rowsWithoutCustomer: f.rowsWithoutCustomer, rowsWithoutDateOrValue: f.rowsWithoutDateOrValue, rowsAfterLast: f.rowsAfterLast,
      zeroValueRows: f.zeroValueRows, cancellationRows: f.cancellationRows, purchaseRows: f.purchaseRows, firstDay: f.firstDay, lastDay: f.lastDay,
      cancellations: f.cancellations,
    },
    customers: f.ids.length,
    snapshots: f.snapshots.map((s, j) => ({
      date: s.date, customers: s.customers, note: t.notes[j],
      segments: sizes.filter((x) => x.date === s.date).map(({ segment, name, customers, share }) => ({ segment, name, customers, share })),
    })),
    flows,
    changes,
    summary,
    outputs: { ...(values.out ? { out: values.out } : {}), ...(values.flows ? { flows: values.flows } : {}), ...(values.events ? { events: values.events } : {}), ...(values.report ? { report: values.report } : {}) },
  };
}

/** At most this many dates in the console's table of sizes (the --out file has them all). */
const MAX_DATE_COLUMNS = 8;

function printTrack(doc: TrackDoc, t: TrackedSegments): string[] {
  const f = t.features;
  const n = f.snapshots.length;
  const out = [
    `${doc.file}: ${f.rowsIn.toLocaleString("en-US")} transaction rows from ${f.firstDay} to ${f.lastDay}; ${f.ids.length.toLocaleString("en-US")} customers with a purchase before ${doc.to}`,
    `${n} ${n === 1 ? "snapshot" : "snapshots"} every ${f.every.text}, from ${doc.from}${f.fromGiven ? " (--from)" : ""} to ${doc.to}; each sees only the rows dated before it (as segmenta rfm --as-of)`,
    doc.segmentation.model
      ? `segmented by the model ${doc.segmentation.model}, the same at every date: a customer moves when their behaviour does`
      : "segmented by a new fit at each date, each segment keeping the id and name of the previous date's segment it matches",
    "",
  ];
  // The dates shown: all, or evenly spaced ones with the first and the last.
  const shown = n <= MAX_DATE_COLUMNS ? [...Array(n).keys()] : [...new Set(Array.from({ length: MAX_DATE_COLUMNS }, (_, i) => Math.round((i * (n - 1)) / (MAX_DATE_COLUMNS - 1))))];
  const segs = new Map<number, string>();
  for (const s of doc.snapshots) for (const x of s.segments) segs.set(x.segment, x.name);
  const ids = [...segs.keys()].sort((a, b) => (a < 0 ? 1 : b < 0 ? -1 : a - b));
  const cell = (j: number, id: number): string => {
    const x = doc.snapshots[j].segments.find((y) => y.segment === id);
    return x ? `${x.customers} (${pct(x.share)})` : "—";
  };
  out.push(`customers per segment${shown.length < n ? ` (${shown.length} of the ${n} dates; --out has them all)` : ""}:`);
  const head = ["segment", "name", ...shown.map((j) => doc.snapshots[j].date)];
  const body = [
    ...ids.map((id) => [String(id), segs.get(id)!, ...shown.map((j) => cell(j, id))]),
    ["", "all customers", ...shown.map((j) => String(doc.snapshots[j].customers))],
  ];
  for (const line of table([head, ...body], head.map((_, j) => j !== 1))) out.push(`  ${line}`);
  out.push("");
  if (doc.summary.length) {
    out.push("movement between consecutive dates (the largest moves, with the share of the segment they left):");
    for (const line of doc.summary) out.push(`  ${line}`);
    out.push("");
  }
  const notes = [...new Set(t.notes.slice(1).filter((x): x is string => x !== null))];
  if (!doc.segmentation.model && notes.length) out.push(`ids kept by matching: ${notes[notes.length - 1]}`);
  if (doc.outputs.out) out.push(`sizes over time written to ${doc.outputs.out}`);
  if (doc.outputs.flows) out.push(`flows between consecutive dates written to ${doc.outputs.flows}`);
  if (doc.outputs.events) out.push(`${doc.changes.toLocaleString("en-US")} events (customers whose segment changed) written to ${doc.outputs.events}`);
  if (doc.outputs.report) out.push(`report written to ${doc.outputs.report}`);
  return out;
}
