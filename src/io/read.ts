import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, extname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { InputError } from "../core/errors.js";
import { compressionOption, delimiterName, gunzipHead, isGzip, sniffCsv } from "./sniff.js";
import { duck, duckMessage, exec, freshTableName, ident, lit, queryRows } from "./duck.js";

export type FileFormat = "csv" | "parquet" | "json" | "xlsx";

/** A source file loaded into a DuckDB table. */
export interface LoadedTable {
  /** The path as the user gave it (used in messages). */
  file: string;
  format: FileFormat;
  /** Name of the DuckDB table holding the rows, in file order (rowid 0 is the first data row). */
  table: string;
  rows: number;
  /** header: the name as written in the file, when DuckDB had to rename the column (an empty or repeated header). */
  columns: { name: string; duckType: string; header?: string }[];
  /** How the file was read, for `inspect`. */
  details: string;
  /** Number of the file's line that holds data row 0 (CSV only), for messages. */
  firstDataLine: number;
  /** True when the format has no types, so that every column arrives as text (whitespace-separated files). */
  untyped?: boolean;
}

export interface ReadOptions {
  /** Force the format instead of guessing it from the extension and the content. */
  format?: FileFormat;
  /** For XLSX: the worksheet to read (name or 1-based number). Default: the first. */
  sheet?: string | number;
  /**
   * Columns to read verbatim as text, whatever they look like (an id column: "007" stays "007",
   * "17850.0" stays "17850.0", a column of numbers with a few other values keeps every value).
   * Delimited text and XLSX keep the characters of the file; Parquet and JSON values that are
   * typed in the file are cast to text. Names that are not columns of the file are ignored.
   */
  text?: string[];
}

/** Checks that `path` is a readable, non-empty regular file, with messages a user can act on. */
export async function checkInputFile(path: string): Promise<number> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(`${path}: no such file; check the path and the current folder`);
    if (code === "EACCES") throw new InputError(`${path}: permission denied; make the file readable`);
    throw new InputError(`${path}: cannot be read (${code ?? String(e)})`);
  }
  if (s.isDirectory()) throw new InputError(`${path} is a folder, not a file; give the path of a data file inside it`);
  if (!s.isFile()) throw new InputError(`${path} is not a regular file; give the path of a data file`);
  if (s.size === 0) throw new InputError(`${path} is empty (0 bytes); export the data again`);
  try {
    const fh = await open(path, "r");
    await fh.close();
  } catch {
    throw new InputError(`${path}: permission denied; make the file readable`);
  }
  return s.size;
}

async function magic(path: string): Promise<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * The format from the extension, or failing that from the first bytes. A gzip-compressed file
 * (".csv.gz", or any file starting with the gzip signature) is text or JSON, by the extension
 * before ".gz" or by its decompressed first bytes.
 */
export async function detectFormat(path: string): Promise<FileFormat> {
  let name = path.toLowerCase();
  if (name.endsWith(".gz")) name = name.slice(0, -3);
  const ext = extname(name);
  const gz = await isGzip(path);
  if (gz && [".parquet", ".pq", ".xlsx", ".xlsm", ".xls"].includes(ext)) {
    throw new InputError(`${path}: a compressed ${ext.slice(1)} file cannot be read as it is; decompress it first (gunzip ${basename(path)})`);
  }
  if (ext === ".parquet" || ext === ".pq") return "parquet";
  if (ext === ".json" || ext === ".ndjson" || ext === ".jsonl") return "json";
  if (ext === ".xlsx" || ext === ".xlsm") return "xlsx";
  if ([".csv", ".tsv", ".txt", ".dat", ".tab", ".psv"].includes(ext)) return "csv";
  if (ext === ".xls") throw new InputError(`${path}: the old binary .xls format is not supported; save it as .xlsx or .csv`);
  const m = gz ? (await gunzipHead(path, path, 8)).bytes : await magic(path);
  const ascii = String.fromCharCode(...m);
  if (gz) return /^\s*[[{]/.test(ascii) ? "json" : "csv";
  if (ascii.startsWith("PAR1")) return "parquet";
  if (ascii.startsWith("PK")) return "xlsx";
  if (/^\s*[[{]/.test(ascii)) return "json";
  return "csv";
}

/** Loads a data file into DuckDB. Nothing of the file is held in JavaScript beyond its first megabyte. */
export async function loadTable(path: string, options: ReadOptions = {}): Promise<LoadedTable> {
  await checkInputFile(path);
  const format = options.format ?? (await detectFormat(path));
  const table = freshTableName("src");
  let details = "";
  let firstDataLine = 2;
  let untyped = false;
  // The header of each column as written in the file, by position, where it is known.
  let headers: string[] | undefined;
  const text = options.text ?? [];
  switch (format) {
    case "csv": {
      const r = await loadCsv(path, path, table, text);
      details = r.details;
      firstDataLine = r.firstDataLine;
      untyped = r.untyped;
      headers = r.headers;
      break;
    }
    case "parquet":
      await guarded(path, `CREATE TABLE ${table} AS SELECT * FROM read_parquet(${lit(path)})`, "Parquet");
      details = "Parquet";
      break;
    case "json": {
      const gz = await isGzip(path);
      if (gz) await gunzipHead(path, path, 0);
      await guarded(path, `CREATE TABLE ${table} AS SELECT * FROM read_json_auto(${lit(path)}${await compressionOption(path)})`, "JSON");
      await jsonColumnsAsText(table);
      details = gz ? "JSON, gzip-compressed" : "JSON";
      break;
    }
    case "xlsx": {
      const r = await loadXlsx(path, table, options.sheet, text);
      details = r.details;
      headers = r.headers;
      break;
    }
  }
  if (format === "parquet" || format === "json") await castToText(table, text);
  const described = await queryRows(`DESCRIBE ${table}`);
  if (headers && headers.length !== described.length) headers = undefined;
  const columns: LoadedTable["columns"] = described.map((r, i) => {
    const name = String(r.column_name);
    const col: LoadedTable["columns"][number] = { name, duckType: String(r.column_type) };
    if (headers && headers[i] !== name) col.header = headers[i];
    return col;
  });
  const rows = Number((await queryRows(`SELECT count(*) AS n FROM ${table}`))[0].n);
  if (rows === 0) {
    await exec(`DROP TABLE ${table}`);
    throw new InputError(
      `${path} has a header (${columns.map((c) => c.name).slice(0, 5).join(", ")}${columns.length > 5 ? ", …" : ""}) but no data rows; export the data again`,
    );
  }
  return { file: path, format, table, rows, columns, details, firstDataLine, untyped };
}

/**
 * Columns DuckDB leaves as its JSON type (keys whose values mix kinds, e.g. numbers and numeric
 * strings) become plain text: strings unquoted, numbers and booleans as written, JSON null as
 * NULL, objects and arrays as their JSON text. The profile then sees what the values are (for
 * example numbers stored as text) instead of quoted JSON fragments.
 */
async function jsonColumnsAsText(table: string): Promise<void> {
  for (const r of await queryRows(`DESCRIBE ${table}`)) {
    if (String(r.column_type) !== "JSON") continue;
    const c = ident(String(r.column_name));
    await exec(
      `ALTER TABLE ${table} ALTER ${c} TYPE VARCHAR USING CASE json_type(${c}) WHEN 'NULL' THEN NULL ` +
        `WHEN 'VARCHAR' THEN json_extract_string(${c}, '$') ELSE CAST(${c} AS VARCHAR) END`,
    );
  }
}

/** Casts the named columns of a typed table (Parquet, JSON) to text; unknown names are ignored. */
async function castToText(table: string, text: string[]): Promise<void> {
  if (!text.length) return;
  for (const r of await queryRows(`DESCRIBE ${table}`)) {
    const name = String(r.column_name);
    if (!text.includes(name) || String(r.column_type) === "VARCHAR") continue;
    await exec(`ALTER TABLE ${table} ALTER ${ident(name)} TYPE VARCHAR USING CAST(${ident(name)} AS VARCHAR)`);
  }
}

async function guarded(file: string, sql: string, what: string): Promise<void> {
  try {
    await exec(sql);
  } catch (e) {
    const m = duckMessage(e);
    const why = /magic bytes/i.test(m) ? `no ${what} footer at its end: it is cut short or not ${what} at all` : m;
    throw new InputError(`${file} could not be read as ${what} (${why}); check that the file is complete and really ${what}`, { cause: e });
  }
}

async function loadCsv(
  path: string, file: string, table: string, text: string[],
): Promise<{ details: string; firstDataLine: number; untyped: boolean; headers?: string[] }> {
  const dialect = await sniffCsv(path, file);
  // sniffCsv has checked a compressed file to its end; DuckDB decompresses it as it reads.
  const gz = await isGzip(path);
  const compression = await compressionOption(path);
  const compressed = gz ? ", gzip-compressed" : "";
  if (dialect.delimiter === "whitespace") {
    const n = dialect.fields;
    const parts = `string_split_regex(trim(line), '\\s+')`;
    const raw = freshTableName("raw");
    // Every line is kept (blank ones as NULL) so that rowid + 1 is the line number in messages.
    await csvGuarded(
      file,
      path,
      `CREATE TABLE ${raw} AS SELECT CASE WHEN trim(line) <> '' THEN ${parts} END AS p FROM read_csv(${lit(path)}, columns={'line': 'VARCHAR'}, ` +
        `delim=${lit("\u001f")}, quote='', escape='', header=false, auto_detect=false${compression})`,
    );
    let firstDataLine: number;
    try {
      const bad = await queryRows(`SELECT rowid AS r, len(p) AS k FROM ${raw} WHERE p IS NOT NULL AND len(p) <> ${n} ORDER BY rowid LIMIT 1`);
      if (bad.length) {
        throw new InputError(
          `${file}: line ${Number(bad[0].r) + 1} has ${Number(bad[0].k)} fields but the first line has ${n} (separated by runs of spaces); fix that row`,
        );
      }
      const first = await queryRows(`SELECT rowid AS r FROM ${raw} WHERE p IS NOT NULL ORDER BY rowid LIMIT ${dialect.header ? 2 : 1}`);
      const headerRow = dialect.header ? Number(first[0]?.r ?? -1) : -1;
      firstDataLine = Number(first[dialect.header ? 1 : 0]?.r ?? 0) + 1;
      const names = dialect.header ? uniqueNames(dialect.firstRecord) : dialect.firstRecord.map((_, i) => `column${i}`);
      const select = names.map((nm, i) => `p[${i + 1}] AS ${ident(nm)}`).join(", ");
      await exec(`CREATE TABLE ${table} AS SELECT ${select} FROM ${raw} WHERE p IS NOT NULL AND rowid > ${headerRow} ORDER BY rowid`);
    } finally {
      await exec(`DROP TABLE IF EXISTS ${raw}`);
    }
    return {
      details: `text, columns separated by runs of spaces, ${dialect.header ? "with" : "without"} a header${compressed}`, firstDataLine, untyped: true,
      headers: dialect.header ? dialect.firstRecord : undefined,
    };
  }
  await createFromCsv(
    file,
    table,
    `${lit(path)}, delim=${lit(dialect.delimiter)}, quote='"', escape='"', skip=0, strict_mode=true, null_padding=false, sample_size=20480` +
      `${dialect.decimalSeparator ? `, decimal_separator=${lit(dialect.decimalSeparator)}` : ""}${compression}`,
    dialect.fields,
    text,
    path,
  );
  // Did DuckDB take the first line as a header? Compare with the sniffed first record.
  const names = (await queryRows(`DESCRIBE ${table}`)).map((r) => String(r.column_name));
  const header = !names.every((nm) => /^column\d+$/.test(nm));
  return {
    details: `delimited text (${delimiterName(dialect.delimiter)}${dialect.decimalSeparator ? ", decimal comma" : ""}${compressed}), ${dialect.fields} columns`,
    firstDataLine: header ? 2 : 1,
    untyped: false,
    headers: header ? dialect.firstRecord : undefined,
  };
}

/**
 * CREATE TABLE … AS SELECT * FROM read_csv(args). DuckDB infers column types from a sample of
 * rows; a later value that does not fit (text in a column of numbers) fails the read. Such a
 * column is read again as text, so that the profile can name the value, its row and the way
 * out (--type COL=categorical) instead of the read failing.
 */
async function createFromCsv(file: string, table: string, args: string, fields: number, text: string[] = [], source?: string): Promise<void> {
  const asText: string[] = [];
  if (text.length) {
    // Only names DuckDB gives the file's columns: it refuses types for unknown ones.
    let names: string[];
    try {
      names = (await queryRows(`DESCRIBE SELECT * FROM read_csv(${args})`)).map((r) => String(r.column_name));
    } catch (e) {
      throw await csvFailure(file, e, source);
    }
    asText.push(...names.filter((n) => text.includes(n)));
  }
  for (;;) {
    const types = asText.length ? `, types={${asText.map((c) => `${lit(c)}: 'VARCHAR'`).join(", ")}}` : "";
    try {
      await exec(`CREATE TABLE ${table} AS SELECT * FROM read_csv(${args}${types})`);
      return;
    } catch (e) {
      const column = conversionColumn(e);
      if (column === undefined || asText.includes(column) || asText.length >= fields) throw await csvFailure(file, e, source);
      asText.push(column);
    }
  }
}

async function csvGuarded(file: string, source: string, sql: string): Promise<void> {
  try {
    await exec(sql);
  } catch (e) {
    throw await csvFailure(file, e, source);
  }
}

/**
 * csvError with the line of the file itself. DuckDB's line number is wrong when the error
 * comes from its sniffer (it says line 1 for any line of its sample) and counts records, not
 * lines, after a quoted value that spans lines. So the file (`source`, decompressed if need
 * be) is read again, counting lines: for a line over DuckDB's size limit, the first line that
 * long; otherwise the first line that is the "Original Line" DuckDB quotes. Without `source`
 * (a workbook's temporary CSV), or when no line matches, DuckDB's number is kept.
 */
async function csvFailure(file: string, e: unknown, source?: string): Promise<InputError> {
  const msg = e instanceof Error ? e.message : String(e);
  if (source === undefined || !/CSV Error on Line: \d+/.test(msg)) return csvError(file, e);
  const limit = /Maximum line size of (\d+) bytes exceeded/.exec(msg);
  if (limit) {
    const max = Number(limit[1]);
    const found = await findLine(source, (length) => length + 1 > max);
    const where = found ? `line ${found.line} is ${found.length.toLocaleString("en-US")} bytes long` : "a row is too long";
    return new InputError(
      `${file}: ${where}, over the ${max.toLocaleString("en-US")} bytes a row may have; ` +
        "a value this long is usually a quote (\") that is never closed or data that is not text: fix or remove that row",
      { cause: e },
    );
  }
  const original = /\nOriginal Line: ([^\n]*)/.exec(msg)?.[1]?.replace(/\r$/, "");
  if (!original) return csvError(file, e);
  const want = Buffer.from(original, "utf8");
  // DuckDB shortens the lines it quotes: a long one is matched by its start.
  const prefix = want.length >= 4000;
  const found = await findLine(source, (length, start) => (prefix ? length >= want.length && start.subarray(0, want.length).equals(want) : length === want.length && start.equals(want)), want.length);
  return csvError(file, e, found?.line);
}

/**
 * The first line of a file (1-based, counting "\n") for which `test(length, start)` holds,
 * where `length` is the line's byte length without its line end and `start` its first `keep`
 * bytes (without a "\r" at its end); a gzip file is decompressed. Undefined when no line does.
 */
async function findLine(
  path: string, test: (length: number, start: Buffer) => boolean, keep = 0,
): Promise<{ line: number; length: number } | undefined> {
  const raw = createReadStream(path);
  const stream = (await isGzip(path)) ? raw.pipe(createGunzip()) : raw;
  let line = 1;
  let length = 0;
  let head: Buffer[] = [];
  let kept = 0;
  let last = -1;
  const check = (): boolean => {
    const cr = last === 0x0d ? 1 : 0;
    const start = Buffer.concat(head);
    return test(length - cr, start.subarray(0, Math.min(start.length, length - cr, keep)));
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, from);
        const to = nl < 0 ? chunk.length : nl;
        length += to - from;
        if (to > from) last = chunk[to - 1];
        if (kept < keep + 1) {
          const part = chunk.subarray(from, Math.min(to, from + keep + 1 - kept));
          head.push(part);
          kept += part.length;
        }
        if (nl < 0) break;
        if (check()) return { line, length: length - (last === 0x0d ? 1 : 0) };
        line++;
        length = 0;
        head = [];
        kept = 0;
        last = -1;
        from = nl + 1;
      }
    }
    if (length > 0 && check()) return { line, length: length - (last === 0x0d ? 1 : 0) };
    return undefined;
  } catch {
    return undefined;
  } finally {
    raw.destroy();
  }
}

/** The column named by a DuckDB CSV conversion error ("Error when converting column "age""), if any. */
function conversionColumn(e: unknown): string | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  if (!/^Conversion Error/.test(msg)) return undefined;
  return /Error when converting column "(.*)"\. Could not convert/.exec(msg)?.[1];
}

/**
 * A DuckDB CSV error as one line that names the file, the line and the problem. DuckDB's
 * messages span many lines: the line number, the offending line (which may itself span
 * lines), the problem, possible fixes and the reader's settings; only the problem is used.
 */
export function csvError(file: string, e: unknown, realLine?: number): InputError {
  const msg = e instanceof Error ? e.message : String(e);
  const line = realLine !== undefined ? String(realLine) : /CSV Error on Line: (\d+)/.exec(msg)?.[1];
  const where = line ? `line ${line}` : "a row";
  const problem = csvProblem(msg);
  if (/Invalid unicode/i.test(problem)) {
    return new InputError(
      `${file}: ${where} has bytes that are not UTF-8; save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 in > out) and try again`,
      { cause: e },
    );
  }
  const counts = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(problem);
  if (counts) {
    return new InputError(
      `${file}: ${where} has ${counts[2]} fields but the header has ${counts[1]}; fix that row, or quote values that contain the delimiter`,
      { cause: e },
    );
  }
  if (/unterminated quote/i.test(problem)) {
    return new InputError(`${file}: ${where} has a quote (") that is never closed; close it, or remove it`, { cause: e });
  }
  if (/Error when sniffing file/i.test(msg)) {
    return new InputError(
      `${file}: the rows could not be split into columns; check that every quote (") is closed and that every row has as many fields as the header`,
      { cause: e },
    );
  }
  return new InputError(`${file} could not be read as CSV${line ? ` (line ${line})` : ""}: ${problem}`, { cause: e });
}

/**
 * The problem stated in a DuckDB CSV error: the last line before its "Possible fixes" (or
 * settings), or else its first line, without the error class.
 */
function csvProblem(msg: string): string {
  const lines = msg.split(/\r?\n/);
  let end = lines.findIndex((l) => /^Possible (fixes|Solution)/i.test(l.trim()) || /^\s+file = /.test(l));
  if (end < 0) end = lines.length;
  let problem = lines[0];
  for (let i = end - 1; i > 0; i--) {
    if (lines[i].trim() !== "") {
      problem = lines[i];
      break;
    }
  }
  if (!/CSV Error on Line/.test(msg)) problem = lines[0];
  return problem.trim().replace(/^(Invalid Input|IO|Conversion|Binder|Parser) Error: /, "");
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    const base = raw.trim() || `column${i}`;
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  });
}

/** Reads the first (or the named) worksheet of an XLSX workbook through a temporary CSV. */
async function loadXlsx(path: string, table: string, sheet: string | number | undefined, text: string[]): Promise<{ details: string; headers: string[] }> {
  const ExcelJS = (await import("exceljs")).default;
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.readFile(path);
  } catch (e) {
    const m = duckMessage(e);
    const why = /central directory|zip file|signature|corrupted zip|end of data/i.test(m) ? "it is not a zip archive, as .xlsx files are" : m;
    throw new InputError(`${path} could not be read as an Excel workbook (${why}); check that the file is a complete .xlsx saved by Excel or another spreadsheet`, { cause: e });
  }
  if (wb.worksheets.length === 0) {
    throw new InputError(`${path} has no worksheets: it is a zip archive but not an Excel workbook; save the data from a spreadsheet as .xlsx or .csv`);
  }
  const ws = sheet === undefined ? wb.worksheets[0] : typeof sheet === "number" ? wb.worksheets[sheet - 1] : wb.getWorksheet(sheet);
  if (!ws) {
    const names = wb.worksheets.map((w) => w.name).join(", ");
    throw new InputError(`${path}: no worksheet ${sheet === undefined ? "at all" : JSON.stringify(sheet)}; the workbook has: ${names || "none"}`);
  }
  const dir = await mkdtemp(join(tmpdir(), "segmenta-xlsx-"));
  let headers: string[] = [];
  const csvPath = join(dir, "sheet.csv");
  try {
    const out = createWriteStream(csvPath, { encoding: "utf8" });
    const width = ws.columnCount;
    let written = 0;
    ws.eachRow({ includeEmpty: false }, (row) => {
      const cells: string[] = [];
      for (let c = 1; c <= width; c++) cells.push(cellText(row.getCell(c).value));
      if (written === 0) headers = cells;
      out.write(cells.map(csvCell).join(",") + "\n");
      written++;
    });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (written === 0) throw new InputError(`${path}: worksheet "${ws.name}" is empty; choose another sheet`);
    await createFromCsv(path, table, `${lit(csvPath)}, delim=',', quote='"', escape='"', header=true, skip=0, strict_mode=true`, width, text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { details: `Excel workbook, sheet "${ws.name}" of ${basename(path)}`, headers };
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString().replace("T", " ").replace(/\.000Z$/, "").replace(/ 00:00:00$/, "");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText)) return (o.richText as { text: string }[]).map((t) => t.text).join("");
    if ("result" in o) return cellText(o.result);
    if ("text" in o) return String(o.text);
    if ("error" in o) return "";
  }
  return String(v);
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Drops a loaded table when the caller is done with it. */
export async function dropTable(t: LoadedTable): Promise<void> {
  const con = await duck();
  await con.run(`DROP TABLE IF EXISTS ${t.table}`);
}
