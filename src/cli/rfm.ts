import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ColumnKind } from "../core/dataset.js";
import { InputError } from "../core/errors.js";
import { exec } from "../io/duck.js";
import { addRfmScores, type CancellationMode, checkRfmMapping, computeRfmFromFile, type RfmMapping, type RfmSummary } from "../io/rfm.js";
import { checkDistinctPaths, checkOutputPath, copyQueryTo } from "../io/write.js";
import type { RfmSegment } from "../profile/rfm-scores.js";
import { endProgress, type Io, onePositional, parse, parseTypes, pct, progress, table } from "./common.js";


/** The share of rfm's --memory that DuckDB may hold before it spills to disk. */
export const RFM_DUCK_SHARE = 0.75;

/** parseArgs options of the column mapping, shared by \`rfm\` and \`cluster --transactions\`. */
export const RFM_MAPPING_OPTIONS = {
  customer: { type: "string" },
  date: { type: "string" },
  amount: { type: "string" },
  quantity: { type: "string" },
  price: { type: "string" },
  invoice: { type: "string" },
  product: { type: "string" },
  "as-of": { type: "string" },
  cancellations: { type: "string" },
  "cancel-prefix": { type: "string" },
} as const;

export type RfmMappingValues = Partial<Record<keyof typeof RFM_MAPPING_OPTIONS, string>>;

/**
 * The first flag of a transaction log's column mapping that was given, for the commands that
 * need --transactions to take them; --as-of is not among them, as it also dates a customer
 * table's date features (--dates days-since).
 */
export function givenMappingFlag(values: RfmMappingValues): string | undefined {
  return Object.keys(RFM_MAPPING_OPTIONS).find((k) => k !== "as-of" && values[k as keyof RfmMappingValues] !== undefined);
}

/** The mapping given by the flags, checked (before any data is read). */
export function rfmMapping(values: RfmMappingValues, command: string): RfmMapping {
  if (!values.customer || !values.date) throw new InputError(`segmenta ${command}: give --customer COLUMN and --date COLUMN (the transaction log's customer id and date)`);
  const map: RfmMapping = {
    customer: values.customer,
    date: values.date,
    amount: values.amount,
    quantity: values.quantity,
    price: values.price,
    invoice: values.invoice,
    product: values.product,
    asOf: values["as-of"],
    cancellations: values.cancellations as CancellationMode | undefined,
    cancelPrefix: values["cancel-prefix"],
  };
  checkRfmMapping(map);
  return map;
}

export interface RfmFileResult extends RfmSummary {
  /** Customers per named segment (with scores only). */
  segments?: Record<RfmSegment, number>;
}

/** Computes the RFM table of a transaction file into a DuckDB table, runs `use` on it, then drops it. */
export async function withRfmTable<T>(
  file: string,
  map: RfmMapping,
  types: Record<string, ColumnKind>,
  options: { scores?: boolean; sheet?: string },
  use: (s: RfmFileResult) => Promise<T>,
): Promise<T> {
  const s: RfmFileResult = await computeRfmFromFile(file, map, types, { sheet: options.sheet });
  try {
    if (options.scores) s.segments = await addRfmScores(s);
    return await use(s);
  } finally {
    await exec(`DROP TABLE IF EXISTS ${s.table}`);
  }
}

/** Computes RFM features from a transaction file and writes them; shared by `rfm` and `demo`. */
export async function rfmFile(
  file: string,
  map: RfmMapping,
  out: string,
  types: Record<string, ColumnKind> = {},
  options: { scores?: boolean; rawCsv?: boolean; sheet?: string } = {},
): Promise<RfmFileResult> {
  checkRfmMapping(map);
  await checkOutputPath(out, "--out");
  await checkDistinctPaths([{ flag: "input", path: file }], [{ flag: "--out", path: out }]);
  return withRfmTable(file, map, types, options, async (s) => {
    await copyQueryTo(out, `SELECT * FROM ${s.table} ORDER BY customer_id`, { raw: options.rawCsv });
    return s;
  });
}

/**
 * Computes the RFM table into a temporary Parquet file (for `cluster --transactions`), runs
 * `use` on its path, then removes it.
 */
export async function withRfmFile<T>(
  file: string,
  map: RfmMapping,
  types: Record<string, ColumnKind>,
  use: (path: string, s: RfmFileResult) => Promise<T>,
  options: { sheet?: string } = {},
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "segmenta-rfm-"));
  try {
    const path = join(dir, "rfm.parquet");
    const s = await rfmFile(file, map, path, types, options);
    return await use(path, s);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The summary in plain words: where every row and customer went. */
export function describeRfm(s: RfmSummary): string[] {
  const cancelBy = [
    ...(s.cancelPrefix ? [`an invoice starting with "${s.cancelPrefix}"`] : []),
    "a negative quantity or amount",
  ].join(" or ");
  const cancelDo = s.cancellations === "net"
    ? "taken off their customers' spend (--cancellations net), never counted as purchases"
    : "left out of the spend (--cancellations exclude), never counted as purchases";
  return [
    `${s.customers} customers, as of ${s.asOf} (${s.asOfGiven ? "--as-of" : "the day after the last transaction"})`,
    `${s.rowsIn} transaction rows read:`,
    `  ${s.rowsWithoutCustomer} without a customer id: dropped`,
    ...(s.rowsWithoutDateOrValue ? [`  ${s.rowsWithoutDateOrValue} without a usable date or value: dropped`] : []),
    ...(s.rowsAfterAsOf ? [`  ${s.rowsAfterAsOf} dated on or after ${s.asOf}: left out`] : []),
    `  ${s.zeroValueRows} with a price or value of 0 or less (free items, write-offs such as "Adjust bad debt"): neither purchases nor returns, left out`,
    `  ${s.cancellationRows} cancellations (${cancelBy}, value ${fmtMoney(s.cancelledAmount)}): ${cancelDo}`,
    `  ${s.purchaseRows} purchases (value ${fmtMoney(s.purchasedAmount)})`,
    s.customersWithoutPurchase
      ? `${s.customersInLog} customers in the log; left out for want of a purchase: ${s.customersWithoutPurchase} ` +
        `(${s.customersWithOnlyCancellations} with only cancellations, ${s.customersWithoutPurchase - s.customersWithOnlyCancellations} with only zero-value rows)`
      : `${s.customersInLog} customers in the log, all with at least one purchase`,
  ];
}

function fmtMoney(x: number): string {
  return x.toFixed(2);
}

/** What `segmenta rfm` prints of the features computed: the rows' accounting and, with --scores, the RFM segments' sizes. */
export function printRfmSummary(s: RfmFileResult, io: Io): void {
  for (const line of describeRfm(s)) io.out(line);
  if (!s.segments) return;
  io.out("");
  io.out("RFM segments (from the R and F scores):");
  const rows = Object.entries(s.segments).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  for (const line of table([["segment", "customers", "share"], ...rows.map(([name, n]) => [name, String(n), pct(n / s.customers)])], [false, true, true])) {
    io.out(`  ${line}`);
  }
}

/** The JSON document of `segmenta rfm --json`. */
export function rfmJson(file: string, s: RfmFileResult, outputs?: Record<string, string>) {
  const { table: _t, ...summary } = s;
  return { file, ...summary, explanation: describeRfm(s), ...(outputs ? { outputs } : {}) };
}

export async function rfmCommand(args: string[], io: Io): Promise<number> {
  // --sql (print the query for a warehouse) and --source postgres://… --table T (run it there): src/cli/rfm-warehouse.ts.
  const warehouse = await import("./rfm-warehouse.js");
  if (warehouse.wantsWarehouseRfm(args)) return warehouse.rfmWarehouseCommand(args, io);
  const { values, positionals } = parse<RfmMappingValues & { out?: string; type?: string[]; scores?: boolean; "raw-csv"?: boolean; sheet?: string; memory?: string }>("rfm", args, {
    ...RFM_MAPPING_OPTIONS,
    out: { type: "string" },
    sheet: { type: "string" },
    scores: { type: "boolean" },
    "raw-csv": { type: "boolean" },
    type: { type: "string", multiple: true },
    memory: { type: "string" },
  });
  const file = onePositional("rfm", positionals, "transaction file");
  const map = rfmMapping(values, "rfm");
  if (!values.out) throw new InputError("segmenta rfm: give the output file with --out rfm.csv");
  // The work is DuckDB's: it may take most of the budget (the rest is Node's), spilling beyond it.
  if (values.memory !== undefined) {
    const { limitDuckMemory, parseMemory } = await import("../io/stream-cluster.js");
    await limitDuckMemory(parseMemory(values.memory)!, RFM_DUCK_SHARE);
  }
  progress(io)(`computing RFM features of ${file}`);
  let s: RfmFileResult;
  try {
    s = await rfmFile(file, map, values.out, parseTypes(values.type), { scores: values.scores, rawCsv: values["raw-csv"], sheet: values.sheet });
  } finally {
    endProgress(io);
  }
  if (values.json) {
    io.out(JSON.stringify(rfmJson(file, s, { out: values.out }), null, 2));
    return 0;
  }
  printRfmSummary(s, io);
  io.out(`RFM table (${s.columns.join(", ")}) written to ${values.out}`);
  return 0;
}
