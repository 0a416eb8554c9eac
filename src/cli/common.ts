import { parseArgs, type ParseArgsConfig } from "node:util";
import { type ColumnKind, COLUMN_KINDS } from "../core/dataset.js";
import { InputError } from "../core/errors.js";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress is shown only then). */
  tty: boolean;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s + "\n"),
  err: (s) => process.stderr.write(s + "\n"),
  tty: Boolean(process.stderr.isTTY),
};

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed<V> {
  values: V & { json?: boolean; debug?: boolean };
  positionals: string[];
}

/**
 * parseArgs with one-line messages that name the option and list the valid ones; V describes
 * the values. A negative number after a string option is taken as its value (`--k -2`), so
 * that the option's own check can reject it with a clear message.
 */
export function parse<V>(command: string, args: string[], options: Options): Parsed<V> {
  const all: Options = { ...options, json: { type: "boolean" }, debug: { type: "boolean" } };
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : undefined;
    if (name && all[name]?.type === "string" && i + 1 < args.length && /^-\d|^-\.\d/.test(args[i + 1])) {
      joined.push(`${a}=${args[++i]}`);
    } else joined.push(a);
  }
  try {
    return parseArgs({ args: joined, options: all, allowPositionals: true, strict: true }) as unknown as Parsed<V>;
  } catch (e) {
    const m = firstLine((e as Error).message).replace(/\. To specify a positional argument.*$/, "").replace(/\.$/, "");
    const names = Object.keys(all).map((n) => `--${n}`).join(", ");
    const what = /^Unknown option/.test(m) ? `the options are ${names}` : `see segmenta ${command} --help`;
    throw new InputError(`${m}; ${what}`, { cause: e });
  }
}

/** The first line of a message, without its trailing whitespace. */
export function firstLine(message: string): string {
  return message.split(/\r?\n/)[0].trim();
}

export function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0) throw new InputError(`give the ${what}, e.g. segmenta ${command} customers.csv`);
  if (positionals.length > 1) throw new InputError(`one ${what} only, got ${positionals.length}: ${positionals.join(" ")}`);
  return positionals[0];
}

export function parseWholeNumber(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < min) {
    throw new InputError(`${flag} ${v}: give a whole number ≥ ${min}`);
  }
  return Number(v);
}

export function parseK(v: string | undefined): number | "auto" | undefined {
  if (v === undefined) return undefined;
  if (v.trim().toLowerCase() === "auto") return "auto";
  if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < 2) {
    throw new InputError(`--k ${v}: the number of segments must be a whole number ≥ 2 (or auto): one segment is the whole table`);
  }
  return Number(v);
}

export function parseList(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return items.length ? items : undefined;
}

/** `--type a=numeric --type b=categorical` (also `a=numeric,b=categorical`). */
export function parseTypes(values: string[] | undefined): Record<string, ColumnKind> {
  const out: Record<string, ColumnKind> = {};
  for (const v of values ?? []) {
    for (const part of v.split(",")) {
      const m = /^(.+)=(\w+)$/.exec(part.trim());
      if (!m || !COLUMN_KINDS.includes(m[2] as ColumnKind)) {
        throw new InputError(`--type ${part}: write COLUMN=KIND with KIND one of ${COLUMN_KINDS.join(", ")}`);
      }
      out[m[1].trim()] = m[2] as ColumnKind;
    }
  }
  return out;
}

/** Left-aligned text table. */
export function table(rows: string[][], rightAlign: boolean[] = []): string[] {
  // A loop, not Math.max(...): a table may have more rows than a call has room for arguments.
  const widths = rows[0].map((_, j) => rows.reduce((w, r) => Math.max(w, (r[j] ?? "").length), 0));
  return rows.map((r) => r.map((c, j) => (rightAlign[j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join("  ").trimEnd());
}

export function fmtNum(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "—";
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6 || (a > 0 && a < 1e-3)) return x.toExponential(2);
  return String(Number(x.toPrecision(digits)));
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Reports progress: what is being done and, when known, the share of it that is done (0..1). */
export type ProgressFn = (message: string, fraction?: number) => void;

/**
 * A progress reporter: on a terminal, one updating line on stderr with a bar, the share done
 * and an estimate of the time left once a phase reports its share (the phase is the message
 * up to its first colon); nothing on a pipe or a file.
 */
export function progress(io: Io, now: () => number = Date.now, write: (s: string) => void = (s) => process.stderr.write(s)): ProgressFn {
  if (!io.tty) return () => {};
  let phase = "";
  let phaseStart = 0;
  let lastDraw = -Infinity;
  let lastMessage = "";
  let lastText = "";
  return (message: string, fraction?: number) => {
    const t = now();
    const key = message.split(":")[0];
    if (key !== phase) {
      phase = key;
      phaseStart = t;
    }
    const text = progressLine(message, fraction, t - phaseStart, Math.max(40, (process.stderr.columns || 100) - 1));
    // At most ten redraws a second, but every new message is shown at once.
    if (text === lastText || (message === lastMessage && t - lastDraw < 100)) return;
    lastDraw = t;
    lastMessage = message;
    lastText = text;
    write(`\r\x1b[2K${text}`);
  };
}

/** The progress line: "… message [#####.....] 50%  about 12 s left", cut to `width` characters. */
export function progressLine(message: string, fraction: number | undefined, elapsedMs: number, width = 100): string {
  let line = `… ${message}`;
  if (fraction !== undefined && Number.isFinite(fraction)) {
    const f = Math.min(1, Math.max(0, fraction));
    const cells = 20;
    const full = Math.round(f * cells);
    line += ` [${"#".repeat(full)}${".".repeat(cells - full)}] ${Math.floor(100 * f)}%`;
    // An estimate only once there is something to go on.
    if (f >= 0.02 && f < 1 && elapsedMs >= 1000) line += `  about ${duration((elapsedMs * (1 - f)) / f)} left`;
  }
  return line.length > width ? line.slice(0, width - 1) + "…" : line;
}

/** A duration in plain words: "8 s", "3 min", "1 h 20 min". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${Math.max(1, s)} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function endProgress(io: Io): void {
  if (io.tty) process.stderr.write("\r\x1b[2K");
}
