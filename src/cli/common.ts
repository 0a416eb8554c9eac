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
  if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < 1) {
    throw new InputError(`--k ${v}: the number of segments must be a whole number ≥ 1 (or auto)`);
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
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => (r[j] ?? "").length)));
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

/** A progress reporter: on a terminal, one updating line on stderr; elsewhere silent. */
export function progress(io: Io): (message: string) => void {
  if (!io.tty) return () => {};
  return (message: string) => process.stderr.write(`\r\x1b[2K… ${message}`);
}

export function endProgress(io: Io): void {
  if (io.tty) process.stderr.write("\r\x1b[2K");
}
