/**
 * The Node entry of the library: everything in index.ts, with K-Means and the other heavy
 * kernels split across worker threads (one per core). Browsers get index.ts, single-threaded.
 */
import { installWorkerPool } from "./io/pool.js";

export * from "./index.js";
export { installWorkerPool, WorkerPool } from "./io/pool.js";
export { fitMiniBatchFromQuery, labelQuery } from "./io/stream.js";
export { loadSource, maskUrl, sourceLabel, type SourceSpec, type SourceOptions } from "./io/source.js";
export {
  streamCluster, predictStreamed, parseMemory, estimateInMemoryBytes, limitDuckMemory, type StreamInfo, type StreamedCluster, type StreamClusterOptions,
} from "./io/stream-cluster.js";
export { readTable, type ReadTableOptions } from "./io/table.js";
export { trainInPostgres, type WarehouseTrainOptions, type WarehouseTrainResult } from "./io/sql/train.js";
export {
  computeTrackFeatures, computeTrackFeaturesFromFile, dropTrackFeatures, readSnapshot, snapshotDataset, trackSegments, trackSizes, trackFlows, trackChanges,
  countChanges, describeFlows, parseEvery, snapshotDays, modelSegmenter, refitSegmenter, NOT_YET, type TrackEvery, type TrackOptions, type TrackFeatures, type TrackSnapshot,
  type SnapshotFeatures, type SnapshotAssignment, type SegmentSnapshot, type TrackedSegments, type TrackSize, type TrackFlow, type TrackTransition,
} from "./io/track.js";
export type { TableProfile, ColumnProfile } from "./io/schema.js";
export {
  renderSvg, writeSvg, renderPng, svgToPng, writePng, writeCharts, resolveFonts, helveticaWidth, type PngOptions, type FontOptions, type ChartFormat,
} from "./report/render.js";
export { renderReportHtml, escapeHtml, type ReportDocument, type ReportSection, type ReportBlock, type ReportChart } from "./report/html.js";
export { buildSegmentationReport, type ReportOptions, type ReportMap, type SegmentationReport } from "./report/segmentation.js";
export { overTimeSection, overTimeFromPrevious, type OverTimeInput, type OverTimeMigration, type OverTimeSection } from "./report/over-time.js";

installWorkerPool();
