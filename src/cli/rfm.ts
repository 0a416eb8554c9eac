import { InputError } from "../core/errors.js";
import { dropTable, loadTable } from "../io/read.js";
import { computeRfm, type RfmMapping, type RfmSummary } from "../io/rfm.js";
import { profileTable } from "../io/schema.js";
import { exec } from "../io/duck.js";
import { checkOutputPath, copyQueryTo } from "../io/write.js";
import { type Io, onePositional, parse, parseTypes } from "./common.js";

export const rfmHelp = `usage: segmenta rfm <transactions> --customer C --date D (--amount A | --quantity Q --price P)
                    [--invoice I] [--as-of YYYY-MM-DD] --out rfm.csv [--json]

Turns a transaction log into one row per customer: recency_days, frequency (distinct
invoices), monetary (net spend, cancellations netted), tenure_days, avg_order_value.
Rows without a customer are dropped and counted; invoices starting with "C" or with a
negative amount count as cancellations.`;

/** Computes RFM features from a transaction file and writes them; shared by `rfm` and `demo`. */
export async function rfmFile(file: string, map: RfmMapping, out: string, types: Record<string, never> | ReturnType<typeof parseTypes> = {}): Promise<RfmSummary> {
  await checkOutputPath(out, "--out");
  const t = await loadTable(file);
  try {
    const profile = await profileTable(t, types);
    const s = await computeRfm(t, profile, map);
    try {
      await copyQueryTo(out, `SELECT * FROM ${s.table} ORDER BY customer_id`);
    } finally {
      await exec(`DROP TABLE IF EXISTS ${s.table}`);
    }
    return s;
  } finally {
    await dropTable(t);
  }
}

export function describeRfm(s: RfmSummary): string[] {
  return [
    `${s.customers} customers, as of ${s.asOf} (the day after the last transaction unless --as-of is given)`,
    `${s.rowsIn} transaction rows read; ${s.rowsWithoutCustomer} without a customer id were dropped`,
    `${s.cancellationRows} cancellation rows netted against their customers' spend and not counted as purchases`,
    ...(s.customersWithoutPurchase ? [`${s.customersWithoutPurchase} customers with only cancellations were left out`] : []),
  ];
}

export async function rfmCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<Record<"customer" | "date" | "amount" | "quantity" | "price" | "invoice" | "as-of" | "out", string | undefined> & { type?: string[] }>("rfm", args, {
    customer: { type: "string" },
    date: { type: "string" },
    amount: { type: "string" },
    quantity: { type: "string" },
    price: { type: "string" },
    invoice: { type: "string" },
    "as-of": { type: "string" },
    out: { type: "string" },
    type: { type: "string", multiple: true },
  });
  const file = onePositional("rfm", positionals, "transaction file");
  if (!values.customer || !values.date) throw new InputError("segmenta rfm: give --customer COLUMN and --date COLUMN");
  if (!values.out) throw new InputError("segmenta rfm: give the output file with --out rfm.csv");
  const s = await rfmFile(file, {
    customer: values.customer, date: values.date, amount: values.amount, quantity: values.quantity, price: values.price,
    invoice: values.invoice, asOf: values["as-of"],
  }, values.out, parseTypes(values.type));
  if (values.json) {
    const { table: _t, ...summary } = s;
    io.out(JSON.stringify({ file, ...summary, outputs: { out: values.out } }, null, 2));
  } else {
    for (const line of describeRfm(s)) io.out(line);
    io.out(`RFM table written to ${values.out}`);
  }
  return 0;
}
