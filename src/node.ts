/**
 * The Node entry of the library: everything in index.ts, with K-Means and the other heavy
 * kernels split across worker threads (one per core). Browsers get index.ts, single-threaded.
 */
import { installWorkerPool } from "./io/pool.js";

export * from "./index.js";
export { installWorkerPool, WorkerPool } from "./io/pool.js";
export { fitMiniBatchFromQuery, labelQuery } from "./io/stream.js";

installWorkerPool();
