/**
 * The run queue of `segmenta serve` with stand-in child processes: how many run at once, in
 * which order the others start, what reaches the store and the listeners, and how a run ends
 * (done, failed, crashed, cancelled while running or while queued).
 */
import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ChildJob, type RunEvent, RunQueue } from "../src/server/runner.js";
import { type HistoryStore, openStore, type RunRecord } from "../src/server/store.js";

class FakeChild extends EventEmitter {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  jobs: ChildJob[] = [];
  killedWith: string | null = null;
  send(job: ChildJob): boolean {
    this.jobs.push(job);
    return true;
  }
  /** The child sends a message to the server. */
  say(m: unknown): void {
    this.emit("message", m);
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
  }
  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.killedWith = signal;
    setImmediate(() => this.exit(null, signal));
    return true;
  }
}

let dir: string;
let store: HistoryStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "segmenta-runner-"));
  store = await openStore(dir);
  await store.addDataset({ id: "d", name: "d.csv", file: join(dir, "datasets", "d", "data.csv"), format: "csv", bytes: 1, rows: 1, createdAt: new Date().toISOString(), inspect: {} });
});

afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newRun(id: string): Promise<{ run: RunRecord; job: ChildJob }> {
  const run: RunRecord = {
    id, datasetId: "d", config: { k: 3 }, status: "queued", progress: null, message: null, createdAt: new Date().toISOString(),
    startedAt: null, finishedAt: null, summary: null, error: null, dir: join(dir, "runs", id),
  };
  await store.addRun(run);
  return { run, job: { file: join(dir, "datasets", "d", "data.csv"), name: "d.csv", config: { k: 3 }, dir: run.dir } };
}

/** Waits until `check` holds (the queue's work is asynchronous), for at most 5 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}

describe("RunQueue", () => {
  it("runs at most `concurrency` at once, the rest in order, and records how each ends", async () => {
    const children: FakeChild[] = [];
    const queue = new RunQueue({ store, concurrency: 2, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const runs = [];
    for (const id of ["a", "b", "c", "d"]) runs.push(await newRun(id));
    const events: RunEvent[] = [];
    queue.subscribe("a", (e) => events.push(e));
    for (const { run, job } of runs) queue.submit(run, job);
    await until(() => children.length === 2 && children.every((c) => c.jobs.length === 1));
    expect(children.map((c) => c.jobs[0].dir)).toEqual([join(dir, "runs", "a"), join(dir, "runs", "b")]);
    await queue.settled();
    expect((await store.getRun("a"))!.status).toBe("running");
    expect((await store.getRun("c"))!.status).toBe("queued");

    // Progress reaches the listeners and the store.
    children[0].say({ type: "progress", message: "segmenting", fraction: 0.5 });
    await queue.settled();
    expect(await store.getRun("a")).toMatchObject({ progress: 0.5, message: "segmenting" });
    // Done: succeeded with the summary, and the next queued run starts.
    children[0].say({ type: "done", summary: { k: 3 } });
    children[0].exit(0);
    await until(() => children.length === 3);
    await queue.settled();
    expect(await store.getRun("a")).toMatchObject({ status: "succeeded", progress: 1, summary: { k: 3 }, error: null });
    expect(events.map((e) => e.type)).toEqual(["progress", "progress", "status"]);
    expect(events.at(-1)).toMatchObject({ status: "succeeded", summary: { k: 3 } });
    expect(children[2].jobs[0].dir).toBe(join(dir, "runs", "c"));

    // A crash without a word is a failure that says so.
    children[1].exit(1);
    await until(() => children.length === 4);
    await queue.settled();
    expect(await store.getRun("b")).toMatchObject({ status: "failed", error: "the run's process stopped unexpectedly (exit code 1)" });
    // A reported failure keeps its message.
    children[2].say({ type: "failed", error: "--features: d.csv has no column \"x\"" });
    children[2].exit(0);
    // Cancelling the running one kills its process.
    expect(await queue.cancel("d")).toBe(true);
    expect(children[3].killedWith).toBe("SIGKILL");
    await queue.settled();
    expect((await store.getRun("c"))!.error).toBe("--features: d.csv has no column \"x\"");
    expect(await store.getRun("d")).toMatchObject({ status: "cancelled", finishedAt: expect.any(String) });
    expect(await queue.cancel("d")).toBe(false);
    await queue.close();
  });

  it("cancels a queued run without starting it", async () => {
    const children: FakeChild[] = [];
    const queue = new RunQueue({ store, concurrency: 1, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const first = await newRun("q1");
    const second = await newRun("q2");
    queue.submit(first.run, first.job);
    queue.submit(second.run, second.job);
    const events: RunEvent[] = [];
    queue.subscribe("q2", (e) => events.push(e));
    expect(await queue.cancel("q2")).toBe(true);
    expect(await store.getRun("q2")).toMatchObject({ status: "cancelled", startedAt: null });
    expect(events).toEqual([{ type: "status", status: "cancelled", summary: null, error: null }]);
    await until(() => children.length === 1);
    children[0].say({ type: "done", summary: {} });
    children[0].exit(0);
    await until(async () => (await store.getRun("q1"))!.status === "succeeded");
    expect(children).toHaveLength(1);
    await queue.close();
  });

  it("queues again the runs its shutdown interrupts (a checkpoint), and leaves the queued ones queued", async () => {
    const children: FakeChild[] = [];
    const queue = new RunQueue({ store, concurrency: 1, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const first = await newRun("s1");
    const second = await newRun("s2");
    queue.submit(first.run, first.job);
    queue.submit(second.run, second.job);
    await until(() => children.length === 1 && children[0].jobs.length === 1);
    await queue.close();
    expect(children[0].killedWith).toBe("SIGKILL");
    expect(await store.getRun("s1")).toMatchObject({ status: "queued", error: null, progress: null, startedAt: null, finishedAt: null, message: "the server stopped during this run; it was started again" });
    expect((await store.getRun("s2"))!.status).toBe("queued");
    expect((await store.unfinishedRuns()).map((r) => r.id)).toEqual(expect.arrayContaining(["s1", "s2"]));
  });

  it("gives the grace period to a run claimed whose child is still starting when the shutdown begins", async () => {
    const children: FakeChild[] = [];
    // The store's claim answers only when the test lets it: the shutdown begins in between.
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let claimed = false;
    const gated = Object.assign(Object.create(store) as HistoryStore, {
      claimRun: async (id: string, at: string) => {
        const ok = await store.claimRun(id, at);
        claimed = true;
        await gate;
        return ok;
      },
    });
    const queue = new RunQueue({ store: gated, concurrency: 1, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const r = await newRun("g0");
    queue.submit(r.run, r.job);
    await until(() => claimed);
    expect((await store.getRun("g0"))!.status).toBe("running");
    const closing = queue.close(5000);
    open();
    await until(() => children.length === 1 && children[0].jobs.length === 1);
    children[0].say({ type: "done", summary: { k: 2 } });
    children[0].exit(0);
    await closing;
    expect(children[0].killedWith).toBeNull();
    expect(await store.getRun("g0")).toMatchObject({ status: "succeeded", summary: { k: 2 } });
  });

  it("lets a running run finish within the grace period", async () => {
    const children: FakeChild[] = [];
    const queue = new RunQueue({ store, concurrency: 1, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const first = await newRun("g1");
    queue.submit(first.run, first.job);
    await until(() => children.length === 1 && children[0].jobs.length === 1);
    const closing = queue.close(5000);
    // The child finishes while the queue waits for it.
    setTimeout(() => {
      children[0].say({ type: "done", summary: { k: 3 } });
      children[0].exit(0);
    }, 50);
    await closing;
    expect(children[0].killedWith).toBeNull();
    expect(await store.getRun("g1")).toMatchObject({ status: "succeeded", summary: { k: 3 } });
  });

  it("stops a run that outlasts the grace period and queues it again", async () => {
    const children: FakeChild[] = [];
    const queue = new RunQueue({ store, concurrency: 1, start: () => {
      const c = new FakeChild();
      children.push(c);
      return c as unknown as ChildProcess;
    } });
    const first = await newRun("g2");
    queue.submit(first.run, first.job);
    await until(() => children.length === 1 && children[0].jobs.length === 1);
    await queue.close(100);
    expect(children[0].killedWith).toBe("SIGKILL");
    expect(await store.getRun("g2")).toMatchObject({ status: "queued", message: "the server stopped during this run; it was started again" });
  });
});
