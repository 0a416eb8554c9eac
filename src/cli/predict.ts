import { readFile } from "node:fs/promises";
import { InputError } from "../core/errors.js";
import { readColumns } from "../io/extract.js";
import { checkInputFile, dropTable, loadTable } from "../io/read.js";
import { profileTable } from "../io/schema.js";
import { checkOutputPath, writeColumns } from "../io/write.js";
import { type LoadedModelFile, parseModelFile, predictWithModel } from "../pipeline/model.js";
import { type Io, onePositional, parse, pct, table } from "./common.js";

export const predictHelp = `usage: segmenta predict --model model.json <file> --out segments.csv [--json]

Scores the rows of a file with a model saved by segmenta cluster --model: the same column
types, preprocessing and centers. On the training file it reproduces the training segments.`;

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
  const { values, positionals } = parse<{ model?: string; out?: string }>("predict", args, {
    model: { type: "string" },
    out: { type: "string" },
  });
  const file = onePositional("predict", positionals, "data file");
  if (!values.model) throw new InputError("give the model with --model model.json (the file written by segmenta cluster --model)");
  if (!values.out) throw new InputError("give the output file with --out segments.csv");
  await checkOutputPath(values.out, "--out", "data");
  const m = await loadModelFile(values.model);
  const t = await loadTable(file);
  try {
    const names = t.columns.map((c) => c.name);
    const needed = m.file.columns.map((c) => c.name);
    const missing = needed.filter((n) => !names.includes(n));
    if (missing.length) {
      throw new InputError(
        `${file} lacks ${missing.length === 1 ? "the column" : "the columns"} ${missing.map((n) => `"${n}"`).join(", ")} that the model needs; ` +
          `add ${missing.length === 1 ? "it" : "them"} (values may be empty) or fit a new model on this file`,
      );
    }
    // Read every input column as it was read in training.
    const types = Object.fromEntries(m.file.columns.map((c) => [c.name, c.kind]));
    const profile = await profileTable(t, types);
    const idColumn = m.file.idColumn && names.includes(m.file.idColumn) ? [m.file.idColumn] : [];
    const numeric = m.file.columns.filter((c) => c.kind === "numeric").map((c) => c.name);
    const data = await readColumns(t, profile, [...new Set([...needed, ...idColumn])], numeric);
    const p = predictWithModel(m, data);
    for (const w of p.warnings) io.err(`warning: ${w}`);
    await writeColumns(values.out, [
      { name: m.file.idColumn ?? "row", type: "VARCHAR", values: p.ids },
      { name: "segment", type: "INTEGER", values: p.labels },
      ...(p.outliers ? [{ name: "outlier", type: "INTEGER" as const, values: p.outliers }] : []),
    ]);
    const k = m.model.nClusters;
    const sizes = new Array<number>(k).fill(0);
    for (const l of p.labels) sizes[l]++;
    if (values.json) {
      io.out(JSON.stringify({ file, model: values.model, rows: data.rows, k, sizes, warnings: p.warnings, outputs: { out: values.out } }, null, 2));
    } else {
      io.out(`${file}: ${data.rows} rows scored with ${values.model} (k=${k})`);
      for (const line of table([["segment", "customers", "share"], ...sizes.map((s, i) => [String(i), String(s), pct(s / data.rows)])], [true, true, true])) io.out(`  ${line}`);
      io.out(`segments written to ${values.out}`);
    }
    return 0;
  } finally {
    await dropTable(t);
  }
}
