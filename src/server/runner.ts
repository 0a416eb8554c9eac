import { type ChildProcess, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { removeStaleTemporaries } from "../io/write.js";
import type { RunRecord, RunStatus, Store } from "./store.js";

/** What a run's child process sends to the server (process.send). */
export type ChildMessage =
  | { type: "progress"; message: string; fraction?: number }
  | { type: "warning"; message: string }
  | { type: "done"; summary: unknown }
  | { type: "failed"; error: string };

/** What the server sends a run's child process once it has started. */
export interface ChildJob {
  file: string;
  name: string;
  config: unknown;
  dir: string;
  /** The worksheet of an XLSX dataset (default: the first). */
  sheet?: string;
  /** A previous segmentation to keep segment ids from (cluster --previous): its model and/or segments files, and its name in messages. */
  previous?: { paths: string[]; label: string };
}

/** An event of a run, as the server-sent events stream carries it. */
export type RunEvent =
  | { type: "progress"; progress: number | null; message: string | null }
  | { type: "status"; status: RunStatus; summary: unknown | null; error: string | null };

export const FINISHED: readonly RunStatus[] = ["succeeded", "failed", "cancelled"];

/** The message of a run that a server's shutdown (or crash) interrupted: it is queued again and re-run from the start. */
export const RESTARTED = "the server stopped during this run; it was started again";

/** A run during which the server stopped (crashed) this many times is failed instead of being started again. */
export const MAX_CRASHES = 3;

/** The error of a run failed after MAX_CRASHES crashes of the server during it. */
export function crashedTooOften(crashes: number): string {
  return `the server stopped during this run ${crashes} times (a crash, or the machine running out of memory, which a run too large for it causes each time); ` +
    "it is not started again: segment fewer rows or columns, or run the server where there is more memory";
}

/**
 * Starts the child process of one run on run-child.js beside this file. When this file runs
 * as TypeScript source (tests, tsx), the child is started on run-child.ts with tsx's loader.
 */
export function startChild(): ChildProcess {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return fork(fileURLToPath(new URL("./run-child.js", here)), [], { serialization: "advanced", stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const tsxRoot = dirname(createRequire(here).resolve("tsx/package.json"));
  const loader = join(tsxRoot, "dist", "esm", "index.mjs");
  if (!existsSync(loader)) throw new Error(`running the TypeScript sources needs tsx's loader (${loader} is missing): run npm ci, or use the built package`);
  return fork(fileURLToPath(new URL("./run-child.ts", here)), [], {
    execArgv: ["--import", pathToFileURL(loader).href],
    serialization: "advanced",
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
}

/** A run given a slot: its child once started (null while it starts), and when the slot ends. */
interface Slot {
  child: ChildProcess | null;
  cancelled: boolean;
  done: Promise<void>;
  end: () => void;
}

export interface RunQueueOptions {
  store: Store;
  /** Runs at once (default: one core fewer than the machine has, at least one). */
  concurrency?: number;
  /** Starts a run's child process (tests may replace it). */
  start?: () => ChildProcess;
}

/**
 * The queue of runs: at most `concurrency` child processes at once, the others waiting
 * "queued" in submission order. Each run's state lives in the store; listeners (the
 * server-sent events) get every progress message and the final status.
 */
export class RunQueue {
  readonly concurrency: number;
  private readonly waiting: { run: RunRecord; job: ChildJob }[] = [];
  /** The runs given a slot: their child once started (null while it starts). */
  private readonly active = new Map<string, Slot>();
  private readonly listeners = new Map<string, Set<(e: RunEvent) => void>>();
  private readonly store: Store;
  private readonly start: () => ChildProcess;
  private closed = false;
  /** The grace period is over: children are killed, a child still starting as soon as it exists. */
  private stopping = false;
  /** Settles when the store writes of every run finished so far are done (tests, shutdown). */
  private pendingWrites = new Set<Promise<unknown>>();
  /** The last launch started (launches are chained, so that children start in order). */
  private launching: Promise<void> = Promise.resolve();

  constructor(options: RunQueueOptions) {
    this.store = options.store;
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism() - 1);
    this.start = options.start ?? startChild;
  }

  /** Queues a run (already added to the store as "queued"). */
  submit(run: RunRecord, job: ChildJob): void {
    this.waiting.push({ run, job });
    this.pump();
  }

  /** Follows a run's events; returns the function that stops following. */
  subscribe(id: string, listener: (e: RunEvent) => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size) this.listeners.delete(id);
    };
  }

  /** Cancels a queued or running run; false when it is neither (finished or unknown to this queue). */
  async cancel(id: string): Promise<boolean> {
    const i = this.waiting.findIndex((w) => w.run.id === id);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      await this.finish(id, { status: "cancelled", message: "cancelled", error: null, summary: null });
      return true;
    }
    const a = this.active.get(id);
    if (!a) return false;
    a.cancelled = true;
    // A child still starting is killed as soon as it exists (see launch).
    const child = a.child;
    if (child) {
      child.kill("SIGKILL");
      // The exit handler records the status; wait for it.
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once("exit", () => resolve());
      });
    } else {
      await new Promise<void>((resolve) => {
        const stop = this.subscribe(id, (e) => {
          if (e.type === "status") {
            stop();
            resolve();
          }
        });
      });
    }
    await this.settled();
    return true;
  }

  /**
   * Starts no more runs; lets the running ones finish for up to `graceMs` (default 0), then
   * kills the children still running: their runs go back to "queued" with the message
   * RESTARTED (a checkpoint: the next start runs them again from the beginning; the outputs are
   * written atomically, so a killed run leaves none). Queued runs stay "queued" in the store.
   */
  async close(graceMs = 0): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    // Every slot ends (its run finished, or back in the queue, and written): a run whose child is
    // still starting (claimed, not yet forked) gets the grace period too.
    const all = Promise.all([...this.active.values()].map((slot) => slot.done));
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.stopping = true;
    for (const { child } of this.active.values()) {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await all;
    await this.settled();
  }

  /** Waits for the store writes in flight. */
  async settled(): Promise<void> {
    while (this.pendingWrites.size) await Promise.allSettled([...this.pendingWrites]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pendingWrites.add(p);
    void p.finally(() => this.pendingWrites.delete(p)).catch(() => {});
    return p;
  }

  private emit(id: string, e: RunEvent): void {
    for (const l of this.listeners.get(id) ?? []) {
      try {
        l(e);
      } catch {
        // a listener's failure (a closed connection) does not stop the run
      }
    }
  }

  private async finish(id: string, r: { status: RunStatus; message: string | null; error: string | null; summary: unknown | null }): Promise<void> {
    const patch: Partial<RunRecord> = { status: r.status, message: r.message, error: r.error, summary: r.summary, finishedAt: new Date().toISOString() };
    if (r.status === "succeeded") patch.progress = 1;
    // Back in the queue (the server stopped): it has not started, nor finished, as far as the next start knows.
    if (r.status === "queued") Object.assign(patch, { progress: null, startedAt: null, finishedAt: null });
    await this.track(this.store.updateRun(id, patch));
    // Finished, or back in the queue for the next start: this server lets go of it.
    await this.track(this.store.releaseRun(id));
    this.emit(id, { type: "status", status: r.status, summary: r.summary, error: r.error });
    this.listeners.delete(id);
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.waiting.length) {
      const { run, job } = this.waiting.shift()!;
      // The slot is taken now: launch starts the child asynchronously.
      let end = () => {};
      const done = new Promise<void>((resolve) => (end = resolve));
      const state: Slot = { child: null, cancelled: false, done, end };
      this.active.set(run.id, state);
      // Children start in the queue's order (each launch waits for the previous one's folder and fork).
      this.launching = this.launching.then(() => this.launch(run, job, state)).catch(() => {});
    }
  }

  private async launch(run: RunRecord, job: ChildJob, state: Slot): Promise<void> {
    let child: ChildProcess;
    try {
      await mkdir(job.dir, { recursive: true });
      if (state.cancelled || this.closed) throw new Error("cancelled");
      // Started only if still queued in the store: a run cancelled meanwhile, or taken by another
      // server sharing the store, is left as it is.
      if (!(await this.store.claimRun(run.id, new Date().toISOString()))) {
        this.active.delete(run.id);
        state.end();
        const now = await this.store.getRun(run.id);
        if (now && FINISHED.includes(now.status)) this.emit(run.id, { type: "status", status: now.status, summary: now.summary, error: now.error });
        this.listeners.delete(run.id);
        void this.track(this.store.releaseRun(run.id));
        this.pump();
        return;
      }
      child = this.start();
    } catch (e) {
      this.active.delete(run.id);
      state.end();
      await this.finish(run.id, state.cancelled
        ? { status: "cancelled", message: "cancelled", error: null, summary: null }
        : this.closed ? { status: "queued", message: RESTARTED, error: null, summary: null }
        : { status: "failed", message: null, error: `the run could not start: ${(e as Error).message}`, summary: null });
      this.pump();
      return;
    }
    state.child = child;
    let outcome: ChildMessage | null = null;
    // Cancelled, or the grace period over, while the child was starting: it is stopped at once.
    if (state.cancelled || this.stopping) child.kill("SIGKILL");
    this.emit(run.id, { type: "progress", progress: 0, message: "starting" });
    child.on("message", (m: ChildMessage) => {
      if (m.type === "progress") {
        const progress = m.fraction ?? null;
        void this.track(this.store.updateRun(run.id, { progress, message: m.message }));
        this.emit(run.id, { type: "progress", progress, message: m.message });
      } else if (m.type === "done" || m.type === "failed") {
        outcome = m;
      }
    });
    child.on("error", () => {
      // reported through "exit"
    });
    child.once("exit", (code, signal) => {
      const o = outcome as ChildMessage | null;
      let r: Parameters<RunQueue["finish"]>[1];
      if (state.cancelled) r = { status: "cancelled", message: "cancelled", error: null, summary: null };
      else if (this.closed && o?.type !== "done" && o?.type !== "failed") r = { status: "queued", message: RESTARTED, error: null, summary: null };
      else if (o?.type === "done") r = { status: "succeeded", message: "done", error: null, summary: o.summary };
      else if (o?.type === "failed") r = { status: "failed", message: null, error: o.error, summary: null };
      else r = { status: "failed", message: null, error: `the run's process stopped unexpectedly (${signal ?? `exit code ${code}`})`, summary: null };
      // A killed child may leave temporaries of its outputs in the run's folder: removed now (its pid is dead).
      const cleanup = r.status === "succeeded" ? Promise.resolve() : removeStaleTemporaries(job.dir).then(() => undefined, () => undefined);
      void this.track(cleanup.then(() => this.finish(run.id, r))).finally(() => {
        this.active.delete(run.id);
        state.end();
        this.pump();
      });
    });
    child.send(job);
  }
}
