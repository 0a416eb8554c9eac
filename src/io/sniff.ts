import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { InputError } from "../core/errors.js";

/** How a delimited text file is laid out, as far as its first megabyte shows. */
export interface CsvDialect {
  /** A single delimiter character, or "whitespace" for columns separated by runs of spaces or tabs. */
  delimiter: string | "whitespace";
  quote: string;
  /** Number of fields in each record. */
  fields: number;
  /** For whitespace files, whether the first line is a header (delimited files leave it to DuckDB). */
  header?: boolean;
  /** Fields of the first record. */
  firstRecord: string[];
  /** "," where numbers are written with a decimal comma (semicolon-separated European exports). */
  decimalSeparator?: string;
}

const SNIFF_BYTES = 1 << 20;
const CANDIDATES = [",", ";", "\t", "|"];
const NAMES: Record<string, string> = { ",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", whitespace: "runs of spaces" };

export function delimiterName(d: string): string {
  return NAMES[d] ?? JSON.stringify(d);
}

/** True when the file starts with the gzip signature (1f 8b), whatever its name. */
export async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * The compression option of DuckDB's readers for a file: gzip by its content, whatever its name,
 * and none for a file named ".gz" that is not compressed (DuckDB would go by the name).
 */
export async function compressionOption(path: string): Promise<string> {
  if (await isGzip(path)) return ", compression='gzip'";
  return /\.gz$/i.test(path) ? ", compression='none'" : "";
}

/**
 * Decompresses a whole gzip file, keeping its first `keep` bytes: DuckDB reads a gzip file
 * that is cut short without a word (the rows up to the cut), so every compressed input is
 * checked to its end (CRC and length) before it is read. A damaged or truncated file is an
 * InputError naming it.
 */
export async function gunzipHead(path: string, file: string, keep = SNIFF_BYTES + 1): Promise<{ bytes: Uint8Array; total: number }> {
  const parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  try {
    await pipeline(createReadStream(path), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        total += chunk.length;
        if (kept < keep) {
          const part = chunk.subarray(0, keep - kept);
          parts.push(part);
          kept += part.length;
        }
      }
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_BUF_ERROR" || code === "Z_DATA_ERROR") {
      const why = code === "Z_BUF_ERROR" ? "it is cut short" : `its compressed data is damaged (${(e as Error).message})`;
      throw new InputError(`${file} is gzip-compressed but ${why}; download or compress the file again`, { cause: e });
    }
    throw e;
  }
  if (total === 0) throw new InputError(`${file} is gzip-compressed but holds nothing (0 bytes once decompressed); export the data again`);
  return { bytes: new Uint8Array(Buffer.concat(parts)), total };
}

/**
 * Reads the first bytes of a file (at most SNIFF_BYTES) and whether the file is longer; a gzip
 * file is decompressed (and checked to its end).
 */
async function head(path: string, file: string): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (await isGzip(path)) {
    const { bytes, total } = await gunzipHead(path, file);
    return { bytes: bytes.subarray(0, Math.min(bytes.length, SNIFF_BYTES)), truncated: total > SNIFF_BYTES };
  }
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(SNIFF_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return { bytes: buf.subarray(0, Math.min(bytesRead, SNIFF_BYTES)), truncated: bytesRead > SNIFF_BYTES };
  } finally {
    await fh.close();
  }
}

/** Decodes bytes as UTF-8, naming the first line that is not valid UTF-8. */
function decodeUtf8(bytes: Uint8Array, truncated: boolean, file: string): string {
  let end = bytes.length;
  if (truncated) {
    // Cut at the last newline so that no multi-byte character is split.
    const nl = bytes.lastIndexOf(0x0a);
    if (nl > 0) end = nl + 1;
  }
  const body = bytes.subarray(0, end);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= body.length; i++) {
      if (i === body.length || body[i] === 0x0a) {
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw new InputError(
      `${file}: line ${line} has bytes that are not UTF-8; save the file as UTF-8 (for example: iconv -f latin1 -t utf-8 in > out) and try again`,
    );
  }
}

/** Splits text into records of fields, honouring double quotes (which may span lines). */
function parseRecords(
  text: string, delim: string, maxRecords: number,
): { fields: string[][]; lines: number[]; unclosedQuote?: number; endings: Map<string, number> } {
  const records: string[][] = [];
  // Each kind of line end outside quotes ("\n", "\r\n", "\r"), with the first line it ends.
  const endings = new Map<string, number>();
  const lines: number[] = [];
  let field = "";
  let rec: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recLine = 1;
  let fieldStarted = false;
  let quoteLine = 0;
  let i: number;
  for (i = 0; i < text.length && records.length < maxRecords; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && !fieldStarted) {
      inQuotes = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (ch === delim) {
      rec.push(field);
      field = "";
      fieldStarted = false;
    } else if (ch === "\n" || ch === "\r") {
      const end = ch === "\r" && text[i + 1] === "\n" ? "\r\n" : ch;
      if (!endings.has(end)) endings.set(end, line);
      if (end === "\r\n") i++;
      rec.push(field);
      if (!(rec.length === 1 && rec[0] === "")) {
        records.push(rec);
        lines.push(recLine);
      }
      rec = [];
      field = "";
      fieldStarted = false;
      line++;
      recLine = line;
    } else {
      field += ch;
      if (ch !== " ") fieldStarted = true;
    }
  }
  if ((field !== "" || rec.length > 0) && records.length < maxRecords) {
    rec.push(field);
    records.push(rec);
    lines.push(recLine);
  }
  // A quote still open at the end of the text (not at a record limit) is never closed.
  return { fields: records, lines, unclosedQuote: inQuotes && i >= text.length ? quoteLine : undefined, endings };
}

function mode(counts: number[]): { value: number; share: number } {
  const freq = new Map<number, number>();
  for (const c of counts) freq.set(c, (freq.get(c) ?? 0) + 1);
  let value = 0;
  let best = -1;
  for (const [v, f] of freq) if (f > best || (f === best && v > value)) [value, best] = [v, f];
  return { value, share: counts.length ? best / counts.length : 0 };
}

const END_NAMES: Record<string, string> = { "\n": "LF (Unix)", "\r\n": "CRLF (Windows)", "\r": "CR (old Mac)" };

/**
 * Lines that end in different ways (some CRLF, some LF) cannot be split by DuckDB's reader;
 * the message names the first line of each kind.
 */
function mixedLineEnds(file: string, endings: Map<string, number>): InputError {
  const kinds = [...endings].sort((a, b) => a[1] - b[1]).map(([end, line]) => `line ${line} with ${END_NAMES[end]}`);
  return new InputError(
    `${file}: its lines end in different ways (${kinds.join(", ")}); save it with one kind of line end (for example with dos2unix) and try again`,
  );
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Detects the delimiter of a text file from its first megabyte, and rejects files whose
 * rows have different numbers of fields (naming the first such line) rather than letting
 * a sniffer fall back silently to reading one text column.
 */
export async function sniffCsv(path: string, file = path): Promise<CsvDialect> {
  const { bytes, truncated } = await head(path, file);
  let text = decodeUtf8(bytes, truncated, file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (truncated) text = text.slice(0, text.lastIndexOf("\n") + 1);
  if (text.trim() === "") throw new InputError(`${file} has no data (only blank lines); export the data again`);
  const maxRecords = 2000;

  let best: { delim: string; recs: string[][]; lines: number[]; fields: number; share: number; unclosedQuote?: number; endings: Map<string, number> } | null = null;
  for (const delim of CANDIDATES) {
    if (!text.includes(delim)) continue;
    const { fields: recs, lines, unclosedQuote, endings } = parseRecords(text, delim, maxRecords);
    const m = mode(recs.map((r) => r.length));
    if (m.value < 2) continue;
    if (!best || m.share > best.share + 0.2 || (m.share >= best.share - 0.2 && m.value > best.fields)) {
      best = { delim, recs, lines, fields: m.value, share: m.share, unclosedQuote, endings };
    }
  }
  if (best && best.share >= 0.5) {
    if (best.endings.size > 1) throw mixedLineEnds(file, best.endings);
    // Only when the whole file was read: in a longer file the quoted value may go on beyond.
    if (best.unclosedQuote !== undefined && !truncated) {
      throw new InputError(`${file}: line ${best.unclosedQuote} has a quote (") that is never closed; close it, or remove it`);
    }
    const header = best.recs[0].length;
    for (let r = 0; r < best.recs.length; r++) {
      if (best.recs[r].length !== header) {
        throw new InputError(
          `${file}: line ${best.lines[r]} has ${best.recs[r].length} fields but the first line has ${header} ` +
            `(${delimiterName(best.delim)}-separated); fix that row, or quote values that contain the delimiter`,
        );
      }
    }
    const decimalComma =
      best.delim !== "," &&
      best.recs.slice(1).some((r) => r.some((f) => /^[+-]?\d+,\d+$/.test(f.trim()))) &&
      !best.recs.slice(1).some((r) => r.some((f) => /^[+-]?\d+\.\d+$/.test(f.trim())));
    return {
      delimiter: best.delim, quote: '"', fields: header, firstRecord: best.recs[0],
      decimalSeparator: decimalComma ? "," : undefined,
    };
  }

  // Columns separated by runs of whitespace (e.g. fixed-width exports).
  const rawLines = text.split(/\r?\n/);
  const nonBlank: { tokens: string[]; line: number }[] = [];
  for (let i = 0; i < rawLines.length && nonBlank.length < maxRecords; i++) {
    const t = rawLines[i].trim();
    if (t !== "") nonBlank.push({ tokens: t.split(/\s+/), line: i + 1 });
  }
  const ws = mode(nonBlank.map((l) => l.tokens.length));
  if (ws.value >= 2 && ws.share >= 0.5) {
    const first = nonBlank[0].tokens.length;
    for (const l of nonBlank) {
      if (l.tokens.length !== first) {
        throw new InputError(
          `${file}: line ${l.line} has ${l.tokens.length} fields but the first line has ${first} (separated by runs of spaces); fix that row`,
        );
      }
    }
    const firstNumeric = nonBlank[0].tokens.some((t) => NUMBER.test(t));
    const laterNumeric = nonBlank.length > 1 && nonBlank[1].tokens.some((t) => NUMBER.test(t));
    return {
      delimiter: "whitespace",
      quote: "",
      fields: first,
      header: !firstNumeric || !laterNumeric,
      firstRecord: nonBlank[0].tokens,
    };
  }
  if (best) {
    // Delimiters are present but the rows disagree on the number of fields.
    const header = best.recs[0].length;
    const r = best.recs.findIndex((rec) => rec.length !== header);
    throw new InputError(
      `${file}: line ${best.lines[r]} has ${best.recs[r].length} fields but the first line has ${header} ` +
        `(${delimiterName(best.delim)}-separated); fix that row, or quote values that contain the delimiter`,
    );
  }
  // One column: no delimiter anywhere.
  return { delimiter: ",", quote: '"', fields: 1, firstRecord: [rawLines[0]] };
}
