/**
 * The child process of one run of `segmenta serve`: receives the job (the dataset's file, the
 * configuration and the run's folder), segments the file exactly as `segmenta cluster` does
 * (clusterFile), writes segments.parquet, model.json and report.html into the run's folder,
 * sends progress and the result's summary to the server, and exits.
 */
import { join } from "node:path";
import { AbortError, InputError } from "../core/errors.js";
import { loadPrevious } from "../cli/compare.js";
import { clusterFile } from "./job.js";
import { parseConfig } from "../pipeline/config.js";
import type { SegmentationResult } from "../pipeline/run.js";
import type { ChildJob, ChildMessage } from "./runner.js";

function send(m: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

/** What GET /api/v1/runs/:id shows of a finished run. */
export function runSummary(result: SegmentationResult, warnings: string[] = []): unknown {
  return {
    rows: result.labels.length,
    k: result.k,
    silhouette: Number.isFinite(result.silhouette) ? result.silhouette : null,
    algorithm: result.config.algorithm,
    segments: result.segments.map((s) => ({ segment: s.segment, name: s.name, size: s.size, share: s.share })),
    ...(result.noise ? { outliers: { name: result.noise.name, size: result.noise.size } } : {}),
    // What the CLI prints as warnings (columns that look like outcomes or codes, …) and the run's own.
    warnings: [...new Set([...warnings.map((w) => w.replace(/^warning: /, "")), ...result.warnings])],
  };
}

async function runJob(job: ChildJob): Promise<void> {
  const warnings: string[] = [];
  try {
    const config = parseConfig(job.config, "library");
    // Stable ids: the previous run's or model version's files, as cluster --previous reads them, named as the API named them.
    const previous = job.previous ? { ...(await loadPrevious(job.previous.paths, [], config.id)), source: job.previous.label } : undefined;
    await send({ type: "progress", message: "reading the data and segmenting", fraction: 0.05 });
    // Progress at most four times a second (each message is an IPC round trip and a store write).
    let last = 0;
    const run = await clusterFile(
      job.file,
      config,
      { out: join(job.dir, "segments.parquet"), model: join(job.dir, "model.json"), report: join(job.dir, "report.html"), title: job.name },
      {
        onProgress: (message, fraction) => {
          const now = Date.now();
          if (now - last < 250) return;
          last = now;
          void send({ type: "progress", message: message.split(job.file).join(job.name), fraction: fraction === undefined ? undefined : Math.max(0.05, Math.min(0.99, fraction)) });
        },
        onWarning: (m) => warnings.push(m),
        ...(previous ? { previous } : {}),
      },
      // The run's configuration came as JSON: messages name its fields, not the CLI's flags.
      { sheet: job.sheet, optionNames: "library" },
    );
    await send({ type: "progress", message: "written", fraction: 1 });
    await send({ type: "done", summary: runSummary(run.result, warnings) });
  } catch (e) {
    // Messages name the file by its stored path: show the dataset's name instead.
    const message = e instanceof Error ? e.message.split(job.file).join(job.name) : String(e);
    const error = e instanceof InputError || e instanceof AbortError ? message : `internal error: ${message.split(/\r?\n/)[0]}`;
    await send({ type: "failed", error });
  }
}

// The server is gone (killed, or crashed): stop too; its next start runs this run again.
process.once("disconnect", () => process.exit(1));

process.once("message", (job: ChildJob) => {
  void runJob(job).finally(() => {
    process.removeAllListeners("disconnect");
    process.disconnect?.();
    process.exit(0);
  });
});
