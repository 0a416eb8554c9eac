import { availableParallelism } from "node:os";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { type ParallelExecutor, setParallelExecutor, type TypedArray } from "../core/parallel.js";
import { KERNELS } from "./kernels.js";

/**
 * Starts one worker on the worker entry (io/worker.js beside this file). When this file
 * runs as TypeScript source (the tests and benchmarks run the sources through tsx or
 * vitest), the worker registers tsx's loader first and then imports worker.ts.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./worker.js", here));
  const entry = new URL("./worker.ts", here).href;
  const tsxRoot = dirname(createRequire(here).resolve("tsx/package.json"));
  const api = join(tsxRoot, "dist", "esm", "api", "index.mjs");
  if (!existsSync(api)) throw new Error(`running the TypeScript sources needs tsx's loader (${api} is missing): run npm ci, or use the built package`);
  const boot = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true });
}

/** A pool of worker threads (one per core) running registered kernels on shared memory. */
export class WorkerPool implements ParallelExecutor {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private inFlight = 0;
  /** The control word of the synchronous run in progress, if any. */
  private syncCtl: Int32Array | null = null;
  /** Kernel runs so far (for tests and diagnostics). */
  runs = 0;

  constructor(readonly size: number = Math.max(1, availableParallelism())) {}

  /**
   * Starts the workers on first use, so that a program that never runs a kernel (or runs one
   * only after reading its data) does not pay for them at start-up.
   */
  private start(): void {
    if (this.workers.length) return;
    for (let w = 0; w < this.size; w++) {
      const worker = startWorker();
      worker.on("message", (m: { id: number; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(`worker kernel failed: ${m.error}`));
        else p.resolve();
      });
      worker.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
        // A synchronous run waits on its control word: release it, marked as failed.
        const ctl = this.syncCtl;
        if (ctl) {
          Atomics.store(ctl, 1, 1);
          Atomics.store(ctl, 0, 0);
          Atomics.notify(ctl, 0);
        }
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  async run(kernel: string, shared: Record<string, TypedArray>, params: Record<string, number>, nChunks: number): Promise<void> {
    if (!(kernel in KERNELS)) throw new Error(`unknown kernel ${kernel}`);
    this.start();
    this.runs++;
    const jobs: Promise<void>[] = [];
    const W = Math.min(this.size, nChunks);
    if (this.inFlight++ === 0) for (const w of this.workers) w.ref();
    try {
      for (let w = 0; w < W; w++) {
        const start = Math.floor((w * nChunks) / W);
        const end = Math.floor(((w + 1) * nChunks) / W);
        const id = this.nextId++;
        jobs.push(new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject })));
        this.workers[w].postMessage({ id, kernel, shared, params, start, end });
      }
      await Promise.all(jobs);
    } finally {
      if (--this.inFlight === 0) for (const w of this.workers) w.unref();
    }
  }

  runSync(kernel: string, shared: Record<string, TypedArray>, params: Record<string, number>, nChunks: number): void {
    if (!(kernel in KERNELS)) throw new Error(`unknown kernel ${kernel}`);
    this.start();
    this.runs++;
    const W = Math.min(this.size, nChunks);
    // ctl[0]: workers still running; ctl[1]: set by a worker whose kernel threw.
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    ctl[0] = W;
    this.syncCtl = ctl;
    try {
      for (let w = 0; w < W; w++) {
        const start = Math.floor((w * nChunks) / W);
        const end = Math.floor(((w + 1) * nChunks) / W);
        this.workers[w].postMessage({ id: -1, kernel, shared, params, start, end, ctl });
      }
      for (;;) {
        const left = Atomics.load(ctl, 0);
        if (left <= 0) break;
        // Bounded waits, so that a worker that died before it could count down (its error
        // event cannot reach this blocked thread) does not hang the caller for ever.
        Atomics.wait(ctl, 0, left, 1000);
        if (this.workers.some((wk) => wk.threadId < 0)) {
          ctl[1] = 1;
          break;
        }
      }
    } finally {
      this.syncCtl = null;
    }
    if (ctl[1] !== 0) throw new Error(`worker kernel ${kernel} failed`);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

let installed: WorkerPool | null = null;

/** Installs a worker pool as the library's parallel executor (idempotent). */
export function installWorkerPool(size?: number): WorkerPool {
  if (!installed || (size !== undefined && installed.size !== size)) {
    void installed?.close();
    installed = new WorkerPool(size);
  }
  setParallelExecutor(installed);
  return installed;
}
