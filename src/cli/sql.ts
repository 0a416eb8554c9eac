/**
 * segmenta sql: a model file as one SELECT that scores every row of a warehouse table
 * (src/pipeline/sql/model-sql.ts), printed on stdout or written to --out; with --train,
 * mini-batch K-Means trained in a PostgreSQL database (src/io/sql/train.ts).
 */
import { InputError } from "../core/errors.js";
import { trainInPostgres } from "../io/sql/train.js";
import { checkOutputPath, writeTextAtomic } from "../io/write.js";
import { dialect } from "../pipeline/sql/dialect.js";
import { modelSql } from "../pipeline/sql/model-sql.js";
import { endProgress, type Io, parse, pct, progress, table as textTable } from "./common.js";
import { loadModelFile } from "./predict.js";

type Values = {
  model?: string; dialect?: string; table?: string; id?: string; out?: string; json?: boolean;
  train?: boolean; source?: string; features?: string; k?: string; "batch-size"?: string; iterations?: string; seed?: string;
};

export async function sqlCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<Values>("sql", args, {
    model: { type: "string" },
    dialect: { type: "string" },
    table: { type: "string" },
    id: { type: "string" },
    out: { type: "string" },
    train: { type: "boolean" },
    source: { type: "string" },
    features: { type: "string" },
    k: { type: "string" },
    "batch-size": { type: "string" },
    iterations: { type: "string" },
    seed: { type: "string" },
  });
  if (positionals.length) throw new InputError(`segmenta sql takes no file (${positionals[0]}): the data stay in the warehouse; name the table with --table T`);
  if (values.train) return train(values, io);
  for (const flag of ["source", "features", "k", "batch-size", "iterations", "seed"] as const) {
    if (values[flag] !== undefined) throw new InputError(`--${flag} is for training in the database (segmenta sql --train); to score, give --model, --dialect and --table`);
  }
  if (!values.model) throw new InputError("segmenta sql: give the model with --model model.json (the file written by segmenta cluster --model)");
  if (!values.table) throw new InputError("segmenta sql: give the table to score with --table T (schema.table allowed)");
  if (!values.dialect) throw new InputError("segmenta sql: give the engine with --dialect duckdb|postgres|bigquery|snowflake|spark");
  const d = dialect(values.dialect);
  if (values.out) await checkOutputPath(values.out, "--out", "text");
  const m = await loadModelFile(values.model);
  const sql = `${modelSql(m, { dialect: d, table: values.table, id: values.id })};\n`;
  if (values.out) await writeTextAtomic(values.out, sql);
  if (values.json) {
    io.out(JSON.stringify({ model: values.model, dialect: d.name, table: values.table, id: values.id ?? m.file.idColumn, algorithm: m.model.algorithmName,
      segments: m.model.nClusters, ...(values.out ? { outputs: { out: values.out } } : { sql }) }, null, 2));
  } else if (values.out) {
    io.out(`the ${d.name} query scoring ${values.table} with ${m.model.algorithmName} (${m.model.nClusters} segments) written to ${values.out}`);
  } else io.out(sql.trimEnd());
  return 0;
}

function wholeNumber(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new InputError(`--${flag} ${v}: give a whole number`);
  return x;
}

async function train(values: Values, io: Io): Promise<number> {
  if (!values.source) throw new InputError("segmenta sql --train: give the database with --source postgres://user:password@host/db");
  if (!values.table) throw new InputError("segmenta sql --train: give the table with --table T");
  if (!values.features) throw new InputError("segmenta sql --train: give the feature columns with --features a,b,c");
  if (!values.model) throw new InputError("segmenta sql --train: give the model file to write with --model model.json");
  if (values.dialect && values.dialect !== "postgres") throw new InputError(`--dialect ${values.dialect}: training runs in PostgreSQL (--source postgres://…); leave --dialect out`);
  await checkOutputPath(values.model, "--model", "text");
  const k = wholeNumber("k", values.k, 4);
  const say = progress(io);
  let r;
  try {
    r = await trainInPostgres({
      url: values.source, table: values.table, features: values.features.split(",").map((s) => s.trim()).filter(Boolean), k,
      batchSize: wholeNumber("batch-size", values["batch-size"], 4096), iterations: wholeNumber("iterations", values.iterations, 50),
      seed: wholeNumber("seed", values.seed, 42), id: values.id, progress: say,
    });
  } finally {
    endProgress(io);
  }
  await writeTextAtomic(values.model, `${JSON.stringify(r.file, null, 2)}\n`);
  if (values.json) {
    io.out(JSON.stringify({ table: values.table, rows: r.rows, rowsPulled: r.rowsPulled, batches: r.batches, k, inertia: r.inertia, sizes: r.sizes, outputs: { model: values.model } }, null, 2));
    return 0;
  }
  io.out(`mini-batch K-Means trained in PostgreSQL on ${values.table}: ${r.rows.toLocaleString("en-US")} rows, ${r.batches} batches drawn by TABLESAMPLE BERNOULLI`);
  io.out(`rows pulled out of the database: ${r.rowsPulled.toLocaleString("en-US")} (${pct(r.rowsPulled / r.rows)} of the table: statistics, samples and the segments' sizes); the labelling ran in the database`);
  io.out(`inertia ${r.inertia.toPrecision(6)} (sum of squared distances to the nearest centre, standardised features)`);
  for (const line of textTable([["segment", "name", "customers", "share"], ...r.sizes.map((n, c) => [String(c), `Segment ${c}`, String(n), pct(n / r.rows)])], [true, false, true, true])) io.out(`  ${line}`);
  io.out(`model written to ${values.model} (score with segmenta predict, or in the warehouse with segmenta sql --model ${values.model} --dialect D --table T)`);
  return 0;
}
