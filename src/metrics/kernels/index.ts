/** The metrics' kernels the worker pool can run, by name (imported by workers through io/kernels.ts). */
import { silhouetteKernel } from "./silhouette-kernel.js";

export const metricsKernels = {
  silhouette: silhouetteKernel,
};
