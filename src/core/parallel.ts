/**
 * The parallel executor: kernels (self-contained functions over typed arrays) run on chunk
 * ranges split across workers. This file is isomorphic; an implementation for Node's
 * worker_threads lives in io/pool.ts and is installed by the Node entry and the CLI. With
 * no executor installed every kernel runs on the calling thread, with the same chunking,
 * so results do not depend on whether or how many workers there are.
 */

export type TypedArray = Float64Array | Int32Array | Float32Array | Uint8Array | Uint32Array;

/** A kernel: processes chunks [chunkStart, chunkEnd) of the work described by shared and params. */
export type Kernel<S, P> = (shared: S, params: P, chunkStart: number, chunkEnd: number) => void;

export interface ParallelExecutor {
  /** Number of workers. */
  readonly size: number;
  /** Runs `kernel` (registered by name) over nChunks chunks split evenly across the workers. */
  run(kernel: string, shared: Record<string, TypedArray>, params: Record<string, number>, nChunks: number): Promise<void>;
  /**
   * The same, blocking the calling thread until the workers are done (for synchronous APIs
   * such as the metrics). Absent where the calling thread may not block (a browser's main thread).
   */
  runSync?(kernel: string, shared: Record<string, TypedArray>, params: Record<string, number>, nChunks: number): void;
}

let current: ParallelExecutor | null = null;

export function setParallelExecutor(e: ParallelExecutor | null): void {
  current = e;
}

export function getParallelExecutor(): ParallelExecutor | null {
  return current;
}

/** Whether shared memory is available (SharedArrayBuffer exists and may be used). */
export function sharedMemoryAvailable(): boolean {
  return typeof SharedArrayBuffer !== "undefined";
}

/** A Float64Array in shared memory when workers will read it, else an ordinary one. */
export function allocF64(length: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
}

export function allocI32(length: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
}

export function isShared(a: TypedArray): boolean {
  return typeof SharedArrayBuffer !== "undefined" && a.buffer instanceof SharedArrayBuffer;
}
