/**
 * segmenta sql: a model file as one SELECT that scores every row of a warehouse table
 * (src/pipeline/sql/model-sql.ts), printed on stdout or written to --out.
 */
import { InputError } from "../core/errors.js";
import { checkOutputPath, writeTextAtomic } from "../io/write.js";
import { dialect } from "../pipeline/sql/dialect.js";
import { modelSql } from "../pipeline/sql/model-sql.js";
import { type Io, parse } from "./common.js";
import { loadModelFile } from "./predict.js";

export async function sqlCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<{ model?: string; dialect?: string; table?: string; id?: string; out?: string }>("sql", args, {
    model: { type: "string" },
    dialect: { type: "string" },
    table: { type: "string" },
    id: { type: "string" },
    out: { type: "string" },
  });
  if (positionals.length) throw new InputError(`segmenta sql takes no file (${positionals[0]}): the data stay in the warehouse; name the table with --table T`);
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
