/**
 * Runs the segmenta CLI for tests, either as the built binary (a child process: the real exit
 * status and streams) or in-process through `main(argv, io)` with a capturing Io (fast).
 * The binary runs dist/, so `npm run build` must have been run first.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Io } from "../../src/cli/common.js";
import { main } from "../../src/cli/main.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN = join(ROOT, "bin", "segmenta.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/segmenta.js ...args` and captures its exit status, stdout and stderr. */
export function spawnCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) {
    throw new Error("dist/cli/main.js is missing: run `npm run build` before these tests");
  }
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Calls the CLI's `main` in this process with an Io that captures what it prints. */
export async function runMain(args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (s) => {
      stdout += s + "\n";
    },
    err: (s) => {
      stderr += s + "\n";
    },
    tty: false,
  };
  const status = await main(args, io);
  return { status, stdout, stderr };
}

/** The non-empty lines of a stream's text. */
export function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "");
}

/** `runMain` with the streams as they were printed, without the final newline. */
export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await runMain(args);
  return { code: r.status ?? 1, out: r.stdout.replace(/\n$/, ""), err: r.stderr.replace(/\n$/, "") };
}

/** The cells of one CSV line (quoted cells may hold commas and doubled quotes). */
export function csvCells(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
