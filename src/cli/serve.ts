import { resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { InputError } from "../core/errors.js";
import { buildServer } from "../server/app.js";
import { isPostgresUrl, openPgStore, redactUrl } from "../server/pg-store.js";
import { openStore, type Store } from "../server/store.js";
import { type Io, parse, parseWholeNumber } from "./common.js";

export interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  /** A PostgreSQL URL (postgres://…) for the store; absent: the embedded DuckDB store in dataDir. */
  store?: string;
  /** Largest dataset upload, in bytes. */
  uploadLimit: number;
  /** Requests per minute of each token (default 6000). */
  rateLimit?: number;
  /** On shutdown, seconds the running runs may take to finish before they are stopped and queued again (default 0). */
  graceSeconds?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  store: Store;
  address: string;
  /** Stops taking requests, lets running runs finish within the grace period (the others are queued again for the next start) and closes the store. */
  close(): Promise<void>;
}

/** Opens the store (of the data folder, or the PostgreSQL database of --store) and starts the server on it. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const store = options.store !== undefined ? await openPgStore(options.store) : await openStore(options.dataDir);
  let app: FastifyInstance;
  try {
    app = await buildServer({ dataDir: options.dataDir, store, uploadLimit: options.uploadLimit, rateLimit: options.rateLimit, graceSeconds: options.graceSeconds });
  } catch (e) {
    await store.close();
    throw e;
  }
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: options.host });
  } catch (e) {
    await app.close();
    await store.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new InputError(`--port ${options.port}: the port is in use on ${options.host}; choose another port or stop what uses it`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new InputError(`--host ${options.host}: no such address on this machine; give one of its addresses (default 127.0.0.1)`);
    if (code === "EACCES") throw new InputError(`--port ${options.port}: not allowed for this user (ports below 1024 need privileges); choose a port ≥ 1024`);
    throw e;
  }
  return {
    app, store, address,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse<{ port?: string; host?: string; data?: string; store?: string; "upload-limit"?: string; "rate-limit"?: string; grace?: string }>("serve", args, {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    store: { type: "string" },
    "upload-limit": { type: "string" },
    "rate-limit": { type: "string" },
    grace: { type: "string" },
  });
  if (positionals.length) throw new InputError(`serve takes no file (got ${positionals.join(" ")}); upload data through the API (POST /api/v1/datasets)`);
  const port = parseWholeNumber("--port", values.port, 0) ?? 8080;
  if (port > 65535) throw new InputError(`--port ${port}: give a port between 0 and 65535`);
  const host = values.host ?? "127.0.0.1";
  if (!host.trim()) throw new InputError("--host is empty; give an address to listen on (default 127.0.0.1)");
  let uploadMB = 100;
  if (values["upload-limit"] !== undefined) {
    uploadMB = Number(values["upload-limit"]);
    if (!/^\s*\d+(\.\d+)?\s*$/.test(values["upload-limit"]) || !(uploadMB > 0)) throw new InputError(`--upload-limit ${values["upload-limit"]}: give the largest upload in MB, a number > 0`);
  }
  const rateLimit = parseWholeNumber("--rate-limit", values["rate-limit"], 1) ?? 6000;
  const graceSeconds = parseWholeNumber("--grace", values.grace, 0) ?? 30;
  const dataDir = resolve(values.data ?? "segmenta-data");
  if (values.store !== undefined && !isPostgresUrl(values.store)) {
    throw new InputError(`--store ${redactUrl(values.store)}: give a PostgreSQL URL (postgres://user:password@host:5432/database), or leave --store out for the embedded store in --data`);
  }
  const server = await startServer({ port, host, dataDir, store: values.store, uploadLimit: Math.round(uploadMB * 1024 * 1024), rateLimit, graceSeconds });
  const storeShown = values.store !== undefined ? redactUrl(values.store) : null;
  if (values.json) io.out(JSON.stringify({ address: server.address, data: dataDir, ...(storeShown ? { store: storeShown } : {}) }));
  else {
    io.out(`segmenta serve: listening on ${server.address} (data in ${dataDir}${storeShown ? `, store ${storeShown}` : ""})`);
    io.out(`API documentation: ${server.address}/docs; every route but /healthz needs a token (segmenta token create, with the server stopped)`);
  }
  // Runs until SIGINT or SIGTERM; then stops taking requests, gives running runs --grace seconds
  // to finish, queues the others again (the next start resumes them) and closes the store.
  await new Promise<void>((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      done();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  // A second signal during the grace period stops at once (Node's default): the next start resumes the runs.
  if (graceSeconds > 0) io.err(`segmenta serve: stopping; running runs have up to ${graceSeconds} s to finish (--grace), the others are queued again for the next start; press Ctrl-C again to stop now`);
  await server.close();
  return 0;
}
