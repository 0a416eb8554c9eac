/**
 * The job of server/job.ts on a table bigger than the memory budget: the streamed
 * segmentation of io/stream-cluster.ts, then every output written together (the segments
 * file from DuckDB, the model, the report drawn on the stratified sample).
 */
import { basename } from "node:path";
import { formatBytes } from "../core/budget.js";
import { InputError } from "../core/errors.js";
import type { LoadedTable } from "../io/read.js";
import { estimateInMemoryBytes, limitDuckMemory, streamCluster } from "../io/stream-cluster.js";
import { OutputBatch } from "../io/write.js";
import type { SegmentationConfig } from "../pipeline/config.js";
import type { TransactionFeatures } from "../pipeline/model.js";
import { renderReportHtml } from "../report/html.js";
import { writeCharts } from "../report/render.js";
import { buildSegmentationReport } from "../report/segmentation.js";
import type { ClusterOutputs, ClusterRun, JobHooks } from "./job.js";

export { estimateInMemoryBytes, limitDuckMemory };

/** Whether a loaded table goes the streamed way under this budget, and the in-memory estimate. */
export function overBudget(t: LoadedTable, budget: number | undefined): { over: boolean; estimate: number } {
  const estimate = estimateInMemoryBytes(t.rows, t.columns);
  return { over: budget !== undefined && estimate > budget, estimate };
}

export async function clusterStreamedJob(
  t: LoadedTable, file: string, config: SegmentationConfig, outputs: ClusterOutputs, hooks: JobHooks,
  budget: number, estimate: number, transactions?: TransactionFeatures,
): Promise<ClusterRun> {
  const say = (message: string, fraction?: number): void => hooks.onProgress?.(message, fraction);
  if (hooks.previous) {
    throw new InputError(
      `--previous is not applied to a streamed run yet: ${file} is over the budget of ${formatBytes(budget)} (--memory, about ${formatBytes(estimate)} in memory); ` +
        "raise --memory to keep the previous run's segment ids, or leave --previous out",
    );
  }
  const s = await streamCluster(t, config, {
    budget, estimate, onProgress: say, onWarning: (m) => hooks.onWarning?.(m), signal: hooks.signal, transactions, source: file,
  });
  try {
    const modelText = outputs.model ? JSON.stringify(s.modelFile, null, 1) + "\n" : undefined;
    const report = outputs.report || outputs.charts
      ? await buildSegmentationReport(s.result, s.sample, {
        source: outputs.title ?? basename(file), readAs: `${t.details}; streamed: drawn on a stratified sample of ${s.sample.rows} rows`, maps: outputs.maps, onProgress: say,
      })
      : undefined;
    const html = report && outputs.report ? await renderReportHtml(report.document) : undefined;
    await OutputBatch.write(async (batch) => {
      if (outputs.out) await s.writeSegments(batch, outputs.out, outputs.rawCsv);
      if (outputs.model && modelText !== undefined) await batch.text(outputs.model, modelText);
      if (outputs.report && html !== undefined) await batch.text(outputs.report, html);
      if (outputs.charts && report) outputs.chartFiles = await writeCharts(outputs.charts, report.charts, ["svg"], { batch });
    });
    return { result: s.result, data: s.data, profile: s.profile, outputs, streamed: s.streamed };
  } finally {
    await s.close();
  }
}
