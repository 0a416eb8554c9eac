import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Matrix } from "../src/core/matrix.js";

export const SYSTEM_PYTHON = "/usr/bin/python3";

/** Whether the system Python has scikit-learn (the reference peer). */
export function hasSklearn(): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  return spawnSync(SYSTEM_PYTHON, ["-c", "import sklearn"], { stdio: "ignore" }).status === 0;
}

/**
 * Runs a Python snippet with `X` (and `C` if given) loaded from raw float64 files and
 * returns the JSON it prints. The snippet must print one JSON document.
 */
export function runPython(code: string, X: Matrix, C?: Matrix): unknown {
  const dir = mkdtempSync(join(tmpdir(), "segmenta-bench-"));
  try {
    writeFileSync(join(dir, "X.bin"), Buffer.from(X.data.buffer, X.data.byteOffset, X.data.byteLength));
    if (C) writeFileSync(join(dir, "C.bin"), Buffer.from(C.data.buffer, C.data.byteOffset, C.data.byteLength));
    const prelude = [
      "import json, time, numpy as np",
      `X = np.fromfile(${JSON.stringify(join(dir, "X.bin"))}, dtype=np.float64).reshape(${X.rows}, ${X.cols})`,
      C ? `C = np.fromfile(${JSON.stringify(join(dir, "C.bin"))}, dtype=np.float64).reshape(${C.rows}, ${C.cols})` : "",
    ].join("\n");
    const r = spawnSync(SYSTEM_PYTHON, ["-c", `${prelude}\n${code}`], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Median time of `runs` calls of fn, after `warmup` untimed calls (none by default). The
 * K-Means and ml-hclust comparisons warm up once, ours and the JavaScript peers' alike, so
 * that JavaScript is timed compiled, as it runs in a long-lived process; the long benchmarks
 * (seconds a run) do not need it.
 */
export async function timeMedian(runs: number, fn: () => unknown | Promise<unknown>, warmup = 0): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * This process's peak resident memory in bytes: VmHWM from /proc/self/status (Linux), else
 * getrusage's maxRSS. Not maxRSS first: Linux carries ru_maxrss across fork and exec, so a
 * child spawned by a benchmark that held gigabytes would report the parent's peak.
 */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
