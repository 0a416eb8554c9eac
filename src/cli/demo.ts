import { mkdir } from "node:fs/promises";
import { InputError } from "../core/errors.js";
import { join } from "node:path";
import { generateCustomers, generateTransactions, toCsv } from "../io/synthetic.js";
import { writeChunksAtomic } from "../io/write.js";
import { parseConfig } from "../pipeline/config.js";
import { clusterFile, printCluster } from "./cluster.js";
import { type Io, parse, parseWholeNumber } from "./common.js";
import { describeRfm, rfmFile } from "./rfm.js";
import { tuneCommand } from "./tune.js";


export async function demoCommand(args: string[], io: Io): Promise<number> {
  const { values } = parse<{ out?: string; seed?: string }>("demo", args, { out: { type: "string" }, seed: { type: "string" } });
  if (values.json) throw new InputError("--json: the demo prints a walk-through, not one document; run the commands it shows with --json instead");
  const dir = values.out ?? "out";
  const seed = parseWholeNumber("--seed", values.seed, 0) ?? 42;
  await mkdir(dir, { recursive: true });
  const tx = join(dir, "transactions.csv");
  const customers = join(dir, "customers.csv");
  const log = generateTransactions({ seed });
  await writeChunksAtomic(tx, toCsv(log));
  const table = generateCustomers({ seed: seed + 1 });
  await writeChunksAtomic(customers, toCsv(table));
  io.out(`generated ${tx} (${log.rows.length} transaction rows) and ${customers} (${table.rows.length} customers)`);
  io.out("");

  io.out("== 1. RFM features from the transaction log");
  const rfmPath = join(dir, "rfm.csv");
  const s = await rfmFile(tx, { customer: "CustomerID", date: "InvoiceDate", quantity: "Quantity", price: "UnitPrice", invoice: "InvoiceNo" }, rfmPath);
  for (const line of describeRfm(s)) io.out(line);
  io.out(`written to ${rfmPath}`);
  io.out("");

  io.out("== 2. How many segments? (segmenta tune: elbow, silhouette, Davies–Bouldin, Calinski–Harabasz, gap, stability)");
  await tuneCommand(
    [rfmPath, "--k", "2..8", "--seed", String(seed), "--id", "customer_id", "--features", "recency_days,frequency,monetary",
      "--log", "recency_days,frequency,monetary", "--charts", dir],
    io,
  );
  io.out("");

  io.out("== 3. Segments of customers by RFM");
  const rfmRun = await clusterFile(
    rfmPath,
    parseConfig({
      k: 4, seed, id: "customer_id", features: ["recency_days", "frequency", "monetary"],
      profile: ["tenure_days", "avg_order_value", "mean_days_between_purchases", "return_rate"],
      preprocessing: { log1p: ["recency_days", "frequency", "monetary"] },
    }),
    { out: join(dir, "rfm_segments.csv"), model: join(dir, "rfm_model.json"), report: join(dir, "rfm_report.html") },
    io,
  );
  printCluster(rfmRun, io);
  io.out("");

  io.out("== 4. Segments of the customer table (mixed types)");
  const custRun = await clusterFile(
    customers,
    parseConfig({ k: 4, seed }),
    { out: join(dir, "customer_segments.csv"), model: join(dir, "customer_model.json"), report: join(dir, "customer_report.html") },
    io,
  );
  printCluster(custRun, io);
  io.out("");
  io.out(`reports: open ${join(dir, "rfm_report.html")} and ${join(dir, "customer_report.html")} in a browser (they work offline)`);
  io.out(`next: segmenta inspect ${customers}   ·   segmenta predict --model ${join(dir, "customer_model.json")} ${customers} --out ${join(dir, "scored.csv")}`);
  return 0;
}
