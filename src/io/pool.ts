import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { inertiaKernel, kmeansStepKernel } from "../cluster/kernels/kmeans-step.js";
import { linkageLwUpdateKernel, linkagePdistKernel, linkagePrimKernel, linkageWardScanKernel } from "../cluster/kernels/linkage-scan.js";
import { minibatchKernel } from "../cluster/kernels/minibatch-step.js";
import { plusPlusKernel } from "../cluster/kernels/plusplus.js";
import { silhouetteKernel } from "../metrics/kernels/silhouette-kernel.js";
import { type ParallelExecutor, setParallelExecutor, type TypedArray } from "../core/parallel.js";

/** The kernels workers can run, shipped to them as source text. */
const KERNELS: Record<string, (...args: never[]) => void> = {
  kmeansStep: kmeansStepKernel,
  inertia: inertiaKernel,
  minibatch: minibatchKernel,
  plusPlus: plusPlusKernel,
  silhouette: silhouetteKernel,
  linkageWardScan: linkageWardScanKernel,
  linkagePrim: linkagePrimKernel,
  linkagePdist: linkagePdistKernel,
  linkageLwUpdate: linkageLwUpdateKernel,
};

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const kernels = {};
parentPort.on("message", (m) => {
  if (m.type === "init") {
    for (const name of Object.keys(m.kernels)) kernels[name] = (0, eval)("(" + m.kernels[name] + ")");
    return;
  }
  try {
    kernels[m.kernel](m.shared, m.params, m.start, m.end);
    if (m.ctl) { Atomics.sub(m.ctl, 0, 1); Atomics.notify(m.ctl, 0); }
    else parentPort.postMessage({ id: m.id });
  } catch (e) {
    if (m.ctl) { Atomics.store(m.ctl, 1, 1); Atomics.sub(m.ctl, 0, 1); Atomics.notify(m.ctl, 0); }
    else parentPort.postMessage({ id: m.id, error: String(e && e.stack || e) });
  }
});
`;

/** A pool of worker threads (one per core) running registered kernels on shared memory. */
export class WorkerPool implements ParallelExecutor {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private inFlight = 0;
  /** Kernel runs so far (for tests and diagnostics). */
  runs = 0;

  constructor(readonly size: number = Math.max(1, availableParallelism())) {}

  /**
   * Starts the workers on first use, so that a program that never runs a kernel (or runs one
   * only after reading its data) does not pay for them at start-up.
   */
  private start(): void {
    if (this.workers.length) return;
    const size = this.size;
    const sources = Object.fromEntries(Object.entries(KERNELS).map(([k, f]) => [k, f.toString()]));
    for (let w = 0; w < size; w++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.postMessage({ type: "init", kernels: sources });
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
        this.workers[w].postMessage({ type: "run", id, kernel, shared, params, start, end });
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
    for (let w = 0; w < W; w++) {
      const start = Math.floor((w * nChunks) / W);
      const end = Math.floor(((w + 1) * nChunks) / W);
      this.workers[w].postMessage({ type: "run", id: -1, kernel, shared, params, start, end, ctl });
    }
    for (;;) {
      const left = Atomics.load(ctl, 0);
      if (left === 0) break;
      Atomics.wait(ctl, 0, left);
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
