/**
 * Every kernel the worker pool can run, by name. Each algorithm's folder owns its kernels
 * and exports them as one record; this registry only gathers the records. Worker threads
 * import it (io/worker.ts), so kernels are ordinary modules that may share helpers.
 */
import { clusterKernels } from "../cluster/kernels/index.js";
import { hdbscanKernels } from "../cluster/density/hdbscan-kernels.js";
import { densityKernels } from "../cluster/density/kernels.js";
import { metricsKernels } from "../metrics/kernels/index.js";
import { mixtureKernels } from "../cluster/mixture/kernels.js";
import { neighborsKernels } from "../neighbors/kernels.js";

export type AnyKernel = (shared: never, params: never, chunkStart: number, chunkEnd: number) => void;

const records: Record<string, AnyKernel>[] = [clusterKernels, densityKernels, hdbscanKernels, metricsKernels, mixtureKernels, neighborsKernels];

export const KERNELS: Readonly<Record<string, AnyKernel>> = (() => {
  const all: Record<string, AnyKernel> = {};
  for (const record of records) {
    for (const [name, kernel] of Object.entries(record)) {
      if (name in all) throw new Error(`two kernels are registered as ${name}`);
      all[name] = kernel;
    }
  }
  return all;
})();
