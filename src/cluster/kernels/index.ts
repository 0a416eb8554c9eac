/**
 * The clustering kernels the worker pool can run, by name. Worker threads import this
 * module (through io/kernels.ts), so a kernel may import helpers like any other code.
 */
import { inertiaKernel, kmeansStepKernel } from "./kmeans-step.js";
import { linkageLwUpdateKernel, linkagePdistKernel, linkagePrimKernel, linkageWardScanKernel } from "./linkage-scan.js";
import { minibatchKernel } from "./minibatch-step.js";
import { plusPlusKernel } from "./plusplus.js";

export const clusterKernels = {
  kmeansStep: kmeansStepKernel,
  inertia: inertiaKernel,
  minibatch: minibatchKernel,
  plusPlus: plusPlusKernel,
  linkageWardScan: linkageWardScanKernel,
  linkagePrim: linkagePrimKernel,
  linkagePdist: linkagePdistKernel,
  linkageLwUpdate: linkageLwUpdateKernel,
};
