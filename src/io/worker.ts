/**
 * The worker threads' entry: imports the kernel registry and runs the chunks it is sent.
 * A run either answers with a message (asynchronous runs) or counts down a shared control
 * word that the blocked caller waits on (synchronous runs).
 */
import { parentPort } from "node:worker_threads";
import type { TypedArray } from "../core/parallel.js";
import { type AnyKernel, KERNELS } from "./kernels.js";

interface RunMessage {
  id: number;
  kernel: string;
  shared: Record<string, TypedArray>;
  params: Record<string, number>;
  start: number;
  end: number;
  /** [workers still running, set to 1 by a worker whose kernel threw] for synchronous runs. */
  ctl?: Int32Array;
}

const port = parentPort;
if (!port) throw new Error("io/worker.js is a worker thread's entry; it cannot run on the main thread");

port.on("message", (m: RunMessage) => {
  try {
    const kernel = KERNELS[m.kernel] as ((s: unknown, p: unknown, a: number, b: number) => void) | undefined;
    if (!kernel) throw new Error(`unknown kernel ${m.kernel}`);
    (kernel as AnyKernel as (s: unknown, p: unknown, a: number, b: number) => void)(m.shared, m.params, m.start, m.end);
    if (m.ctl) {
      Atomics.sub(m.ctl, 0, 1);
      Atomics.notify(m.ctl, 0);
    } else port.postMessage({ id: m.id });
  } catch (e) {
    if (m.ctl) {
      Atomics.store(m.ctl, 1, 1);
      Atomics.sub(m.ctl, 0, 1);
      Atomics.notify(m.ctl, 0);
    } else port.postMessage({ id: m.id, error: String((e as Error)?.stack ?? e) });
  }
});
